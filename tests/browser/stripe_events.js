// Settings → Integrations → Stripe: an admin sets the signing secret, Stripe's signed
// events arrive (signed here as Stripe signs: HMAC-SHA256 of "t.body" under the secret),
// the list shows the applied one, the failed one with its error, and its Reprocess
// button runs it again.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node stripe_events.js
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { run } = require('./lib');

const base = process.env.BASE;
const here = base + '/settings/integrations/stripe';

function invoicePaid(id, customer, currency, amount) {
  const t = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    id, object: 'event', type: 'invoice.paid', created: t,
    data: { object: {
      id: `in_${id}`, object: 'invoice', customer, customer_email: `${customer}@example.com`,
      customer_name: 'Browser Payer', amount_paid: amount, currency,
      status_transitions: { paid_at: t },
    } },
  });
}

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

// The event's row once its status is `status`: the job queue applies events after the
// answer, so the page is loaded again until the row says so (each load waits for the
// server, no fixed pause).
async function rowOnceStatus(page, eventId, status) {
  const row = page.locator('tr', { hasText: eventId });
  const deadline = Date.now() + 20000;
  for (;;) {
    await page.goto(here);
    if (await row.locator(`.badge:text-is("${status}")`).count() > 0) return row;
    assert.ok(Date.now() < deadline, `event ${eventId} never showed ${status}: ${await row.innerText().catch(() => 'no row')}`);
  }
}

run('Stripe events are listed, and a failed one is reprocessed from its row', async (state) => {
  const page = state.page;
  const stamp = Date.now();
  const secret = `whsec_browser_${stamp}`;
  await page.goto(here);
  await page.fill('#stripe-secret', secret);
  await page.click('button:has-text("Save secret")');
  await page.locator('.flash, [role=status]', { hasText: 'Signing secret saved' }).first().waitFor();

  const paid = `evt_paid_${stamp}`;
  await send(secret, invoicePaid(paid, `cus_${stamp}`, 'usd', 4200));
  const paidRow = await rowOnceStatus(page, paid, 'processed');
  assert.match(await paidRow.innerText(), /invoice\.paid/);
  assert.equal(await paidRow.locator('button:has-text("Reprocess")').count(), 0, 'an applied event has no Reprocess');

  const bad = `evt_bad_${stamp}`;
  await send(secret, invoicePaid(bad, `cus_bad_${stamp}`, 'u$d', 100));
  const badRow = await rowOnceStatus(page, bad, 'failed');
  assert.match(await badRow.innerText(), /not an ISO 4217 code/, 'the error is shown');

  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/reprocess')),
    badRow.locator('button:has-text("Reprocess")').click(),
  ]);
  assert.equal(answer.status(), 200, 'the reprocess is accepted');
  // The row is swapped in place: queued again, its error cleared.
  await badRow.locator('.badge:text-is("received")').waitFor();
  assert.doesNotMatch(await badRow.innerText(), /ISO 4217/, 'the error is cleared while it waits');
  const again = await rowOnceStatus(page, bad, 'failed');
  assert.match(await again.innerText(), /not an ISO 4217 code/, 'run again, it fails for the same reason');
  await page.goto(base + '/settings/audit?action=reprocess');
  await page.locator('td code:text-is("reprocess")').first().waitFor();
});
