// Tasks in a real browser: tick a task done on My tasks and on a deal's page, each in
// place (no page load), with the overdue count in the navigation following.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node tasks.js
const assert = require('node:assert/strict');
const { run } = require('./lib');

const base = process.env.BASE;

run('tasks: done toggles on My tasks and a deal page', async (state) => {
  const page = state.page;
  const yesterday = new Date(Date.now() - 86400000).toISOString().slice(0, 10);

  // My tasks: quick add a task due yesterday (the user's zone is UTC): it is overdue and
  // counted in the navigation.
  await page.goto(base + '/tasks');
  await page.fill('.quick-add input[name=title]', 'Browser overdue task');
  await page.fill('.quick-add input[name=due_date]', yesterday);
  await page.click('.quick-add button[type=submit]');
  const overdueRow = page.locator('#group-overdue li.task', { hasText: 'Browser overdue task' });
  await overdueRow.waitFor();
  await page.locator('#overdue-badge', { hasText: '1' }).waitFor();

  // One click ticks it: the row moves to Done in place and the badge empties.
  await page.evaluate(() => { window.__samePage = true; });
  await overdueRow.locator('button.check').click();
  const doneRow = page.locator('#group-done li.task', { hasText: 'Browser overdue task' });
  await doneRow.waitFor();
  assert.equal(await doneRow.locator('button.check').getAttribute('aria-pressed'), 'true');
  assert.equal(await overdueRow.count(), 0, 'no longer overdue');
  await page.waitForFunction(() => document.querySelector('#overdue-badge').textContent.trim() === '');
  assert.equal(await page.evaluate(() => window.__samePage), true, 'no full page load');

  // A deal's page: add a task from its panel, then tick it there.
  await page.goto(base + '/deals/new');
  await page.fill('#d-title', 'Task rollout');
  await page.click('main form button[type=submit]');
  await page.waitForURL('**/deals');
  await page.locator('.card', { hasText: 'Task rollout' }).locator('a.title').click();
  await page.waitForURL(/\/deals\/\d+$/);
  await page.click('#tasks-panel summary');
  await page.fill('#tasks-panel input[name=title]', 'Send the contract');
  await page.click('#tasks-panel form button[type=submit]');
  const row = page.locator('#tasks-panel li.task', { hasText: 'Send the contract' });
  await row.waitFor();
  await page.evaluate(() => { window.__samePage = true; });
  await row.locator('button.check').click();
  await page.locator('#tasks-panel li.empty').waitFor();
  assert.equal(await row.count(), 0, 'the done task left the open list');
  assert.equal(await page.evaluate(() => window.__samePage), true, 'no full page load');
  // Completing it logged it on the deal: the timeline shows it after a reload.
  await page.reload();
  await page.locator('#activity .timeline li', { hasText: 'Completed task: Send the contract' }).waitFor();
});
