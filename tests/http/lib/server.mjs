// Starts the real yiqi binary on an ephemeral port with a fresh SQLite file,
// for integration tests. Every test file uses this; nothing here mocks the server.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';

export const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
export const BIN = resolve(ROOT, process.env.YIQI_BIN || 'build/yiqi');

export function tempDir(prefix = 'yiqi-test-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

// Runs a yiqi CLI command synchronously; returns {status, stdout, stderr}.
export function cli(args, { input, env } = {}) {
  const r = spawnSync(BIN, args, { input, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Starts `yiqi serve`. Options: db (path; default a fresh temp file), web, args
// (extra CLI args), env. Resolves to {url, port, proc, db, dir, stderr(), stop(signal)}.
export async function startServer(opts = {}) {
  const dir = opts.dir || tempDir();
  const db = opts.db || join(dir, 'yiqi.db');
  const args = ['serve', '--db', db, '--listen', opts.listen || '127.0.0.1:0', '--web', opts.web || join(ROOT, 'web/dist'), ...(opts.args || [])];
  const proc = spawn(BIN, args, { env: { ...process.env, ...(opts.env || {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stdout.on('data', () => {});
  const port = await new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start: ' + err)), 20000);
    proc.stderr.on('data', (d) => {
      err += d.toString();
      const m = err.match(/listening on http:\/\/[^:\s]+:(\d+)/);
      if (m) { clearTimeout(timer); resolvePort(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${err}`)); });
  });
  proc.removeAllListeners('exit');
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  const host = '127.0.0.1';
  return {
    url: `http://${host}:${port}`, host, port, proc, db, dir, exited,
    stderr: () => err,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const r = await exited;
      if (!opts.keep) rmSync(dir, { recursive: true, force: true });
      return r;
    },
  };
}

// Sends raw bytes on a new TCP connection and collects everything the server
// sends until it closes the connection or `waitMs` passes without data.
export function rawRequest(port, chunks, { waitMs = 1500, gapMs = 0 } = {}) {
  return new Promise((resolveRaw, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = Buffer.alloc(0);
    let closed = false;
    let timer;
    const finish = () => { clearTimeout(timer); sock.destroy(); resolveRaw({ text: out.toString('latin1'), closed }); };
    const arm = () => { clearTimeout(timer); timer = setTimeout(finish, waitMs); };
    sock.on('data', (d) => { out = Buffer.concat([out, d]); arm(); });
    sock.on('end', () => { closed = true; finish(); });
    sock.on('close', () => { closed = true; finish(); });
    sock.on('error', (e) => { if (e.code === 'ECONNRESET') { closed = true; finish(); } else reject(e); });
    sock.on('connect', async () => {
      const list = Array.isArray(chunks) ? chunks : [chunks];
      for (const c of list) {
        sock.write(c);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
      arm();
    });
  });
}

// Creates a user through the CLI (password on stdin). roles: array.
export function addUser(db, { login, name = login, roles = ['researcher'], org, password = 'correct-horse-battery-9' }) {
  const args = ['user', 'add', '--db', db, '--login', login, '--name', name];
  for (const r of roles) args.push('--role', r);
  if (org) args.push('--org', org);
  const r = cli(args, { input: password + '\n' });
  if (r.status !== 0) throw new Error(`user add ${login} failed: ${r.stderr}`);
  return { login, password };
}

// A cookie-carrying client for one signed-in user.
export class Client {
  constructor(base) { this.base = base; this.cookie = ''; this.csrf = ''; this.bearer = ''; }
  async signIn(login, password) {
    const r = await this.req('POST', '/api/v1/session', { login, password });
    if (r.status !== 200) throw new Error(`sign-in ${login}: ${r.status} ${JSON.stringify(r.body)}`);
    this.csrf = r.body.csrf_token;
    this.user = r.body.user;
    return r;
  }
  async req(method, path, body, headers = {}) {
    const h = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (this.bearer) h.authorization = `Bearer ${this.bearer}`;
    if (this.csrf && method !== 'GET' && method !== 'HEAD' && !('x-csrf-token' in h)) h['x-csrf-token'] = this.csrf;
    let payload = body;
    if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      payload = JSON.stringify(body);
      h['content-type'] = h['content-type'] || 'application/json';
    }
    const res = await fetch(this.base + path, { method, headers: h, body: payload, redirect: 'manual' });
    const set = res.headers.getSetCookie ? res.headers.getSetCookie() : [];
    for (const c of set) {
      const kv = c.split(';')[0];
      if (kv.endsWith('=')) this.cookie = ''; else this.cookie = kv;
    }
    const text = await res.text();
    let json;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: res.status, headers: res.headers, body: json, text };
  }
  get(p, h) { return this.req('GET', p, undefined, h); }
  post(p, b, h) { return this.req('POST', p, b, h); }
  patch(p, b, h) { return this.req('PATCH', p, b, h); }
  del(p, h) { return this.req('DELETE', p, undefined, h); }
}
