// Search latency on 20,000 instruments: builds the demo world, grows its
// catalogue to 20,000 by importing copies of the demo instruments (new asset
// numbers and model suffixes, spread over the demo institutions) through the
// CSV import, then times GET /api/v1/instruments (facets included, 50 items,
// anonymous) for several query classes, sequentially, over one keep-alive
// connection on loopback, and prints p50, p99 and max per class and overall.
// A request's time runs from sending it to the last byte of the answer (the
// body is parsed and checked afterwards, outside the timing). A figure, not a
// test. YIQI_BENCH_ROUNDS (default 30) sets the repetitions of each class.
import http from 'node:http';
import os from 'node:os';
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
  console.log(`machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other work on the machine shows in the tail)`);
  console.log(`catalogue: ${total} instruments (generated in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  // Query classes: [label, list of query strings (URLSearchParams init)].
  const words = (list) => list.map((q) => ({ q }));
  const kinds = [
    ['Chinese, 1 character', words(['镜', '仪', '谱', '光', '电', '析', '微', '热'])],
    ['Chinese, 2 characters', words(['质谱', '光谱', '色谱', '电镜', '细胞', '激光', '天平', '离心'])],
    ['Chinese, 3+ characters', words(['显微镜', '扫描电镜', '液相色谱', '核磁共振', '衍射仪', '分析仪', '测试系统', '荧光'])],
    ['English words', words(['microscope', 'spectrometer', 'Thermo', 'chromatograph', 'laser', 'Bruker', 'analyzer', 'NMR'])],
    ['English, 1-2 letters / common', words(['a', 'x', 'MS', 'ion', 'ter', 'system', 'Thermo Fisher', 'sys ana'])],
    ['no text, filters only', [{ zone: 'neobay' }, { class: '01' }, { zone: 'zhangjiang', bookable: '1' }, { class: '0101', bookable: '1' },
      { run_status: 'normal' }, { class: '010102' }, { zone: 'neobay', class: '02' }, {}]],
    ['sorts: name / value, with q', [{ q: '显微镜', sort: 'name' }, { q: 'microscope', sort: 'value' }, { q: '质谱', sort: 'value' },
      { sort: 'value' }, { q: 'laser', sort: 'name' }, { zone: 'neobay', sort: 'value' }, { q: '镜', sort: 'name' }, { class: '01', sort: 'name' }]],
  ];
  // Cursor paging: the third page of some of the queries above.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(srv.url);
  const get = (path) => new Promise((resolve, reject) => {
    const t1 = performance.now();
    http.get({ host: base.hostname, port: base.port, path, agent }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ ms: performance.now() - t1, status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
  const path = (params) => '/api/v1/instruments?' + new URLSearchParams({ limit: '50', ...params });
  const pages = [];
  for (const params of [{ q: '显微镜' }, { q: '镜' }, { q: 'spectrometer' }, { zone: 'neobay' }, { q: '质谱', sort: 'name' }, { sort: 'value' }, { q: 'Bruker' }, { class: '01' }]) {
    let cursor = null;
    for (let k = 0; k < 2; k++) {
      const r = await get(path({ ...params, ...(cursor ? { cursor } : {}) }));
      cursor = JSON.parse(r.body).next_cursor;
      if (!cursor) break;
    }
    if (cursor) pages.push({ ...params, cursor });
  }
  kinds.push(['cursor paging (page 3)', pages]);
  const pct = (a, p) => a[Math.min(a.length - 1, Math.ceil(a.length * p) - 1)];
  const all = [];
  const fails = [];
  for (const [kind, queries] of kinds) {
    const times = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const params of queries) {
        const r = await get(path(params));
        if (r.status !== 200) throw new Error(`${JSON.stringify(params)}: ${r.status} ${r.body}`);
        const body = JSON.parse(r.body);
        if (!Array.isArray(body.items) || typeof body.total !== 'number') throw new Error(`${JSON.stringify(params)}: no items/total`);
        times.push(r.ms);
      }
    }
    times.sort((a, b) => a - b);
    all.push(...times);
    const p99 = pct(times, 0.99);
    if (p99 >= 20) fails.push(kind);
    console.log(`search ${kind.padEnd(30)} n=${String(times.length).padStart(4)}  p50 ${pct(times, 0.5).toFixed(2).padStart(6)} ms  p99 ${p99.toFixed(2).padStart(6)} ms  max ${times[times.length - 1].toFixed(2).padStart(6)} ms`);
  }
  all.sort((a, b) => a - b);
  console.log(`search OVERALL ${''.padEnd(24)} n=${String(all.length).padStart(4)}  p50 ${pct(all, 0.5).toFixed(2).padStart(6)} ms  p99 ${pct(all, 0.99).toFixed(2).padStart(6)} ms  max ${all[all.length - 1].toFixed(2).padStart(6)} ms`);
  console.log(`target: p99 < 20 ms in every class: ${fails.length ? 'MISSED in ' + fails.join(', ') : 'met'}`);
  agent.destroy();
} finally {
  await srv.stop();
}
