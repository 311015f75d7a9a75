// Settings → Sign-in on a phone: the page and the form refused with a field error fit a
// 390 px screen (nothing scrolls sideways), and the error is shown beside its field.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node sign_in_settings.js
const assert = require('node:assert/strict');
const { run } = require('./lib');

const base = process.env.BASE;

async function sideways(p) {
  return p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

run('sign-in settings fit a phone', async (state) => {
  const phone = await state.browser.newContext({
    viewport: { width: 390, height: 844 },
    storageState: await state.page.context().storageState(),
  });
  const p = await phone.newPage();
  p.on('pageerror', (e) => state.errors.push(`phone page error: ${e}`));
  await p.goto(base + '/settings/sign-in');
  await p.locator('h2', { hasText: 'Single sign-on' }).waitFor();
  let overflow = await sideways(p);
  assert.ok(overflow <= 1, `/settings/sign-in scrolls sideways on a phone by ${overflow}px`);

  // A refused save shows the form again with the message under its field.
  await p.fill('#s-issuer', 'http://sso.example.com');
  await p.fill('#s-client', 'cairn');
  await p.click('main form button[type=submit]');
  const error = p.locator('#s-issuer ~ .field-error');
  await error.waitFor();
  assert.match(await error.innerText(), /must start with https/);
  overflow = await sideways(p);
  assert.ok(overflow <= 1, 'the refused form scrolls sideways on a phone by ' + overflow + 'px');
  await phone.close();
});
