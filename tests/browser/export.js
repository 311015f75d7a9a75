// Taking data out, in a real browser: an admin downloads a person's data from their
// contact page (JSON with their fields), erases them after typing the word (a wrong
// word is refused, the right one removes them), and downloads the whole workspace from
// Settings → Export (a ZIP holding workspace.json and a CSV per record type).
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node export.js
const assert = require('node:assert/strict');
const fs = require('node:fs/promises');
const { run } = require('./lib');

const base = process.env.BASE;

// What clicking `selector` downloads: its suggested name and its bytes.
async function download(page, selector) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  return { name: d.suggestedFilename(), bytes: await fs.readFile(await d.path()) };
}

run('personal data export, erase with a typed word, workspace export', async (state) => {
  const page = state.page;
  const tag = Date.now().toString(36);
  const email = `gdpr${tag}@example.com`;
  await page.goto(base + '/contacts/new');
  await page.fill('#f-first_name', 'Zelda');
  await page.fill('#f-last_name', `Quill${tag}`);
  await page.fill('#f-email', email);
  await page.click('main form button[type=submit]');
  await page.waitForURL(/\/contacts\/\d+$/);
  const contactUrl = page.url();

  const data = await download(page, 'a:text-is("Export personal data")');
  assert.match(data.name, /\.json$/, `a JSON file: ${data.name}`);
  assert.equal(JSON.parse(data.bytes.toString('utf8')).contact.email, email, 'their data');

  await page.click('a:text-is("Erase…")');
  await page.waitForURL(/\/erase$/);
  state.refusalExpected = true;
  await page.fill('#confirm', 'yes');
  await page.click('button:text-is("Erase this person")');
  await page.locator('#confirm-error').waitFor();
  assert.equal(await page.locator('#confirm').getAttribute('aria-invalid'), 'true', 'the field is marked');
  await page.fill('#confirm', 'ERASE');
  await Promise.all([page.waitForURL(/\/contacts$/), page.click('button:text-is("Erase this person")')]);
  const gone = await page.goto(contactUrl);
  assert.equal(gone.status(), 404, 'the contact is gone');
  state.refusalExpected = false;

  await page.goto(base + '/settings/export');
  const zip = await download(page, 'button:text-is("Download the export")');
  assert.match(zip.name, /\.zip$/, `a ZIP file: ${zip.name}`);
  assert.equal(zip.bytes.subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'a ZIP archive');
  // Entry names are stored uncompressed in the archive's directory.
  for (const entry of ['workspace.json', 'contacts.csv', 'deals.csv', 'activities.csv']) {
    assert.ok(zip.bytes.includes(entry), `the ZIP holds ${entry}`);
  }
});
