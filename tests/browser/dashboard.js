// The dashboard and a report page in a real browser: a deal won through its page shows
// on the dashboard (count, recent wins), the funnel report's table changes when a filter
// is applied and its CSV link carries the filters, neither page scrolls sideways at a
// phone's 390 px, and in dark mode the charts take the dark colours of the CSS
// variables.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node dashboard.js
const assert = require('node:assert/strict');
const { run } = require('./lib');

const base = process.env.BASE;

async function wonCount(page) {
  await page.goto(base + '/');
  return Number(await page.locator('#dash-won .won-count').innerText());
}

// Whether the page is wider than the window (a sideways scroll), once it has laid out.
async function overflow(page, path) {
  await page.goto(base + path);
  await page.locator('main h1').waitFor();
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

// The computed `prop` (fill by default) of the first `selector` and the value of CSS
// variable `name`, both as the browser resolves them (rgb(…)).
async function fillAndVariable(page, selector, name, prop = 'fill') {
  return page.evaluate(([sel, v, p]) => {
    const probe = document.createElement('div');
    probe.style.color = `var(${v})`;
    document.body.append(probe);
    const want = getComputedStyle(probe).color;
    probe.remove();
    return [getComputedStyle(document.querySelector(sel))[p], want];
  }, [selector, name, prop]);
}

run('dashboard figures, report filters, phone width and dark charts', async (state) => {
  const page = state.page;
  const before = await wonCount(page);
  assert.ok(await page.locator('.as-of time').count() === 1, 'the page says as of when');

  // A deal made and won through its page.
  const title = `Dash win ${Date.now()}`;
  await page.goto(base + '/deals/new');
  await page.fill('#d-title', title);
  await page.fill('#d-amount', '4321.00');
  await page.click('main form button[type=submit]');
  await page.waitForURL('**/deals');
  await page.locator('.card', { hasText: title }).locator('a.title').click();
  await page.waitForURL(/\/deals\/\d+$/);
  const dealPath = new URL(page.url()).pathname;
  await page.selectOption('#move select[name=stage_id]', { label: 'Won' });
  await page.click('#move button[type=submit]');
  await page.locator('h1 .badge', { hasText: 'Won' }).waitFor();

  // A deal change shows within seconds (a build younger than that is shown a moment
  // longer): the page is loaded again until it counts the win, each load waiting for
  // the server, no fixed pause.
  const deadline = Date.now() + 20000;
  let now = await wonCount(page);
  while (now !== before + 1 && Date.now() < deadline) now = await wonCount(page);
  assert.equal(now, before + 1, 'the win counts this month');
  const win = page.locator('#dash-wins li', { hasText: title });
  await win.waitFor();
  assert.match(await win.innerText(), /4,321\.00/, 'with its amount');
  assert.equal(await win.locator('a').getAttribute('href'), dealPath, 'and a link to the deal');
  assert.equal(await page.locator('#dash-funnel svg rect.bar-created title').count(), 12, 'twelve weeks, numbers on hover');
  assert.match(await page.locator('#dash-funnel svg rect.hit title').last().textContent(), /contacts created, \d+ deals won/);
  assert.match(await page.locator('#dash-won h2 a').getAttribute('href'), /^\/reports\/pipeline\?from=/);

  // The funnel report: a filter changes the table, and the CSV link keeps the filters.
  await page.goto(base + '/reports/funnel');
  const rows = await page.locator('table.report tbody tr').count();
  assert.ok(rows >= 13, `90 days are 13 or 14 weeks: ${rows}`);
  await page.fill('input[name=days]', '7');
  await page.selectOption('select[name=source]', 'referral');
  await Promise.all([page.waitForURL(/days=7/), page.click('.report-filters button[type=submit]')]);
  await page.waitForFunction((n) => document.querySelectorAll('table.report tbody tr').length !== n, rows);
  assert.ok(await page.locator('table.report tbody tr').count() <= 2, 'a week or two');
  const csv = await page.locator('a', { hasText: 'Download CSV' }).getAttribute('href');
  assert.match(csv, /^\/reports\/funnel\.csv\?/);
  assert.match(csv, /days=7/);
  assert.match(csv, /source=referral/);

  // A phone's width: nothing wider than the window.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of ['/', '/reports/funnel']) {
    assert.ok(await overflow(page, path) <= 0, `${path} scrolls sideways at 390 px`);
  }

  // Dark mode: the charts' colours are the dark values of the variables.
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(base + '/');
  const [light] = await fillAndVariable(page, '#dash-funnel rect.bar-created', '--chart-created');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(base + '/');
  const [dark, darkVar] = await fillAndVariable(page, '#dash-funnel rect.bar-created', '--chart-created');
  assert.equal(dark, darkVar, 'the bars take the variable');
  assert.notEqual(dark, light, 'and it changes in dark mode');
  const [line, wonVar] = await fillAndVariable(page, '#dash-funnel polyline.line-won', '--chart-won', 'stroke');
  assert.equal(line, wonVar, 'the won line takes its variable');
  await page.goto(base + '/reports/funnel');
  const [bar, barVar] = await fillAndVariable(page, '.chart-svg rect.bar-created', '--chart-created');
  assert.equal(bar, barVar, 'the report chart too');
  assert.equal(bar, dark);
  await page.emulateMedia({ colorScheme: 'light' });
});
