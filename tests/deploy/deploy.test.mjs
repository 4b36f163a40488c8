// The deployment files checked the way deploy/README.md uses them: the systemd
// units through `systemd-analyze verify` (and its security rating), the nginx
// site through `nginx -t`, the real yiqi behind a real nginx terminating TLS on
// a loopback port (HTTP/2, HSTS, ciphers, forwarded headers, body limits, asset
// cache, /metrics access), and the nightly backup script's retention.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, readdirSync, utimesSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import http from 'node:http';
import http2 from 'node:http2';
import tls from 'node:tls';
import { ROOT, BIN, tempDir, startServer, cli } from '../http/lib/server.mjs';
import { selfSignedCert, freePort, nginxConfig, nginxTest, startNginx } from './lib/nginx.mjs';

const DEPLOY = join(ROOT, 'deploy');
const UNITS = ['yiqi.service', 'yiqi-backup.service', 'yiqi-backup.timer'];

function sql(db, text) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', db, text], { encoding: 'utf8' }).trim();
}

// Reads "Key=value" lines of a unit file (all values of repeated keys).
function unitKeys(file) {
  const keys = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(/^([A-Za-z]+)=(.*)$/);
    if (m) (keys[m[1]] ||= []).push(m[2]);
  }
  return keys;
}

// Copies the units to dir with the install paths pointed at this tree's files.
function stageUnits(dir) {
  for (const u of UNITS) {
    const text = readFileSync(join(DEPLOY, u), 'utf8')
      .replaceAll('/usr/local/bin/yiqi', BIN)
      .replaceAll('/usr/local/lib/yiqi/yiqi-backup.sh', join(DEPLOY, 'yiqi-backup.sh'));
    writeFileSync(join(dir, u), text);
  }
  return UNITS.map((u) => join(dir, u));
}

function verify(files) {
  const r = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

test('systemd units: systemd-analyze verify passes without a warning', () => {
  const dir = tempDir('yiqi-units-');
  try {
    const files = stageUnits(dir);
    const r = verify(files);
    assert.equal(r.status, 0, r.out);
    assert.equal(r.out, '', 'systemd-analyze printed: ' + r.out);
    // The check is real: a misspelt key and a missing binary are reported.
    writeFileSync(files[0], readFileSync(files[0], 'utf8').replace('NoNewPrivileges=true', 'NoNewPrivilege=true'));
    assert.match(verify([files[0]]).out, /Unknown key 'NoNewPrivilege'/);
    writeFileSync(files[1], readFileSync(files[1], 'utf8').replace(join(DEPLOY, 'yiqi-backup.sh'), join(dir, 'missing.sh')));
    const broken = verify([files[1]]);
    assert.notEqual(broken.status, 0);
    assert.match(broken.out, /missing\.sh/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('yiqi.service is hardened, drains inside TimeoutStopSec, and rates OK', () => {
  const k = unitKeys(join(DEPLOY, 'yiqi.service'));
  assert.deepEqual(k.User, ['yiqi']);
  assert.deepEqual(k.ProtectSystem, ['strict']);
  assert.deepEqual(k.ReadWritePaths, ['/var/lib/yiqi']);
  assert.deepEqual(k.StateDirectory, ['yiqi']);
  for (const key of ['NoNewPrivileges', 'PrivateTmp', 'ProtectHome', 'PrivateDevices']) assert.deepEqual(k[key], ['true'], key);
  assert.deepEqual(k.KillSignal, ['SIGTERM']);
  assert.deepEqual(k.Restart, ['on-failure']);
  assert.match(k.ExecStart[0], /^\/usr\/local\/bin\/yiqi serve --config \/etc\/yiqi\/yiqi\.conf$/);
  // The drain (drain_timeout_ms, default 10 s unless yiqi.conf sets it) must fit.
  const conf = readFileSync(join(DEPLOY, 'yiqi.conf'), 'utf8');
  const drainMs = Number((conf.match(/^drain_timeout_ms = (\d+)/m) || [0, 10000])[1]);
  const stopSec = Number(k.TimeoutStopSec[0].replace(/s$/, ''));
  assert.ok(stopSec * 1000 >= drainMs + 5000, `TimeoutStopSec ${stopSec}s vs drain ${drainMs} ms`);
  // The data directory in the config is inside the only writable path.
  assert.match(conf, /^db = \/var\/lib\/yiqi\//m);
  assert.match(conf, /^backup_dir = \/var\/lib\/yiqi\//m);
  const dir = tempDir('yiqi-units-');
  try {
    const [service] = stageUnits(dir);
    const r = spawnSync('systemd-analyze', ['security', '--offline=true', service], { encoding: 'utf8' });
    const m = `${r.stdout}${r.stderr}`.match(/Overall exposure level for yiqi\.service: ([\d.]+)/);
    assert.ok(m, r.stdout + r.stderr);
    assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const timer = unitKeys(join(DEPLOY, 'yiqi-backup.timer'));
  assert.deepEqual(timer.Persistent, ['true']);
  const cal = spawnSync('systemd-analyze', ['calendar', timer.OnCalendar[0]], { encoding: 'utf8' });
  assert.equal(cal.status, 0, cal.stderr);
});

test('deploy/nginx.conf passes nginx -t (with a self-signed certificate)', () => {
  const dir = tempDir('yiqi-nginx-t-');
  try {
    const c = selfSignedCert(dir);
    const file = nginxConfig(dir, { httpsPort: 18443, httpPort: 18080, upstreamPort: 8080, ...c });
    const r = nginxTest(file, dir);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /test is successful/);
    assert.doesNotMatch(r.output, /\[warn\]|\[emerg\]/, r.output);
    // And the check is real: a broken directive fails it.
    writeFileSync(join(dir, 'site.conf'), readFileSync(join(dir, 'site.conf'), 'utf8').replace('ssl_protocols', 'ssl_protocolz'));
    assert.notEqual(nginxTest(file, dir).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- The real server behind a real nginx ------------------------------------

let srv, nginx, dir, cert, httpsPort, httpPort;
const ASSET = 'app-3f2a9c1e.js';

function request(mod, opts, body) {
  return new Promise((resolve, reject) => {
    const req = mod.request(opts, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
// Through nginx over TLS, verifying the certificate against the test CA.
function viaNginx(path, { method = 'GET', headers = {}, body, localAddress } = {}) {
  return request(https, { host: '127.0.0.1', port: httpsPort, path, method, headers, ca: cert.pem, localAddress, agent: false }, body);
}
function direct(path, { method = 'GET', headers = {}, body, localAddress } = {}) {
  return request(http, { host: '127.0.0.1', port: srv.port, path, method, headers, localAddress, agent: false }, body);
}

before(async () => {
  dir = tempDir('yiqi-proxy-');
  const web = join(dir, 'web');
  mkdirSync(join(web, 'assets'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>Yiqi</title><script type="module" src="/assets/' + ASSET + '"></script>');
  writeFileSync(join(web, 'assets', ASSET), 'console.log("yiqi");\n');
  srv = await startServer({ args: ['--trusted-proxy', '127.0.0.1', '--behind-tls'], web });
  cert = selfSignedCert(dir);
  [httpsPort, httpPort] = [await freePort(), await freePort()];
  const file = nginxConfig(dir, { httpsPort, httpPort, upstreamPort: srv.port, ...cert });
  nginx = await startNginx(file, dir, httpsPort);
});

after(async () => {
  if (nginx) await nginx.stop();
  if (srv) await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('GET /healthz through nginx over TLS 1.3 and HTTP/2, with HSTS', async () => {
  const r = await viaNginx('/healthz');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(JSON.parse(r.text), { status: 'ok' });
  assert.match(r.headers['strict-transport-security'], /max-age=63072000/);
  assert.equal(r.headers['x-content-type-options'], 'nosniff'); // Yiqi's own headers pass through
  const miss = await viaNginx('/api/v1/no-such-thing');
  assert.equal(miss.status, 404);
  assert.match(miss.headers['strict-transport-security'], /max-age/);

  const session = http2.connect(`https://127.0.0.1:${httpsPort}`, { ca: cert.pem });
  try {
    const h2 = await new Promise((resolve, reject) => {
      const s = session.request({ ':path': '/healthz' });
      let text = '';
      let headers;
      s.on('response', (h) => { headers = h; });
      s.on('data', (d) => { text += d; });
      s.on('end', () => resolve({ headers, text }));
      s.on('error', reject);
      s.end();
    });
    assert.equal(session.alpnProtocol, 'h2');
    assert.equal(h2.headers[':status'], 200);
    assert.equal(JSON.parse(h2.text).status, 'ok');
    assert.equal(session.socket.getProtocol(), 'TLSv1.3');
  } finally {
    session.close();
  }
});

test('TLS: 1.2 with forward-secret AEAD ciphers only; plain HTTP redirects', async () => {
  const handshake = (opts) => new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: httpsPort, ca: cert.pem, ...opts }, () => {
      resolve({ ok: true, protocol: s.getProtocol(), cipher: s.getCipher().name });
      s.destroy();
    });
    s.on('error', (e) => resolve({ ok: false, error: e.message }));
  });
  const t12 = await handshake({ maxVersion: 'TLSv1.2' });
  assert.equal(t12.ok, true, t12.error);
  assert.equal(t12.protocol, 'TLSv1.2');
  assert.match(t12.cipher, /^ECDHE-.*(GCM|CHACHA20)/);
  // RSA key exchange (no forward secrecy) and CBC suites are refused.
  for (const ciphers of ['AES128-GCM-SHA256', 'AES256-SHA256', 'ECDHE-RSA-AES128-SHA']) {
    const r = await handshake({ maxVersion: 'TLSv1.2', ciphers });
    assert.equal(r.ok, false, `${ciphers} was accepted`);
  }
  const plain = await request(http, { host: '127.0.0.1', port: httpPort, path: '/healthz?x=1', headers: { host: 'yiqi.example.org' } });
  assert.equal(plain.status, 301);
  assert.equal(plain.headers.location, 'https://yiqi.example.org/healthz?x=1');
});

test('X-Forwarded-For is believed from nginx only, and nginx does not pass on a client\'s own', async () => {
  const attempt = (send, login, localAddress) => send('/api/v1/session', {
    method: 'POST', localAddress,
    headers: { 'content-type': 'application/json', 'x-forwarded-for': '6.6.6.6' },
    body: JSON.stringify({ login, password: 'not-the-password-1' }),
  });
  // Through nginx from 127.0.0.5: Yiqi records the client nginx saw, not the spoofed header.
  let r = await attempt(viaNginx, 'xff-proxied', '127.0.0.5');
  assert.equal(r.status, 401, r.text);
  assert.equal(sql(srv.db, "SELECT ip FROM login_failures WHERE login = 'xff-proxied'"), '127.0.0.5');
  // Straight to Yiqi from 127.0.0.7 (not the trusted proxy): the header is ignored.
  r = await attempt(direct, 'xff-direct', '127.0.0.7');
  assert.equal(r.status, 401, r.text);
  assert.equal(sql(srv.db, "SELECT ip FROM login_failures WHERE login = 'xff-direct'"), '127.0.0.7');
  // The access log names the real client too.
  assert.match(srv.stderr(), /127\.0\.0\.5\b[^\n]*POST \/api\/v1\/session 401/);
});

test('Host and X-Forwarded-Host let a same-site browser POST through (Origin check)', async () => {
  const origin = `https://127.0.0.1:${httpsPort}`;
  const r = await viaNginx('/api/v1/session', {
    method: 'POST', headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({ login: 'origin-check', password: 'not-the-password-1' }),
  });
  assert.equal(r.status, 401, r.text); // not 403 forbidden_origin
  const other = await viaNginx('/api/v1/session', {
    method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
    body: JSON.stringify({ login: 'origin-check', password: 'not-the-password-1' }),
  });
  assert.equal(other.status, 403, other.text);
});

test('body limits: 1 MiB by default, 8 MiB for the catalogue import', async () => {
  const big = 'x'.repeat(1024 * 1024 + 1);
  const r = await viaNginx('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
  assert.equal(r.status, 413);
  assert.match(r.headers.server || '', /nginx/); // refused at the proxy, before Yiqi
  const imp = await viaNginx('/api/v1/instruments/import', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'y'.repeat(3 * 1024 * 1024) });
  assert.notEqual(imp.status, 413, 'nginx refused an import under 8 MiB');
  assert.ok(imp.status === 401 || imp.status === 403, `import answered ${imp.status}`); // Yiqi answered: not signed in
  const huge = await viaNginx('/api/v1/instruments/import', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'y'.repeat(8 * 1024 * 1024 + 1) });
  assert.equal(huge.status, 413);
});

test('the public catalogue exports are compressed by nginx; answers with a session are not', async () => {
  sql(srv.db, `INSERT INTO orgs (code, name_zh, name_en, kind, zone_id, credit_code) VALUES
      ('GZ', '压缩大学', 'Gzip University', 'university', (SELECT id FROM zones LIMIT 1), '91310000000000001X');
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
    INSERT INTO instruments (owner_org_id, asset_no, name_zh, name_en, model, manufacturer, class_code, category_type,
                             share_mode, run_status, original_value_fen, open_hours)
    SELECT (SELECT id FROM orgs WHERE code = 'GZ'), 'GZ-' || i, '压缩测试仪器' || i, 'Gzip test instrument ' || i, 'M', 'Maker',
           '010101', 'general', 'external', 'normal', 5000000, '[]' FROM n;`);
  for (const path of ['/api/v1/instruments/export.json', '/api/v1/instruments/export.csv']) {
    const r = await viaNginx(path, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(r.status, 200, path);
    assert.equal(r.headers['content-encoding'], 'gzip', path);
    const plain = await viaNginx(path);
    assert.equal(plain.headers['content-encoding'], undefined, `${path} without Accept-Encoding`);
  }
  // A sign-in answer (it would carry the CSRF token) and the API at large stay uncompressed (BREACH).
  const s = await viaNginx('/api/v1/session', {
    method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip', origin: `https://127.0.0.1:${httpsPort}` },
    body: JSON.stringify({ login: 'gzip-check', password: 'x'.repeat(2000) }),
  });
  assert.equal(s.headers['content-encoding'], undefined);
  const list = await viaNginx('/api/v1/instruments?limit=40', { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(list.status, 200);
  assert.equal(list.headers['content-encoding'], undefined);
});

test('hashed assets are cached by nginx and immutable for browsers', async () => {
  const first = await viaNginx('/assets/' + ASSET);
  assert.equal(first.status, 200);
  assert.equal(first.text, 'console.log("yiqi");\n');
  assert.equal(first.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.match(first.headers['strict-transport-security'], /max-age/);
  const second = await viaNginx('/assets/' + ASSET);
  assert.equal(second.headers['x-cache-status'], 'HIT');
  assert.equal(second.text, first.text);
  // Everything else is not cached by nginx.
  const index = await viaNginx('/');
  assert.equal(index.status, 200);
  assert.equal(index.headers['x-cache-status'], undefined);
});

test('/metrics is readable from the machine itself only', async () => {
  const local = await viaNginx('/metrics', { localAddress: '127.0.0.1' });
  assert.equal(local.status, 200);
  assert.match(local.text, /^# (HELP|TYPE) /m);
  const remote = await viaNginx('/metrics', { localAddress: '127.0.0.9' });
  assert.equal(remote.status, 403);
});

// ---- The nightly backup script ----------------------------------------------

test('yiqi-backup.sh writes a checked backup and keeps backup_keep days', () => {
  const d = tempDir('yiqi-backup-sh-');
  try {
    const db = join(d, 'yiqi.db');
    assert.equal(cli(['init', '--db', db]).status, 0);
    sql(db, "INSERT INTO login_failures (login, ip, at) VALUES ('marker', '127.0.0.1', 1)");
    const backups = join(d, 'backups dir'); // a space, to be sure of the quoting
    mkdirSync(backups);
    const day = 86400 * 1000;
    const old = (name, ageDays) => {
      const f = join(backups, name);
      writeFileSync(f, 'old');
      const t = new Date(Date.now() - ageDays * day);
      utimesSync(f, t, t);
    };
    old('yiqi-20200101T031500Z.db', 4);
    old('yiqi-20200103T031500Z.db', 2.5);
    old('yiqi-20200104T031500Z.db', 1);
    old('notes.txt', 30);
    const conf = join(d, 'yiqi.conf');
    writeFileSync(conf, readFileSync(join(DEPLOY, 'yiqi.conf'), 'utf8')
      .replace(/^db = .*$/m, `db = ${db}`)
      .replace(/^backup_dir = .*$/m, `backup_dir = "${backups}"   # quoted`)
      .replace(/^backup_keep = .*$/m, 'backup_keep = 2'));
    const run = (c) => spawnSync(join(DEPLOY, 'yiqi-backup.sh'), [c], { encoding: 'utf8', env: { ...process.env, YIQI_BIN: BIN } });
    const r = run(conf);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const files = readdirSync(backups).sort();
    const fresh = files.filter((f) => /^yiqi-\d{8}T\d{6}Z\.db$/.test(f) && !f.startsWith('yiqi-2020'));
    assert.equal(fresh.length, 1, files.join(' '));
    assert.equal(sql(join(backups, fresh[0]), 'PRAGMA integrity_check'), 'ok');
    assert.equal(sql(join(backups, fresh[0]), "SELECT login FROM login_failures"), 'marker');
    assert.ok(!files.includes('yiqi-20200101T031500Z.db') && !files.includes('yiqi-20200103T031500Z.db'), files.join(' '));
    assert.ok(files.includes('yiqi-20200104T031500Z.db') && files.includes('notes.txt'), files.join(' '));
    assert.match(r.stdout, /removed .*yiqi-20200101T031500Z\.db/);
    // A failing backup exits non-zero, removes nothing and leaves no partial file.
    old('yiqi-20200102T031500Z.db', 3);
    writeFileSync(conf, readFileSync(conf, 'utf8').replace(/^db = .*$/m, `db = ${join(d, 'missing', 'yiqi.db')}`));
    const bad = run(conf);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /FAILED/);
    const after = readdirSync(backups);
    assert.ok(after.includes('yiqi-20200102T031500Z.db'));
    assert.equal(after.filter((f) => f.endsWith('.partial')).length, 0);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
