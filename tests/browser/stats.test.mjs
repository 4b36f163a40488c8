// The statistics dashboard in headless Chromium on the demo data (`yiqi demo`, a
// year of usage): the commission opens it and every chart draws with data (the
// figures the page shows are the API's), the filters (zone, class, period) redraw
// it and stay in the URL, the page switches to English, the downloads are real
// CSV, and an operator gets the same page for their own institution only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, signIn, waitForPage } from './lib/browser.mjs';
import { cli, tempDir, Client } from '../http/lib/server.mjs';
import { sql } from '../http/lib/bookings-world.mjs';

const COMMISSION_PW = 'demo-commission-2026';
const OPERATOR_PW = 'demo-operator-2026';
const DRAWN = 'main[data-page="/stats"][aria-busy="false"] .stats-charts[data-drawn="all"]';
let app, dir, db, com;

// The default period of the page: the first of the month eleven months ago to tomorrow (local dates).
function defaultRange() {
  const today = new Date(Date.now() + 8 * 3600e3);
  const first = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 11, 1));
  const tomorrow = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1));
  const d = (x) => `${x.toISOString().slice(0, 10)}T00:00:00%2B08:00`;
  return `from=${d(first)}&to=${d(tomorrow)}`;
}
const intText = (n) => new Intl.NumberFormat('zh-CN').format(n);

before(async () => {
  dir = tempDir('yiqi-stats-browser-');
  db = join(dir, 'yiqi.db');
  const r = cli(['demo', '--db', db]);
  if (r.status !== 0) throw new Error(`demo failed: ${r.stderr}`);
  app = await startApp({ server: { db, dir, keep: true } });
  com = new Client(app.url);
  await com.signIn('commission', COMMISSION_PW);
});
after(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function kpiValue(page, label) {
  return (await page.locator('.stats-kpi', { has: page.locator('.stats-kpi-label', { hasText: label }) }).locator('.stats-kpi-value').innerText()).trim();
}

test('the commission\'s dashboard draws every chart with the demo year\'s figures', () => app.run('stats-commission', async (page) => {
  await page.goto(app.url + '/');
  await signIn(page, 'commission', COMMISSION_PW);
  const t0 = Date.now();
  await page.locator('nav').getByRole('link', { name: '统计分析' }).click();
  await page.locator(DRAWN).waitFor({ timeout: 15000 });
  console.log(`# dashboard drawn ${Date.now() - t0} ms after the click (demo data)`);
  const R = defaultRange();
  const sum = (await com.get(`/api/v1/stats/summary?${R}&group_by=zone`)).body;
  assert.ok(sum.totals.used_minutes > 0, 'the demo year has usage');
  assert.equal(await kpiValue(page, '仪器（台套）'), intText(sum.totals.instruments));
  assert.equal(await kpiValue(page, '有效机时（小时）'), intText(Math.round(sum.totals.used_minutes / 60)));
  assert.equal(await kpiValue(page, '对外服务机时（小时）'), intText(Math.round(sum.totals.external_minutes / 60)));
  assert.match(await page.locator('.stats-kpis').innerText(), /全国平均 1,599 小时（2025）/);

  // Every chart is an SVG with marks: bars for the zones, classes and months, bands for the flows.
  for (const id of ['stats-zone', 'stats-class', 'stats-trend', 'stats-flows']) {
    const paths = await page.locator(`#${id} svg path`).count();
    assert.ok(paths >= 4, `${id}: ${paths} SVG paths`);
  }
  const zoneChart = await page.locator('#stats-zone svg').textContent();
  for (const z of sum.items) assert.ok(zoneChart.includes(z.name_zh), `zone chart names ${z.name_zh}`);
  // The trend's reference lines: the national averages per month (1,599 / 12 and 273 / 12).
  const trend = await page.locator('#stats-trend svg').textContent();
  assert.match(trend, /全国平均有效机时 133\.3/);
  assert.match(trend, /全国平均对外服务机时 22\.8/);
  const months = (await com.get(`/api/v1/stats/summary?${R}&group_by=month`)).body.items.map((g) => g.key);
  assert.equal(months.length, 12);
  for (const m of [months[0], months[11]]) assert.ok(trend.includes(m), `trend axis has ${m}`);
  // The Sankey: users' zones on the left, providers' on the right.
  const flows = await page.locator('#stats-flows svg').textContent();
  assert.match(flows, /张江科学城（使用方）/);
  assert.match(flows, /大零号湾科技创新策源功能区（提供方）/);

  // Tables: the top ten by used hours, the idle ones, every institution, the bookings.
  const top = (await com.get(`/api/v1/stats/top?${R}&by=used&limit=10`)).body.items;
  const rows = page.locator('.stats-top tbody tr');
  assert.equal(await rows.count(), 10);
  assert.equal((await rows.first().locator('a').innerText()).trim(), top[0].name_zh);
  assert.equal(await rows.first().locator('a').getAttribute('href'), `#/instruments/${top[0].instrument_id}`);
  const idle = (await com.get('/api/v1/stats/idle?limit=1')).body.total;
  assert.ok(idle > 0);
  await page.locator('.card', { hasText: '闲置仪器' }).getByText(`共 ${intText(idle)} 台`).waitFor();
  const orgs = (await com.get(`/api/v1/stats/summary?${R}&group_by=org`)).body.items;
  assert.equal(await page.locator('.stats-orgs tbody tr').count(), orgs.length);
  assert.equal(await page.locator('.stats-bookings tbody tr').count(), 2);

  // Downloads: the instrument table as CSV, the annual report.
  const csvHref = await page.getByRole('link', { name: '仪器明细（CSV）' }).getAttribute('href');
  let r = await page.request.get(new URL(csvHref, app.url).href);
  assert.equal(r.status(), 200);
  assert.match(r.headers()['content-type'], /^text\/csv/);
  const csv = await r.text();
  assert.equal(csv.replace(/^\uFEFF/, '').trim().split('\r\n').length - 1, sum.totals.instruments, 'one row per instrument');
  const annual = page.locator('.stats-downloads li', { hasText: `${new Date().getFullYear()} 年度报表` }).getByRole('link', { name: 'XLSX' });
  r = await page.request.get(new URL(await annual.getAttribute('href'), app.url).href);
  assert.equal(r.status(), 200);
  assert.match(r.headers()['content-type'], /spreadsheetml/);
  app.assertClean(page);
}));

test('filters redraw the dashboard and stay in the URL; English too', () => app.run('stats-filters', async (page) => {
  await page.goto(app.url + '/');
  await signIn(page, 'commission', COMMISSION_PW);
  await page.goto(`${app.url}/#/stats`);
  await page.locator(DRAWN).waitFor({ timeout: 15000 });
  const R = defaultRange();

  await page.getByLabel('片区', { exact: true }).selectOption('zhangjiang');
  await page.waitForURL(/zone=zhangjiang/);
  await page.locator(DRAWN).waitFor({ timeout: 15000 });
  let sum = (await com.get(`/api/v1/stats/summary?${R}&group_by=zone&zone=zhangjiang`)).body;
  assert.equal(await kpiValue(page, '仪器（台套）'), intText(sum.totals.instruments));
  assert.equal(await page.locator('.stats-bookings tbody tr').count(), 1, 'one zone left');
  // The subtitle names the zone shown, not "all zones".
  await page.locator('.stats-scope', { hasText: '张江科学城 · 全部单位' }).waitFor();
  assert.doesNotMatch(await page.locator('.stats-scope').innerText(), /全部片区/);

  await page.getByLabel('仪器类别', { exact: true }).selectOption('01');
  await page.waitForURL(/class=01/);
  await page.locator(DRAWN).waitFor({ timeout: 15000 });
  sum = (await com.get(`/api/v1/stats/summary?${R}&group_by=zone&zone=zhangjiang&class=01`)).body;
  assert.equal(await kpiValue(page, '仪器（台套）'), intText(sum.totals.instruments));
  assert.ok(sum.totals.instruments > 0);
  await page.locator('.stats-scope', { hasText: '张江科学城 · 全部单位 · 仪器分类：' }).waitFor();

  // A custom period: one month; the trend has one bar group.
  await page.getByLabel('统计期间', { exact: true }).selectOption('custom');
  await page.waitForURL(/period=custom/);
  await page.locator(DRAWN).waitFor({ timeout: 15000 });
  const lastMonth = new Date(Date.now() + 8 * 3600e3);
  const first = new Date(Date.UTC(lastMonth.getUTCFullYear(), lastMonth.getUTCMonth() - 1, 1)).toISOString().slice(0, 10);
  const last = new Date(Date.UTC(lastMonth.getUTCFullYear(), lastMonth.getUTCMonth(), 0)).toISOString().slice(0, 10);
  await page.getByLabel('开始日期').fill(first);
  await page.getByLabel('开始日期').dispatchEvent('change');
  await page.waitForURL(new RegExp(`from=${first}`));
  await page.locator(DRAWN).waitFor({ timeout: 15000 });
  await page.getByLabel('结束日期（含）').fill(last);
  await page.getByLabel('结束日期（含）').dispatchEvent('change');
  await page.waitForURL(new RegExp(`to=${last}`));
  await page.locator(DRAWN).waitFor({ timeout: 15000 });
  await page.locator('.stats-scope', { hasText: `${first} 至 ${last}` }).waitFor();
  const month = (await com.get(`/api/v1/stats/summary?from=${first}T00:00:00%2B08:00&to=${new Date(Date.parse(last) + 86400e3).toISOString().slice(0, 10)}T00:00:00%2B08:00&group_by=zone&zone=zhangjiang&class=01`)).body;
  assert.equal(await kpiValue(page, '有效机时（小时）'), intText(Math.round(month.totals.used_minutes / 60)));

  // Reload keeps the filters; English relabels everything.
  await page.reload();
  await page.locator(DRAWN).waitFor({ timeout: 15000 });
  assert.equal(await page.getByLabel('片区', { exact: true }).inputValue(), 'zhangjiang');
  await page.locator('header').getByRole('button', { name: 'English' }).click();
  await page.locator(DRAWN).waitFor({ timeout: 15000 });
  await page.locator('h1', { hasText: 'Statistics' }).waitFor();
  assert.match(await page.locator('#stats-zone svg').textContent(), /Utilisation/);
  assert.match(await page.locator('#stats-trend svg').textContent(), /National effective hours 133\.3/);
  app.assertClean(page);
}));

test('an operator sees the same dashboard for their own institution only', () => app.run('stats-operator', async (page) => {
  const [login, orgId, orgName] = sql(db, `SELECT u.login, u.org_id, o.name_zh FROM users u JOIN orgs o ON o.id = u.org_id
    WHERE u.login LIKE 'op.%' ORDER BY u.id LIMIT 1`).split('|');
  const op = new Client(app.url);
  await op.signIn(login, OPERATOR_PW);
  await page.goto(app.url + '/');
  await signIn(page, login, OPERATOR_PW);
  await page.locator('nav').getByRole('link', { name: '统计分析' }).click();
  await waitForPage(page, '/stats');
  await page.locator(DRAWN).waitFor({ timeout: 15000 });
  await page.locator('.stats-scope', { hasText: `本单位：${orgName}` }).waitFor();
  assert.equal(await page.getByLabel('片区', { exact: true }).count(), 0, 'no zone filter for an operator');
  const R = defaultRange();
  const mine = (await op.get(`/api/v1/stats/summary?${R}&group_by=org`)).body;
  assert.deepEqual(mine.items.map((g) => g.id), [Number(orgId)]);
  assert.equal(await kpiValue(page, '仪器（台套）'), intText(mine.totals.instruments));
  const all = (await com.get(`/api/v1/stats/summary?${R}&group_by=org`)).body;
  assert.ok(mine.totals.instruments < all.totals.instruments);
  assert.equal(await page.locator('.stats-orgs tbody tr').count(), 1);
  // Every instrument in the top list is the institution's own.
  const top = (await op.get(`/api/v1/stats/top?${R}&by=used&limit=10`)).body.items;
  assert.ok(top.every((i) => i.org_id === Number(orgId)));
  assert.equal(await page.locator('.stats-top tbody tr').count(), top.length);
  // The flows into the institution's zone only.
  const flows = await page.locator('#stats-flows svg').textContent();
  const zone = sql(db, `SELECT z.name_zh FROM orgs o JOIN zones z ON z.id = o.zone_id WHERE o.id = ${orgId}`);
  assert.ok(flows.includes(`${zone}（提供方）`));
  app.assertClean(page);
}));
