// Instants on the wire: RFC 3339 with fractional seconds (what JavaScript's
// toISOString writes) is accepted and kept as whole seconds; an instant the
// server could not write back as a four-digit year is refused, never stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { checkResponse } from './lib/openapi.mjs';
import { buildWorld, start, signIn, iso, localMidnight, H, sql } from './lib/bookings-world.mjs';

let world, srv, res, opa;

async function call(client, method, path, body) {
  const r = await client.req(method, path, body);
  checkResponse(method, path, r);
  return r;
}

before(async () => {
  world = buildWorld();
  srv = await start(world);
  [res, opa] = await Promise.all(['res', 'opa'].map((l) => signIn(srv, l)));
});
after(async () => {
  await srv.stop();
  rmSync(world.dir, { recursive: true, force: true });
});

test('a booking sent with toISOString() times is accepted, stored and shown in whole seconds', async () => {
  const day = localMidnight(20);
  const start = new Date((day + 10 * H) * 1000).toISOString(); // "...T02:00:00.000Z"
  const end = new Date((day + 11 * H) * 1000).toISOString();
  assert.match(start, /\.000Z$/);
  const r = await call(res, 'POST', '/api/v1/bookings', { instrument_id: world.ids.open, start, end });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.start, iso(day + 10 * H));
  assert.equal(r.body.end, iso(day + 11 * H));
  assert.equal(Number(sql(world.db, `SELECT start FROM bookings WHERE id = ${r.body.id}`)), day + 10 * H);
  // A fraction is dropped, not rounded: 12:00:00.999 is 12:00:00.
  const q = `from=${encodeURIComponent(iso(day).replace('+08:00', '.999+08:00'))}` +
    `&to=${encodeURIComponent(iso(day + 24 * H))}`;
  const a = await call(res, 'GET', `/api/v1/instruments/${world.ids.open}/availability?${q}`);
  assert.equal(a.status, 200, a.text);
  assert.ok(a.body.busy.some((b) => b.start === iso(day + 10 * H)), a.text);
});

test('an instant past the year 9999 in local time is refused, not stored as a year-10000 time', async () => {
  const before = Number(sql(world.db, 'SELECT count(*) FROM blocks'));
  for (const [start, end] of [
    ['9999-12-31T23:00:00-23:59', '9999-12-31T23:30:00-23:59'],
    ['9999-12-31T16:00:00Z', '9999-12-31T17:00:00Z'],
  ]) {
    const r = await call(opa, 'POST', `/api/v1/instruments/${world.ids.open}/blocks`, { start, end, reason: 'x' });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error.code, 'invalid_field');
    assert.equal(r.body.error.field, 'start');
  }
  assert.equal(Number(sql(world.db, 'SELECT count(*) FROM blocks')), before);
  // The last local second of 9999 is fine and reads back as written.
  const r = await call(opa, 'POST', `/api/v1/instruments/${world.ids.open}/blocks`,
    { start: '9999-12-31T22:00:00+08:00', end: '9999-12-31T23:59:59+08:00', reason: 'far' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.end, '9999-12-31T23:59:59+08:00');
});
