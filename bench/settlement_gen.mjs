// Generator for the settlement bench (issue 7): fills a database made by
// tests/http/lib/bookings-world.mjs with a settlement-sized world and
// `perMonth` usage records in each of `periods`, written straight into SQLite
// (the statement build reads the records and does not walk the hash chain, so
// prev_hash/hash are random filler here; `GET /api/v1/usage/verify` would
// reject them).
//
//   40 more institutions over three zones (a third zone, 临港, joins: zones are
//   data), 400 instruments spread over them, 800 users, and per record: a
//   random instrument (its owner provides) and user (their institution pays),
//   15-255 minutes at 200 yuan/h, enterprises paying half by voucher, 3% of
//   records reversals (negative minutes and money).
//
//   node bench/settlement_gen.mjs DB PERIOD [PER_MONTH]    (standalone)
import { sql } from '../tests/http/lib/bookings-world.mjs';

const KINDS = ['university', 'institute', 'enterprise', 'hospital', 'platform'];

export function generate(db, periods, perMonth = 100000) {
  const t0 = Date.now();
  sql(db, `INSERT OR IGNORE INTO zones (code, name_zh, name_en) VALUES ('lingang', '临港新片区', 'Lingang Special Area');`);
  const orgs = [];
  for (let i = 0; i < 40; i++) {
    const zone = ['neobay', 'zhangjiang', 'lingang'][i % 3];
    const code = `G${String(i).padStart(2, '0')}`;
    orgs.push(`('${code}', '生成单位${i}', 'Generated ${i}', '${KINDS[i % KINDS.length]}', (SELECT id FROM zones WHERE code = '${zone}'), 'GEN${String(i).padStart(15, '0')}')`);
  }
  sql(db, `INSERT INTO orgs (code, name_zh, name_en, kind, zone_id, credit_code) VALUES ${orgs.join(',')};`);
  sql(db, `
    -- 400 instruments: copies of the world's first one, owned round-robin by the new institutions.
    WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k < 399)
    INSERT INTO instruments (owner_org_id, asset_no, name_zh, name_en, model, manufacturer, class_code, category_type,
      share_mode, run_status, original_value_fen, open_hours, slot_minutes, min_minutes, max_minutes, notice_minutes,
      horizon_days, cancel_deadline_minutes, requires_approval, requires_training, price_unit, price_internal_fen,
      price_zone_fen, price_cross_zone_fen, min_charge_fen, step_minutes, basis)
    SELECT (SELECT id FROM orgs WHERE code = printf('G%02d', n.k % 40)), printf('gen-%03d', n.k), name_zh || n.k, name_en || n.k,
      model, manufacturer, class_code, category_type, share_mode, run_status, original_value_fen, open_hours, slot_minutes,
      min_minutes, max_minutes, notice_minutes, horizon_days, cancel_deadline_minutes, requires_approval, requires_training,
      price_unit, price_internal_fen, price_zone_fen, price_cross_zone_fen, min_charge_fen, step_minutes, basis
    FROM instruments, n WHERE instruments.id = (SELECT min(id) FROM instruments);
    -- 800 users, 20 per institution.
    WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k < 799)
    INSERT INTO users (login, name, org_id, roles, password_hash)
    SELECT printf('gen%03d', n.k), printf('gen%03d', n.k), (SELECT id FROM orgs WHERE code = printf('G%02d', n.k % 40)), 1, 'x' FROM n;`);
  for (const period of periods) {
    const from = Math.floor(Date.parse(`${period}-01T00:00:00+08:00`) / 1000);
    sql(db, `
      CREATE TEMP TABLE gi (rn INTEGER PRIMARY KEY, id INTEGER, org INTEGER);
      INSERT INTO gi SELECT NULL, id, owner_org_id FROM instruments WHERE asset_no LIKE 'gen-%' ORDER BY id;
      CREATE TEMP TABLE gu (rn INTEGER PRIMARY KEY, id INTEGER, org INTEGER, ent INTEGER);
      INSERT INTO gu SELECT NULL, u.id, u.org_id, o.kind = 'enterprise' FROM users u JOIN orgs o ON o.id = u.org_id
        WHERE u.login LIKE 'gen%' ORDER BY u.id;
      WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < ${perMonth}),
      r AS MATERIALIZED (SELECT k, 1 + abs(random()) % 400 AS i, 1 + abs(random()) % 800 AS u, 15 + abs(random()) % 241 AS m,
                   abs(random()) % 100 AS dice, abs(random()) % (27 * 86400) AS at FROM n),
      f AS MATERIALIZED (SELECT r.*, CASE WHEN dice < 3 THEN -1 ELSE 1 END AS sign, (m * 20000 + 30) / 60 AS fee FROM r)
      INSERT INTO usage_records (instrument_id, provider_org_id, user_id, payer_org_id, kind, start, end, minutes, source,
        period, tier, price_unit, rate_fen, min_charge_fen, step_minutes, basis, fee_fen, voucher_fen, cash_fen,
        created_at, prev_hash, hash)
      SELECT gi.id, gi.org, gu.id, gu.org, CASE WHEN sign < 0 THEN 'reversal' ELSE 'original' END,
        ${from} + at, ${from} + at + m * 60, sign * m, 'manual', '${period}',
        CASE WHEN gi.org = gu.org THEN 'internal' ELSE 'zone' END, 'hour', 20000, 0, 1, 'used',
        sign * fee, sign * (CASE WHEN gu.ent THEN fee / 2 ELSE 0 END), sign * (fee - CASE WHEN gu.ent THEN fee / 2 ELSE 0 END),
        ${from} + at, lower(hex(randomblob(32))), lower(hex(randomblob(32)))
      FROM f JOIN gi ON gi.rn = f.i JOIN gu ON gu.rn = f.u;
      DROP TABLE gi; DROP TABLE gu;`);
  }
  return (Date.now() - t0) / 1000;
}

if (process.argv[1] && process.argv[1].endsWith('settlement_gen.mjs')) {
  const [db, period, n] = process.argv.slice(2);
  if (!db || !period) {
    console.error('usage: node bench/settlement_gen.mjs DB PERIOD [PER_MONTH]');
    process.exit(2);
  }
  const s = generate(db, [period], Number(n || 100000));
  console.log(`generated in ${s.toFixed(1)} s`);
}
