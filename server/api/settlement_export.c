/* Settlement statements as CSV and XLSX: see settlement_export.h. */
#include "api/settlement_export.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "core/alloc.h"
#include "core/timeutil.h"
#include "domain/csv.h"

void yq_settle_yuan(int64_t fen, char *out) {
    uint64_t a = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
    snprintf(out, 32, "%s%" PRIu64 ".%02" PRIu64, fen < 0 ? "-" : "", a / 100, a % 100);
}

/* Hours with two decimals from minutes, rounded half away from zero. */
static void hours_text(int64_t minutes, char *out) {
    uint64_t a = minutes < 0 ? (uint64_t)0 - (uint64_t)minutes : (uint64_t)minutes;
    uint64_t centi = (a * 100 + 30) / 60;
    snprintf(out, 32, "%s%" PRIu64 ".%02" PRIu64, minutes < 0 && centi ? "-" : "", centi / 100, centi % 100);
}

/* ---- one writer, two backends ------------------------------------------------ */

enum { S_TEXT, S_TITLE, S_SECTION, S_HEAD, S_TOTAL, S_MONEY, S_MONEY_TOTAL, S_HOURS, S_HOURS_TOTAL, S_INT_TOTAL, S_N };

typedef struct {
    const yq_statement_t *st;
    yq_csv_writer_t *csv; /* CSV backend when set */
    lxw_workbook *wb;     /* else XLSX */
    lxw_worksheet *ws;
    lxw_format *fmt[S_N];
    lxw_row_t row;
    lxw_col_t col;
} out_t;

static void cell(out_t *o, const char *s, int style) {
    if (o->csv)
        yq_csv_cell(o->csv, s);
    else
        worksheet_write_string(o->ws, o->row, o->col, s, o->fmt[style]);
    o->col++;
}

/* An empty cell; in a total row it carries the row's top border. */
static void skip(out_t *o, int total) {
    if (o->csv)
        yq_csv_cell(o->csv, "");
    else if (total)
        worksheet_write_blank(o->ws, o->row, o->col, o->fmt[S_TOTAL]);
    o->col++;
}

static void num(out_t *o, int64_t v, int total) {
    if (o->csv) {
        char b[32];
        snprintf(b, sizeof b, "%" PRId64, v);
        yq_csv_cell(o->csv, b);
    } else {
        worksheet_write_number(o->ws, o->row, o->col, (double)v, total ? o->fmt[S_INT_TOTAL] : NULL);
    }
    o->col++;
}

static void money(out_t *o, int64_t fen, int total) {
    if (o->csv) {
        char b[32];
        yq_settle_yuan(fen, b);
        yq_csv_cell(o->csv, b);
    } else {
        worksheet_write_number(o->ws, o->row, o->col, (double)fen / 100.0, o->fmt[total ? S_MONEY_TOTAL : S_MONEY]);
    }
    o->col++;
}

static void hours(out_t *o, int64_t minutes, int total) {
    if (o->csv) {
        char b[32];
        hours_text(minutes, b);
        yq_csv_cell(o->csv, b);
    } else {
        worksheet_write_number(o->ws, o->row, o->col, (double)minutes / 60.0, o->fmt[total ? S_HOURS_TOTAL : S_HOURS]);
    }
    o->col++;
}

static void end_row(out_t *o) {
    if (o->csv)
        yq_csv_end_row(o->csv);
    o->row++;
    o->col = 0;
}

static void blank(out_t *o) {
    end_row(o);
}

static void row_of(out_t *o, int style, const char *const *cells) {
    for (; *cells; cells++)
        cell(o, *cells, style);
    end_row(o);
}

/* ---- names ------------------------------------------------------------------- */

static const char *zone_code(const yq_statement_t *st, int64_t id) {
    const yq_st_zone_t *z = yq_statement_zone(st, id);
    return z ? z->code : "?";
}

static const char *state_label(const char *state) {
    return state[0] == 'c' ? "已确认 confirmed" : state[0] == 'd' ? "有异议 disputed" : "待确认 open";
}

/* ---- tables ------------------------------------------------------------------- */

static void head(out_t *o) {
    const yq_statement_t *st = o->st;
    char t[YQ_TIME_STRLEN], b[512];
    cell(o, "科研仪器共享 月度结算单 Monthly settlement statement", S_TITLE);
    end_row(o);
    cell(o, "结算期 Period", S_HEAD), cell(o, st->period, S_TEXT), end_row(o);
    cell(o, "状态 Status", S_HEAD), cell(o, st->closed ? "已关闭 closed" : "草稿 draft", S_TEXT), end_row(o);
    yq_time_format(st->built_at, t);
    cell(o, "生成时间 Built at", S_HEAD), cell(o, t, S_TEXT), end_row(o);
    cell(o, "关闭时间 Closed at", S_HEAD);
    if (st->closed)
        yq_time_format(st->closed_at, t);
    cell(o, st->closed ? t : "", S_TEXT), end_row(o);
    cell(o, "范围 Scope", S_HEAD);
    if (st->org_scope) {
        const yq_st_org_t *org = yq_statement_org(st, st->org_scope);
        snprintf(b, sizeof b, "本单位 Own institution: %s %s", org ? org->code : "", org ? org->name_zh : "");
        cell(o, b, S_TEXT);
    } else {
        cell(o, "全部单位 All institutions", S_TEXT);
    }
    end_row(o);
    cell(o, "使用记录数 Usage records", S_HEAD), num(o, st->records, 0), end_row(o);
    for (size_t i = 0; i < st->n_zones; i++) {
        cell(o, "片区 Zone", S_HEAD), cell(o, st->zones[i].code, S_TEXT), cell(o, st->zones[i].name_zh, S_TEXT);
        cell(o, st->zones[i].name_en, S_TEXT), end_row(o);
    }
}

static const char *const money_heads[] = {"使用次数 Uses",
                                          "机时（分钟） Minutes",
                                          "机时（小时） Hours",
                                          "费用（元） Fee (CNY)",
                                          "创新券（元） Voucher (CNY)",
                                          "现金（元） Cash (CNY)",
                                          NULL};

static void sums(out_t *o, int64_t uses, int64_t minutes, int64_t fee, int64_t voucher, int64_t cash, int total) {
    num(o, uses, total), num(o, minutes, total), hours(o, minutes, total);
    money(o, fee, total), money(o, voucher, total), money(o, cash, total);
}

static void totals(out_t *o) {
    const yq_statement_t *st = o->st;
    cell(o, "合计 Totals", S_SECTION), end_row(o);
    row_of(o, S_HEAD, money_heads);
    sums(o, st->uses, st->minutes, st->fee_fen, st->voucher_fen, st->cash_fen, 0);
    end_row(o);
}

/* The lines of zone pair {a, b} (a = 0: every line), with a total row. */
static void lines(out_t *o, int64_t a, int64_t b) {
    static const char *const heads[] = {"编号 Line",
                                        "提供方代码 Provider code",
                                        "提供方单位 Provider",
                                        "提供方片区 Provider zone",
                                        "付款方代码 Payer code",
                                        "付款方单位 Payer",
                                        "付款方片区 Payer zone",
                                        NULL};
    const yq_statement_t *st = o->st;
    cell(o, a ? "本片区对结算明细 Lines of this zone pair" : "结算明细 Lines", S_SECTION), end_row(o);
    for (const char *const *h = heads; *h; h++)
        cell(o, *h, S_HEAD);
    for (const char *const *h = money_heads; *h; h++)
        cell(o, *h, S_HEAD);
    cell(o, "状态 State", S_HEAD), cell(o, "原因 Reason", S_HEAD), end_row(o);
    int64_t uses = 0, minutes = 0, fee = 0, voucher = 0, cash = 0;
    for (size_t i = 0; i < st->n_lines; i++) {
        const yq_st_line_t *l = &st->lines[i];
        int64_t lo = l->payer_zone_id < l->provider_zone_id ? l->payer_zone_id : l->provider_zone_id;
        int64_t hi = l->payer_zone_id < l->provider_zone_id ? l->provider_zone_id : l->payer_zone_id;
        if (a && (lo != a || hi != b))
            continue;
        const yq_st_org_t *p = yq_statement_org(st, l->provider_org_id), *y = yq_statement_org(st, l->payer_org_id);
        num(o, l->id, 0);
        cell(o, p ? p->code : "", S_TEXT), cell(o, p ? p->name_zh : "", S_TEXT);
        cell(o, zone_code(st, l->provider_zone_id), S_TEXT);
        cell(o, y ? y->code : "", S_TEXT), cell(o, y ? y->name_zh : "", S_TEXT);
        cell(o, zone_code(st, l->payer_zone_id), S_TEXT);
        sums(o, l->uses, l->minutes, l->fee_fen, l->voucher_fen, l->cash_fen, 0);
        cell(o, state_label(l->state), S_TEXT), cell(o, l->reason, S_TEXT);
        end_row(o);
        uses += l->uses, minutes += l->minutes, fee += l->fee_fen, voucher += l->voucher_fen, cash += l->cash_fen;
    }
    cell(o, a ? "小计 Subtotal" : "合计 Total", S_TOTAL);
    for (int k = 0; k < 6; k++)
        skip(o, 1);
    sums(o, uses, minutes, fee, voucher, cash, 1);
    end_row(o);
}

/* Zone flows (a = 0: all; else those between a and b) and zone nets. */
static void flows(out_t *o, int64_t a, int64_t b) {
    static const char *const fh[] = {"付款方片区 From zone (payer)", "提供方片区 To zone (provider)",
                                     "费用（元） Fee (CNY)", NULL};
    static const char *const nh[] = {"片区 A Zone A", "片区 B Zone B",
                                     "净额（元，正数为 A 付 B） Net (CNY, > 0: A pays B)", NULL};
    const yq_statement_t *st = o->st;
    cell(o, "片区间资金流向 Zone flows", S_SECTION), end_row(o);
    row_of(o, S_HEAD, fh);
    for (size_t i = 0; i < st->n_flows; i++) {
        const yq_settle_flow_t *f = &st->flows[i];
        if (a && !((f->from_zone_id == a && f->to_zone_id == b) || (f->from_zone_id == b && f->to_zone_id == a)))
            continue;
        cell(o, zone_code(st, f->from_zone_id), S_TEXT), cell(o, zone_code(st, f->to_zone_id), S_TEXT);
        money(o, f->fee_fen, 0), end_row(o);
    }
    if (a && a == b)
        return;
    blank(o);
    cell(o, "片区净额 Zone net", S_SECTION), end_row(o);
    row_of(o, S_HEAD, nh);
    for (size_t i = 0; i < st->n_zone_net; i++) {
        const yq_settle_zone_net_t *z = &st->zone_net[i];
        if (a && (z->zone_a_id != a || z->zone_b_id != b))
            continue;
        cell(o, zone_code(st, z->zone_a_id), S_TEXT), cell(o, zone_code(st, z->zone_b_id), S_TEXT);
        money(o, z->net_fen, 0), end_row(o);
    }
}

static void net_positions(out_t *o) {
    static const char *const heads[] = {"单位代码 Code",
                                        "单位 Institution",
                                        "Institution (English)",
                                        "片区 Zone",
                                        "应收（元，作为提供方的费用） Receivable (CNY, fees as provider)",
                                        "应付（元，作为付款方的现金） Payable (CNY, cash as payer)",
                                        "净额（元） Net (CNY)",
                                        "方向 Direction",
                                        NULL};
    const yq_statement_t *st = o->st;
    cell(o, "单位净额（多边轧差） Net positions (multilateral netting)", S_SECTION), end_row(o);
    row_of(o, S_HEAD, heads);
    int64_t rec = 0, pay = 0, net = 0;
    for (size_t i = 0; i < st->n_net; i++) {
        const yq_st_net_t *n = &st->net[i];
        const yq_st_org_t *org = yq_statement_org(st, n->org_id);
        cell(o, org ? org->code : "", S_TEXT), cell(o, org ? org->name_zh : "", S_TEXT);
        cell(o, org ? org->name_en : "", S_TEXT), cell(o, org ? zone_code(st, org->zone_id) : "", S_TEXT);
        money(o, n->receivable_fen, 0), money(o, n->payable_fen, 0), money(o, n->net_fen, 0);
        cell(o, n->net_fen > 0 ? "应收 receives" : n->net_fen < 0 ? "应付 pays" : "持平 even", S_TEXT);
        end_row(o);
        rec += n->receivable_fen, pay += n->payable_fen, net += n->net_fen;
    }
    if (!st->org_scope) {
        cell(o, "创新券资金 Voucher fund", S_TEXT), cell(o, "创新券资金", S_TEXT), cell(o, "Voucher fund", S_TEXT);
        skip(o, 0), skip(o, 0), skip(o, 0), money(o, st->voucher_fund_net_fen, 0);
        cell(o, st->voucher_fund_net_fen < 0 ? "应付 pays" : "持平 even", S_TEXT);
        end_row(o);
        net += st->voucher_fund_net_fen;
        cell(o, "合计 Total", S_TOTAL);
        for (int k = 0; k < 3; k++)
            skip(o, 1);
        money(o, rec, 1), money(o, pay, 1), money(o, net, 1);
        end_row(o);
    }
}

static void checkpoint(out_t *o) {
    cell(o, "账本检查点 Ledger checkpoint", S_HEAD), cell(o, "记录数 Records", S_HEAD);
    num(o, o->st->checkpoint_count, 0);
    cell(o, "末条哈希 Head hash", S_HEAD), cell(o, o->st->checkpoint_hash, S_TEXT);
    end_row(o);
}

/* ---- CSV ------------------------------------------------------------------------- */

char *yq_settle_export_csv(const yq_statement_t *st, size_t *len) {
    out_t o = {.st = st, .csv = yq_csv_writer_new()};
    head(&o), blank(&o);
    totals(&o), blank(&o);
    lines(&o, 0, 0), blank(&o);
    if (!st->org_scope)
        flows(&o, 0, 0), blank(&o);
    net_positions(&o), blank(&o);
    checkpoint(&o);
    size_t n;
    const char *data = yq_csv_writer_data(o.csv, &n);
    char *copy = yq_xmalloc(n + 1);
    memcpy(copy, data, n + 1);
    yq_csv_writer_free(o.csv);
    *len = n;
    return copy;
}

/* ---- XLSX ------------------------------------------------------------------------ */

static void formats(out_t *o) {
    for (int i = 0; i < S_N; i++)
        o->fmt[i] = workbook_add_format(o->wb);
    format_set_bold(o->fmt[S_TITLE]);
    format_set_font_size(o->fmt[S_TITLE], 14);
    format_set_bold(o->fmt[S_SECTION]);
    format_set_font_size(o->fmt[S_SECTION], 12);
    format_set_bold(o->fmt[S_HEAD]);
    format_set_bg_color(o->fmt[S_HEAD], 0xE8EEF4);
    format_set_text_wrap(o->fmt[S_HEAD]);
    format_set_border(o->fmt[S_HEAD], LXW_BORDER_THIN);
    format_set_bold(o->fmt[S_TOTAL]);
    format_set_top(o->fmt[S_TOTAL], LXW_BORDER_THIN);
    format_set_num_format(o->fmt[S_MONEY], "#,##0.00");
    format_set_num_format(o->fmt[S_MONEY_TOTAL], "#,##0.00");
    format_set_bold(o->fmt[S_MONEY_TOTAL]);
    format_set_top(o->fmt[S_MONEY_TOTAL], LXW_BORDER_THIN);
    format_set_num_format(o->fmt[S_HOURS], "0.00");
    format_set_num_format(o->fmt[S_HOURS_TOTAL], "0.00");
    format_set_bold(o->fmt[S_HOURS_TOTAL]);
    format_set_top(o->fmt[S_HOURS_TOTAL], LXW_BORDER_THIN);
    format_set_bold(o->fmt[S_INT_TOTAL]);
    format_set_top(o->fmt[S_INT_TOTAL], LXW_BORDER_THIN);
}

/* Starts a sheet: the checkpoint as its printed footer, landscape, widths. */
static int sheet(out_t *o, const char *name, const char *fallback) {
    o->ws = workbook_add_worksheet(o->wb, name);
    if (!o->ws)
        o->ws = workbook_add_worksheet(o->wb, fallback);
    if (!o->ws)
        return -1;
    o->row = 0, o->col = 0;
    char footer[240];
    snprintf(footer, sizeof footer, "&L账本检查点 Ledger checkpoint: %" PRId64 " records, head %s&R&P / &N",
             o->st->checkpoint_count, o->st->checkpoint_hash);
    worksheet_set_footer(o->ws, footer);
    worksheet_set_landscape(o->ws);
    worksheet_set_column(o->ws, 0, 0, 24, NULL);
    worksheet_set_column(o->ws, 1, 14, 16, NULL);
    return 0;
}

typedef struct {
    int64_t a, b;
} pair_t;

static int by_pair(const void *x, const void *y) {
    const pair_t *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

/* The unordered zone pairs that have lines, sorted, without repeats. */
static size_t zone_pairs(const yq_statement_t *st, pair_t **out) {
    pair_t *p = yq_xmalloc((st->n_lines ? st->n_lines : 1) * sizeof *p);
    for (size_t i = 0; i < st->n_lines; i++) {
        int64_t x = st->lines[i].payer_zone_id, y = st->lines[i].provider_zone_id;
        p[i] = (pair_t){x < y ? x : y, x < y ? y : x};
    }
    qsort(p, st->n_lines, sizeof *p, by_pair);
    size_t m = 0;
    for (size_t i = 0; i < st->n_lines; i++)
        if (!m || by_pair(&p[m - 1], &p[i]))
            p[m++] = p[i];
    *out = p;
    return m;
}

static int write_book(out_t *o) {
    const yq_statement_t *st = o->st;
    if (sheet(o, "汇总 Summary", "Summary"))
        return -1;
    head(o), blank(o), totals(o), blank(o);
    if (!st->org_scope)
        flows(o, 0, 0), blank(o);
    lines(o, 0, 0), blank(o), checkpoint(o);
    worksheet_freeze_panes(o->ws, 1, 0);

    pair_t *pairs;
    size_t n = zone_pairs(st, &pairs);
    for (size_t i = 0; i < n; i++) {
        char name[32], fallback[32], title[400];
        snprintf(name, sizeof name, "%.15s-%.15s", zone_code(st, pairs[i].a), zone_code(st, pairs[i].b));
        snprintf(fallback, sizeof fallback, "pair %zu", i + 1);
        if (sheet(o, name, fallback)) {
            free(pairs);
            return -1;
        }
        const yq_st_zone_t *za = yq_statement_zone(st, pairs[i].a), *zb = yq_statement_zone(st, pairs[i].b);
        snprintf(title, sizeof title, "片区对 Zone pair %s: %s ⇄ %s (%s ⇄ %s)", st->period, za ? za->name_zh : "?",
                 zb ? zb->name_zh : "?", za ? za->name_en : "?", zb ? zb->name_en : "?");
        cell(o, title, S_TITLE), end_row(o), blank(o);
        if (!st->org_scope)
            flows(o, pairs[i].a, pairs[i].b), blank(o);
        lines(o, pairs[i].a, pairs[i].b), blank(o), checkpoint(o);
    }
    free(pairs);

    if (sheet(o, "净额 Net positions", "Net positions"))
        return -1;
    char title[200];
    snprintf(title, sizeof title, "单位净额 Net positions %s", st->period);
    cell(o, title, S_TITLE), end_row(o), blank(o);
    net_positions(o), blank(o), checkpoint(o);
    return 0;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = yq_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = yq_xrealloc(buf, cap *= 2);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

char *yq_settle_export_xlsx(const yq_statement_t *st, size_t *len, char *why, size_t why_size) {
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/yiqi-settlement-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(why, why_size, "cannot create a temporary file: %s", strerror(errno));
        return NULL;
    }
    close(fd);
    lxw_workbook_options opts = {.constant_memory = 0, .tmpdir = dir && *dir ? (char *)dir : "/tmp"};
    out_t o = {.st = st, .wb = workbook_new_opt(path, &opts)};
    char *data = NULL;
    if (!o.wb) {
        snprintf(why, why_size, "libxlsxwriter could not start a workbook");
    } else {
        char title[64];
        snprintf(title, sizeof title, "月度结算单 Settlement statement %s", st->period);
        lxw_doc_properties props = {.title = title, .author = "Yiqi", .company = "仪器共享 Yiqi"};
        workbook_set_properties(o.wb, &props);
        formats(&o);
        int rc = write_book(&o);
        lxw_error err = workbook_close(o.wb);
        if (rc)
            snprintf(why, why_size, "libxlsxwriter refused a worksheet");
        else if (err != LXW_NO_ERROR)
            snprintf(why, why_size, "libxlsxwriter: %s", lxw_strerror(err));
        else if (!(data = slurp(path, len)))
            snprintf(why, why_size, "cannot read the workbook back: %s", strerror(errno));
    }
    unlink(path);
    return data;
}
