// Search latency on 20,000 instruments: builds the demo world, grows its
// catalogue to 20,000 by importing copies of the demo instruments (new asset
// numbers and model suffixes, spread over the demo institutions) through the
// CSV import, then times GET /api/v1/instruments (facets included, 50 items,
// anonymous) for Chinese and English queries, sequentially, and prints p50 and
// p99 per query kind. A figure, not a test.
import { join } from 'node:path';
import { cli, startServer, tempDir, Client } from '../tests/http/lib/server.mjs';

const TARGET = Number(process.env.YIQI_BENCH_INSTRUMENTS || 20000);
const ROUNDS = Number(process.env.YIQI_BENCH_ROUNDS || 30);
const dir = tempDir('yiqi-bench-search-');
const db = join(dir, 'yiqi.db');
const demo = cli(['demo', '--db', db]);
if (demo.status !== 0) throw new Error(demo.stderr);
const admin = demo.stdout.match(/^\s+(\S+)\s+(\S+)\s+admin\s/m);
const srv = await startServer({ db, dir, env: { YIQI_QUIET: '1' } });
try {
  const c = new Client(srv.url);
  await c.signIn(admin[1], admin[2]);
  const exp = await c.get('/api/v1/instruments/export.csv?include_retired=0');
  // Parse the export (quoted cells may hold commas and newlines).
  const text = exp.text.replace(/^\uFEFF/, '');
  const rows = [];
  let row = [], cell = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (q) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') q = false; else cell += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') { row.push(cell); cell = ''; } else if (ch === '\r') { /* skip */ } else if (ch === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; } else cell += ch;
  }
  const header = rows.shift();
  const col = (n) => header.indexOf(n);
  const quote = (s) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const have = Number((await c.get('/api/v1/instruments?limit=1&include_retired=1')).body.total);
  let need = TARGET - have, copy = 0;
  const t0 = performance.now();
  while (need > 0) {
    copy++;
    const batch = [];
    for (const r of rows) {
      if (need-- <= 0) break;
      const x = r.slice();
      x[col('asset_no')] = `B${copy}-${x[col('asset_no')]}`;
      x[col('model')] = `${x[col('model')]}-${copy}${String.fromCharCode(65 + (copy % 26))}`;
      batch.push(x.map(quote).join(','));
    }
    for (let i = 0; i < batch.length; i += 2000) {
      const body = [header.join(','), ...batch.slice(i, i + 2000)].join('\r\n') + '\r\n';
      const r = await c.req('POST', '/api/v1/instruments/import', body, { 'content-type': 'text/csv; charset=utf-8' });
      if (r.status !== 200) throw new Error(`import: ${r.status} ${r.text.slice(0, 300)}`);
    }
  }
  const total = (await c.get('/api/v1/instruments?limit=1&include_retired=1')).body.total;
  console.log(`catalogue: ${total} instruments (generated in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  const kinds = {
    'Chinese, 2 characters': ['质谱', '光谱', '色谱', '电镜', '细胞', '激光', '天平', '离心'],
    'Chinese, 3+ characters': ['显微镜', '扫描电镜', '液相色谱', '核磁共振', '衍射仪', '分析仪', '测试系统', '荧光'],
    'English words': ['microscope', 'spectrometer', 'Thermo', 'chromatograph', 'laser', 'Bruker', 'analyzer', 'NMR'],
    'no text, filters only': ['', '', '', '', '', '', '', ''],
  };
  const anon = new Client(srv.url);
  const pct = (a, p) => a[Math.min(a.length - 1, Math.floor((a.length - 1) * p))];
  for (const [kind, words] of Object.entries(kinds)) {
    const times = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, w] of words.entries()) {
        const qs = new URLSearchParams({ q: w, limit: '50' });
        if (!w) qs.set(i % 2 ? 'zone' : 'class', i % 2 ? 'neobay' : '01');
        if (i % 4 === 3) qs.set('bookable', '1');
        const t1 = performance.now();
        const r = await anon.get('/api/v1/instruments?' + qs);
        times.push(performance.now() - t1);
        if (r.status !== 200) throw new Error(`${w}: ${r.status}`);
      }
    }
    times.sort((a, b) => a - b);
    console.log(`search ${kind.padEnd(24)} n=${times.length}  p50 ${pct(times, 0.5).toFixed(2)} ms  p99 ${pct(times, 0.99).toFixed(2)} ms  (target p99 < 20 ms)`);
  }
} finally {
  await srv.stop();
}
