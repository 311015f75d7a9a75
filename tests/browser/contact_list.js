// The contact list in a real browser: a row ticked after a search stays ticked when the
// search box loses the focus (its `change` asks for the results already shown); the
// header's box ticks the page and offers "Select all N matching", the count beside Apply
// is what is ticked, the bulk bar shows only the chosen action's input, "Apply" with
// nothing ticked answers beside the button, and a column header sorts.
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

// `n` contacts named `<word>NN Sel`, posted as the contact form posts them (quicker than
// typing each).
async function addContacts(page, word, n) {
  await page.goto(base + '/contacts/new');
  const csrf = await page.locator('main form input[name=_csrf]').first().inputValue();
  for (let i = 0; i < n; i++) {
    const res = await page.request.post(base + '/contacts', {
      form: { _csrf: csrf, first_name: `${word}${String(i).padStart(2, '0')}`, last_name: 'Sel', source: 'other', confirm_duplicates: '1' },
      maxRedirects: 0,
    });
    assert.equal(res.status(), 303, `contact ${i} was not added: ${res.status()}`);
  }
}

async function tickSurvivesSearch(state) {
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
}

async function selectAll(state) {
  const page = state.page;
  const word = `Sel${Date.now().toString(36)}`;
  await addContacts(page, word, 27);
  await page.goto(`${base}/contacts?q=${word}`);
  const rows = page.locator('#results input[name=ids]');
  assert.equal(await rows.count(), 25, 'a page of 25');
  const header = page.locator('#results input[data-select-page]');
  const count = page.locator('#bulk [data-tick-count]');
  const apply = page.locator('#bulk [data-apply]');
  const offer = page.locator('#results .select-all');
  assert.equal(await offer.isVisible(), false, '"Select all matching" waits for the header box');

  await header.check();
  assert.equal(await page.locator('#results input[name=ids]:checked').count(), 25, 'the header ticks the page');
  assert.equal(await count.textContent(), '25 selected');
  assert.equal(await apply.textContent(), 'Apply to 25 selected');
  assert.equal(await offer.isVisible(), true, 'the page ticked offers all matching');
  assert.match(await offer.textContent(), /Select all 27 matching/);

  await rows.nth(3).uncheck();
  assert.equal(await count.textContent(), '24 selected', 'the count is what is ticked');
  assert.equal(await header.evaluate((el) => el.indeterminate), true, 'the header shows a part ticked');
  assert.equal(await offer.isVisible(), false);

  await header.check();
  await page.locator('#results input[data-all-matching]').check();
  assert.equal(await count.textContent(), 'All 27 selected');
  assert.equal(await apply.textContent(), 'Apply to all 27');

  // Only the chosen action's input shows.
  const action = page.locator('#bulk select[name=action]');
  const tag = page.locator('#bulk input[name=tag]');
  const owner = page.locator('#bulk select[name=owner_id]');
  await action.selectOption('change_owner');
  assert.deepEqual([await tag.isVisible(), await owner.isVisible()], [false, true], 'owner only');
  await action.selectOption('delete');
  assert.deepEqual([await tag.isVisible(), await owner.isVisible()], [false, false], 'delete needs neither');
  await action.selectOption('tag');
  assert.deepEqual([await tag.isVisible(), await owner.isVisible()], [true, false], 'tag only');

  await tag.fill('sel27');
  await apply.click();
  await page.waitForURL(/\/contacts\/bulk$/);
  assert.match(await page.locator('main h1').textContent(), /Tag 27 contacts “sel27”\?/, 'the confirmation counts every match');
  await page.locator('main form.buttons button[type=submit]').click();
  await page.waitForURL((u) => u.pathname === '/contacts' && u.searchParams.get('q') === word);
  assert.match(await page.locator('.flash').textContent(), /27 contacts were tagged/);
  await page.goto(`${base}/contacts?q=${word}&tags=sel27`);
  assert.match(await page.locator('#contact-count').textContent(), /^27 contacts/, 'all 27 carry the tag');

  // Nothing ticked: said beside the button; the page, its search and its URL stay.
  const here = page.url();
  state.refusalExpected = true;
  const refused = page.waitForResponse((r) => r.url().endsWith('/contacts/bulk'));
  await page.locator('#bulk [data-apply]').click();
  assert.equal((await refused).status(), 422);
  await page.waitForFunction(() => document.getElementById('bulk-message').textContent.length > 0);
  state.refusalExpected = false;
  assert.match(await page.locator('#bulk-message').textContent(), /^Nothing was changed: first tick the contacts/);
  assert.equal(page.url(), here, 'the address is kept');
  assert.equal(await page.locator('form.filters input[name=q]').inputValue(), word, 'the search is kept');
  await page.locator('#results input[name=ids]').first().check();
  assert.equal(await page.locator('#bulk-message').textContent(), '', 'a tick clears the message');

  // A header sorts: the arrow moves, the URL and the filter form's picker follow.
  const sorted = page.waitForResponse((r) => new URL(r.url()).searchParams.get('sort') === 'name');
  await page.locator('#results th a', { hasText: 'Name' }).click();
  await sorted;
  await page.waitForFunction(() => document.querySelector('#results th[aria-sort="ascending"]'));
  await page.waitForURL((u) => u.searchParams.get('sort') === 'name'); // the sorted URL is pushed
  assert.equal(new URL(page.url()).searchParams.get('q'), word, 'the search is kept');
  // The picker follows once htmx settles the swap, a moment after the table shows.
  await page.waitForFunction(() => document.querySelector('form.filters select[name=sort]').value === 'name');
  const first = await page.locator('#results tbody tr a.name').first().textContent();
  assert.match(first, new RegExp(`${word}00 Sel`), 'A–Z by name');
  await page.locator('#results th a', { hasText: 'Name' }).click();
  await page.waitForFunction(() => document.querySelector('#results th[aria-sort="descending"]'));
  assert.match(await page.locator('#results tbody tr a.name').first().textContent(), new RegExp(`${word}26 Sel`), 'Z–A');
}

run('the contact list: ticks, select-all, bulk bar and sorting', async (state) => {
  await tickSurvivesSearch(state);
  await selectAll(state);
});
