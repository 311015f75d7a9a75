// Reports → Forecast in a real browser: open deals made through the API show in their
// expected close month (chart and table, currencies side by side, never added), the
// pipeline filter narrows the table to that pipeline's deals and its CSV link carries it,
// and at 390 px the page does not scroll sideways, light or dark.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node report_forecast.js
const assert = require('node:assert/strict');
const { run } = require('./lib');
const h = require('./report_helpers');

// The 15th of the month `ahead` months from now (UTC), as YYYY-MM-DD, and its month.
function midMonth(ahead) {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + ahead, 15));
  const day = d.toISOString().slice(0, 10);
  return [day, day.slice(0, 7)];
}

const total = async (page) => Number(await page.locator('table.report tfoot td').nth(1).innerText());

run('forecast report: chart, table, pipeline filter, phone width', async (state) => {
  const page = state.page;
  const stamp = Date.now();
  const token = await h.apiToken(page, `forecast ${stamp}`);
  const name = `Forecast ${stamp}`;
  const p = await h.pipeline(token, name);
  const [next, nextMonth] = midMonth(1);
  const [later, laterMonth] = midMonth(3);
  for (const [amount, currency, expected_close] of [[1000, 'EUR', next], [2000, 'USD', next], [300, 'CHF', later]]) {
    await h.api(token, 'POST', '/deals', { title: `${name} ${currency}`, pipeline_id: p.id, amount, currency, expected_close });
  }
  // One in the first pipeline, so the filter has something to leave out.
  await h.api(token, 'POST', '/deals', { title: `${name} elsewhere`, amount: 500, expected_close: next });

  await page.goto(process.env.BASE + '/reports/forecast');
  const svg = await h.chartTitled(page, /^Open deals by expected close month$/);
  assert.equal(await svg.locator('rect title', { hasText: new RegExp(`^${nextMonth}: \\d+ open deals`) }).count(), 1,
    'the month has its bar, the numbers on hover');
  const before = await total(page);
  assert.ok(before >= 4, `every open deal counts: ${before}`);

  await h.filter(page, new RegExp(`pipeline=${p.id}`), () =>
    page.selectOption('select[name=pipeline]', String(p.id)));
  await page.waitForFunction(() => document.querySelector('table.report tfoot td:nth-child(2)').textContent.trim() === '3');
  const lines = await h.rows(page);
  const month = lines.find((r) => r[0] === nextMonth);
  assert.equal(month[1], '2', `two deals next month: ${JSON.stringify(month)}`);
  assert.match(month[2], /EUR.*10\.00.* \+ .*USD.*20\.00/, 'each currency on its own, never added');
  assert.equal(lines.find((r) => r[0] === laterMonth)[1], '1', 'one in three months');
  assert.ok(lines.filter((r) => r[0] !== nextMonth && r[0] !== laterMonth).every((r) => r[1] === '0'), 'nothing else');
  await h.csvCarries(page, 'forecast', { pipeline: String(p.id) });

  assert.ok(await h.phoneOverflow(page, '/reports/forecast') <= 0, 'the page scrolls sideways at 390 px');
  assert.ok(await h.scrollsInFrame(page, '/reports/forecast'), 'three currencies a line: the table scrolls in its frame, with a cue');
});
