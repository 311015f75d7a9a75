// The deal board in a real browser: add a deal, drag its card to another column, and
// check that the move survived a reload; then move it with the keyboard-friendly picker.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node board.js
const { chromium } = require('playwright-core');
const assert = require('node:assert/strict');

const base = process.env.BASE;
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

async function columnOf(page, title) {
  return page
    .locator('.card', { hasText: title })
    .evaluate((e) => e.closest('.column').getAttribute('aria-label'));
}

(async () => {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const errors = [];
  try {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    page.on('pageerror', (e) => errors.push(`page error: ${e}`));
    page.on('console', (m) => {
      // A Content-Security-Policy violation shows up here: no inline script may run.
      if (m.type() === 'error') errors.push(`console error: ${m.text()}`);
    });
    page.setDefaultTimeout(15000);

    await page.goto(base + '/login');
    await page.fill('input[name=email]', process.env.EMAIL);
    await page.fill('input[name=password]', process.env.PASSWORD);
    await page.click('main button[type=submit]');
    await page.waitForURL('**/contacts');

    await page.goto(base + '/deals/new');
    await page.fill('#d-title', 'Drag me');
    await page.fill('#d-amount', '1250.50');
    await page.click('main form button[type=submit]');
    await page.waitForURL('**/deals');
    assert.equal(await columnOf(page, 'Drag me'), 'Lead');

    // Drag in small steps, as a hand does; SortableJS needs movement to start.
    const card = await page.locator('.card', { hasText: 'Drag me' }).locator('.meta').first().boundingBox();
    const target = await page.locator('.column[aria-label="Proposal"] .cards').boundingBox();
    await page.mouse.move(card.x + 10, card.y + 5);
    await page.mouse.down();
    await page.mouse.move(card.x + 30, card.y + 20, { steps: 5 });
    await page.mouse.move(target.x + 40, target.y + 30, { steps: 20 });
    await page.mouse.up();
    await page.waitForResponse((r) => r.url().includes('/move') && r.request().method() === 'POST');
    await page.waitForTimeout(300);

    await page.reload();
    assert.equal(await columnOf(page, 'Drag me'), 'Proposal', 'the drag survived a reload');

    // The keyboard way: the card's "Move…" link opens the deal's stage picker.
    await page.locator('.card', { hasText: 'Drag me' }).locator('.move-link').focus();
    await page.keyboard.press('Enter');
    await page.waitForURL('**/deals/*');
    await page.selectOption('#move select[name=stage_id]', { label: 'Negotiation' });
    await page.click('#move button[type=submit]');
    await page.waitForLoadState('load');
    await page.goto(base + '/deals');
    assert.equal(await columnOf(page, 'Drag me'), 'Negotiation', 'the picker move is on the board');

    assert.deepEqual(errors, [], 'no script errors or CSP violations');
    console.log('browser: board drag, reload and keyboard move passed');
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
