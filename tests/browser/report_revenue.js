// Reports → Revenue in a real browser: Stripe's signed events (payments in two
// currencies, a refund, a subscription) once applied show per currency (chart and
// table: payments − refunds, MRR), the source filter leaves out the Stripe contacts' money
// and its CSV link carries it, and at 390 px the page does not scroll sideways, light or
// dark.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node report_revenue.js
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { run } = require('./lib');
const h = require('./report_helpers');

const base = process.env.BASE;

function event(id, type, object) {
  return JSON.stringify({ id, object: 'event', type, created: Math.floor(Date.now() / 1000), data: { object } });
}

// Posts `body` to the webhook signed as Stripe signs (HMAC-SHA256 of "t.body").
async function send(secret, body) {
  const t = Math.floor(Date.now() / 1000);
  const v1 = crypto.createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  const res = await fetch(base + '/webhooks/stripe', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${v1}` },
    body,
  });
  assert.equal(res.status, 200, `the event is acknowledged: ${await res.text()}`);
}

// Currency `cur`'s table whose caption says `caption`.
const table = (page, cur, caption) =>
  page.locator(`section[aria-labelledby="rev-${cur}"] table.report`, { has: page.locator('caption', { hasText: caption }) });

// The footer's cells of currency `cur`'s month table: [label, payments, refunds, net].
async function totals(page, cur) {
  const cells = table(page, cur, 'Revenue per month').locator('tfoot td');
  return (await cells.allInnerTexts()).map((t) => t.trim());
}

run('revenue report: chart, table, source filter, phone width', async (state) => {
  const page = state.page;
  const stamp = Date.now();
  const secret = `whsec_revenue_${stamp}`;
  await page.goto(base + '/settings/integrations/stripe');
  await page.fill('#stripe-secret', secret);
  await page.click('button:has-text("Save secret")');
  await page.locator('.flash, [role=status]', { hasText: 'Signing secret saved' }).first().waitFor();

  const t = Math.floor(Date.now() / 1000);
  const [chf, nok] = [`cus_chf_${stamp}`, `cus_nok_${stamp}`];
  const paid = (cur, customer, amount) => ({
    id: `in_${cur}_${stamp}`, object: 'invoice', customer, customer_email: `${customer}@example.com`,
    customer_name: 'Revenue Payer', amount_paid: amount, currency: cur, status_transitions: { paid_at: t },
  });
  await send(secret, event(`evt_chf_${stamp}`, 'invoice.paid', paid('chf', chf, 12000)));
  await send(secret, event(`evt_nok_${stamp}`, 'invoice.paid', paid('nok', nok, 9900)));
  await send(secret, event(`evt_ref_${stamp}`, 'charge.refunded',
    { id: `ch_${stamp}`, customer: chf, amount_refunded: 2000, currency: 'chf' }));
  await send(secret, event(`evt_sub_${stamp}`, 'customer.subscription.created', {
    id: `sub_${stamp}`, customer: chf, status: 'active',
    items: { data: [{ quantity: 1, price: { id: 'price_pro', nickname: 'Pro', unit_amount: 4500, currency: 'chf', recurring: { interval: 'month' } } }] },
  }));

  // The job queue applies the events after their answer, in groups of its own choosing:
  // wait for the payments and the subscription alike.
  const mrr = async () => (await h.rows(page, table(page, 'CHF', 'Revenue per month'))).at(-1)?.[4];
  await h.reloadUntil(page, '/reports/revenue', async () =>
    (await totals(page, 'CHF'))[3]?.includes('100.00') && (await totals(page, 'NOK'))[3]?.includes('99.00')
      && /45\.00/.test((await mrr()) ?? ''),
  'the applied payments and subscription');
  const svg = await h.chartTitled(page, /^Net revenue and MRR per month in CHF, /, page.locator('section[aria-labelledby="rev-CHF"]'));
  assert.match(await svg.locator('rect title').last().textContent(), /: net .*100\.00/, 'this month\'s net on hover');
  const [label, payments, refunds, net] = await totals(page, 'CHF');
  assert.match(`${label}|${payments}|${refunds}|${net}`, /\|.*120\.00\|.*20\.00\|.*100\.00$/, 'payments − refunds');
  const months = await h.rows(page, table(page, 'CHF', 'Revenue per month'));
  assert.match(months[months.length - 1][4], /45\.00/, 'the MRR at this month\'s end');
  const sources = await h.rows(page, table(page, 'CHF', 'By contact source'));
  assert.equal(sources.length, 1, `one source paid in CHF: ${JSON.stringify(sources)}`);
  assert.match(sources[0][0], /stripe/i, 'the payer came from Stripe');

  await h.filter(page, /source=referral/, () => page.selectOption('select[name=source]', 'referral'));
  await page.locator('section[aria-labelledby="rev-CHF"]').waitFor({ state: 'detached' });
  assert.equal(await page.locator('section[aria-labelledby="rev-NOK"]').count(), 0, 'no referral paid in NOK');
  await h.csvCarries(page, 'revenue', { source: 'referral' });

  assert.ok(await h.phoneOverflow(page, '/reports/revenue') <= 0, 'the page scrolls sideways at 390 px');
});
