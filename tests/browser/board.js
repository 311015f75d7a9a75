// The deal board in a real browser: add a deal, drag its card to another column and check
// that the move survived a reload; move it with the deal page's picker; and drag a
// card a colleague has just moved: the save is refused, the reason shows, and the card
// goes where the server has it; or just deleted: the board says so and drops the card.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node board.js
const assert = require('node:assert/strict');
const { run, drag } = require('./lib');

const base = process.env.BASE;

async function columnOf(page, title) {
  return page
    .locator('.card', { hasText: title })
    .evaluate((e) => e.closest('.column').getAttribute('aria-label'));
}

run('board drag, reload, deal page move, refused and vanished drags', async (state) => {
  const page = state.page;
  await page.goto(base + '/deals/new');
  await page.fill('#d-title', 'Drag me');
  await page.fill('#d-amount', '1250.50');
  await page.click('main form button[type=submit]');
  await page.waitForURL('**/deals');
  assert.equal(await columnOf(page, 'Drag me'), 'Lead');

  const moved = page.waitForResponse((r) => r.url().includes('/move') && r.request().method() === 'POST');
  await drag(page, page.locator('.card', { hasText: 'Drag me' }).locator('.meta').first(),
    page.locator('.column[aria-label="Proposal"] .cards'));
  // The server answered the move, so it is stored: reload at once.
  assert.equal((await moved).status(), 200);
  await page.reload();
  assert.equal(await columnOf(page, 'Drag me'), 'Proposal', 'the drag survived a reload');

  // The deal page's own stage picker (board_keyboard.js moves cards on the board).
  await page.locator('.card', { hasText: 'Drag me' }).locator('a.title').click();
  await page.waitForURL(/\/deals\/\d+$/);
  await page.selectOption('#move select[name=stage_id]', { label: 'Negotiation' });
  const picked = page.waitForResponse((r) => r.url().includes('/move') && r.request().method() === 'POST');
  await page.click('#move button[type=submit]');
  assert.ok((await picked).status() < 400, 'the picker move was saved');
  await page.goto(base + '/deals');
  assert.equal(await columnOf(page, 'Drag me'), 'Negotiation', 'the picker move is on the board');

  // A colleague moves the deal to Qualified while this board still shows it in
  // Negotiation (a request from the same page stands in for the other browser).
  const card = page.locator('.card', { hasText: 'Drag me' });
  const id = await card.getAttribute('data-id');
  const qualified = await page.locator('.column[aria-label="Qualified"] .cards').getAttribute('data-stage');
  const status = await page.evaluate(async ([id, stage]) => {
    const token = document.querySelector('input[name=_csrf]').value;
    const version = document.querySelector(`.card[data-id="${id}"]`).dataset.version;
    const body = new URLSearchParams({ stage_id: stage, version, _csrf: token });
    const res = await fetch(`/deals/${id}/move`, { method: 'POST', body, redirect: 'manual' });
    return res.status;
  }, [id, qualified]);
  assert.ok(status === 303 || status === 0, `the colleague's move was saved (${status})`);
  assert.equal(await columnOf(page, 'Drag me'), 'Negotiation', 'this board has not heard of it yet');

  state.refusalExpected = true;
  const refused = page.waitForResponse((r) => r.url().includes('/move') && r.request().method() === 'POST');
  await drag(page, card.locator('.meta').first(), page.locator('.column[aria-label="Won"] .cards'));
  assert.equal((await refused).status(), 409, 'a move from a stale version is refused');
  await page.locator('.toast', { hasText: 'Someone changed' }).waitFor();
  await page.waitForFunction(() => {
    const c = [...document.querySelectorAll('.card')].find((e) => e.textContent.includes('Drag me'));
    return c && c.closest('.column').getAttribute('aria-label') === 'Qualified';
  });
  state.refusalExpected = false;
  await page.reload();
  assert.equal(await columnOf(page, 'Drag me'), 'Qualified', 'nothing was overwritten');

  // A colleague deletes the deal; dragging its card says so and the board drops it.
  const deleted = await page.evaluate(async (id) => {
    const token = document.querySelector('input[name=_csrf]').value;
    const body = new URLSearchParams({ _csrf: token });
    return (await fetch(`/deals/${id}/delete`, { method: 'POST', body, redirect: 'manual' })).status;
  }, id);
  assert.ok(deleted === 303 || deleted === 0, `the colleague's delete was saved (${deleted})`);
  state.refusalExpected = true;
  const gone = page.waitForResponse((r) => r.url().includes('/move') && r.request().method() === 'POST');
  await drag(page, page.locator('.card', { hasText: 'Drag me' }).locator('.meta').first(),
    page.locator('.column[aria-label="Proposal"] .cards'));
  assert.equal((await gone).status(), 404);
  await page.locator('.toast', { hasText: 'no longer exists' }).waitFor();
  await page.locator('.card', { hasText: 'Drag me' }).waitFor({ state: 'detached' });
  state.refusalExpected = false;
});
