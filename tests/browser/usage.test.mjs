// Usage and fees in headless Chromium against the real server: the operator
// records a use by hand, corrects it and voids the correction with reasons,
// and records a checked-in booking in one click; a researcher sees their usage
// and fees; a PI sees the group's spending by month; the commission verifies
// the ledger (and sees it name a record changed in the file), issues a voucher
// and reads its balance and history.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startApp, signIn, signOut, openPage, waitForPage } from './lib/browser.mjs';
import { buildWorld, PW, localMidnight, iso, H, signIn as apiSignIn, sql } from '../http/lib/bookings-world.mjs';

let app, world;
const DAY = localMidnight(-3);
const local = (t) => iso(t).slice(0, 16); // datetime-local value

before(async () => {
  world = buildWorld();
  sql(world.db, `
    INSERT INTO orgs (code, name_zh, name_en, kind, zone_id, credit_code) VALUES
      ('E', '丙科技有限公司', 'Enterprise E', 'enterprise', (SELECT id FROM zones WHERE code='neobay'), '91310000000000003C');`);
  app = await startApp({ server: { db: world.db, dir: world.dir, keep: true } });
});
after(async () => {
  await app?.close();
  rmSync(world.dir, { recursive: true, force: true });
});

const count = (where) => Number(sql(world.db, `SELECT count(*) FROM usage_records WHERE ${where}`));

test('the operator records by hand, corrects with a reason, and voids', () => app.run('usage-record-correct', async (page) => {
  await page.goto(app.url + '/');
  await signIn(page, 'opa', PW);
  await openPage(page, app.url, '/usage/record');
  const f = page.locator('form.usage-form');
  await f.getByLabel('仪器').selectOption({ label: '测试仪器-open (open)' });
  await f.getByLabel('使用人用户 ID').fill(String(world.users.res));
  await f.getByLabel('开始').fill(local(DAY + 10 * H));
  await f.getByLabel('结束').fill(local(DAY + 11 * H));
  await f.locator('button[type="submit"]').click();
  await page.locator('.toast-success', { hasText: '¥100.00' }).waitFor();
  await waitForPage(page, '/usage/record');
  assert.equal(count(`instrument_id = ${world.ids.open} AND kind = 'original' AND fee_fen = 10000`), 1);
  const id = Number(sql(world.db, `SELECT id FROM usage_records WHERE instrument_id = ${world.ids.open} ORDER BY id DESC LIMIT 1`));

  // Correct: the end was 10:30.
  const row = page.locator('table.usage-table tr.usage-original', { hasText: '测试仪器-open' }).first();
  await row.locator('button.btn-correct').click();
  const dlg = page.locator('dialog');
  await dlg.getByLabel('结束').fill(local(DAY + 10.5 * H));
  await dlg.getByLabel('原因').fill('签退时间记错');
  await dlg.locator('button[value="ok"]').click();
  await page.locator('.toast-success', { hasText: '已更正' }).waitFor();
  await page.locator('table.usage-table tr.usage-correction').first().waitFor();
  await page.locator('table.usage-table tr.usage-reversal').first().waitFor();
  assert.equal(count(`corrects_id = ${id}`), 2);
  assert.equal(Number(sql(world.db, `SELECT fee_fen FROM usage_records WHERE corrects_id = ${id} AND kind = 'correction'`)), 5000);
  assert.equal(Number(sql(world.db, `SELECT fee_fen FROM usage_records WHERE id = ${id}`)), 10000, 'the original is unchanged');

  // Void the correction.
  const cor = page.locator('table.usage-table tr.usage-correction').first();
  await cor.locator('button.btn-void').click();
  await page.locator('dialog').getByLabel('原因').fill('重复登记');
  await page.locator('dialog button[value="ok"]').click();
  await page.locator('.toast-success', { hasText: '已作废' }).waitFor();
  await waitForPage(page, '/usage/record');
  assert.equal(Number(sql(world.db, `SELECT sum(fee_fen) FROM usage_records WHERE id = ${id} OR corrects_id = ${id}
    OR corrects_id IN (SELECT id FROM usage_records WHERE corrects_id = ${id})`)), 0);
  assert.equal(await page.locator('tr.usage-correction button.btn-correct').count(), 0, 'a corrected record offers no more actions');
  app.assertClean(page);
}));

test('a checked-in booking is recorded in one click', () => app.run('usage-one-click', async (page) => {
  const now = Math.floor(Date.now() / 1000);
  const soon = Math.ceil((now + 120) / 60) * 60;
  const res = await apiSignIn(app.server, 'res');
  let r = await res.post('/api/v1/bookings', { instrument_id: world.ids.quick, start: iso(soon), end: iso(soon + 600) });
  assert.equal(r.status, 201, r.text);
  const b = r.body.id;
  r = await res.post(`/api/v1/bookings/${b}/checkin`, {});
  assert.equal(r.status, 200, r.text);
  await page.goto(app.url + '/');
  await signIn(page, 'opa', PW);
  await openPage(page, app.url, '/usage/record');
  const row = page.locator('table.usage-pending tr', { hasText: '测试仪器-quick' });
  await row.locator('button.btn-record').click();
  await page.locator('.toast-success').waitFor();
  await waitForPage(page, '/usage/record');
  assert.equal(sql(world.db, `SELECT status FROM bookings WHERE id = ${b}`), 'completed');
  assert.equal(count(`booking_id = ${b} AND kind = 'original'`), 1);
  assert.equal(await page.locator('table.usage-pending tr', { hasText: '测试仪器-quick' }).count(), 0);
  app.assertClean(page);
}));

test('a researcher sees their usage and fees; a PI the group by month', () => app.run('usage-mine', async (page) => {
  const opa = await apiSignIn(app.server, 'opa');
  let r = await opa.post('/api/v1/usage', { instrument_id: world.ids.far, user_id: world.users.stu, start: iso(DAY + 14 * H), end: iso(DAY + 16 * H) });
  assert.equal(r.status, 403, 'far belongs to institution B');
  r = await opa.post('/api/v1/usage', { instrument_id: world.ids.rules, user_id: world.users.stu, start: iso(DAY + 14 * H), end: iso(DAY + 16 * H) });
  assert.equal(r.status, 201, r.text);
  await page.goto(app.url + '/');
  await signIn(page, 'res', PW);
  await openPage(page, app.url, '/usage');
  const table = page.locator('table.usage-table');
  await table.locator('tr', { hasText: '测试仪器-open' }).first().waitFor();
  assert.equal(await table.locator('tr', { hasText: '测试仪器-rules' }).count(), 0, 'only my own records');
  assert.equal(await page.locator('section.card', { hasText: '课题组月度支出' }).count(), 0, 'not a PI');
  await page.locator('table.usage-months td', { hasText: iso(DAY).slice(0, 7) }).first().waitFor();

  await signOut(page);
  await signIn(page, 'pia', PW);
  await openPage(page, app.url, '/usage');
  const group = page.locator('section.card', { hasText: '课题组月度支出' });
  await group.waitFor();
  const month = group.locator('tr', { hasText: iso(DAY).slice(0, 7) });
  await month.waitFor();
  assert.match(await month.innerText(), /¥200\.00/, 'two hours at 100 yuan, internal');
  app.assertClean(page);
}));

test('the commission verifies the ledger, sees a tampered record named, issues a voucher', () => app.run('usage-ledger', async (page) => {
  await page.goto(app.url + '/');
  await signIn(page, 'com', PW);
  await openPage(page, app.url, '/ledger');
  const total = count('1');
  assert.equal(await page.locator('.checkpoint-count').innerText(), String(total));
  assert.equal(await page.locator('.checkpoint-hash').innerText(), sql(world.db, 'SELECT hash FROM usage_records ORDER BY id DESC LIMIT 1'));
  await page.locator('button.btn-verify').click();
  await page.locator('.verify-result .banner-success', { hasText: '账本完整' }).waitFor();

  // Someone edits a fee in the file: verify names that record.
  sql(world.db, 'DROP TRIGGER usage_records_no_update; UPDATE usage_records SET fee_fen = 1 WHERE id = 2;');
  await page.locator('button.btn-verify').click();
  const bad = page.locator('.verify-result .banner-error[data-first-bad="2"]');
  await bad.waitFor();
  assert.match(await bad.innerText(), /#2/);
  await page.locator('.verify-problems li', { hasText: '#2' }).waitFor();

  // Issue a voucher to the enterprise; its balance and history show.
  const f = page.locator('form.voucher-form');
  await f.getByLabel('企业').selectOption({ label: '丙科技有限公司' });
  await f.getByLabel('额度（元）').fill('1000');
  await f.locator('button[type="submit"]').click();
  await page.locator('.toast-success', { hasText: '已发放' }).waitFor();
  await waitForPage(page, '/ledger');
  const row = page.locator('table.voucher-table tr', { hasText: '丙科技有限公司' });
  assert.match(await row.locator('.voucher-balance').innerText(), /¥1,000\.00/);
  await row.locator('button.btn-history').click();
  await page.locator('.voucher-events tr', { hasText: '发放' }).waitFor();
  assert.equal(sql(world.db, "SELECT kind || ':' || delta_fen FROM voucher_events"), 'issue:100000');
  app.assertClean(page);
}));
