// The role matrix: every endpoint x every actor x own or other institution's
// object, with the status each must get. The rows live in tests/http/roles/*.mjs
// (one file per area; each exports `rows`), the fixture in tests/http/lib/world.mjs.
// Every answer is also validated against proto/openapi.yaml.
//
// A row: {method, path: (ids) => '/api/v1/...', body?: object | (ids, u) => object,
//         expect: {anon: 401, researcher: 403, ..., default?: 403}, pending?: 'why'}
// `u` is a string unique to each request (for codes and names that must not repeat).
// Every actor of ACTORS needs a status, given or by `default`. A row with
// `pending` names an endpoint a later issue adds: it runs as a TODO test (its
// failures are reported, not counted) until the area lands and removes the mark.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildWorld, ACTORS } from './lib/world.mjs';
import { checkResponse } from './lib/openapi.mjs';
import { ROOT } from './lib/server.mjs';

const dir = join(ROOT, 'tests/http/roles');
const areas = [];
for (const f of readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort()) {
  const mod = await import(join(dir, f));
  areas.push({ file: f, rows: mod.rows });
}

let w;
let counter = 0;
before(async () => { w = await buildWorld(); });
after(async () => { await w?.stop(); });

function label(row) {
  return row.name || `${row.method} ${row.path.toString().replace(/^\([^)]*\)\s*=>\s*/, '').replace(/[`'$]/g, '')}`;
}

async function runRow(row) {
  const path = row.path(w.ids);
  const problems = [];
  for (const actor of ACTORS) {
    const want = row.expect[actor] ?? row.expect.default;
    assert.ok(want !== undefined, `${row.method} ${path}: no expected status for ${actor}`);
    const u = `${process.pid}x${++counter}`;
    const body = typeof row.body === 'function' ? row.body(w.ids, u) : row.body;
    const res = await w.clients[actor].req(row.method, path, body);
    const ok = Array.isArray(want) ? want.includes(res.status) : res.status === want;
    if (!ok) problems.push(`${actor}: expected ${want}, got ${res.status} ${res.body?.error?.code ?? ''}`);
    try { checkResponse(row.method, path, res); } catch (e) { problems.push(`${actor}: ${e.message}`); }
  }
  assert.deepEqual(problems, [], `${row.method} ${path}`);
}

for (const { file, rows } of areas) {
  for (const row of rows) {
    test(`${file}: ${label(row)}`, row.pending ? { todo: row.pending } : {}, () => runRow(row));
  }
}
