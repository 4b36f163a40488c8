// Settlement benchmark (issue 7), figures only: building the statement of a
// month of 100,000 usage records through the real server (target < 1 s), with
// two more such months in the database so the build reads one month by index.
// Times are the wall time of the HTTP request (POST /api/v1/settlements), and
// the server's own split from its Server-Timing header (read the records,
// build and check the statement, write it). Also: a rebuild, reading the
// statement, both exports, and closing (which re-reads the month to check the
// statement is still what the usage gives).
import { rmSync } from 'node:fs';
import { buildWorld, start, signIn, sql } from '../tests/http/lib/bookings-world.mjs';
import { generate } from './settlement_gen.mjs';

const PER_MONTH = Number(process.env.BENCH_SETTLEMENT_RECORDS || 100000);
const out = (k, v) => console.log(`${k.padEnd(52)} ${v}`);

function month(k) {
  const now = new Date(Date.now() + 8 * 3600e3);
  let y = now.getUTCFullYear();
  let m = now.getUTCMonth() - k;
  while (m < 0) { m += 12; y -= 1; }
  return `${y}-${String(m + 1).padStart(2, '0')}`;
}

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return { r, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

const world = buildWorld();
try {
  const periods = [month(3), month(2), month(1)];
  const P = periods.at(-1);
  const genSeconds = generate(world.db, periods, PER_MONTH);
  const n = Number(sql(world.db, `SELECT count(*) FROM usage_records WHERE period = '${P}'`));
  const total = Number(sql(world.db, 'SELECT count(*) FROM usage_records'));
  out('usage records generated', `${total} in ${genSeconds.toFixed(1)} s (${n} in ${P})`);

  const srv = await start(world, { args: ['--quiet'] });
  const com = await signIn(srv, 'com');
  const build = await timed(() => com.post('/api/v1/settlements', { period: P }));
  if (build.r.status !== 201) throw new Error(`build: ${build.r.status} ${build.r.text}`);
  const st = build.r.body;
  out('statement', `${st.records} records -> ${st.lines.length} lines, ${st.zone_flows.length} zone flows, ${st.net_positions.length - 1} institutions`);
  out(`build, ${n} records (HTTP, first build)`, `${build.ms.toFixed(0)} ms (target < 1000 ms: ${build.ms < 1000 ? 'met' : 'MISSED'})`);
  out('  server split', build.r.headers.get('server-timing'));
  const runs = [];
  for (let i = 0; i < 5; i++) {
    const t = await timed(() => com.post('/api/v1/settlements', { period: P }));
    if (t.r.status !== 200) throw new Error(`rebuild: ${t.r.status}`);
    runs.push(t.ms);
  }
  runs.sort((a, b) => a - b);
  out('rebuild, 5 runs (HTTP)', `median ${runs[2].toFixed(0)} ms, min ${runs[0].toFixed(0)}, max ${runs[4].toFixed(0)}`);
  const get = await timed(() => com.get(`/api/v1/settlements/${P}`));
  out('GET the statement (JSON)', `${get.ms.toFixed(0)} ms, ${(get.r.text.length / 1024).toFixed(0)} KiB`);
  for (const format of ['csv', 'xlsx']) {
    const e = await timed(async () => {
      const res = await fetch(`${srv.url}/api/v1/settlements/${P}/export?format=${format}`, { headers: { cookie: com.cookie } });
      return { status: res.status, size: (await res.arrayBuffer()).byteLength };
    });
    if (e.r.status !== 200) throw new Error(`export ${format}: ${e.r.status}`);
    out(`export ${format.toUpperCase()}`, `${e.ms.toFixed(0)} ms, ${(e.r.size / 1024).toFixed(0)} KiB`);
  }
  const close = await timed(() => com.post(`/api/v1/settlements/${P}/close`));
  if (close.r.status !== 200) throw new Error(`close: ${close.r.status} ${close.r.text}`);
  out('close (re-reads and checks the month)', `${close.ms.toFixed(0)} ms`);
  await srv.stop();
} finally {
  rmSync(world.dir, { recursive: true, force: true });
}
