// `yiqi serve --config FILE`: the file's values are used, flags override them,
// the start-up log names the file and every value with its origin, and a bad
// file stops the server with the line number. Behaviour is checked, not only
// the log: header_timeout_ms from the file cuts a slow client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { ROOT, BIN, cli, tempDir } from '../http/lib/server.mjs';

// Starts `yiqi serve ARGS`; resolves {port, stderr(), stop()} once listening,
// or {exit, stderr} when it exits first.
function serve(args) {
  const proc = spawn(BIN, ['serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stdout.on('data', () => {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('no start: ' + err)); }, 15000);
    proc.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/listening on http:\/\/[^\s]+:(\d+)/);
      if (m) {
        clearTimeout(timer);
        const exited = new Promise((r) => proc.on('exit', (code) => r(code)));
        resolve({ port: Number(m[1]), stderr: () => err, stop: () => { proc.kill('SIGTERM'); return exited; } });
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ exit: code, stderr: err }); });
  });
}

// How long the server keeps a connection that sent half a request head.
function slowHeaderCut(port, maxMs) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect(port, '127.0.0.1', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
    const done = (cut) => { clearTimeout(timer); s.destroy(); resolve({ cut, ms: Date.now() - t0 }); };
    const timer = setTimeout(() => done(false), maxMs);
    s.on('close', () => done(true));
    s.on('error', () => done(true));
  });
}

test('serve --config: file values, flag overrides, and the start-up report', async () => {
  const dir = tempDir('yiqi-config-');
  try {
    const db = join(dir, 'yiqi.db');
    const conf = join(dir, 'yiqi.conf');
    // The shipped file with test paths: everything else as documented.
    writeFileSync(conf, readFileSync(join(ROOT, 'deploy/yiqi.conf'), 'utf8')
      .replace(/^listen = .*$/m, 'listen = 127.0.0.1:0')
      .replace(/^db = .*$/m, `db = ${db}`)
      .replace(/^web = .*$/m, `web = ${join(ROOT, 'web/dist')}`)
      .replace('# header_timeout_ms = 10000', 'header_timeout_ms = 400')
      .replace('# max_connections = 10000', 'max_connections = 77   # trailing comment'));
    let s = await serve(['--config', conf]);
    assert.ok(s.port, s.stderr);
    const log = s.stderr();
    assert.match(log, new RegExp(`configuration file ${conf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(log, /listen = 127\.0\.0\.1:0 \(file\)/);
    assert.match(log, /max_connections = 77 \(file\)/);
    assert.match(log, /header_timeout_ms = 400 \(file\)/);
    assert.match(log, /idle_timeout_ms = 60000 \(default\)/);
    assert.match(log, /trusted_proxy = 127\.0\.0\.1 \(file\)/);
    assert.match(log, /behind_tls = true \(file\)/);
    let cut = await slowHeaderCut(s.port, 3000);
    assert.ok(cut.cut && cut.ms < 2500, `slow header kept ${cut.ms} ms with header_timeout_ms = 400`);
    const r = await fetch(`http://127.0.0.1:${s.port}/healthz`);
    assert.equal(r.status, 200);
    assert.equal(await s.stop(), 0);

    // Flags win over the file.
    s = await serve(['--config', conf, '--header-timeout-ms', '5000', '--max-connections', '88', '--quiet']);
    assert.ok(s.port, s.stderr);
    assert.match(s.stderr(), /header_timeout_ms = 5000 \(flag\)/);
    assert.match(s.stderr(), /max_connections = 88 \(flag\)/);
    assert.match(s.stderr(), /quiet = true \(flag\)/);
    cut = await slowHeaderCut(s.port, 1500);
    assert.equal(cut.cut, false, 'the flag did not override header_timeout_ms');
    assert.equal(await s.stop(), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve --config: unknown keys and bad values stop it with the line number', async () => {
  const dir = tempDir('yiqi-config-');
  try {
    const db = join(dir, 'yiqi.db');
    const conf = join(dir, 'bad.conf');
    const cases = [
      [`# test\ndb = ${db}\nlisten = 127.0.0.1:0\nmax_conections = 5\n`, /bad\.conf: line 4: unknown key 'max_conections'/],
      [`db = ${db}\nbehind_tls = perhaps\n`, /bad\.conf: line 2: behind_tls: 'perhaps' is not true or false/],
      [`db = ${db}\nlisten 127.0.0.1:0\n`, /bad\.conf: line 2: expected 'key = value'/],
    ];
    for (const [text, re] of cases) {
      writeFileSync(conf, text);
      const s = await serve(['--config', conf]);
      assert.equal(s.port, undefined, 'started with a bad file');
      assert.equal(s.exit, 2);
      assert.match(s.stderr, re);
    }
    let s = await serve(['--config', join(dir, 'missing.conf')]);
    assert.equal(s.exit, 2);
    assert.match(s.stderr, /missing\.conf: No such file or directory/);
    // A bad flag value is refused the same way.
    writeFileSync(conf, `db = ${db}\nlisten = 127.0.0.1:0\n`);
    s = await serve(['--config', conf, '--max-connections', 'many']);
    assert.equal(s.exit, 2);
    assert.match(s.stderr, /max_connections: 'many' is not a whole number/);
    // Without --config and without --db there is nothing to serve.
    s = await serve(['--listen', '127.0.0.1:0']);
    assert.equal(s.exit, 2);
    assert.match(s.stderr, /--db/);
    // Help names the config option and the flags of every key.
    const h = cli(['serve', '--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /--config FILE/);
    assert.match(h.stdout, /--header-timeout-ms/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
