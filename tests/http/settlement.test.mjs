// Monthly settlement against the real binary. Usage is recorded through the
// real usage API (operators of two institutions in two zones, an enterprise
// holding a voucher), then: the statement's lines, zone flows, zone nets, net
// positions and totals against sums computed here from the records; the
// workflow (the provider's operator confirms or disputes with a reason, the
// payer's operator and the commission may not, close refused while a line is
// disputed, while the month runs, or when the usage changed since the build);
// a closed month immutable (no new usage, no rebuild, no line action, storage
// triggers, a correction of one of its records landing in the current month
// with the closed statement unchanged to the byte); every action in the audit
// log; the CSV export; the XLSX read back with openpyxl (/usr/bin/python3)
// comparing every total; and broken invariants (a record whose fee is not
// voucher + cash, a record naming no institution, a tampered stored line),
// each a loud 500 with nothing stored. Every JSON answer is checked against
// proto/openapi.yaml.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkResponse } from './lib/openapi.mjs';
import { buildWorld, start, signIn, sql } from './lib/bookings-world.mjs';

let world, srv, opa, opb, com, ada, res;
const rec = {}; // usage records by name
let P; // last month: settled in these tests
let C; // the current month
let statementBefore; // the closed statement of P

async function call(client, method, path, body) {
  const r = await client.req(method, path, body);
  checkResponse(method, path, r);
  return r;
}

// The local (+08:00) month k months before now, "YYYY-MM".
function month(k) {
  const now = new Date(Date.now() + 8 * 3600e3);
  let y = now.getUTCFullYear();
  let m = now.getUTCMonth() - k;
  while (m < 0) { m += 12; y -= 1; }
  return `${y}-${String(m + 1).padStart(2, '0')}`;
}
const at = (period, day, hour, minute = 0) =>
  `${period}-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00+08:00`;
const yuan = (fen) => `${fen < 0 ? '-' : ''}${Math.floor(Math.abs(fen) / 100)}.${String(Math.abs(fen) % 100).padStart(2, '0')}`;
const fen = (v) => Math.round(Number(v) * 100);

before(async () => {
  world = buildWorld();
  sql(world.db, `
    INSERT INTO orgs (code, name_zh, name_en, kind, zone_id, credit_code) VALUES
      ('E', '丙科技有限公司', 'Enterprise E', 'enterprise', (SELECT id FROM zones WHERE code='neobay'), '91310000000000003C');
    INSERT INTO lab_groups (org_id, name) VALUES ((SELECT id FROM orgs WHERE code='E'), 'e-lab');
    INSERT INTO users (login, name, org_id, group_id, roles, password_hash)
      SELECT 'rese', 'rese', (SELECT id FROM orgs WHERE code='E'), (SELECT id FROM lab_groups WHERE name='e-lab'), 1, password_hash
      FROM users WHERE login = 'res';`);
  for (const code of ['A', 'B', 'E']) world[`org${code}`] = Number(sql(world.db, `SELECT id FROM orgs WHERE code='${code}'`));
  world.users.rese = Number(sql(world.db, `SELECT id FROM users WHERE login='rese'`));
  srv = await start(world);
  [opa, opb, com, ada, res] = await Promise.all(['opa', 'opb', 'com', 'ada', 'res'].map((l) => signIn(srv, l)));
  P = month(1);
  C = month(0);
});
after(async () => {
  await srv?.stop();
  rmSync(world.dir, { recursive: true, force: true });
});

// The statement the records should give, computed here.
function expected(records) {
  const zone = { [world.orgA]: 'neobay', [world.orgB]: 'zhangjiang', [world.orgE]: 'neobay' };
  const lines = new Map();
  const flows = new Map();
  const net = new Map();
  const totals = { uses: 0, minutes: 0, fee_fen: 0, voucher_fen: 0, cash_fen: 0 };
  for (const r of records) {
    const k = `${r.provider_org_id}/${r.payer_org_id}`;
    const l = lines.get(k) || { provider_org_id: r.provider_org_id, payer_org_id: r.payer_org_id, provider_zone: zone[r.provider_org_id], payer_zone: zone[r.payer_org_id], uses: 0, minutes: 0, fee_fen: 0, voucher_fen: 0, cash_fen: 0 };
    const d = r.kind === 'reversal' ? -1 : 1;
    for (const o of [l, totals]) {
      o.uses += d; o.minutes += r.minutes; o.fee_fen += r.fee_fen; o.voucher_fen += r.voucher_fen; o.cash_fen += r.cash_fen;
    }
    lines.set(k, l);
    const f = `${zone[r.payer_org_id]}>${zone[r.provider_org_id]}`;
    flows.set(f, (flows.get(f) || 0) + r.fee_fen);
    const p = net.get(r.provider_org_id) || { receivable_fen: 0, payable_fen: 0 };
    p.receivable_fen += r.fee_fen;
    net.set(r.provider_org_id, p);
    const q = net.get(r.payer_org_id) || { receivable_fen: 0, payable_fen: 0 };
    q.payable_fen += r.cash_fen;
    net.set(r.payer_org_id, q);
  }
  const byPair = (a, b) => a.provider_org_id - b.provider_org_id || a.payer_org_id - b.payer_org_id;
  return {
    lines: [...lines.values()].sort(byPair),
    flows: [...flows.entries()].map(([k, v]) => ({ from_zone: k.split('>')[0], to_zone: k.split('>')[1], fee_fen: v }))
      .sort((a, b) => (a.from_zone + a.to_zone).localeCompare(b.from_zone + b.to_zone)),
    net: [...net.entries()].map(([org, v]) => ({ org_id: Number(org), ...v, net_fen: v.receivable_fen - v.payable_fen }))
      .sort((a, b) => a.org_id - b.org_id),
    totals,
  };
}

function assertStatementMatches(st, records) {
  const want = expected(records);
  const pick = (l) => ({ provider_org_id: l.provider_org_id, payer_org_id: l.payer_org_id, provider_zone: l.provider_zone, payer_zone: l.payer_zone, uses: l.uses, minutes: l.minutes, fee_fen: l.fee_fen, voucher_fen: l.voucher_fen, cash_fen: l.cash_fen });
  assert.deepEqual(st.lines.map(pick), want.lines);
  assert.deepEqual(st.zone_flows, want.flows);
  const orgs = st.net_positions.filter((n) => n.org_id).map((n) => ({ org_id: n.org_id, receivable_fen: n.receivable_fen, payable_fen: n.payable_fen, net_fen: n.net_fen }));
  assert.deepEqual(orgs, want.net);
  assert.deepEqual(st.totals, want.totals);
  // The invariants, seen from outside.
  const fund = st.net_positions.find((n) => n.party === 'voucher_fund');
  assert.equal(fund.net_fen + want.totals.voucher_fen, 0, 'the voucher fund pays the vouchers');
  assert.equal(st.net_positions.reduce((s, n) => s + n.net_fen, 0), 0, 'net positions sum to zero');
  for (const l of st.lines) assert.equal(l.fee_fen, l.voucher_fen + l.cash_fen, 'fee = voucher + cash');
  assert.equal(st.lines.reduce((s, l) => s + l.fee_fen, 0), records.reduce((s, r) => s + r.fee_fen, 0));
  // Zone nets: per unordered pair of different zones, positive when a pays b.
  const flow = (a, b) => want.flows.find((f) => f.from_zone === a && f.to_zone === b)?.fee_fen || 0;
  assert.deepEqual(st.zone_net, [{ zone_a: 'neobay', zone_b: 'zhangjiang', net_fen: flow('neobay', 'zhangjiang') - flow('zhangjiang', 'neobay') }]);
}

async function use(name, client, instrument, user, start, end) {
  const r = await call(client, 'POST', '/api/v1/usage', { instrument_id: world.ids[instrument], user_id: world.users[user], start, end });
  assert.equal(r.status, 201, `${name}: ${r.text}`);
  rec[name] = r.body;
  return r.body;
}
const periodRecords = async (period) => (await call(com, 'GET', `/api/v1/usage?period=${period}&limit=500`)).body.items;
const lineOf = (st, provider, payer) => st.lines.find((l) => l.provider_org_id === provider && l.payer_org_id === payer);

test('build: lines, zone flows, zone nets, net positions and totals from the usage records', async () => {
  const year = Number(P.slice(0, 4));
  let r = await call(com, 'POST', '/api/v1/vouchers', { org_id: world.orgE, year, amount_fen: 10000000, rate_percent: 50 });
  assert.equal(r.status, 201, r.text);
  // On A's 24/7 instrument (rates: internal 100, zone and cross-zone 200 yuan/h; minimum 50; 15 min step).
  await use('aa', opa, 'open', 'res', at(P, 10, 9), at(P, 10, 10));
  await use('ab', opa, 'open', 'resb', at(P, 10, 10), at(P, 10, 11, 30));
  await use('ae', opa, 'open', 'rese', at(P, 10, 12), at(P, 10, 13));
  await use('ae2', opa, 'open', 'rese', at(P, 11, 9), at(P, 11, 9, 10));
  // On B's.
  await use('ba', opb, 'far', 'res', at(P, 10, 9), at(P, 10, 11));
  await use('bb', opb, 'far', 'resb', at(P, 10, 12), at(P, 10, 12, 45));
  await use('be', opb, 'far', 'rese', at(P, 10, 14), at(P, 10, 15));
  assert.equal(rec.ae.voucher_fen, 10000, 'the enterprise pays half by voucher');
  assert.equal(rec.ab.tier, 'cross_zone');

  r = await call(com, 'POST', '/api/v1/settlements', { period: P });
  assert.equal(r.status, 201, r.text);
  const st = r.body;
  assert.equal(st.period, P);
  assert.equal(st.status, 'draft');
  assert.equal(st.scope, 'all');
  assert.equal(st.records, 7);
  assert.equal(st.stale, false);
  assert.equal(st.lines.length, 6);
  assert.ok(st.lines.every((l) => l.state === 'open'));
  assert.deepEqual(st.counts, { open: 6, confirmed: 0, disputed: 0 });
  assert.match(r.headers.get('server-timing'), /build;dur=/);
  assertStatementMatches(st, Object.values(rec));
  assert.equal(st.totals.voucher_fen, 10000 + 2500 + 10000);
  // The ledger checkpoint at build: the ledger's count and head hash.
  const v = (await call(com, 'GET', '/api/v1/usage/verify')).body;
  assert.equal(v.ok, true);
  assert.deepEqual(st.checkpoint, { count: v.checkpoint.count, head_hash: v.checkpoint.head_hash });

  // Rebuilding a draft: 200, the same lines (ids kept).
  r = await call(com, 'POST', '/api/v1/settlements', { period: P });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.lines.map((l) => l.id), st.lines.map((l) => l.id));
  r = await call(com, 'GET', '/api/v1/settlements');
  assert.deepEqual(r.body.items.map((x) => [x.period, x.status, x.lines, x.fee_fen]), [[P, 'draft', 6, st.totals.fee_fen]]);

  // Refusals.
  const next = (() => { const [y, m] = C.split('-').map(Number); return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`; })();
  for (const [body, status, code, client] of [
    [{ period: next }, 400, 'in_future', com],
    [{ period: '2026-13' }, 400, 'invalid_field', com],
    [{ period: 202611 }, 400, 'invalid_field', com],
    [{}, 400, 'invalid_field', com],
    [{ period: P }, 403, 'forbidden', ada],
    [{ period: P }, 403, 'forbidden', opa],
  ]) {
    r = await call(client, 'POST', '/api/v1/settlements', body);
    assert.equal(r.status, status, JSON.stringify(body) + r.text);
    assert.equal(r.body.error.code, code);
  }
  r = await call(com, 'GET', '/api/v1/settlements/2001-01');
  assert.equal(r.status, 404);
  r = await call(com, 'GET', '/api/v1/settlements/yesterday');
  assert.equal(r.status, 404);
});

test('who reads what: the commission and admins all, an operator their institution\'s lines', async () => {
  const full = (await call(com, 'GET', `/api/v1/settlements/${P}`)).body;
  assert.deepEqual((await call(ada, 'GET', `/api/v1/settlements/${P}`)).body, full);
  const r = await call(opb, 'GET', `/api/v1/settlements/${P}`);
  assert.equal(r.status, 200);
  const own = r.body;
  assert.equal(own.scope, 'org');
  assert.equal(own.org_id, world.orgB);
  const mine = full.lines.filter((l) => l.provider_org_id === world.orgB || l.payer_org_id === world.orgB);
  assert.deepEqual(own.lines, mine);
  assert.deepEqual(own.zone_flows, []);
  assert.deepEqual(own.zone_net, []);
  assert.deepEqual(own.net_positions, full.net_positions.filter((n) => n.org_id === world.orgB));
  assert.equal(own.totals.fee_fen, mine.reduce((s, l) => s + l.fee_fen, 0));
  const list = (await call(opb, 'GET', '/api/v1/settlements')).body.items;
  assert.equal(list[0].lines, mine.length);
  for (const c of [res]) {
    assert.equal((await call(c, 'GET', `/api/v1/settlements/${P}`)).status, 403);
    assert.equal((await call(c, 'GET', '/api/v1/settlements')).status, 403);
    assert.equal((await call(c, 'GET', `/api/v1/settlements/${P}/export?format=csv`)).status, 403);
  }
});

test('workflow: the provider\'s operator confirms or disputes; close waits for disputes, the month\'s end and a fresh build', async () => {
  let st = (await call(com, 'GET', `/api/v1/settlements/${P}`)).body;
  const ab = lineOf(st, world.orgA, world.orgB);
  const ae = lineOf(st, world.orgA, world.orgE);
  const aa = lineOf(st, world.orgA, world.orgA);
  const ba = lineOf(st, world.orgB, world.orgA);
  const path = (l, action) => `/api/v1/settlements/${P}/lines/${l.id}/${action}`;

  // Only the provider institution's operator (or an admin) acts on a line.
  let r = await call(opb, 'POST', path(ab, 'confirm'));
  assert.equal(r.status, 403, 'the payer\'s operator may read the line but not confirm it');
  r = await call(com, 'POST', path(ab, 'confirm'));
  assert.equal(r.status, 403, 'the commission does not confirm lines');
  r = await call(opb, 'POST', path(aa, 'confirm'));
  assert.equal(r.status, 404, 'a line B has no part in is not even visible to B');
  r = await call(res, 'POST', path(ab, 'confirm'));
  assert.equal(r.status, 403);
  r = await call(opa, 'POST', `/api/v1/settlements/${P}/lines/999999/confirm`);
  assert.equal(r.status, 404);

  r = await call(opa, 'POST', path(ab, 'confirm'));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.state, 'confirmed');
  assert.equal(r.body.id, ab.id);
  assert.equal(r.body.acted_by, world.users.opa);
  r = await call(opa, 'POST', path(aa, 'confirm'), { reason: 'checked against the log book' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.reason, 'checked against the log book');
  r = await call(opa, 'POST', path(ae, 'dispute'), {});
  assert.equal(r.status, 400);
  assert.equal(r.body.error.field, 'reason');
  r = await call(opa, 'POST', path(ae, 'dispute'), { reason: '' });
  assert.equal(r.status, 400);
  r = await call(opa, 'POST', path(ae, 'dispute'), { reason: '9 日的两小时未在本单位登记' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.state, 'disputed');
  assert.equal(r.body.reason, '9 日的两小时未在本单位登记');
  r = await call(ada, 'POST', path(ba, 'confirm'));
  assert.equal(r.status, 200, 'an admin may act for any institution');

  // Closing: commission only; refused while a line is disputed.
  r = await call(opa, 'POST', `/api/v1/settlements/${P}/close`);
  assert.equal(r.status, 403);
  r = await call(ada, 'POST', `/api/v1/settlements/${P}/close`);
  assert.equal(r.status, 403);
  r = await call(com, 'POST', `/api/v1/settlements/${P}/close`);
  assert.equal(r.status, 409, r.text);
  assert.equal(r.body.error.code, 'disputed_lines');
  st = (await call(com, 'GET', `/api/v1/settlements/${P}`)).body;
  assert.deepEqual(st.counts, { open: 2, confirmed: 3, disputed: 1 });

  // The dispute is settled (a late record), confirming the line again.
  await use('aa2', opa, 'open', 'res', at(P, 20, 9), at(P, 20, 9, 30));
  r = await call(opa, 'POST', path(ae, 'confirm'));
  assert.equal(r.body.state, 'confirmed');
  st = (await call(com, 'GET', `/api/v1/settlements/${P}`)).body;
  assert.equal(st.stale, true, 'a record was added to the month after the build');
  r = await call(com, 'POST', `/api/v1/settlements/${P}/close`);
  assert.equal(r.status, 409, r.text);
  assert.equal(r.body.error.code, 'statement_stale');
  r = await call(com, 'POST', '/api/v1/settlements', { period: P });
  assert.equal(r.status, 200);
  st = r.body;
  assert.equal(st.stale, false);
  assert.equal(lineOf(st, world.orgA, world.orgA).state, 'open', 'a confirmed line whose figures changed is open again');
  assert.equal(lineOf(st, world.orgA, world.orgA).reason, '');
  assert.equal(lineOf(st, world.orgA, world.orgB).state, 'confirmed', 'an unchanged line keeps its state');
  assertStatementMatches(st, await periodRecords(P));

  // The running month cannot be closed.
  r = await call(com, 'POST', '/api/v1/settlements', { period: C });
  assert.equal(r.status, 201, r.text);
  r = await call(com, 'POST', `/api/v1/settlements/${C}/close`);
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'period_not_ended');
  r = await call(com, 'POST', '/api/v1/settlements/2001-01/close');
  assert.equal(r.status, 404);

  r = await call(com, 'POST', `/api/v1/settlements/${P}/close`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, 'closed');
  assert.equal(r.body.closed_by, world.users.com);
  assert.ok(r.body.closed_at);
  const v = (await call(com, 'GET', '/api/v1/usage/verify')).body;
  assert.deepEqual(r.body.checkpoint, { count: v.checkpoint.count, head_hash: v.checkpoint.head_hash }, 'the checkpoint of the closing');
  statementBefore = r.body;

  // Closed: nothing more happens to it.
  r = await call(com, 'POST', `/api/v1/settlements/${P}/close`);
  assert.equal(r.body.error.code, 'period_closed');
  r = await call(com, 'POST', '/api/v1/settlements', { period: P });
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'period_closed');
  r = await call(opa, 'POST', path(aa, 'confirm'));
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'period_closed');
  r = await call(opb, 'POST', path(ba, 'dispute'), { reason: 'too late' });
  assert.equal(r.body.error.code, 'period_closed');
  r = await call(opa, 'POST', '/api/v1/usage', { instrument_id: world.ids.open, user_id: world.users.res, start: at(P, 25, 9), end: at(P, 25, 10) });
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'period_closed');
});

test('a closed month is immutable: a correction of its usage lands in the current month', async () => {
  const csvBefore = (await call(com, 'GET', `/api/v1/settlements/${P}/export?format=csv`)).text;
  // Even straight in the database, a closed statement refuses writes.
  for (const stmt of [
    `UPDATE settlement_lines SET fee_fen = fee_fen + 1 WHERE period = '${P}'`,
    `DELETE FROM settlement_lines WHERE period = '${P}'`,
    `UPDATE settlements SET status = 'draft' WHERE period = '${P}'`,
    `DELETE FROM settlement_net WHERE period = '${P}'`,
  ]) {
    const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', world.db, stmt], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, stmt);
    assert.match(r.stderr, /period_closed/);
  }

  // The cross-zone use of the 10th was really 1 h, not 1.5 h.
  let r = await call(opa, 'POST', `/api/v1/usage/${rec.ab.id}/correct`, { start: rec.ab.start, end: at(P, 10, 11), reason: '实际使用一小时' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.period, C);
  assert.equal(r.body.reversal.period, C);
  const fixed = r.body;

  r = await call(com, 'GET', `/api/v1/settlements/${P}`);
  assert.deepEqual(r.body, { ...statementBefore, stale: false }, 'the closed statement is unchanged');
  assert.equal((await call(com, 'GET', `/api/v1/settlements/${P}/export?format=csv`)).text, csvBefore, 'and so is its export');
  assert.equal((await periodRecords(P)).length, 8, 'no record was added to the closed month');

  // The current month carries the reversal and the corrected record: one use
  // still (-1 + 1), 30 minutes and their fee less.
  r = await call(com, 'POST', '/api/v1/settlements', { period: C });
  assert.equal(r.status, 200, r.text);
  const cur = r.body;
  const l = lineOf(cur, world.orgA, world.orgB);
  assert.deepEqual([l.uses, l.minutes, l.fee_fen], [0, -30, fixed.fee_fen - rec.ab.fee_fen]);
  assert.equal(l.fee_fen, -10000);
  assertStatementMatches(cur, await periodRecords(C));
});

test('every settlement action is in the audit log', async () => {
  const entries = (await call(com, 'GET', '/api/v1/audit?limit=500')).body.items.filter((e) => e.object_type.startsWith('settlement'));
  const seen = entries.map((e) => `${e.action} ${e.actor_login}`);
  for (const want of ['settlement_build com', 'settlement_rebuild com', 'settlement_line_confirm opa', 'settlement_line_dispute opa',
    'settlement_line_confirm ada', 'settlement_close com']) {
    assert.ok(seen.includes(want), `${want} in ${seen.join(', ')}`);
  }
  const dispute = entries.find((e) => e.action === 'settlement_line_dispute');
  assert.equal(dispute.after.reason, '9 日的两小时未在本单位登记');
  assert.equal(dispute.before.state, 'open');
  assert.equal(dispute.org_id, world.orgA);
  const close = entries.find((e) => e.action === 'settlement_close');
  assert.equal(close.object_id, Number(P.replace('-', '')));
  assert.equal(close.before.status, 'draft');
  assert.equal(close.after.status, 'closed');
  assert.deepEqual(close.after.checkpoint, statementBefore.checkpoint);
  assert.equal(entries.filter((e) => e.action === 'settlement_close').length, 1, 'refused closings write nothing');
});

// A small RFC 4180 reader (quotes, doubled quotes, CRLF).
function parseCsv(text) {
  const rows = [];
  let row = [], cell = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') q = false; else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\r') { /* CRLF */ } else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

// The rows of the section whose title row starts with `title`, up to the next blank row (header included).
function section(rows, title) {
  const i = rows.findIndex((r) => String(r[0]).startsWith(title));
  assert.ok(i >= 0, `section ${title}`);
  const out = [];
  for (let j = i + 1; j < rows.length && rows[j].some((c) => c !== '' && c !== null); j++) out.push(rows[j]);
  return out;
}

test('CSV export: bilingual headers, yuan with two decimals, every total and the ledger checkpoint', async () => {
  const st = statementBefore;
  const r = await call(com, 'GET', `/api/v1/settlements/${P}/export?format=csv`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/csv/);
  assert.match(r.headers.get('content-disposition'), new RegExp(`yiqi-settlement-${P}\\.csv`));
  const raw = Buffer.from(await (await fetch(`${srv.url}/api/v1/settlements/${P}/export?format=csv`, { headers: { cookie: com.cookie } })).arrayBuffer());
  assert.deepEqual([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM for Excel');
  assert.equal(raw.subarray(3).toString('utf8'), r.text, 'fetch drops the BOM from text');
  const rows = parseCsv(r.text);
  assert.deepEqual(rows[1], ['结算期 Period', P]);
  assert.deepEqual(rows[2], ['状态 Status', '已关闭 closed']);
  const totals = section(rows, '合计 Totals');
  assert.deepEqual(totals[0], ['使用次数 Uses', '机时（分钟） Minutes', '机时（小时） Hours', '费用（元） Fee (CNY)', '创新券（元） Voucher (CNY)', '现金（元） Cash (CNY)']);
  const t = st.totals;
  assert.deepEqual(totals[1], [String(t.uses), String(t.minutes), (t.minutes / 60).toFixed(2), yuan(t.fee_fen), yuan(t.voucher_fen), yuan(t.cash_fen)]);

  const lines = section(rows, '结算明细 Lines');
  assert.equal(lines[0][10], '费用（元） Fee (CNY)');
  assert.equal(lines.length, st.lines.length + 2);
  for (const l of st.lines) {
    const row = lines.find((x) => x[0] === String(l.id));
    assert.deepEqual(row.slice(1, 13), [l.provider_org_code, l.provider_org_name_zh, l.provider_zone, l.payer_org_code, l.payer_org_name_zh, l.payer_zone,
      String(l.uses), String(l.minutes), (l.minutes / 60).toFixed(2), yuan(l.fee_fen), yuan(l.voucher_fen), yuan(l.cash_fen)]);
  }
  const total = lines.at(-1);
  assert.equal(total[0], '合计 Total');
  assert.deepEqual(total.slice(10, 13), [yuan(t.fee_fen), yuan(t.voucher_fen), yuan(t.cash_fen)]);
  assert.equal(lines.slice(1, -1).reduce((s, x) => s + fen(x[10]), 0), t.fee_fen);

  const flows = section(rows, '片区间资金流向 Zone flows').slice(1);
  assert.deepEqual(flows, st.zone_flows.map((f) => [f.from_zone, f.to_zone, yuan(f.fee_fen)]));
  const znet = section(rows, '片区净额 Zone net').slice(1);
  assert.deepEqual(znet, st.zone_net.map((z) => [z.zone_a, z.zone_b, yuan(z.net_fen)]));

  const net = section(rows, '单位净额（多边轧差）');
  for (const n of st.net_positions.filter((x) => x.org_id)) {
    const row = net.find((x) => x[0] === n.org_code);
    assert.deepEqual(row.slice(4, 7), [yuan(n.receivable_fen), yuan(n.payable_fen), yuan(n.net_fen)]);
  }
  assert.equal(net.find((x) => x[0] === '创新券资金 Voucher fund')[6], yuan(-t.voucher_fen));
  assert.deepEqual(net.at(-1).slice(4, 7), [yuan(t.fee_fen), yuan(t.cash_fen), '0.00']);
  assert.deepEqual(rows.at(-1), ['账本检查点 Ledger checkpoint', '记录数 Records', String(st.checkpoint.count), '末条哈希 Head hash', st.checkpoint.head_hash]);

  // An operator's export holds only their institution's lines.
  const b = parseCsv((await call(opb, 'GET', `/api/v1/settlements/${P}/export`)).text);
  const bl = section(b, '结算明细 Lines').slice(1, -1);
  assert.deepEqual(bl.map((x) => Number(x[0])), st.lines.filter((l) => l.provider_org_id === world.orgB || l.payer_org_id === world.orgB).map((l) => l.id));
  assert.ok(!b.some((x) => x[0].startsWith('片区间资金流向')), 'no zone flows for an operator');
  assert.equal((await call(com, 'GET', `/api/v1/settlements/${P}/export?format=pdf`)).status, 400);
});

// Dumps every sheet of an XLSX file with openpyxl: [{title, footer, rows}].
const DUMP = `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = []
for ws in wb.worksheets:
    out.append({'title': ws.title, 'footer': ws.oddFooter.left.text,
                'rows': [[c for c in r] for r in ws.iter_rows(values_only=True)]})
print(json.dumps(out, ensure_ascii=False, default=str))
`;

test('XLSX export read back with openpyxl: summary, one sheet per zone pair, net positions, every total', async () => {
  const st = statementBefore;
  const url = `/api/v1/settlements/${P}/export?format=xlsx`;
  const r = await fetch(srv.url + url, { headers: { cookie: com.cookie } });
  assert.equal(r.status, 200);
  checkResponse('GET', url, r);
  assert.match(r.headers.get('content-disposition'), new RegExp(`yiqi-settlement-${P}\\.xlsx`));
  const bytes = Buffer.from(await r.arrayBuffer());
  assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'a zip container');
  const file = join(world.dir, 'statement.xlsx');
  writeFileSync(file, bytes);
  const book = JSON.parse(execFileSync('/usr/bin/python3', ['-c', DUMP, file], { encoding: 'utf8' }));
  const pairs = [...new Set(st.lines.map((l) => [l.payer_zone, l.provider_zone].sort().join('-')))].sort();
  assert.deepEqual(book.map((s) => s.title), ['汇总 Summary', ...pairs, '净额 Net positions']);
  assert.deepEqual(pairs, ['neobay-neobay', 'neobay-zhangjiang', 'zhangjiang-zhangjiang']);
  const sheet = (title) => book.find((s) => s.title === title).rows.map((row) => row.map((c) => (c === null ? '' : c)));
  const cp = `账本检查点 Ledger checkpoint: ${st.checkpoint.count} records, head ${st.checkpoint.head_hash}`;
  for (const s of book) {
    assert.equal(s.footer, cp, `${s.title}: the ledger checkpoint in the footer`);
    const last = s.rows.at(-1);
    assert.deepEqual(last.slice(0, 5), ['账本检查点 Ledger checkpoint', '记录数 Records', st.checkpoint.count, '末条哈希 Head hash', st.checkpoint.head_hash]);
  }

  const money = (v) => Math.round(v * 100);
  const sumCols = (row, at) => [row[at], row[at + 1], money(row[at + 3]), money(row[at + 4]), money(row[at + 5])];
  const t = st.totals;
  const summary = sheet('汇总 Summary');
  assert.deepEqual(summary[1].slice(0, 2), ['结算期 Period', P]);
  const totals = section(summary, '合计 Totals');
  assert.equal(totals[0][3], '费用（元） Fee (CNY)');
  assert.deepEqual(sumCols(totals[1], 0), [t.uses, t.minutes, t.fee_fen, t.voucher_fen, t.cash_fen]);
  assert.equal(Math.round(totals[1][2] * 100), Math.round((t.minutes / 60) * 100));
  const flows = section(summary, '片区间资金流向 Zone flows').slice(1);
  assert.deepEqual(flows.map((f) => [f[0], f[1], money(f[2])]), st.zone_flows.map((f) => [f.from_zone, f.to_zone, f.fee_fen]));
  const znet = section(summary, '片区净额 Zone net').slice(1);
  assert.deepEqual(znet.map((z) => [z[0], z[1], money(z[2])]), st.zone_net.map((z) => [z.zone_a, z.zone_b, z.net_fen]));

  const lineCheck = (rows, want, totalLabel) => {
    assert.equal(rows.length, want.length + 2);
    for (const l of want) {
      const row = rows.find((x) => x[0] === l.id);
      assert.ok(row, `line ${l.id}`);
      assert.deepEqual(row.slice(1, 7), [l.provider_org_code, l.provider_org_name_zh, l.provider_zone, l.payer_org_code, l.payer_org_name_zh, l.payer_zone]);
      assert.deepEqual(sumCols(row, 7), [l.uses, l.minutes, l.fee_fen, l.voucher_fen, l.cash_fen]);
      assert.equal(row[13], { open: '待确认 open', confirmed: '已确认 confirmed', disputed: '有异议 disputed' }[l.state]);
    }
    const total = rows.at(-1);
    assert.equal(total[0], totalLabel);
    const sum = (k) => want.reduce((s, l) => s + l[k], 0);
    assert.deepEqual(sumCols(total, 7), [sum('uses'), sum('minutes'), sum('fee_fen'), sum('voucher_fen'), sum('cash_fen')]);
    return money(total[10]);
  };
  assert.equal(lineCheck(section(summary, '结算明细 Lines'), st.lines, '合计 Total'), t.fee_fen);

  let pairFees = 0;
  for (const pair of pairs) {
    const rows = sheet(pair);
    const [a, b] = pair.split('-');
    const want = st.lines.filter((l) => [l.payer_zone, l.provider_zone].sort().join('-') === pair);
    pairFees += lineCheck(section(rows, '本片区对结算明细'), want, '小计 Subtotal');
    const pf = section(rows, '片区间资金流向 Zone flows').slice(1);
    assert.deepEqual(pf.map((f) => [f[0], f[1], money(f[2])]),
      st.zone_flows.filter((f) => [f.from_zone, f.to_zone].sort().join('-') === pair).map((f) => [f.from_zone, f.to_zone, f.fee_fen]));
    if (a !== b) {
      const pn = section(rows, '片区净额 Zone net').slice(1);
      assert.deepEqual(pn.map((z) => [z[0], z[1], money(z[2])]), st.zone_net.map((z) => [z.zone_a, z.zone_b, z.net_fen]));
      const fl = (x, y) => st.zone_flows.find((f) => f.from_zone === x && f.to_zone === y)?.fee_fen || 0;
      assert.equal(money(pn[0][2]), fl(a, b) - fl(b, a));
    }
  }
  assert.equal(pairFees, t.fee_fen, 'the zone-pair sheets together hold every fee once');

  const net = section(sheet('净额 Net positions'), '单位净额（多边轧差）').slice(1);
  const orgs = st.net_positions.filter((n) => n.org_id);
  for (const n of orgs) {
    const row = net.find((x) => x[0] === n.org_code);
    assert.deepEqual([row[1], row[2], row[3]], [n.name_zh, n.name_en, n.zone]);
    assert.deepEqual([money(row[4]), money(row[5]), money(row[6])], [n.receivable_fen, n.payable_fen, n.net_fen]);
    assert.equal(row[7], n.net_fen > 0 ? '应收 receives' : n.net_fen < 0 ? '应付 pays' : '持平 even');
  }
  assert.equal(money(net.find((x) => x[0] === '创新券资金 Voucher fund')[6]), -t.voucher_fen);
  const total = net.at(-1);
  assert.equal(total[0], '合计 Total');
  assert.deepEqual([money(total[4]), money(total[5]), money(total[6])], [t.fee_fen, t.cash_fen, 0]);
  assert.equal(net.slice(0, -1).reduce((s, x) => s + money(x[6]), 0), 0, 'net positions sum to zero in the sheet too');
});

// A usage record written straight into the file (as tampering or a bug would):
// no hash chain, whatever fields are given.
function insertRaw(period, { provider, payer, fee, voucher, cash }) {
  const day = `${period}-05T10:00:00+08:00`;
  const t = Math.floor(Date.parse(day) / 1000);
  sql(world.db, `INSERT INTO usage_records (instrument_id, provider_org_id, user_id, payer_org_id, kind, start, end, minutes, source, period, tier,
    price_unit, rate_fen, min_charge_fen, step_minutes, basis, fee_fen, voucher_fen, cash_fen, created_at, prev_hash, hash)
    VALUES (${world.ids.open}, ${provider}, ${world.users.res}, ${payer}, 'original', ${t}, ${t + 3600}, 60, 'manual', '${period}', 'internal',
    'hour', 10000, 0, 15, 'used', ${fee}, ${voucher}, ${cash}, ${t}, '${'0'.repeat(64)}', '${'f'.repeat(64)}')`);
}

test('a broken invariant is a loud error and no statement is stored', async () => {
  const auditFailures = async () => (await call(com, 'GET', '/api/v1/audit?limit=500')).body.items.filter((e) => e.action === 'settlement_build_failed');
  // fee != voucher + cash on a record.
  const Q = month(3);
  insertRaw(Q, { provider: world.orgA, payer: world.orgB, fee: 10000, voucher: 0, cash: 9000 });
  let r = await call(com, 'POST', '/api/v1/settlements', { period: Q });
  assert.equal(r.status, 500, r.text);
  assert.equal(r.body.error.code, 'settlement_invariant');
  assert.match(r.body.error.message, /fee_split/);
  assert.equal((await call(com, 'GET', `/api/v1/settlements/${Q}`)).status, 404, 'nothing stored');
  assert.equal(sql(world.db, `SELECT count(*) FROM settlement_lines WHERE period = '${Q}'`), '0');
  assert.match(srv.stderr(), new RegExp(`settlement ${Q}: invariant broken, statement not stored: fee_split`));

  // A record naming an institution that does not exist: the lines' fees fall short of the period's.
  const R = month(4);
  insertRaw(R, { provider: 999999, payer: world.orgB, fee: 5000, voucher: 0, cash: 5000 });
  r = await call(com, 'POST', '/api/v1/settlements', { period: R });
  assert.equal(r.status, 500, r.text);
  assert.equal(r.body.error.code, 'settlement_invariant');
  assert.match(r.body.error.message, /fee_sum/);
  assert.equal((await call(com, 'GET', `/api/v1/settlements/${R}`)).status, 404);
  const failures = await auditFailures();
  assert.deepEqual(failures.map((e) => e.after.period).sort(), [Q, R].sort());
  assert.match(failures.find((e) => e.after.period === Q).after.invariant, /^fee_split/);

  // A stored draft tampered with: reading it is refused, a rebuild repairs it.
  sql(world.db, `UPDATE settlement_lines SET cash_fen = cash_fen + 1 WHERE period = '${C}' AND provider_org_id = ${world.orgA} AND payer_org_id = ${world.orgB}`);
  r = await call(com, 'GET', `/api/v1/settlements/${C}`);
  assert.equal(r.status, 500);
  assert.equal(r.body.error.code, 'settlement_invariant');
  assert.match(r.body.error.message, /fee_split/);
  assert.equal((await call(com, 'GET', `/api/v1/settlements/${C}/export?format=csv`)).status, 500);
  r = await call(com, 'POST', '/api/v1/settlements', { period: C });
  assert.equal(r.status, 200, r.text);
  assertStatementMatches(r.body, await periodRecords(C));
});
