/*
 * The annual report (年度报表) for the commission's yearly reporting to the
 * national platform: every instrument in service during the year (or used
 * in it), one row each, with the fields of the national instrument record
 * in the order of its reporting form (DOMAIN.md "The instrument record":
 * identity, classification, value, place, state), followed by the year's
 * figures: rated hours, effective hours (有效工作机时), external service
 * hours (对外服务机时), cross-zone hours, uses, income, utilisation and share
 * rate. Rows are ordered by institution code, then asset number. Operators
 * get their own institution's instruments; filters zone, org and class
 * narrow as everywhere in the stats API.
 *
 *   GET /api/v1/stats/annual-report?year=2026[&format=csv|xlsx&zone&org&class]
 *
 * CSV is UTF-8 with a BOM (Excel), hours with two decimals, money in yuan;
 * XLSX (libxlsxwriter) has the same columns as numbers with formats, a bold
 * frozen header row and a title row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "api/api.h"
#include "api/stats.h"
#include "core/alloc.h"
#include "domain/classes.h"
#include "domain/csv.h"

/* Column kinds: text, hours (from minutes), yuan (from fen), 万元 (from fen),
 * a share (percent), a count. */
enum { K_TEXT, K_HOURS, K_YUAN, K_WAN, K_PERCENT, K_COUNT };

typedef struct {
    const char *title;
    int kind;
} column_t;

static const column_t columns[] = {
    {"序号", K_COUNT},
    {"资产编号", K_TEXT},
    {"仪器名称", K_TEXT},
    {"英文名称", K_TEXT},
    {"规格型号", K_TEXT},
    {"生产制造商", K_TEXT},
    {"产地国别", K_TEXT},
    {"所属单位", K_TEXT},
    {"统一社会信用代码", K_TEXT},
    {"所属部门", K_TEXT},
    {"分类编码", K_TEXT},
    {"分类名称", K_TEXT},
    {"原值（万元）", K_WAN},
    {"购置日期", K_TEXT},
    {"仪器类别", K_TEXT},
    {"所在片区", K_TEXT},
    {"安放地址", K_TEXT},
    {"房间号", K_TEXT},
    {"运行状态", K_TEXT},
    {"共享模式", K_TEXT},
    {"额定机时（小时）", K_HOURS},
    {"年度有效工作机时（小时）", K_HOURS},
    {"其中对外服务机时（小时）", K_HOURS},
    {"其中跨片区服务机时（小时）", K_HOURS},
    {"服务次数", K_COUNT},
    {"服务收入（元）", K_YUAN},
    {"使用率", K_PERCENT},
    {"共享率", K_PERCENT},
};
#define NCOLS (sizeof columns / sizeof columns[0])

typedef struct {
    const char *text;
    double number; /* hours, yuan, 万元, share or count, per the column's kind */
} cell_t;

static const char *label(const char *value, const char *const (*map)[2]) {
    for (size_t i = 0; map[i][0]; i++)
        if (strcmp(value, map[i][0]) == 0)
            return map[i][1];
    return value;
}

static const char *const categories[][2] = {{"general", "通用"}, {"specialised", "专用"}, {NULL, NULL}};
static const char *const run_labels[][2] = {{"normal", "正常"},
                                            {"standby", "待机"},
                                            {"occasional_fault", "偶有故障"},
                                            {"frequent_fault", "故障频繁"},
                                            {"awaiting_repair", "待修"},
                                            {"awaiting_disposal", "待报废"},
                                            {NULL, NULL}};
static const char *const share_labels[][2] = {
    {"external", "对外开放共享"}, {"internal", "单位内部共享"}, {"none", "不共享"}, {NULL, NULL}};

/* The cells of one row. */
static void row_cells(const yq_stats_query_t *q, size_t idx, const yq_stats_fig_t *f, int64_t n, cell_t c[NCOLS]) {
    const yq_st_instrument_t *in = &q->cat.ins[idx];
    const yq_st_zone_t *z = yq_stats_zone(q, in->zone_id);
    const yq_class_t *cls = yq_class_find(in->class_code);
    const char *text[NCOLS] = {
        NULL,
        in->asset_no,
        in->name_zh,
        in->name_en,
        in->model,
        in->manufacturer,
        in->country,
        in->org_name_zh,
        in->org_credit_code,
        in->department,
        in->class_code,
        cls ? cls->name_zh : "",
        NULL,
        in->purchase_date,
        label(in->category_type, categories),
        z ? z->name_zh : in->zone_code,
        in->address,
        in->room,
        label(in->run_status, run_labels),
        label(in->share_mode, share_labels),
    };
    double num[NCOLS] = {0};
    num[0] = (double)n;
    num[12] = (double)in->value_fen / 1e6;
    num[20] = (double)f->rated / 60.0;
    num[21] = (double)f->s.minutes / 60.0;
    num[22] = (double)f->s.external_minutes / 60.0;
    num[23] = (double)f->s.cross_zone_minutes / 60.0;
    num[24] = (double)f->s.uses;
    num[25] = (double)f->s.fee_fen / 100.0;
    num[26] = yq_stats_utilisation(f->s.minutes, f->rated);
    num[27] = yq_stats_share_rate(f->s.external_minutes, f->s.minutes);
    for (size_t i = 0; i < NCOLS; i++)
        c[i] = (cell_t){text[i], num[i]};
}

/* Exact text of an amount in fen in units of 1/unit (100: yuan, 1000000:
 * 万元), two decimals, rounded half away from zero. */
static void fen_text(char *out, size_t size, int64_t fen, int64_t unit) {
    int64_t step = unit / 100, a = fen < 0 ? -fen : fen;
    int64_t cents = (a + step / 2) / step;
    snprintf(out, size, "%s%lld.%02lld", fen < 0 && cents ? "-" : "", (long long)(cents / 100),
             (long long)(cents % 100));
}

/* Hours from minutes with two decimals, exactly (minutes / 60 rounded half up). */
static void hours_text(char *out, size_t size, int64_t minutes) {
    int64_t a = minutes < 0 ? -minutes : minutes, h100 = (a * 100 + 30) / 60;
    snprintf(out, size, "%s%lld.%02lld", minutes < 0 && h100 ? "-" : "", (long long)(h100 / 100),
             (long long)(h100 % 100));
}

static void csv_row(yq_csv_writer_t *w, const yq_stats_query_t *q, size_t idx, const yq_stats_fig_t *f,
                    const cell_t *c) {
    const int64_t minutes[NCOLS] = {
        [20] = f->rated, [21] = f->s.minutes, [22] = f->s.external_minutes, [23] = f->s.cross_zone_minutes};
    for (size_t i = 0; i < NCOLS; i++) {
        char s[48];
        switch (columns[i].kind) {
        case K_TEXT:
            yq_csv_cell(w, c[i].text);
            continue;
        case K_HOURS:
            hours_text(s, sizeof s, minutes[i]);
            break;
        case K_YUAN:
            fen_text(s, sizeof s, f->s.fee_fen, 100);
            break;
        case K_WAN:
            fen_text(s, sizeof s, q->cat.ins[idx].value_fen, 1000000);
            break;
        case K_PERCENT:
            snprintf(s, sizeof s, "%.2f%%", c[i].number * 100);
            break;
        default:
            snprintf(s, sizeof s, "%lld", (long long)c[i].number);
            break;
        }
        yq_csv_cell(w, s);
    }
    yq_csv_end_row(w);
}

typedef struct {
    const yq_stats_query_t *q;
    size_t idx;
} sorted_t;

static int by_org_asset(const void *a, const void *b) {
    const yq_st_instrument_t *x = &((const sorted_t *)a)->q->cat.ins[((const sorted_t *)a)->idx];
    const yq_st_instrument_t *y = &((const sorted_t *)b)->q->cat.ins[((const sorted_t *)b)->idx];
    int c = strcmp(x->org_code, y->org_code);
    return c ? c : strcmp(x->asset_no, y->asset_no);
}

static void reply_csv(yq_stats_query_t *q, const yq_stats_fig_t *figs, const sorted_t *rows, size_t n, int year) {
    yq_csv_writer_t *w = yq_csv_writer_new();
    for (size_t i = 0; i < NCOLS; i++)
        yq_csv_cell(w, columns[i].title);
    yq_csv_end_row(w);
    for (size_t k = 0; k < n; k++) {
        cell_t c[NCOLS];
        row_cells(q, rows[k].idx, &figs[rows[k].idx], (int64_t)k + 1, c);
        csv_row(w, q, rows[k].idx, &figs[rows[k].idx], c);
    }
    size_t len;
    const char *text = yq_csv_writer_data(w, &len);
    char disposition[96];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"yiqi-annual-report-%d.csv\"", year);
    yq_reply_header(q->req, "Content-Disposition", disposition);
    yq_reply(q->req, 200, "text/csv; charset=utf-8", text, len);
    yq_csv_writer_free(w);
}

/* Writes the workbook to path; returns 0 or -1. */
static int write_xlsx(const char *path, const yq_stats_query_t *q, const yq_stats_fig_t *figs, const sorted_t *rows,
                      size_t n, int year) {
    lxw_workbook *wb = workbook_new(path);
    if (!wb)
        return -1;
    lxw_worksheet *ws = workbook_add_worksheet(wb, "年度报表");
    lxw_format *bold = workbook_add_format(wb), *hours = workbook_add_format(wb), *money = workbook_add_format(wb),
               *pct = workbook_add_format(wb);
    format_set_bold(bold);
    format_set_text_wrap(bold);
    format_set_num_format(hours, "0.00");
    format_set_num_format(money, "#,##0.00");
    format_set_num_format(pct, "0.00%");
    char title[128];
    snprintf(title, sizeof title, "%d 年度大型科研仪器运行使用情况统计表", year);
    worksheet_write_string(ws, 0, 0, title, bold);
    for (size_t i = 0; i < NCOLS; i++) {
        worksheet_write_string(ws, 1, (lxw_col_t)i, columns[i].title, bold);
        worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, columns[i].kind == K_TEXT ? 16 : 12, NULL);
    }
    worksheet_freeze_panes(ws, 2, 0);
    for (size_t k = 0; k < n; k++) {
        cell_t c[NCOLS];
        row_cells(q, rows[k].idx, &figs[rows[k].idx], (int64_t)k + 1, c);
        lxw_row_t r = (lxw_row_t)(k + 2);
        for (size_t i = 0; i < NCOLS; i++) {
            lxw_format *fmt = columns[i].kind == K_HOURS                              ? hours
                              : columns[i].kind == K_YUAN || columns[i].kind == K_WAN ? money
                              : columns[i].kind == K_PERCENT                          ? pct
                                                                                      : NULL;
            if (columns[i].kind == K_TEXT)
                worksheet_write_string(ws, r, (lxw_col_t)i, c[i].text ? c[i].text : "", NULL);
            else
                worksheet_write_number(ws, r, (lxw_col_t)i, c[i].number, fmt);
        }
    }
    return workbook_close(wb) == LXW_NO_ERROR ? 0 : -1;
}

/* Reads a whole file into a malloc'd buffer; returns it (free it) or NULL. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            data = yq_xmalloc((size_t)size + 1);
            if (fread(data, 1, (size_t)size, f) != (size_t)size) {
                free(data);
                data = NULL;
            }
            *len = (size_t)size;
        }
    }
    fclose(f);
    return data;
}

static void reply_xlsx(yq_stats_query_t *q, const yq_stats_fig_t *figs, const sorted_t *rows, size_t n, int year) {
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/yiqi-report-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        yq_api_internal(q->req);
        return;
    }
    close(fd);
    size_t len = 0;
    char *data = write_xlsx(path, q, figs, rows, n, year) == 0 ? slurp(path, &len) : NULL;
    unlink(path);
    if (!data) {
        yq_api_internal(q->req);
        return;
    }
    char disposition[96];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"yiqi-annual-report-%d.xlsx\"", year);
    yq_reply_header(q->req, "Content-Disposition", disposition);
    yq_reply(q->req, 200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", data, len);
    free(data);
}

/* GET /api/v1/stats/annual-report?year[&format=csv|xlsx&zone&org&class]:
 * 200 text/csv or XLSX; 400 (year missing or out of 2000..2100, format);
 * 401; 403. */
void yq_stats_annual_report(yq_req_t *req) {
    yq_stats_query_t q;
    int64_t year = 0;
    int has_year;
    if (yq_stats_open(req, &q, YQ_STATS_CSV | YQ_STATS_XLSX) ||
        yq_api_query_int(req, "year", 2000, 2100, &year, &has_year))
        return;
    if (!has_year) {
        yq_reply_error(req, 400, "invalid_query", "Query parameter 'year' is required (2000 to 2100).", "year");
        return;
    }
    q.f.from = yq_stats_month_start((int)year * 100 + 1);
    q.f.to = yq_stats_month_start((int)(year + 1) * 100 + 1);
    if (yq_stats_load(&q))
        return;
    yq_stats_fig_t *figs = yq_xmalloc((q.cat.n ? q.cat.n : 1) * sizeof *figs);
    sorted_t *rows = yq_xmalloc((q.cat.n ? q.cat.n : 1) * sizeof *rows);
    size_t n = 0;
    if (yq_stats_figures(&q, q.f.from, q.f.to, figs) < 0) {
        yq_api_internal(req);
    } else {
        for (size_t i = 0; i < q.cat.n; i++)
            if (figs[i].in_scope)
                rows[n++] = (sorted_t){&q, i};
        qsort(rows, n, sizeof *rows, by_org_asset);
        if (q.xlsx)
            reply_xlsx(&q, figs, rows, n, (int)year);
        else
            reply_csv(&q, figs, rows, n, (int)year);
    }
    free(rows);
    free(figs);
    yq_stats_close(&q);
}
