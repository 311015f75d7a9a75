// The contact form against duplicates, in a real browser: the Company field suggests an
// existing company as you type (any case, and by the email's domain), says when saving
// would create a new company, and saving a differently written name links the existing
// one; typing another contact's email warns with a link.
// Usage: BASE=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node contact_form.js
const assert = require('node:assert/strict');
const { run } = require('./lib');

const base = process.env.BASE;

run('company suggestions and the new-company note on the contact form', async (state) => {
  const page = state.page;
  const tag = Date.now().toString(36);
  const company = `Northwind${tag} Traders, Inc.`;
  await page.goto(base + '/companies/new');
  await page.fill('input[name=name]', company);
  await page.fill('input[name=domain]', `nw${tag}.test`);
  await page.click('main form button[type=submit]');
  await page.waitForURL(/\/companies\/\d+$/);

  await page.goto(base + '/contacts/new');
  await page.fill('#f-first_name', 'Ann');
  await page.fill('#f-last_name', `Lee${tag}`);
  // A word of the name, in lower case: suggested, and saving it would add a company.
  await page.locator('#f-company').pressSequentially(`northwind${tag}`, { delay: 20 });
  await page.waitForFunction(() => document.querySelectorAll('#company-options option').length > 0);
  const suggested = await page.locator('#company-options option').first().getAttribute('value');
  assert.match(suggested, new RegExp(`^Northwind${tag} Traders, Inc\\. \\(#\\d+\\)$`));
  const note = page.locator('#company-note');
  await note.getByText('creates a new company').waitFor();
  assert.match(await note.innerText(), new RegExp(`creates a new company “northwind${tag}”`));

  // The whole name in other case and punctuation means the existing company.
  await page.fill('#f-company', '');
  await page.locator('#f-company').pressSequentially(`NORTHWIND${tag} traders inc`, { delay: 10 });
  await note.getByText('Links to').waitFor();
  assert.match(await note.innerText(), new RegExp(`Links to Northwind${tag} Traders, Inc\\.`));

  // With no company typed, the email's domain suggests it.
  await page.fill('#f-company', '');
  await page.fill('#f-email', `ann@nw${tag}.test`);
  await page.evaluate(() => { document.querySelector('#company-options').innerHTML = ''; });
  await page.focus('#f-company');
  await page.waitForFunction(() => document.querySelectorAll('#company-options option').length > 0);
  assert.equal(await page.locator('#company-options option').first().getAttribute('value'), suggested);

  // Saving the typed spelling links the existing company rather than adding one.
  await page.fill('#f-company', `northwind${tag} traders`);
  await page.click('main form button[type=submit]');
  await page.waitForURL(/\/contacts\/\d+$/);
  const companyLink = page.locator('dl.details a[href^="/companies/"]');
  assert.equal(await companyLink.innerText(), company);

  // Typing that contact's email in a new form warns, with a link to them.
  await page.goto(base + '/contacts/new');
  await page.locator('#f-email').pressSequentially(`ANN@nw${tag}.test`, { delay: 10 });
  const warning = page.locator('#email-note a');
  await warning.waitFor();
  assert.equal(await warning.innerText(), `open Ann Lee${tag}`);
});
