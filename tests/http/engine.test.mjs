// The HTTP engine against the real binary, over raw sockets: limits and bad
// input, pipelining, keep-alive, HTTP/1.0, chunked bodies, 100-continue,
// security headers, static files, timeouts, the connection cap, a client that
// does not read, and the SIGTERM drain.
//
// The server runs with YIQI_TEST_ROUTES=1 (GET /api/v1/test/slow?ms=N answers
// after a timer; POST /api/v1/test/echo accepts 4 KiB) and short timeouts set
// through YIQI_HEADER_TIMEOUT_MS and friends so the test stays fast.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, symlinkSync, rmSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, rawRequest, tempDir, BIN } from './lib/server.mjs';
import { checkResponse } from './lib/openapi.mjs';

let srv;
let web;
const TEST_ENV = { YIQI_TEST_ROUTES: '1', YIQI_HEADER_TIMEOUT_MS: '1000', YIQI_IDLE_TIMEOUT_MS: '3000' };

function makeWeb() {
  const dir = tempDir('yiqi-web-');
  mkdirSync(join(dir, 'assets'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title><p>home</p>\n');
  writeFileSync(join(dir, 'app.js'), 'console.log(1);\n');
  writeFileSync(join(dir, 'style.css'), 'p{color:red}\n');
  writeFileSync(join(dir, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
  writeFileSync(join(dir, 'assets', 'index-BXjoyX-T.js'), 'export{};\n');
  writeFileSync(join(dir, 'sub', 'index.html'), '<p>sub</p>\n');
  writeFileSync(join(dir, '1k.txt'), 'x'.repeat(1024));
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(256 * 1024, 7));
  writeFileSync(join(dir, '.secret'), 'hidden');
  symlinkSync('/etc/passwd', join(dir, 'passwd-link'));
  symlinkSync('/etc', join(dir, 'etc-link'));
  symlinkSync('index.html', join(dir, 'inner-link.html'));
  return dir;
}

before(async () => {
  web = makeWeb();
  srv = await startServer({ web, env: TEST_ENV });
});
after(async () => {
  const r = await srv.stop();
  rmSync(web, { recursive: true, force: true });
  assert.equal(r.code, 0, 'clean exit on SIGTERM');
  assert.doesNotMatch(srv.stderr(), /Sanitizer|runtime error/);
});

// Splits a raw byte stream into responses: [{status, headers (lower-case), body}].
function parseResponses(text) {
  const out = [];
  let rest = text;
  while (rest.length) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const lines = rest.slice(0, end).split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers = {};
    const list = [];
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).toLowerCase();
      const v = l.slice(i + 1).trim();
      list.push([k, v]);
      headers[k] = v;
    }
    const len = status === 304 || status === 204 || status < 200 ? 0 : Number(headers['content-length'] || 0);
    const body = rest.slice(end + 4, end + 4 + len);
    out.push({ status, headers, list, body, line: lines[0] });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

// A socket with helpers: send(bytes), until(predicate on received text), closed.
function talk(port) {
  const sock = net.connect(port, '127.0.0.1');
  let text = '';
  let waiters = [];
  const closed = new Promise((r) => sock.on('close', () => r(true)));
  sock.on('error', () => {});
  sock.on('data', (d) => {
    text += d.toString('latin1');
    waiters = waiters.filter((w) => !w());
  });
  const ready = new Promise((r) => sock.on('connect', r));
  return {
    sock, ready, closed,
    get text() { return text; },
    send(b) { sock.write(b); },
    until(pred, ms = 3000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out; got: ' + text.slice(0, 500))), ms);
        const check = () => { if (pred(text)) { clearTimeout(timer); resolve(text); return true; } return false; };
        if (!check()) waiters.push(check);
      });
    },
    end() { sock.destroy(); },
  };
}

const get = (path, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

// True when text holds n complete responses.
function complete(text, n) {
  const res = parseResponses(text);
  if (res.length < n) return false;
  const last = res[n - 1];
  const len = last.status === 304 || last.status === 204 || last.status < 200 ? 0 : Number(last.headers['content-length'] || 0);
  return last.body.length === len;
}

// Sends bytes (a string or a list sent gapMs apart) on a new connection and
// collects what comes back until the server closes, or `expect` complete
// responses have arrived and nothing more comes for 100 ms.
async function one(bytes, { expect = 1, gapMs = 0, port = srv.port } = {}) {
  const c = talk(port);
  await c.ready;
  for (const b of Array.isArray(bytes) ? bytes : [bytes]) {
    c.send(b);
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
  let closed = false;
  c.closed.then(() => { closed = true; });
  const deadline = Date.now() + 5000;
  let quietSince = 0;
  let seen = -1;
  while (!closed && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    if (complete(c.text, expect)) {
      if (c.text.length !== seen) { seen = c.text.length; quietSince = Date.now(); }
      if (Date.now() - quietSince >= 100) break;
    }
  }
  c.end();
  return { text: c.text, closed, responses: parseResponses(c.text) };
}

function assertSecurityHeaders(res) {
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.equal(res.headers['x-frame-options'], 'DENY');
  assert.match(res.headers['referrer-policy'], /^(strict-origin-when-cross-origin|no-referrer)$/);
  assert.ok(res.headers.date, 'Date header');
}

test('security headers on success and on every kind of error', async () => {
  const cases = [
    [get('/healthz'), 200],
    [get('/api/v1/no-such-thing'), 404],
    [get('/no-such-file.txt'), 404],
    ['POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n', 405],
    ['GET / HTTP/1.1\r\n\r\n', 400],
    [`GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: t\r\n\r\n`, 414],
    ['BREW / HTTP/1.1\r\nHost: t\r\n\r\n', 400],
  ];
  for (const [req, status] of cases) {
    const { responses } = await one(req);
    assert.equal(responses.length, 1, req.slice(0, 40));
    assert.equal(responses[0].status, status, req.slice(0, 40));
    assertSecurityHeaders(responses[0]);
  }
});

test('Cache-Control: no-store on /api/ responses, success and error', async () => {
  const r1 = (await one(get('/api/v1/test/slow?ms=0'))).responses[0];
  assert.equal(r1.status, 200);
  assert.equal(r1.headers['cache-control'], 'no-store');
  const r2 = (await one(get('/api/v1/nope'))).responses[0];
  assert.equal(r2.status, 404);
  assert.equal(r2.headers['cache-control'], 'no-store');
  assert.deepEqual(JSON.parse(r2.body).error.code, 'not_found');
  const r3 = (await one(get('/healthz'))).responses[0];
  assert.equal(r3.headers['cache-control'], undefined);
});

test('HTML gets a strict Content-Security-Policy; JSON does not need one', async () => {
  const r = (await one(get('/'))).responses[0];
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/html/);
  const csp = r.headers['content-security-policy'];
  assert.ok(csp, 'CSP present on HTML');
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp.match(/script-src[^;]*/)[0], /unsafe-inline|unsafe-eval/);
  const h = (await one(get('/healthz'))).responses[0];
  assert.equal(h.body, '{"status":"ok"}');
  assert.equal(h.headers['content-type'], 'application/json');
});

test('request target over 8 KiB is 414 and the connection closes', async () => {
  const r = await one(`GET /${'a'.repeat(8300)} HTTP/1.1\r\nHost: t\r\n\r\n`);
  assert.equal(r.responses[0].status, 414);
  assert.equal(r.responses[0].headers.connection, 'close');
  assert.ok(r.closed);
  // Just under the limit is fine (a 404 for a file that does not exist).
  const ok = await one(`GET /${'a'.repeat(8000)} HTTP/1.1\r\nHost: t\r\n\r\n`);
  assert.equal(ok.responses[0].status, 404);
});

test('headers over 16 KiB are 431', async () => {
  const r = await one(`GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ${'b'.repeat(17000)}\r\n\r\n`);
  assert.equal(r.responses[0].status, 431);
  assert.ok(r.closed);
  const many = Array.from({ length: 20 }, (_, i) => `X-H${i}: ${'v'.repeat(900)}\r\n`).join('');
  const r2 = await one(`GET /healthz HTTP/1.1\r\nHost: t\r\n${many}\r\n`);
  assert.equal(r2.responses[0].status, 431);
});

test('more than 100 header fields are 431; 100 are fine', async () => {
  const fields = (n) => Array.from({ length: n }, (_, i) => `X-F${i}: ${i}\r\n`).join('');
  const r = await one(`GET /healthz HTTP/1.1\r\nHost: t\r\n${fields(100)}\r\n`);
  assert.equal(r.responses[0].status, 431);
  const ok = await one(`GET /healthz HTTP/1.1\r\nHost: t\r\n${fields(99)}\r\n`);
  assert.equal(ok.responses[0].status, 200);
});

test('413 from Content-Length before the body is sent (route limit and default limit)', async () => {
  for (const [path, len] of [['/api/v1/test/echo', 5000], ['/healthz', 2 * 1024 * 1024], ['/api/v1/session', 2 * 1024 * 1024]]) {
    const c = talk(srv.port);
    await c.ready;
    c.send(`POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${len}\r\n\r\n`);
    await c.until((t) => /\r\n\r\n\{.*\}$/s.test(t));
    const [res] = parseResponses(c.text);
    assert.equal(res.status, 413, path);
    assert.equal(JSON.parse(res.body).error.code, 'body_too_large');
    assert.equal(res.headers.connection, 'close');
    assertSecurityHeaders(res);
    await c.closed;
  }
});

test('a body within the route limit is read, by Content-Length and chunked', async () => {
  const body = 'z'.repeat(4096);
  let r = await one(`POST /api/v1/test/echo HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  assert.equal(r.responses[0].status, 200);
  assert.deepEqual(JSON.parse(r.responses[0].body), { bytes: 4096 });
  const chunked = 'POST /api/v1/test/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n';
  r = await one([chunked, '5\r\nhello\r\n', '6;ext=1\r\n world\r\n', '0\r\nX-Trailer: y\r\n\r\n', get('/healthz')], { gapMs: 30, expect: 2 });
  assert.equal(r.responses.length, 2);
  assert.deepEqual(JSON.parse(r.responses[0].body), { bytes: 11 });
  assert.equal(r.responses[1].status, 200, 'the connection is reusable after a chunked body');
});

test('a chunked body is cut with 413 as soon as it passes the limit', async () => {
  const c = talk(srv.port);
  await c.ready;
  c.send('POST /api/v1/test/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n');
  c.send(`800\r\n${'a'.repeat(0x800)}\r\n`);
  c.send(`800\r\n${'a'.repeat(0x800)}\r\n`);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(c.text, '', 'nothing yet at exactly 4 KiB');
  c.send(`10\r\n${'a'.repeat(16)}\r\n`); // one byte chunk over, no final chunk sent
  await c.until((t) => t.includes('body_too_large'));
  assert.equal(parseResponses(c.text)[0].status, 413);
  await c.closed;
  // A chunked body over the default 1 MiB on another path is refused too.
  const d = talk(srv.port);
  await d.ready;
  d.send('POST /api/v1/session HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n');
  const piece = `10000\r\n${'b'.repeat(0x10000)}\r\n`;
  for (let i = 0; i < 17 && !d.text; i++) d.send(piece);
  await d.until((t) => t.includes('413'));
  await d.closed;
});

test('missing or repeated Host is 400 in HTTP/1.1; HTTP/1.0 may omit it', async () => {
  let r = await one('GET /healthz HTTP/1.1\r\n\r\n');
  assert.equal(r.responses[0].status, 400);
  assert.ok(r.closed);
  r = await one('GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
  assert.equal(r.responses[0].status, 400);
  r = await one('GET /healthz HTTP/1.0\r\n\r\n');
  assert.equal(r.responses[0].status, 200);
  r = await one('GET /healthz HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n');
  assert.equal(r.responses[0].status, 400);
});

test('obs-folded header lines are 400', async () => {
  for (const fold of ['X-A: b\r\n c\r\n', 'X-A: b\r\n\tc\r\n', 'X-A:\r\n c\r\n']) {
    const r = await one(`GET /healthz HTTP/1.1\r\nHost: t\r\n${fold}\r\n`);
    assert.equal(r.responses.length, 1, JSON.stringify(fold));
    assert.equal(r.responses[0].status, 400, JSON.stringify(fold));
  }
  // Split across reads exactly at the fold.
  const r = await one(['GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: b\r\n', ' c\r\n\r\n'], { gapMs: 50 });
  assert.equal(r.responses[0].status, 400);
  // A value split across reads without a fold is fine.
  const ok = await one(['GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: b', ' c\r\n\r\n'], { gapMs: 50 });
  assert.equal(ok.responses[0].status, 200);
});

test('a known path with the wrong method is 405 with Allow', async () => {
  const r = (await one('POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}')).responses[0];
  assert.equal(r.status, 405);
  assert.match(r.headers.allow, /GET/);
  assert.equal(JSON.parse(r.body).error.code, 'method_not_allowed');
  const s = (await one('DELETE /index.html HTTP/1.1\r\nHost: t\r\n\r\n')).responses[0];
  assert.equal(s.status, 405);
  assert.match(s.headers.allow, /GET, HEAD/);
});

test('100 pipelined requests in one write are answered in order, async handlers included', async () => {
  let reqs = '';
  for (let i = 0; i < 100; i++) {
    if (i % 3 === 0) reqs += get(`/api/v1/test/slow?ms=${(i * 7) % 40}`);
    else if (i % 3 === 1) reqs += get('/healthz');
    else reqs += get(`/no-such-${i}.txt`);
  }
  const c = talk(srv.port);
  await c.ready;
  c.send(reqs);
  await c.until((t) => parseResponses(t).length === 100, 8000);
  const res = parseResponses(c.text);
  for (let i = 0; i < 100; i++) {
    if (i % 3 === 0) assert.deepEqual(JSON.parse(res[i].body), { slept_ms: (i * 7) % 40 }, `response ${i}`);
    else if (i % 3 === 1) assert.equal(res[i].body, '{"status":"ok"}', `response ${i}`);
    else assert.equal(res[i].status, 404, `response ${i}`);
  }
  c.send(get('/healthz'));
  await c.until((t) => parseResponses(t).length === 101);
  c.end();
});

test('1,000 pipelined requests with quick answers in one write', async () => {
  const c = talk(srv.port);
  await c.ready;
  c.send(get('/healthz').repeat(1000));
  await c.until((t) => t.split('{"status":"ok"}').length === 1001, 8000);
  c.end();
});

test('keep-alive: several requests on one connection, HEAD without a body', async () => {
  const c = talk(srv.port);
  await c.ready;
  for (let i = 1; i <= 3; i++) {
    c.send(get('/healthz'));
    await c.until((t) => parseResponses(t).length === i);
  }
  c.send('HEAD /1k.txt HTTP/1.1\r\nHost: t\r\n\r\n');
  await c.until((t) => t.split('HTTP/1.1 ').length === 5 && t.endsWith('\r\n\r\n'));
  await new Promise((r) => setTimeout(r, 50));
  const last = c.text.slice(c.text.lastIndexOf('HTTP/1.1 '));
  assert.match(last, /Content-Length: 1024/);
  assert.ok(last.endsWith('\r\n\r\n'), 'HEAD has no body');
  c.send(get('/healthz'));
  await c.until((t) => t.endsWith('{"status":"ok"}') && t.split('HTTP/1.1 ').length === 6);
  c.end();
});

test('HTTP/1.0: closes by default, keeps alive when asked', async () => {
  const r = await one('GET /healthz HTTP/1.0\r\n\r\n');
  assert.equal(r.responses[0].headers.connection, 'close');
  assert.ok(r.closed);
  const c = talk(srv.port);
  await c.ready;
  c.send('GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  await c.until((t) => parseResponses(t).length === 1);
  assert.equal(parseResponses(c.text)[0].headers.connection, 'keep-alive');
  c.send('GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  await c.until((t) => parseResponses(t).length === 2);
  c.end();
});

test('bytes after a Connection: close request (or plain HTTP/1.0) get no reply', async () => {
  let r = await one(get('/healthz', 'Connection: close\r\n') + get('/healthz') + get('/healthz'));
  assert.equal(r.responses.length, 1);
  assert.equal(r.responses[0].headers.connection, 'close');
  assert.ok(r.closed);
  r = await one('GET /healthz HTTP/1.0\r\n\r\n' + get('/healthz'));
  assert.equal(r.responses.length, 1);
  assert.ok(r.closed);
  // Also when the rest arrives later.
  r = await one([get('/healthz', 'Connection: close\r\n'), get('/healthz')], { gapMs: 50 });
  assert.equal(r.responses.length, 1);
});

test('Expect: 100-continue gets the interim response, then the final one', async () => {
  const c = talk(srv.port);
  await c.ready;
  c.send('POST /api/v1/test/echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
  await c.until((t) => t.startsWith('HTTP/1.1 100 Continue\r\n\r\n'));
  c.send('hello');
  await c.until((t) => t.includes('{"bytes":5}'));
  // Refused bodies get the final status instead of 100.
  c.send('POST /api/v1/test/echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 999999\r\n\r\n');
  await c.until((t) => t.includes('413'));
  assert.equal(c.text.split('100 Continue').length, 2);
  c.end();
  const e = await one('GET /healthz HTTP/1.1\r\nHost: t\r\nExpect: teapot\r\n\r\n');
  assert.equal(e.responses[0].status, 417);
  const g = await one('POST /api/v1/test/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n');
  assert.equal(g.responses[0].status, 501);
});

test('static files: MIME types, ETag and 304, Cache-Control', async () => {
  const types = {
    '/': /^text\/html; charset=utf-8$/,
    '/app.js': /^text\/javascript/,
    '/style.css': /^text\/css/,
    '/logo.svg': /^image\/svg\+xml$/,
    '/1k.txt': /^text\/plain/,
    '/sub/': /^text\/html/,
    '/inner-link.html': /^text\/html/,
    '/big.bin': /^application\/octet-stream$/,
  };
  for (const [p, re] of Object.entries(types)) {
    const r = (await one(get(p))).responses[0];
    assert.equal(r.status, 200, p);
    assert.match(r.headers['content-type'], re, p);
  }
  const r = (await one(get('/1k.txt'))).responses[0];
  assert.equal(r.body.length, 1024);
  assert.equal(r.headers['cache-control'], 'no-cache');
  const etag = r.headers.etag;
  assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
  for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const nm = (await one(get('/1k.txt', `If-None-Match: ${inm}\r\n`))).responses[0];
    assert.equal(nm.status, 304, inm);
    assert.equal(nm.body, '');
    assert.equal(nm.headers.etag, etag);
    assertSecurityHeaders(nm);
  }
  const changed = (await one(get('/1k.txt', 'If-None-Match: "nope"\r\n'))).responses[0];
  assert.equal(changed.status, 200);
  const hashed = (await one(get('/assets/index-BXjoyX-T.js'))).responses[0];
  assert.match(hashed.headers['cache-control'], /immutable/);
  assert.match(hashed.headers['cache-control'], /max-age=31536000/);
});

test('static paths that try to leave the root are refused (400/404)', async () => {
  const attempts = [
    '/../../../../etc/passwd',
    '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/%2E%2E/%2E%2E/etc/passwd',
    '/assets/..%2f..%2f..%2fetc/passwd',
    '/%252e%252e/%252e%252e/etc/passwd',
    '/..%5c..%5cetc%5cpasswd',
    '/sub/..\\..\\etc\\passwd',
    '/index.html%00.js',
    '/passwd-link',
    '/etc-link/passwd',
    '/etc-link/',
    '/.secret',
    '/%2esecret',
    '/sub/../index.html',
    '/./index.html',
    '/%zz',
  ];
  for (const p of attempts) {
    const { responses } = await one(`GET ${p} HTTP/1.1\r\nHost: t\r\n\r\n`);
    assert.equal(responses.length, 1, p);
    assert.ok([400, 404].includes(responses[0].status), `${p}: ${responses[0].status}`);
    assert.doesNotMatch(responses[0].body, /root:/, p);
  }
  const ok = (await one(get('/sub/index.html'))).responses[0];
  assert.equal(ok.status, 200);
});

test('a changed file is served fresh, and a file swapped for an escaping symlink is refused', async () => {
  const f = join(web, 'changing.txt');
  writeFileSync(f, 'version one');
  let r = (await one(get('/changing.txt'))).responses[0];
  assert.equal(r.body, 'version one');
  r = (await one(get('/changing.txt'))).responses[0]; // from the cache
  assert.equal(r.body, 'version one');
  const etag1 = r.headers.etag;
  writeFileSync(f, 'version two!');
  r = (await one(get('/changing.txt'))).responses[0];
  assert.equal(r.body, 'version two!');
  assert.notEqual(r.headers.etag, etag1);
  rmSync(f);
  symlinkSync('/etc/passwd', f);
  r = (await one(get('/changing.txt'))).responses[0];
  assert.equal(r.status, 404);
  rmSync(f);
  r = (await one(get('/changing.txt'))).responses[0];
  assert.equal(r.status, 404);
});

test('the access log has one line per request: peer, method, path, status, bytes, microseconds', async () => {
  await one(get('/healthz?secret=1'));
  await new Promise((r) => setTimeout(r, 100));
  assert.match(srv.stderr(), /^\S+Z info 127\.0\.0\.1 GET \/healthz 200 15 \d+us$/m);
  assert.doesNotMatch(srv.stderr(), /secret=1/);
});

test('/metrics: requests by route and status, latency histogram, connections', async () => {
  await one(get('/healthz'));
  const r = (await one(get('/metrics'))).responses[0];
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  assert.match(r.body, /^yiqi_http_requests_total\{route="\/healthz",status="200"\} \d+$/m);
  assert.match(r.body, /^yiqi_http_requests_total\{route="static",status="404"\} \d+$/m);
  assert.match(r.body, /^yiqi_http_request_duration_seconds_bucket\{le="\+Inf"\} \d+$/m);
  assert.match(r.body, /^yiqi_http_open_connections [1-9]\d*$/m);
  assert.match(r.body, /^# TYPE yiqi_db_commit_duration_seconds histogram$/m);
});

test('slow-header attack: 50 dribbling connections are cut after the header timeout while others are served', async () => {
  const slow = [];
  for (let i = 0; i < 50; i++) {
    const c = talk(srv.port);
    slow.push(c);
  }
  await Promise.all(slow.map((c) => c.ready));
  const start = Date.now();
  for (const c of slow) c.send('GET /healthz HTTP/1.1\r\nHost: t\r\n');
  const drip = setInterval(() => { for (const c of slow) c.send('X-Drip: 1\r\n'); }, 100);
  try {
    for (let i = 0; i < 20; i++) {
      const res = await fetch(srv.url + '/healthz');
      assert.equal(res.status, 200);
      await res.text();
    }
    let cut = 0;
    for (const c of slow) if (await Promise.race([c.closed, Promise.resolve(false)])) cut++;
    assert.equal(cut, 0, 'all 20 normal requests were served while the 50 slow connections were still open');
    const closedAt = await Promise.all(slow.map((c) => c.closed.then(() => Date.now() - start)));
    for (const t of closedAt) {
      assert.ok(t >= 900 && t < 2500, `slow connection cut after ${t} ms (timeout 1000)`);
    }
    for (const c of slow) assert.equal(c.text, '', 'no response to an unfinished header');
  } finally {
    clearInterval(drip);
    for (const c of slow) c.end();
  }
});

test('a connection that sends nothing is closed after the header timeout; idle keep-alive after the idle timeout', async () => {
  const c = talk(srv.port);
  await c.ready;
  const t0 = Date.now();
  await c.closed;
  const waited = Date.now() - t0;
  assert.ok(waited >= 900 && waited < 2500, `silent connection closed after ${waited} ms`);
  const k = talk(srv.port);
  await k.ready;
  k.send(get('/healthz'));
  await k.until((t) => t.endsWith('{"status":"ok"}'));
  const t1 = Date.now();
  await k.closed;
  const idle = Date.now() - t1;
  assert.ok(idle >= 2800 && idle < 4500, `idle keep-alive closed after ${idle} ms (idle timeout 3000)`);
});

test('malformed requests are 400 and do not crash the server', async () => {
  const bad = [
    'GET / HTTP/1.1\nHost: t\n\n',
    'GET /healthz HTTP/9.9\r\nHost: t\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: t\r\nName : x\r\n\r\n',
    'GET healthz HTTP/1.1\r\nHost: t\r\n\r\n',
    'POST /api/v1/test/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    '\x00\x01\x02\x03',
  ];
  for (const b of bad) {
    const r = await one(b);
    assert.equal(r.responses.length, 1, JSON.stringify(b));
    assert.equal(r.responses[0].status, 400, JSON.stringify(b));
    assertSecurityHeaders(r.responses[0]);
    assert.ok(r.closed, JSON.stringify(b));
  }
  const res = await fetch(srv.url + '/healthz');
  assert.equal(res.status, 200);
});

test('the connection cap refuses connections beyond it', async () => {
  const s = await startServer({ web, env: { ...TEST_ENV, YIQI_MAX_CONNECTIONS: '5', YIQI_HEADER_TIMEOUT_MS: '10000' } });
  try {
    const held = [];
    for (let i = 0; i < 5; i++) {
      const c = talk(s.port);
      await c.ready;
      c.send(get('/healthz'));
      await c.until((t) => t.endsWith('{"status":"ok"}'));
      held.push(c);
    }
    const extra = talk(s.port);
    await extra.ready;
    extra.send(get('/healthz'));
    await extra.closed;
    assert.equal(extra.text, '', 'the sixth connection is closed without an answer');
    held[0].end();
    await new Promise((r) => setTimeout(r, 100));
    const again = await rawRequest(s.port, get('/healthz', 'Connection: close\r\n'), { waitMs: 1000 });
    assert.match(again.text, /^HTTP\/1\.1 200/);
    for (const c of held) c.end();
  } finally {
    const r = await s.stop();
    assert.equal(r.code, 0, s.stderr());
    assert.doesNotMatch(s.stderr(), /Sanitizer|runtime error/);
  }
});

test('a client that does not read its responses is cut at the write-queue bound', async () => {
  const s = await startServer({ web, env: { ...TEST_ENV, YIQI_MAX_WRITE_QUEUE: '262144' } });
  try {
    const c = talk(s.port);
    await c.ready;
    c.sock.pause(); // never read
    const n = 400; // 400 x 256 KiB = 100 MiB, far beyond any socket buffer
    let reqs = '';
    for (let i = 0; i < n; i++) reqs += get('/big.bin');
    c.send(reqs);
    const t0 = Date.now();
    while (!/does not read its responses/.test(s.stderr()) && Date.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(s.stderr(), /does not read its responses/);
    c.sock.resume();
    await c.closed;
    assert.ok(c.text.length < n * 256 * 1024, 'not everything was sent');
    const res = await fetch(s.url + '/healthz');
    assert.equal(res.status, 200);
  } finally {
    const r = await s.stop();
    assert.equal(r.code, 0, s.stderr());
    assert.doesNotMatch(s.stderr(), /Sanitizer|runtime error/);
  }
});

test('SIGTERM: stop accepting, finish requests in flight, close idle connections, exit 0', async () => {
  const s = await startServer({ web, env: { ...TEST_ENV, YIQI_DRAIN_TIMEOUT_MS: '5000' } });
  const idle = talk(s.port);
  await idle.ready;
  idle.send(get('/healthz'));
  await idle.until((t) => t.endsWith('{"status":"ok"}'));
  const busy = talk(s.port);
  await busy.ready;
  // Two pipelined slow requests: both are in flight, both are answered, in order.
  busy.send(get('/api/v1/test/slow?ms=700') + get('/api/v1/test/slow?ms=100'));
  await new Promise((r) => setTimeout(r, 150));
  const t0 = Date.now();
  s.proc.kill('SIGTERM');
  await idle.closed;
  assert.ok(Date.now() - t0 < 500, 'idle keep-alive connection closed at once');
  await new Promise((r) => setTimeout(r, 100));
  const refused = await new Promise((resolve) => {
    const sock = net.connect(s.port, '127.0.0.1');
    sock.on('error', () => resolve(true));
    sock.on('connect', () => { sock.destroy(); resolve(false); });
  });
  assert.ok(refused, 'no new connections during the drain');
  await busy.until((t) => parseResponses(t).length === 2, 3000);
  const [a, b] = parseResponses(busy.text);
  assert.deepEqual(JSON.parse(a.body), { slept_ms: 700 });
  assert.deepEqual(JSON.parse(b.body), { slept_ms: 100 });
  assert.equal(b.headers.connection, 'close');
  await busy.closed;
  const exit = await s.exited;
  assert.equal(exit.code, 0, s.stderr());
  assert.doesNotMatch(s.stderr(), /Sanitizer|runtime error/);
  assert.ok(Date.now() - t0 < 3000);
  await s.stop();
});

test('/healthz and /metrics match the contract', async () => {
  for (const p of ['/healthz', '/metrics']) {
    const res = await fetch(srv.url + p);
    const text = await res.text();
    const body = res.headers.get('content-type').startsWith('application/json') ? JSON.parse(text) : text;
    assert.equal(res.status, 200);
    checkResponse('GET', p, { status: res.status, headers: res.headers, body });
  }
});

// CPU seconds (user + system) the process has used so far.
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

test('running out of file descriptors neither crashes the server nor makes it spin', async () => {
  const dir = tempDir();
  const proc = spawn('bash', ['-c', `ulimit -n 40 && exec "${BIN}" serve --db "${join(dir, 'y.db')}" --listen 127.0.0.1:0 --web "${web}"`],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...TEST_ENV, YIQI_HEADER_TIMEOUT_MS: '20000', YIQI_IDLE_TIMEOUT_MS: '20000' } });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => proc.on('exit', (code) => r(code)));
  try {
    const port = await new Promise((resolve, reject) => {
      const t = setInterval(() => {
        const m = err.match(/listening on http:\/\/[^:\s]+:(\d+)/);
        if (m) { clearInterval(t); resolve(Number(m[1])); }
      }, 20);
      exited.then(() => reject(new Error('server exited: ' + err)));
    });
    const socks = [];
    for (let i = 0; i < 80; i++) {
      const c = talk(port);
      socks.push(c);
    }
    await Promise.all(socks.map((c) => c.ready.catch(() => {})));
    await new Promise((r) => setTimeout(r, 300));
    let dropped = 0;
    for (const c of socks) if (await Promise.race([c.closed, new Promise((r) => setTimeout(() => r(false), 10))])) dropped++;
    // libuv accepts and drops what it cannot hold (its reserved descriptor).
    assert.ok(dropped > 0, 'connections beyond the descriptor limit were dropped');
    assert.ok(readdirSync(`/proc/${proc.pid}/fd`).length >= 38, 'the server is at its descriptor limit');
    const before = cpuSeconds(proc.pid);
    await new Promise((r) => setTimeout(r, 1000));
    const used = cpuSeconds(proc.pid) - before;
    assert.ok(used < 0.3, `server used ${used}s of CPU in 1 s while out of descriptors (spinning?)`);
    for (const c of socks) c.end();
    await new Promise((r) => setTimeout(r, 300));
    const ok = await rawRequest(port, get('/healthz', 'Connection: close\r\n'), { waitMs: 1000 });
    assert.match(ok.text, /^HTTP\/1\.1 200/, 'serves again once descriptors are free');
    assert.equal(proc.exitCode, null, 'still running');
  } finally {
    proc.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.doesNotMatch(err, /Sanitizer|runtime error/);
    rmSync(dir, { recursive: true, force: true });
  }
});
