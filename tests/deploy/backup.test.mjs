// Backups, restore and upgrades against the real binary:
//  - `yiqi backup` taken while bookings are being written gives a file that
//    passes PRAGMA integrity_check (sqlite3 CLI) and holds every booking
//    acknowledged before the backup started;
//  - `yiqi restore` refuses a database a running server holds and a corrupt
//    backup, then brings the backup back, and the server starts on it;
//  - a database created at schema version 1 is upgraded by the current server,
//    which first writes an automatic backup next to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, existsSync, copyFileSync, openSync, writeSync, closeSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, BIN, cli, tempDir, startServer } from '../http/lib/server.mjs';
import { buildWorld, start, signIn, iso, localMidnight, sql } from '../http/lib/bookings-world.mjs';

const LATEST = Math.max(...readdirSync(join(ROOT, 'server/db/migrations'))
  .map((f) => Number((f.match(/^(\d+)_/) || [0, 0])[1])));

function run(args) {
  return new Promise((resolve) => {
    const p = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 25000 });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (status) => resolve({ status, stdout: out, stderr: err }));
  });
}

const ids = (db, where = "purpose = 'load'") => new Set(sql(db, `SELECT id FROM bookings WHERE ${where}`).split('\n').filter(Boolean).map(Number));

test('backup under concurrent bookings: consistent, complete up to its start; restore brings it back', async () => {
  const world = buildWorld({ extraInstruments: 8 });
  // Some bulk (about 40 MB), so that the copy takes long enough for bookings to
  // commit while it runs.
  sql(world.db, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120000)
    INSERT INTO login_failures (login, ip, at) SELECT 'pad-' || i || '-' || hex(randomblob(120)), '10.0.0.1', 1 FROM n`);
  let srv = await start(world);
  const backup = join(world.dir, 'backup.db');
  try {
    const logins = ['res', 'r1', 'r2', 'r3', 'r4', 'pia', 'stu', 'nos'];
    const clients = await Promise.all(logins.map((l) => signIn(srv, l)));
    const base = localMidnight(1);
    const acked = []; // {id, at}: bookings the server acknowledged with 201
    let stop = false;
    const writer = async (client, i) => {
      const instrument = world.ids[`bulk${i}`];
      for (let k = 0; !stop; k++) {
        const s = base + k * 1800;
        const r = await client.post('/api/v1/bookings', { instrument_id: instrument, start: iso(s), end: iso(s + 1800), purpose: 'load' });
        if (r.status !== 201) throw new Error(`booking ${k} on bulk${i}: ${r.status} ${r.text}`);
        acked.push({ id: r.body.id, at: performance.now() });
      }
    };
    const writers = clients.map((c, i) => writer(c, i));
    const failed = Promise.race(writers).then(() => { throw new Error('a writer stopped early'); }, (e) => { throw e; });
    const until = async (cond) => { while (!cond()) await Promise.race([new Promise((r) => setTimeout(r, 5)), failed]); };
    await until(() => acked.length >= 150);

    const t0 = performance.now();
    const before = acked.map((a) => a.id); // every booking acknowledged before the backup started
    const b = await Promise.race([run(['backup', '--db', world.db, '--to', backup]), failed]);
    const t1 = performance.now();
    const total = acked.length;
    await until(() => acked.length >= total + 20); // and the server still takes bookings after it
    stop = true;
    await Promise.all(writers);

    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stdout, /integrity ok/);
    // It must finish under load at all: a copy in several steps restarts after
    // every commit by the server and took 37 s here (or never ends); one step
    // takes under a second. 20 s is a bound for a stuck copy, not a benchmark.
    assert.ok(t1 - t0 < 20000, `the backup took ${Math.round(t1 - t0)} ms under load`);
    const during = acked.filter((a) => a.at > t0 && a.at < t1).length;
    assert.ok(during > 0, `no booking was acknowledged during the ${Math.round(t1 - t0)} ms backup`);
    console.log(`# backup of ${Math.round(statSync(world.db).size / 1048576)} MiB took ${Math.round(t1 - t0)} ms; ${during} bookings acknowledged meanwhile`);
    assert.equal(sql(backup, 'PRAGMA integrity_check'), 'ok');
    assert.equal(sql(backup, 'PRAGMA foreign_key_check'), '');
    const inBackup = ids(backup);
    const missing = before.filter((id) => !inBackup.has(id));
    assert.deepEqual(missing, [], `acknowledged before the backup but missing from it: ${missing.length}`);
    assert.ok(inBackup.size <= acked.length);
    for (const id of inBackup) assert.ok(acked.some((a) => a.id === id), `booking ${id} in the backup was never acknowledged`);

    // Restore refuses while the server holds the database, and changes nothing.
    const live = ids(world.db).size;
    let r = cli(['restore', '--db', world.db, '--from', backup]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /is open in process \d+.*stop it first/);
    assert.equal(ids(world.db).size, live);

    const stopped = await srv.stop();
    srv = null;
    assert.equal(stopped.code, 0);
    assert.equal(ids(world.db).size, acked.length); // everything acknowledged is in the live file

    // A corrupt backup is refused before anything is touched.
    const bad = join(world.dir, 'bad.db');
    copyFileSync(backup, bad);
    const fd = openSync(bad, 'r+');
    writeSync(fd, Buffer.alloc(4096 * 3, 0xa5), 0, 4096 * 3, 4096 * 40);
    closeSync(fd);
    r = cli(['restore', '--db', world.db, '--from', bad]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /integrity check|malformed/);
    assert.equal(ids(world.db).size, acked.length);
    assert.equal(readdirSync(world.dir).filter((f) => f.includes('before-restore')).length, 0);

    // The real restore: the old file is kept aside, the backup's rows come back.
    r = cli(['restore', '--db', world.db, '--from', backup]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /restored .* \(schema version \d+\) into .*integrity ok/);
    const kept = readdirSync(world.dir).filter((f) => /^yiqi\.db\.before-restore-\d{8}T\d{6}Z\.bak$/.test(f));
    assert.equal(kept.length, 1);
    assert.equal(ids(join(world.dir, kept[0])).size, acked.length);
    assert.deepEqual([...ids(world.db)].sort(), [...inBackup].sort());
    assert.equal(sql(world.db, 'PRAGMA integrity_check'), 'ok');

    // And the server starts on it and serves the restored bookings.
    srv = await start(world);
    const c = await signIn(srv, 'res');
    const mine = Number(sql(world.db, `SELECT id FROM bookings WHERE purpose = 'load' AND user_id = (SELECT id FROM users WHERE login = 'res') ORDER BY id LIMIT 1`));
    const got = await c.get(`/api/v1/bookings/${mine}`);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.id, mine);
  } finally {
    if (srv) await srv.stop();
    rmSync(world.dir, { recursive: true, force: true });
  }
});

test('restore: usage errors, a missing backup, and a backup newer than the program', () => {
  const dir = tempDir('yiqi-restore-');
  try {
    const db = join(dir, 'yiqi.db');
    assert.equal(cli(['restore', '--db', db]).status, 2);
    assert.equal(cli(['restore', '--help']).status, 0);
    let r = cli(['restore', '--db', db, '--from', join(dir, 'nope.db')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot read the backup/);
    const newer = join(dir, 'newer.db');
    assert.equal(cli(['init', '--db', newer]).status, 0);
    sql(newer, `PRAGMA user_version = ${LATEST + 1}`);
    r = cli(['restore', '--db', db, '--from', newer]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /schema version \d+; this yiqi knows versions 1\.\./);
    assert.equal(existsSync(db), false);
    r = cli(['restore', '--db', newer, '--from', newer]);
    assert.equal(r.status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('upgrade: a schema-version-1 database is backed up, then migrated at start-up', async () => {
  const dir = tempDir('yiqi-upgrade-');
  const db = join(dir, 'yiqi.db');
  let srv;
  try {
    let r = cli(['init', '--db', db, '--schema-version', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sql(db, 'PRAGMA user_version'), '1');
    assert.ok(LATEST > 1, 'there is something to migrate');
    sql(db, "INSERT INTO login_failures (login, ip, at) VALUES ('from-v1', '10.1.1.1', 1700000000)");

    srv = await startServer({ db, dir, keep: true });
    const pre = `${db}.pre-v1.bak`;
    assert.match(srv.stderr(), new RegExp(`schema version 1 -> ${LATEST}; backing up to .*yiqi\\.db\\.pre-v1\\.bak first`));
    assert.ok(existsSync(pre), 'no automatic pre-migration backup');
    assert.equal(sql(pre, 'PRAGMA user_version'), '1');
    assert.equal(sql(pre, 'PRAGMA integrity_check'), 'ok');
    assert.equal(sql(pre, "SELECT ip FROM login_failures WHERE login = 'from-v1'"), '10.1.1.1');
    assert.equal(sql(db, 'PRAGMA user_version'), String(LATEST));
    assert.equal(sql(db, "SELECT ip FROM login_failures WHERE login = 'from-v1'"), '10.1.1.1');
    assert.equal(sql(db, 'PRAGMA integrity_check'), 'ok');
    const health = await fetch(srv.url + '/healthz');
    assert.equal(health.status, 200);
    // A write through the API works on the migrated schema.
    const signin = await fetch(srv.url + '/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'after-upgrade', password: 'wrong-password-1' }) });
    assert.equal(signin.status, 401);
    assert.equal(sql(db, "SELECT count(*) FROM login_failures WHERE login = 'after-upgrade'"), '1');
    assert.equal((await srv.stop()).code, 0);

    // Starting again on the current schema writes no further backup.
    srv = await startServer({ db, dir, keep: true });
    assert.doesNotMatch(srv.stderr(), /backing up/);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.bak')), ['yiqi.db.pre-v1.bak']);
    await srv.stop();
    srv = null;

    // The pre-migration backup can be restored (a rollback), and is migrated again.
    r = cli(['restore', '--db', db, '--from', pre]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`migrates it from version 1 to ${LATEST}`));
    assert.equal(sql(db, 'PRAGMA user_version'), '1');
  } finally {
    if (srv) await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
