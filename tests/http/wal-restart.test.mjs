// The WAL starts over under steady write load (db/checkpoint.h): bookings
// from many clients at once until the WAL has passed its restart size twice;
// the worker's checkpoints restart it while group-commit writes wait, the loop
// never checkpoints itself, the WAL file stays bounded, reads go on meanwhile,
// and every booking answered 201 is in the file, none overlapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { buildWorld, start, signIn, iso, localMidnight, H, sql, overlappingPairs } from './lib/bookings-world.mjs';

const metric = (text, name) => Number(new RegExp(`^${name.replace(/[{}"]/g, (c) => '\\' + c)} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);

test('under steady write load the worker restarts the WAL, the loop never checkpoints, and nothing answered is lost', {
  skip: process.env.YIQI_ASAN ? 'slow under the sanitizers' : false,
}, async () => {
  const world = buildWorld({ extraInstruments: 300 });
  const srv = await start(world, { args: ['--quiet'] });
  try {
    const res = await signIn(srv, 'res');
    const day = localMidnight(1);
    const metrics = async () => (await fetch(srv.url + '/metrics')).text();
    let booked = 0, refused = 0, reads = 0, stop = false, walMax = 0;
    const writer = async (w) => {
      for (let k = 0; !stop; k++) {
        const slot = (w * 7919 + k * 104729) % (300 * 48 * 40);
        const inst = world.ids[`bulk${slot % 300}`], start0 = day + Math.floor(slot / 300) * 1800;
        const r = await res.req('POST', '/api/v1/bookings', { instrument_id: inst, start: iso(start0), end: iso(start0 + H) });
        if (r.status === 201) booked++;
        else if (r.status === 409) refused++;
        else assert.fail(`${r.status} ${r.text}`);
      }
    };
    const reader = async () => {
      while (!stop) {
        const r = await fetch(`${srv.url}/api/v1/instruments/${world.ids.bulk0}/availability?from=${encodeURIComponent(iso(day))}&to=${encodeURIComponent(iso(day + 86400))}`);
        assert.equal(r.status, 200);
        await r.arrayBuffer();
        reads++;
      }
    };
    const watcher = async () => {
      const deadline = Date.now() + 120000;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        try { walMax = Math.max(walMax, statSync(world.db + '-wal').size); } catch { /* not yet */ }
        if (metric(await metrics(), 'yiqi_wal_restarts_total') >= 2) break;
      }
      stop = true;
    };
    await Promise.all([watcher(), reader(), ...Array.from({ length: 48 }, (_, w) => writer(w))]);

    const m = await metrics();
    assert.ok(metric(m, 'yiqi_wal_restarts_total') >= 2, `the WAL did not start over twice (${booked} bookings)`);
    assert.equal(metric(m, 'yiqi_checkpoints_total{on="loop"}'), 0, 'the loop checkpointed itself');
    assert.ok(metric(m, 'yiqi_checkpoints_total{on="worker"}') >= 2);
    // 16,000 frames to the restart, up to one more checkpoint's worth while it runs.
    assert.ok(walMax < 24000 * 4120, `the WAL grew to ${walMax} bytes`);
    assert.ok(reads > 0, 'reads were answered meanwhile');
    assert.equal(Number(sql(world.db, `SELECT count(*) FROM bookings WHERE start >= ${day}`)), booked, 'every 201 is in the file');
    assert.equal(overlappingPairs(world.db), 0);
    assert.ok(refused >= 0);
  } finally {
    await srv.stop();
    rmSync(world.dir, { recursive: true, force: true });
  }
});
