// Bookings end to end against the real binary: every refusal code in the
// order of API.md, no overlap under concurrency (checked in the database
// file), idempotency, recurring bookings, the state machine with PI and
// operator approval, the cancellation deadline, maintenance blocks and their
// notifications, availability, the no-show sweep after a restart with a
// shifted clock and the bar after three (shown on the user, lifted only by an
// admin), and the iCalendar feed parsed by a real parser. Every JSON answer is
// checked against proto/openapi.yaml.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { checkResponse } from './lib/openapi.mjs';
import { buildWorld, start, signIn, iso, secs, localMidnight, H, sql, overlappingPairs } from './lib/bookings-world.mjs';

let world, srv, res, opa, opb, pia, stu, resb, ada;

async function call(client, method, path, body, headers) {
  const r = await client.req(method, path, body, headers);
  checkResponse(method, path, r);
  return r;
}
const book = (c, body, headers) => call(c, 'POST', '/api/v1/bookings', body, headers);

// The next weekday (Mon-Fri) at least `days` days ahead, as a local midnight.
function weekday(days) {
  for (let d = days; ; d++) {
    const m = localMidnight(d);
    const wd = new Date((m + 8 * H) * 1000).getUTCDay();
    if (wd >= 1 && wd <= 5) return m;
  }
}

before(async () => {
  world = buildWorld();
  srv = await start(world);
  [res, opa, opb, pia, stu, resb, ada] = await Promise.all(
    ['res', 'opa', 'opb', 'pia', 'stu', 'resb', 'ada'].map((l) => signIn(srv, l)));
});
after(async () => {
  await srv.stop();
  rmSync(world.dir, { recursive: true, force: true });
});

test('each refusal has its code, and the first in API.md order wins', async () => {
  const I = world.ids;
  const day = weekday(3);
  const ok = { instrument_id: I.rules, start: iso(day + 10 * H), end: iso(day + 11 * H) };
  const cases = [
    [{ ...ok, start: undefined }, 'invalid_field', 'start'],
    [{ ...ok, start: 'tomorrow' }, 'invalid_field', 'start'],
    [{ ...ok, end: iso(day + 9 * H) }, 'invalid_field', 'end'],
    [{ ...ok, start: iso(localMidnight(-2) + 10 * H), end: iso(localMidnight(-2) + 11 * H) }, 'in_past'],
    [{ ...ok, instrument_id: I.broken }, 'not_bookable'],
    [{ ...ok, instrument_id: I.training }, 'not_qualified'],
    [{ ...ok, start: iso(day + 10 * H + 15 * 60) }, 'off_step'],
    [{ ...ok, end: iso(day + 10 * H + 30 * 60) }, 'too_short'],
    [{ ...ok, end: iso(day + 15 * H) }, 'too_long'],
    [{ ...ok, start: iso(day + 8 * H), end: iso(day + 9 * H + 30 * 60) }, 'outside_open_hours'],
    [{ ...ok, start: iso(day + 17 * H + 30 * 60), end: iso(day + 18 * H + 30 * 60) }, 'outside_open_hours'],
    [{ ...ok, instrument_id: I.window, start: iso(localMidnight(1) + 10 * H), end: iso(localMidnight(1) + 11 * H) }, 'too_soon'],
    [{ ...ok, instrument_id: I.window, start: iso(localMidnight(6) + 10 * H), end: iso(localMidnight(6) + 11 * H) }, 'too_far_ahead'],
    [{ ...ok, start: iso(localMidnight(90) + 10 * H), end: iso(localMidnight(90) + 11 * H), instrument_id: I.open }, 'too_far_ahead'],
    // Several broken at once: the earliest in the order wins.
    [{ ...ok, instrument_id: I.broken, start: iso(localMidnight(-1) + 10 * H + 600), end: iso(localMidnight(-1) + 10 * H + 900) }, 'in_past'],
    [{ ...ok, instrument_id: I.training, start: iso(day + 8 * H + 15 * 60) }, 'not_qualified'],
    [{ ...ok, start: iso(day + 7 * H + 15 * 60), end: iso(day + 7 * H + 30 * 60) }, 'off_step'],
    [{ ...ok, start: iso(day + 7 * H), end: iso(day + 7 * H + 30 * 60) }, 'too_short'],
  ];
  for (const [body, code, field] of cases) {
    const r = await book(res, body);
    assert.equal(r.status, 400, `${code}: ${r.status} ${r.text}`);
    assert.equal(r.body.error.code, code, JSON.stringify(body));
    if (field) assert.equal(r.body.error.field, field);
  }
  // barred comes after not_bookable and before not_qualified.
  sql(world.db, `UPDATE users SET barred_until = unixepoch() + 86400 WHERE login = 'stu'`);
  let r = await book(stu, { ...ok, instrument_id: I.training });
  assert.equal(r.body.error.code, 'barred');
  r = await book(stu, { ...ok, instrument_id: I.broken });
  assert.equal(r.body.error.code, 'not_bookable');
  sql(world.db, `UPDATE users SET barred_until = 0 WHERE login = 'stu'`);
  // Unknown or invisible instruments are 404; commission cannot book.
  r = await book(res, { ...ok, instrument_id: 999999 });
  assert.equal(r.status, 404);
  r = await book(resb, { ...ok, instrument_id: I.internal });
  assert.equal(r.status, 404);
  const com = await signIn(srv, 'com');
  r = await book(com, ok);
  assert.equal(r.status, 403);
  // And the valid request books, with the fee of the payer's tier.
  r = await book(res, ok);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.status, 'confirmed');
  assert.equal(r.body.fee_estimate_fen, 10000);
});

test('training records: an operator grants, expiry counts, others may not grant', async () => {
  const I = world.ids;
  const day = localMidnight(4);
  const body = { instrument_id: I.training, start: iso(day + 2 * H), end: iso(day + 3 * H) };
  let r = await call(res, 'POST', `/api/v1/instruments/${I.training}/qualifications`, { user_id: world.users.res, expires: '2099-01-01' });
  assert.equal(r.status, 403);
  r = await call(opb, 'POST', `/api/v1/instruments/${I.training}/qualifications`, { user_id: world.users.res, expires: '2099-01-01' });
  assert.equal(r.status, 403);
  r = await call(opa, 'POST', `/api/v1/instruments/${I.training}/qualifications`, { user_id: world.users.res, expires: iso(localMidnight(-1)) });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.valid, false);
  r = await book(res, body);
  assert.equal(r.body.error.code, 'not_qualified');
  r = await call(opa, 'POST', `/api/v1/instruments/${I.training}/qualifications`, { user_id: world.users.res, expires: '2099-12-31' });
  assert.equal(r.status, 201);
  assert.equal(r.body.valid, true);
  r = await book(res, body);
  assert.equal(r.status, 201, r.text);
  r = await call(opa, 'GET', `/api/v1/instruments/${I.training}/qualifications`);
  assert.equal(r.status, 200);
  assert.equal(r.body.items.length, 1);
  r = await call(resb, 'GET', `/api/v1/instruments/${I.training}/qualifications`);
  assert.equal(r.body.items.length, 0, 'others see only their own record');
});

test('adjacent bookings both succeed; an overlap is 409 slot_taken; cross-zone fee', async () => {
  const day = localMidnight(5);
  const I = world.ids.open;
  let r = await book(res, { instrument_id: I, start: iso(day + 10 * H), end: iso(day + 11 * H) });
  assert.equal(r.status, 201, r.text);
  r = await book(resb, { instrument_id: I, start: iso(day + 11 * H), end: iso(day + 12 * H) });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.fee_estimate_fen, 20000, 'cross-zone rate');
  for (const [s, e] of [[10.5, 11.5], [9.5, 10.5], [10, 12], [9, 13], [11, 11.5]]) {
    r = await book(res, { instrument_id: I, start: iso(day + s * H), end: iso(day + e * H) });
    assert.equal(r.status, 409, `${s}-${e}`);
    assert.equal(r.body.error.code, 'slot_taken');
  }
  r = await book(res, { instrument_id: I, start: iso(day + 9 * H), end: iso(day + 10 * H) });
  assert.equal(r.status, 201);
});

test('32 concurrent clients on one slot: exactly one 201 and 31 x 409 slot_taken', async () => {
  const day = localMidnight(6);
  const body = { instrument_id: world.ids.open, start: iso(day + 14 * H), end: iso(day + 15 * H) };
  const rs = await Promise.all(Array.from({ length: 32 }, (_, i) => book([res, resb, pia, stu][i % 4], body)));
  const codes = rs.map((r) => r.status).sort();
  assert.equal(codes.filter((c) => c === 201).length, 1, codes.join(','));
  assert.equal(codes.filter((c) => c === 409).length, 31);
  for (const r of rs) if (r.status === 409) assert.equal(r.body.error.code, 'slot_taken');
  assert.equal(Number(sql(world.db, `SELECT count(*) FROM bookings WHERE instrument_id = ${world.ids.open} AND start = ${secs(body.start)}`)), 1);
});

test('a randomised concurrent run leaves zero overlapping pairs', async () => {
  const base = localMidnight(10);
  const instruments = [world.ids.open, world.ids.far, world.ids.quick];
  const clients = [res, resb, pia, stu];
  let created = 0;
  const worker = async (w) => {
    for (let i = 0; i < 40; i++) {
      const slot = Math.floor(Math.random() * 40);
      const len = 1 + Math.floor(Math.random() * 4);
      const inst = instruments[Math.floor(Math.random() * instruments.length)];
      const start = base + slot * 1800;
      const r = await book(clients[w % clients.length], { instrument_id: inst, start: iso(start), end: iso(start + len * 1800) });
      assert.ok(r.status === 201 || r.status === 409, `${r.status} ${r.text}`);
      if (r.status === 201) created++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
  assert.equal(overlappingPairs(world.db), 0);
  const live = Number(sql(world.db, `SELECT count(*) FROM bookings WHERE start >= ${base} AND start < ${base + 86400} AND instrument_id IN (${instruments.join(',')})`));
  assert.equal(live, created, 'every 201 is a stored booking, and nothing else was stored');
  assert.ok(created > 5);
});

test('Idempotency-Key: the same key returns the first answer and never books twice', async () => {
  const day = localMidnight(7);
  const body = { instrument_id: world.ids.open, start: iso(day + 10 * H), end: iso(day + 11 * H), purpose: 'idem' };
  const key = { 'idempotency-key': 'k-' + Math.random() };
  const rs = await Promise.all(Array.from({ length: 8 }, () => book(res, body, key)));
  for (const r of rs) assert.equal(r.status, 201, r.text);
  assert.equal(new Set(rs.map((r) => r.body.id)).size, 1);
  const again = await book(res, body, key);
  assert.equal(again.status, 201);
  assert.equal(again.body.id, rs[0].body.id);
  assert.equal(Number(sql(world.db, `SELECT count(*) FROM bookings WHERE purpose = 'idem'`)), 1);
  const other = await book(res, { ...body, purpose: 'other' }, key);
  assert.equal(other.status, 409);
  assert.equal(other.body.error.code, 'idempotency_key_reused');
  // Keys are per user: another user's same key is a new request (here: taken).
  const r = await book(resb, body, key);
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'slot_taken');
});

test('recurring bookings: all_or_nothing and skip_taken', async () => {
  const I = world.ids.far;
  const day = localMidnight(8);
  const taken = await book(resb, { instrument_id: I, start: iso(day + 14 * 86400 + 9 * H), end: iso(day + 14 * 86400 + 10 * H) });
  assert.equal(taken.status, 201);
  const body = { instrument_id: I, start: iso(day + 9 * H), end: iso(day + 10 * H), purpose: 'weekly' };
  let r = await book(res, { ...body, repeat: { weekly: 4, mode: 'all_or_nothing' } });
  assert.equal(r.status, 409);
  assert.equal(Number(sql(world.db, `SELECT count(*) FROM bookings WHERE purpose = 'weekly'`)), 0);
  r = await book(res, { ...body, repeat: { weekly: 4, mode: 'skip_taken' } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.series.items.length, 3);
  assert.equal(r.body.series.skipped.length, 1);
  assert.equal(secs(r.body.series.skipped[0].start), day + 14 * 86400 + 9 * H);
  assert.ok(r.body.series.items.every((b) => b.series_id === r.body.series.id));
  r = await book(res, { ...body, start: iso(day + 11 * H), end: iso(day + 12 * H), repeat: { weekly: 3, mode: 'all_or_nothing' } });
  assert.equal(r.status, 201);
  assert.equal(r.body.series.items.length, 3);
  r = await book(res, { ...body, repeat: { weekly: 2, mode: 'sometimes' } });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.field, 'mode');
});

test('a 201 body is the booking as GET shows it (built without reading it back)', async () => {
  const strip = (b) => { const { events, series, ...rest } = b; return rest; };
  const day = localMidnight(9);
  const cases = [
    [res, { instrument_id: world.ids.open, start: iso(day + 15 * H), end: iso(day + 16 * H), purpose: 'same as GET' }],
    [stu, { instrument_id: world.ids.open, start: iso(day + 16 * H), end: iso(day + 17 * H) }],
    [res, { instrument_id: world.ids.approval, start: iso(weekday(4) + 10 * H), end: iso(weekday(4) + 11 * H) }],
    [res, { instrument_id: world.ids.far, start: iso(day + 15 * H), end: iso(day + 16 * H), repeat: { weekly: 2, mode: 'skip_taken' } }],
  ];
  for (const [who, body] of cases) {
    const r = await book(who, body);
    assert.equal(r.status, 201, r.text);
    const items = r.body.series ? r.body.series.items : [r.body];
    for (const item of [r.body, ...items]) {
      const g = await call(who, 'GET', `/api/v1/bookings/${item.id}`);
      assert.equal(g.status, 200);
      assert.deepEqual(strip(item), strip(g.body));
    }
  }
});

test('state machine: PI approval first, then the operator; check-in and check-out', async () => {
  const I = world.ids.approval;
  const day = localMidnight(9);
  let r = await book(stu, { instrument_id: I, start: iso(day + 10 * H), end: iso(day + 11 * H) });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.status, 'pending');
  assert.equal(r.body.awaiting, 'pi');
  const id = r.body.id;
  r = await call(opa, 'POST', `/api/v1/bookings/${id}/approve`, {});
  assert.equal(r.status, 403, 'the PI approves first');
  r = await call(res, 'POST', `/api/v1/bookings/${id}/approve`, {});
  assert.equal(r.status, 404, 'a stranger cannot even see it');
  r = await call(opa, 'GET', `/api/v1/bookings?approvable=1`);
  assert.ok(!r.body.items.some((b) => b.id === id));
  r = await call(pia, 'GET', `/api/v1/bookings?approvable=1`);
  assert.ok(r.body.items.some((b) => b.id === id));
  r = await call(pia, 'POST', `/api/v1/bookings/${id}/approve`, {});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, 'pending');
  assert.equal(r.body.awaiting, 'operator');
  r = await call(pia, 'POST', `/api/v1/bookings/${id}/approve`, {});
  assert.equal(r.status, 403);
  r = await call(opa, 'GET', `/api/v1/bookings?approvable=1`);
  assert.ok(r.body.items.some((b) => b.id === id));
  r = await call(opa, 'POST', `/api/v1/bookings/${id}/approve`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, 'confirmed');
  assert.deepEqual(r.body.events.map((e) => e.to_status), ['pending', 'pending', 'confirmed']);
  assert.deepEqual(r.body.events.map((e) => e.actor_user_id), [world.users.stu, world.users.pia, world.users.opa]);
  r = await call(opa, 'POST', `/api/v1/bookings/${id}/approve`);
  assert.equal(r.status, 409);
  r = await call(stu, 'POST', `/api/v1/bookings/${id}/checkin`);
  assert.equal(r.body.error.code, 'too_early');
  // A researcher without PI approval on an approval instrument: operator rejects.
  r = await book(res, { instrument_id: I, start: iso(day + 12 * H), end: iso(day + 13 * H) });
  assert.equal(r.body.awaiting, 'operator');
  r = await call(opa, 'POST', `/api/v1/bookings/${r.body.id}/reject`, { reason: '样品不符合要求' });
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'rejected');
  assert.equal(r.body.reason, '样品不符合要求');
  // Staff approval is audited.
  assert.ok(Number(sql(world.db, `SELECT count(*) FROM audit WHERE action = 'booking_approve' AND object_id = ${id}`)) >= 1);
  // Check-in and check-out on a booking that starts within the window.
  const now = Math.floor(Date.now() / 1000);
  const soon = Math.ceil((now + 120) / 60) * 60;
  r = await book(res, { instrument_id: world.ids.quick, start: iso(soon), end: iso(soon + 600) });
  assert.equal(r.status, 201, r.text);
  const q = r.body.id;
  r = await call(res, 'POST', `/api/v1/bookings/${q}/checkout`);
  assert.equal(r.body.error.code, 'invalid_state');
  r = await call(res, 'POST', `/api/v1/bookings/${q}/checkin`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, 'in_use');
  assert.ok(r.body.checkin_at);
  r = await call(res, 'POST', `/api/v1/bookings/${q}/cancel`);
  assert.equal(r.status, 409);
  r = await call(opa, 'POST', `/api/v1/bookings/${q}/checkout`);
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'completed');
  // Who may read: own, the owner's operators, admins; not others.
  assert.equal((await call(resb, 'GET', `/api/v1/bookings/${q}`)).status, 404);
  assert.equal((await call(opb, 'GET', `/api/v1/bookings/${q}`)).status, 404);
  assert.equal((await call(opa, 'GET', `/api/v1/bookings/${q}`)).status, 200);
  assert.equal((await call(ada, 'GET', `/api/v1/bookings/${q}`)).status, 200);
  r = await call(resb, 'GET', `/api/v1/bookings?instrument_id=${world.ids.quick}`);
  assert.ok(!r.body.items.some((b) => b.id === q));
});

test('a group\'s PI approves only while holding the PI role', async () => {
  const piLab = sql(world.db, `SELECT id FROM lab_groups WHERE name = 'pi-lab'`);
  const day = localMidnight(33);
  let r = await book(stu, { instrument_id: world.ids.open, start: iso(day + 10 * H), end: iso(day + 11 * H) });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.awaiting, 'pi');
  const id = r.body.id;
  // A researcher named as the group's PI (without the role) is no PI.
  sql(world.db, `UPDATE lab_groups SET pi_user_id = ${world.users.res} WHERE id = ${piLab}`);
  try {
    r = await call(res, 'GET', '/api/v1/bookings?approvable=1');
    assert.ok(!r.body.items.some((b) => b.id === id), 'not in their approval queue');
    r = await call(res, 'POST', `/api/v1/bookings/${id}/approve`);
    assert.equal(r.status, 404, r.text); // nor may they read it
    assert.equal((await call(res, 'GET', `/api/v1/bookings?instrument_id=${world.ids.open}`)).body.items
      .some((b) => b.id === id), false);
    // Nor book for the group as if leading it.
    r = await book(res, { instrument_id: world.ids.open, group_id: Number(piLab), start: iso(day + 12 * H), end: iso(day + 13 * H) });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error.field, 'group_id');
    // The owner's operator, named as the group's PI, still may not take the PI step.
    sql(world.db, `UPDATE lab_groups SET pi_user_id = ${world.users.opa} WHERE id = ${piLab}`);
    r = await call(opa, 'POST', `/api/v1/bookings/${id}/approve`);
    assert.equal(r.status, 403, r.text);
  } finally {
    sql(world.db, `UPDATE lab_groups SET pi_user_id = ${world.users.pia} WHERE id = ${piLab}`);
  }
  r = await call(pia, 'GET', '/api/v1/bookings?approvable=1');
  assert.ok(r.body.items.some((b) => b.id === id));
  r = await call(pia, 'POST', `/api/v1/bookings/${id}/approve`);
  assert.equal(r.status, 200, r.text);
  assert.notEqual(r.body.awaiting, 'pi');
});

test('cancellation: the user before the deadline, the operator any time with a reason', async () => {
  const I = world.ids.open;
  const now = Math.floor(Date.now() / 1000);
  const near = Math.ceil((now + 3 * H) / 1800) * 1800;
  let r = await book(res, { instrument_id: I, start: iso(near), end: iso(near + 1800) });
  assert.equal(r.status, 201, r.text);
  const id = r.body.id;
  r = await call(res, 'POST', `/api/v1/bookings/${id}/cancel`);
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'past_deadline');
  r = await call(opa, 'POST', `/api/v1/bookings/${id}/cancel`, {});
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'reason_required');
  r = await call(opb, 'POST', `/api/v1/bookings/${id}/cancel`, { reason: 'x' });
  assert.equal(r.status, 404);
  r = await call(opa, 'POST', `/api/v1/bookings/${id}/cancel`, { reason: '设备临时故障' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, 'cancelled');
  const far = localMidnight(12) + 10 * H;
  r = await book(res, { instrument_id: I, start: iso(far), end: iso(far + H) });
  r = await call(res, 'POST', `/api/v1/bookings/${r.body.id}/cancel`);
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'cancelled');
  // The slot is free again.
  r = await book(resb, { instrument_id: I, start: iso(far), end: iso(far + H) });
  assert.equal(r.status, 201);
  r = await call(res, 'GET', '/api/v1/notifications');
  assert.ok(r.body.items.some((n) => n.booking_id === id && n.message_zh.includes('设备临时故障')));
});

test('maintenance blocks cancel the bookings they hit and notify the users', async () => {
  const I = world.ids.open;
  const day = localMidnight(13);
  const a = await book(res, { instrument_id: I, start: iso(day + 10 * H), end: iso(day + 11 * H) });
  const b = await book(resb, { instrument_id: I, start: iso(day + 15 * H), end: iso(day + 16 * H) });
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  const before = (await call(res, 'GET', '/api/v1/notifications?unread=1')).body.unread_count;
  const block = { start: iso(day + 9 * H), end: iso(day + 12 * H), reason: '年度保养 annual service' };
  assert.equal((await call(res, 'POST', `/api/v1/instruments/${I}/blocks`, block)).status, 403);
  assert.equal((await call(opb, 'POST', `/api/v1/instruments/${I}/blocks`, block)).status, 403);
  let r = await call(opa, 'POST', `/api/v1/instruments/${I}/blocks`, block);
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.body.cancelled_booking_ids, [a.body.id]);
  const blockId = r.body.id;
  r = await call(res, 'GET', `/api/v1/bookings/${a.body.id}`);
  assert.equal(r.body.status, 'cancelled');
  assert.equal(r.body.reason, block.reason);
  r = await call(resb, 'GET', `/api/v1/bookings/${b.body.id}`);
  assert.equal(r.body.status, 'confirmed');
  r = await call(res, 'GET', '/api/v1/notifications?unread=1');
  assert.equal(r.body.unread_count, before + 1);
  const note = r.body.items.find((n) => n.booking_id === a.body.id);
  assert.ok(note.message_zh.includes('年度保养'), note.message_zh);
  r = await book(resb, { instrument_id: I, start: iso(day + 11 * H), end: iso(day + 12 * H) });
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'slot_taken');
  r = await call(res, 'GET', `/api/v1/instruments/${I}/availability?from=${encodeURIComponent(iso(day))}&to=${encodeURIComponent(iso(day + 86400))}`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.busy.map((x) => [x.kind, secs(x.start) - day, secs(x.end) - day]),
    [['block', 9 * H, 12 * H], ['booking', 15 * H, 16 * H]]);
  r = await call(res, 'POST', '/api/v1/notifications/read', { all: true });
  assert.equal(r.body.unread_count, 0);
  r = await call(opa, 'GET', `/api/v1/instruments/${I}/blocks?from=${encodeURIComponent(iso(day))}`);
  assert.equal(r.body.items.length, 1);
  r = await call(opa, 'DELETE', `/api/v1/instruments/${I}/blocks/${blockId}`);
  assert.equal(r.status, 204);
  r = await book(resb, { instrument_id: I, start: iso(day + 11 * H), end: iso(day + 12 * H) });
  assert.equal(r.status, 201);
});

test('availability: kinds, merging, no personal data, the 62-day bound; free-slot search', async () => {
  const I = world.ids.rules;
  const day = weekday(20);
  await book(res, { instrument_id: I, start: iso(day + 10 * H), end: iso(day + 11 * H) });
  await book(resb, { instrument_id: I, start: iso(day + 11 * H), end: iso(day + 12 * H) });
  const q = (from, to) => `/api/v1/instruments/${I}/availability?from=${encodeURIComponent(iso(from))}&to=${encodeURIComponent(iso(to))}`;
  const anon = new (await import('./lib/server.mjs')).Client(srv.url);
  let r = await call(anon, 'GET', q(day, day + 86400));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.busy.map((x) => [x.kind, (secs(x.start) - day) / H, (secs(x.end) - day) / H]),
    [['closed', 0, 9], ['booking', 10, 12], ['closed', 18, 24]]);
  assert.deepEqual(r.body.free.map((x) => [(secs(x.start) - day) / H, (secs(x.end) - day) / H]), [[9, 10], [12, 18]]);
  for (const x of r.body.busy) assert.deepEqual(Object.keys(x).sort(), ['end', 'kind', 'start']);
  r = await call(anon, 'GET', q(day, day + 63 * 86400));
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'range_too_long');
  r = await call(anon, 'GET', q(day, day + 62 * 86400));
  assert.equal(r.status, 200);
  r = await call(anon, 'GET', `/api/v1/instruments/${world.ids.internal}/availability?from=${encodeURIComponent(iso(day))}&to=${encodeURIComponent(iso(day + 86400))}`);
  assert.equal(r.status, 404);
  r = await call(anon, 'GET', `/api/v1/availability/search?minutes=120&class=0101&zone=neobay&from=${encodeURIComponent(iso(day + 9 * H))}&to=${encodeURIComponent(iso(day + 86400))}`);
  assert.equal(r.status, 200, r.text);
  const hit = r.body.items.find((x) => x.instrument_id === I);
  assert.ok(hit, JSON.stringify(r.body));
  assert.equal(secs(hit.start), day + 12 * H, 'the first two free hours after the bookings');
  assert.ok(!r.body.items.some((x) => x.instrument_id === world.ids.far), 'zone filter');
  assert.ok(!r.body.items.some((x) => x.instrument_id === world.ids.broken), 'only bookable ones');
  r = await call(anon, 'GET', '/api/v1/availability/search');
  assert.equal(r.status, 400);
});

test('iCalendar feed: private, parsed by a real parser, rotated and revoked', async () => {
  let r = await call(res, 'POST', '/api/v1/me/calendar-feed');
  assert.equal(r.status, 201, r.text);
  const path = r.body.path;
  const feed = await fetch(srv.url + path);
  assert.equal(feed.status, 200);
  assert.match(feed.headers.get('content-type'), /^text\/calendar/);
  const text = await feed.text();
  const py = `import sys, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.read())
evs = [c for c in cal.walk() if c.name == 'VEVENT']
print(len(evs))
for e in evs:
    assert e.get('dtstart').dt < e.get('dtend').dt
    print(str(e.get('uid')), str(e.get('status')))`;
  const out = execFileSync('/usr/bin/python3', ['-c', py], { input: text, encoding: 'utf8' }).trim().split('\n');
  const n = Number(sql(world.db, `SELECT count(*) FROM bookings WHERE user_id = ${world.users.res} AND start >= unixepoch() - 90*86400`));
  assert.equal(Number(out[0]), n);
  assert.ok(n > 3);
  assert.ok(out.slice(1).some((l) => l.endsWith('CANCELLED')));
  assert.ok(out.slice(1).some((l) => l.endsWith('CONFIRMED')));
  assert.equal((await call(res, 'GET', '/api/v1/me/calendar-feed')).body.active, true);
  r = await call(res, 'POST', '/api/v1/me/calendar-feed');
  assert.notEqual(r.body.path, path);
  assert.equal((await fetch(srv.url + path)).status, 404, 'the old URL stops working');
  assert.equal((await fetch(srv.url + r.body.path)).status, 200);
  assert.equal((await call(res, 'DELETE', '/api/v1/me/calendar-feed')).status, 204);
  assert.equal((await fetch(srv.url + r.body.path)).status, 404);
  assert.equal((await call(res, 'GET', '/api/v1/me/calendar-feed')).body.active, false);
});

// After the tests that leave bookings in every state behind (before the
// no-show test, which restarts the server with a shifted clock).
test('the booking list shows exactly what each role may read, and mine=1 only one\'s own', async () => {
  const com = await signIn(srv, 'com');
  const all = async (c, q = '') => {
    const ids = [];
    for (let cursor = ''; ;) {
      const r = await call(c, 'GET', `/api/v1/bookings?limit=200${q}${cursor ? '&cursor=' + cursor : ''}`);
      assert.equal(r.status, 200, r.text);
      ids.push(...r.body.items.map((b) => b.id));
      if (!r.body.next_cursor) break;
      cursor = r.body.next_cursor;
    }
    return ids;
  };
  const want = (login, status, from, to, instrument) => sql(world.db, `SELECT b.id FROM bookings b
      JOIN users u ON u.login = '${login}' JOIN instruments i ON i.id = b.instrument_id
      LEFT JOIN lab_groups g ON g.id = b.group_id
      WHERE (u.roles & 16 OR b.user_id = u.id OR (u.roles & 4 AND i.owner_org_id = u.org_id)
             OR (u.roles & 2 AND g.pi_user_id = u.id))
        ${status ? `AND b.status = '${status}'` : ''} ${from ? `AND b.end > ${from} AND b.start < ${to}` : ''}
        ${instrument ? `AND b.instrument_id = ${instrument}` : ''}
      ORDER BY b.id DESC`).split('\n').filter(Boolean).map(Number);
  // A booking far longer than any other (stored directly, as an import
  // might): a window over its tail must still find it (migration 075).
  const longStart = localMidnight(-20);
  const longId = Number(sql(world.db, `INSERT INTO bookings (instrument_id, user_id, group_id, payer_org_id, start, end,
      status, created_at, updated_at) SELECT ${world.ids.open}, u.id, u.group_id, u.org_id, ${longStart},
      ${longStart + 9 * 86400}, 'completed', ${longStart}, ${longStart} FROM users u WHERE u.login = 'res' RETURNING id`));
  // A researcher recorded as a group's PI without the PI role (a group may
  // name any member; an admin may take the role away) reads no one else's
  // bookings: a PI's reach comes with the role.
  const openLab = sql(world.db, `SELECT id FROM lab_groups WHERE name = 'open-lab'`);
  const openLabPi = sql(world.db, `SELECT coalesce(pi_user_id, 'NULL') FROM lab_groups WHERE id = ${openLab}`);
  sql(world.db, `UPDATE lab_groups SET pi_user_id = ${world.users.res} WHERE id = ${openLab}`);
  sql(world.db, `INSERT INTO bookings (instrument_id, user_id, group_id, payer_org_id, start, end, status)
      SELECT ${world.ids.open}, u.id, u.group_id, u.org_id, ${localMidnight(30)}, ${localMidnight(30) + H}, 'cancelled'
      FROM users u WHERE u.login = 'r1'`);
  const windows = [[localMidnight(-12), localMidnight(-11)], [localMidnight(5), localMidnight(11)],
    [localMidnight(10) + 2 * H, localMidnight(10) + 14 * H]];
  const own = (login) => sql(world.db, `SELECT b.id FROM bookings b JOIN users u ON u.login = '${login}'
      WHERE b.user_id = u.id ORDER BY b.id DESC`).split('\n').filter(Boolean).map(Number);
  for (const [c, login] of [[res, 'res'], [resb, 'resb'], [stu, 'stu'], [pia, 'pia'], [opa, 'opa'], [opb, 'opb'],
    [ada, 'ada'], [com, 'com']]) {
    assert.deepEqual(await all(c), want(login), login);
    assert.deepEqual(await all(c, '&mine=1'), own(login), `${login} mine=1`);
    for (const status of ['pending', 'confirmed', 'cancelled'])
      assert.deepEqual(await all(c, `&status=${status}`), want(login, status), `${login} ${status}`);
    for (const [from, to] of windows) {
      const q = `&from=${encodeURIComponent(iso(from))}&to=${encodeURIComponent(iso(to))}`;
      assert.deepEqual(await all(c, q), want(login, null, from, to), `${login} ${iso(from)}`);
    }
    // One instrument's bookings, live and ended (migration 078), alone and
    // with the other filters, paged 2 at a time.
    for (const instrument of [world.ids.open, world.ids.quick, world.ids.rules]) {
      const page = async (q) => {
        const ids = [];
        for (let cursor = ''; ;) {
          const r = await call(c, 'GET', `/api/v1/bookings?limit=2&instrument_id=${instrument}${q}` +
            (cursor ? '&cursor=' + cursor : ''));
          assert.equal(r.status, 200, r.text);
          ids.push(...r.body.items.map((b) => b.id));
          if (!r.body.next_cursor) break;
          cursor = r.body.next_cursor;
        }
        return ids;
      };
      assert.deepEqual(await page(''), want(login, null, null, null, instrument), `${login} instrument ${instrument}`);
      assert.deepEqual(await page('&status=cancelled'), want(login, 'cancelled', null, null, instrument));
      assert.deepEqual(await page('&mine=1'), own(login).filter((id) => want('ada', null, null, null, instrument).includes(id)));
      const [from, to] = windows[1];
      assert.deepEqual(await page(`&from=${encodeURIComponent(iso(from))}&to=${encodeURIComponent(iso(to))}`),
        want(login, null, from, to, instrument));
    }
  }
  sql(world.db, `UPDATE lab_groups SET pi_user_id = ${openLabPi} WHERE id = ${openLab}`);
  assert.ok(Number(sql(world.db, `SELECT count(*) FROM bookings WHERE group_id = ${openLab}
      AND user_id <> ${world.users.res} AND instrument_id IN (${world.ids.open}, ${world.ids.quick}, ${world.ids.rules})`)) > 0,
  'open-lab has bookings of others than res on the instruments listed, which res must not have seen');
  const ofOpen = want('ada', null, null, null, world.ids.open);
  assert.ok(ofOpen.length > 4 && ofOpen.includes(longId), 'the open instrument has live and ended bookings');
  assert.ok(Number(sql(world.db, `SELECT count(*) FROM bookings WHERE instrument_id = ${world.ids.open}
      AND status NOT IN ('pending', 'confirmed', 'in_use')`)) > 1, 'ended ones among them');
  assert.ok(want('ada', null, ...windows[0]).includes(longId), 'the long booking is in the window over its tail');
  assert.ok(want('ada', null, ...windows[1]).length > 2 && want('ada', null, ...windows[2]).length > 2);
  assert.ok(want('ada', 'pending').length > 0 && want('ada', 'cancelled').length > 0);
  assert.ok(own('res').length > 3 && want('opa').length > own('opa').length && want('pia').length > own('pia').length);
});

test('no-show after a restart with a shifted clock releases the slot; three bar the user', async () => {
  const nos = await signIn(srv, 'nos');
  const now = Math.floor(Date.now() / 1000);
  const s0 = Math.ceil((now + 120) / 60) * 60;
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const r = await book(nos, { instrument_id: world.ids.quick, start: iso(s0 + i * 600), end: iso(s0 + i * 600 + 300) });
    assert.equal(r.status, 201, r.text);
    ids.push(r.body.id);
  }
  await srv.stop();
  // 50 minutes later: every start is more than 15 minutes past.
  srv = await start(world, { env: { YIQI_CLOCK_OFFSET: String(50 * 60) } });
  const again = await signIn(srv, 'nos');
  let r;
  for (let tries = 0; tries < 50; tries++) {
    r = await call(again, 'GET', `/api/v1/bookings/${ids[2]}`);
    if (r.body.status === 'no_show') break;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  for (const id of ids) assert.equal((await call(again, 'GET', `/api/v1/bookings/${id}`)).body.status, 'no_show');
  const ev = (await call(again, 'GET', `/api/v1/bookings/${ids[0]}`)).body.events.at(-1);
  assert.equal(ev.to_status, 'no_show');
  assert.equal(ev.actor_user_id, null);
  r = await call(again, 'GET', `/api/v1/instruments/${world.ids.quick}/availability?from=${encodeURIComponent(iso(s0))}&to=${encodeURIComponent(iso(s0 + 1800))}`);
  assert.ok(!r.body.busy.some((x) => x.kind === 'booking'), 'the slots are released');
  const day = localMidnight(15);
  r = await book(again, { instrument_id: world.ids.open, start: iso(day + 10 * H), end: iso(day + 11 * H) });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'barred');
  const barred = Number(sql(world.db, `SELECT barred_until FROM users WHERE login = 'nos'`));
  assert.ok(Math.abs(barred - (now + 50 * 60 + 30 * 86400)) < 600, `${barred}`);
  r = await call(again, 'GET', '/api/v1/notifications');
  assert.ok(r.body.items.some((n) => n.kind === 'barred'));
});

test('the bar shows on the user; only an admin lifts it, audited, and the user books again', async () => {
  // Continues from the test above: 'nos' is barred by three real no-shows.
  const id = world.users.nos;
  const stored = Number(sql(world.db, `SELECT barred_until FROM users WHERE id = ${id}`));
  assert.ok(stored > Date.now() / 1000, 'barred by the test above');
  const [nos, ada2, opa2] = await Promise.all(['nos', 'ada', 'opa'].map((l) => signIn(srv, l)));
  for (const c of [nos, ada2, opa2]) {
    const r = await call(c, 'GET', `/api/v1/users/${id}`);
    assert.equal(r.status, 200);
    assert.equal(secs(r.body.barred_until), stored, 'the bar as an RFC 3339 instant');
  }
  // The user sees their own bar on /me (the account page shows it); others' /me do not.
  let me = await call(nos, 'GET', '/api/v1/me');
  assert.equal(secs(me.body.barred_until), stored);
  // ... with the names of the institution and group the account page shows.
  assert.equal(me.body.org_name_zh, sql(world.db, `SELECT o.name_zh FROM orgs o JOIN users u ON u.org_id = o.id WHERE u.id = ${id}`));
  assert.equal(me.body.group_name, sql(world.db, `SELECT g.name FROM lab_groups g JOIN users u ON u.group_id = g.id WHERE u.id = ${id}`));
  assert.ok(me.body.group_name, 'nos is in a group');
  assert.equal((await call(ada2, 'GET', '/api/v1/me')).body.barred_until, null);
  const day = localMidnight(16);
  const slot = { instrument_id: world.ids.open, start: iso(day + 10 * H), end: iso(day + 11 * H) };
  // The user themself and their institution's operator may not lift it.
  for (const c of [nos, opa2]) {
    const r = await call(c, 'PATCH', `/api/v1/users/${id}`, { barred_until: null });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.field, 'barred_until');
  }
  let r = await book(nos, slot);
  assert.equal(r.body.error?.code, 'barred', 'still barred');
  r = await call(ada2, 'PATCH', `/api/v1/users/${id}`, { barred_until: null });
  assert.equal(r.status, 200);
  assert.equal(r.body.barred_until, null);
  assert.equal(sql(world.db, `SELECT barred_until FROM users WHERE id = ${id}`), '0');
  r = await call(nos, 'GET', `/api/v1/users/${id}`);
  assert.equal(r.body.barred_until, null);
  me = await call(nos, 'GET', '/api/v1/me');
  assert.equal(me.body.barred_until, null);
  r = await book(nos, slot);
  assert.equal(r.status, 201, r.text);
  r = await call(ada2, 'GET', `/api/v1/audit?action=user_unbar&object_type=user&object_id=${id}`);
  assert.equal(r.body.items.length, 1);
  const e = r.body.items[0];
  assert.equal(e.actor_login, 'ada');
  assert.equal(secs(e.before.barred_until), stored);
  assert.deepEqual(e.after, { barred_until: null });
  r = await call(ada2, 'GET', `/api/v1/audit?action=user_update&object_type=user&object_id=${id}`);
  assert.equal(r.body.items.length, 0, 'the lift is not also a user_update');
  // The lift forgives the three no-shows behind the bar (migration 079): two
  // more do not bar again, although five now lie within 90 days; a third
  // after the lift does.
  const lifted = Number(sql(world.db, `SELECT bar_lifted_at FROM users WHERE id = ${id}`));
  assert.ok(Math.abs(lifted - (Date.now() / 1000 + 50 * 60)) < 120, 'the lift is dated by the server clock');
  let offset = 50 * 60;
  const noShows = async (n) => {
    const c = await signIn(srv, 'nos');
    const t = Math.ceil((Date.now() / 1000 + offset + 120) / 60) * 60;
    for (let i = 0; i < n; i++) {
      const b = await book(c, { instrument_id: world.ids.quick, start: iso(t + i * 600), end: iso(t + i * 600 + 300) });
      assert.equal(b.status, 201, b.text);
    }
    await srv.stop();
    offset += 60 * 60; // an hour later every one of them is more than 15 minutes past its start
    srv = await start(world, { env: { YIQI_CLOCK_OFFSET: String(offset) } });
    for (let tries = 0; tries < 50; tries++) {
      const open = Number(sql(world.db, `SELECT count(*) FROM bookings WHERE user_id = ${id} AND status = 'confirmed'
          AND instrument_id = ${world.ids.quick}`));
      if (open === 0) break;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    return signIn(srv, 'nos');
  };
  const countNoShows = () => Number(sql(world.db, `SELECT count(*) FROM bookings WHERE user_id = ${id} AND status = 'no_show'`));
  let c = await noShows(2);
  assert.equal(countNoShows(), 5);
  assert.equal(sql(world.db, `SELECT barred_until FROM users WHERE id = ${id}`), '0', 'not barred again by two');
  const later = { instrument_id: world.ids.open, start: iso(localMidnight(18) + 10 * H), end: iso(localMidnight(18) + 11 * H) };
  r = await book(c, later);
  assert.equal(r.status, 201, r.text);
  c = await noShows(1);
  assert.equal(countNoShows(), 6);
  assert.ok(Number(sql(world.db, `SELECT barred_until FROM users WHERE id = ${id}`)) > Date.now() / 1000 + 29 * 86400,
    'three no-shows since the lift bar again');
  r = await book(c, { ...later, start: iso(localMidnight(19) + 10 * H), end: iso(localMidnight(19) + 11 * H) });
  assert.equal(r.body.error?.code, 'barred');
});
