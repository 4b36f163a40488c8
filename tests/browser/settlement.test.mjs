// Monthly settlement in headless Chromium on the demo data (`yiqi demo`, a year of
// usage): an operator confirms and disputes lines of their institution; the
// commission builds last month's statement, sees its totals, the zone-to-zone flow
// chart, the lines 50 to a page with filters and the net positions, downloads it as CSV
// and XLSX, and closes the month; a month with a disputed line cannot be closed, and the
// commission reads what clears the dispute.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, signIn, openPage, waitForPage } from './lib/browser.mjs';
import { cli, tempDir, Client } from '../http/lib/server.mjs';
import { sql } from '../http/lib/bookings-world.mjs';

const COMMISSION_PW = 'demo-commission-2026';
const OPERATOR_PW = 'demo-operator-2026';
let app, dir, db, api;

// The local month k months before now, "YYYY-MM".
function month(k) {
  const now = new Date(Date.now() + 8 * 3600e3);
  let y = now.getUTCFullYear();
  let m = now.getUTCMonth() - k;
  while (m < 0) { m += 12; y -= 1; }
  return `${y}-${String(m + 1).padStart(2, '0')}`;
}
const LAST = month(1);
const EARLIER = month(2);

before(async () => {
  dir = tempDir('yiqi-settle-browser-');
  db = join(dir, 'yiqi.db');
  const r = cli(['demo', '--db', db]);
  if (r.status !== 0) throw new Error(`demo failed: ${r.stderr}`);
  app = await startApp({ server: { db, dir, keep: true } });
  api = new Client(app.url);
  await api.signIn('commission', COMMISSION_PW);
});
after(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('an operator confirms and disputes their institution\'s lines; a disputed month cannot be closed', () => app.run('settlement-operator', async (page) => {
  let r = await api.post('/api/v1/settlements', { period: EARLIER });
  assert.equal(r.status, 201, r.text);
  // An operator of an institution that provides and pays in that month.
  const [login, orgId] = sql(db, `SELECT u.login, u.org_id FROM users u JOIN settlement_lines l ON l.provider_org_id = u.org_id
    WHERE l.period = '${EARLIER}' AND u.login LIKE 'op.%' AND l.payer_org_id != u.org_id ORDER BY u.id LIMIT 1`).split('|');
  const mine = r.body.lines.filter((l) => l.provider_org_id === Number(orgId) || l.payer_org_id === Number(orgId));
  const provided = mine.filter((l) => l.provider_org_id === Number(orgId));

  await page.goto(app.url + '/');
  await signIn(page, login, OPERATOR_PW);
  await openPage(page, app.url, `/settlement?period=${EARLIER}`, '/settlement');
  await page.getByText('本单位相关的结算明细').waitFor();
  const rows = page.locator('.settlement-lines tbody tr');
  assert.equal(await page.locator('.settlement-chart').count(), 0, 'no zone flows for an operator');
  // The record count in the head is the period's, over every institution, and says so.
  await page.locator('.settlement-head').getByText(`本期全部机构的上机记录数 ${r.body.records.toLocaleString('zh-CN')}`).waitFor();
  // By default an operator sees the lines their institution provided (the ones they confirm), a page at a time.
  assert.equal(await page.getByLabel('本单位的角色').inputValue(), 'provider');
  assert.equal(await rows.count(), Math.min(50, provided.length), 'the lines the institution provided');
  await page.locator('.settlement-count', { hasText: `筛选后 ${provided.length} 条（共 ${mine.length} 条）` }).waitFor();
  assert.equal(await page.locator('.settlement-lines').getByRole('button', { name: '确认', exact: true }).count(), Math.min(50, provided.length));
  // "All lines of the institution" shows those where it pays too (without confirm buttons).
  await page.getByLabel('本单位的角色').selectOption('mine');
  await page.getByRole('button', { name: '筛选' }).click();
  await page.locator('.settlement-count', { hasText: `筛选后 ${mine.length} 条（共 ${mine.length} 条）` }).waitFor();
  await waitForPage(page, '/settlement');
  assert.equal(await rows.count(), Math.min(50, mine.length), 'only the lines of the operator\'s institution');
  assert.ok(mine.length > provided.length, 'the institution also pays others');
  await page.getByLabel('本单位的角色').selectOption('provider');
  await page.getByRole('button', { name: '筛选' }).click();
  await page.locator('.settlement-count', { hasText: `筛选后 ${provided.length} 条` }).waitFor();
  await waitForPage(page, '/settlement');

  await page.locator('.settlement-lines').getByRole('button', { name: '确认', exact: true }).first().click();
  await page.locator('.settlement-lines .badge', { hasText: '已确认' }).first().waitFor();
  await page.locator('.settlement-lines tr.line-open').getByRole('button', { name: '提出异议' }).first().click();
  const dialog = page.locator('dialog');
  // The dialog says what ends a dispute: confirming the line again (not "the commission handles it").
  assert.match(await dialog.innerText(), /重新点击“确认”即可解除异议/);
  assert.doesNotMatch(await dialog.innerText(), /科委处理前/);
  await dialog.getByLabel(/^异议原因/).fill('10 月 3 日的使用属于维修调试，不应计费');
  await dialog.getByRole('button', { name: '提出异议' }).click();
  await page.locator('.settlement-lines tr.line-disputed').getByText('10 月 3 日的使用属于维修调试，不应计费').waitFor();

  r = await api.get(`/api/v1/settlements/${EARLIER}`);
  assert.equal(r.body.counts.confirmed, 1);
  assert.equal(r.body.counts.disputed, 1);
  const disputed = r.body.lines.find((l) => l.state === 'disputed');
  assert.equal(disputed.provider_org_id, Number(orgId));
  r = await api.post(`/api/v1/settlements/${EARLIER}/close`);
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'disputed_lines');
  app.assertClean(page);
}));

test('the commission builds last month\'s statement, filters it, downloads it and closes the month', () => app.run('settlement-commission', async (page) => {
  await page.goto(app.url + '/');
  await signIn(page, 'commission', COMMISSION_PW);
  await page.locator('nav').getByRole('link', { name: '月度结算' }).click();
  await waitForPage(page, '/settlement');

  // Build last month's statement from the picker.
  await page.getByLabel(/^月份/).fill(LAST);
  await page.getByRole('button', { name: '生成结算单' }).click();
  await page.locator('h1', { hasText: `月度结算 · ${LAST}` }).waitFor();
  await waitForPage(page, '/settlement');
  const st = (await api.get(`/api/v1/settlements/${LAST}`)).body;
  assert.equal(st.status, 'draft');
  assert.ok(st.lines.length > 10, 'the demo month has many lines');

  // Totals, the chart and the tables show the statement.
  const fee = `¥${new Intl.NumberFormat('en-US').format(Math.floor(st.totals.fee_fen / 100))}.${String(st.totals.fee_fen % 100).padStart(2, '0')}`;
  await page.locator('.settlement-totals', { hasText: fee }).waitFor();
  await page.locator('.settlement-chart svg').waitFor();
  assert.ok(await page.locator('.settlement-chart svg path').count() >= st.zone_flows.length, 'one band per zone flow');
  // The lines come 50 to a page with a pager; the totals above are the whole statement's.
  const pages = Math.ceil(st.lines.length / 50);
  assert.ok(pages >= 2, 'the demo month needs more than one page');
  const lineRows = page.locator('.settlement-lines tbody tr');
  assert.equal(await lineRows.count(), 50);
  await page.locator('.settlement-count', { hasText: `第 1–50 条，筛选后 ${st.lines.length} 条（共 ${st.lines.length} 条）` }).waitFor();
  await page.locator('.settlement-pager', { hasText: `第 1 / ${pages} 页` }).waitFor();
  assert.ok(await page.locator('.settlement-pager .pager-prev').isDisabled());
  const lineText = (l) => `${l.provider_org_code})`;
  assert.ok((await lineRows.first().innerText()).includes(lineText(st.lines[0])));
  // Zones by name, not code.
  const zoneCell = await lineRows.first().locator('td.settlement-zones').innerText();
  assert.match(zoneCell, /大零号湾|张江/);
  assert.doesNotMatch(zoneCell, /neobay|zhangjiang/);
  await page.locator('.settlement-pager .pager-next').click();
  await page.locator('.settlement-count', { hasText: `第 51–${Math.min(100, st.lines.length)} 条` }).waitFor();
  await page.locator('.settlement-pager', { hasText: `第 2 / ${pages} 页` }).waitFor();
  assert.ok((await lineRows.first().innerText()).includes(lineText(st.lines[50])), 'page 2 starts with line 51');
  assert.match(page.url(), /[?&]page=2/);
  await page.locator('.settlement-totals', { hasText: fee }).waitFor();
  const orgs = st.net_positions.filter((n) => n.org_id).length;
  assert.equal(await page.locator('.settlement-net tbody tr').count(), orgs + 1, 'every institution and the voucher fund');

  // Filters: the zone of the payer or provider, then an institution.
  await page.getByLabel('片区筛选').selectOption('zhangjiang');
  await page.getByRole('button', { name: '筛选' }).click();
  await waitForPage(page, '/settlement');
  const zj = st.lines.filter((l) => l.provider_zone === 'zhangjiang' || l.payer_zone === 'zhangjiang');
  await page.locator('.settlement-count', { hasText: `第 1–${Math.min(50, zj.length)} 条，筛选后 ${zj.length} 条（共 ${st.lines.length} 条）` }).waitFor();
  const code = st.lines[0].provider_org_code;
  await page.getByLabel('片区筛选').selectOption('');
  await page.getByLabel('单位筛选').fill(code);
  await page.getByRole('button', { name: '筛选' }).click();
  const byOrg = st.lines.filter((l) => l.provider_org_code === code || l.payer_org_code === code);
  await page.locator('.settlement-count', { hasText: `筛选后 ${byOrg.length} 条（共 ${st.lines.length} 条）` }).waitFor();
  await waitForPage(page, '/settlement');
  assert.equal(await page.locator('.settlement-lines tbody tr').count(), Math.min(50, byOrg.length));

  // Both downloads answer with the files.
  for (const [name, type] of [['下载 CSV', 'text/csv'], ['下载 Excel (XLSX)', 'spreadsheetml']]) {
    const href = await page.getByRole('link', { name }).getAttribute('href');
    const got = await page.evaluate(async (u) => {
      const res = await fetch(u);
      const buf = new Uint8Array(await res.arrayBuffer());
      return { status: res.status, type: res.headers.get('content-type'), size: buf.length };
    }, href);
    assert.equal(got.status, 200);
    assert.ok(got.type.includes(type), got.type);
    assert.ok(got.size > 1000);
  }

  // Close the month.
  await page.getByRole('button', { name: '关闭结算期' }).click();
  await page.locator('dialog').getByRole('button', { name: '关闭结算期' }).click();
  await page.locator('.settlement-head .badge', { hasText: '已关闭' }).waitFor();
  await waitForPage(page, '/settlement');
  assert.equal(await page.getByRole('button', { name: '关闭结算期' }).count(), 0);
  const closed = (await api.get(`/api/v1/settlements/${LAST}`)).body;
  assert.equal(closed.status, 'closed');
  assert.deepEqual(closed.totals, st.totals);
  // The picker lists both months now.
  const options = await page.getByLabel(/^结算期/).locator('option').allTextContents();
  assert.ok(options.includes(`${LAST} · 已关闭`) && options.includes(`${EARLIER} · 草稿`), options.join(', '));

  // The earlier month has the operator's disputed line: the commission reads what clears it.
  await openPage(page, app.url, `/settlement?period=${EARLIER}&state=disputed`, '/settlement');
  await page.locator('.settlement-lines tr.line-disputed .dispute-hint', { hasText: '待提供方重新确认' }).waitFor();
  await page.locator('.banner-warning', { hasText: '由提供方单位的仪器管理员核实后重新确认即解除' }).waitFor();

  // English too.
  await page.locator('header').getByRole('button', { name: 'English' }).click();
  await page.locator('h1', { hasText: `Monthly settlement · ${EARLIER}` }).waitFor();
  await page.getByRole('link', { name: 'Download Excel (XLSX)' }).waitFor();
  app.assertClean(page);
}));
