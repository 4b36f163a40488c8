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
