// Catalogue import and export benchmark (hostile-client findings h1 §1 and §3),
// figures only. On the demo world (`yiqi demo`, 1,500 instruments) through the
// real server:
//   import  the probe's files (asset numbers only: 5,000 rows, refused at the
//           end; 80,000 rows, 18 s on the event loop before the fix), 5,001
//           valid rows, and 5,000 valid rows created and then imported again
//           unchanged; for each the request's time and the worst /healthz
//           latency while it ran;
//   export  export.json and export.csv, one request cold (just after a
//           catalogue change) and warm, then 40 parallel anonymous requests,
//           cold and warm, with the worst /healthz latency while they ran.
// /healthz is probed every 10 ms from a separate process, so the load
// generator's own work (receiving 40 large answers) does not count. Other work
// on the machine shows in the figures. YIQI_BIN picks the binary.
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { cli, startServer, tempDir, Client } from '../tests/http/lib/server.mjs';

const out = (k, v) => console.log(`${k.padEnd(58)} ${v}`);
const dir = tempDir('yiqi-bench-catalogue-io-');
const db = join(dir, 'yiqi.db');
const demo = cli(['demo', '--db', db]);
if (demo.status !== 0) throw new Error(demo.stderr);
const op = demo.stdout.match(/^\s+(op\.\S+)\s+(\S+)\s+operator\s/m);
const srv = await startServer({ db, dir, args: ['--quiet'] });

// Probes /healthz from a child process until stopped; resolves to {n, median, max} in ms.
function probe() {
  const code = `
    const http = require('node:http'); const lat = []; let stop = false;
    process.on('message', () => { stop = true; });
    (async () => {
      while (!stop) {
        const t = process.hrtime.bigint();
        await new Promise((res) => http.get(${JSON.stringify(srv.url + '/healthz')}, (r) => { r.resume(); r.on('end', res); }).on('error', res));
        lat.push(Number(process.hrtime.bigint() - t) / 1e6);
        await new Promise((r) => setTimeout(r, 10));
      }
      lat.sort((a, b) => a - b);
      process.send({ n: lat.length, median: lat[lat.length >> 1], max: lat[lat.length - 1] }, () => process.exit(0));
    })();`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const done = new Promise((res) => child.on('message', res));
  return { stop: () => { child.send('stop'); return done; } };
}

async function withProbe(fn) {
  const p = probe();
  await new Promise((r) => setTimeout(r, 100));
  const t0 = performance.now();
  const r = await fn();
  const ms = performance.now() - t0;
  const h = await p.stop();
  return { r, ms, h };
}
const fmt = ({ ms, h }) => `${ms.toFixed(0).padStart(6)} ms; /healthz worst ${h.max.toFixed(1)} ms (median ${h.median.toFixed(1)}, ${h.n} probes)`;
const bump = () => spawnSync('sqlite3', [db, 'UPDATE catalogue_version SET v = random() WHERE id = 1']);

try {
  console.log(`machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const c = new Client(srv.url);
  await c.signIn(op[1], op[2]);
  const ctype = { 'content-type': 'text/csv; charset=utf-8' };

  // ---- export ----
  const anon = new Client(srv.url);
  for (const path of ['/api/v1/instruments/export.json', '/api/v1/instruments/export.csv']) {
    console.log(`== ${path} (anonymous)`);
    bump();
    let t = await withProbe(() => anon.get(path));
    out(`one request, cold (${(t.r.text.length / 1e6).toFixed(1)} M characters)`, fmt(t));
    t = await withProbe(() => anon.get(path));
    out('one request, warm', fmt(t));
    const storm = () => Promise.all(Array.from({ length: 40 }, () => fetch(srv.url + path).then((r) => r.arrayBuffer())));
    bump();
    t = await withProbe(storm);
    out('40 in parallel, cold', fmt(t));
    t = await withProbe(storm);
    out('40 in parallel, warm', fmt(t));
  }

  // ---- import (last: it adds 5,000 public instruments) ----
  const own = (await c.get(`/api/v1/instruments/export.csv?org=${c.user.org_id}`)).text.replace(/^\uFEFF/, '');
  const [header, ...lines] = own.split('\r\n').filter((l) => l && !l.includes('"')); // rows without quoted cells
  const assetCol = header.split(',').indexOf('asset_no');
  const valid = (n) => [header, ...Array.from({ length: n }, (_, k) => {
    const cells = lines[k % lines.length].split(',');
    cells[assetCol] = `BENCH-${String(k).padStart(5, '0')}`;
    return cells.join(',');
  })].join('\r\n') + '\r\n';
  const assetsOnly = (n) => 'asset_no\n' + Array.from({ length: n }, (_, k) => k.toString(16)).join('\n') + '\n';
  const files = [
    ['asset numbers only, 5,000 rows (refused at the end)', assetsOnly(5000)],
    ['asset numbers only, 80,000 rows (the probe\'s file)', assetsOnly(80000)],
    ['5,001 valid rows', valid(5001)],
    ['5,000 valid rows, created', valid(5000)],
    ['5,000 valid rows, again (all unchanged)', valid(5000)],
  ];
  console.log(`== import (as ${op[1]}; ${lines.length} of the institution's rows copied with new asset numbers)`);
  for (const [what, body] of files) {
    const t = await withProbe(() => c.req('POST', '/api/v1/instruments/import', body, ctype));
    const b = t.r.body;
    const says = b?.error ? b.error.code : JSON.stringify(b);
    out(`${what}, ${(body.length / 1024).toFixed(0)} KiB`, `${t.r.status} ${says}`);
    out('', fmt(t));
  }

} finally {
  await srv.stop();
}
