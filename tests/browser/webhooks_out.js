// Settings → Webhooks: an admin registers an endpoint at a receiver this test runs (on
// loopback, which the server under test allows: CAIRN_WEBHOOKS_ALLOW_PRIVATE=true), adds
// a contact, the receiver gets contact.created signed with the secret the page showed
// once, the delivery log says delivered, and Redeliver sends it again.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node webhooks_out.js
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const { run } = require('./lib');

const base = process.env.BASE;

// A receiver that keeps each request and wakes whoever waits for the n-th.
function receiver() {
  const got = [];
  const waiting = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      got.push({ signature: req.headers['cairn-signature'] || '', body });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('thanks');
      waiting.filter((w) => got.length >= w.n).forEach((w) => w.done());
    });
  });
  const nth = (n) => new Promise((done, fail) => {
    if (got.length >= n) return done();
    const timer = setTimeout(() => fail(new Error(`request ${n} never came (${got.length} did)`)), 20000);
    waiting.push({ n, done: () => { clearTimeout(timer); done(); } });
  });
  return new Promise((ready) => server.listen(0, '127.0.0.1', () => ready({ server, got, nth, port: server.address().port })));
}

// Cairn-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body" under the secret>.
function signedBy(secret, { signature, body }) {
  const parts = Object.fromEntries(signature.split(',').map((p) => p.split('=')));
  const v1 = crypto.createHmac('sha256', secret).update(`${parts.t}.${body}`).digest('hex');
  return parts.v1 === v1;
}

// The delivery row once its status is `status`: the job queue delivers after the
// request, and the log is read again until it says so.
async function deliveryOnce(page, url, status) {
  const row = page.locator('tbody tr', { hasText: 'contact.created' });
  const deadline = Date.now() + 20000;
  for (;;) {
    await page.goto(url);
    if (await row.locator(`.badge:text-is("${status}")`).count() > 0) return row;
    assert.ok(Date.now() < deadline, `the delivery never showed ${status}`);
  }
}

run('an endpoint is registered, delivered to and redelivered from its log', async (state) => {
  const page = state.page;
  const rx = await receiver();
  try {
    await page.goto(base + '/settings/webhooks/new');
    await page.fill('#wh-url', `http://127.0.0.1:${rx.port}/hooks/cairn`);
    await page.check('input[name=events][value="contact.created"]');
    await page.click('button:has-text("Add endpoint")');
    const secret = (await page.locator('#new-secret code.secret').innerText()).trim();
    assert.ok(secret.length >= 16, `a signing secret is shown once: ${secret}`);
    const action = await page.locator('form[action$="/test"]').getAttribute('action');
    const endpoint = base + action.replace(/\/test$/, '');

    const name = `Hooked${Date.now().toString(36)}`;
    await page.goto(base + '/contacts/new');
    await page.fill('#f-first_name', 'Ada');
    await page.fill('#f-last_name', name);
    await page.click('main form button[type=submit]');
    await page.waitForURL(/\/contacts\/\d+$/);

    await rx.nth(1);
    const first = JSON.parse(rx.got[0].body);
    assert.equal(first.type, 'contact.created', rx.got[0].body);
    assert.equal(first.data.last_name, name, rx.got[0].body);
    assert.ok(signedBy(secret, rx.got[0]), `signed with the shown secret: ${rx.got[0].signature}`);

    const row = await deliveryOnce(page, endpoint, 'delivered');
    assert.match(await row.innerText(), /200/, 'the receiver\'s status is logged');
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/redeliver')),
      row.locator('button:has-text("Redeliver")').click(),
    ]);
    assert.equal(answer.status(), 200, 'the redelivery is accepted');
    await row.locator('.badge:text-is("pending")').waitFor();

    await rx.nth(2);
    assert.equal(rx.got[1].body, rx.got[0].body, 'the same event again');
    assert.ok(signedBy(secret, rx.got[1]), 'signed again');
    await deliveryOnce(page, endpoint, 'delivered');
  } finally {
    rx.server.close();
  }
});
