// Settings → Forms and a visitor of another site: an admin makes a form, copies its
// snippet, a visitor's browser (no cookies) posts it from a page of its own, sees the
// thank-you page, and the contact and the logged submission are there.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node web_form.js
const assert = require('node:assert/strict');
const { run } = require('./lib');

const base = process.env.BASE;

run('a web form takes a submission posted from its snippet', async (state) => {
  const page = state.page;
  const stamp = Date.now();
  await page.goto(base + '/settings/forms/new');
  await page.fill('#form-name', `Browser form ${stamp}`);
  await page.check('input[name=field_on][value=phone]');
  await page.click('button:has-text("Add form")');
  const snippetBox = page.locator('#form-snippet');
  await snippetBox.waitFor();
  const snippet = await snippetBox.inputValue();
  assert.match(snippet, new RegExp(`action="${base}/f/[0-9a-f]{32}"`), snippet);
  assert.match(snippet, /name="website"/, 'the honeypot is in the snippet');
  const formPage = page.url();

  const visitor = await state.browser.newContext();
  const v = await visitor.newPage();
  v.on('pageerror', (e) => state.errors.push(`visitor page error: ${e}`));
  await v.setContent(`<!doctype html><title>Another site</title>${snippet}`);
  const email = `vera.${stamp}@example.com`;
  await v.fill('input[name=first_name]', 'Vera');
  await v.fill('input[name=last_name]', `Visitor${stamp}`);
  await v.fill('input[name=email]', email);
  await v.fill('input[name=phone]', '555 0199');
  await v.click('button[type=submit]');
  await v.locator('h1', { hasText: 'Thank you' }).waitFor();
  assert.ok(v.url().startsWith(base + '/f/'), v.url());
  await visitor.close();

  await page.goto(base + '/contacts?q=' + encodeURIComponent(`Visitor${stamp}`));
  await page.locator('main a', { hasText: `Visitor${stamp}` }).first().waitFor();
  await page.goto(formPage + '/submissions');
  await page.locator('td', { hasText: 'created' }).first().waitFor();
  await page.locator('li', { hasText: email }).first().waitFor();
});
