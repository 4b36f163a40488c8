// Usage statistics against the real binary (issue 8). Usage is recorded,
// corrected and voided through the real API (POST /api/v1/usage and
// /usage/{id}/correct), maintenance blocks through the blocks API, over three
// months in the past; then every statistics endpoint is compared, over ranges
// that exercise whole months, whole days and partial days, with the figures
// recomputed here from the raw records (DOMAIN.md "Statistics": used,
// external and cross-zone minutes, uses, distinct users and institutions,
// rated minutes prorated by days and reduced by maintenance, utilisation,
// share rate, idleness, flows, no-show and cancellation rates). The rollup
// tables themselves are compared with a full recomputation of the log, and
// /stats/verify must notice a tampered rollup. Then: who may read what,
// CSV tables, the annual report (CSV and XLSX) and the /metrics gauges.
// Every JSON answer is checked against proto/openapi.yaml.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkResponse } from './lib/openapi.mjs';
import { buildWorld, start, signIn, iso, localMidnight, H, sql } from './lib/bookings-world.mjs';

const LOCAL = 8 * 3600;
const DAY = 86400;
let world, srv, com, ada, opa, opb, res;
const NOW = Math.floor(Date.now() / 1000);

async function call(client, path) {
  const r = await client.req('GET', path);
  checkResponse('GET', path, r);
  return r;
}
async function post(client, path, body) {
  const r = await client.req('POST', path, body);
  checkResponse('POST', path, r);
  return r;
}
const rows = (text) => JSON.parse(execFileSync('sqlite3', ['-json', '-cmd', '.timeout 5000', world.db, text], { encoding: 'utf8' }) || '[]');
const TIMES = new Set(['from', 'to', 'at']);
const q = (params) => new URLSearchParams(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, TIMES.has(k) ? iso(v) : String(v)]))).toString();

// ---- calendar (Asia/Shanghai has no daylight saving: a fixed +8) ----
const dayOf = (t) => Math.floor((t + LOCAL) / DAY);
function monthStart(t, add = 0) {
  const d = new Date((t + LOCAL) * 1000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1) / 1000 - LOCAL;
}
const monthKey = (t) => new Date((t + LOCAL) * 1000).toISOString().slice(0, 7);
const yearStart = (y) => Date.UTC(y, 0, 1) / 1000 - LOCAL;
const localYear = (t) => new Date((t + LOCAL) * 1000).getUTCFullYear();

// ---- the formulas, written again independently of the server ----
// Rated minutes: hours/year x 60 prorated by the exact seconds within each
// local calendar year, rounded half up, less the union of block minutes
// (floored to a minute), floored at 0; only while in service.
function proratedMinutes(hours, from, to) {
  let num = 0n;
  const den = 365n * 366n * 1440n;
  for (let y = localYear(from); y <= localYear(to); y++) {
    const a = yearStart(y), b = yearStart(y + 1);
    const lo = Math.max(from, a), hi = Math.min(to, b);
    if (hi <= lo) continue;
    const days = BigInt((b - a) / DAY);
    num += BigInt(hours) * BigInt(hi - lo) * (731n - days); // hours x s / (days x 1440), over den
  }
  return Number((num * 2n + den) / (2n * den));
}
function blockMinutes(blocks, from, to) {
  const iv = blocks.map((b) => [Math.max(b.start, from), Math.min(b.end, to)]).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let secs = 0, reach = from;
  for (const [a, b] of iv) {
    const lo = Math.max(a, reach);
    if (b > lo) secs += b - lo;
    reach = Math.max(reach, b);
  }
  return Math.floor(secs / 60);
}
function inService(ins, from, to) {
  // In service from the purchase date; without one, from the local day it was listed.
  const listed = Math.floor((ins.created_at + LOCAL) / 86400) * 86400 - LOCAL;
  const since = ins.purchase_date ? Date.parse(`${ins.purchase_date}T00:00:00+08:00`) / 1000 : listed;
  const lo = Math.max(from, since), hi = ins.retired_at ? Math.min(to, ins.retired_at) : to;
  return [lo, Math.max(lo, hi)];
}
function rated(ins, blocks, from, to) {
  const [lo, hi] = inService(ins, from, to);
  if (hi <= lo) return 0;
  const r = proratedMinutes(ins.category_type === 'general' ? 1400 : 800, lo, hi) - blockMinutes(blocks.filter((b) => b.instrument_id === ins.id), lo, hi);
  return Math.max(0, r);
}
const ratio = (a, b) => (b > 0 ? Math.round((a / b) * 1e6) / 1e6 : 0);
const positive = (tally) => [...tally.values()].filter((n) => n > 0).length;

function snapshot() {
  return {
    ins: rows(`SELECT i.id, i.owner_org_id, o.code AS org_code, o.zone_id, z.code AS zone, i.class_code, i.category_type,
                      i.purchase_date, i.created_at, i.retired_at, i.name_zh FROM instruments i JOIN orgs o ON o.id = i.owner_org_id
               JOIN zones z ON z.id = o.zone_id ORDER BY i.id`),
    usage: rows(`SELECT u.id, u.instrument_id, u.user_id, u.payer_org_id, u.provider_org_id, o.zone_id AS payer_zone_id, u.kind,
                        u.tier, u.start, u.minutes, u.samples, u.fee_fen FROM usage_records u JOIN orgs o ON o.id = u.payer_org_id`),
    blocks: rows('SELECT instrument_id, start, end FROM blocks'),
    bookings: rows('SELECT instrument_id, start, status FROM bookings'),
    zones: rows('SELECT id, code FROM zones'),
  };
}

// Per-instrument figures over [from, to), for the instruments passing keep().
function expectInstruments(s, from, to, keep = () => true) {
  const out = new Map();
  for (const ins of s.ins.filter(keep)) {
    const recs = s.usage.filter((u) => u.instrument_id === ins.id && u.start >= from && u.start < to);
    const users = new Map(), orgs = new Map();
    const f = { instrument_id: ins.id, used_minutes: 0, external_minutes: 0, cross_zone_minutes: 0, uses: 0, samples: 0, fee_fen: 0 };
    for (const u of recs) {
      const one = u.kind === 'reversal' ? -1 : 1;
      f.used_minutes += u.minutes;
      if (u.payer_org_id !== u.provider_org_id) f.external_minutes += u.minutes;
      if (u.tier === 'cross_zone') f.cross_zone_minutes += u.minutes;
      f.uses += one;
      f.samples += u.samples;
      f.fee_fen += u.fee_fen;
      users.set(u.user_id, (users.get(u.user_id) || 0) + one);
      orgs.set(u.payer_org_id, (orgs.get(u.payer_org_id) || 0) + one);
    }
    f.users = positive(users);
    f.orgs = positive(orgs);
    f.rated_minutes = rated(ins, s.blocks, from, to);
    f.utilisation = ratio(f.used_minutes, f.rated_minutes);
    f.share_rate = ratio(f.external_minutes, f.used_minutes);
    const [lo, hi] = inService(ins, from, to);
    if (hi > lo || recs.length) out.set(ins.id, f);
  }
  return out;
}

const FIGS = ['used_minutes', 'external_minutes', 'cross_zone_minutes', 'rated_minutes', 'utilisation', 'share_rate', 'uses', 'samples', 'fee_fen'];
const pick = (o, keys) => Object.fromEntries(keys.map((k) => [k, o[k]]));

async function allInstruments(client, params) {
  const items = [];
  let cursor = '';
  for (;;) {
    const r = await call(client, `/api/v1/stats/instruments?${q({ ...params, limit: 3 })}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    items.push(...r.body.items);
    if (!r.body.next_cursor) { assert.equal(items.length, r.body.total); return items; }
    cursor = r.body.next_cursor;
  }
}

before(async () => {
  world = buildWorld();
  sql(world.db, `
    INSERT INTO orgs (code, name_zh, name_en, kind, zone_id, credit_code) VALUES
      ('E', '丙科技有限公司', 'Enterprise E', 'enterprise', (SELECT id FROM zones WHERE code='neobay'), '91310000000000003C');
    INSERT INTO lab_groups (org_id, name) VALUES ((SELECT id FROM orgs WHERE code='E'), 'e-lab');
    INSERT INTO users (login, name, org_id, group_id, roles, password_hash)
      SELECT 'rese', 'rese', (SELECT id FROM orgs WHERE code='E'), (SELECT id FROM lab_groups WHERE name='e-lab'), 1, password_hash
      FROM users WHERE login = 'res';
    UPDATE instruments SET category_type = 'specialised', class_code = '010601' WHERE asset_no = 'rules';
    UPDATE instruments SET class_code = '010102', purchase_date = '${new Date((localMidnight(-50) + LOCAL) * 1000).toISOString().slice(0, 10)}' WHERE asset_no = 'far';
    UPDATE instruments SET created_at = ${localMidnight(-400)};
    UPDATE instruments SET purchase_date = '', created_at = ${localMidnight(-65) + 15 * 3600 + 7} WHERE asset_no = 'quick';`);
  world.users.rese = Number(sql(world.db, `SELECT id FROM users WHERE login='rese'`));
  srv = await start(world);
  [com, ada, opa, opb, res] = await Promise.all(['com', 'ada', 'opa', 'opb', 'res'].map((l) => signIn(srv, l)));

  // Usage over ~75 days through the API: A's instruments by A (internal), E (same zone)
  // and B (cross-zone) users; B's instrument (bought 50 days ago) by B and A users.
  const W = world.ids, U = world.users;
  const plan = [
    // [days ago, instrument, operator, user, start hour, hours, samples]
    [-75, W.open, opa, U.res, 9, 2, 1], [-75, W.open, opa, U.resb, 13, 1.5, 0], [-74, W.rules, opa, U.rese, 10, 3, 4],
    [-62, W.open, opa, U.r1, 9, 4, 0], [-61, W.quick, opa, U.resb, 14, 0.75, 2], [-60, W.rules, opa, U.res, 9, 1, 0],
    [-45, W.open, opa, U.rese, 8, 2.5, 0], [-45, W.far, opb, U.res, 10, 2, 1], [-44, W.far, opb, U.resb, 9, 6, 0],
    [-40, W.broken, opa, U.r2, 9, 2, 0], [-33, W.open, opa, U.pia, 11, 1, 0], [-31, W.quick, opa, U.r1, 23, 2, 0],
    [-30, W.internal, opa, U.res, 9, 3, 0], [-20, W.open, opa, U.resb, 10, 2, 3], [-20, W.open, opa, U.res, 14, 1, 0],
    [-19, W.far, opb, U.rese, 15, 1, 0], [-9, W.rules, opa, U.r1, 9, 2, 0], [-8, W.open, opa, U.r3, 16, 0.5, 0],
    [-3, W.open, opa, U.res, 9, 3, 0], [-3, W.open, opa, U.resb, 13, 2, 1], [-3, W.far, opb, U.res, 12, 2, 0],
    [-1, W.quick, opa, U.rese, 10, 1, 0], [-1, W.open, opa, U.r4, 8, 1, 0],
  ];
  const ids = [];
  for (const [d, ins, op, user, h, len, samples] of plan) {
    const s = localMidnight(d) + h * H;
    const r = await post(op, '/api/v1/usage', { instrument_id: ins, user_id: user, start: iso(s), end: iso(s + len * H), samples });
    assert.equal(r.status, 201, r.text);
    ids.push(r.body.id);
  }
  // A correction moving a record to another day (and month), one shortening a record,
  // a void of r3's only record (r3 must vanish from the users) and one of a cross-zone use.
  const fix = async (i, body) => assert.equal((await post(opa, `/api/v1/usage/${ids[i]}/correct`, { reason: '更正', ...body })).status, 201);
  await fix(3, { start: iso(localMidnight(-35) + 9 * H), end: iso(localMidnight(-35) + 12 * H) });
  await fix(13, { start: iso(localMidnight(-20) + 10 * H), end: iso(localMidnight(-20) + 11 * H), samples: 1 });
  await fix(17, { void: true });
  await fix(1, { void: true });
  // Maintenance on 'open' (a day and a half, partly overlapping) and 'rules'.
  for (const [ins, from, to] of [[W.open, localMidnight(-29) + 8 * H, localMidnight(-28) + 20 * H],
    [W.open, localMidnight(-28) + 12 * H, localMidnight(-27)], [W.rules, localMidnight(-10), localMidnight(-9)],
    [W.internal, localMidnight(-100), localMidnight(-6)]]) {
    const r = await post(opa, `/api/v1/instruments/${ins}/blocks`, { start: iso(from), end: iso(to), reason: '年度保养' });
    assert.equal(r.status, 201, r.text);
  }
  // 'broken' was retired 38 days ago.
  sql(world.db, `UPDATE instruments SET retired_at = ${localMidnight(-38)} WHERE id = ${W.broken}`);
  // Bookings: some written by the API (then cancelled), some straight into the table with
  // past outcomes, and status changes made in place (the rollup follows updates).
  for (const h of [20, 21]) {
    const r = await post(res, '/api/v1/bookings', { instrument_id: W.open, start: iso(localMidnight(3) + h * H), end: iso(localMidnight(3) + (h + 1) * H) });
    assert.equal(r.status, 201, r.text);
    if (h === 20) assert.equal((await post(res, `/api/v1/bookings/${r.body.id}/cancel`, {})).status, 200);
  }
  const past = [[-60, 'completed'], [-60, 'no_show'], [-45, 'completed'], [-31, 'cancelled'], [-31, 'rejected'], [-20, 'completed'],
    [-20, 'completed'], [-9, 'no_show'], [-3, 'confirmed'], [0, 'confirmed'], [0, 'cancelled'], [0, 'in_use']];
  sql(world.db, past.map(([d, status], i) => `INSERT INTO bookings (instrument_id, user_id, payer_org_id, start, end, status)
    VALUES (${i % 2 ? W.far : W.quick}, ${U.res}, (SELECT org_id FROM users WHERE id = ${U.res}), ${localMidnight(d) + (1 + i) * H},
            ${localMidnight(d) + (1 + i) * H + 1800}, '${status}');`).join('\n'));
  sql(world.db, `UPDATE bookings SET status = 'no_show' WHERE status = 'confirmed' AND start < ${localMidnight(-1)};
                 UPDATE bookings SET start = start + 86400, end = end + 86400 WHERE status = 'rejected';`);
});
after(async () => {
  await srv?.stop();
  if (world) rmSync(world.dir, { recursive: true, force: true });
});

// Ranges: whole months; partial days, whole days and months; inside one day;
// whole days without a whole month; everything up to tomorrow.
function ranges() {
  return {
    months: [monthStart(NOW, -3), monthStart(NOW, 0)],
    odd: [localMidnight(-70) + 13.5 * H, localMidnight(-2) + 11 * H],
    day: [localMidnight(-3) + 10 * H, localMidnight(-3) + 15 * H],
    days: [localMidnight(-21), localMidnight(-8)],
    all: [monthStart(NOW, -4), localMidnight(1)],
  };
}

test('per-instrument figures equal a recomputation from the records, over every kind of range', async () => {
  const s = snapshot();
  for (const [name, [from, to]] of Object.entries(ranges())) {
    const want = expectInstruments(s, from, to);
    const got = await allInstruments(com, { from, to });
    assert.deepEqual(got.map((i) => i.instrument_id), [...want.keys()], `${name}: the instruments`);
    for (const item of got) {
      const w = want.get(item.instrument_id);
      assert.deepEqual(pick(item, [...FIGS, 'users', 'orgs']), pick(w, [...FIGS, 'users', 'orgs']), `${name}: instrument ${item.instrument_id}`);
    }
  }
  // Spot checks by hand: 'open' in the three whole months (corrections and voids included).
  const open = (await allInstruments(com, { from: localMidnight(-76), to: localMidnight(0) })).find((i) => i.instrument_id === world.ids.open);
  assert.ok(open.used_minutes > 0 && open.external_minutes > 0 && open.cross_zone_minutes > 0);
  assert.ok(open.cross_zone_minutes < open.external_minutes, 'E (same zone) is external but not cross-zone');
  // The void of r3's only record leaves r3 out of the users; 'far' (bought 50 days ago) is rated only since.
  const farRange = [localMidnight(-70), localMidnight(-10)];
  const far = (await allInstruments(com, { from: farRange[0], to: farRange[1] })).find((i) => i.instrument_id === world.ids.far);
  assert.equal(far.rated_minutes, proratedMinutes(1400, localMidnight(-50), farRange[1]));
  // 'quick' has no purchase date: rated from the local day it was listed (65 days ago), not before.
  const quick = (await allInstruments(com, { from: farRange[0], to: farRange[1] })).find((i) => i.instrument_id === world.ids.quick);
  assert.equal(quick.rated_minutes, proratedMinutes(1400, localMidnight(-65), farRange[1]));
  const before = await allInstruments(com, { from: localMidnight(-70), to: localMidnight(-66) });
  assert.equal(before.find((i) => i.instrument_id === world.ids.quick)?.rated_minutes ?? 0, 0);
  // 'broken' (retired 38 days ago) is not rated after its retirement, but its use before counts.
  const late = await allInstruments(com, { from: localMidnight(-30), to: localMidnight(0) });
  assert.equal(late.find((i) => i.instrument_id === world.ids.broken), undefined);
});

test('sorting, paging, top and idle', async () => {
  const [from, to] = ranges().all;
  const s = snapshot();
  const want = [...expectInstruments(s, from, to).values()];
  let r = await call(com, `/api/v1/stats/instruments?${q({ from, to, sort: 'used', limit: 500 })}`);
  const byUsed = [...want].sort((a, b) => b.used_minutes - a.used_minutes || a.instrument_id - b.instrument_id);
  assert.deepEqual(r.body.items.map((i) => i.instrument_id), byUsed.map((i) => i.instrument_id));
  r = await call(com, `/api/v1/stats/instruments?${q({ from, to, sort: 'utilisation', order: 'asc', limit: 500 })}`);
  const byUtil = r.body.items.map((i) => i.utilisation);
  assert.deepEqual(byUtil, [...byUtil].sort((a, b) => a - b));
  r = await call(com, `/api/v1/stats/top?${q({ from, to, by: 'external', limit: 3 })}`);
  const byExt = [...want].sort((a, b) => b.external_minutes - a.external_minutes || a.instrument_id - b.instrument_id).slice(0, 3);
  assert.deepEqual(r.body.items.map((i) => [i.instrument_id, i.external_minutes]), byExt.map((i) => [i.instrument_id, i.external_minutes]));
  assert.equal(r.body.next_cursor, null);
  // Idle: in service at `at`, under 10% of rated time used over the 90 days before.
  const at = localMidnight(0) + 7 * H;
  const window = expectInstruments(s, at - 90 * DAY, at, (i) => !i.retired_at || i.retired_at > at);
  const idle = [...window.values()].filter((f) => f.rated_minutes > 0 && f.used_minutes * 10 < f.rated_minutes)
    .sort((a, b) => a.utilisation - b.utilisation || a.instrument_id - b.instrument_id);
  r = await call(com, `/api/v1/stats/idle?${q({ at, limit: 500 })}`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.items.map((i) => [i.instrument_id, i.used_minutes, i.rated_minutes]),
    idle.map((i) => [i.instrument_id, i.used_minutes, i.rated_minutes]));
  assert.equal(r.body.from, iso(at - 90 * DAY));
  assert.ok(!r.body.items.some((i) => i.instrument_id === world.ids.internal), 'maintenance most of the window: rated time is short, not idle');
  assert.ok(r.body.items.some((i) => i.instrument_id === world.ids.open), 'a few hours in 90 days is idle');
  assert.ok(r.body.items.some((i) => i.instrument_id === world.ids.window), 'an unused instrument is idle');
});

test('summaries by zone, institution, class and month; flows; totals', async () => {
  const s = snapshot();
  const insById = new Map(s.ins.map((i) => [i.id, i]));
  for (const [name, [from, to]] of Object.entries(ranges())) {
    const figs = expectInstruments(s, from, to);
    const keyOf = {
      zone: (i) => i.zone, org: (i) => i.org_code, class: (i) => `${i.class_code.slice(0, 4)}00`,
    };
    for (const [by, key] of Object.entries(keyOf)) {
      const groups = new Map();
      for (const f of figs.values()) {
        const k = key(insById.get(f.instrument_id));
        const g = groups.get(k) || { key: k, instruments: 0, used_minutes: 0, external_minutes: 0, cross_zone_minutes: 0, rated_minutes: 0, uses: 0, samples: 0, fee_fen: 0 };
        g.instruments++;
        for (const f2 of ['used_minutes', 'external_minutes', 'cross_zone_minutes', 'rated_minutes', 'uses', 'samples', 'fee_fen']) g[f2] += f[f2];
        groups.set(k, g);
      }
      const r = await call(com, `/api/v1/stats/summary?${q({ from, to, group_by: by })}`);
      assert.equal(r.status, 200, r.text);
      const want = [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : 1))
        .map((g) => ({ ...g, utilisation: ratio(g.used_minutes, g.rated_minutes), share_rate: ratio(g.external_minutes, g.used_minutes) }));
      assert.deepEqual(r.body.items.map((g) => pick(g, ['key', 'instruments', ...FIGS])), want.map((g) => pick(g, ['key', 'instruments', ...FIGS])), `${name} by ${by}`);
      const total = want.reduce((t, g) => { for (const k of ['instruments', 'used_minutes', 'rated_minutes', 'fee_fen']) t[k] += g[k]; return t; },
        { instruments: 0, used_minutes: 0, rated_minutes: 0, fee_fen: 0 });
      assert.deepEqual(pick(r.body.totals, Object.keys(total)), total, `${name} totals`);
    }
    // By month: each month's slice of the range.
    const r = await call(com, `/api/v1/stats/summary?${q({ from, to, group_by: 'month' })}`);
    const months = [];
    for (let m = monthStart(from); m < to; m = monthStart(m, 1)) months.push([Math.max(m, from), Math.min(monthStart(m, 1), to)]);
    assert.deepEqual(r.body.items.map((g) => g.key), months.map(([a]) => monthKey(a)), `${name}: the months`);
    months.forEach(([a, b], k) => {
      const f = [...expectInstruments(s, a, b).values()];
      const sum = (key) => f.reduce((t, x) => t + x[key], 0);
      assert.deepEqual(pick(r.body.items[k], ['instruments', 'used_minutes', 'external_minutes', 'rated_minutes', 'fee_fen']),
        { instruments: f.length, used_minutes: sum('used_minutes'), external_minutes: sum('external_minutes'), rated_minutes: sum('rated_minutes'), fee_fen: sum('fee_fen') },
        `${name}: month ${monthKey(a)}`);
    });
    assert.deepEqual(r.body.national.map((n) => [n.year, n.effective_hours, n.external_hours]), [[2019, 1440, 240], [2025, 1599, 273]]);
    // Flows: payer's zone -> provider's zone.
    const zoneCode = new Map(s.zones.map((z) => [z.id, z.code]));
    const flows = new Map();
    for (const u of s.usage.filter((x) => x.start >= from && x.start < to)) {
      const k = `${zoneCode.get(u.payer_zone_id)}>${insById.get(u.instrument_id).zone}`;
      const f = flows.get(k) || { uses: 0, minutes: 0, fee_fen: 0 };
      f.uses += u.kind === 'reversal' ? -1 : 1;
      f.minutes += u.minutes;
      f.fee_fen += u.fee_fen;
      flows.set(k, f);
    }
    const fr = await call(com, `/api/v1/stats/flows?${q({ from, to })}`);
    const got = Object.fromEntries(fr.body.items.map((i) => [`${i.from_zone}>${i.to_zone}`, pick(i, ['uses', 'minutes', 'fee_fen'])]));
    const wantFlows = Object.fromEntries([...flows].filter(([, f]) => f.uses || f.minutes || f.fee_fen));
    assert.deepEqual(got, wantFlows, `${name}: flows`);
  }
});

test('filters: zone, institution, class', async () => {
  const s = snapshot();
  const [from, to] = ranges().all;
  const orgB = Number(sql(world.db, `SELECT id FROM orgs WHERE code='B'`));
  for (const [params, keep] of [
    [{ zone: 'zhangjiang' }, (i) => i.zone === 'zhangjiang'],
    [{ org: orgB }, (i) => i.owner_org_id === orgB],
    [{ class: '0106' }, (i) => i.class_code.startsWith('0106')],
    [{ class: '01', zone: 'neobay' }, (i) => i.class_code.startsWith('01') && i.zone === 'neobay'],
  ]) {
    const want = expectInstruments(s, from, to, keep);
    const got = await allInstruments(com, { from, to, ...params });
    assert.deepEqual(got.map((i) => [i.instrument_id, i.used_minutes, i.rated_minutes]),
      [...want.values()].map((i) => [i.instrument_id, i.used_minutes, i.rated_minutes]), JSON.stringify(params));
  }
  const bad = [
    [{}, 'from'], [{ from }, 'to'], [{ from: to, to: from }, 'to'], [{ from, to, zone: 'pudong' }, 'zone'],
    [{ from, to, class: '012' }, 'class'], [{ from, to, class: '77' }, 'class'], [{ from, to, group_by: 'week' }, 'group_by'],
    [{ from, to, format: 'pdf' }, 'format'],
  ];
  for (const [params, field] of bad) {
    const r = await call(com, `/api/v1/stats/summary?${q(params)}`);
    assert.equal(r.status, 400, JSON.stringify(params));
    assert.equal(r.body.error.field, field);
  }
  const r = await call(com, `/api/v1/stats/summary?${q({ from, to: from + 3700 * DAY })}`);
  assert.equal(r.body.error.code, 'range_too_long');
});

test('bookings: counts by status, no-show and cancellation rates', async () => {
  const s = snapshot();
  const insById = new Map(s.ins.map((i) => [i.id, i]));
  for (const [name, [from, to]] of Object.entries({ ...ranges(), future: [localMidnight(-90), localMidnight(10)] })) {
    const groups = new Map();
    for (const b of s.bookings.filter((x) => x.start >= from && x.start < to)) {
      const k = insById.get(b.instrument_id).zone;
      const g = groups.get(k) || { pending: 0, confirmed: 0, in_use: 0, completed: 0, rejected: 0, cancelled: 0, no_show: 0 };
      g[b.status]++;
      groups.set(k, g);
    }
    const r = await call(com, `/api/v1/stats/bookings?${q({ from, to, group_by: 'zone' })}`);
    assert.equal(r.status, 200, r.text);
    const want = Object.fromEntries([...groups].map(([k, g]) => {
      const total = Object.values(g).reduce((a, b) => a + b, 0);
      return [k, { ...g, bookings: total, no_show_rate: ratio(g.no_show, g.completed + g.in_use + g.no_show), cancellation_rate: ratio(g.cancelled, total) }];
    }));
    const got = Object.fromEntries(r.body.items.map((g) => [g.key, pick(g, ['pending', 'confirmed', 'in_use', 'completed', 'rejected', 'cancelled', 'no_show', 'bookings', 'no_show_rate', 'cancellation_rate'])]));
    assert.deepEqual(got, want, name);
  }
  const r = await call(com, `/api/v1/stats/bookings?${q({ from: localMidnight(-90), to: localMidnight(10), group_by: 'month' })}`);
  assert.ok(r.body.totals.no_show >= 2 && r.body.totals.cancelled >= 2, JSON.stringify(r.body.totals));
});

test('the rollups equal a full recomputation of the log; /stats/verify notices tampering', async () => {
  const s = snapshot();
  const month = (t) => Number(monthKey(t).replace('-', ''));
  const group = (list, keyOf, add) => {
    const m = new Map();
    for (const x of list) {
      const k = keyOf(x).join('|');
      m.set(k, add(m.get(k), x));
    }
    return m;
  };
  const sums = (acc = { uses: 0, minutes: 0, external_minutes: 0, cross_zone_minutes: 0, samples: 0, fee_fen: 0 }, u) => ({
    uses: acc.uses + (u.kind === 'reversal' ? -1 : 1), minutes: acc.minutes + u.minutes,
    external_minutes: acc.external_minutes + (u.payer_org_id !== u.provider_org_id ? u.minutes : 0),
    cross_zone_minutes: acc.cross_zone_minutes + (u.tier === 'cross_zone' ? u.minutes : 0),
    samples: acc.samples + u.samples, fee_fen: acc.fee_fen + u.fee_fen,
  });
  const live = (m) => new Map([...m].filter(([, v]) => Object.values(v).some((x) => x !== 0 && x !== '0')));
  const table = (name, keys, select = `SELECT * FROM ${name}`) => new Map(rows(select).map((r) => [keys.map((k) => r[k]).join('|'),
    Object.fromEntries(Object.entries(r).filter(([k]) => !keys.includes(k)))]));
  // The day masks of stats_users_year (migration 072): bit k % 61 of word
  // d<k / 61> for the k-th day of the local year, read as text (they pass 2^53).
  const WORDS = [0, 1, 2, 3, 4, 5];
  const yearSelect = `SELECT instrument_id, year, user_id, payer_org_id, months, ${WORDS.map((i) => `CAST(d${i} AS TEXT) AS d${i}`).join(', ')} FROM stats_users_year`;
  const cases = [
    ['stats_usage_day', ['day', 'instrument_id', 'payer_zone_id'], group(s.usage, (u) => [dayOf(u.start), u.instrument_id, u.payer_zone_id], sums)],
    ['stats_usage_month', ['month', 'instrument_id', 'payer_zone_id'], group(s.usage, (u) => [month(u.start), u.instrument_id, u.payer_zone_id], sums)],
    ['stats_users_month', ['instrument_id', 'month', 'user_id', 'payer_org_id'],
      group(s.usage, (u) => [u.instrument_id, month(u.start), u.user_id, u.payer_org_id], (a = { uses: 0 }, u) => ({ uses: a.uses + (u.kind === 'reversal' ? -1 : 1) }))],
    ['stats_usage_year', ['year', 'instrument_id', 'payer_zone_id'], group(s.usage, (u) => [Math.floor(month(u.start) / 100), u.instrument_id, u.payer_zone_id], sums)],
    ['stats_users_year', ['instrument_id', 'year', 'user_id', 'payer_org_id'], (() => {
      const net = (a = 0, u) => a + (u.kind === 'reversal' ? -1 : 1);
      const y = new Map();
      const entry = (key) => y.get(key) || y.set(key, { months: 0, words: WORDS.map(() => 0n) }).get(key);
      for (const [k, n] of group(s.usage, (u) => [u.instrument_id, month(u.start), u.user_id, u.payer_org_id], net)) {
        const [ins, mon, user, payer] = k.split('|').map(Number);
        const v = entry([ins, Math.floor(mon / 100), user, payer].join('|'));
        if (n > 0) v.months |= 1 << ((mon % 100) - 1);
      }
      for (const [k, n] of group(s.usage, (u) => [u.instrument_id, dayOf(u.start), u.user_id, u.payer_org_id], net)) {
        if (n <= 0) continue;
        const [ins, day, user, payer] = k.split('|').map(Number);
        const year = new Date(day * DAY * 1000).getUTCFullYear();
        const doy = day - Date.UTC(year, 0, 1) / 1000 / DAY;
        const v = entry([ins, year, user, payer].join('|'));
        v.words[Math.floor(doy / 61)] |= 1n << BigInt(doy % 61);
      }
      return new Map([...y].map(([k, v]) => [k, { months: v.months, ...Object.fromEntries(WORDS.map((i) => [`d${i}`, String(v.words[i])])) }]));
    })(), yearSelect],
    ['stats_users_day', ['instrument_id', 'day', 'user_id', 'payer_org_id'],
      group(s.usage, (u) => [u.instrument_id, dayOf(u.start), u.user_id, u.payer_org_id], (a = { uses: 0 }, u) => ({ uses: a.uses + (u.kind === 'reversal' ? -1 : 1) }))],
    ['stats_bookings_day', ['day', 'instrument_id', 'status'], group(s.bookings, (b) => [dayOf(b.start), b.instrument_id, b.status], (a = { n: 0 }) => ({ n: a.n + 1 }))],
    ['stats_bookings_month', ['month', 'instrument_id', 'status'], group(s.bookings, (b) => [month(b.start), b.instrument_id, b.status], (a = { n: 0 }) => ({ n: a.n + 1 }))],
  ];
  for (const [name, keys, want, select] of cases) {
    const got = live(table(name, keys, select));
    assert.ok(got.size > 0, name);
    assert.deepEqual(Object.fromEntries(got), Object.fromEntries(live(want)), name);
  }
  let r = await call(com, '/api/v1/stats/verify');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.ok, true, JSON.stringify(r.body));
  // A rollup row edited behind the server's back is found.
  const one = 'WHERE (month, instrument_id, payer_zone_id) = (SELECT month, instrument_id, payer_zone_id FROM stats_usage_month LIMIT 1)';
  sql(world.db, `UPDATE stats_usage_month SET minutes = minutes + 7 ${one}`);
  r = await call(ada, '/api/v1/stats/verify');
  assert.equal(r.body.ok, false);
  assert.deepEqual(r.body.tables.filter((t) => t.differing).map((t) => [t.name, t.differing]), [['stats_usage_month', 2]]);
  sql(world.db, `UPDATE stats_usage_month SET minutes = minutes - 7 ${one}`);
  assert.equal((await call(com, '/api/v1/stats/verify')).body.ok, true);
});

test('who may read: operators their own institution, tokens by scope and role', async () => {
  const [from, to] = ranges().all;
  const orgA = Number(sql(world.db, `SELECT id FROM orgs WHERE code='A'`));
  const orgB = Number(sql(world.db, `SELECT id FROM orgs WHERE code='B'`));
  const all = await allInstruments(com, { from, to });
  const mine = await allInstruments(opa, { from, to });
  assert.deepEqual(mine, all.filter((i) => i.org_id === orgA), 'operator A: exactly A\'s instruments, same figures');
  assert.ok(mine.length > 0 && mine.length < all.length);
  assert.deepEqual((await allInstruments(opb, { from, to })).map((i) => i.org_id), all.filter((i) => i.org_id === orgB).map(() => orgB));
  let r = await call(opa, `/api/v1/stats/instruments?${q({ from, to, org: orgB })}`);
  assert.equal(r.status, 403);
  r = await call(opa, `/api/v1/stats/instruments?${q({ from, to, org: orgA })}`);
  assert.equal(r.status, 200);
  // Operator A's flows are only the use of A's instruments (all in Neo Bay).
  r = await call(opa, `/api/v1/stats/flows?${q({ from, to })}`);
  assert.ok(r.body.items.length > 0 && r.body.items.every((f) => f.to_zone === 'neobay'));
  r = await call(opa, `/api/v1/stats/summary?${q({ from, to, group_by: 'org' })}`);
  assert.deepEqual(r.body.items.map((g) => g.key), ['A']);
  r = await call(opa, '/api/v1/stats/verify');
  assert.equal(r.status, 403);
  r = await call(res, `/api/v1/stats/summary?${q({ from, to })}`);
  assert.equal(r.status, 403);
  // Tokens: the commission's stats:read token reads what the commission reads; a researcher's reads nothing.
  const tok = async (client, scopes) => {
    const t = await post(client, '/api/v1/tokens', { name: `t${scopes}`, scopes });
    assert.equal(t.status, 201, t.text);
    const c = new (com.constructor)(srv.url);
    c.bearer = t.body.token;
    return c;
  };
  const bi = await tok(com, ['stats:read']);
  assert.deepEqual(await allInstruments(bi, { from, to }), all);
  const resToken = await tok(res, ['stats:read']);
  assert.equal((await call(resToken, `/api/v1/stats/flows?${q({ from, to })}`)).status, 403);
  const usageToken = await tok(opa, ['usage:write']);
  assert.equal((await call(usageToken, `/api/v1/stats/flows?${q({ from, to })}`)).status, 403);
  assert.equal((await call(new (com.constructor)(srv.url), `/api/v1/stats/flows?${q({ from, to })}`)).status, 401);
});

// A small CSV reader (quoted cells may hold commas; no newlines in ours).
function parseCsv(text) {
  return text.replace(/^\uFEFF/, '').trim().split('\r\n').map((line) => {
    const cells = [];
    let cell = '', quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (quoted) { if (ch === '"' && line[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false; else cell += ch; } else if (ch === '"') quoted = true; else if (ch === ',') { cells.push(cell); cell = ''; } else cell += ch;
    }
    cells.push(cell);
    return cells;
  });
}

test('CSV: every table as text/csv, money in yuan', async () => {
  const [from, to] = ranges().all;
  const json = await allInstruments(com, { from, to });
  let r = await call(com, `/api/v1/stats/instruments?${q({ from, to, format: 'csv', limit: 1 })}`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/csv/);
  assert.match(r.headers.get('content-disposition'), /attachment; filename="yiqi-stats-instruments.csv"/);
  const [head, ...body] = parseCsv(r.text);
  assert.deepEqual(head.slice(0, 3), ['instrument_id', 'asset_no', 'name_zh']);
  assert.ok(head.includes('fee_yuan') && !head.includes('fee_fen'));
  assert.equal(body.length, json.length, 'CSV has every row, whatever the limit');
  for (const [k, item] of json.entries()) {
    const row = Object.fromEntries(head.map((h, i) => [h, body[k][i]]));
    assert.equal(Number(row.instrument_id), item.instrument_id);
    assert.equal(Number(row.used_minutes), item.used_minutes);
    assert.equal(row.fee_yuan, (item.fee_fen / 100).toFixed(2));
    assert.equal(Number(row.utilisation), Number(item.utilisation.toFixed(4)));
    assert.equal(row.retired, item.retired ? '1' : '0');
  }
  for (const path of ['summary', 'flows', 'bookings', 'top']) {
    r = await call(com, `/api/v1/stats/${path}?${q({ from, to, format: 'csv', group_by: 'month' })}`);
    assert.equal(r.status, 200, path);
    const j = await call(com, `/api/v1/stats/${path}?${q({ from, to, group_by: 'month' })}`);
    assert.equal(parseCsv(r.text).length - 1, j.body.items.length, `${path}: one row per item`);
  }
  const raw = await fetch(`${srv.url}/api/v1/stats/idle?format=csv`, { headers: { cookie: com.cookie } });
  const bytes = Buffer.from(await raw.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a UTF-8 BOM for Excel');
  assert.match(bytes.subarray(3).toString('utf8'), /^instrument_id,/);
});

test('annual report: the national column order, effective and external hours (CSV and XLSX)', async () => {
  const year = localYear(localMidnight(-20));
  const from = yearStart(year), to = yearStart(year + 1);
  const want = expectInstruments(snapshot(), from, to);
  let r = await call(com, `/api/v1/stats/annual-report?year=${year}`);
  assert.equal(r.status, 200, r.text);
  const [head, ...body] = parseCsv(r.text);
  assert.deepEqual(head, ['序号', '资产编号', '仪器名称', '英文名称', '规格型号', '生产制造商', '产地国别', '所属单位',
    '统一社会信用代码', '所属部门', '分类编码', '分类名称', '原值（万元）', '购置日期', '仪器类别', '所在片区', '安放地址', '房间号',
    '运行状态', '共享模式', '额定机时（小时）', '年度有效工作机时（小时）', '其中对外服务机时（小时）', '其中跨片区服务机时（小时）',
    '服务次数', '服务收入（元）', '使用率', '共享率']);
  assert.equal(body.length, want.size);
  const byAsset = Object.fromEntries(body.map((row) => [row[1], row]));
  const open = want.get(world.ids.open);
  const row = byAsset.open;
  assert.equal(row[2], '测试仪器-open');
  assert.equal(row[7], '甲大学');
  assert.equal(row[12], '100.00', 'original value 100,000,000 fen = 1,000,000 yuan = 100.00 万元');
  assert.equal(row[21], (Math.round(open.used_minutes * 100 / 60) / 100).toFixed(2));
  assert.equal(row[22], (Math.round(open.external_minutes * 100 / 60) / 100).toFixed(2));
  assert.equal(row[25], (open.fee_fen / 100).toFixed(2));
  assert.deepEqual(body.map((x) => Number(x[0])), body.map((_, i) => i + 1));
  // Operators: their own institution only.
  r = await call(opb, `/api/v1/stats/annual-report?year=${year}`);
  assert.deepEqual(parseCsv(r.text).slice(1).map((x) => x[7]), ['乙研究所']);
  // XLSX, read back with openpyxl.
  r = await opa.req('GET', `/api/v1/stats/annual-report?year=${year}&format=xlsx`, undefined);
  checkResponse('GET', '/api/v1/stats/annual-report', r);
  const res2 = await fetch(`${srv.url}/api/v1/stats/annual-report?year=${year}&format=xlsx`, { headers: { cookie: com.cookie } });
  assert.equal(res2.status, 200);
  const file = join(world.dir, 'report.xlsx');
  writeFileSync(file, Buffer.from(await res2.arrayBuffer()));
  const cells = JSON.parse(execFileSync('/usr/bin/python3', ['-c', `
import json, sys, openpyxl
ws = openpyxl.load_workbook(sys.argv[1]).active
print(json.dumps([[c for c in row] for row in ws.iter_rows(values_only=True)], ensure_ascii=False, default=str))`, file], { encoding: 'utf8' }));
  assert.match(cells[0][0], new RegExp(`^${year} 年度`));
  assert.deepEqual(cells[1], head);
  const x = cells.slice(2).find((c) => c[1] === 'open');
  assert.ok(Math.abs(x[21] - open.used_minutes / 60) < 1e-9);
  assert.ok(Math.abs(x[22] - open.external_minutes / 60) < 1e-9);
  assert.equal(cells.length - 2, want.size);
  r = await call(com, '/api/v1/stats/annual-report');
  assert.equal(r.status, 400);
});

test('/metrics: bookings today, active users, instruments by status', async () => {
  const r = await fetch(`${srv.url}/metrics`);
  const text = await r.text();
  const metric = (name, label) => {
    const m = text.match(new RegExp(`^${name}${label ? `\\{${label}\\}` : ''} (\\d+)$`, 'm'));
    assert.ok(m, `${name}{${label}} in /metrics`);
    return Number(m[1]);
  };
  const today = localMidnight(0);
  for (const status of ['confirmed', 'cancelled', 'in_use', 'completed']) {
    assert.equal(metric('yiqi_bookings_today', `status="${status}"`),
      Number(sql(world.db, `SELECT count(*) FROM bookings WHERE start >= ${today} AND start < ${today + DAY} AND status = '${status}'`)), status);
  }
  assert.ok(metric('yiqi_bookings_today', 'status="confirmed"') >= 1);
  assert.equal(metric('yiqi_active_users'), Number(sql(world.db, `SELECT count(DISTINCT user_id) FROM sessions WHERE last_seen_at > ${Math.floor(Date.now() / 1000) - 1800}`)));
  assert.ok(metric('yiqi_active_users') >= 5);
  assert.equal(metric('yiqi_instruments', 'run_status="normal"'), Number(sql(world.db, `SELECT count(*) FROM instruments WHERE run_status = 'normal' AND retired_at IS NULL`)));
  assert.equal(metric('yiqi_instruments', 'run_status="awaiting_repair"'), 0, 'the broken one is retired');
  assert.equal(metric('yiqi_instruments', 'run_status="retired"'), 1);
});
