// Search by what an instrument is, not only by what its name says: a word
// in the name of the instrument's (third-level) class, in Chinese or
// English, finds it. "电镜" finds a 透射电子显微镜 classed 透射电镜; rows
// found through their text rank before rows found through their class alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { checkResponse } from './lib/openapi.mjs';
import { buildWorld, start, signIn, sql } from './lib/bookings-world.mjs';

let world, srv, res;

before(async () => {
  world = buildWorld();
  // Every other instrument of the world gets a class that answers none of the words below.
  sql(world.db, `
    UPDATE instruments SET class_code = '011006', name_zh = '通用仪器 ' || asset_no, name_en = 'General ' || asset_no;
    UPDATE instruments SET slot_minutes = 5, min_minutes = 5 WHERE asset_no = 'quick';
    UPDATE instruments SET name_zh = '场发射透射电子显微镜', name_en = 'Field-emission TEM', class_code = '010101' WHERE asset_no = 'open';
    UPDATE instruments SET name_zh = '聚焦离子束-扫描电镜双束系统', name_en = 'FIB-SEM dual beam', class_code = '010102' WHERE asset_no = 'approval';
    UPDATE instruments SET name_zh = '台式超速离心机', name_en = 'Benchtop ultracentrifuge', class_code = '011006' WHERE asset_no = 'rules';
    UPDATE instruments SET name_zh = '轨道阱高分辨系统', name_en = 'Orbitrap Exploris', class_code = '010207' WHERE asset_no = 'far';`);
  srv = await start(world);
  res = await signIn(srv, 'res');
});
after(async () => {
  await srv.stop();
  rmSync(world.dir, { recursive: true, force: true });
});

async function search(q) {
  const path = `/api/v1/instruments?q=${encodeURIComponent(q)}&limit=50`;
  const r = await res.req('GET', path);
  checkResponse('GET', path, r);
  assert.equal(r.status, 200, r.text);
  return r.body.items.map((i) => i.id);
}

test('a two-character word finds its class: 电镜 finds the TEM by class, after the SEM found by name', async () => {
  const I = world.ids;
  assert.deepEqual(await search('电镜'), [I.approval, I.open]);
  assert.deepEqual(await search('电镜 双束'), [I.approval]);
});

test('longer words go through the full-text index and the classes alike', async () => {
  const I = world.ids;
  assert.deepEqual(await search('透射电镜'), [I.open]);
  assert.deepEqual(await search('扫描电镜'), [I.approval]);
  // English class names: "mass spectrometer" is the class of the Orbitrap, whose names never say it.
  assert.deepEqual(await search('mass spectrometer'), [I.far]);
  assert.deepEqual(await search('Spectrometer orbitrap'), [I.far]);
  // Only the third-level classes answer: 电子光学仪器 (the level above both microscopes)
  // or 分析仪器 (above nearly everything) would drown the names.
  assert.deepEqual(await search('电子光学仪器'), []);
  assert.deepEqual(await search('分析仪器'), []);
  // Each word must be found, in the text or in the class.
  assert.deepEqual(await search('电镜 Orbitrap'), []);
  // The ultracentrifuge named so comes first; the other instruments of its class follow.
  const spin = await search('离心机');
  assert.equal(spin[0], I.rules);
  assert.ok(spin.length > 3, spin.join());
  for (const id of [I.open, I.approval, I.far]) assert.ok(!spin.includes(id));
});

test('a query string that does not decode to UTF-8 is refused, never read as no filter', async () => {
  for (const q of ['q=%00abc', 'q=%e7%94', 'q=abc%', 'q=%zz', 'x%00=1&q=NMR', 'zone=%ff']) {
    const path = `/api/v1/instruments?${q}`;
    const r = await res.req('GET', path);
    assert.equal(r.status, 400, `${q}: ${r.text}`);
    assert.equal(r.body.error.code, 'invalid_query');
  }
  // Well-formed ones still work, + as a space included.
  for (const q of ['q=%E7%94%B5%E9%95%9C', 'q=mass+spectrometer', 'limit=5&q=']) {
    const r = await res.req('GET', `/api/v1/instruments?${q}`);
    assert.equal(r.status, 200, `${q}: ${r.text}`);
  }
});
