// Statistics benchmark (issue 8): every stats endpoint over one year of
// 1,000,000 usage records on 1,500 instruments, and the dashboard's first
// render in headless Chromium on loopback.
//
// Data: `yiqi init`, then bench/stats_gen.sql through the sqlite3 shell (the
// real schema and its triggers, so the rollups are kept as the server keeps
// them): 200 institutions, 6,000 users, 1,500 instruments, 3,000 maintenance
// blocks, YIQI_BENCH_USAGE (default 1,000,000) usage records over the 365
// days before today plus a 2% of voids, and ~1.17 bookings per record. The
// triggers leave deltas, which the server folds into the rollups when it
// starts (api/stats_fold.c); the timing starts once they are folded.
//
// API: sequential requests over one keep-alive connection, timed from
// sending to the last byte; YIQI_BENCH_ROUNDS (default 30) per endpoint, for
// three one-year ranges: the 12 whole calendar months before this one (month
// rollups only), the 365 whole days of the data (whole months plus whole days
// at both ends) and the 365 days to this second (partial days too). Prints
// p50, p99 and max per endpoint (the instrument table as a page of 50 and,
// sorted by use, of 500, the most a page holds). Target: p99 < 100 ms for
// every endpoint.
// The CSV export of every instrument and the annual report are timed too;
// /stats/verify (a full recomputation, on demand, off the request loop) is
// timed once, for information.
//
// Render: a cold Chromium (fresh profile) signs in by cookie and opens
// #/stats; the time runs from navigation to the page marking every chart
// drawn (main[data-page="/stats"][aria-busy="false"] .stats-charts[data-drawn]).
// YIQI_BENCH_RENDER_RUNS (default 5). Target: < 2 s.
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cli, startServer, tempDir, addUser, Client, ROOT } from '../tests/http/lib/server.mjs';
import { ensureWebBuilt, launchBrowser, WEB_DIST } from '../tests/browser/lib/browser.mjs';

const N = Number(process.env.YIQI_BENCH_USAGE || 1000000);
const ROUNDS = Number(process.env.YIQI_BENCH_ROUNDS || 30);
const RENDER_RUNS = Number(process.env.YIQI_BENCH_RENDER_RUNS || 5);
const LOCAL = 8 * 3600, DAY = 86400;
const now = Math.floor(Date.now() / 1000);
const today = Math.floor((now + LOCAL) / DAY) * DAY - LOCAL;
const Y0 = today - 365 * DAY;
const iso = (t) => new Date((t + LOCAL) * 1000).toISOString().slice(0, 19) + '+08:00';
function monthStart(t, add = 0) {
  const d = new Date((t + LOCAL) * 1000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1) / 1000 - LOCAL;
}

const dir = tempDir('yiqi-bench-stats-');
const db = join(dir, 'yiqi.db');
let r = cli(['init', '--db', db]);
if (r.status !== 0) throw new Error(r.stderr);
let sql = readFileSync(join(ROOT, 'bench/stats_gen.sql'), 'utf8');
const a = sql.indexOf('-- CHUNK BEGIN'), b = sql.indexOf('-- CHUNK END');
sql = sql.slice(0, a) + sql.slice(a, b).repeat(10) + sql.slice(b);
sql = sql.replaceAll('@Y0@', String(Y0)).replaceAll('@DAYS@', '365').replaceAll('@N@', String(N)).replaceAll('@CHUNK@', String(N / 10));
writeFileSync(join(dir, 'gen.sql'), sql);
let t0 = performance.now();
r = spawnSync('sqlite3', ['-bail', db], { input: sql, encoding: 'utf8', maxBuffer: 1 << 24 });
if (r.status !== 0) throw new Error(`generator: ${r.stderr}`);
const count = (q) => spawnSync('sqlite3', [db, q], { encoding: 'utf8' }).stdout.trim();
console.log(`data: ${count('SELECT count(*) FROM usage_records')} usage records (${count("SELECT count(*) FROM usage_records WHERE kind = 'reversal'")} voids), ` +
  `${count('SELECT count(*) FROM bookings')} bookings, ${count('SELECT count(*) FROM instruments')} instruments, ` +
  `${count('SELECT count(*) FROM blocks')} blocks; generated through the triggers in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const PW = 'Bench-Stats-Pass-2026';
addUser(db, { login: 'bench-com', roles: ['commission'], password: PW });
addUser(db, { login: 'bench-op', roles: ['operator'], org: 'B1', password: PW });
const srv = await startServer({ db, dir, web: WEB_DIST, env: { YIQI_QUIET: '1' } });
// The triggers wrote deltas (migrations 070, 071); the server folds them into
// the rollups on its 200 ms timer. Wait for that before timing anything.
t0 = performance.now();
for (;;) {
  if (count('SELECT (SELECT count(*) FROM stats_usage_delta) + (SELECT count(*) FROM stats_bookings_delta)') === '0') break;
  if (performance.now() - t0 > 300000) throw new Error('the server did not fold the statistics deltas within 300 s');
  await new Promise((res) => setTimeout(res, 500));
}
console.log(`deltas folded into the rollups by the server in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
console.log(`rollup rows: ${count('SELECT count(*) FROM stats_usage_month')} month, ${count('SELECT count(*) FROM stats_usage_day')} day, ` +
  `${count('SELECT count(*) FROM stats_users_month')} user-month, ${count('SELECT count(*) FROM stats_bookings_month')} booking-month, ` +
  `${count('SELECT count(*) FROM stats_bookings_day')} booking-day`);
const pct = (s, p) => s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)];
const fmt = (x) => x.toFixed(2).padStart(7);
try {
  const com = new Client(srv.url), op = new Client(srv.url);
  await com.signIn('bench-com', PW);
  await op.signIn('bench-op', PW);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(srv.url);
  const get = (path, client) => new Promise((resolve, reject) => {
    const t1 = performance.now();
    http.get({ host: base.hostname, port: base.port, path, agent, headers: { cookie: client.cookie } }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ ms: performance.now() - t1, status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
  const ranges = [
    ['12 calendar months', monthStart(now, -12), monthStart(now, 0)],
    ['365 whole days of data', Y0, today],
    ['365 days to now', now - 365 * DAY, now],
  ];
  const endpoints = (from, to) => {
    const R = `from=${encodeURIComponent(iso(from))}&to=${encodeURIComponent(iso(to))}`;
    return [
      ['instruments (page of 50)', `/api/v1/stats/instruments?${R}`, com],
      ['instruments by utilisation', `/api/v1/stats/instruments?${R}&sort=utilisation`, com],
      ['instruments (page of 500)', `/api/v1/stats/instruments?${R}&sort=used&limit=500`, com],
      ['instruments, operator', `/api/v1/stats/instruments?${R}`, op],
      ['top 10 by external', `/api/v1/stats/top?${R}&by=external`, com],
      ['idle', `/api/v1/stats/idle?at=${encodeURIComponent(iso(to))}`, com],
      ['summary by zone', `/api/v1/stats/summary?${R}&group_by=zone`, com],
      ['summary by org', `/api/v1/stats/summary?${R}&group_by=org`, com],
      ['summary by class', `/api/v1/stats/summary?${R}&group_by=class`, com],
      ['summary by month', `/api/v1/stats/summary?${R}&group_by=month`, com],
      ['summary by month, class 01', `/api/v1/stats/summary?${R}&group_by=month&class=01`, com],
      ['flows', `/api/v1/stats/flows?${R}`, com],
      ['bookings by zone', `/api/v1/stats/bookings?${R}&group_by=zone`, com],
      ['bookings by month', `/api/v1/stats/bookings?${R}&group_by=month`, com],
      ['CSV of every instrument', `/api/v1/stats/instruments?${R}&format=csv`, com],
    ];
  };
  const all = [];
  let worst = 0, worstName = '', csvWorst = 0;
  for (const [label, from, to] of ranges) {
    console.log(`\nrange: ${label} [${iso(from)}, ${iso(to)})`);
    for (const [name, path, client] of endpoints(from, to)) {
      const times = [];
      for (let i = 0; i < ROUNDS; i++) {
        const res = await get(path, client);
        if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.body}`);
        times.push(res.ms);
      }
      times.sort((x, y) => x - y);
      all.push(...times);
      const p99 = pct(times, 0.99);
      if (name.startsWith('CSV')) csvWorst = Math.max(csvWorst, p99);
      else if (p99 > worst) { worst = p99; worstName = `${name} (${label})`; }
      console.log(`  ${name.padEnd(28)} p50 ${fmt(pct(times, 0.5))} ms  p99 ${fmt(p99)} ms  max ${fmt(times[times.length - 1])} ms`);
    }
  }
  all.sort((x, y) => x - y);
  console.log(`\nstats OVERALL n=${all.length}  p50 ${fmt(pct(all, 0.5))} ms  p99 ${fmt(pct(all, 0.99))} ms  max ${fmt(all[all.length - 1])} ms`);
  const year = new Date((today - 30 * DAY + LOCAL) * 1000).getUTCFullYear();
  for (const [name, path] of [['annual report CSV', `/api/v1/stats/annual-report?year=${year}`],
    ['annual report XLSX', `/api/v1/stats/annual-report?year=${year}&format=xlsx`]]) {
    const times = [];
    for (let i = 0; i < 5; i++) times.push((await get(path, com)).ms);
    times.sort((x, y) => x - y);
    console.log(`${name.padEnd(30)} median ${fmt(times[2])} ms  max ${fmt(times[4])} ms`);
  }
  const v = await get('/api/v1/stats/verify', com);
  console.log(`verify (full recomputation, off the loop, once): ${(v.ms / 1000).toFixed(2)} s, ${JSON.parse(v.body).ok ? 'rollups equal the log' : 'ROLLUPS DIFFER'}`);
  console.log(`target: every stats endpoint (JSON) p99 < 100 ms: ${worst < 100 ? 'met' : 'MISSED'} (worst ${worst.toFixed(2)} ms: ${worstName})`);
  console.log(`       the CSV export of all 1,500 instruments (distinct users counted for each): worst p99 ${csvWorst.toFixed(2)} ms: ${csvWorst < 100 ? 'under' : 'OVER'} 100 ms`);
  agent.destroy();

  // ---- the dashboard's first render ----
  ensureWebBuilt();
  const [name, value] = com.cookie.split('=');
  const cold = [];
  for (let run = 0; run < RENDER_RUNS; run++) {
    const browser = await launchBrowser({ timeout: 20000 });
    try {
      await browser.context.addCookies([{ name, value, url: srv.url }]);
      const page = browser.context.pages()[0] || await browser.context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      const t1 = performance.now();
      await page.goto(`${srv.url}/#/stats`, { waitUntil: 'commit' });
      await page.waitForSelector('main[data-page="/stats"][aria-busy="false"] .stats-charts[data-drawn="all"]', { timeout: 20000 });
      cold.push(performance.now() - t1);
      if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    } finally {
      await browser.close();
    }
  }
  cold.sort((x, y) => x - y);
  console.log(`\ndashboard first render (cold Chromium, ${RENDER_RUNS} runs, 1M records): median ${cold[Math.floor((cold.length - 1) / 2)].toFixed(0)} ms  max ${cold[cold.length - 1].toFixed(0)} ms`);
  console.log(`target: first render < 2000 ms: ${cold[cold.length - 1] < 2000 ? 'met' : 'MISSED'}`);
} finally {
  await srv.stop();
}
