// The server keeps recently resolved sessions (auth/session_cache.c). A
// cached session must never outlive a change to what it was resolved from:
// changes made by another process straight in the database file (as the
// command-line tools do) and changes made through the API both take effect
// on the very next request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { buildWorld, start, signIn, sql } from './lib/bookings-world.mjs';

let world, srv;

before(async () => {
  world = buildWorld();
  srv = await start(world);
});
after(async () => {
  await srv.stop();
  rmSync(world.dir, { recursive: true, force: true });
});

const me = async (c) => c.get('/api/v1/me');

test('changes written by another process to users and sessions apply at the next request', async () => {
  const c = await signIn(srv, 'r1');
  for (let i = 0; i < 3; i++) assert.equal((await me(c)).status, 200); // resolved once, then from the cache
  // What the principal's roles allow (the lookup's result, not a fresh read).
  assert.equal((await c.get('/api/v1/vouchers')).status, 403);
  sql(world.db, "UPDATE users SET roles = 9 WHERE login = 'r1'"); // researcher + commission
  assert.equal((await c.get('/api/v1/vouchers')).status, 200, 'a role granted from outside is seen');
  sql(world.db, "UPDATE users SET roles = 1 WHERE login = 'r1'");
  assert.equal((await c.get('/api/v1/vouchers')).status, 403, 'a role taken away from outside is gone');

  sql(world.db, "UPDATE users SET disabled = 1 WHERE login = 'r1'");
  assert.equal((await me(c)).status, 401, 'a user disabled from outside is out at once');
  sql(world.db, "UPDATE users SET disabled = 0 WHERE login = 'r1'");
  assert.equal((await me(c)).status, 200);

  sql(world.db, "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE login = 'r1')");
  assert.equal((await me(c)).status, 401, 'a session deleted from outside has ended');
});

test('changes through the API apply at the next request: roles, disabling, signing out', async () => {
  const admin = await signIn(srv, 'ada');
  const c = await signIn(srv, 'r2');
  const id = (await me(c)).body.id;
  assert.equal((await me(c)).status, 200);
  assert.equal((await c.get('/api/v1/vouchers')).status, 403);
  let r = await admin.patch(`/api/v1/users/${id}`, { roles: ['researcher', 'commission'] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await c.get('/api/v1/vouchers')).status, 200);
  r = await admin.patch(`/api/v1/users/${id}`, { roles: ['researcher'] });
  assert.equal((await c.get('/api/v1/vouchers')).status, 403);
  r = await admin.post(`/api/v1/users/${id}/disable`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await me(c)).status, 401);
  assert.equal((await admin.post(`/api/v1/users/${id}/enable`)).status, 200);
  const d = await signIn(srv, 'r2');
  assert.equal((await me(d)).status, 200);
  const cookie = d.cookie;
  assert.equal((await d.del('/api/v1/session')).status, 204);
  d.cookie = cookie;
  assert.equal((await me(d)).status, 401, 'a signed-out session stays out');
});
