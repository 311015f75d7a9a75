// Sessions in a real browser: the user signs in again from a phone-sized second browser
// (where the account and user pages fit the screen), sees both sessions on the account page and ends the phone's with its button; the phone
// is sent to sign in at its next page.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node sessions.js
const assert = require('node:assert/strict');
const { run } = require('./lib');

const base = process.env.BASE;

run('sessions: end another session from the account page', async (state) => {
  const page = state.page;
  const phone = await state.browser.newContext({
    viewport: { width: 390, height: 844 },
    userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  });
  const p = await phone.newPage();
  p.on('pageerror', (e) => state.errors.push(`phone page error: ${e}`));
  await p.goto(base + '/login');
  await p.fill('input[name=email]', process.env.EMAIL);
  await p.fill('input[name=password]', process.env.PASSWORD);
  await p.click('main button[type=submit]');
  await p.waitForURL((u) => ['/', '/welcome'].includes(u.pathname));

  // The account page, Settings → Users with its invitations and the reset form fit a
  // phone's screen (the page never scrolls sideways).
  for (const path of ['/account', '/settings/users', '/password/forgot']) {
    await p.goto(base + path);
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${path} scrolls sideways on a phone by ${overflow}px`);
  }

  await page.goto(base + '/account');
  // Earlier browser scripts signed this user in too: count the phone's row, not all.
  const phoneRow = page.locator('#sessions tbody tr', { hasText: 'Safari on iPhone' });
  assert.equal(await phoneRow.count(), 1, 'the phone session is listed once');
  await phoneRow.locator('button', { hasText: 'End' }).click();
  await phoneRow.waitFor({ state: 'detached' });
  await page.locator('.flash', { hasText: 'That session is signed out.' }).waitFor();

  await p.goto(base + '/contacts');
  await p.waitForURL(/\/login/);
  await phone.close();
});
