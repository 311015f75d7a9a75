// Shared by the browser tests: a headless Debian Chromium, a signed-in page, and a list of
// script errors and CSP violations that must stay empty (some steps expect a refusal
// and say so with `expectRefusal`).
const { chromium } = require('playwright-core');

async function start() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  // A zone other than the server's UTC, so a time shown or typed in the browser's zone is
  // told apart from the stored UTC one.
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'America/New_York' });
  const page = await context.newPage();
  const state = { browser, page, errors: [], refusalExpected: false };
  page.on('pageerror', (e) => state.errors.push(`page error: ${e}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // The browser itself logs a refused request's status ("Failed to load resource"),
    // which a step that asks for a refusal expects; anything else is a defect: htmx
    // logging an ordinary 4xx as an error, or a Content-Security-Policy violation.
    if (state.refusalExpected && /^Failed to load resource: .*\b(409|404|422)\b/.test(m.text())) return;
    state.errors.push(`console error: ${m.text()}`);
  });
  page.setDefaultTimeout(15000);
  await page.goto(process.env.BASE + '/login');
  await page.fill('input[name=email]', process.env.EMAIL);
  await page.fill('input[name=password]', process.env.PASSWORD);
  await page.click('main button[type=submit]');
  // The dashboard, unless an admin of a new install is first offered the first steps.
  await page.waitForURL((u) => ['/', '/welcome'].includes(u.pathname));
  return state;
}

// Drag in small steps, as a hand does; SortableJS needs movement to start. `dy` is how
// far into the target the pointer lets go.
async function drag(page, from, to, dy = 30) {
  const a = await from.boundingBox();
  const b = await to.boundingBox();
  await page.mouse.move(a.x + 10, a.y + 5);
  await page.mouse.down();
  await page.mouse.move(a.x + 30, a.y + 20, { steps: 5 });
  // Slowly enough for SortableJS's animation to let each row it passes swap.
  const steps = 30;
  const [x0, y0] = [a.x + 30, a.y + 20];
  for (let i = 1; i <= steps; i++) {
    await page.mouse.move(x0 + ((b.x + 40 - x0) * i) / steps, y0 + ((b.y + dy - y0) * i) / steps);
    // One painted frame per step: what SortableJS's animation needs to swap a row.
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => done())));
  }
  await page.mouse.up();
}

function run(name, body) {
  (async () => {
    const state = await start();
    try {
      await body(state);
      require('node:assert/strict').deepEqual(state.errors, [], 'no script errors or CSP violations');
      console.log(`browser: ${name} passed`);
    } finally {
      await state.browser.close();
    }
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

module.exports = { run, drag };
