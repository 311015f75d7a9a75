// Reports → Stage velocity in a real browser: deals moved through the API show as
// stays ended in their stage (chart and table), the pipeline filter narrows the table to
// that pipeline and its CSV link carries it, and at 390 px the page does not scroll
// sideways, light or dark.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node report_velocity.js
const assert = require('node:assert/strict');
const { run } = require('./lib');
const h = require('./report_helpers');

run('velocity report: chart, table, pipeline filter, phone width', async (state) => {
  const page = state.page;
  const stamp = Date.now();
  const token = await h.apiToken(page, `velocity ${stamp}`);
  const name = `Velocity ${stamp}`;
  const p = await h.pipeline(token, name);
  const [first, second] = p.stages;
  // Two deals leave the first stage for the second: two stays ended in the first, two
  // deals waiting in the second.
  for (const n of [1, 2]) {
    const d = await h.api(token, 'POST', '/deals', { title: `${name} deal ${n}`, pipeline_id: p.id, amount: 1000 * n });
    const moved = await h.api(token, 'POST', `/deals/${d.id}/move`, { stage_id: second.id, version: d.version }, 200);
    assert.equal(moved.stage_id, second.id, 'the deal moved');
  }

  await page.goto(process.env.BASE + '/reports/velocity');
  const svg = await h.chartTitled(page, /^Median days in each stage$/);
  const bar = svg.locator('rect title', { hasText: `${name} · ${first.name}: 2 stays ended` });
  assert.equal(await bar.count(), 1, 'the first stage has its bar, the numbers on hover');
  const all = await h.rows(page);
  const mine = all.filter((r) => r[0] === name);
  assert.equal(mine.length, p.stages.filter((s) => s.kind === 'open').length, `a row per open stage: ${JSON.stringify(mine)}`);
  const firstRow = mine.find((r) => r[1] === first.name);
  assert.equal(firstRow[2], '2', 'two stays ended in the first stage');
  assert.equal(mine.find((r) => r[1] === second.name)[5], '2', 'two deals in the second now');
  assert.ok(all.length > mine.length, 'other pipelines are listed too');

  await h.filter(page, new RegExp(`pipeline=${p.id}`), () =>
    page.selectOption('select[name=pipeline]', String(p.id)));
  await page.waitForFunction((n) => document.querySelectorAll('table.report tbody tr').length === n, mine.length);
  const filtered = await h.rows(page);
  assert.deepEqual(filtered.map((r) => r[0]), mine.map(() => name), 'only the chosen pipeline');
  await h.csvCarries(page, 'velocity', { pipeline: String(p.id) });

  assert.ok(await h.phoneOverflow(page, '/reports/velocity') <= 0, 'the page scrolls sideways at 390 px');
});
