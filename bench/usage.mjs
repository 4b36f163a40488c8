// Usage benchmarks (issue 6), figures only:
//  1. the ceiling of one commit per record: bench/bare_sqlite.c (WAL,
//     synchronous=FULL, one small write per transaction) on the same disk;
//  2. durable usage recordings/s through the real server (group commit, each
//     record priced, chained and fsynced before its 201) with 32 clients
//     (wrk, bench/usage.lua) on 1,000 instruments, counted by the server and
//     in the file, and the chain verified afterwards;
//  3. GET /api/v1/usage/verify on a chain of 1,000,000 records (filled by
//     bench/usage_fill.c with the server's own hashing code).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { ROOT, BIN, cli } from '../tests/http/lib/server.mjs';
import { wrkLoad } from './wrk_load.mjs';
import { buildWorld, start, sql, localMidnight, PW } from '../tests/http/lib/bookings-world.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const RECORDS = Number(process.env.BENCH_LEDGER_RECORDS || 1000000);
const out = (k, v) => console.log(`${k.padEnd(52)} ${v}`);

async function signIn(url, login) {
  const res = await fetch(url + '/api/v1/session', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password: PW }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`sign-in ${login}: ${res.status}`);
  return { cookie: res.headers.getSetCookie()[0].split(';')[0], csrf: body.csrf_token };
}

async function verify(url, cookie) {
  const t0 = process.hrtime.bigint();
  const res = await fetch(url + '/api/v1/usage/verify', { headers: { cookie } });
  const body = await res.json();
  if (res.status !== 200) throw new Error('verify ' + res.status);
  return { ...body, wall: Number(process.hrtime.bigint() - t0) / 1e9 };
}

mkdirSync(join(ROOT, 'build/bench'), { recursive: true });
const bare = join(ROOT, 'build/bench/bare_sqlite');
execFileSync('cc', ['-std=c11', '-D_GNU_SOURCE', '-O2', '-o', bare, join(ROOT, 'bench/bare_sqlite.c'), '-lsqlite3']);
const lib = join(dirname(BIN), 'libyiqi.a');
if (!existsSync(lib)) throw new Error(`${lib} is missing: build the server first`);
const fill = join(ROOT, 'build/bench/usage_fill');
execFileSync('cc', ['-std=c11', '-D_GNU_SOURCE', '-O2', `-I${join(ROOT, 'server')}`, '-o', fill, join(ROOT, 'bench/usage_fill.c'),
  lib, '-lsqlite3', '-lsodium', '-lcrypto', '-luv', '-lcjson', '-lm', '-lpthread']);

const world = buildWorld({ extraInstruments: 1000 });
try {
  const bareOut = execFileSync(bare, [join(world.dir, 'bare.db'), String(Math.min(SECONDS, 5))], { encoding: 'utf8' });
  const ceiling = Number(/(\d+)/.exec(bareOut)[1]);
  out('bare SQLite commits/s (1 record per fsync)', ceiling);

  // 2. 32 clients recording usage.
  let srv = await start(world, { args: ['--quiet'] });
  const { cookie, csrf } = await signIn(srv.url, 'opa');
  const base = localMidnight(-1) - 3600;
  const load = await wrkLoad({ url: srv.url, db: world.db, table: 'usage_records', route: '/api/v1/usage',
    script: 'bench/usage.lua', clients: 32, seconds: SECONDS,
    args: [cookie, csrf, String(world.ids.bulk0), '1000', String(base), String(world.users.res), '2'] });
  const rate = Math.round(load.created / load.seconds);
  out('usage records/s, 32 clients, 1,000 instruments', `${rate} durable (${load.conflicts + load.other} refused, p99 ${load.p99} ms)`);
  out('  ratio to the bare ceiling', `${(rate / ceiling).toFixed(2)}x (target >= 3x: ${rate / ceiling >= 3 ? 'met' : 'MISSED'})`);
  const com = await signIn(srv.url, 'com');
  const v = await verify(srv.url, com.cookie);
  out('  chain after the run', `${v.ok ? 'ok' : 'BROKEN at ' + v.first_bad_id}, ${v.records} records`);
  await srv.stop();

  // 3. A chain of RECORDS records.
  const big = join(world.dir, 'ledger.db');
  let c = cli(['init', '--db', big]);
  if (c.status !== 0) throw new Error('init: ' + c.stderr);
  sql(big, `INSERT INTO orgs (code, name_zh, name_en, kind, zone_id, credit_code)
              VALUES ('A', '甲大学', 'Univ A', 'university', 1, '91310000000000001A');
            INSERT INTO instruments (owner_org_id, asset_no, name_zh, name_en, model, manufacturer, class_code, category_type,
              share_mode, run_status, original_value_fen, open_hours) VALUES (1, 'a', '仪器', 'I', 'M', 'Maker', '010101',
              'general', 'external', 'normal', 1, '[]');`);
  c = cli(['user', 'add', '--db', big, '--login', 'com', '--name', 'com', '--role', 'commission'], { input: PW + '\n' });
  if (c.status !== 0) throw new Error('user add: ' + c.stderr);
  const user = sql(big, "SELECT id FROM users WHERE login = 'com'");
  const filled = execFileSync(fill, [big, String(RECORDS), '1', '1', user], { encoding: 'utf8' }).trim();
  out('ledger filled', filled);
  srv = await start({ db: big, dir: world.dir }, { args: ['--quiet'] });
  const cc = await signIn(srv.url, 'com');
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await verify(srv.url, cc.cookie));
  if (!runs.every((x) => x.ok && x.records === RECORDS)) throw new Error('verify: ' + JSON.stringify(runs[0]).slice(0, 300));
  const best = Math.min(...runs.map((x) => x.seconds));
  out(`verify ${RECORDS.toLocaleString('en')} records (3 runs)`,
    `${runs.map((x) => x.seconds.toFixed(2) + ' s').join(', ')} in the server; best ${best.toFixed(2)} s (target < 2 s)`);
  out('  over HTTP, wall clock', runs.map((x) => x.wall.toFixed(2) + ' s').join(', '));
  await srv.stop();
} finally {
  rmSync(world.dir, { recursive: true, force: true });
}
