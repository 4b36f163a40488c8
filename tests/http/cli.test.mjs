// The command line as API.md fixes it: --help exits 0, bad arguments exit 2,
// init is idempotent and refuses what it cannot open, user add reads the
// password from stdin, backup gives a consistent copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cli, tempDir } from './lib/server.mjs';

const sqlite = (db, sql) => spawnSync('sqlite3', [db, sql], { encoding: 'utf8' }).stdout.trim();

test('--help exits 0 on every command and bad arguments exit 2', () => {
  for (const cmd of [['--help'], ['init', '--help'], ['serve', '--help'], ['user', 'add', '--help'], ['backup', '--help'], ['demo', '--help'], ['restore', '--help']]) {
    const r = cli(cmd);
    assert.equal(r.status, 0, `${cmd.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /usage/i);
  }
  for (const cmd of [[], ['nope'], ['init'], ['init', '--db'], ['init', '--bogus', 'x'], ['serve', '--db', 'x', '--listen', 'nonsense'], ['user', 'add', '--db', 'x'], ['backup', '--db', 'x']]) {
    const r = cli(cmd);
    assert.equal(r.status, 2, `${cmd.join(' ')} exited ${r.status}`);
    assert.ok(r.stderr.length > 0, 'a message on stderr');
  }
});

test('init creates and migrates, idempotently; refuses a file that is not a database', () => {
  const dir = tempDir();
  const db = join(dir, 'y.db');
  let r = cli(['init', '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  const v = sqlite(db, 'PRAGMA user_version');
  assert.ok(Number(v) >= 1);
  assert.equal(sqlite(db, 'PRAGMA journal_mode'), 'wal');
  assert.equal(sqlite(db, "SELECT group_concat(code, ',') FROM (SELECT code FROM zones ORDER BY code)"), 'neobay,zhangjiang');
  r = cli(['init', '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(sqlite(db, 'PRAGMA user_version'), v);
  const junk = join(dir, 'junk.db');
  writeFileSync(junk, 'this is not a database, just text that is long enough to look like a header block\n'.repeat(20));
  r = cli(['init', '--db', junk]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /database/);
  r = cli(['serve', '--db', junk, '--listen', '127.0.0.1:0']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /database/);
  r = cli(['init', '--db', join(dir, 'missing-dir', 'x.db')]);
  assert.equal(r.status, 1);
});

// Migration 077 rebuilds bookings and usage_records (their CHECK constraints
// as OR chains): every row comes through unchanged, the schema ends as a
// fresh database's, and inserting a booking or a usage record no longer
// builds a temporary B-tree per row (OpenEphemeral in the statement's
// program), which is what the migration is for.
test('upgrading to 077 keeps every booking and usage record and drops the per-insert temp tables', () => {
  const dir = tempDir();
  const db = join(dir, 'old.db');
  let r = cli(['init', '--db', db, '--schema-version', '76']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(sqlite(db, 'PRAGMA user_version'), '76');
  const seed = `PRAGMA foreign_keys=ON;
    INSERT INTO orgs (id, code, name_zh, name_en, kind, zone_id, credit_code)
      VALUES (1, 'A', '甲大学', 'Univ A', 'university', 1, '91310000000000001A');
    INSERT INTO users (id, login, name, org_id, password_hash) VALUES (1, 'u', 'U', 1, 'x');
    INSERT INTO instruments (id, owner_org_id, asset_no, name_zh, name_en, model, manufacturer, class_code, category_type,
      share_mode, run_status, original_value_fen, open_hours)
      VALUES (1, 1, 'a', '仪器', 'I', 'M', 'Maker', '010101', 'general', 'external', 'normal', 1, '[]');
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
    INSERT INTO bookings (id, instrument_id, user_id, payer_org_id, start, end, purpose, status, fee_estimate_fen)
      SELECT i, 1, 1, 1, 1800000000 + i * 7200, 1800000000 + i * 7200 + 3600, 'p' || i,
             CASE i % 4 WHEN 0 THEN 'confirmed' WHEN 1 THEN 'completed' WHEN 2 THEN 'cancelled' ELSE 'pending' END, i * 100
      FROM n;
    INSERT INTO booking_events (booking_id, at, to_status) SELECT id, start, status FROM bookings;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
    INSERT INTO usage_records (id, instrument_id, provider_org_id, user_id, payer_org_id, booking_id, kind, start, end,
      minutes, source, period, tier, price_unit, rate_fen, min_charge_fen, step_minutes, basis, fee_fen, cash_fen,
      created_at, prev_hash, hash)
      SELECT i, 1, 1, 1, 1, i, CASE WHEN i % 10 = 0 THEN 'reversal' ELSE 'original' END, 1800000000 + i * 7200,
             1800000000 + i * 7200 + 3600, 60, 'checkout', '2027-01', 'internal', 'hour', 1000, 0, 15, 'used', 1000,
             1000, 1800000000 + i, printf('%064d', i - 1), printf('%064d', i)
      FROM n;
    -- A bar lifted by an older version (audited), and a row that already
    -- dangles (written by hand with foreign keys off): neither may stop the
    -- upgrade, and the lift is carried over (migration 080).
    INSERT INTO audit (at, actor_login, action, object_type, object_id) VALUES (1790000000, 'ada', 'user_unbar', 'user', 1);
    PRAGMA foreign_keys=OFF;
    INSERT INTO notifications (user_id, at, kind, message_zh, message_en) VALUES (999999, 1, 'x', 'x', 'x');`;
  const seeded = spawnSync('sqlite3', [db], { input: seed, encoding: 'utf8' });
  assert.equal(seeded.stderr, '');
  const dump = (file) => sqlite(file, 'SELECT * FROM bookings ORDER BY id') + '\n--\n' +
    sqlite(file, 'SELECT * FROM usage_records ORDER BY id') + '\n--\n' + sqlite(file, 'SELECT * FROM booking_events ORDER BY id');
  const before = dump(db);
  assert.ok(before.split('\n').length > 800);
  r = cli(['init', '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(dump(db), before, 'rows unchanged');
  assert.equal(sqlite(db, 'PRAGMA integrity_check'), 'ok');
  assert.equal(sqlite(db, 'PRAGMA foreign_key_check'), 'notifications|1|users|0', 'only the row that dangled before');
  assert.equal(sqlite(db, 'SELECT bar_lifted_at FROM users WHERE id = 1'), '1790000000');
  const fresh = join(dir, 'fresh.db');
  assert.equal(cli(['init', '--db', fresh]).status, 0);
  const schema = (file) => sqlite(file, 'SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name');
  assert.equal(schema(db), schema(fresh), 'the same schema as a new database');
  const ephemeral = (file, sql) => sqlite(file, 'EXPLAIN ' + sql).split('\n').filter((l) => /OpenEphemeral/.test(l)).length;
  const insertBooking = `INSERT INTO bookings (instrument_id, user_id, payer_org_id, start, end, status)
    VALUES (1, 1, 1, 1900000000, 1900003600, 'confirmed')`;
  const insertUsage = `INSERT INTO usage_records (instrument_id, provider_org_id, user_id, payer_org_id, kind, start, end,
    minutes, source, period, tier, price_unit, rate_fen, min_charge_fen, step_minutes, basis, fee_fen, cash_fen,
    created_at, prev_hash, hash) VALUES (1, 1, 1, 1, 'original', 1, 2, 1, 'agent', '2027-01', 'zone', 'hour', 1, 0, 15,
    'used', 1, 1, 1, 'a', 'b')`;
  const old = join(dir, 'still76.db');
  assert.equal(cli(['init', '--db', old, '--schema-version', '76']).status, 0);
  assert.ok(ephemeral(old, insertBooking) >= 2 && ephemeral(old, insertUsage) >= 3, 'the test sees what it looks for');
  assert.equal(ephemeral(db, insertBooking), 0);
  assert.equal(ephemeral(db, insertUsage), 0);
  // The constraints and triggers still hold after the rebuild.
  const refused = (sql) => spawnSync('sqlite3', [db, sql], { encoding: 'utf8' }).stderr;
  assert.match(refused(insertBooking.replace("'confirmed'", "'maybe'")), /CHECK constraint failed/);
  assert.match(refused(insertBooking.replace('1900000000, 1900003600', '1800000000 + 4 * 7200, 1800000000 + 4 * 7200 + 60')),
    /slot_taken/);
  assert.match(refused('UPDATE usage_records SET fee_fen = 0 WHERE id = 1'), /append-only/);
  assert.match(refused('DELETE FROM usage_records WHERE id = 1'), /append-only/);
  assert.match(refused(insertUsage.replace("'zone'", "'galaxy'")), /CHECK constraint failed/);
});

test('user add reads the password from stdin and enforces the policy', () => {
  const dir = tempDir();
  const db = join(dir, 'y.db');
  cli(['init', '--db', db]);
  let r = cli(['user', 'add', '--db', db, '--login', 'root', '--name', 'Root', '--role', 'admin'], { input: 'short\n' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /12 characters/);
  r = cli(['user', 'add', '--db', db, '--login', 'root', '--name', 'Root', '--role', 'admin'], { input: 'password1234\n' });
  assert.equal(r.status, 1, 'a common password is refused');
  r = cli(['user', 'add', '--db', db, '--login', 'root', '--name', 'Root', '--role', 'admin'], { input: 'Zhangjiang-NeoBay-2026!\n' });
  assert.equal(r.status, 0, r.stderr);
  const hash = sqlite(db, "SELECT password_hash FROM users WHERE login = 'root'");
  assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  r = cli(['user', 'add', '--db', db, '--login', 'root', '--name', 'Again', '--role', 'admin'], { input: 'Zhangjiang-NeoBay-2026!\n' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /taken/);
  r = cli(['user', 'add', '--db', db, '--login', 'r1', '--name', 'R', '--role', 'researcher'], { input: 'Zhangjiang-NeoBay-2026!\n' });
  assert.equal(r.status, 2, 'a researcher needs --org');
});

test('backup writes a checked copy and refuses a missing source', () => {
  const dir = tempDir();
  const db = join(dir, 'y.db');
  cli(['init', '--db', db]);
  const to = join(dir, 'copy.db');
  let r = cli(['backup', '--db', db, '--to', to]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(to));
  assert.equal(sqlite(to, 'PRAGMA integrity_check'), 'ok');
  assert.equal(sqlite(to, 'SELECT count(*) FROM zones'), '2');
  r = cli(['backup', '--db', join(dir, 'nope.db'), '--to', join(dir, 'x.db')]);
  assert.equal(r.status, 1);
});
