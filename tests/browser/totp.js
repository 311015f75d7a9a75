// Two-factor sign-in in a real browser: the admin adds a fresh user in Settings → Users;
// that user turns two-factor on from the account page (reading the secret off the page and
// computing codes here as an authenticator app does, RFC 6238 with HMAC-SHA1), signs out,
// and signs in again with the password and then a code.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node totp.js
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { run } = require('./lib');

const base = process.env.BASE;

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const out = [];
  let bits = 0;
  let value = 0;
  for (const ch of text.replace(/=+$/, '').toUpperCase()) {
    const index = alphabet.indexOf(ch);
    assert.ok(index >= 0, `not base32: ${text}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
      value &= (1 << bits) - 1;
    }
  }
  return Buffer.from(out);
}

// The 6-digit code of a 30-second time step.
function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, '0');
}

const currentStep = () => Math.floor(Date.now() / 30000);

run('totp: turn on two-factor, then sign in with a code', async (state) => {
  const admin = state.page;
  const email = `totp-${Date.now()}@example.com`;
  const password = 'two factor browser password';
  await admin.goto(base + '/settings/users');
  await admin.fill('#u-name', 'Tess Totp');
  await admin.fill('#u-email', email);
  await admin.selectOption('#u-role', 'rep');
  await admin.fill('#u-password', password);
  await admin.click('button:has-text("Add user")');
  await admin.locator('.flash', { hasText: `can now sign in as ${email}` }).waitFor();

  const context = await state.browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => state.errors.push(`user page error: ${e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') state.errors.push(`user console error: ${m.text()}`);
  });
  const signInWithPassword = async () => {
    await page.goto(base + '/login');
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', password);
    await page.click('main button[type=submit]');
  };
  await signInWithPassword();
  // Signed in, on the dashboard.
  await page.waitForURL((u) => u.pathname === '/');

  await page.goto(base + '/account');
  await page.click('button:has-text("Turn on two-factor")');
  await page.waitForURL(/\/account\/two-factor$/);
  assert.equal(await page.locator('.qr svg').count(), 1, 'the QR code is drawn');
  const secret = (await page.locator('#two-factor-secret').textContent()).trim();
  const confirmStep = currentStep();
  await page.fill('input[name=code]', totp(secret, confirmStep));
  await page.click('main button[type=submit]');
  await page.locator('#recovery-codes li').first().waitFor();
  assert.equal(await page.locator('#recovery-codes li').count(), 10, 'ten recovery codes');
  await page.click('a:has-text("continue")');
  await page.locator('#two-factor', { hasText: 'On since' }).waitFor();

  await page.click('form[action="/logout"] button');
  await page.waitForURL(/\/login/);
  await signInWithPassword();
  await page.waitForURL(/\/login\/two-factor$/);
  // The confirming code's step is used up: take the next one when the clock has not
  // moved on yet (one step ahead is within the drift the server allows).
  await page.fill('input[name=code]', totp(secret, Math.max(currentStep(), confirmStep + 1)));
  await page.click('main button[type=submit]');
  await page.waitForURL((u) => u.pathname === '/');
  await context.close();
});
