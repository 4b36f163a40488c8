/*
 * Storage of the catalogue (instruments table, migration 020's FTS index):
 * loading a record into the domain struct, inserting and updating it, the
 * public JSON shape of an instrument, who may see and edit one, and the
 * search with filters, facets and keyset cursors. Used by the catalogue API
 * files (instruments.c, instrument_csv.c) and by `yiqi demo`.
 *
 * Every function takes the connection explicitly so the CLI can use it too.
 */
#ifndef YQ_API_INSTRUMENT_STORE_H
#define YQ_API_INSTRUMENT_STORE_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "db/db.h"
#include "domain/instrument_rules.h"

/* The columns every query that shows instruments selects (i = instruments,
 * o = orgs, z = zones), and the joins they need. */
#define YQ_INSTR_COLS                                                                                                  \
    "i.id, i.owner_org_id, o.code, o.name_zh, o.name_en, z.code, z.name_zh, z.name_en, "                               \
    "i.asset_no, i.name_zh, i.name_en, i.model, i.manufacturer, i.country, i.department, i.class_code, "               \
    "i.category_type, i.share_mode, i.run_status, i.original_value_fen, i.purchase_date, i.address, i.room, "          \
    "i.tech_specs, i.functions, i.service_content, i.sample_requirements, i.open_rules, "                              \
    "i.contact_name, i.contact_phone, i.contact_email, "                                                               \
    "i.open_hours, i.slot_minutes, i.min_minutes, i.max_minutes, i.notice_minutes, i.horizon_days, "                   \
    "i.cancel_deadline_minutes, i.requires_approval, i.requires_training, i.service_modes, "                           \
    "i.price_unit, i.price_internal_fen, i.price_zone_fen, i.price_cross_zone_fen, i.min_charge_fen, "                 \
    "i.step_minutes, i.basis, i.retired_at, i.created_at, i.updated_at, o.zone_id"
#define YQ_INSTR_FROM " FROM instruments i JOIN orgs o ON o.id = i.owner_org_id JOIN zones z ON z.id = o.zone_id"
/* The public JSON object from a row that starts with YQ_INSTR_COLS; the
 * caller cJSON_Deletes it. */
cJSON *yq_instr_row_json(sqlite3_stmt *st);

/* Facts about a stored instrument beyond the record. */
typedef struct {
    int64_t retired_at; /* 0 when in service */
    int64_t zone_id;    /* the owner's zone */
} yq_instr_meta_t;

/* Loads instrument id into *in; strings are copied into the arena. meta may be
 * NULL. Returns 0, or -1 when there is no such instrument. */
int yq_instr_load(yq_db_t *db, int64_t id, yq_arena_t *a, yq_instrument_t *in, yq_instr_meta_t *meta);
/* Finds the id of (owner_org_id, asset_no), 0 when none. */
int64_t yq_instr_find(yq_db_t *db, int64_t owner_org_id, const char *asset_no);
/* Inserts a checked record; sets in->id. Returns 0, YQ_DB_CONSTRAINT when the
 * asset number is taken in that institution, or another negative code. */
int yq_instr_insert(yq_db_t *db, yq_instrument_t *in);
/* Writes every field of in (by in->id). Returns 0 or a negative code. */
int yq_instr_update(yq_db_t *db, const yq_instrument_t *in);
/* Sets retired_at (first retirement only). Returns 0 or a negative code. */
int yq_instr_retire(yq_db_t *db, int64_t id, int64_t at);
/* 1 when the two records hold the same values (ids aside). */
int yq_instr_equal(const yq_instrument_t *a, const yq_instrument_t *b);

/* The public JSON object of instrument id (with owner, zone, class names,
 * rules and price), or NULL when absent. The caller cJSON_Deletes it. */
cJSON *yq_instr_json(yq_db_t *db, int64_t id);

/* May p (NULL: anonymous) see the instrument? Anonymous: external and in
 * service. Signed in: any external one, every one of the own institution;
 * admins and the commission see all. */
int yq_instr_visible(const yq_principal_t *p, int64_t owner_org_id, const char *share_mode, int retired);
/* May p change the instrument: admin, or operator of the owner institution. */
int yq_instr_editable(const yq_principal_t *p, int64_t owner_org_id);

/* ---- search ---- */

typedef enum { YQ_SORT_RELEVANCE = 0, YQ_SORT_NAME = 1, YQ_SORT_VALUE = 2 } yq_instr_sort_t;

#define YQ_SEARCH_TERMS_MAX 4

typedef struct {
    const char *q;            /* NULL or "" for none */
    int64_t zone_id;          /* 0: any */
    const char *class_prefix; /* NULL: any; 2, 4 or 6 digits */
    int64_t org_id;           /* 0: any */
    int bookable;             /* 1: only bookable */
    const char *run_status;   /* NULL: any */
    int include_retired;      /* honoured for the caller's own institution (all for admins) */
    yq_instr_sort_t sort;
    int64_t limit;
    const char *cursor; /* NULL or "" for the first page */
    int facets;         /* also count by zone and top-level class */
    int ids_only;       /* give the matching ids in order (ids, nids) and read no row */
    /* who asks */
    int see_all;        /* admin or commission */
    int64_t viewer_org; /* 0: none */
} yq_search_t;

typedef struct {
    cJSON *items;      /* array of public instrument objects */
    char *next_cursor; /* NULL at the end; free() it */
    cJSON *facets;     /* {"zone": [...], "class": [...]} or NULL */
    int64_t total;     /* matches, when facets were asked for; else -1 */
    int64_t *ids;      /* with ids_only: the page's ids in order (free() it); items stays empty */
    size_t nids;
} yq_search_result_t;

/* The catalogue version (migration 021): renewed by every change to an
 * instrument or to an institution's zone, and (migration 076) to the
 * institution and zone codes and names an instrument shows, by any
 * connection. Sets *v and returns 0; returns -1 when the database has no
 * such table (then nothing may be cached) or on error. For in-memory copies
 * of catalogue rows and the kept exports. */
int yq_catalogue_version(yq_db_t *db, int64_t *v);

/* 1 when q (NULL for none) can be searched for: at most YQ_SEARCH_TERMS_MAX
 * words. yq_instr_search refuses the others with *bad = "q". */
int yq_instr_query_ok(const char *q);

/* Runs a search. Returns 0, or -1 with *bad naming the query parameter at
 * fault ("cursor", "q") when the input cannot be used. The caller owns the
 * result's members (cJSON_Delete, free). */
int yq_instr_search(yq_db_t *db, const yq_search_t *s, yq_search_result_t *out, const char **bad);

#endif
