// One wrk load against POST `route` for the write benchmarks (bookings.mjs,
// usage.mjs). The Lua script does as little as it can per request (the
// load generator shares the machine's cores with the server); the answers
// are counted by status from the server's /metrics once the requests still
// in flight when wrk stopped are answered, and the 201s must equal the new
// rows of `table` in the database file.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../tests/http/lib/server.mjs';
import { sql } from '../tests/http/lib/bookings-world.mjs';

// Answers of `route` so far: {created (201), conflicts (409), other}.
async function answers(url, route) {
  const text = await (await fetch(url + '/metrics')).text();
  const by = { created: 0, conflicts: 0, other: 0 };
  for (const m of text.matchAll(/^yiqi_http_requests_total\{route="([^"]*)",status="(\d+)"\} (\d+)$/gm))
    if (m[1] === route) by[m[2] === '201' ? 'created' : m[2] === '409' ? 'conflicts' : 'other'] += Number(m[3]);
  return by;
}

async function settled(url, route) {
  let prev = await answers(url, route);
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const now = await answers(url, route);
    if (JSON.stringify(now) === JSON.stringify(prev)) return now;
    prev = now;
  }
}

// Returns {created, conflicts, other, seconds, p99}.
export async function wrkLoad({ url, db, table, route, script, clients, seconds, args }) {
  const a0 = await answers(url, route), n0 = Number(sql(db, `SELECT count(*) FROM ${table}`));
  const r = spawnSync('wrk', ['-t2', `-c${clients}`, `-d${seconds}s`, '-s', join(ROOT, script), url, '--', ...args],
    { encoding: 'utf8' });
  const m = /RESULT requests=(\d+) non2xx=(\d+) seconds=([\d.]+) p99_ms=([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error('wrk failed: ' + r.stdout + r.stderr);
  const a1 = await settled(url, route), n1 = Number(sql(db, `SELECT count(*) FROM ${table}`));
  const got = { created: a1.created - a0.created, conflicts: a1.conflicts - a0.conflicts, other: a1.other - a0.other };
  if (got.created !== n1 - n0) throw new Error(`${got.created} answers 201 but ${n1 - n0} new rows in ${table}`);
  return { ...got, seconds: +m[3], p99: +m[4] };
}
