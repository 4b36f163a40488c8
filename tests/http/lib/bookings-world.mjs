// A small world for the booking tests, built straight into a fresh database
// (yiqi init + the sqlite3 CLI + `yiqi user add`), so these tests depend only
// on the booking API: two institutions in different zones, lab groups (one
// that requires PI approval), users of every role and a few instruments.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cli, tempDir, startServer, Client } from './server.mjs';

export const PW = 'Booking-Tests-2026';

export function sql(db, text) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', db, text], { encoding: 'utf8' }).trim();
}

// Local (+08:00) RFC 3339 text of a UTC instant in seconds.
export function iso(t) {
  return new Date((t + 8 * 3600) * 1000).toISOString().slice(0, 19) + '+08:00';
}
export function secs(text) { return Math.floor(Date.parse(text) / 1000); }
// The UTC instant of local midnight `days` days after today's (local).
export function localMidnight(days = 0, now = Date.now() / 1000) {
  const local = now + 8 * 3600;
  return Math.floor(local / 86400) * 86400 - 8 * 3600 + days * 86400;
}
export const H = 3600;

const ALL_WEEK = JSON.stringify([1, 2, 3, 4, 5, 6, 7].map((d) => ({ weekday: d, from: '00:00', to: '24:00' })));
const OFFICE = JSON.stringify([1, 2, 3, 4, 5].map((d) => ({ weekday: d, from: '09:00', to: '18:00' })));

// Instruments by key: [key, org, share_mode, run_status, open hours, notice min,
// requires_approval, requires_training, horizon days, slot min, min min, max min].
const INSTRUMENTS = [
  ['open', 'A', 'external', 'normal', ALL_WEEK, 0, 0, 0, 60, 30, 30, 480],
  ['rules', 'A', 'external', 'normal', OFFICE, 0, 0, 0, 60, 30, 60, 240],
  ['window', 'A', 'external', 'normal', ALL_WEEK, 2880, 0, 0, 4, 30, 30, 480],
  ['quick', 'A', 'external', 'normal', ALL_WEEK, 0, 0, 0, 60, 1, 1, 480],
  ['approval', 'A', 'external', 'normal', ALL_WEEK, 0, 1, 0, 60, 30, 30, 480],
  ['training', 'A', 'external', 'normal', ALL_WEEK, 0, 0, 1, 60, 30, 30, 480],
  ['broken', 'A', 'external', 'awaiting_repair', ALL_WEEK, 0, 0, 0, 60, 30, 30, 480],
  ['internal', 'A', 'internal', 'normal', ALL_WEEK, 0, 0, 0, 60, 30, 30, 480],
  ['far', 'B', 'external', 'normal', ALL_WEEK, 0, 0, 0, 60, 30, 30, 480],
];

// Builds the world in a fresh database file; returns {db, dir, ids, users}.
// extraInstruments: how many more 24/7 instruments of org A (keys bulk0...).
export function buildWorld({ extraInstruments = 0 } = {}) {
  const dir = tempDir('yiqi-bookings-');
  const db = join(dir, 'yiqi.db');
  const r = cli(['init', '--db', db]);
  if (r.status !== 0) throw new Error('init failed: ' + r.stderr);
  sql(db, `
    INSERT INTO orgs (code, name_zh, name_en, kind, zone_id, credit_code) VALUES
      ('A', '甲大学', 'Univ A', 'university', (SELECT id FROM zones WHERE code='neobay'), '91310000000000001A'),
      ('B', '乙研究所', 'Inst B', 'institute', (SELECT id FROM zones WHERE code='zhangjiang'), '91310000000000002B');`);
  const users = {};
  const add = (login, roles, org) => {
    const args = ['user', 'add', '--db', db, '--login', login, '--name', login];
    for (const role of roles) args.push('--role', role);
    if (org) args.push('--org', org);
    const u = cli(args, { input: PW + '\n' });
    if (u.status !== 0) throw new Error(`user add ${login}: ${u.stderr}`);
    users[login] = Number(sql(db, `SELECT id FROM users WHERE login='${login}'`));
  };
  add('ada', ['admin']);
  add('opa', ['operator'], 'A');
  add('opb', ['operator'], 'B');
  add('pia', ['pi', 'researcher'], 'A');
  add('res', ['researcher'], 'A');
  add('resb', ['researcher'], 'B');
  add('com', ['commission']);
  // More researchers share the first one's password hash (Argon2 is slow on purpose).
  for (const login of ['r1', 'r2', 'r3', 'r4', 'stu', 'nos']) {
    sql(db, `INSERT INTO users (login, name, org_id, roles, password_hash)
             SELECT '${login}', '${login}', org_id, roles, password_hash FROM users WHERE login='res'`);
    users[login] = Number(sql(db, `SELECT id FROM users WHERE login='${login}'`));
  }
  sql(db, `
    INSERT INTO lab_groups (org_id, name, pi_user_id, requires_pi_approval) VALUES
      ((SELECT id FROM orgs WHERE code='A'), 'open-lab', NULL, 0),
      ((SELECT id FROM orgs WHERE code='A'), 'pi-lab', ${users.pia}, 1),
      ((SELECT id FROM orgs WHERE code='B'), 'b-lab', NULL, 0);
    UPDATE users SET group_id = (SELECT id FROM lab_groups WHERE name='open-lab') WHERE login IN ('res','r1','r2','r3','r4','nos');
    UPDATE users SET group_id = (SELECT id FROM lab_groups WHERE name='pi-lab') WHERE login IN ('pia','stu');
    UPDATE users SET group_id = (SELECT id FROM lab_groups WHERE name='b-lab') WHERE login IN ('resb');`);
  const ids = {};
  const list = [...INSTRUMENTS];
  for (let i = 0; i < extraInstruments; i++) list.push([`bulk${i}`, 'A', 'external', 'normal', ALL_WEEK, 0, 0, 0, 60, 30, 30, 480]);
  const values = list.map(([key, org, share, status, hours, notice, approval, training, horizon, slot, min, max]) =>
    `((SELECT id FROM orgs WHERE code='${org}'), '${key}', '测试仪器-${key}', 'Test instrument ${key}', 'M1', 'Maker', '010101', 'general', '${share}', '${status}', 100000000, '${hours}', ${slot}, ${min}, ${max}, ${notice}, ${horizon}, 1440, ${approval}, ${training}, 'hour', 10000, 20000, 20000, 5000, 15, 'used')`);
  for (let i = 0; i < values.length; i += 200) {
    sql(db, `INSERT INTO instruments (owner_org_id, asset_no, name_zh, name_en, model, manufacturer, class_code, category_type, share_mode, run_status, original_value_fen, open_hours, slot_minutes, min_minutes, max_minutes, notice_minutes, horizon_days, cancel_deadline_minutes, requires_approval, requires_training, price_unit, price_internal_fen, price_zone_fen, price_cross_zone_fen, min_charge_fen, step_minutes, basis) VALUES ${values.slice(i, i + 200).join(',')};`);
  }
  for (const row of sql(db, 'SELECT asset_no, id FROM instruments').split('\n')) {
    const [k, id] = row.split('|');
    ids[k] = Number(id);
  }
  return { db, dir, ids, users };
}

export async function start(world, opts = {}) {
  return startServer({ db: world.db, dir: world.dir, keep: true, ...opts });
}

export async function signIn(srv, login) {
  const c = new Client(srv.url);
  await c.signIn(login, PW);
  return c;
}

// Live bookings that overlap another live booking on the same instrument.
export function overlappingPairs(db) {
  return Number(sql(db, `SELECT count(*) FROM bookings a JOIN bookings b
    ON a.instrument_id = b.instrument_id AND a.id < b.id AND a.start < b.end AND b.start < a.end
    WHERE a.status IN ('pending','confirmed','in_use') AND b.status IN ('pending','confirmed','in_use')`));
}
