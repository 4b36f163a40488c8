/*
 * The demo world (see demo.h). Reads the embedded data files
 * data/demo_orgs.tsv, data/demo_people.tsv and data/demo_instruments.tsv and
 * writes institutions, lab groups, users, vouchers and instruments with
 * prepared statements inside the caller's transaction.
 *
 * Everything random comes from the seeded rng, and the order of the draws is
 * fixed, so one seed gives one world. Instruments go through the catalogue's
 * own storage (api/instrument_store.c) after the domain checks, so the demo
 * can hold nothing the API would refuse. Passwords: one Argon2id hash per
 * distinct demo password, reused for every user of that role, which keeps
 * `yiqi demo` to a second or two.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/instrument_store.h"
#include "auth/password.h"
#include "auth/principal.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "core/data.h"
#include "core/timeutil.h"
#include "demo/demo.h"
#include "domain/classes.h"
#include "domain/instrument_rules.h"

#define INSTRUMENTS_TARGET 1500

/* ---- TSV: header row with column names, tab-separated fields ---- */

typedef struct {
    char *text;    /* a writable copy of the file */
    char **fields; /* nrows * ncols, NULL-padded */
    char **header;
    size_t nrows, ncols;
} tsv_t;

static void split_line(char *line, char **out, size_t ncols) {
    for (size_t i = 0; i < ncols; i++) {
        out[i] = line;
        if (line) {
            char *tab = strchr(line, '\t');
            if (tab)
                *tab = '\0';
            line = tab ? tab + 1 : NULL;
        }
    }
}

/* Loads an embedded TSV. Lines starting with '#' and blank lines are skipped.
 * Returns 0, or -1 with a message when the file is missing. */
static int tsv_load(const char *name, tsv_t *t) {
    memset(t, 0, sizeof *t);
    const yq_data_file_t *f = yq_data_get(name);
    if (!f) {
        fprintf(stderr, "yiqi demo: data/%s is not in this build\n", name);
        return -1;
    }
    t->text = yq_xstrndup(f->bytes, f->len);
    size_t cap = 0;
    char *save = NULL;
    char **lines = NULL;
    size_t nlines = 0;
    for (char *line = strtok_r(t->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        if (!len || line[0] == '#')
            continue;
        if (nlines == cap)
            lines = yq_xrealloc(lines, (cap = cap ? cap * 2 : 256) * sizeof *lines);
        lines[nlines++] = line;
    }
    if (!nlines) {
        free(lines);
        fprintf(stderr, "yiqi demo: data/%s is empty\n", name);
        return -1;
    }
    t->ncols = 1;
    for (const char *p = lines[0]; *p; p++)
        t->ncols += *p == '\t';
    t->header = yq_xcalloc(t->ncols, sizeof *t->header);
    split_line(lines[0], t->header, t->ncols);
    t->nrows = nlines - 1;
    t->fields = yq_xcalloc(t->nrows * t->ncols + 1, sizeof *t->fields);
    for (size_t r = 0; r < t->nrows; r++)
        split_line(lines[r + 1], t->fields + r * t->ncols, t->ncols);
    free(lines);
    return 0;
}

static void tsv_free(tsv_t *t) {
    free(t->text);
    free(t->fields);
    free(t->header);
}

static int tsv_col(const tsv_t *t, const char *name) {
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->header[i], name) == 0)
            return (int)i;
    return -1;
}

/* Field (row, column name); "" when the column or the value is absent. */
static const char *tsv_get(const tsv_t *t, size_t row, const char *name) {
    int c = tsv_col(t, name);
    const char *v = c >= 0 ? t->fields[row * t->ncols + (size_t)c] : NULL;
    return v ? v : "";
}

/* ---- the world's state while it is built ---- */

typedef struct {
    int64_t id, zone_id;
    const char *code, *kind, *name_zh, *address;
    int64_t first_operator; /* user id, the instruments' contact */
    char contact_name[64], contact_phone[32], contact_email[96];
    int weight;
} org_t;

typedef struct {
    yq_db_t *db;
    yq_rng_t *rng;
    yq_arena_t *arena;
    FILE *logins;
    yq_demo_counts_t *counts;
    tsv_t orgs_tsv, people, instruments;
    org_t *orgs;
    size_t norgs;
    char hash[5][YQ_PASSWORD_HASH_MAX]; /* per role, see role_password */
} world_t;

/* Demo passwords, one per role; each passes yq_password_policy. */
static const struct {
    unsigned role;
    const char *name, *password;
} role_password[5] = {
    {YQ_ROLE_ADMIN, "admin", "demo-admin-2026"},
    {YQ_ROLE_COMMISSION, "commission", "demo-commission-2026"},
    {YQ_ROLE_OPERATOR, "operator", "demo-operator-2026"},
    {YQ_ROLE_PI, "pi", "demo-pi-2026-yiqi"},
    {YQ_ROLE_RESEARCHER, "researcher", "demo-researcher-2026"},
};

static int hash_passwords(world_t *w) {
    for (int i = 0; i < 5; i++) {
        const char *why = yq_password_policy(role_password[i].password);
        if (why || yq_password_hash(role_password[i].password, w->hash[i])) {
            fprintf(stderr, "yiqi demo: demo password for %s: %s\n", role_password[i].name, why ? why : "hash failed");
            return -1;
        }
    }
    return 0;
}

static const char *pick(world_t *w, const char *const *list, size_t n) {
    return list[yq_rng_between(w->rng, 0, (int64_t)n - 1)];
}
#define PICK(w, arr) pick(w, arr, sizeof arr / sizeof arr[0])

/* A Chinese name from demo_people.tsv (surname + given name columns, drawn
 * independently), written into out. */
static void person_name(world_t *w, char *out, size_t size) {
    const tsv_t *t = &w->people;
    size_t a = (size_t)yq_rng_between(w->rng, 0, (int64_t)t->nrows - 1);
    size_t b = (size_t)yq_rng_between(w->rng, 0, (int64_t)t->nrows - 1);
    const char *surname = tsv_get(t, a, "surname"), *given = tsv_get(t, b, "given_name");
    if (!*surname)
        surname = "王";
    if (!*given)
        given = "明";
    snprintf(out, size, "%s%s", surname, given);
}

/* ---- institutions ---- */

static int64_t zone_id_of(world_t *w, const char *code) {
    sqlite3_stmt *st = yq_db_stmt(w->db, "SELECT id FROM zones WHERE code = ?1");
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int64_t id = yq_db_step(w->db, st) == 1 ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return id;
}

/* A credit code (GB 32100-2015) that passes the check: registration
 * authority and kind by institution kind, the district of the zone (Minhang
 * 310112, Pudong 310115), a random organisation code, the check character. */
static void credit_code(world_t *w, const char *kind, const char *zone, char out[19]) {
    static const char chars[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const char *head = !strcmp(kind, "enterprise") ? "91" : !strcmp(kind, "platform") ? "52" : "12";
    snprintf(out, 19, "%s%s", head, !strcmp(zone, "zhangjiang") ? "310115" : "310112");
    for (int i = 8; i < 17; i++)
        out[i] = chars[yq_rng_between(w->rng, 0, i < 16 ? 9 : 30)];
    /* GB 32100-2015: check = 31 - (sum of value * weight mod 31), 31 -> '0'. */
    static const int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (int)(strchr(chars, out[i]) - chars) * weights[i];
    out[17] = chars[(31 - sum % 31) % 31];
    out[18] = '\0';
}

static int kind_weight(const char *kind) {
    if (!strcmp(kind, "university"))
        return 9;
    if (!strcmp(kind, "institute"))
        return 7;
    if (!strcmp(kind, "platform"))
        return 6;
    if (!strcmp(kind, "hospital"))
        return 4;
    if (!strcmp(kind, "enterprise"))
        return 2;
    return 1;
}

static int add_orgs(world_t *w) {
    const tsv_t *t = &w->orgs_tsv;
    w->orgs = yq_arena_alloc(w->arena, t->nrows * sizeof *w->orgs);
    sqlite3_stmt *st = yq_db_stmt(w->db, "INSERT INTO orgs (code, name_zh, name_en, kind, zone_id, credit_code) "
                                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    for (size_t r = 0; r < t->nrows; r++) {
        org_t *o = &w->orgs[w->norgs];
        memset(o, 0, sizeof *o);
        o->code = tsv_get(t, r, "code");
        o->kind = tsv_get(t, r, "kind");
        o->name_zh = tsv_get(t, r, "name_zh");
        o->address = tsv_get(t, r, "address");
        const char *zone = tsv_get(t, r, "zone");
        o->zone_id = zone_id_of(w, zone);
        o->weight = kind_weight(o->kind);
        char cc[19];
        credit_code(w, o->kind, zone, cc);
        if (!o->zone_id || !*o->code) {
            fprintf(stderr, "yiqi demo: demo_orgs.tsv row %zu: unknown zone '%s' or no code\n", r + 1, zone);
            return -1;
        }
        sqlite3_bind_text(st, 1, o->code, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, o->name_zh, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, tsv_get(t, r, "name_en"), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, o->kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, o->zone_id);
        sqlite3_bind_text(st, 6, cc, -1, SQLITE_TRANSIENT);
        int rc = yq_db_step(w->db, st);
        sqlite3_reset(st);
        if (rc < 0) {
            fprintf(stderr, "yiqi demo: institution %s: %s\n", o->code, sqlite3_errmsg(yq_db_handle(w->db)));
            return rc;
        }
        o->id = yq_db_last_id(w->db);
        w->norgs++;
    }
    w->counts->orgs = (int)w->norgs;
    return 0;
}

/* ---- people ---- */

static int64_t add_user(world_t *w, const char *login, const char *name, int64_t org_id, int64_t group_id,
                        unsigned roles, int hash_index) {
    sqlite3_stmt *st = yq_db_stmt(w->db, "INSERT INTO users (login, name, email, phone, org_id, group_id, roles, "
                                         "password_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    char email[128], phone[32];
    snprintf(email, sizeof email, "%s@demo.yiqi.example", login);
    snprintf(phone, sizeof phone, "1%02d%08d", (int)yq_rng_between(w->rng, 30, 99),
             (int)yq_rng_between(w->rng, 0, 99999999));
    sqlite3_bind_text(st, 1, login, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, email, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, phone, -1, SQLITE_TRANSIENT);
    if (org_id)
        sqlite3_bind_int64(st, 5, org_id);
    if (group_id)
        sqlite3_bind_int64(st, 6, group_id);
    sqlite3_bind_int(st, 7, (int)roles);
    sqlite3_bind_text(st, 8, w->hash[hash_index], -1, SQLITE_STATIC);
    int rc = yq_db_step(w->db, st);
    sqlite3_reset(st);
    if (rc < 0) {
        fprintf(stderr, "yiqi demo: user %s: %s\n", login, sqlite3_errmsg(yq_db_handle(w->db)));
        return rc;
    }
    w->counts->users++;
    return yq_db_last_id(w->db);
}

static int groups_for(const char *kind) {
    if (!strcmp(kind, "university"))
        return 4;
    if (!strcmp(kind, "institute"))
        return 3;
    if (!strcmp(kind, "hospital"))
        return 2;
    return 1;
}

/* The two institutions whose logins are printed: the first of each zone. */
static int shown(world_t *w, size_t i) {
    for (size_t j = 0; j < i; j++)
        if (w->orgs[j].zone_id == w->orgs[i].zone_id)
            return 0;
    return 1;
}

/* Prints a login and remembers its user (yq_demo_counts_t.shown). */
static void print_login(world_t *w, int64_t uid, const char *login, int role_index, const char *inst) {
    if (w->counts->n_shown < YQ_DEMO_SHOWN_MAX)
        w->counts->shown[w->counts->n_shown++] = uid;
    fprintf(w->logins, "  %-22s %-22s %-11s %s\n", login, role_password[role_index].password,
            role_password[role_index].name, inst);
}

/* Operators, lab groups with their PIs, researchers. */
static int add_org_people(world_t *w, size_t i) {
    org_t *o = &w->orgs[i];
    char login[64], name[64];
    int operators = !strcmp(o->kind, "university") ? 2 : 1;
    for (int k = 1; k <= operators; k++) {
        if (k == 1)
            snprintf(login, sizeof login, "op.%s", o->code);
        else
            snprintf(login, sizeof login, "op%d.%s", k, o->code);
        person_name(w, name, sizeof name);
        int64_t uid = add_user(w, login, name, o->id, 0, YQ_ROLE_OPERATOR, 2);
        if (uid < 0)
            return (int)uid;
        if (k == 1) {
            o->first_operator = uid;
            snprintf(o->contact_name, sizeof o->contact_name, "%s", name);
            snprintf(o->contact_phone, sizeof o->contact_phone, "021-%d%07d", 5 + (int)(i % 4),
                     (int)yq_rng_between(w->rng, 0, 9999999));
            snprintf(o->contact_email, sizeof o->contact_email, "%s@demo.yiqi.example", login);
            if (shown(w, i))
                print_login(w, uid, login, 2, o->name_zh);
        }
    }
    sqlite3_stmt *gs = yq_db_stmt(w->db, "INSERT INTO lab_groups (org_id, name, pi_user_id, requires_pi_approval) "
                                         "VALUES (?1, ?2, ?3, ?4)");
    sqlite3_stmt *us = yq_db_stmt(w->db, "UPDATE users SET group_id = ?2 WHERE id = ?1");
    int ngroups = groups_for(o->kind);
    for (int g = 1; g <= ngroups; g++) {
        char pi_name[64], group_name[96];
        person_name(w, pi_name, sizeof pi_name);
        snprintf(login, sizeof login, "pi.%s.%d", o->code, g);
        int64_t pi = add_user(w, login, pi_name, o->id, 0, YQ_ROLE_PI | YQ_ROLE_RESEARCHER, 3);
        if (pi < 0)
            return (int)pi;
        snprintf(group_name, sizeof group_name, "%s课题组", pi_name);
        sqlite3_bind_int64(gs, 1, o->id);
        sqlite3_bind_text(gs, 2, group_name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(gs, 3, pi);
        sqlite3_bind_int(gs, 4, yq_rng_chance(w->rng, 30));
        int rc = yq_db_step(w->db, gs);
        sqlite3_reset(gs);
        if (rc == YQ_DB_CONSTRAINT) { /* two PIs of one name: number the group */
            snprintf(group_name, sizeof group_name, "%s课题组（%d）", pi_name, g);
            sqlite3_bind_int64(gs, 1, o->id);
            sqlite3_bind_text(gs, 2, group_name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(gs, 3, pi);
            sqlite3_bind_int(gs, 4, 0);
            rc = yq_db_step(w->db, gs);
            sqlite3_reset(gs);
        }
        if (rc < 0)
            return rc;
        int64_t gid = yq_db_last_id(w->db);
        w->counts->groups++;
        sqlite3_bind_int64(us, 1, pi);
        sqlite3_bind_int64(us, 2, gid);
        yq_db_step(w->db, us);
        sqlite3_reset(us);
        if (g == 1 && shown(w, i))
            print_login(w, pi, login, 3, o->name_zh);
        int members = (int)yq_rng_between(w->rng, 3, 6);
        for (int m = 1; m <= members; m++) {
            snprintf(login, sizeof login, "%s.%d.%d", o->code, g, m);
            person_name(w, name, sizeof name);
            int64_t uid = add_user(w, login, name, o->id, gid, YQ_ROLE_RESEARCHER, 4);
            if (uid < 0)
                return (int)uid;
            if (g == 1 && m == 1 && shown(w, i))
                print_login(w, uid, login, 4, o->name_zh);
        }
    }
    return 0;
}

static int add_people(world_t *w) {
    fprintf(w->logins, "Demo logins (login / password / role / institution):\n");
    int64_t admin = add_user(w, "admin", "系统管理员", 0, 0, YQ_ROLE_ADMIN, 0);
    int64_t commission = admin < 0 ? -1 : add_user(w, "commission", "科委 统计与结算", 0, 0, YQ_ROLE_COMMISSION, 1);
    if (commission < 0)
        return -1;
    print_login(w, admin, "admin", 0, "-");
    print_login(w, commission, "commission", 1, "-");
    for (size_t i = 0; i < w->norgs; i++) {
        int rc = add_org_people(w, i);
        if (rc)
            return rc;
    }
    fprintf(w->logins, "Every user of a role shares that role's password; other logins follow the same pattern\n"
                       "(op.CODE, pi.CODE.N, CODE.GROUP.N for each institution code).\n");
    return 0;
}

/* Vouchers for the enterprises marked voucher=1: last year and this year. */
static int add_vouchers(world_t *w) {
    int y, m, d;
    yq_local_date(yq_now(), &y, &m, &d);
    sqlite3_stmt *vs = yq_db_stmt(w->db, "INSERT INTO vouchers (org_id, year, amount_fen, rate_percent, balance_fen, "
                                         "created_at) VALUES (?1, ?2, ?3, 50, ?3, ?4)");
    sqlite3_stmt *es = yq_db_stmt(w->db, "INSERT INTO voucher_events (voucher_id, at, kind, delta_fen, balance_fen) "
                                         "VALUES (?1, ?2, 'issue', ?3, ?3)");
    for (size_t r = 0; r < w->orgs_tsv.nrows; r++) {
        const char *v = tsv_get(&w->orgs_tsv, r, "voucher");
        if (strcmp(v, "1") != 0 && strcmp(v, "yes") != 0)
            continue;
        for (int year = y - 1; year <= y; year++) {
            int64_t amount = yq_rng_between(w->rng, 10, 50) * 1000000; /* 100,000 - 500,000 yuan */
            int64_t at = yq_days_from_civil(year, 1, 5) * 86400 + 2 * 3600;
            sqlite3_bind_int64(vs, 1, w->orgs[r].id);
            sqlite3_bind_int(vs, 2, year);
            sqlite3_bind_int64(vs, 3, amount);
            sqlite3_bind_int64(vs, 4, at);
            int rc = yq_db_step(w->db, vs);
            sqlite3_reset(vs);
            if (rc < 0)
                return rc;
            sqlite3_bind_int64(es, 1, yq_db_last_id(w->db));
            sqlite3_bind_int64(es, 2, at);
            sqlite3_bind_int64(es, 3, amount);
            rc = yq_db_step(w->db, es);
            sqlite3_reset(es);
            if (rc < 0)
                return rc;
            w->counts->vouchers++;
        }
    }
    return 0;
}

/* ---- instruments ---- */

static const char *const departments_university[] = {
    "分析测试中心",           "材料科学与工程学院", "化学化工学院",       "生命科学技术学院",  "物理与天文学院",
    "电子信息与电气工程学院", "环境科学与工程学院", "医学院公共技术平台", "机械与动力工程学院"};
static const char *const departments_institute[] = {"公共技术服务中心", "结构生物学平台", "分子影像平台",
                                                    "材料表征平台", "化学分析平台"};
static const char *const departments_hospital[] = {"中心实验室", "检验科", "影像科", "病理科", "转化医学中心"};
static const char *const departments_enterprise[] = {"研发中心", "质量控制部", "检测中心", "工艺开发部"};
static const char *const sample_texts[] = {
    "固体样品需干燥、无磁性，尺寸不超过 10 mm × 10 mm × 5 mm；液体样品请提前沟通。",
    "样品需注明成分、危险性及保存条件；有毒、放射性样品不予受理。",
    "送样前请填写委托单，每批次样品不少于 3 个平行样。",
    "生物样品需按规定灭活并冷链运输，附样品信息表。",
};
static const char *const rule_texts[] = {
    "首次使用须参加培训并通过考核；请按预约时段上机，迟到 15 分钟视为爽约。",
    "使用前请登记，使用后清洁样品台并填写使用记录；发现异常立即联系管理员。",
    "仅限经授权的用户自主操作，其他用户请选择技术共享或委托送样。",
    "实验结束后请关闭软件并恢复仪器初始状态，贵重附件需当面交接。",
};

/* One span set of open hours, chosen by a weighted draw. */
static void open_hours(world_t *w, yq_instrument_t *in) {
    int r = (int)yq_rng_between(w->rng, 0, 99);
    in->n_open_hours = 0;
    if (r < 55) { /* Mon-Fri 09:00-18:00 (the default) */
        for (int d = 1; d <= 5; d++)
            in->open_hours[in->n_open_hours++] = (yq_open_span_t){d, 540, 1080};
    } else if (r < 72) { /* with a lunch break */
        for (int d = 1; d <= 5; d++) {
            in->open_hours[in->n_open_hours++] = (yq_open_span_t){d, 510, 690};
            in->open_hours[in->n_open_hours++] = (yq_open_span_t){d, 780, 1050};
        }
    } else if (r < 92) { /* long days, Saturdays too */
        for (int d = 1; d <= 6; d++)
            in->open_hours[in->n_open_hours++] = (yq_open_span_t){d, 480, d == 6 ? 720 : 1320};
    } else { /* around the clock */
        for (int d = 1; d <= 7; d++)
            in->open_hours[in->n_open_hours++] = (yq_open_span_t){d, 0, 1440};
    }
}

/* Log-uniform value between lo and hi yuan (real inventories hold many
 * modest instruments and few very dear ones), rounded to 100 yuan, in fen. */
static int64_t value_fen(world_t *w, int64_t lo, int64_t hi) {
    double u = (double)(yq_rng_next(w->rng) >> 11) / 9007199254740992.0;
    double v = (double)lo * exp(u * log((double)hi / (double)lo));
    return (int64_t)(v / 100) * 100 * 100;
}

/* Hourly zone rate from the value: about 1/20,000 of it per hour, rounded to
 * 10 yuan, at least 50 yuan. */
static int64_t rate_from_value(world_t *w, int64_t value_fen_) {
    int64_t yuan = value_fen_ / 100 / 20000;
    yuan = yuan * (int64_t)yq_rng_between(w->rng, 70, 140) / 100;
    yuan = (yuan + 5) / 10 * 10;
    if (yuan < 50)
        yuan = 50;
    return yuan * 100;
}

static const char *const statuses[] = {"normal",         "standby",         "occasional_fault",
                                       "frequent_fault", "awaiting_repair", "awaiting_disposal"};

static int add_instrument(world_t *w, org_t *o, size_t tpl, int seq, int *retire) {
    const tsv_t *t = &w->instruments;
    yq_instrument_t in;
    yq_instrument_defaults(&in);
    in.owner_org_id = o->id;
    int year = (int)yq_rng_between(w->rng, 2010, 2025);
    in.asset_no = yq_arena_printf(w->arena, "%d-%05d", year, seq);
    in.name_zh = tsv_get(t, tpl, "name_zh");
    in.name_en = tsv_get(t, tpl, "name_en");
    in.model = tsv_get(t, tpl, "model");
    in.manufacturer = tsv_get(t, tpl, "manufacturer");
    in.country = tsv_get(t, tpl, "country");
    in.class_code = tsv_get(t, tpl, "class_code");
    in.functions = tsv_get(t, tpl, "functions");
    in.tech_specs = tsv_get(t, tpl, "tech_specs");
    in.service_content = tsv_get(t, tpl, "service_content");
    const char *k = o->kind;
    in.department = !strcmp(k, "university")   ? PICK(w, departments_university)
                    : !strcmp(k, "institute")  ? PICK(w, departments_institute)
                    : !strcmp(k, "hospital")   ? PICK(w, departments_hospital)
                    : !strcmp(k, "enterprise") ? PICK(w, departments_enterprise)
                                               : "公共服务平台";
    in.purchase_date = yq_arena_printf(w->arena, "%04d-%02d-%02d", year, (int)yq_rng_between(w->rng, 1, 12),
                                       (int)yq_rng_between(w->rng, 1, 28));
    in.address = o->address;
    in.room = yq_arena_printf(w->arena, "%c%d%02d", (char)('A' + yq_rng_between(w->rng, 0, 5)),
                              (int)yq_rng_between(w->rng, 1, 6), (int)yq_rng_between(w->rng, 1, 30));
    in.sample_requirements = PICK(w, sample_texts);
    in.open_rules = PICK(w, rule_texts);
    in.contact_name = o->contact_name;
    in.contact_phone = o->contact_phone;
    in.contact_email = o->contact_email;
    int64_t lo = atoll(tsv_get(t, tpl, "value_min_yuan")), hi = atoll(tsv_get(t, tpl, "value_max_yuan"));
    if (lo <= 0)
        lo = 200000;
    if (hi < lo)
        hi = lo * 8;
    in.original_value_fen = value_fen(w, lo, hi);
    in.category_type = yq_rng_chance(w->rng, 75) ? "general" : "specialised";
    int r = (int)yq_rng_between(w->rng, 0, 99);
    in.share_mode = r < 84 ? "external" : r < 95 ? "internal" : "none";
    r = (int)yq_rng_between(w->rng, 0, 99);
    in.run_status = statuses[r < 86 ? 0 : r < 91 ? 1 : r < 95 ? 2 : r < 96 ? 3 : r < 99 ? 4 : 5];
    *retire = yq_rng_chance(w->rng, 1);
    open_hours(w, &in);
    in.slot_minutes = yq_rng_chance(w->rng, 70) ? 30 : 60;
    in.min_minutes = in.slot_minutes;
    in.max_minutes = yq_rng_chance(w->rng, 80) ? 480 : 1440;
    in.notice_minutes = yq_rng_chance(w->rng, 70) ? 120 : 1440;
    in.horizon_days = yq_rng_chance(w->rng, 60) ? 60 : yq_rng_chance(w->rng, 50) ? 30 : 90;
    in.cancel_deadline_minutes = yq_rng_chance(w->rng, 75) ? 1440 : 720;
    int expensive = in.original_value_fen >= 200000000; /* 2 million yuan */
    in.requires_approval = expensive ? yq_rng_chance(w->rng, 70) : yq_rng_chance(w->rng, 15);
    in.requires_training = !strcmp(in.category_type, "specialised") || yq_rng_chance(w->rng, 40);
    const char *unit = tsv_get(t, tpl, "price_unit");
    int per_sample = !strcmp(unit, "sample") || (!*unit && yq_rng_chance(w->rng, 20));
    in.service_modes = per_sample ? YQ_SERVICE_SAMPLE | (yq_rng_chance(w->rng, 50) ? YQ_SERVICE_ASSISTED : 0)
                                  : YQ_SERVICE_SELF_OPERATED | (yq_rng_chance(w->rng, 60) ? YQ_SERVICE_ASSISTED : 0) |
                                        (yq_rng_chance(w->rng, 10) ? YQ_SERVICE_REMOTE : 0);
    in.price_unit = per_sample ? "sample" : "hour";
    in.zone_fen =
        per_sample ? rate_from_value(w, in.original_value_fen) / 2 : rate_from_value(w, in.original_value_fen);
    in.internal_fen = in.zone_fen * (int64_t)yq_rng_between(w->rng, 5, 8) / 10 / 100 * 100;
    in.cross_zone_fen = in.zone_fen; /* crossing zones does not cost more (DOMAIN.md Fees) */
    in.min_charge_fen = yq_rng_chance(w->rng, 40) ? in.internal_fen / 2 / 100 * 100 : 0;
    in.step_minutes = yq_rng_chance(w->rng, 70) ? 15 : 30;
    in.basis = yq_rng_chance(w->rng, 80) ? "used" : yq_rng_chance(w->rng, 50) ? "booked" : "greater";
    yq_field_error_t err;
    if (yq_instrument_check(&in, &err, 1)) {
        fprintf(stderr, "yiqi demo: demo_instruments.tsv row %zu (%s): %s\n", tpl + 1, in.name_zh, err.message);
        return -1;
    }
    int rc = yq_instr_insert(w->db, &in);
    if (rc == 0 && *retire)
        rc = yq_instr_retire(w->db, in.id, yq_now() - yq_rng_between(w->rng, 30, 700) * 86400);
    if (rc == 0)
        w->counts->instruments++;
    return rc;
}

/* ~1,500 instruments over the institutions by weight (universities most),
 * walking the templates in a shuffled order so every class is represented. */
static int add_instruments(world_t *w) {
    size_t n = w->instruments.nrows;
    if (!n) {
        fprintf(stderr, "yiqi demo: demo_instruments.tsv has no rows\n");
        return -1;
    }
    size_t *order = yq_arena_alloc(w->arena, n * sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)yq_rng_between(w->rng, 0, (int64_t)i), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    int total_weight = 0;
    for (size_t i = 0; i < w->norgs; i++)
        total_weight += w->orgs[i].weight;
    size_t next = 0;
    for (size_t i = 0; i < w->norgs; i++) {
        int count = INSTRUMENTS_TARGET * w->orgs[i].weight / total_weight;
        for (int k = 1; k <= count; k++) {
            int retire;
            int rc = add_instrument(w, &w->orgs[i], order[next++ % n], k, &retire);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int yq_demo_world(yq_db_t *db, yq_rng_t *rng, FILE *logins, yq_demo_counts_t *counts) {
    world_t w = {.db = db, .rng = rng, .logins = logins, .counts = counts, .arena = yq_arena_create()};
    int rc = -1;
    if (tsv_load("demo_orgs.tsv", &w.orgs_tsv) || tsv_load("demo_people.tsv", &w.people) ||
        tsv_load("demo_instruments.tsv", &w.instruments) || hash_passwords(&w))
        goto done;
    if ((rc = add_orgs(&w)) || (rc = add_people(&w)) || (rc = add_vouchers(&w)) || (rc = add_instruments(&w)))
        goto done;
done:
    tsv_free(&w.orgs_tsv);
    tsv_free(&w.people);
    tsv_free(&w.instruments);
    yq_arena_destroy(w.arena);
    return rc;
}
