// Accounts (issue 3) end to end against the real binary: administration of zones,
// institutions, groups and users; throttling; session idle and absolute expiry;
// sign-out, password change, disabling and token revocation ending access; token
// scopes; CSRF and Origin; cookies behind TLS; the audit log; and that no
// password, token or session id reaches the server's log or the audit table.
// Every JSON answer is validated against proto/openapi.yaml.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync, rmSync } from 'node:fs';
import { startServer, addUser, Client, tempDir } from './lib/server.mjs';
import { checkResponse } from './lib/openapi.mjs';
import { buildWorld, creditCode, creditCodeFor } from './lib/world.mjs';

const secrets = new Set(); // every password and token used, for the final leak check
const PW = 'Accounts-Test-Pass-2026';
secrets.add(PW);

function sql(db, text) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', db, text], { encoding: 'utf8' }).trim();
}

// Sends and validates against the contract.
async function call(client, method, path, body, headers) {
  const res = await client.req(method, path, body, headers);
  checkResponse(method, path, res);
  return res;
}

// A request with exactly these headers (no Client defaults), validated too.
async function rawCall(base, method, path, { headers = {}, body } = {}) {
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  const out = { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  checkResponse(method, path, out);
  return out;
}

function cookieValue(client) { return client.cookie.split('=').slice(1).join('='); }

let w;
before(async () => {
  w = await buildWorld();
  secrets.add(w.password);
  for (const t of Object.values(w.tokens)) secrets.add(t);
  for (const c of Object.values(w.clients)) if (c.cookie) secrets.add(cookieValue(c));
});
after(async () => {
  // Nothing secret in the log or the audit table, after everything above ran.
  const log = w.srv.stderr();
  const audit = sql(w.db, 'SELECT * FROM audit');
  assert.ok(audit.includes('login_failed') && log.length > 0);
  for (const s of secrets) {
    assert.ok(!log.includes(s), `a secret reached the server log: ${s.slice(0, 6)}...`);
    assert.ok(!audit.includes(s), `a secret reached the audit table: ${s.slice(0, 6)}...`);
  }
  await w.stop();
});

test('admin sets up zones, institutions, groups and users; the contract holds', async () => {
  const admin = w.clients.admin;
  let r = await call(admin, 'POST', '/api/v1/zones', { code: 'lingang', name_zh: '临港', name_en: 'Lingang' });
  assert.equal(r.status, 201);
  assert.equal(r.body.code, 'lingang');
  r = await call(admin, 'POST', '/api/v1/zones', { code: 'lingang', name_zh: '临港', name_en: 'Lingang' });
  assert.equal(r.status, 409);
  r = await call(admin, 'POST', '/api/v1/zones', { code: 'Bad Code', name_zh: 'x', name_en: 'x' });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.field, 'code');
  r = await call(admin, 'PATCH', '/api/v1/zones/lingang', { name_en: 'Lingang New Area' });
  assert.equal(r.status, 200);
  assert.equal(r.body.name_en, 'Lingang New Area');
  r = await call(new Client(w.url), 'GET', '/api/v1/zones');
  assert.deepEqual(r.body.items.map((z) => z.code), ['neobay', 'zhangjiang', 'lingang']);

  const org = { code: 'LG1', name_zh: '临港实验室', name_en: 'Lingang Lab', zone: 'lingang', kind: 'platform', credit_code: creditCodeFor(77) };
  r = await call(admin, 'POST', '/api/v1/orgs', { ...org, credit_code: org.credit_code.slice(0, 17) + (org.credit_code[17] === '1' ? '2' : '1') });
  assert.equal(r.status, 400, 'a wrong check character is refused');
  assert.equal(r.body.error.field, 'credit_code');
  r = await call(admin, 'POST', '/api/v1/orgs', { ...org, credit_code: 'I' + org.credit_code.slice(1) });
  assert.equal(r.body.error.field, 'credit_code', 'I is not a credit-code character');
  r = await call(admin, 'POST', '/api/v1/orgs', { ...org, zone: 'mars' });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.field, 'zone');
  r = await call(admin, 'POST', '/api/v1/orgs', { ...org, credit_code: org.credit_code.toLowerCase() });
  assert.equal(r.status, 201);
  assert.equal(r.body.credit_code, org.credit_code, 'stored upper-case');
  const orgId = r.body.id;
  r = await call(admin, 'POST', '/api/v1/orgs', { ...org, code: 'LG2' });
  assert.equal(r.status, 409);
  assert.equal(r.body.error.field, 'credit_code');
  r = await call(admin, 'PATCH', `/api/v1/orgs/${orgId}`, { kind: 'institute', zone: 'neobay' });
  assert.equal(r.status, 200);
  assert.equal(r.body.kind, 'institute');
  assert.equal(r.body.zone, 'neobay');
  r = await call(new Client(w.url), 'GET', '/api/v1/orgs?zone=zhangjiang');
  assert.deepEqual(r.body.items.map((o) => o.code), ['IB']);

  r = await call(admin, 'POST', '/api/v1/groups', { org_id: orgId, name: '量子课题组', pi_user_id: w.ids.users.pi });
  assert.equal(r.status, 400, 'the PI must be of the same institution');
  assert.equal(r.body.error.field, 'pi_user_id');
  r = await call(admin, 'POST', '/api/v1/groups', { org_id: orgId, name: '量子课题组', requires_pi_approval: true });
  assert.equal(r.body.error.code, 'pi_required');
  r = await call(admin, 'POST', '/api/v1/groups', { org_id: orgId, name: '量子课题组' });
  assert.equal(r.status, 201);
  const groupId = r.body.id;
  r = await call(admin, 'POST', '/api/v1/groups', { org_id: orgId, name: '量子课题组' });
  assert.equal(r.status, 409);

  const user = { login: 'qiu', name: '邱研究员', email: 'qiu@example.org', roles: ['researcher'], password: PW };
  r = await call(admin, 'POST', '/api/v1/users', user);
  assert.equal(r.body.error.code, 'org_required');
  r = await call(admin, 'POST', '/api/v1/users', { ...user, org_id: orgId, group_id: w.ids.groupA });
  assert.equal(r.body.error.code, 'invalid_group');
  r = await call(admin, 'POST', '/api/v1/users', { ...user, org_id: orgId, password: 'password1234' });
  assert.equal(r.body.error.code, 'weak_password');
  assert.equal(r.body.error.field, 'password');
  r = await call(admin, 'POST', '/api/v1/users', { ...user, org_id: orgId, password: 'short' });
  assert.equal(r.body.error.field, 'password');
  r = await call(admin, 'POST', '/api/v1/users', { ...user, org_id: orgId, roles: ['boss'] });
  assert.equal(r.body.error.field, 'roles');
  r = await call(admin, 'POST', '/api/v1/users', { ...user, org_id: orgId, email: 'not-an-email' });
  assert.equal(r.body.error.field, 'email');
  r = await call(admin, 'POST', '/api/v1/users', { ...user, login: 'res_a', org_id: orgId });
  assert.equal(r.status, 409);
  r = await call(admin, 'POST', '/api/v1/users', { ...user, org_id: orgId, group_id: groupId });
  assert.equal(r.status, 201);
  assert.equal(r.body.group_id, groupId);
  assert.equal(r.body.disabled, false);
  const c = new Client(w.url);
  await c.signIn('qiu', PW);
  assert.deepEqual(c.user.roles, ['researcher']);
  // A group's PI holds the PI role (a PI's reach in bookings comes with it).
  const qiu = r.body.id;
  r = await call(admin, 'PATCH', `/api/v1/groups/${groupId}`, { pi_user_id: qiu });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'invalid_pi');
  r = await call(admin, 'PATCH', `/api/v1/users/${qiu}`, { roles: ['researcher', 'pi'] });
  assert.equal(r.status, 200, r.text);
  r = await call(admin, 'PATCH', `/api/v1/groups/${groupId}`, { pi_user_id: qiu });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.pi_user_id, qiu);
  // Taking the role away later leaves the group editable with its PI as it is.
  r = await call(admin, 'PATCH', `/api/v1/users/${qiu}`, { roles: ['researcher'] });
  assert.equal(r.status, 200, r.text);
  r = await call(admin, 'PATCH', `/api/v1/groups/${groupId}`, { name: '量子课题组', pi_user_id: qiu });
  assert.equal(r.status, 200, r.text);
  r = await call(admin, 'PATCH', `/api/v1/groups/${groupId}`, { pi_user_id: null });
  assert.equal(r.status, 200, r.text);

  r = await call(w.clients.operator, 'GET', '/api/v1/users');
  assert.ok(r.body.items.every((u) => u.org_id === w.ids.orgA), 'an operator lists only own institution');
  r = await call(admin, 'GET', `/api/v1/users?org_id=${orgId}`);
  assert.deepEqual(r.body.items.map((u) => u.login), ['qiu']);
  r = await call(admin, 'GET', '/api/v1/users?role=pi&limit=1');
  assert.equal(r.body.items.length, 1);
  assert.ok(r.body.next_cursor);
  const r2 = await call(admin, 'GET', `/api/v1/users?role=pi&limit=1&cursor=${r.body.next_cursor}`);
  assert.notEqual(r2.body.items[0].id, r.body.items[0].id);
});

test('hashing a password never blocks other requests', async () => {
  const admin = w.clients.admin;
  const creates = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => admin.post('/api/v1/users', {
    login: `par${i}`, name: `并行${i}`, email: `par${i}@example.org`, org_id: w.ids.orgB, roles: ['researcher'], password: PW,
  }));
  await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  const z = await rawCall(w.url, 'GET', '/api/v1/zones');
  const zoneMs = performance.now() - t0;
  const all = await Promise.all(creates);
  const totalMs = performance.now() - t0;
  assert.equal(z.status, 200);
  assert.deepEqual(all.map((r) => r.status), Array(8).fill(201));
  assert.ok(zoneMs < totalMs / 2, `GET /zones took ${zoneMs.toFixed(0)} ms while users were created in ${totalMs.toFixed(0)} ms`);
});

test('a role change is audited with the roles before and after; self-demotion is refused', async () => {
  const admin = w.clients.admin;
  let r = await call(admin, 'PATCH', `/api/v1/users/${w.ids.users.spare_b}`, { roles: ['researcher', 'operator'] });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.roles, ['researcher', 'operator']);
  const c = await w.signIn('spare_b');
  r = await call(c, 'GET', '/api/v1/users');
  assert.equal(r.status, 200, 'the new role works at once');
  r = await call(admin, 'GET', `/api/v1/audit?action=role_change&object_type=user&object_id=${w.ids.users.spare_b}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.items.length, 1);
  const e = r.body.items[0];
  assert.deepEqual(e.before, { roles: ['researcher'] });
  assert.deepEqual(e.after, { roles: ['researcher', 'operator'] });
  assert.equal(e.actor_login, 'admin');
  assert.equal(e.actor_user_id, w.ids.users.admin);
  assert.equal(e.org_id, w.ids.orgB);
  r = await call(admin, 'PATCH', `/api/v1/users/${w.ids.users.spare_b}`, { roles: ['researcher'] });
  assert.equal(r.status, 200);
  r = await call(c, 'GET', '/api/v1/users');
  assert.equal(r.status, 403, 'and so does its removal');
  r = await call(admin, 'PATCH', `/api/v1/users/${w.ids.users.admin}`, { roles: ['commission'] });
  assert.equal(r.status, 409);
  r = await call(w.clients.researcher, 'PATCH', `/api/v1/users/${w.ids.users.researcher}`, { roles: ['admin'] });
  assert.equal(r.status, 403);
  assert.equal(r.body.error.field, 'roles');
});

test('a user PATCH refuses a field it would not change, naming it, and changes nothing', async () => {
  const admin = w.clients.admin;
  const id = w.ids.users.spare_b;
  const before = (await call(admin, 'GET', `/api/v1/users/${id}`)).body;
  assert.equal(before.barred_until, null);
  for (const [body, field] of [
    [{ nmae: 'Typo' }, 'nmae'],
    [{ name: 'Renamed', login: 'renamed' }, 'login'],
    [{ disabled: true }, 'disabled'],
    [{ phone: '021-0000 0000', id: 1 }, 'id'],
  ]) {
    const r = await call(admin, 'PATCH', `/api/v1/users/${id}`, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.error.code, 'unknown_field');
    assert.equal(r.body.error.field, field);
  }
  // A bar is never set by hand; only null (lifting it) is accepted.
  for (const v of ['2027-01-01T00:00:00+08:00', 0, false]) {
    const r = await call(admin, 'PATCH', `/api/v1/users/${id}`, { barred_until: v });
    assert.equal(r.status, 400, JSON.stringify(v));
    assert.equal(r.body.error.code, 'invalid_field');
    assert.equal(r.body.error.field, 'barred_until');
  }
  const now = (await call(admin, 'GET', `/api/v1/users/${id}`)).body;
  assert.deepEqual(now, before, 'nothing changed');
  // Lifting a bar that is not there is a no-op, and no audit row.
  const r = await call(admin, 'PATCH', `/api/v1/users/${id}`, { barred_until: null });
  assert.equal(r.status, 200);
  assert.equal(r.body.barred_until, null);
  const a = await call(admin, 'GET', `/api/v1/audit?action=user_unbar&object_id=${id}`);
  assert.equal(a.body.items.length, 0);
});

test('throttling: 5 failures lock that login for 15 minutes; other logins still work; failures are audited', async () => {
  const anon = new Client(w.url);
  for (let i = 0; i < 5; i++) {
    const r = await call(anon, 'POST', '/api/v1/session', { login: 'pi_b', password: `wrong-password-${i}` });
    assert.equal(r.status, 401);
  }
  let r = await call(anon, 'POST', '/api/v1/session', { login: 'pi_b', password: w.password });
  assert.equal(r.status, 429, 'even the right password is refused now');
  assert.equal(r.body.error.code, 'too_many_attempts');
  assert.ok(Number(r.headers.get('retry-after')) > 890, 'Retry-After: about 15 minutes');
  r = await call(anon, 'POST', '/api/v1/session', { login: 'res_b', password: w.password });
  assert.equal(r.status, 200, 'another login is not affected');
  r = await call(w.clients.commission, 'GET', '/api/v1/audit?action=login_failed&actor=pi_b');
  assert.equal(r.body.items.length, 5);
  assert.equal(r.body.items[0].object_id, w.ids.users.pi_b);
  assert.equal(r.body.items[0].ip, '127.0.0.1');
  r = await call(w.clients.commission, 'GET', '/api/v1/audit?action=login&actor=res_b');
  assert.ok(r.body.items.length >= 1, 'a successful sign-in is audited');
});

test('an unknown login and a wrong password get the same answer in about the same time', async () => {
  const anon = new Client(w.url);
  const time = async (login) => {
    const t0 = performance.now();
    const r = await anon.post('/api/v1/session', { login, password: 'Wrong-Password-123' });
    return { ms: performance.now() - t0, r };
  };
  await time('ghost-warmup');
  const wrong = [], unknown = [];
  // Interleaved, and the fastest of five of each: load from other suites running
  // alongside only ever adds time, so the minimum is each path's own cost. Two real
  // logins share the wrong passwords: each stays under the lock-out of five.
  for (let i = 0; i < 5; i++) {
    wrong.push(await time(i % 2 ? 'op_b' : 'op_a'));
    unknown.push(await time(`ghost${i}`));
  }
  for (const x of [...wrong, ...unknown]) {
    assert.equal(x.r.status, 401);
    assert.deepEqual(x.r.body, wrong[0].r.body);
  }
  const fastest = (a) => Math.min(...a.map((x) => x.ms));
  const a = fastest(wrong), b = fastest(unknown);
  assert.ok(a > 5 && b > 5, `both verify an Argon2id hash (${a.toFixed(1)} / ${b.toFixed(1)} ms)`);
  assert.ok(Math.abs(a - b) < Math.max(15, 0.5 * Math.max(a, b)), `wrong password ${a.toFixed(1)} ms vs unknown login ${b.toFixed(1)} ms`);
});

test('sign-out ends the session', async () => {
  const c = await w.signIn('res_b');
  const old = c.cookie;
  secrets.add(cookieValue(c));
  let r = await call(c, 'DELETE', '/api/v1/session');
  assert.equal(r.status, 204);
  assert.equal(c.cookie, '', 'the cookie is cleared');
  const replay = new Client(w.url);
  replay.cookie = old;
  r = await call(replay, 'GET', '/api/v1/me');
  assert.equal(r.status, 401);
});

test('changing the password ends every session and issues a fresh one', async () => {
  const a = await w.signIn('spare_a');
  const b = await w.signIn('spare_a');
  const tok = await call(a, 'POST', '/api/v1/tokens', { name: 'script', scopes: ['all'] });
  secrets.add(tok.body.token);
  const oldCookie = a.cookie;
  secrets.add(cookieValue(a));
  const NEW = 'Changed-Password-2026';
  secrets.add(NEW);
  let r = await call(a, 'POST', '/api/v1/me/password', { old_password: 'Wrong-Password-123', new_password: NEW });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.field, 'old_password');
  r = await call(a, 'POST', '/api/v1/me/password', { old_password: w.password, new_password: '123456789012' });
  assert.equal(r.body.error.code, 'weak_password');
  assert.equal(r.body.error.field, 'new_password');
  r = await call(a, 'POST', '/api/v1/me/password', { old_password: w.password, new_password: NEW });
  assert.equal(r.status, 200);
  assert.notEqual(a.cookie, oldCookie, 'a new session cookie');
  a.csrf = r.body.csrf_token;
  secrets.add(cookieValue(a));
  assert.equal((await call(a, 'GET', '/api/v1/me')).status, 200, 'the changer stays signed in');
  assert.equal((await call(b, 'GET', '/api/v1/me')).status, 401, 'other sessions end');
  const replay = new Client(w.url);
  replay.cookie = oldCookie;
  assert.equal((await call(replay, 'GET', '/api/v1/me')).status, 401, 'the old session of the changer ends too');
  const bearer = new Client(w.url);
  bearer.bearer = tok.body.token;
  assert.equal((await call(bearer, 'GET', '/api/v1/me')).status, 200, 'API tokens are kept');
  r = await call(bearer, 'POST', '/api/v1/me/password', { old_password: NEW, new_password: 'Token-Changed-2026' });
  assert.equal(r.status, 403, 'a token cannot change the password');
  const anon = new Client(w.url);
  assert.equal((await call(anon, 'POST', '/api/v1/session', { login: 'spare_a', password: w.password })).status, 401);
  assert.equal((await call(anon, 'POST', '/api/v1/session', { login: 'spare_a', password: NEW })).status, 200);
  r = await call(w.clients.admin, 'GET', `/api/v1/audit?action=password_change&object_id=${w.ids.users.spare_a}`);
  assert.equal(r.body.items.length, 1);
});

test('disabling a user ends their sessions and stops their tokens; enabling lets them back', async () => {
  const admin = w.clients.admin;
  const c = await w.signIn('op_b');
  const tok = await call(c, 'POST', '/api/v1/tokens', { name: 'agent', scopes: ['usage:write'] });
  const all = await call(c, 'POST', '/api/v1/tokens', { name: 'all', scopes: ['all'] });
  secrets.add(tok.body.token).add(all.body.token);
  const bearer = new Client(w.url);
  bearer.bearer = all.body.token;
  assert.equal((await call(bearer, 'GET', '/api/v1/me')).status, 200);
  let r = await call(admin, 'POST', `/api/v1/users/${w.ids.users.operator_b}/disable`);
  assert.equal(r.status, 200);
  assert.equal(r.body.disabled, true);
  assert.equal((await call(c, 'GET', '/api/v1/me')).status, 401);
  assert.equal((await call(bearer, 'GET', '/api/v1/me')).status, 401);
  r = await call(new Client(w.url), 'POST', '/api/v1/session', { login: 'op_b', password: w.password });
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'invalid_credentials');
  r = await call(admin, 'POST', `/api/v1/users/${w.ids.users.admin}/disable`);
  assert.equal(r.status, 409, 'an admin cannot disable themselves');
  r = await call(admin, 'GET', `/api/v1/audit?action=user_disable&object_id=${w.ids.users.operator_b}`);
  assert.deepEqual([r.body.items[0].before, r.body.items[0].after], [{ disabled: false }, { disabled: true }]);
  r = await call(admin, 'POST', `/api/v1/users/${w.ids.users.operator_b}/enable`);
  assert.equal(r.body.disabled, false);
  assert.equal((await call(bearer, 'GET', '/api/v1/me')).status, 200);
  w.clients.operator_b = await w.signIn('op_b');
});

test('API tokens: shown once, stored hashed, listed with last use, revocable; scopes only narrow', async () => {
  const res = w.clients.researcher;
  let r = await call(res, 'POST', '/api/v1/tokens', { name: 'stats script', scopes: ['stats:read'] });
  assert.equal(r.status, 201);
  assert.match(r.body.token, /^[A-Za-z0-9_-]{43}$/);
  const stats = r.body;
  r = await call(res, 'POST', '/api/v1/tokens', { name: 'everything', scopes: ['all'] });
  const everything = r.body;
  secrets.add(stats.token).add(everything.token);
  r = await call(res, 'POST', '/api/v1/tokens', { name: 'x', scopes: ['root'] });
  assert.equal(r.body.error.field, 'scopes');
  r = await call(res, 'POST', '/api/v1/tokens', { name: 'x', scopes: [] });
  assert.equal(r.body.error.field, 'scopes');

  const db = readFileSync(w.db);
  const wal = existsSync(w.db + '-wal') ? readFileSync(w.db + '-wal') : Buffer.alloc(0);
  for (const t of [stats.token, everything.token]) {
    assert.ok(!db.includes(t) && !wal.includes(t), 'the token text is not stored');
  }

  const s = new Client(w.url);
  s.bearer = stats.token;
  const e = new Client(w.url);
  e.bearer = everything.token;
  r = await call(s, 'GET', '/api/v1/me');
  assert.equal(r.status, 403, 'a stats:read token cannot do what needs scope all');
  r = await call(s, 'GET', '/api/v1/groups');
  assert.equal(r.status, 403);
  r = await call(e, 'GET', '/api/v1/me');
  assert.equal(r.status, 200);
  assert.equal(r.body.login, 'res_a');
  assert.equal(r.body.csrf_token, undefined, 'no CSRF token for bearer callers');
  r = await call(e, 'POST', '/api/v1/zones', { code: 'tokzone', name_zh: 'x', name_en: 'x' });
  assert.equal(r.status, 403, 'an all-scope token has only the user\'s roles');
  r = await call(e, 'POST', '/api/v1/tokens', { name: 'child', scopes: ['all'] });
  assert.equal(r.status, 403, 'a token cannot mint tokens');
  r = await call(e, 'PATCH', `/api/v1/users/${w.ids.users.researcher}`, { phone: '13800000000' });
  assert.equal(r.status, 200, 'no CSRF header is needed with a bearer token');

  r = await call(res, 'GET', '/api/v1/tokens');
  const listed = Object.fromEntries(r.body.items.map((t) => [t.id, t]));
  assert.ok(listed[everything.id].last_used_at, 'last use is recorded');
  assert.equal(listed[everything.id].revoked_at, null);
  assert.ok(!JSON.stringify(r.body).includes(everything.token), 'the list never shows the token');

  r = await call(w.clients.researcher_b ?? w.clients.operator_b, 'DELETE', `/api/v1/tokens/${everything.id}`);
  assert.equal(r.status, 404, "another user's token is not found");
  r = await call(res, 'DELETE', `/api/v1/tokens/${everything.id}`);
  assert.equal(r.status, 204);
  r = await call(e, 'GET', '/api/v1/me');
  assert.equal(r.status, 401, 'a revoked token stops working');
  r = await call(res, 'DELETE', `/api/v1/tokens/${everything.id}`);
  assert.equal(r.status, 204, 'revoking twice is harmless');
  r = await call(res, 'GET', '/api/v1/tokens');
  assert.ok(r.body.items.find((t) => t.id === everything.id).revoked_at);
  r = await call(w.clients.admin, 'GET', `/api/v1/audit?action=token_revoke&object_id=${everything.id}`);
  assert.equal(r.body.items.length, 1);
});

test('CSRF: cookie state changes need X-CSRF-Token; a foreign Origin is refused', async () => {
  const c = w.clients.researcher;
  const post = (headers) => rawCall(w.url, 'POST', '/api/v1/tokens', {
    headers: { cookie: c.cookie, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ name: 'csrf', scopes: ['stats:read'] }),
  });
  let r = await post({});
  assert.equal(r.status, 403);
  assert.equal(r.body.error.code, 'csrf');
  r = await post({ 'x-csrf-token': 'A'.repeat(43) });
  assert.equal(r.body.error.code, 'csrf');
  r = await post({ 'x-csrf-token': c.csrf, origin: 'https://evil.example' });
  assert.equal(r.status, 403);
  assert.equal(r.body.error.code, 'forbidden_origin');
  r = await post({ 'x-csrf-token': c.csrf, origin: w.url });
  assert.equal(r.status, 201);
  secrets.add(r.body.token);
  r = await rawCall(w.url, 'POST', '/api/v1/session', {
    headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
    body: JSON.stringify({ login: 'res_a', password: w.password }),
  });
  assert.equal(r.status, 403, 'no sign-in from another site either');
  r = await rawCall(w.url, 'GET', '/api/v1/me', { headers: { cookie: c.cookie } });
  assert.equal(r.status, 200, 'reads need no CSRF header');
});

test('the audit log reads newest first with filters and a cursor; only admins and the commission', async () => {
  const admin = w.clients.admin;
  let r = await call(admin, 'GET', '/api/v1/audit?limit=3');
  assert.equal(r.body.items.length, 3);
  const ids = r.body.items.map((e) => e.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
  const r2 = await call(admin, 'GET', `/api/v1/audit?limit=3&cursor=${r.body.next_cursor}`);
  assert.ok(r2.body.items[0].id < ids[2]);
  r = await call(admin, 'GET', `/api/v1/audit?object_type=org&action=org_create&actor=${w.ids.users.admin}`);
  assert.ok(r.body.items.length >= 3);
  assert.ok(r.body.items.every((e) => e.action === 'org_create' && e.after.code));
  const future = '2099-01-01T00:00:00+08:00';
  r = await call(admin, 'GET', `/api/v1/audit?from=${encodeURIComponent(future)}`);
  assert.deepEqual(r.body.items, []);
  r = await call(admin, 'GET', `/api/v1/audit?to=${encodeURIComponent('2000-01-01T00:00:00Z')}`);
  assert.deepEqual(r.body.items, []);
  r = await call(admin, 'GET', '/api/v1/audit?from=yesterday');
  assert.equal(r.status, 400);
  r = await call(w.clients.operator, 'GET', '/api/v1/audit');
  assert.equal(r.status, 403);
  r = await call(admin, 'GET', '/api/v1/audit?action=user_create&limit=500');
  assert.ok(r.body.items.every((e) => !('password' in e.after) && !('password_hash' in e.after)));
});

test('sessions expire after 30 idle minutes and 12 hours in all', async () => {
  const dir = tempDir();
  let srv = await startServer({ dir, keep: true });
  try {
    addUser(srv.db, { login: 'idle', roles: ['commission'], password: PW });
    const a = new Client(srv.url), b = new Client(srv.url), c = new Client(srv.url);
    await a.signIn('idle', PW);
    await b.signIn('idle', PW);
    await c.signIn('idle', PW);
    for (const x of [a, b, c]) secrets.add(cookieValue(x));
    const restart = async (offsetMinutes) => {
      await srv.stop();
      srv = await startServer({ dir, db: srv.db, keep: true, env: { YIQI_CLOCK_OFFSET: String(offsetMinutes * 60) } });
      for (const x of [a, b, c]) x.base = srv.url;
    };
    await restart(29);
    assert.equal((await call(a, 'GET', '/api/v1/me')).status, 200, 'after 29 idle minutes: still signed in');
    await restart(31);
    assert.equal((await call(b, 'GET', '/api/v1/me')).status, 401, 'after 31 idle minutes: signed out');
    assert.equal((await call(a, 'GET', '/api/v1/me')).status, 200, 'use keeps a session alive');
    // Absolute limit: age c's session to just under, then just over 12 hours.
    const now = Number(sql(srv.db, 'SELECT max(last_seen_at) FROM sessions'));
    sql(srv.db, `UPDATE sessions SET created_at = ${now - 12 * 3600 + 120}, last_seen_at = ${now}`);
    assert.equal((await call(c, 'GET', '/api/v1/me')).status, 200, '11 h 58 min after sign-in');
    sql(srv.db, `UPDATE sessions SET created_at = ${now - 12 * 3600 - 1}, last_seen_at = ${now}`);
    assert.equal((await call(c, 'GET', '/api/v1/me')).status, 401, 'over 12 h after sign-in, used or not');
    assert.equal((await call(a, 'GET', '/api/v1/me')).status, 401);
    assert.equal(Number(sql(srv.db, 'SELECT count(*) FROM sessions')), 0, 'expired sessions are deleted');
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the address limit: 50 failures from one address refuse every login for a while', async () => {
  const dir = tempDir();
  let srv = await startServer({ dir, keep: true });
  try {
    addUser(srv.db, { login: 'good', roles: ['commission'], password: PW });
    const anon = new Client(srv.url);
    const tries = [];
    for (let i = 0; i < 50; i++) tries.push(anon.post('/api/v1/session', { login: `stranger${i % 10}`, password: 'Not-The-Password-1' }));
    const got = (await Promise.all(tries)).map((r) => r.status);
    assert.deepEqual([...new Set(got)], [401]);
    let r = await call(anon, 'POST', '/api/v1/session', { login: 'good', password: PW });
    assert.equal(r.status, 429);
    // Fifteen minutes later the window has passed.
    await srv.stop();
    srv = await startServer({ dir, db: srv.db, keep: true, env: { YIQI_CLOCK_OFFSET: String(16 * 60) } });
    r = await call(new Client(srv.url), 'POST', '/api/v1/session', { login: 'good', password: PW });
    assert.equal(r.status, 200);
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('behind TLS the cookie is __Host-, Secure, HttpOnly, SameSite=Lax, Path=/', async () => {
  const srv = await startServer({ args: ['--behind-tls'] });
  try {
    addUser(srv.db, { login: 'tls', roles: ['admin'], password: PW });
    const r = await rawCall(srv.url, 'POST', '/api/v1/session', {
      headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'tls', password: PW }),
    });
    assert.equal(r.status, 200);
    const set = r.headers.getSetCookie()[0];
    assert.match(set, /^__Host-yiqi_session=[A-Za-z0-9_-]{43}; /);
    for (const attr of ['Path=/', 'HttpOnly', 'SameSite=Lax', 'Secure']) assert.ok(set.split('; ').includes(attr), attr);
    assert.ok(!/Domain=/i.test(set), '__Host- cookies carry no Domain');
    const cookie = set.split(';')[0];
    secrets.add(cookie.split('=')[1]);
    const me = await rawCall(srv.url, 'GET', '/api/v1/me', { headers: { cookie } });
    assert.equal(me.status, 200);
    const plain = await rawCall(srv.url, 'GET', '/api/v1/me', { headers: { cookie: cookie.replace('__Host-', '') } });
    assert.equal(plain.status, 401, 'the unprefixed name is not accepted behind TLS');
  } finally {
    await srv.stop();
  }
});

test('credit codes: the example code of GB 32100-2015 is accepted, a changed check character is not', async () => {
  assert.equal(creditCode('91350100M000100Y4'), '91350100M000100Y43');
  const base = { name_zh: '示例公司', name_en: 'Example Co.', zone: 'zhangjiang', kind: 'enterprise' };
  let r = await call(w.clients.admin, 'POST', '/api/v1/orgs', { ...base, code: 'EX1', credit_code: '91350100M000100Y44' });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.field, 'credit_code');
  r = await call(w.clients.admin, 'POST', '/api/v1/orgs', { ...base, code: 'EX1', credit_code: '91350100M000100Y43' });
  assert.equal(r.status, 201);
});
