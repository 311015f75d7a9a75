// The contact list in a real browser: a row ticked after a search stays ticked when the
// search box loses the focus (its `change` asks for the results already shown).
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node contact_list.js
const assert = require('node:assert/strict');
const { run } = require('./lib');

const base = process.env.BASE;

async function addContact(page, first, last) {
  await page.goto(base + '/contacts/new');
  await page.fill('input[name=first_name]', first);
  await page.fill('input[name=last_name]', last);
  await page.click('main form button[type=submit]');
  await page.waitForURL(/\/contacts\/\d+$/);
}

run('a tick survives leaving the search box', async (state) => {
  const page = state.page;
  const word = `Tick${Date.now().toString(36)}`;
  await addContact(page, `${word}a`, 'Alpha');
  await addContact(page, `${word}b`, 'Beta');
  await page.goto(base + '/contacts');

  let listLoads = 0;
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/contacts' && r.method() === 'GET') listLoads += 1; });
  const searched = page.waitForResponse((r) => r.url().includes(`/contacts?q=${word}`));
  searched.catch(() => {});
  await page.locator('form.filters input[name=q]').pressSequentially(word, { delay: 20 });
  await searched;
  await page.waitForFunction(() => document.querySelectorAll('#results input[name=ids]').length === 2);
  const loadsAfterSearch = listLoads;

  const first = page.locator('#results input[name=ids]').first();
  await first.check();
  // Leaving the box fires `change` with the same query: nothing is asked again.
  await page.locator('form.filters input[name=q]').focus();
  await page.keyboard.press('Tab');
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => done())));
  assert.equal(listLoads, loadsAfterSearch, 'the results were loaded again');
  assert.equal(await first.isChecked(), true, 'the tick was lost');

  // A different search still loads.
  const again = page.waitForResponse((r) => new URL(r.url()).searchParams.get('q') === `${word}b`);
  await page.locator('form.filters input[name=q]').focus();
  await page.keyboard.press('End');
  await page.keyboard.type('b', { delay: 20 });
  await again;
  await page.waitForFunction(() => document.querySelectorAll('#results input[name=ids]').length === 1);
});
