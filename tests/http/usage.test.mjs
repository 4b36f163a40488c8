// Usage records, fees, vouchers and the hash-chained ledger against the real
// binary: fees by tier with the rates copied into the record, every refusal,
// the record a check-out writes, corrections and voids (reversal plus new
// record, audited, landing in the current month when the original's is
// closed), the read rules, vouchers with 32 concurrent recordings against a
// small balance, the chain intact after concurrent writes, and tampering
// done straight in the SQLite file (edit, delete, insert, reorder, and a
// rewrite that only a checkpoint kept elsewhere catches). Every JSON answer
// is checked against proto/openapi.yaml.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, mkdirSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { checkResponse } from './lib/openapi.mjs';
import { startServer, BIN, ROOT as ROOT_DIR } from './lib/server.mjs';
import { buildWorld, start, signIn, iso, localMidnight, H, sql } from './lib/bookings-world.mjs';

let world, srv, res, resb, rese, stu, opa, opb, pia, com, ada, agent;
const BULK = 32;

async function call(client, method, path, body) {
  const r = await client.req(method, path, body);
  checkResponse(method, path, r);
  return r;
}
const post = (c, body) => call(c, 'POST', '/api/v1/usage', body);
const verify = async (query = '') => (await call(com, 'GET', `/api/v1/usage/verify${query}`)).body;
// A past weekday-independent day: the open instrument is 24/7 and usage may be back-dated.
const DAY = localMidnight(-2);
const at = (hours) => iso(DAY + hours * H);

before(async () => {
  world = buildWorld({ extraInstruments: BULK });
  // An enterprise in Neo Bay (the zone of org A): zone tier on A's instruments, and a voucher holder.
  sql(world.db, `
    INSERT INTO orgs (code, name_zh, name_en, kind, zone_id, credit_code) VALUES
      ('E', '丙科技有限公司', 'Enterprise E', 'enterprise', (SELECT id FROM zones WHERE code='neobay'), '91310000000000003C');
    INSERT INTO lab_groups (org_id, name) VALUES ((SELECT id FROM orgs WHERE code='E'), 'e-lab');
    INSERT INTO users (login, name, org_id, group_id, roles, password_hash)
      SELECT 'rese', 'rese', (SELECT id FROM orgs WHERE code='E'), (SELECT id FROM lab_groups WHERE name='e-lab'), 1, password_hash
      FROM users WHERE login = 'res';`);
  world.users.rese = Number(sql(world.db, `SELECT id FROM users WHERE login='rese'`));
  world.orgE = Number(sql(world.db, `SELECT id FROM orgs WHERE code='E'`));
  world.orgA = Number(sql(world.db, `SELECT id FROM orgs WHERE code='A'`));
  srv = await start(world);
  [res, resb, rese, stu, opa, opb, pia, com, ada] = await Promise.all(
    ['res', 'resb', 'rese', 'stu', 'opa', 'opb', 'pia', 'com', 'ada'].map((l) => signIn(srv, l)));
  const t = await call(opa, 'POST', '/api/v1/tokens', { name: 'instrument PC', scopes: ['usage:write'] });
  assert.equal(t.status, 201, t.text);
  agent = new (opa.constructor)(srv.url);
  agent.bearer = t.body.token;
});
after(async () => {
  await srv.stop();
  rmSync(world.dir, { recursive: true, force: true });
});

test('fees by tier with the rates copied in; a later price change rewrites nothing', async () => {
  const I = world.ids.open; // rates internal 100, zone 200, cross-zone 200 yuan/h; minimum 50; step 15 min
  let r = await post(opa, { instrument_id: I, user_id: world.users.res, start: at(9), end: iso(DAY + 10 * H + 1) });
  assert.equal(r.status, 201, r.text);
  const internal = r.body;
  assert.equal(internal.tier, 'internal');
  assert.equal(internal.minutes, 61);
  assert.equal(internal.fee_fen, 12500, '1 h + 1 s bills 75 min');
  assert.equal(internal.cash_fen, 12500);
  assert.equal(internal.voucher_fen, 0);
  assert.equal(internal.source, 'manual');
  assert.equal(internal.rate_fen, 10000);
  assert.equal(internal.period, iso(DAY).slice(0, 7));
  assert.match(internal.hash, /^[0-9a-f]{64}$/);
  r = await post(opa, { instrument_id: I, user_id: world.users.resb, start: at(11), end: at(11.25) });
  assert.equal(r.body.tier, 'cross_zone');
  assert.equal(r.body.fee_fen, 5000, '15 min at 200/h is 50, equal to the minimum');
  assert.equal(r.body.prev_hash, internal.hash, 'chained to the record before');
  r = await post(opa, { instrument_id: I, user_id: world.users.rese, start: at(12), end: at(12.1) });
  assert.equal(r.body.tier, 'zone');
  assert.equal(r.body.fee_fen, 5000, 'below the minimum charge');
  // A price change: past records keep their fees.
  sql(world.db, `UPDATE instruments SET price_internal_fen = 99900 WHERE id = ${I}`);
  r = await call(opa, 'GET', `/api/v1/usage/${internal.id}`);
  const { corrections, ...stored } = r.body;
  assert.deepEqual(corrections, []);
  assert.deepEqual(stored, internal, 'the 201 answer is what was stored');
  assert.equal(r.body.fee_fen, 12500);
  assert.equal(r.body.rate_fen, 10000);
  r = await post(opa, { instrument_id: I, user_id: world.users.res, start: at(13), end: at(14) });
  assert.equal(r.body.fee_fen, 99900, 'new records use the new rate');
  sql(world.db, `UPDATE instruments SET price_internal_fen = 10000 WHERE id = ${I}`);
  // Per-sample pricing.
  sql(world.db, `UPDATE instruments SET price_unit = 'sample' WHERE id = ${world.ids.rules}`);
  r = await post(opa, { instrument_id: world.ids.rules, user_id: world.users.res, start: at(9), end: at(10), samples: 3, service_mode: 'sample' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.price_unit, 'sample');
  assert.equal(r.body.fee_fen, 30000);
  assert.equal(r.body.service_mode, 'sample');
});

test('refusals: future, reversed times, overlap, unknown user, other group, wrong institution, roles', async () => {
  const I = world.ids.open;
  const now = Math.floor(Date.now() / 1000);
  const cases = [
    [opa, { instrument_id: I, user_id: world.users.res, start: iso(now - 600), end: iso(now + 600) }, 400, 'in_future'],
    [opa, { instrument_id: I, user_id: world.users.res, start: at(20), end: at(19) }, 400, 'invalid_field', 'end'],
    [opa, { instrument_id: I, user_id: world.users.res, start: at(9.5), end: at(9.75) }, 409, 'usage_overlap'],
    [opa, { instrument_id: I, user_id: 999999, start: at(20), end: at(21) }, 400, 'invalid_field', 'user_id'],
    [opa, { instrument_id: I, user_id: world.users.res, group_id: Number(sql(world.db, `SELECT id FROM lab_groups WHERE name = 'b-lab'`)), start: at(20), end: at(21) }, 400, 'invalid_field', 'group_id'],
    [opa, { instrument_id: 999999, user_id: world.users.res, start: at(20), end: at(21) }, 404, 'not_found'],
    [opb, { instrument_id: I, user_id: world.users.res, start: at(20), end: at(21) }, 403, 'forbidden'],
    [opb, { instrument_id: world.ids.internal, user_id: world.users.res, start: at(20), end: at(21) }, 404, 'not_found'],
    [res, { instrument_id: I, user_id: world.users.res, start: at(20), end: at(21) }, 403, 'forbidden'],
    [com, { instrument_id: I, user_id: world.users.res, start: at(20), end: at(21) }, 403, 'forbidden'],
    [opa, { instrument_id: I, user_id: world.users.res, start: 'yesterday', end: at(21) }, 400, 'invalid_field', 'start'],
    [opa, { instrument_id: I, user_id: world.users.res, start: at(20), end: at(21), service_mode: 'teleport' }, 400, 'invalid_field', 'service_mode'],
    // A slip of the year: 127 years long, starting in 1900 (a fee of 10^14 fen), is refused.
    [opa, { instrument_id: I, user_id: world.users.res, start: '1900-01-01T09:00:00+08:00', end: at(21) }, 400, 'usage_too_long', 'end'],
    [opa, { instrument_id: I, user_id: world.users.res, start: iso(now - 32 * 86400), end: iso(now - 600) }, 400, 'usage_too_long', 'end'],
    [opa, { instrument_id: I, user_id: world.users.res, start: iso(now - 401 * 86400), end: iso(now - 401 * 86400 + H) }, 400, 'usage_too_old', 'start'],
  ];
  for (const [client, body, status, code, field] of cases) {
    const r = await post(client, body);
    assert.equal(r.status, status, `${code}: ${r.text}`);
    assert.equal(r.body.error.code, code, JSON.stringify(body));
    if (field) assert.equal(r.body.error.field, field);
  }
  // Adjacent is not overlapping; a usage:write token records as the agent and reads nothing.
  let r = await post(agent, { instrument_id: I, user_id: world.users.res, start: at(10.25), end: at(11) });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.source, 'agent');
  assert.equal(r.body.recorded_by, Number(sql(world.db, `SELECT id FROM users WHERE login='opa'`)));
  r = await call(agent, 'GET', '/api/v1/usage');
  assert.equal(r.status, 403);
  r = await call(agent, 'POST', `/api/v1/usage/${r.body?.id ?? 1}/correct`, { void: true, reason: 'x' });
  assert.equal(r.status, 403);
});

test('check-out writes the usage record linked to the booking, in the same write', async () => {
  const now = Math.floor(Date.now() / 1000);
  const soon = Math.ceil((now + 120) / 60) * 60;
  const r2 = await signIn(srv, 'r2');
  let r = await call(r2, 'POST', '/api/v1/bookings', { instrument_id: world.ids.quick, start: iso(soon), end: iso(soon + 480) });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.status, 'confirmed');
  const b = r.body.id;
  r = await call(r2, 'POST', `/api/v1/bookings/${b}/checkin`);
  assert.equal(r.status, 200, r.text);
  r = await call(r2, 'POST', `/api/v1/bookings/${b}/checkout`);
  assert.equal(r.status, 200, r.text);
  r = await call(opa, 'GET', `/api/v1/usage?booking_id=${b}`);
  assert.equal(r.body.items.length, 1);
  const u = r.body.items[0];
  assert.equal(u.source, 'checkout');
  assert.equal(u.booking_id, b);
  assert.equal(u.user_id, world.users.r2);
  assert.equal(u.booked_minutes, 8);
  assert.equal(u.fee_fen, 5000, 'a short use costs the minimum charge');
  // Its use is recorded: recording it again is refused.
  r = await post(opa, { instrument_id: world.ids.quick, user_id: world.users.r2, booking_id: b, start: u.start, end: u.end });
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'already_recorded');
  // A booking of another user or instrument is refused.
  r = await post(opa, { instrument_id: world.ids.open, user_id: world.users.r2, booking_id: b, start: at(22), end: at(23) });
  assert.equal(r.body.error.field, 'booking_id');
});

test('a check-out forgotten for 40 days records the booked time, not 40 days of fees', async () => {
  const start = localMidnight(-40) + 10 * H;
  const b = Number(sql(world.db, `INSERT INTO bookings (instrument_id, user_id, payer_org_id, start, end, status, checkin_at)
    VALUES (${world.ids.quick}, ${world.users.r3}, (SELECT org_id FROM users WHERE id = ${world.users.r3}),
            ${start}, ${start + 2 * H}, 'in_use', ${start + 60}) RETURNING id`));
  let r = await call(opa, 'POST', `/api/v1/bookings/${b}/checkout`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, 'completed');
  r = await call(opa, 'GET', `/api/v1/usage?booking_id=${b}`);
  assert.equal(r.body.items.length, 1);
  assert.equal(r.body.items[0].start, iso(start + 60));
  assert.equal(r.body.items[0].end, iso(start + 2 * H));
});

test('recording a booking still checked in completes it (one click)', async () => {
  const now = Math.floor(Date.now() / 1000);
  const soon = Math.ceil((now + 720) / 60) * 60; // after the previous test's booking
  let r = await call(res, 'POST', '/api/v1/bookings', { instrument_id: world.ids.quick, start: iso(soon), end: iso(soon + 300) });
  assert.equal(r.status, 201, r.text);
  const b = r.body.id;
  r = await call(res, 'POST', `/api/v1/bookings/${b}/checkin`);
  assert.equal(r.status, 200, r.text);
  const checkin = Math.floor(Date.parse(r.body.checkin_at) / 1000);
  r = await post(opa, { instrument_id: world.ids.quick, user_id: world.users.res, booking_id: b, start: iso(checkin), end: iso(Math.floor(Date.now() / 1000)) });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.booking_id, b);
  r = await call(res, 'GET', `/api/v1/bookings/${b}`);
  assert.equal(r.body.status, 'completed');
});

test('corrections and voids: new records pointing at the original, audited; sums stay true', async () => {
  const I = world.ids.open;
  let r = await post(opa, { instrument_id: I, user_id: world.users.resb, start: at(15), end: at(17) });
  const orig = r.body;
  assert.equal(orig.fee_fen, 40000);
  r = await call(res, 'POST', `/api/v1/usage/${orig.id}/correct`, { start: at(15), end: at(16), reason: 'x' });
  assert.equal(r.status, 403);
  r = await call(opb, 'POST', `/api/v1/usage/${orig.id}/correct`, { start: at(15), end: at(16), reason: 'x' });
  assert.equal(r.status, 404, 'an operator of another institution cannot see it');
  r = await call(opa, 'POST', `/api/v1/usage/${orig.id}/correct`, { start: at(15), end: at(16) });
  assert.equal(r.body.error.field, 'reason');
  r = await call(opa, 'POST', `/api/v1/usage/${orig.id}/correct`, { start: at(15), end: at(16), reason: '结束时间记错' });
  assert.equal(r.status, 201, r.text);
  const cor = r.body;
  assert.equal(cor.kind, 'correction');
  assert.equal(cor.corrects_id, orig.id);
  assert.equal(cor.fee_fen, 20000);
  assert.equal(cor.reason, '结束时间记错');
  assert.equal(cor.reversal.kind, 'reversal');
  assert.equal(cor.reversal.corrects_id, orig.id);
  assert.equal(cor.reversal.fee_fen, -40000);
  assert.equal(cor.reversal.minutes, -120);
  assert.equal(cor.reversal.cash_fen, -40000);
  assert.equal(cor.reversal.source, 'correction');
  // The original is unchanged and marked reversed; its corrections are listed with it.
  r = await call(resb, 'GET', `/api/v1/usage/${orig.id}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.fee_fen, 40000);
  assert.equal(r.body.hash, orig.hash);
  assert.equal(r.body.reversed, true);
  assert.deepEqual(r.body.corrections.map((x) => x.kind), ['reversal', 'correction']);
  // The sums give the true totals.
  const sum = Number(sql(world.db, `SELECT sum(fee_fen) FROM usage_records WHERE id = ${orig.id} OR corrects_id = ${orig.id}`));
  assert.equal(sum, 20000);
  // Twice, or a reversal: refused.
  r = await call(opa, 'POST', `/api/v1/usage/${orig.id}/correct`, { void: true, reason: 'again' });
  assert.equal(r.body.error.code, 'already_corrected');
  r = await call(opa, 'POST', `/api/v1/usage/${cor.reversal.id}/correct`, { void: true, reason: 'again' });
  assert.equal(r.body.error.code, 'not_correctable');
  // A correction can itself be voided: only a reversal is written.
  r = await call(opa, 'POST', `/api/v1/usage/${cor.id}/correct`, { void: true, reason: '重复记录' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.kind, 'reversal');
  assert.equal(r.body.corrects_id, cor.id);
  assert.equal(r.body.fee_fen, -20000);
  assert.equal(r.body.reversal, undefined);
  const total = Number(sql(world.db, `SELECT sum(fee_fen) FROM usage_records WHERE id IN (${orig.id}, ${cor.id}) OR corrects_id IN (${orig.id}, ${cor.id})`));
  assert.equal(total, 0);
  // A correction may not overlap another live record; the freed time may be used again.
  r = await post(opa, { instrument_id: I, user_id: world.users.res, start: at(15), end: at(16) });
  assert.equal(r.status, 201, r.text);
  // Audited, with the reason.
  r = await call(com, 'GET', `/api/v1/audit?action=usage_correct&object_id=${orig.id}`);
  assert.equal(r.body.items.length, 1);
  assert.equal(r.body.items[0].after.reason, '结束时间记错');
  assert.equal(r.body.items[0].before.fee_fen, 40000);
  r = await call(com, 'GET', `/api/v1/audit?action=usage_void&object_id=${cor.id}`);
  assert.equal(r.body.items.length, 1);
  // Corrections keep the rates copied into the original.
  sql(world.db, `UPDATE instruments SET price_cross_zone_fen = 77700 WHERE id = ${I}`);
  r = await post(opa, { instrument_id: I, user_id: world.users.resb, start: at(18), end: at(19) });
  const later = r.body;
  assert.equal(later.fee_fen, 77700);
  sql(world.db, `UPDATE instruments SET price_cross_zone_fen = 20000 WHERE id = ${I}`);
  r = await call(opa, 'POST', `/api/v1/usage/${later.id}/correct`, { start: at(18), end: at(18.5), reason: 'half' });
  assert.equal(r.body.fee_fen, 38850, 'half an hour at the copied 777/h');
});

test('a closed month: no new records in it; corrections land in the current month', async () => {
  const old = localMidnight(-45);
  const period = iso(old).slice(0, 7);
  let r = await post(opa, { instrument_id: world.ids.far, user_id: world.users.res, start: iso(old + 10 * H), end: iso(old + 11 * H) });
  assert.equal(r.status, 403, 'far belongs to org B');
  r = await post(opb, { instrument_id: world.ids.far, user_id: world.users.res, start: iso(old + 10 * H), end: iso(old + 11 * H) });
  assert.equal(r.status, 201, r.text);
  const rec = r.body;
  assert.equal(rec.period, period);
  assert.equal(rec.tier, 'cross_zone');
  sql(world.db, `INSERT INTO settlements (period, status, built_at, closed_at) VALUES ('${period}', 'closed', unixepoch(), unixepoch())`);
  r = await post(opb, { instrument_id: world.ids.far, user_id: world.users.res, start: iso(old + 12 * H), end: iso(old + 13 * H) });
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'period_closed');
  r = await call(opb, 'POST', `/api/v1/usage/${rec.id}/correct`, { start: iso(old + 10 * H), end: iso(old + 10.5 * H), reason: 'late fix' });
  assert.equal(r.status, 201, r.text);
  const current = iso(Math.floor(Date.now() / 1000)).slice(0, 7);
  assert.equal(r.body.period, current);
  assert.equal(r.body.reversal.period, current);
  assert.equal(r.body.start, iso(old + 10 * H));
  r = await call(opb, 'GET', `/api/v1/usage?period=${period}&instrument_id=${world.ids.far}`);
  assert.deepEqual(r.body.items.map((x) => x.id), [rec.id], 'the closed month holds only the original');
});

test('who may read: own, the institution for operators, the group for its PI, all for commission and admin', async () => {
  const I = world.ids.open;
  let r = await post(opa, { instrument_id: I, user_id: world.users.stu, start: at(1), end: at(2) });
  const stuRec = r.body;
  const ids = async (c, q = '') => (await call(c, 'GET', `/api/v1/usage?limit=500${q}`)).body.items.map((x) => x.id);
  const all = await ids(com);
  assert.deepEqual(await ids(ada), all);
  const mine = (await call(res, 'GET', '/api/v1/usage?limit=500')).body.items;
  assert.ok(mine.length > 0 && mine.every((x) => x.user_id === world.users.res));
  assert.ok(!(await ids(res)).includes(stuRec.id));
  assert.ok((await ids(stu)).includes(stuRec.id));
  assert.ok((await ids(pia)).includes(stuRec.id), 'the PI sees the group');
  assert.ok(!(await ids(pia)).some((id) => mine.some((m) => m.id === id)), 'but not another group');
  const opaItems = (await call(opa, 'GET', '/api/v1/usage?limit=500')).body.items;
  assert.ok(opaItems.every((x) => x.provider_org_id === world.orgA));
  const opbItems = (await call(opb, 'GET', '/api/v1/usage?limit=500')).body.items;
  assert.ok(opbItems.length > 0 && opbItems.every((x) => x.provider_org_id !== world.orgA));
  assert.equal((await call(res, 'GET', `/api/v1/usage/${stuRec.id}`)).status, 404);
  assert.equal((await call(opb, 'GET', `/api/v1/usage/${stuRec.id}`)).status, 404);
  assert.equal((await call(pia, 'GET', `/api/v1/usage/${stuRec.id}`)).status, 200);
  // Filters, paging and the summary.
  r = await call(com, 'GET', `/api/v1/usage?user_id=${world.users.res}&limit=1`);
  assert.equal(r.body.items.length, 1);
  assert.ok(r.body.next_cursor);
  const page2 = await call(com, 'GET', `/api/v1/usage?user_id=${world.users.res}&limit=2&cursor=${r.body.next_cursor}`);
  assert.equal(page2.body.items.length, 2);
  assert.ok(page2.body.items.every((x) => x.id < r.body.items[0].id && x.user_id === world.users.res));
  r = await call(pia, 'GET', '/api/v1/usage/summary?group_by=period');
  const byMonth = r.body.items;
  const pis = (await call(pia, 'GET', '/api/v1/usage?limit=500')).body.items;
  assert.equal(byMonth.reduce((s, x) => s + x.fee_fen, 0), pis.reduce((s, x) => s + x.fee_fen, 0));
  // Every role's list, all pages, is exactly what it may read (own; the
  // institution's for operators; the group's for its PI; all for the
  // commission and admins), and mine=1 its own.
  const allIds = async (c, q = '') => {
    const out = [];
    for (let cursor = ''; ;) {
      const page = (await call(c, 'GET', `/api/v1/usage?limit=100${q}${cursor ? '&cursor=' + cursor : ''}`)).body;
      out.push(...page.items.map((x) => x.id));
      if (!page.next_cursor) return out;
      cursor = page.next_cursor;
    }
  };
  const readable = (login, mineOnly) => sql(world.db, `SELECT r.id FROM usage_records r JOIN users u ON u.login = '${login}'
      WHERE r.user_id = u.id ${mineOnly ? '' : `OR u.roles & 24 OR (u.roles & 4 AND r.provider_org_id = u.org_id)
      OR r.group_id IN (SELECT id FROM lab_groups WHERE pi_user_id = u.id)`} ORDER BY r.id DESC`)
    .split('\n').filter(Boolean).map(Number);
  for (const [c, login] of [[res, 'res'], [stu, 'stu'], [pia, 'pia'], [opa, 'opa'], [opb, 'opb'], [com, 'com'], [ada, 'ada']]) {
    assert.deepEqual(await allIds(c), readable(login, false), login);
    assert.deepEqual(await allIds(c, '&mine=1'), readable(login, true), `${login} mine=1`);
  }
  // Every role's summary (run off the loop) sums exactly the records it may
  // list, under each grouping and with the mine / group filters.
  const sums = (items, key) => {
    const m = new Map();
    for (const x of items) {
      const k = x[key] ?? null;
      const e = m.get(k) || { uses: 0, fee_fen: 0, minutes: 0 };
      e.uses += x.kind === 'reversal' ? -1 : 1; e.fee_fen += x.fee_fen; e.minutes += x.minutes;
      m.set(k, e);
    }
    return [...m.entries()].map(([k, e]) => ({ key: k, ...e })).sort((a, b) => String(a.key).localeCompare(String(b.key)));
  };
  const pick = (items) => items.map(({ key, uses, fee_fen, minutes }) => ({ key, uses, fee_fen, minutes }))
    .sort((a, b) => String(a.key).localeCompare(String(b.key)));
  for (const [c, q] of [[com, ''], [ada, ''], [opa, ''], [opb, ''], [pia, ''], [res, ''], [stu, '&mine=1'],
    [com, `&group_id=${stuRec.group_id}`], [com, `&instrument_id=${I}`]]) {
    const listed = (await call(c, 'GET', `/api/v1/usage?limit=500${q}`)).body;
    assert.ok(listed.items.length > 0 && !listed.next_cursor, `all of ${q || 'them'} on one page`);
    for (const [by, key] of [['period', 'period'], ['instrument', 'instrument_id'], ['group', 'group_id']]) {
      const got = await call(c, 'GET', `/api/v1/usage/summary?group_by=${by}${q}`);
      assert.equal(got.status, 200, got.text);
      assert.deepEqual(pick(got.body.items), sums(listed.items, key), `${by}${q}`);
    }
  }
  r = await call(res, 'GET', '/api/v1/usage/summary?group_by=sideways');
  assert.equal(r.status, 400);
  assert.equal((await call(res, 'GET', '/api/v1/usage/verify')).status, 403);
  assert.equal((await call(opa, 'GET', '/api/v1/usage/checkpoint')).status, 403);
});

test('vouchers: issue, 32 concurrent recordings against a small balance, refunds, history', async () => {
  const year = Number(iso(DAY).slice(0, 4));
  let r = await call(com, 'POST', '/api/v1/vouchers', { org_id: world.orgA, year, amount_fen: 100000 });
  assert.equal(r.body.error.code, 'not_enterprise');
  r = await call(ada, 'POST', '/api/v1/vouchers', { org_id: world.orgE, year, amount_fen: 100000 });
  assert.equal(r.status, 403, 'the commission issues vouchers');
  const issued = 123457;
  r = await call(com, 'POST', '/api/v1/vouchers', { org_id: world.orgE, year, amount_fen: issued });
  assert.equal(r.status, 201, r.text);
  const v = r.body;
  assert.equal(v.rate_percent, 50);
  assert.equal(v.balance_fen, issued);
  r = await call(com, 'POST', '/api/v1/vouchers', { org_id: world.orgE, year, amount_fen: 1 });
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'voucher_exists');
  // 32 recordings at once on 32 instruments, fees of 20,000 to 51,000: half of it wants 500,000+ of voucher.
  const bodies = Array.from({ length: BULK }, (_, i) => ({
    instrument_id: world.ids[`bulk${i}`], user_id: world.users.rese, start: at(8), end: iso(DAY + 9 * H + i * 60 * (i % 4 ? 1 : 15)),
  }));
  const results = await Promise.all(bodies.map((b, i) => post(i % 2 ? agent : opa, b)));
  for (const x of results) assert.equal(x.status, 201, x.text);
  const drawn = results.reduce((s, x) => s + x.body.voucher_fen, 0);
  for (const x of results) {
    assert.ok(x.body.voucher_fen >= 0 && x.body.cash_fen >= 0);
    assert.equal(x.body.voucher_fen + x.body.cash_fen, x.body.fee_fen);
    assert.ok(x.body.voucher_fen <= Math.round(x.body.fee_fen / 2));
  }
  r = await call(com, 'GET', `/api/v1/vouchers/${v.id}`);
  assert.equal(r.body.balance_fen, issued - drawn);
  assert.equal(r.body.balance_fen, 0, 'the balance ran out, exactly');
  assert.ok(results.some((x) => x.body.voucher_fen > 0 && x.body.voucher_fen < x.body.fee_fen / 2), 'one draw was capped');
  assert.equal(r.body.history.ok, true, JSON.stringify(r.body.history));
  // Events: the issue and one draw per record that drew, each balance >= 0 and consistent.
  r = await call(com, 'GET', `/api/v1/vouchers/${v.id}/events?limit=500`);
  const events = r.body.items.slice().reverse();
  assert.equal(events[0].kind, 'issue');
  assert.equal(events.filter((e) => e.kind === 'draw').length, results.filter((x) => x.body.voucher_fen > 0).length);
  let bal = 0;
  for (const e of events) {
    bal += e.delta_fen;
    assert.equal(e.balance_fen, bal);
    assert.ok(e.balance_fen >= 0);
  }
  // Voiding a record that drew gives its voucher part back.
  const drewFull = results.find((x) => x.body.voucher_fen > 0);
  r = await call(opa, 'POST', `/api/v1/usage/${drewFull.body.id}/correct`, { void: true, reason: '仪器故障未实际使用' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.voucher_fen, -drewFull.body.voucher_fen);
  r = await call(com, 'GET', `/api/v1/vouchers/${v.id}`);
  assert.equal(r.body.balance_fen, drewFull.body.voucher_fen);
  // A top-up; listed with balances; audited; other roles read nothing.
  r = await call(com, 'POST', `/api/v1/vouchers/${v.id}/top_up`, { amount_fen: 1000, reason: '追加' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.amount_fen, issued + 1000);
  r = await call(ada, 'GET', `/api/v1/vouchers?org_id=${world.orgE}`);
  assert.equal(r.body.items.length, 1);
  assert.equal(r.body.items[0].balance_fen, drewFull.body.voucher_fen + 1000);
  r = await call(com, 'GET', `/api/v1/vouchers/${v.id}`);
  assert.equal(r.body.history.ok, true);
  for (const action of ['voucher_issue', 'voucher_top_up']) {
    r = await call(com, 'GET', `/api/v1/audit?action=${action}&object_id=${v.id}`);
    assert.equal(r.body.items.length, 1, action);
  }
  assert.equal((await call(opa, 'GET', '/api/v1/vouchers')).status, 403);
  // The storage refuses a negative balance and a balance above the amount.
  assert.match(sqlFails(`UPDATE vouchers SET balance_fen = -1 WHERE id = ${v.id}`) || '', /CHECK constraint/);
  assert.match(sqlFails(`UPDATE vouchers SET balance_fen = amount_fen + 1 WHERE id = ${v.id}`) || '', /voucher_balance/);
  // The chain stayed whole under the concurrent writes.
  const ok = await verify();
  assert.equal(ok.ok, true, JSON.stringify(ok.problems));
});

test('deploy/yiqi-agent.sh records a log-in to log-out session, queues it while the server is away', async () => {
  const dir = `${world.dir}/agent`;
  mkdirSync(`${dir}/state`, { recursive: true });
  writeFileSync(`${dir}/token`, agent.bearer + '\n', { mode: 0o600 });
  writeFileSync(`${dir}/users`, `alice ${world.users.res}\nbob ${world.users.r1}\n`);
  const conf = (url, instrument = world.ids.window) => {
    writeFileSync(`${dir}/agent.conf`, `YIQI_URL=${url}\nYIQI_TOKEN_FILE=${dir}/token\nYIQI_INSTRUMENT_ID=${instrument}\n` +
      `YIQI_USERS=${dir}/users\nYIQI_STATE_DIR=${dir}/state\n`);
  };
  const run = (...args) => spawnSync('sh', [`${ROOT_DIR}/deploy/yiqi-agent.sh`, ...args], {
    encoding: 'utf8', env: { ...process.env, YIQI_AGENT_CONF: `${dir}/agent.conf` },
  });
  const backdate = (user, seconds) => writeFileSync(`${dir}/state/session-${user}`, `${Math.floor(Date.now() / 1000) - seconds}\n`);
  conf(srv.url);
  let r = run('login', 'alice');
  assert.equal(r.status, 0, r.stderr);
  backdate('alice', 2 * 3600); // a two-hour session
  r = run('logout', 'alice');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /recorded/);
  const rec = (await call(com, 'GET', `/api/v1/usage?instrument_id=${world.ids.window}`)).body.items[0];
  assert.equal(rec.user_id, world.users.res);
  assert.equal(rec.source, 'agent');
  // The agent keeps whole minutes of wall clock: a minute boundary may fall between
  // the back-dated log-in and the log-out.
  assert.ok(rec.minutes === 120 || rec.minutes === 121, `minutes ${rec.minutes}`);
  // Too short: not recorded. Unknown user: refused.
  run('login', 'bob');
  r = run('logout', 'bob');
  assert.match(r.stderr, /too short/);
  backdate('carol', 600);
  r = run('logout', 'carol');
  assert.equal(r.status, 1);
  // The server away (another PC, another instrument): queued, then sent by the next retry;
  // sent twice, the second is a 409 and done.
  conf('http://127.0.0.1:9', world.ids.broken);
  backdate('bob', 3 * 3600 + 600);
  r = run('logout', 'bob');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /outbox/);
  const queued = readdirSync(`${dir}/state/outbox`).filter((f) => f.endsWith('.json'));
  assert.equal(queued.length, 1);
  const copy = readFileSync(`${dir}/state/outbox/${queued[0]}`);
  conf(srv.url, world.ids.broken);
  r = run('retry');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(`${dir}/state/outbox`), []);
  writeFileSync(`${dir}/state/outbox/${queued[0]}`, copy);
  r = run('retry');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /already recorded/);
  const recs = (await call(com, 'GET', `/api/v1/usage?instrument_id=${world.ids.broken}&user_id=${world.users.r1}`)).body.items;
  assert.equal(recs.length, 1);
  assert.ok(recs[0].minutes === 190 || recs[0].minutes === 191, `minutes ${recs[0].minutes}`);
});

// ---- tampering in the SQLite file ----

function sqlFails(text) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', world.db, text], { encoding: 'utf8' });
  return r.status !== 0 ? r.stderr : null;
}

// The canonical content of a row (server/domain/ledger.h), recomputed here
// the way an auditor would.
function canonical(r) {
  const t = (s) => `${Buffer.byteLength(s ?? '')}:${s ?? ''}`;
  const n = (v) => (v === null || v === undefined ? '' : String(v));
  return ['yq1', r.id, r.instrument_id, r.provider_org_id, r.user_id, n(r.group_id), r.payer_org_id, n(r.booking_id),
    t(r.kind), n(r.corrects_id), r.start, r.end, r.minutes, r.samples, t(r.service_mode), t(r.source), n(r.recorded_by),
    t(r.period), t(r.tier), t(r.price_unit), r.rate_fen, r.min_charge_fen, r.step_minutes, t(r.basis), r.booked_minutes,
    r.fee_fen, r.voucher_fen, r.cash_fen, n(r.voucher_id), r.created_at, r.prev_hash, t(r.reason)].join('|');
}
const rows = () => JSON.parse(execFileSync('sqlite3', ['-json', world.db, 'SELECT * FROM usage_records ORDER BY id'], { encoding: 'utf8' }) || '[]');

test('the ledger is append-only: UPDATE and DELETE are refused by the storage', async () => {
  assert.match(sqlFails('UPDATE usage_records SET fee_fen = 0 WHERE id = 1') || '', /append-only/);
  assert.match(sqlFails('DELETE FROM usage_records WHERE id = 1') || '', /append-only/);
  assert.match(sqlFails('UPDATE voucher_events SET delta_fen = 0') || '', /append-only/);
  assert.match(sqlFails('DELETE FROM voucher_events') || '', /append-only/);
  // A copy of a record under its own id is refused (the id is the chain position).
  assert.match(sqlFails(`INSERT INTO usage_records SELECT * FROM usage_records WHERE id = 1`) || '', /UNIQUE/);
  // The canonical content is reproducible outside the server.
  for (const r of rows()) assert.equal(createHash('sha256').update(canonical(r)).digest('hex'), r.hash, `record ${r.id}`);
});

test('tampering in the file: verify names the edited, deleted, inserted or reordered record', async () => {
  let v = await verify();
  assert.equal(v.ok, true);
  const before = v.checkpoint;
  assert.equal(before.count, v.records);
  assert.equal(before.count, Number(sql(world.db, 'SELECT count(*) FROM usage_records')));
  assert.equal(before.head_hash, sql(world.db, 'SELECT hash FROM usage_records ORDER BY id DESC LIMIT 1'));
  const cp = `?checkpoint_count=${before.count}&checkpoint_hash=${before.head_hash}`;
  assert.equal((await verify(cp)).against.ok, true);
  sql(world.db, 'DROP TRIGGER usage_records_no_update; DROP TRIGGER usage_records_no_delete;');

  // Edit: the fee of record 3.
  sql(world.db, 'UPDATE usage_records SET fee_fen = fee_fen + 100, cash_fen = cash_fen + 100 WHERE id = 3');
  v = await verify();
  assert.equal(v.ok, false);
  assert.equal(v.first_bad_id, 3);
  assert.deepEqual(v.problems, [{ id: 3, problem: 'hash_mismatch' }]);
  sql(world.db, 'UPDATE usage_records SET fee_fen = fee_fen - 100, cash_fen = cash_fen - 100 WHERE id = 3');
  assert.equal((await verify()).ok, true, 'undone');
  // Edit into a fraction: not the integer that was hashed.
  sql(world.db, 'UPDATE usage_records SET fee_fen = fee_fen + 0.5 WHERE id = 4');
  v = await verify();
  assert.equal(v.first_bad_id, 4);
  sql(world.db, 'UPDATE usage_records SET fee_fen = CAST(fee_fen - 0.5 AS INTEGER) WHERE id = 4');
  assert.equal((await verify()).ok, true);

  // Delete record 5: record 6's link is broken; the old checkpoint fails too.
  sql(world.db, 'CREATE TABLE saved AS SELECT * FROM usage_records WHERE id = 5; DELETE FROM usage_records WHERE id = 5;');
  v = await verify(cp);
  assert.equal(v.ok, false);
  assert.equal(v.first_bad_id, 6);
  assert.deepEqual(v.problems, [{ id: 6, problem: 'broken_link' }]);
  assert.equal(v.records, before.count - 1);
  assert.equal(v.against.ok, false);
  // Replace it with a different record under the same id: its hash fails.
  sql(world.db, 'INSERT INTO usage_records SELECT * FROM saved; UPDATE usage_records SET user_id = (SELECT id FROM users WHERE login = \'r1\') WHERE id = 5;');
  v = await verify();
  assert.deepEqual(v.problems, [{ id: 5, problem: 'hash_mismatch' }]);
  sql(world.db, 'DELETE FROM usage_records WHERE id = 5; INSERT INTO usage_records SELECT * FROM saved; DROP TABLE saved;');
  assert.equal((await verify(cp)).ok, true, 'restored exactly');

  // Reorder: swap the ids of records 7 and 8.
  sql(world.db, 'UPDATE usage_records SET id = -8 WHERE id = 8; UPDATE usage_records SET id = 8 WHERE id = 7; UPDATE usage_records SET id = 7 WHERE id = -8;');
  v = await verify();
  assert.equal(v.first_bad_id, 7);
  sql(world.db, 'UPDATE usage_records SET id = -8 WHERE id = 8; UPDATE usage_records SET id = 8 WHERE id = 7; UPDATE usage_records SET id = 7 WHERE id = -8;');
  assert.equal((await verify()).ok, true);

  // Insert: a made-up record at the end, linked to the head, with a guessed hash.
  const head = before.head_hash;
  sql(world.db, `INSERT INTO usage_records (id, instrument_id, provider_org_id, user_id, payer_org_id, kind, start, end, minutes,
      source, period, tier, price_unit, rate_fen, min_charge_fen, step_minutes, basis, fee_fen, cash_fen, created_at, prev_hash, hash)
    SELECT (SELECT max(id) FROM usage_records) + 1, instrument_id, provider_org_id, user_id, payer_org_id, 'original', start, end, minutes, 'manual', period,
      tier, price_unit, rate_fen, min_charge_fen, step_minutes, basis, -500000, -500000, created_at, '${head}', '${'ab'.repeat(32)}'
    FROM usage_records WHERE id = 1`);
  const fake = before.count + 1;
  v = await verify(cp);
  assert.equal(v.first_bad_id, fake);
  assert.deepEqual(v.problems, [{ id: fake, problem: 'hash_mismatch' }]);
  assert.equal(v.against.ok, true, 'the records up to the checkpoint are untouched');
  sql(world.db, `DELETE FROM usage_records WHERE id = ${fake}`);

  // A rewrite from record 2 on with every hash recomputed: the chain is consistent again,
  // and only the checkpoint kept outside the database shows it.
  const all = rows();
  all[1].fee_fen += 1;
  all[1].cash_fen += 1;
  let prev = all[0].hash;
  const stmts = [];
  for (const r of all.slice(1)) {
    r.prev_hash = prev;
    r.hash = createHash('sha256').update(canonical(r)).digest('hex');
    prev = r.hash;
    stmts.push(`UPDATE usage_records SET fee_fen = ${r.fee_fen}, cash_fen = ${r.cash_fen}, prev_hash = '${r.prev_hash}', hash = '${r.hash}' WHERE id = ${r.id};`);
  }
  sql(world.db, 'BEGIN;' + stmts.join('') + 'COMMIT;');
  v = await verify();
  assert.equal(v.ok, true, 'a consistent rewrite passes the chain alone');
  v = await verify(cp);
  assert.equal(v.ok, false);
  assert.equal(v.against.ok, false);
  assert.notEqual(v.against.found_hash, before.head_hash);
  // Bad input for the checkpoint.
  const bad = await call(com, 'GET', '/api/v1/usage/verify?checkpoint_count=3');
  assert.equal(bad.status, 400);
});

// Under the sanitizers the demo takes a minute; its memory safety is already
// exercised by tests/http/catalogue.test.mjs, which builds it too.
test('the demo history: a usage record per completed booking, a whole chain, consistent vouchers',
  { skip: process.env.YIQI_ASAN ? 'slow under the sanitizers' : false }, async () => {
  const db = `${world.dir}/demo.db`;
  const r = spawnSync(BIN, ['demo', '--db', db], { encoding: 'utf8', cwd: ROOT_DIR, timeout: 120000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(Number(sql(db, `SELECT count(*) FROM bookings b WHERE b.status = 'completed'
    AND NOT EXISTS (SELECT 1 FROM usage_records u WHERE u.booking_id = b.id)`)), 0);
  assert.equal(Number(sql(db, `SELECT count(*) FROM usage_records u WHERE u.booking_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.id = u.booking_id AND b.status = 'completed')`)), 0);
  const kinds = Object.fromEntries(sql(db, 'SELECT kind, count(*) FROM usage_records GROUP BY 1').split('\n').map((l) => l.split('|')));
  assert.ok(Number(kinds.original) > 10000 && Number(kinds.reversal) > 0 && Number(kinds.correction) > 0, JSON.stringify(kinds));
  assert.equal(Number(sql(db, 'SELECT count(*) FROM usage_records WHERE fee_fen <> voucher_fen + cash_fen')), 0);
  assert.ok(Number(sql(db, 'SELECT count(*) FROM voucher_events WHERE kind = \'draw\'')) > 0);
  const demo = await startServer({ db, dir: world.dir, keep: true });
  try {
    const c = new (opa.constructor)(demo.url);
    await c.signIn('commission', 'demo-commission-2026');
    const v = await call(c, 'GET', '/api/v1/usage/verify');
    assert.equal(v.body.ok, true, JSON.stringify(v.body.problems));
    assert.equal(v.body.records, Number(sql(db, 'SELECT count(*) FROM usage_records')));
    const vouchers = (await call(c, 'GET', '/api/v1/vouchers?limit=500')).body.items;
    assert.ok(vouchers.length > 0);
    for (const x of vouchers) {
      const one = (await call(c, 'GET', `/api/v1/vouchers/${x.id}`)).body;
      assert.equal(one.history.ok, true, `voucher ${x.id}: ${JSON.stringify(one.history)}`);
      assert.ok(one.balance_fen >= 0);
    }
  } finally {
    await demo.stop();
  }
});
