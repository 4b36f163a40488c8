// Helpers for the deployment tests: a self-signed certificate (openssl), a
// runnable nginx configuration derived from deploy/nginx.conf (ports, paths and
// certificate substituted; nothing else changed), a real nginx started in the
// foreground, and free loopback ports.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { ROOT } from '../../http/lib/server.mjs';

export const SITE = join(ROOT, 'deploy/nginx.conf');

// A self-signed certificate for 127.0.0.1 and localhost; returns {cert, key, pem}.
export function selfSignedCert(dir) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', key, '-out', cert,
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'pipe' });
  return { cert, key, pem: readFileSync(cert) };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Replaces `from` with `to` in text, failing when `from` is absent (so a change to
// deploy/nginx.conf cannot silently leave the test running something else).
function must(text, from, to) {
  if (!text.includes(from)) throw new Error(`deploy/nginx.conf no longer contains: ${from}`);
  return text.split(from).join(to);
}

// Writes DIR/site.conf (deploy/nginx.conf with loopback ports, the test
// certificate and temp paths) and DIR/nginx.conf (a main file including it, the
// way Debian's /etc/nginx/nginx.conf includes sites-enabled). Returns the main file.
export function nginxConfig(dir, { httpsPort, httpPort, upstreamPort, cert, key }) {
  let site = readFileSync(SITE, 'utf8');
  site = must(site, 'server 127.0.0.1:8080;', `server 127.0.0.1:${upstreamPort};`);
  site = must(site, '    listen [::]:443 ssl http2;\n', '');
  site = must(site, '    listen [::]:80;\n', '');
  site = must(site, 'listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`);
  site = must(site, 'listen 80;', `listen 127.0.0.1:${httpPort};`);
  site = must(site, '/etc/letsencrypt/live/yiqi.example.org/fullchain.pem', cert);
  site = must(site, '/etc/letsencrypt/live/yiqi.example.org/privkey.pem', key);
  site = must(site, '/var/cache/nginx/yiqi', join(dir, 'cache'));
  site = must(site, '/var/www/letsencrypt', join(dir, 'acme'));
  writeFileSync(join(dir, 'site.conf'), site);
  for (const d of ['tmp', 'acme', 'logs']) mkdirSync(join(dir, d), { recursive: true });
  const t = join(dir, 'tmp');
  const main = [
    // As root nginx would hand the workers to `nobody`, who cannot read a 0700 temp dir.
    process.getuid && process.getuid() === 0 ? 'user root;' : '',
    'daemon off;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'logs/error.log')} warn;`,
    'events { worker_connections 512; }',
    'http {',
    '  include /etc/nginx/mime.types;',
    '  default_type application/octet-stream;',
    `  access_log ${join(dir, 'logs/access.log')};`,
    `  client_body_temp_path ${t}/body; proxy_temp_path ${t}/proxy; fastcgi_temp_path ${t}/fastcgi;`,
    `  uwsgi_temp_path ${t}/uwsgi; scgi_temp_path ${t}/scgi;`,
    `  include ${join(dir, 'site.conf')};`,
    '}',
    '',
  ].join('\n');
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, main);
  return file;
}

// Runs `nginx -t` on a main file; returns {status, output}.
export function nginxTest(file, dir) {
  const r = spawnSync('nginx', ['-t', '-c', file, '-p', dir, '-e', join(dir, 'logs/error.log')], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function waitForPort(port, proc, errText, ms = 10000) {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (proc.exitCode !== null) return reject(new Error('nginx exited: ' + errText()));
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); resolve(); });
      s.on('error', () => {
        s.destroy();
        if (Date.now() > until) reject(new Error('nginx did not listen: ' + errText()));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

// Starts nginx in the foreground on the main file; resolves once the HTTPS port
// accepts connections. Returns {proc, stop()}.
export async function startNginx(file, dir, httpsPort) {
  const proc = spawn('nginx', ['-c', file, '-p', dir, '-e', join(dir, 'logs/error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stdout.on('data', (d) => { err += d; });
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => proc.on('exit', r));
  await waitForPort(httpsPort, proc, () => err + readLog(dir));
  return {
    proc,
    log: () => err + readLog(dir),
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGQUIT');
      await exited;
    },
  };
}

function readLog(dir) {
  try { return readFileSync(join(dir, 'logs/error.log'), 'utf8'); } catch { return ''; }
}
