// Booking benchmarks (issue 5), figures only:
//  1. the ceiling of one commit per booking: bench/bare_sqlite.c (WAL,
//     synchronous=FULL, check + insert per transaction) on the same disk;
//  2. durable bookings/s through the real server (group commit) with 64
//     clients (wrk) on 1,000 instruments (mostly successes) and on one
//     instrument (mostly conflicts);
//  3. availability latency for one instrument over 7 days with 1,000,000
//     bookings in the database: p50/p99 of 2,000 sequential requests over one
//     keep-alive connection (node:http, time to the last byte), and wrk's
//     latency distribution with one connection for 5 s (a C client).
// Targets (issue 5): bookings/s >= 3x the bare ceiling; availability p99 < 5 ms.
// The figures are noisy on a shared machine: run it again when one looks off.
import { execFileSync, spawnSync } from 'node:child_process';
import http from 'node:http';
import { rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../tests/http/lib/server.mjs';
import { wrkLoad } from './wrk_load.mjs';
import { buildWorld, start, sql, localMidnight, iso, PW, overlappingPairs } from '../tests/http/lib/bookings-world.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const out = (k, v) => console.log(`${k.padEnd(48)} ${v}`);

// 64 clients for `seconds` (bench/wrk_load.mjs counts the answers).
function wrk(url, db, args, seconds = SECONDS) {
  return wrkLoad({ url, db, table: 'bookings', route: '/api/v1/bookings', script: 'bench/bookings.lua', clients: 64, seconds, args });
}

async function signIn(url) {
  const res = await fetch(url + '/api/v1/session', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'res', password: PW }),
  });
  const body = await res.json();
  return { cookie: res.headers.getSetCookie()[0].split(';')[0], csrf: body.csrf_token };
}

async function groupCommits(url) {
  const text = await (await fetch(url + '/metrics')).text();
  const get = (name) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] || 0);
  return { commits: get('yiqi_group_commits_total'), jobs: get('yiqi_group_commit_jobs_total') };
}

const world = buildWorld({ extraInstruments: 1000 });
const bare = join(world.dir, 'bare_sqlite');
execFileSync('cc', ['-std=c11', '-D_GNU_SOURCE', '-O2', '-o', bare, join(ROOT, 'bench/bare_sqlite.c'), '-lsqlite3']);

try {
  const bareOut = execFileSync(bare, [join(world.dir, 'bare.db'), String(Math.min(SECONDS, 5))], { encoding: 'utf8' });
  const ceiling = Number(/(\d+)/.exec(bareOut)[1]);
  out('machine', `${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  out('bare SQLite commits/s (1 booking per fsync)', ceiling);

  let srv = await start(world, { args: ['--quiet'] });
  const { cookie, csrf } = await signIn(srv.url);
  const first = world.ids.bulk0;
  const base = localMidnight(1);
  // 1,000 instruments, 60 days of half-hour starts each: mostly successes.
  const gc0 = await groupCommits(srv.url);
  const many = await wrk(srv.url, world.db, [cookie, csrf, String(first), '1000', String(base), String(48 * 58)]);
  const gc1 = await groupCommits(srv.url);
  const manyRate = Math.round(many.created / many.seconds);
  out('bookings/s, 64 clients, 1,000 instruments', `${manyRate} durable (${many.conflicts} conflicts, ${many.other} other, p99 ${many.p99} ms)`);
  out('  requests per commit (group commit)', ((gc1.jobs - gc0.jobs) / Math.max(1, gc1.commits - gc0.commits)).toFixed(1));
  const ratio = manyRate / ceiling;
  out('  ratio to the bare ceiling', `${ratio.toFixed(2)}x (target >= 3x: ${ratio >= 3 ? 'met' : 'MISSED'})`);
  // One instrument, 200 candidate slots: mostly conflicts.
  const one = await wrk(srv.url, world.db, [cookie, csrf, String(world.ids.open), '1', String(base), '200']);
  out('requests/s, 64 clients, one instrument', `${Math.round((one.created + one.conflicts) / one.seconds)} answered (${one.created} booked, ${one.conflicts} x 409, ${one.other} other, p99 ${one.p99} ms)`);
  out('overlapping live pairs afterwards', overlappingPairs(world.db));
  await srv.stop();

  // 1,000,000 bookings: 1,000 per instrument, back to back over the past.
  const have = Number(sql(world.db, 'SELECT count(*) FROM bookings'));
  const want = 1000000 - have;
  const perInstrument = Math.ceil(want / 1000);
  const t0 = Date.now();
  sql(world.db, `WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k < ${perInstrument - 1})
    INSERT INTO bookings (instrument_id, user_id, payer_org_id, start, end, status, created_at, updated_at)
    SELECT i.id, ${world.users.res}, i.owner_org_id, ${base} - 86400 * 400 + n.k * 7200 + (i.id % 4) * 1800,
           ${base} - 86400 * 400 + n.k * 7200 + (i.id % 4) * 1800 + 3600, 'completed', 0, 0
    FROM instruments i, n WHERE i.asset_no LIKE 'bulk%'`);
  // And a busy future week on the measured instrument.
  sql(world.db, `WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k < 83)
    INSERT OR IGNORE INTO bookings (instrument_id, user_id, payer_org_id, start, end, status, created_at, updated_at)
    SELECT ${first}, ${world.users.res}, 1, ${base} + 86400 * 70 + n.k * 7200, ${base} + 86400 * 70 + n.k * 7200 + 3600, 'confirmed', 0, 0 FROM n`);
  out('bookings in the database', `${sql(world.db, 'SELECT count(*) FROM bookings')} (filled in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  srv = await start(world, { args: ['--quiet'] });
  const from = base + 86400 * 70, to = from + 7 * 86400;
  const path = `/api/v1/instruments/${first}/availability?from=${encodeURIComponent(iso(from))}&to=${encodeURIComponent(iso(to))}`;
  const check = await fetch(srv.url + path);
  const body = await check.json();
  if (check.status !== 200 || !body.busy?.length) throw new Error('availability ' + check.status);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = () => new Promise((resolve, reject) => {
    const s = process.hrtime.bigint();
    http.get({ host: srv.host, port: srv.port, path, agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - s) / 1e6) : reject(new Error('availability ' + res.statusCode))));
    }).on('error', reject);
  });
  for (let i = 0; i < 100; i++) await get(); // warm up
  const times = [];
  for (let i = 0; i < 2000; i++) times.push(await get());
  agent.destroy();
  times.sort((a, b) => a - b);
  const p99 = times[1979];
  out('availability 7 days, 1M bookings: p50 / p99', `${times[999].toFixed(2)} ms / ${p99.toFixed(2)} ms (${body.busy.length} busy intervals; node:http, 2,000 requests)`);
  const w = spawnSync('wrk', ['-t1', '-c1', '-d5s', '--latency', srv.url + path], { encoding: 'utf8' });
  const lat = (q) => { const m = new RegExp(`^\\s+${q}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(w.stdout); return m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : NaN; };
  const wp99 = lat(99);
  out('  the same with wrk, 1 connection, 5 s: p50 / p99', `${lat(50).toFixed(2)} ms / ${wp99.toFixed(2)} ms`);
  out('  target p99 < 5 ms', Math.max(p99, wp99) < 5 ? 'met' : 'MISSED');
  await srv.stop();
} finally {
  rmSync(world.dir, { recursive: true, force: true });
}
