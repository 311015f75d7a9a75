// Reports → Activity per user in a real browser: calls and a meeting logged through the
// API count for their author (chart and table), a shorter range leaves the older week
// out of the table and its CSV link carries the range, and at 390 px the page does not
// scroll sideways, light or dark.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node report_activity.js
const assert = require('node:assert/strict');
const { run } = require('./lib');
const h = require('./report_helpers');

// The signed-in user's lines: [week, notes, calls, meetings, tasks done] each.
async function linesOf(page, user) {
  return (await h.rows(page)).filter((r) => r[0] === user).map((r) => r.slice(1));
}

// The Monday (UTC, the organisation's zone here) of the week of `iso`, as YYYY-MM-DD.
function monday(iso) {
  const d = new Date(iso);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}

run('activity report: chart, table, range filter, phone width', async (state) => {
  const page = state.page;
  const stamp = Date.now();
  const token = await h.apiToken(page, `activity ${stamp}`);
  const contact = await h.api(token, 'POST', '/contacts', { first_name: 'Activity', last_name: `Report ${stamp}` });
  const weeksAgo = new Date(Date.now() - 40 * 86400000).toISOString();
  for (const [kind, occurred_at] of [['call', undefined], ['call', undefined], ['meeting', weeksAgo]]) {
    const a = await h.api(token, 'POST', '/activities', { kind, body: `${kind} ${stamp}`, contact_id: contact.id, occurred_at });
    assert.equal(a.author_name, 'Browser Test', 'the activity is the signed-in user\'s');
  }

  await page.goto(process.env.BASE + '/reports/activity');
  const svg = await h.chartTitled(page, /^Activity per user$/);
  const calls = await svg.locator('rect title', { hasText: /^Browser Test: \d+ calls$/ }).textContent();
  assert.ok(Number(calls.match(/(\d+) calls/)[1]) >= 2, `the calls are on the user's bar: ${calls}`);
  const all = await linesOf(page, 'Browser Test');
  assert.ok(all.length >= 14, `every week of 90 days and the total: ${all.length}`);
  const total = all.find((r) => r[0] === 'Total');
  assert.ok(Number(total[2]) >= 2 && Number(total[3]) >= 1, `the calls and the meeting count: ${total}`);
  const old = all.find((r) => r[0] === monday(weeksAgo));
  assert.ok(old && Number(old[3]) >= 1, `the meeting's week is listed with it: ${old}`);

  const shown = await page.locator('table.report tbody tr').count();
  await h.filter(page, /days=7/, () => page.fill('input[name=days]', '7'));
  await page.waitForFunction((n) => document.querySelectorAll('table.report tbody tr').length < n, shown);
  const week = await linesOf(page, 'Browser Test');
  assert.ok(week.length <= 3, `a week or two and the total: ${JSON.stringify(week)}`);
  assert.ok(!week.some((r) => r[0] === old[0]), 'the meeting\'s week is out of the range');
  assert.ok(Number(week.find((r) => r[0] === 'Total')[2]) >= 2, 'the calls of this week stay');
  await h.csvCarries(page, 'activity', { days: '7' });

  assert.ok(await h.phoneOverflow(page, '/reports/activity') <= 0, 'the page scrolls sideways at 390 px');
});
