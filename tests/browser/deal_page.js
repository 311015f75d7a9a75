// A deal's page and the settings around deals, in a real browser: the form's company
// suggestions, logging activity in place (no page load) with times shown in the
// browser's zone, and reordering stages by dragging their handle.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node deal_page.js
const assert = require('node:assert/strict');
const { run, drag } = require('./lib');

const base = process.env.BASE;

run('deal form suggestions, activity panel and stage drag', async (state) => {
  const page = state.page;
  await page.goto(base + '/companies/new');
  await page.fill('input[name=name]', 'Initech');
  await page.click('main form button[type=submit]');
  await page.waitForURL(/\/companies\/\d+$/);

  // The company picker suggests as you type.
  await page.goto(base + '/deals/new');
  await page.fill('#d-title', 'TPS rollout');
  await page.locator('#d-company').pressSequentially('Init', { delay: 30 });
  await page.waitForFunction(() => document.querySelectorAll('#d-company-options option').length > 0);
  assert.match(await page.locator('#d-company-options option').first().getAttribute('value'), /^Initech \(#\d+\)$/);
  // Another spelling of an existing company links it, and the form says so while typing.
  await page.fill('#d-company', 'initech, inc.');
  await page.locator('#company-note', { hasText: 'Links to Initech' }).waitFor();
  await page.fill('#d-source', 'referral');
  await page.click('main form button[type=submit]');
  await page.waitForURL('**/deals');
  await page.locator('.card', { hasText: 'TPS rollout' }).locator('a.title').click();
  await page.waitForURL(/\/deals\/\d+$/);
  assert.match(await page.locator('dl.details').innerText(), /Initech/);

  // Log a call: the panel swaps in place, the page does not reload.
  await page.evaluate(() => { window.__samePage = true; });
  await page.selectOption('#activity select[name=kind]', 'call');
  await page.fill('#activity textarea[name=body]', 'Spoke with Bill.\nWants a demo.');
  await page.fill('#activity input[type=datetime-local]', '2026-03-04T09:15');
  await page.click('#activity button[type=submit]');
  await page.locator('#activity .timeline li', { hasText: 'Spoke with Bill.' }).waitFor();
  assert.equal(await page.evaluate(() => window.__samePage), true, 'no full page load');
  const entry = page.locator('#activity .timeline li', { hasText: 'Spoke with Bill.' });
  assert.match(await entry.locator('.badge').innerText(), /Call/);
  // app.js rewrites the server's UTC date once htmx has settled the swap.
  await page.waitForFunction(() => {
    const t = document.querySelector('#activity .timeline li time');
    return t && t.title !== '';
  });
  const shown = await entry.locator('time').innerText();
  assert.doesNotMatch(shown, /^\d{4}-\d{2}-\d{2}$/, 'the time is shown in the reader\'s zone');
  assert.match(shown, /2026/);
  const iso = await entry.locator('time').getAttribute('datetime');
  // 09:15 in New York (EST, UTC-5) is 14:15 UTC.
  assert.equal(new Date(iso).toISOString(), '2026-03-04T14:15:00.000Z', 'local time saved as UTC');
  assert.match(shown, /9:15/, 'and shown in the browser\'s zone');

  // An empty note is refused with a message; the form keeps its place.
  state.refusalExpected = true;
  await page.fill('#activity textarea[name=body]', ' ');
  await page.$eval('#activity textarea[name=body]', (t) => t.removeAttribute('required'));
  await page.click('#activity button[type=submit]');
  await page.locator('.toast', { hasText: 'Write what happened.' }).waitFor();
  state.refusalExpected = false;

  // Delete it (the browser's confirm is accepted).
  page.once('dialog', (d) => d.accept());
  await entry.locator('button', { hasText: 'Delete' }).click();
  await page.locator('#activity .empty').waitFor();

  // Settings → Pipelines: drag Lost to the top of Sales, and back with the ↑/↓ buttons.
  await page.goto(base + '/settings/pipelines');
  const rows = page.locator('.stage-rows').first().locator('tr');
  const names = async () => rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('input[name=name]').value));
  assert.deepEqual(await names(), ['Lead', 'Qualified', 'Proposal', 'Negotiation', 'Won', 'Lost']);
  const saved = page.waitForResponse((r) => r.url().includes('/reorder') && r.request().method() === 'POST');
  await drag(page, rows.nth(5).locator('.handle'), rows.nth(0), 2);
  assert.equal((await saved).status() < 400, true, 'the reorder was accepted');
  await page.reload();
  assert.equal((await names())[0], 'Lost', 'the drag was saved');
  // Each ↓ moves Lost one row down: wait until the page shows it there.
  for (let i = 0; i < 5; i++) {
    await rows.nth(i).locator('button[value=down]').click();
    await page.waitForFunction(
      (at) => {
        const input = document.querySelectorAll('.stage-rows')[0]?.querySelectorAll('tr')[at]?.querySelector('input[name=name]');
        return input && input.value === 'Lost';
      },
      i + 1,
    );
  }
  assert.deepEqual(await names(), ['Lead', 'Qualified', 'Proposal', 'Negotiation', 'Won', 'Lost']);
});
