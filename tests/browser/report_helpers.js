// What the report pages' browser tests share: an API token made on the account page,
// JSON calls with it (each answer's status checked), and the checks every report page
// gets (its chart's accessible title, its table's rows, the CSV link, the width on a
// phone).
const assert = require('node:assert/strict');

const base = process.env.BASE;

// A read-write API token, created on the account page as a user would.
async function apiToken(page, name) {
  await page.goto(base + '/account');
  const form = page.locator('#tokens form[action="/account/tokens"]');
  await form.locator('input[name=name]').fill(name);
  await form.locator('button[type=submit]').click();
  const token = (await page.locator('#tokens .secret').innerText()).trim();
  assert.ok(token.length > 20, `a token is shown once: ${token}`);
  return token;
}

// `method` `path` of the JSON API with `body`; the answer's JSON, its status checked.
async function api(token, method, path, body, status = method === 'POST' ? 201 : 200) {
  const res = await fetch(base + '/api/v1' + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, status, `${method} ${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

// A new pipeline (New, In progress, Won, Lost) named `name`.
async function pipeline(token, name) {
  return api(token, 'POST', '/pipelines', { name });
}

// The body rows of `table` (a selector or a locator) as arrays of cell texts.
async function rows(page, table = 'table.report') {
  const t = typeof table === 'string' ? page.locator(table) : table;
  return t.locator('tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td, th')].map((c) => c.textContent.trim())));
}

// The report's chart (the first in `scope`): an SVG image labelled by its title, whose
// text matches `title`.
async function chartTitled(page, title, scope = page) {
  const svg = scope.locator('figure.chart svg.chart-svg[role=img]').first();
  const ids = (await svg.getAttribute('aria-labelledby')).split(' ');
  const text = await page.locator(`svg.chart-svg title[id="${ids[0]}"]`).textContent();
  assert.match(text, title, 'the chart has its accessible title');
  return svg;
}

// Submits the filter form after `fill` set it, waiting for the URL to carry `want`.
async function filter(page, want, fill) {
  await fill();
  await Promise.all([page.waitForURL(want), page.click('.report-filters button[type=submit]')]);
}

// The CSV link's address, checked to be the page's `.csv` with `params`.
async function csvCarries(page, slug, params) {
  const href = await page.locator('a', { hasText: 'Download CSV' }).getAttribute('href');
  assert.ok(href.startsWith(`/reports/${slug}.csv?`), `the CSV link is the report's: ${href}`);
  const q = new URL(href, base).searchParams;
  for (const [k, v] of Object.entries(params)) {
    assert.equal(q.get(k), v, `the CSV link carries ${k}: ${href}`);
  }
}

// At a phone's 390 px, how far `path` is wider than the window (0 or less: no sideways
// scroll), in light and in dark mode; the viewport is set back after.
async function phoneOverflow(page, path) {
  await page.setViewportSize({ width: 390, height: 844 });
  const out = [];
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    await page.goto(base + path);
    await page.locator('main h1').waitFor();
    out.push(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth));
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1400, height: 900 });
  return Math.max(...out);
}

// At a phone's 390 px, whether the first report table on `path` is wider than its frame
// and scrolls inside it, the frame drawing its edge shadows; the viewport is set back.
async function scrollsInFrame(page, path) {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(base + path);
  const wrap = page.locator('.table-wrap.scroll-cue', { has: page.locator('table.report') }).first();
  const [scrolls, cue] = await wrap.evaluate((w) => [w.scrollWidth > w.clientWidth, getComputedStyle(w).backgroundImage]);
  await page.setViewportSize({ width: 1400, height: 900 });
  return scrolls && /radial-gradient/.test(cue);
}

// Loads `path` again until `ready()` holds (the job queue applies some writes after
// their answer), each load waiting for the server, no fixed pause.
async function reloadUntil(page, path, ready, what) {
  const deadline = Date.now() + 20000;
  for (;;) {
    await page.goto(base + path);
    if (await ready()) return;
    assert.ok(Date.now() < deadline, `${path} never showed ${what}`);
  }
}

module.exports = { apiToken, api, pipeline, rows, chartTitled, filter, csvCarries, phoneOverflow, scrollsInFrame, reloadUntil };
