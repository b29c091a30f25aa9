// Cross-site request forgery against the review forms in a real headless Chromium, driven by
// playwright-core. Started by the Rust test tests/e2e/browser.rs:
//   node csrf.cjs CONFIG.json
// with {base, password, alert_id}. A supervisor logs in; a page served from another port of the
// same host (the same "site", so the SameSite=Strict cookie rides along) then posts the
// acknowledge, logout and login forms; finally the supervisor acknowledges the alert through
// the real page. It prints one JSON line with what it saw.
'use strict';

const fs = require('fs');
const http = require('http');
const { chromium } = require(process.env.ANJIAN_PLAYWRIGHT);

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const base = config.base;
const seen = {};

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// An attacker's page: a form that posts itself to `action` as soon as it loads.
function evilPage(action, fields) {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
    .join('');
  return `<!DOCTYPE html><html><body><form id="f" method="post" action="${action}">${inputs}</form>` +
    `<script>document.getElementById('f').submit();</script></body></html>`;
}

async function forged(page, evilBase, name, action) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(`${base}${action.split('?')[0]}`) && r.request().method() === 'POST'),
    page.goto(`${evilBase}/${name}`),
  ]);
  seen[`forged_${name}`] = response.status();
}

(async () => {
  const acknowledge = `/review/alerts/${encodeURIComponent(config.alert_id)}/acknowledge?page=1`;
  const pages = {
    acknowledge: evilPage(`${base}${acknowledge}`, { confirm: 'checked-on-site' }),
    logout: evilPage(`${base}/review/logout`, {}),
    login: evilPage(`${base}/review/login`, { login: 'city', password: config.password }),
  };
  const evil = http.createServer((request, response) => {
    const page = pages[request.url.slice(1)];
    response.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    response.end(page || '');
  });
  await new Promise((resolve) => evil.listen(0, '127.0.0.1', resolve));
  const evilBase = `http://127.0.0.1:${evil.address().port}`;
  expect(evilBase !== base, 'the attacker is on another port');

  const browser = await chromium.launch({ executablePath: process.env.ANJIAN_CHROMIUM });
  try {
    const context = await browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    page.setDefaultTimeout(10000);
    await page.goto(`${base}/review/login`);
    await page.getByLabel('账号').fill('city');
    await page.getByLabel('密码').fill(config.password);
    await Promise.all([
      page.waitForURL('**/review/records'),
      page.getByRole('button', { name: '登录' }).click(),
    ]);

    await forged(page, evilBase, 'acknowledge', acknowledge);
    await forged(page, evilBase, 'logout', '/review/logout');
    await forged(page, evilBase, 'login', '/review/login');
    seen.forged_message = await page.textContent('.message.error');

    // Still logged in; the alert is still waiting.
    await page.goto(`${base}/review/alerts`);
    seen.still_logged_in = new URL(page.url()).pathname === '/review/alerts';
    const row = `#alerts tr[data-alert="${config.alert_id}"]`;
    seen.waiting_after_forgery = (await page.$$(`${row} button`)).length === 1;

    // The button alone does nothing: the browser asks for the box first.
    await page.click(`${row} button`);
    await page.waitForTimeout(300);
    seen.unticked_stays = new URL(page.url()).pathname === '/review/alerts' &&
      (await page.$$(`${row} button`)).length === 1;
    seen.checkbox_label = await page.textContent(`${row} form label`);

    await page.check(`${row} input[name=confirm]`);
    await Promise.all([
      page.waitForURL('**/review/alerts?page=1'),
      page.click(`${row} button`),
    ]);
    seen.acknowledged_cell = await page.textContent(`${row} > td:last-child`);
    await context.close();
  } finally {
    await browser.close();
    evil.close();
  }
  console.log(JSON.stringify(seen));
})().catch((error) => {
  console.error(error.stack || String(error));
  console.log(JSON.stringify(seen));
  process.exit(1);
});
