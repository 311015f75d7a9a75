// The board by keyboard: a skip link lands in the board, a card moves with its own
// picker without leaving the board and keeps the focus, a move to Lost asks for the
// reason in a dialog (Cancel moves nothing), and ↑/↓ in Settings → Pipelines and on a
// custom field's choices keep the focus on the button pressed.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node board_keyboard.js
const assert = require('node:assert/strict');
const { run } = require('./lib');

const base = process.env.BASE;

async function columnOf(page, title) {
  return page
    .locator('.card', { hasText: title })
    .evaluate((e) => e.closest('.column').getAttribute('aria-label'));
}

// Opens the card's picker, chooses `stage` and presses its Move button, by keyboard.
async function pickStage(page, title, stage) {
  const card = page.locator('.card', { hasText: title });
  if (!(await card.locator('form.card-move').count())) {
    await card.locator('.move-link').focus();
    await page.keyboard.press('Enter');
  }
  await card.locator('select[name=stage_id]').selectOption({ label: stage });
  await card.locator('form.card-move button').focus();
  await page.keyboard.press('Enter');
}

async function waitInColumn(page, title, column) {
  await page.waitForFunction(([title, column]) => {
    const c = [...document.querySelectorAll('.card')].find((e) => e.querySelector('a.title').textContent === title);
    return c && c.closest('.column').getAttribute('aria-label') === column;
  }, [title, column]);
}

run('board keyboard moves, lost dialog and reorder focus', async (state) => {
  const page = state.page;
  const title = `Keyed deal ${Date.now()}`;
  await page.goto(base + '/deals/new');
  await page.fill('#d-title', title);
  await page.click('main form button[type=submit]');
  await page.waitForURL('**/deals');

  // Skip link, then the board: the first Tab inside it is a card.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  assert.ok(await page.evaluate(() => !!document.activeElement.closest('.card')), 'two keys from the top reach a card');

  const moved = page.waitForResponse((r) => r.url().includes('/move') && r.request().method() === 'POST');
  moved.catch(() => {}); // the step's own failure is the one to report
  await pickStage(page, title, 'Proposal');
  assert.equal((await moved).status(), 200, 'the picker move was saved');
  await waitInColumn(page, title, 'Proposal');
  assert.equal(new URL(page.url()).pathname, '/deals', 'the move stayed on the board');
  await page.waitForFunction((title) => document.activeElement.classList.contains('move-link') &&
    document.activeElement.closest('.card').textContent.includes(title), title);

  // Lost asks why; Cancel moves nothing.
  let posts = 0;
  page.on('request', (r) => { if (r.url().includes('/move') && r.method() === 'POST') posts += 1; });
  await pickStage(page, title, 'Lost');
  await page.locator('#lost-dialog[open]').waitFor();
  await page.click('#lost-dialog button[value=cancel]');
  await page.locator('#lost-dialog').waitFor({ state: 'hidden' });
  assert.equal(posts, 0, 'a cancelled lost move sends nothing');
  assert.equal(await columnOf(page, title), 'Proposal');

  const lost = page.waitForResponse((r) => r.url().includes('/move') && r.request().method() === 'POST');
  lost.catch(() => {}); // the step's own failure is the one to report
  await pickStage(page, title, 'Lost');
  await page.locator('#lost-dialog[open]').waitFor();
  await page.keyboard.type('Went with a competitor');
  await page.keyboard.press('Enter');
  assert.equal((await lost).status(), 200, 'the lost move with its reason was saved');
  await waitInColumn(page, title, 'Lost');

  // Settings → Pipelines: ↓ keeps the focus on the ↓ of the stage that moved.
  await page.goto(base + '/settings/pipelines');
  const rows = page.locator('.stage-rows').first().locator('tr');
  const nameAt = (i) => rows.nth(i).locator('input[name=name]').inputValue();
  assert.equal(await nameAt(0), 'Lead');
  await rows.nth(0).locator('button[value=down]').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('.stage-rows')[0].querySelectorAll('tr')[1]
    .querySelector('input[name=name]').value === 'Lead');
  await page.waitForFunction(() => document.activeElement.value === 'down' &&
    document.activeElement.closest('tr').querySelector('input[name=name]').value === 'Lead');
  // The focused ↑ puts it back.
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('.stage-rows')[0].querySelectorAll('tr')[0]
    .querySelector('input[name=name]').value === 'Lead');

  // Settings → Custom fields: a choice moves with ↓, the numbers follow, the focus stays,
  // and saving keeps the new order.
  await page.goto(base + '/settings/fields');
  await page.selectOption('#cf-entity', 'deal');
  await page.fill('#cf-label', 'Region');
  await page.selectOption('#cf-kind', 'select');
  await page.fill('#cf-options', 'North\nSouth\nEast');
  await page.click('main form button.primary');
  await page.locator('a[aria-label="Edit Region"]').click();
  await page.waitForURL(/\/settings\/fields\/\d+\/edit$/);
  const choices = () => page.evaluate(() => Array.from(document.querySelectorAll('.choices-edit tbody tr'))
    .map((tr) => tr.querySelector('input[name=opt_name]').value + '=' + tr.querySelector('input.order').value)
    .filter((c) => !c.startsWith('=')));
  await page.locator('button[aria-label="Move choice 1 down"]').focus();
  await page.keyboard.press('Enter');
  assert.deepEqual(await choices(), ['South=1', 'North=2', 'East=3']);
  assert.equal(await page.evaluate(() => document.activeElement.closest('tr').querySelector('input[name=opt_name]').value), 'North',
    'the focus stays on the moved choice');
  await page.click('main form button.primary');
  await page.waitForURL('**/settings/fields');
  await page.locator('a[aria-label="Edit Region"]').click();
  await page.waitForURL(/\/settings\/fields\/\d+\/edit$/);
  assert.deepEqual(await choices(), ['South=1', 'North=2', 'East=3'], 'the new order was saved');
});
