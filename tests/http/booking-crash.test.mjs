// Durability: kill the server with SIGKILL in the middle of a booking load,
// restart it on the same file, and find every booking that was answered 201
// (a 201 is only sent after the group commit is on disk), with PRAGMA
// integrity_check ok and no overlapping live bookings. Several rounds.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { buildWorld, start, signIn, iso, localMidnight, sql, overlappingPairs } from './lib/bookings-world.mjs';

const world = buildWorld({ extraInstruments: 40 });
after(() => rmSync(world.dir, { recursive: true, force: true }));

test('every 201 survives SIGKILL; the database stays whole (4 rounds)', async () => {
  const acknowledged = new Set();
  const base = localMidnight(2);
  const instruments = Array.from({ length: 40 }, (_, i) => world.ids[`bulk${i}`]);
  for (let round = 0; round < 4; round++) {
    const srv = await start(world, { args: ['--quiet'] });
    const clients = await Promise.all(['res', 'resb', 'r1', 'r2'].map((l) => signIn(srv, l)));
    let stop = false;
    let answered = 0;
    const worker = async (w) => {
      while (!stop) {
        const inst = instruments[Math.floor(Math.random() * instruments.length)];
        const start = base + 1800 * Math.floor(Math.random() * 48 * 50);
        try {
          const r = await clients[w % clients.length].post('/api/v1/bookings',
            { instrument_id: inst, start: iso(start), end: iso(start + 1800) });
          if (r.status === 201) acknowledged.add(r.body.id);
          else assert.ok(r.status === 409, `${r.status} ${r.text}`);
          answered++;
        } catch (e) {
          if (!stop) throw e; // connection reset by the kill
        }
      }
    };
    const load = Promise.all(Array.from({ length: 16 }, (_, w) => worker(w).catch((e) => { if (!stop) throw e; })));
    await new Promise((r) => setTimeout(r, 400 + Math.random() * 400));
    stop = true;
    srv.proc.kill('SIGKILL');
    await srv.exited;
    await load;
    assert.ok(answered > 20, `round ${round}: only ${answered} answers before the kill`);
    // Restart (recovery from the WAL) and check.
    const again = await start(world, { args: ['--quiet'] });
    await again.stop();
    assert.equal(sql(world.db, 'PRAGMA integrity_check'), 'ok');
    const stored = new Set(sql(world.db, 'SELECT id FROM bookings').split('\n').filter(Boolean).map(Number));
    const lost = [...acknowledged].filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], `round ${round}: bookings answered 201 but lost`);
    assert.equal(overlappingPairs(world.db), 0);
  }
  assert.ok(acknowledged.size > 50, `only ${acknowledged.size} bookings acknowledged`);
});
