/* The instrument record's validation (domain/instrument_rules.c): every field
 * named on error, defaults, open-hours and service-mode text forms, countries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/instrument_rules.h"

/* A complete, valid record. */
static void valid(yq_instrument_t *in) {
    yq_instrument_defaults(in);
    in->owner_org_id = 7;
    in->asset_no = "2021-0042";
    in->name_zh = "场发射扫描电子显微镜";
    in->name_en = "Field emission scanning electron microscope";
    in->model = "Sigma 300";
    in->manufacturer = "Carl Zeiss";
    in->country = "DE";
    in->class_code = "010102";
    in->original_value_fen = 450000000;
    in->purchase_date = "2021-06-30";
    in->contact_phone = "+86 21 5474-0000";
    in->contact_email = "sem@example.edu.cn";
    in->internal_fen = 20000;
    in->zone_fen = 30000;
    in->cross_zone_fen = 30000;
}

/* Checks the record and returns the field of the first error, or NULL. */
static const char *first_bad(const yq_instrument_t *in) {
    static yq_field_error_t errs[8];
    size_t n = yq_instrument_check(in, errs, 8);
    if (n)
        print_message("  %s: %s\n", errs[0].field, errs[0].message);
    return n ? errs[0].field : NULL;
}

static void test_valid_record_and_defaults(void **state) {
    (void)state;
    yq_instrument_t in;
    valid(&in);
    assert_null(first_bad(&in));
    /* DOMAIN.md defaults: Mon-Fri 09:00-18:00, 30-minute slots, 2 h notice, 60 days, 24 h, 15 min step. */
    assert_int_equal(in.n_open_hours, 5);
    assert_int_equal(in.open_hours[0].weekday, 1);
    assert_int_equal(in.open_hours[4].weekday, 5);
    assert_int_equal(in.open_hours[0].from, 9 * 60);
    assert_int_equal(in.open_hours[0].to, 18 * 60);
    assert_int_equal(in.slot_minutes, 30);
    assert_int_equal(in.notice_minutes, 120);
    assert_int_equal(in.horizon_days, 60);
    assert_int_equal(in.cancel_deadline_minutes, 1440);
    assert_int_equal(in.step_minutes, 15);
    assert_string_equal(in.basis, "used");
    assert_int_equal(in.service_modes, YQ_SERVICE_SELF_OPERATED);
}

static void test_each_field_is_named(void **state) {
    (void)state;
    yq_instrument_t in;
#define BAD(stmt, field)                                                                                               \
    do {                                                                                                               \
        valid(&in);                                                                                                    \
        stmt;                                                                                                          \
        const char *f = first_bad(&in);                                                                                \
        assert_non_null(f);                                                                                            \
        assert_string_equal(f, field);                                                                                 \
    } while (0)
    BAD(in.owner_org_id = 0, "owner_org_id");
    BAD(in.asset_no = "", "asset_no");
    BAD(in.name_zh = "", "name_zh");
    BAD(in.model = NULL, "model");
    BAD(in.asset_no = "0123456789012345678901234567890123456789012345678901234567890123456789", "asset_no");
    BAD(in.name_en = "line\nbreak", "name_en");
    BAD(in.country = "XX", "country");
    BAD(in.country = "de", "country");
    BAD(in.class_code = "0101", "class_code");
    BAD(in.class_code = "019999", "class_code");
    BAD(in.category_type = "common", "category_type");
    BAD(in.share_mode = "public", "share_mode");
    BAD(in.run_status = "broken", "run_status");
    BAD(in.original_value_fen = -1, "original_value_fen");
    BAD(in.purchase_date = "2021-02-29", "purchase_date");
    BAD(in.purchase_date = "2021/06/30", "purchase_date");
    BAD(in.contact_email = "nobody", "contact_email");
    BAD(in.contact_phone = "call me", "contact_phone");
    BAD(in.slot_minutes = 7, "rules.slot_minutes");
    BAD(in.min_minutes = 45, "rules.min_minutes");
    BAD(in.max_minutes = 15, "rules.max_minutes");
    BAD(in.notice_minutes = -5, "rules.notice_minutes");
    BAD(in.horizon_days = 0, "rules.horizon_days");
    BAD(in.cancel_deadline_minutes = 100000, "rules.cancel_deadline_minutes");
    BAD(in.service_modes = 0, "rules.service_modes");
    BAD(in.price_unit = "day", "price.unit");
    BAD(in.zone_fen = -1, "price.zone_fen");
    BAD(in.cross_zone_fen = YQ_RATE_MAX_FEN + 1, "price.cross_zone_fen");
    BAD(in.step_minutes = 0, "price.step_minutes");
    BAD(in.basis = "both", "price.basis");
    /* open hours: weekday 1..7, from < to <= 24:00, no overlap */
    BAD((in.open_hours[0].weekday = 8), "rules.open_hours");
    BAD((in.open_hours[0].to = in.open_hours[0].from), "rules.open_hours");
    BAD((in.open_hours[0].to = 1441), "rules.open_hours");
    BAD((in.open_hours[5] = (yq_open_span_t){1, 17 * 60, 20 * 60}, in.n_open_hours = 6), "rules.open_hours");
#undef BAD
}

static void test_every_error_reported(void **state) {
    (void)state;
    yq_instrument_t in;
    valid(&in);
    in.name_zh = "";
    in.country = "ZZ";
    in.zone_fen = -3;
    yq_field_error_t errs[8];
    assert_int_equal(yq_instrument_check(&in, errs, 8), 3);
    assert_string_equal(errs[0].field, "name_zh");
    assert_string_equal(errs[1].field, "country");
    assert_string_equal(errs[2].field, "price.zone_fen");
    /* More errors than room: the count is still right. */
    assert_int_equal(yq_instrument_check(&in, errs, 1), 3);
}

static void test_edges_accepted(void **state) {
    (void)state;
    yq_instrument_t in;
    valid(&in);
    /* 24:00 closes a day; Sunday is 7; adjacent spans do not overlap. */
    in.open_hours[0] = (yq_open_span_t){7, 0, 1440};
    in.open_hours[1] = (yq_open_span_t){1, 9 * 60, 12 * 60};
    in.open_hours[2] = (yq_open_span_t){1, 12 * 60, 18 * 60};
    in.n_open_hours = 3;
    in.country = "";
    in.purchase_date = "2024-02-29";
    in.contact_email = "";
    in.contact_phone = "";
    in.name_zh = "名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名名";
    in.service_modes = YQ_SERVICE_SAMPLE | YQ_SERVICE_REMOTE;
    in.price_unit = "sample";
    in.n_open_hours = 3;
    assert_null(first_bad(&in));
    in.n_open_hours = 0; /* an instrument may have no open hours (by arrangement) */
    assert_null(first_bad(&in));
}

static void test_hhmm(void **state) {
    (void)state;
    assert_int_equal(yq_hhmm_parse("00:00"), 0);
    assert_int_equal(yq_hhmm_parse("09:30"), 570);
    assert_int_equal(yq_hhmm_parse("24:00"), 1440);
    assert_int_equal(yq_hhmm_parse("24:01"), -1);
    assert_int_equal(yq_hhmm_parse("9:30"), -1);
    assert_int_equal(yq_hhmm_parse("09:60"), -1);
    assert_int_equal(yq_hhmm_parse(NULL), -1);
    char s[6];
    yq_hhmm_format(1440, s);
    assert_string_equal(s, "24:00");
    yq_hhmm_format(545, s);
    assert_string_equal(s, "09:05");
}

static void test_open_hours_text(void **state) {
    (void)state;
    yq_open_span_t sp[YQ_OPEN_SPANS_MAX];
    size_t n;
    char err[128], out[512];
    assert_int_equal(yq_open_hours_parse("1-5 09:00-12:00,13:00-18:00; 6 09:00-12:00", sp, &n, err, sizeof err), 0);
    assert_int_equal(n, 11);
    assert_int_equal(sp[0].weekday, 1);
    assert_int_equal(sp[1].from, 13 * 60);
    assert_int_equal(sp[10].weekday, 6);
    yq_open_hours_format(sp, n, out, sizeof out);
    assert_string_equal(out, "1-5 09:00-12:00,13:00-18:00; 6 09:00-12:00");
    /* Defaults round-trip; a lone day; 24:00. */
    yq_instrument_t in;
    yq_instrument_defaults(&in);
    yq_open_hours_format(in.open_hours, in.n_open_hours, out, sizeof out);
    assert_string_equal(out, "1-5 09:00-18:00");
    assert_int_equal(yq_open_hours_parse("7 00:00-24:00", sp, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(sp[0].to, 1440);
    yq_open_hours_format(sp, n, out, sizeof out);
    assert_string_equal(out, "7 00:00-24:00");
    assert_int_equal(yq_open_hours_parse("", sp, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    static const char *const bad[] = {"8 09:00-18:00",   "1-5 9:00-18:00", "1-5", "5-1 09:00-10:00", "1 09:00-25:00",
                                      "Mon 09:00-18:00", "1 09:00-18:00 x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (yq_open_hours_parse(bad[i], sp, &n, err, sizeof err) == 0)
            print_error("accepted: %s\n", bad[i]);
        assert_int_equal(yq_open_hours_parse(bad[i], sp, &n, err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
}

static void test_service_modes_text(void **state) {
    (void)state;
    unsigned m;
    assert_int_equal(yq_service_modes_parse("self_operated, sample", &m), 0);
    assert_int_equal(m, YQ_SERVICE_SELF_OPERATED | YQ_SERVICE_SAMPLE);
    char out[64];
    yq_service_modes_format(m, out, sizeof out);
    assert_string_equal(out, "self_operated,sample");
    assert_int_equal(yq_service_modes_parse("assisted;remote", &m), 0);
    assert_int_equal(m, YQ_SERVICE_ASSISTED | YQ_SERVICE_REMOTE);
    assert_int_equal(yq_service_modes_parse("teleport", &m), -1);
}

static void test_countries(void **state) {
    (void)state;
    int n = 0;
    char c[3] = "AA";
    for (c[0] = 'A'; c[0] <= 'Z'; c[0]++)
        for (c[1] = 'A'; c[1] <= 'Z'; c[1]++)
            n += yq_country_valid(c);
    assert_int_equal(n, 249); /* ISO 3166-1 alpha-2 assigned codes */
    assert_true(yq_country_valid("CN"));
    assert_true(yq_country_valid("JP"));
    assert_false(yq_country_valid("EU"));
    assert_false(yq_country_valid("C"));
    assert_false(yq_country_valid(NULL));
}

static void test_bookable(void **state) {
    (void)state;
    assert_true(yq_instrument_bookable("external", "normal", 0));
    assert_true(yq_instrument_bookable("internal", "occasional_fault", 0));
    assert_false(yq_instrument_bookable("none", "normal", 0));
    assert_false(yq_instrument_bookable("external", "awaiting_repair", 0));
    assert_false(yq_instrument_bookable("external", "normal", 1));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_record_and_defaults),
        cmocka_unit_test(test_each_field_is_named),
        cmocka_unit_test(test_every_error_reported),
        cmocka_unit_test(test_edges_accepted),
        cmocka_unit_test(test_hhmm),
        cmocka_unit_test(test_open_hours_text),
        cmocka_unit_test(test_service_modes_text),
        cmocka_unit_test(test_countries),
        cmocka_unit_test(test_bookable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
