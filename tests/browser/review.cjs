// The review pages in a real headless Chromium, driven by playwright-core. Started by the Rust
// test tests/e2e/browser.rs, which seeds the server and passes what it seeded:
//   node review.cjs CONFIG.json
// with {base, password, town_record, foreign_record, foreign_district, download_dir}.
// It prints one JSON line with what it saw; any failed expectation exits non-zero with the reason.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require(process.env.ANJIAN_PLAYWRIGHT);

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const base = config.base;
const seen = { left_origin: [] };

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

async function login(browser, account) {
  const context = await browser.newContext({ acceptDownloads: true, locale: 'zh-CN' });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  // Nothing may be fetched from anywhere but the server: the pages run on an intranet.
  page.on('request', (request) => {
    if (!request.url().startsWith(base) && !request.url().startsWith('data:')) {
      seen.left_origin.push(request.url());
    }
  });
  await page.goto(`${base}/review/records`);
  expect(page.url().startsWith(`${base}/review/login`), `not sent to the login page: ${page.url()}`);
  await page.getByLabel('账号').fill(account);
  await page.getByLabel('密码').fill(config.password);
  await Promise.all([
    page.waitForURL('**/review/records'),
    page.getByRole('button', { name: '登录' }).click(),
  ]);
  return { context, page };
}

async function listedRecords(page) {
  return page.$$eval('#records tbody tr', (rows) => rows.map((row) => row.dataset.record));
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.ANJIAN_CHROMIUM });
  try {
    // A wrong password keeps the login page with the reason.
    {
      const context = await browser.newContext({ locale: 'zh-CN' });
      const page = await context.newPage();
      await page.goto(`${base}/review/login`);
      await page.getByLabel('账号').fill('town');
      await page.getByLabel('密码').fill('not-the-password');
      await page.getByRole('button', { name: '登录' }).click();
      await page.waitForSelector('.message.error');
      seen.wrong_password = await page.textContent('.message.error');
      await context.close();
    }

    // The town supervisor sees the town's record and not the other district's.
    const town = await login(browser, 'town');
    seen.town_who = await town.page.textContent('#who');
    seen.town_records = await listedRecords(town.page);
    const foreign = await town.page.goto(`${base}/review/records/${config.foreign_record}`);
    seen.town_foreign_status = foreign.status();
    const foreignPdf = await town.page.request.get(
      `${base}/review/records/${config.foreign_record}/documents/record/pdf`,
    );
    seen.town_foreign_pdf_status = foreignPdf.status();

    // The record: receipt verified, hazards, documents, and the PDF downloaded.
    await town.page.goto(`${base}/review/records`);
    await Promise.all([
      town.page.waitForURL(`**/review/records/${config.town_record}`),
      town.page.click(`#records tr[data-record="${config.town_record}"] a`),
    ]);
    seen.record_title = await town.page.textContent('h1');
    seen.receipt_check = await town.page.textContent('#receipt-check');
    seen.hazard_rows = await town.page.$$eval('#hazards tbody tr', (rows) =>
      rows.map((row) => Array.from(row.cells).map((cell) => cell.textContent)),
    );
    seen.answer_count = await town.page.$$eval('#answers tbody tr', (rows) => rows.length);
    seen.documents = await town.page.$$eval('#documents tbody tr', (rows) =>
      rows.map((row) => [row.cells[0].textContent, row.cells[1].textContent]),
    );
    const [download] = await Promise.all([
      town.page.waitForEvent('download', { timeout: 10000 }),
      town.page.click('#documents a.pdf'),
    ]);
    seen.pdf_name = download.suggestedFilename();
    seen.pdf_file = path.join(config.download_dir, 'downloaded.pdf');
    await download.saveAs(seen.pdf_file);

    // After logging out, the pages ask for a login again.
    await Promise.all([
      town.page.waitForURL('**/review/login'),
      town.page.getByRole('button', { name: '退出' }).click(),
    ]);
    await town.page.goto(`${base}/review/records`);
    seen.after_logout = new URL(town.page.url()).pathname;
    await town.context.close();

    // The city supervisor sees both districts.
    const city = await login(browser, 'city');
    seen.city_records = await listedRecords(city.page);
    // Filtering by a district keeps that district's records; adding a kind with none empties it
    // (after the analysis below).
    // The hazard analysis by district: a bar per table row, carrying the row's count, and the
    // Excel export of the same table.
    await city.page.goto(`${base}/review/analyses/hazards?by=district`);
    seen.analysis_rows = await city.page.$$eval('#analysis tbody tr', (rows) =>
      rows.map((row) => [row.cells[0].textContent, Number(row.cells[2].textContent)]),
    );
    seen.analysis_bars = await city.page.$$eval('svg[data-chart=bar] rect.bar', (bars) =>
      bars.map((bar) => [bar.dataset.key, Number(bar.dataset.value), bar.getBBox().height]),
    );
    const [workbook] = await Promise.all([
      city.page.waitForEvent('download', { timeout: 10000 }),
      city.page.click('#export-xlsx'),
    ]);
    seen.xlsx_name = workbook.suggestedFilename();
    seen.xlsx_file = path.join(config.download_dir, 'analysis.xlsx');
    await workbook.saveAs(seen.xlsx_file);
    await city.page.goto(`${base}/review/records`);

    await city.page.selectOption('select[name=region]', config.foreign_district);
    await Promise.all([
      city.page.waitForURL(/region=/),
      city.page.click('#filters button[type=submit]'),
    ]);
    seen.city_district_records = await listedRecords(city.page);
    await city.page.check('input[name=kind][value=self]');
    await Promise.all([
      city.page.waitForURL(/kind=self/),
      city.page.click('#filters button[type=submit]'),
    ]);
    seen.city_self_records = await listedRecords(city.page);
    seen.city_self_message = await city.page.textContent('#no-records');
    await city.context.close();
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(seen));
})().catch((error) => {
  console.error(error.stack || String(error));
  console.log(JSON.stringify(seen));
  process.exit(1);
});
