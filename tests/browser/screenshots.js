// Screenshots of the pages a salesperson lives in (contact list, a contact, a company, a
// deal, the board, the deal list and form) at desktop and phone widths, light and dark, for people to look at
// after a change. Written to $SCREENSHOTS (default target/screenshots), never committed.
// Checks only that each page renders without script errors.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node screenshots.js
const fs = require('node:fs');
const path = require('node:path');
const { run } = require('./lib');

const base = process.env.BASE;
const out = process.env.SCREENSHOTS || path.join(__dirname, '..', '..', 'target', 'screenshots');

run('screenshots at 1366 and 390 px, light and dark', async (state) => {
  const page = state.page;
  fs.mkdirSync(out, { recursive: true });
  const word = `Shot${Date.now().toString(36)}`;
  await page.goto(base + '/companies/new');
  await page.fill('input[name=name]', `${word} Industries`);
  await page.click('main form button[type=submit]');
  await page.waitForURL(/\/companies\/\d+$/);
  const company = new URL(page.url()).pathname;
  await page.goto(base + '/contacts/new');
  await page.fill('input[name=first_name]', 'Grace');
  await page.fill('input[name=last_name]', word);
  await page.fill('input[name=company]', `${word} Industries`);
  await page.click('main form button[type=submit]');
  await page.waitForURL(/\/contacts\/\d+$/);
  const contact = new URL(page.url()).pathname;
  await page.goto(base + '/deals/new');
  await page.fill('#d-title', `${word} rollout`);
  await page.fill('#d-amount', '12500');
  await page.fill('#d-company', `${word} Industries`);
  await page.click('main form button[type=submit]');
  await page.waitForURL('**/deals');
  await page.locator('.card', { hasText: `${word} rollout` }).locator('a.title').click();
  await page.waitForURL(/\/deals\/\d+$/);
  const deal = new URL(page.url()).pathname;

  const pages = { dashboard: '/', contacts: '/contacts', contact, company, deal, board: '/deals', 'deal-list': '/deals/list', 'new-deal': '/deals/new' };
  const session = await page.context().storageState();
  for (const [width, height] of [[1366, 800], [390, 844]]) {
    for (const scheme of ['light', 'dark']) {
      const context = await state.browser.newContext({
        viewport: { width, height }, colorScheme: scheme, storageState: session,
      });
      const tab = await context.newPage();
      tab.on('pageerror', (e) => state.errors.push(`page error: ${e}`));
      for (const [name, url] of Object.entries(pages)) {
        await tab.goto(base + url);
        await tab.locator('main').waitFor();
        await tab.screenshot({ path: path.join(out, `${name}-${width}-${scheme}.png`), fullPage: true });
      }
      await context.close();
    }
  }
  console.log(`screenshots written to ${out}`);
});
