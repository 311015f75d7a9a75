// Settings → Import: an admin uploads a HubSpot contacts export, sees its columns mapped
// by the preset, turns one column into a new custom field, tries a dry run (nothing
// written), imports with the progress bar, reads the report and undoes the import.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node import.js
const assert = require('node:assert/strict');
const { run } = require('./lib');

const base = process.env.BASE;
const stamp = Date.now();
const ROWS = 400;

// A HubSpot contacts export as HubSpot writes it: UTF-8 with a BOM, display labels.
function hubspotContacts() {
  const lines = ['Record ID,First Name,Last Name,Email,Job Title,Favourite Colour'];
  for (let i = 0; i < ROWS; i++) {
    lines.push(`${9000 + i},Zoë${i},Ñúñez,imp${stamp}-${i}@example.com,"Buyer, EMEA",teal`);
  }
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\r\n') + '\r\n')]);
}

// How many contacts the list finds for this run's addresses.
async function imported(page) {
  await page.goto(`${base}/contacts?q=imp${stamp}`);
  return page.locator('table.list tbody tr').count();
}

// The report's line for `kind` as cell texts.
async function reportLine(page, kind) {
  const row = page.locator('#report table.list tbody tr', { hasText: kind }).first();
  return row.locator('td').allInnerTexts();
}

run('import: upload, map, dry run, import with progress, undo', async (state) => {
  const page = state.page;
  await page.goto(base + '/settings/import');
  await page.setInputFiles('#imp-files', {
    name: 'hubspot-contacts.csv', mimeType: 'text/csv', buffer: hubspotContacts(),
  });
  await page.selectOption('#imp-system', 'hubspot');
  await Promise.all([
    page.waitForURL(/\/settings\/import\/\d+$/),
    page.click('form[action="/settings/import"] button[type=submit]'),
  ]);

  const here = page.url();
  const email = page.locator('#file-0 select[name^=col_0_]').nth(3);
  assert.equal(await email.inputValue(), 'field:email', 'the preset maps HubSpot’s Email');
  assert.equal(await page.locator('#kind-0').inputValue(), 'contacts', 'the file holds contacts');
  const colour = page.locator('#file-0 select[name^=col_0_]').nth(5);
  await colour.selectOption('new_custom');

  await page.click('button:text-is("Dry run")');
  await page.locator('#report h2', { hasText: 'Dry run' }).waitFor();
  const dry = await reportLine(page, 'contacts');
  assert.deepEqual(dry.slice(1, 3), [String(ROWS), String(ROWS)], `every row would be created: ${dry}`);
  assert.equal(await page.locator('#file-0 select[name^=col_0_]').nth(5).inputValue(), 'new_custom',
    'the mapping chosen is kept');
  assert.equal(await imported(page), 0, 'a dry run writes nothing');

  await page.goto(here);
  await Promise.all([
    page.waitForURL(/\/settings\/import\/\d+$/),
    page.click('button:text-is("Import")'),
  ]);
  // The bar while the job runs (it may be done before the page shows it), then the report.
  await page.locator('#import-progress progress, #report').first().waitFor();
  await page.locator('#report h2', { hasText: 'Imported' }).waitFor({ timeout: 60000 });
  const done = await reportLine(page, 'contacts');
  assert.deepEqual(done.slice(1, 3), [String(ROWS), String(ROWS)], `every row was created: ${done}`);
  await page.locator('#report h3', { hasText: 'every link points to a record' }).waitFor();
  assert.ok(await imported(page) > 0, 'the contacts are in the list');

  await page.goto(here);
  page.once('dialog', (d) => d.accept());
  await page.click('button:text-is("Undo this import")');
  await page.locator('h1 .badge', { hasText: 'undone' }).waitFor();
  assert.equal(await imported(page), 0, 'undo removed the imported contacts');
});
