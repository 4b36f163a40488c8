// Strict JSON on a real endpoint, the error shape, sign-in basics and the
// 404 for unknown API paths, all validated against proto/openapi.yaml.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, addUser, cli, Client } from './lib/server.mjs';
import { checkResponse } from './lib/openapi.mjs';

let srv;
const PW = 'Minhang-Pudong-2026';
before(async () => {
  srv = await startServer();
  addUser(srv.db, { login: 'ada', name: 'Ada', roles: ['admin'], password: PW });
});
after(async () => { await srv.stop(); });

async function raw(body, headers = { 'content-type': 'application/json' }) {
  const res = await fetch(srv.url + '/api/v1/session', { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

test('malformed JSON bodies are 400 invalid_json with the error shape', async () => {
  const bad = [
    '{"login":"ada","password":"x"} trailing',
    '{"login":"ada","login":"eve","password":"x"}',
    '{"login":"ada\\u0000","password":"x"}',
    Buffer.from([0x7b, 0x22, 0x6c, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
    '['.repeat(65) + ']'.repeat(65),
    '{"login":',
    '',
    '"just a string"',
  ];
  for (const b of bad) {
    const r = await raw(b);
    assert.equal(r.status, 400, `accepted: ${b}`);
    assert.equal(r.body.error.code, 'invalid_json');
    checkResponse('POST', '/api/v1/session', r);
  }
});

test('fields are checked by type and name, case-sensitively', async () => {
  let r = await raw('{"Login":"ada","password":"x"}');
  assert.equal(r.status, 400);
  assert.equal(r.body.error.field, 'login');
  r = await raw('{"login":5,"password":"x"}');
  assert.equal(r.status, 400);
  assert.equal(r.body.error.field, 'login');
  checkResponse('POST', '/api/v1/session', r);
});

test('sign in, me, sign out', async () => {
  const c = new Client(srv.url);
  let r = await c.post('/api/v1/session', { login: 'ada', password: PW });
  assert.equal(r.status, 200);
  checkResponse('POST', '/api/v1/session', r);
  c.csrf = r.body.csrf_token;
  const cookie = r.headers.getSetCookie()[0];
  assert.match(cookie, /^yiqi_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
  r = await c.get('/api/v1/me');
  assert.equal(r.status, 200);
  checkResponse('GET', '/api/v1/me', r);
  assert.deepEqual(r.body.roles, ['admin']);
  assert.equal(r.body.login, 'ada');
  r = await c.del('/api/v1/session');
  assert.equal(r.status, 204);
  r = await c.get('/api/v1/me');
  assert.equal(r.status, 401);
  checkResponse('GET', '/api/v1/me', r);
});

test('wrong password and unknown login answer alike', async () => {
  const a = await raw(JSON.stringify({ login: 'ada', password: 'wrong-password-123' }));
  const b = await raw(JSON.stringify({ login: 'nobody', password: 'wrong-password-123' }));
  assert.equal(a.status, 401);
  assert.deepEqual(a.body, b.body);
  assert.equal(a.body.error.code, 'invalid_credentials');
});

test('unknown API paths are 404 whether or not signed in; API responses are not cached', async () => {
  const anon = await fetch(srv.url + '/api/v1/nope');
  assert.equal(anon.status, 404);
  assert.equal(anon.headers.get('cache-control'), 'no-store');
  assert.equal((await anon.json()).error.code, 'not_found');
  const c = new Client(srv.url);
  await c.signIn('ada', PW);
  const r = await c.get('/api/v1/nope');
  assert.equal(r.status, 404);
});

test('the session cookie is Secure with the __Host- prefix behind TLS', async () => {
  const s2 = await startServer({ args: ['--behind-tls'] });
  try {
    addUser(s2.db, { login: 'bob', roles: ['admin'], password: PW });
    const r = await fetch(s2.url + '/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'bob', password: PW }) });
    assert.equal(r.status, 200);
    assert.match(r.headers.getSetCookie()[0], /^__Host-yiqi_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
  } finally { await s2.stop(); }
});
