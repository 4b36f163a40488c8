-- Yiqi schema, version 1. Instants are INTEGER UTC seconds; money is INTEGER fen.
-- Later changes go in new numbered files; never edit a migration that has shipped.

CREATE TABLE zones (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 2 AND 32),
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch())
);
INSERT INTO zones (code, name_zh, name_en) VALUES
    ('neobay', '大零号湾科技创新策源功能区', 'Grand Neo Bay (Minhang)'),
    ('zhangjiang', '张江科学城', 'Zhangjiang Science City (Pudong)');

-- Institutions (单位).
CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('university', 'institute', 'enterprise', 'hospital', 'platform', 'other')),
    zone_id INTEGER NOT NULL REFERENCES zones(id),
    credit_code TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at INTEGER NOT NULL DEFAULT (unixepoch())
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    org_id INTEGER REFERENCES orgs(id),
    group_id INTEGER REFERENCES lab_groups(id),
    roles INTEGER NOT NULL DEFAULT 1,          -- bit set of YQ_ROLE_* (auth/principal.h)
    password_hash TEXT NOT NULL,               -- libsodium crypto_pwhash_str (Argon2id)
    disabled INTEGER NOT NULL DEFAULT 0,
    barred_until INTEGER NOT NULL DEFAULT 0,   -- no-show bar (bookings)
    ical_token_hash BLOB,                      -- private calendar feed token, hashed
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX users_org ON users(org_id);

-- Lab groups (课题组): who books and who pays.
CREATE TABLE lab_groups (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    pi_user_id INTEGER REFERENCES users(id),
    requires_pi_approval INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    UNIQUE (org_id, name)
);

-- Sign-in sessions; the token itself is never stored, only its SHA-256.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    csrf_token TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    scopes INTEGER NOT NULL,                   -- bit set of YQ_SCOPE_*
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Failed sign-ins, for throttling per login and per address.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL,
    ip TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX login_failures_login ON login_failures(login, at);
CREATE INDEX login_failures_ip ON login_failures(ip, at);

-- Audit log: who, what, when, from where, before and after (JSON text).
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor_user_id INTEGER,
    actor_login TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    object_type TEXT NOT NULL DEFAULT '',
    object_id INTEGER,
    org_id INTEGER,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_at ON audit(at);
CREATE INDEX audit_object ON audit(object_type, object_id);

-- The instrument record (national reporting form fields plus booking rules and rates).
CREATE TABLE instruments (
    id INTEGER PRIMARY KEY,
    owner_org_id INTEGER NOT NULL REFERENCES orgs(id),
    asset_no TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    model TEXT NOT NULL,
    manufacturer TEXT NOT NULL,
    country TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    class_code TEXT NOT NULL,
    category_type TEXT NOT NULL CHECK (category_type IN ('general', 'specialised')),
    share_mode TEXT NOT NULL CHECK (share_mode IN ('external', 'internal', 'none')),
    run_status TEXT NOT NULL CHECK (run_status IN ('normal', 'standby', 'occasional_fault', 'frequent_fault',
                                                    'awaiting_repair', 'awaiting_disposal')),
    original_value_fen INTEGER NOT NULL CHECK (original_value_fen >= 0),
    purchase_date TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    room TEXT NOT NULL DEFAULT '',
    tech_specs TEXT NOT NULL DEFAULT '',
    functions TEXT NOT NULL DEFAULT '',
    service_content TEXT NOT NULL DEFAULT '',
    sample_requirements TEXT NOT NULL DEFAULT '',
    open_rules TEXT NOT NULL DEFAULT '',
    contact_name TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    contact_email TEXT NOT NULL DEFAULT '',
    -- booking rules
    open_hours TEXT NOT NULL,                  -- JSON [{"weekday":1,"from":"09:00","to":"18:00"}]
    slot_minutes INTEGER NOT NULL DEFAULT 30,
    min_minutes INTEGER NOT NULL DEFAULT 30,
    max_minutes INTEGER NOT NULL DEFAULT 480,
    notice_minutes INTEGER NOT NULL DEFAULT 120,
    horizon_days INTEGER NOT NULL DEFAULT 60,
    cancel_deadline_minutes INTEGER NOT NULL DEFAULT 1440,
    requires_approval INTEGER NOT NULL DEFAULT 0,
    requires_training INTEGER NOT NULL DEFAULT 0,
    service_modes TEXT NOT NULL DEFAULT '["self_operated"]',  -- JSON list
    -- price rule
    price_unit TEXT NOT NULL DEFAULT 'hour' CHECK (price_unit IN ('hour', 'sample')),
    price_internal_fen INTEGER NOT NULL DEFAULT 0,
    price_zone_fen INTEGER NOT NULL DEFAULT 0,
    price_cross_zone_fen INTEGER NOT NULL DEFAULT 0,
    min_charge_fen INTEGER NOT NULL DEFAULT 0,
    step_minutes INTEGER NOT NULL DEFAULT 15,
    basis TEXT NOT NULL DEFAULT 'used' CHECK (basis IN ('used', 'booked', 'greater')),
    retired_at INTEGER,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at INTEGER NOT NULL DEFAULT (unixepoch()),
    UNIQUE (owner_org_id, asset_no)
);
CREATE INDEX instruments_class ON instruments(class_code);

-- Maintenance blocks.
CREATE TABLE blocks (
    id INTEGER PRIMARY KEY,
    instrument_id INTEGER NOT NULL REFERENCES instruments(id),
    start INTEGER NOT NULL,
    end INTEGER NOT NULL CHECK (end > start),
    reason TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX blocks_instrument_end ON blocks(instrument_id, end);

-- Training records.
CREATE TABLE qualifications (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    instrument_id INTEGER NOT NULL REFERENCES instruments(id),
    expires INTEGER NOT NULL,                  -- instant after which it no longer counts
    granted_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    UNIQUE (user_id, instrument_id)
);

CREATE TABLE bookings (
    id INTEGER PRIMARY KEY,
    instrument_id INTEGER NOT NULL REFERENCES instruments(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    group_id INTEGER REFERENCES lab_groups(id),
    payer_org_id INTEGER NOT NULL REFERENCES orgs(id),
    start INTEGER NOT NULL,
    end INTEGER NOT NULL CHECK (end > start),
    purpose TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'in_use', 'completed', 'rejected',
                                           'cancelled', 'no_show')),
    needs_pi INTEGER NOT NULL DEFAULT 0,       -- PI approval still outstanding
    needs_operator INTEGER NOT NULL DEFAULT 0, -- operator approval still outstanding
    fee_estimate_fen INTEGER NOT NULL DEFAULT 0,
    series_id INTEGER,                         -- recurring bookings share one
    checkin_at INTEGER,
    checkout_at INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX bookings_user ON bookings(user_id, start);
CREATE INDEX bookings_instrument_end ON bookings(instrument_id, end);

CREATE TABLE booking_events (
    id INTEGER PRIMARY KEY,
    booking_id INTEGER NOT NULL REFERENCES bookings(id),
    at INTEGER NOT NULL,
    actor_user_id INTEGER,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX booking_events_booking ON booking_events(booking_id);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL,
    booking_id INTEGER,
    read_at INTEGER
);
CREATE INDEX notifications_user ON notifications(user_id, id);

-- Usage records (上机记录): append-only, hash-chained (see the usage module).
CREATE TABLE usage_records (
    id INTEGER PRIMARY KEY,
    instrument_id INTEGER NOT NULL REFERENCES instruments(id),
    provider_org_id INTEGER NOT NULL REFERENCES orgs(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    group_id INTEGER,
    payer_org_id INTEGER NOT NULL REFERENCES orgs(id),
    booking_id INTEGER REFERENCES bookings(id),
    kind TEXT NOT NULL CHECK (kind IN ('original', 'reversal', 'correction')),
    corrects_id INTEGER REFERENCES usage_records(id),
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    minutes INTEGER NOT NULL,                  -- used minutes (negative on a reversal)
    samples INTEGER NOT NULL DEFAULT 0,
    service_mode TEXT NOT NULL DEFAULT 'self_operated',
    source TEXT NOT NULL CHECK (source IN ('checkout', 'manual', 'agent', 'kiosk', 'correction')),
    recorded_by INTEGER,
    period TEXT NOT NULL,                      -- "2026-11": settlement month
    tier TEXT NOT NULL CHECK (tier IN ('internal', 'zone', 'cross_zone')),
    price_unit TEXT NOT NULL,
    rate_fen INTEGER NOT NULL,
    min_charge_fen INTEGER NOT NULL,
    step_minutes INTEGER NOT NULL,
    basis TEXT NOT NULL,
    booked_minutes INTEGER NOT NULL DEFAULT 0,
    fee_fen INTEGER NOT NULL,
    voucher_fen INTEGER NOT NULL DEFAULT 0,
    cash_fen INTEGER NOT NULL,
    voucher_id INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX usage_instrument_start ON usage_records(instrument_id, start);
CREATE INDEX usage_period ON usage_records(period);
CREATE INDEX usage_payer ON usage_records(payer_org_id, start);
CREATE INDEX usage_user ON usage_records(user_id, start);

-- Innovation vouchers (科技创新券).
CREATE TABLE vouchers (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    year INTEGER NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
    rate_percent INTEGER NOT NULL DEFAULT 50 CHECK (rate_percent BETWEEN 0 AND 100),
    balance_fen INTEGER NOT NULL CHECK (balance_fen >= 0),
    created_by INTEGER,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    UNIQUE (org_id, year)
);

CREATE TABLE voucher_events (
    id INTEGER PRIMARY KEY,
    voucher_id INTEGER NOT NULL REFERENCES vouchers(id),
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,                        -- issue, top_up, draw, refund
    delta_fen INTEGER NOT NULL,
    balance_fen INTEGER NOT NULL,
    usage_id INTEGER
);
CREATE INDEX voucher_events_voucher ON voucher_events(voucher_id, id);

-- Monthly settlement.
CREATE TABLE settlements (
    period TEXT PRIMARY KEY,                   -- "2026-11"
    status TEXT NOT NULL CHECK (status IN ('draft', 'closed')),
    built_at INTEGER NOT NULL,
    closed_at INTEGER,
    closed_by INTEGER,
    checkpoint_count INTEGER NOT NULL DEFAULT 0,
    checkpoint_hash TEXT NOT NULL DEFAULT ''
);

CREATE TABLE settlement_lines (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL REFERENCES settlements(period),
    provider_org_id INTEGER NOT NULL REFERENCES orgs(id),
    payer_org_id INTEGER NOT NULL REFERENCES orgs(id),
    uses INTEGER NOT NULL,
    minutes INTEGER NOT NULL,
    fee_fen INTEGER NOT NULL,
    voucher_fen INTEGER NOT NULL,
    cash_fen INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'confirmed', 'disputed')),
    reason TEXT NOT NULL DEFAULT '',
    acted_by INTEGER,
    acted_at INTEGER,
    UNIQUE (period, provider_org_id, payer_org_id)
);
