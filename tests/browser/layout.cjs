// Every review page on a phone (390×844) and at a desk (1280×900), in headless Chromium driven
// by playwright-core, with axe-core run in each page. Started by tests/e2e/browser.rs:
//   node layout.cjs CONFIG.json
// with {base, password, record, enterprise, screenshot_dir}. It measures and prints one JSON line;
// the Rust test decides what is right. Screenshots go to screenshot_dir as NAME-WIDTH.png.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require(process.env.ANJIAN_PLAYWRIGHT);

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const base = config.base;
const axeSource = fs.readFileSync(path.join(process.env.ANJIAN_AXE, 'axe.min.js'), 'utf8');

const SIZES = [
  { width: 390, height: 844 },
  { width: 1280, height: 900 },
];

const PAGES = [
  ['records', '/review/records'],
  ['record', `/review/records/${config.record}`],
  ['enterprises', '/review/enterprises'],
  ['enterprise', `/review/enterprises/${config.enterprise}`],
  ['hazards', '/review/hazards'],
  ['alerts', '/review/alerts'],
  ['analysis-hazards', '/review/analyses/hazards?by=district'],
  ['analysis-hazards-month', '/review/analyses/hazards?by=month'],
  ['self-inspections', '/review/analyses/self-inspections'],
  ['public', '/review/analyses/public'],
  ['attendance', '/review/analyses/attendance'],
  ['coverage', '/review/analyses/coverage'],
  ['grading', '/review/analyses/grading'],
  ['certificates', '/review/analyses/certificates'],
  ['permits', '/review/analyses/permits'],
];

// What one page looks like, measured inside it.
function measure() {
  const root = document.documentElement;
  // The header's lines: every piece of its visible text, grouped by where its line sits.
  // A word that wraps ("退/出") gives two pieces on two lines.
  const header = document.querySelector('header.top');
  const centres = [];
  if (header) {
    const walker = document.createTreeWalker(header, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const rect of range.getClientRects()) {
        if (rect.width > 0 && rect.height > 0) centres.push(rect.top + rect.height / 2);
      }
    }
  }
  centres.sort((a, b) => a - b);
  let lines = 0;
  let last = -Infinity;
  for (const centre of centres) {
    // Pieces of one line may differ in size (the bold title), never by half a line.
    if (centre - last > 10) lines += 1;
    last = centre;
  }
  // The smallest letter drawn in a chart, in CSS pixels on the screen.
  let smallest = null;
  for (const text of document.querySelectorAll('svg text')) {
    if (!text.textContent.trim()) continue;
    const ctm = text.getScreenCTM();
    const scale = Math.sqrt(Math.abs(ctm.a * ctm.d - ctm.b * ctm.c));
    const size = parseFloat(getComputedStyle(text).fontSize) * scale;
    if (smallest === null || size < smallest) smallest = size;
  }
  // Cells whose code or date broke over two lines, or whose text runs out of the cell.
  const broken = [];
  for (const cell of document.querySelectorAll('td.mono, td.nowrap, td.num')) {
    const range = document.createRange();
    range.selectNodeContents(cell);
    const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
    if (tops.size > 1) broken.push(cell.textContent);
  }
  // Cells whose text runs out of them over the next column.
  for (const cell of document.querySelectorAll('td, th')) {
    if (cell.scrollWidth > cell.clientWidth + 1) broken.push(`overflowing: ${cell.textContent}`);
  }
  // What the header had to hide: links scrolled out of the bar, an account name cut short.
  const hidden = (selector) => {
    const element = header?.querySelector(selector);
    return element ? element.scrollWidth - element.clientWidth : null;
  };
  return {
    nav_hidden: hidden('nav'),
    who_hidden: hidden('.who'),
    scroll_width: root.scrollWidth,
    client_width: root.clientWidth,
    header_lines: header ? lines : null,
    smallest_chart_text: smallest,
    broken_cells: broken,
    text: document.body.innerText,
    icon: document.querySelector('link[rel=icon]')?.getAttribute('href') ?? null,
    donut: [...document.querySelectorAll('svg[data-chart=pie] .slice')].map((slice) => [
      slice.dataset.key,
      slice.getAttribute(slice.tagName === 'circle' ? 'stroke' : 'fill'),
    ]),
  };
}

async function visit(page, name, width, pathname) {
  const response = await page.goto(`${base}${pathname}`);
  const seen = { name, width, path: pathname, status: response.status(), ...(await page.evaluate(measure)) };
  // axe-core is put into the page by the test (the context bypasses the page's CSP for it).
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => axe.run(document, { resultTypes: ['violations'] }));
  seen.violations = result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
  }));
  await page.screenshot({ path: path.join(config.screenshot_dir, `${name}-${width}.png`), fullPage: true });
  return seen;
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.ANJIAN_CHROMIUM });
  const pages = [];
  let favicon = null;
  try {
    fs.mkdirSync(config.screenshot_dir, { recursive: true });
    for (const size of SIZES) {
      const context = await browser.newContext({
        viewport: size,
        locale: 'zh-CN',
        bypassCSP: true,
        isMobile: size.width < 600,
        hasTouch: size.width < 600,
      });
      const page = await context.newPage();
      page.setDefaultTimeout(15000);
      pages.push(await visit(page, 'login', size.width, '/review/login'));
      await page.getByLabel('账号').fill('city');
      await page.getByLabel('密码').fill(config.password);
      await Promise.all([
        page.waitForURL('**/review/records'),
        page.getByRole('button', { name: '登录' }).click(),
      ]);
      for (const [name, pathname] of PAGES) {
        pages.push(await visit(page, name, size.width, pathname));
      }
      if (!favicon) {
        const response = await page.request.get(`${base}/favicon.ico`);
        favicon = { status: response.status(), type: response.headers()['content-type'], body: (await response.text()).slice(0, 200) };
      }
      await context.close();
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify({ pages, favicon }));
})().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
