/* Tests of settings.c: bounds, the /control query parser, /status JSON, host names. */
#include "../affectra_cam/settings.h"
#include "unit.h"

static void test_defaults_are_valid(void)
{
    cam_settings_t s;
    setting_id_t bad = SETTING_COUNT;
    settings_defaults(&s);
    CHECK_EQ_INT(s.framesize, 8);
    CHECK_EQ_INT(s.quality, 12);
    CHECK_EQ_INT(s.brightness, 0);
    CHECK_EQ_INT(s.vflip, 0);
    CHECK_EQ_INT(settings_validate(&s, &bad), SETTINGS_OK);
    CHECK_EQ_INT(bad, SETTING_COUNT);
}

static void test_names_and_lookup(void)
{
    int id;
    CHECK_EQ_STR(settings_name(SETTING_FRAMESIZE), "framesize");
    CHECK_EQ_STR(settings_name(SETTING_QUALITY), "quality");
    CHECK(settings_name(SETTING_COUNT) == NULL);
    for (id = 0; id < SETTING_COUNT; id++) {
        CHECK_EQ_INT(settings_lookup(settings_name((setting_id_t)id)), id);
    }
    CHECK_EQ_INT(settings_lookup("Quality"), SETTING_COUNT);
    CHECK_EQ_INT(settings_lookup(""), SETTING_COUNT);
    CHECK_EQ_INT(settings_lookup(NULL), SETTING_COUNT);
}

static void test_bounds(void)
{
    int lo = 99;
    int hi = 99;
    CHECK(settings_bounds(SETTING_FRAMESIZE, &lo, &hi));
    CHECK_EQ_INT(lo, 0);
    CHECK_EQ_INT(hi, 13);
    CHECK(settings_bounds(SETTING_QUALITY, &lo, &hi));
    CHECK_EQ_INT(lo, 4);
    CHECK_EQ_INT(hi, 63);
    CHECK(settings_bounds(SETTING_BRIGHTNESS, &lo, &hi));
    CHECK_EQ_INT(lo, -2);
    CHECK_EQ_INT(hi, 2);
    CHECK(!settings_bounds(SETTING_COUNT, &lo, &hi));
}

static void test_set_checks_bounds_and_leaves_value_on_error(void)
{
    cam_settings_t s;
    settings_defaults(&s);
    CHECK_EQ_INT(settings_set(&s, SETTING_QUALITY, 63), SETTINGS_OK);
    CHECK_EQ_INT(s.quality, 63);
    CHECK_EQ_INT(settings_set(&s, SETTING_QUALITY, 64), SETTINGS_ERR_OUT_OF_RANGE);
    CHECK_EQ_INT(settings_set(&s, SETTING_QUALITY, 3), SETTINGS_ERR_OUT_OF_RANGE);
    CHECK_EQ_INT(s.quality, 63);
    CHECK_EQ_INT(settings_set(&s, SETTING_FRAMESIZE, 13), SETTINGS_OK);
    CHECK_EQ_INT(settings_set(&s, SETTING_FRAMESIZE, 14), SETTINGS_ERR_OUT_OF_RANGE);
    CHECK_EQ_INT(settings_set(&s, SETTING_FRAMESIZE, -1), SETTINGS_ERR_OUT_OF_RANGE);
    CHECK_EQ_INT(s.framesize, 13);
    CHECK_EQ_INT(settings_get(&s, SETTING_FRAMESIZE), 13);
    CHECK_EQ_INT(settings_set(&s, SETTING_COUNT, 1), SETTINGS_ERR_UNKNOWN_VAR);
}

static void test_validate_names_first_bad_field(void)
{
    cam_settings_t s;
    setting_id_t bad = SETTING_COUNT;
    settings_defaults(&s);
    s.contrast = 3;
    s.vflip = 2;
    CHECK_EQ_INT(settings_validate(&s, &bad), SETTINGS_ERR_OUT_OF_RANGE);
    CHECK_EQ_INT(bad, SETTING_CONTRAST);
    CHECK_EQ_INT(settings_validate(&s, NULL), SETTINGS_ERR_OUT_OF_RANGE);
}

static void test_parse_good_queries(void)
{
    control_request_t r = settings_parse_control("var=framesize&val=10");
    CHECK_EQ_INT(r.err, SETTINGS_OK);
    CHECK_EQ_INT(r.id, SETTING_FRAMESIZE);
    CHECK_EQ_INT(r.value, 10);

    r = settings_parse_control("val=-2&var=brightness"); /* any order */
    CHECK_EQ_INT(r.err, SETTINGS_OK);
    CHECK_EQ_INT(r.id, SETTING_BRIGHTNESS);
    CHECK_EQ_INT(r.value, -2);

    r = settings_parse_control("_cb=1699999&var=quality&val=4&"); /* cache-buster, trailing & */
    CHECK_EQ_INT(r.err, SETTINGS_OK);
    CHECK_EQ_INT(r.id, SETTING_QUALITY);
    CHECK_EQ_INT(r.value, 4);

    r = settings_parse_control("var=%71uality&val=%36%33"); /* percent-escapes */
    CHECK_EQ_INT(r.err, SETTINGS_OK);
    CHECK_EQ_INT(r.id, SETTING_QUALITY);
    CHECK_EQ_INT(r.value, 63);

    r = settings_parse_control("var=vflip&&val=1");
    CHECK_EQ_INT(r.err, SETTINGS_OK);
    CHECK_EQ_INT(r.value, 1);

    r = settings_parse_control("var=quality&val=0004"); /* leading zeros are still a number */
    CHECK_EQ_INT(r.err, SETTINGS_OK);
    CHECK_EQ_INT(r.value, 4);
}

static void test_parse_rejects_bad_values(void)
{
    CHECK_EQ_INT(settings_parse_control("var=quality&val=").err, SETTINGS_ERR_BAD_VALUE);
    CHECK_EQ_INT(settings_parse_control("var=quality&val=ten").err, SETTINGS_ERR_BAD_VALUE);
    CHECK_EQ_INT(settings_parse_control("var=quality&val=10x").err, SETTINGS_ERR_BAD_VALUE);
    CHECK_EQ_INT(settings_parse_control("var=quality&val=+10").err, SETTINGS_ERR_BAD_VALUE);
    CHECK_EQ_INT(settings_parse_control("var=quality&val= 10").err, SETTINGS_ERR_BAD_VALUE);
    CHECK_EQ_INT(settings_parse_control("var=quality&val=1.5").err, SETTINGS_ERR_BAD_VALUE);
    CHECK_EQ_INT(settings_parse_control("var=quality&val=-").err, SETTINGS_ERR_BAD_VALUE);
    CHECK_EQ_INT(settings_parse_control("var=quality&val=--1").err, SETTINGS_ERR_BAD_VALUE);
    /* Ten digits would overflow a 32-bit int: refused, never wrapped into range. */
    CHECK_EQ_INT(settings_parse_control("var=quality&val=4294967306").err,
                 SETTINGS_ERR_BAD_VALUE);
    CHECK_EQ_INT(settings_parse_control("var=quality&val").err, SETTINGS_ERR_BAD_VALUE);
}

static void test_parse_rejects_out_of_range_with_details(void)
{
    char message[96];
    control_request_t r = settings_parse_control("var=quality&val=99");
    CHECK_EQ_INT(r.err, SETTINGS_ERR_OUT_OF_RANGE);
    CHECK_EQ_INT(r.id, SETTING_QUALITY);
    CHECK_EQ_INT(r.value, 99);
    settings_error_message(&r, message, sizeof(message));
    CHECK_EQ_STR(message, "quality must be between 4 and 63, got 99");

    r = settings_parse_control("var=framesize&val=14");
    CHECK_EQ_INT(r.err, SETTINGS_ERR_OUT_OF_RANGE);
    settings_error_message(&r, message, sizeof(message));
    CHECK_EQ_STR(message, "framesize must be between 0 and 13, got 14");

    r = settings_parse_control("var=hmirror&val=-1");
    CHECK_EQ_INT(r.err, SETTINGS_ERR_OUT_OF_RANGE);

    r = settings_parse_control("var=framesize&val=big");
    settings_error_message(&r, message, sizeof(message));
    CHECK_EQ_STR(message, "framesize: val is not a whole number");
}

static void test_parse_rejects_malformed_queries(void)
{
    static char long_query[SETTINGS_QUERY_MAX + 8];
    char message[64];
    control_request_t r;

    CHECK_EQ_INT(settings_parse_control(NULL).err, SETTINGS_ERR_EMPTY);
    CHECK_EQ_INT(settings_parse_control("").err, SETTINGS_ERR_EMPTY);
    CHECK_EQ_INT(settings_parse_control("val=3").err, SETTINGS_ERR_MISSING_VAR);
    CHECK_EQ_INT(settings_parse_control("var=&val=3").err, SETTINGS_ERR_MISSING_VAR);
    CHECK_EQ_INT(settings_parse_control("var=quality").err, SETTINGS_ERR_MISSING_VAL);
    CHECK_EQ_INT(settings_parse_control("var=xclk&val=20").err, SETTINGS_ERR_UNKNOWN_VAR);
    CHECK_EQ_INT(settings_parse_control("var=QUALITY&val=20").err, SETTINGS_ERR_UNKNOWN_VAR);
    CHECK_EQ_INT(settings_parse_control("var=quality&var=framesize&val=5").err,
                 SETTINGS_ERR_DUPLICATE);
    CHECK_EQ_INT(settings_parse_control("var=quality&val=5&val=6").err, SETTINGS_ERR_DUPLICATE);
    CHECK_EQ_INT(settings_parse_control("=5&var=quality&val=5").err, SETTINGS_ERR_MALFORMED);
    CHECK_EQ_INT(settings_parse_control("var=qual%zzity&val=5").err, SETTINGS_ERR_MALFORMED);
    CHECK_EQ_INT(settings_parse_control("var=quality&val=5%").err, SETTINGS_ERR_MALFORMED);
    CHECK_EQ_INT(settings_parse_control("var=quality&val=5%3").err, SETTINGS_ERR_MALFORMED);
    CHECK_EQ_INT(settings_parse_control("var=quality%00&val=5").err, SETTINGS_ERR_MALFORMED);
    CHECK_EQ_INT(settings_parse_control("var=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&val=1").err,
                 SETTINGS_ERR_TOO_LONG);

    memset(long_query, 'x', sizeof(long_query) - 1);
    long_query[sizeof(long_query) - 1] = '\0';
    memcpy(long_query, "var=quality&val=5&", 18);
    r = settings_parse_control(long_query);
    CHECK_EQ_INT(r.err, SETTINGS_ERR_TOO_LONG);
    settings_error_message(&r, message, sizeof(message));
    CHECK_EQ_STR(message, "query too long");
}

static void test_every_error_has_a_message(void)
{
    int err;
    for (err = SETTINGS_OK; err <= SETTINGS_ERR_OUT_OF_RANGE; err++) {
        const char *text = settings_strerror((settings_err_t)err);
        CHECK(text != NULL && strlen(text) > 0 && strcmp(text, "unknown error") != 0);
    }
}

static void test_error_message_truncates_safely(void)
{
    char small[8];
    control_request_t r = settings_parse_control("var=quality&val=99");
    size_t n = settings_error_message(&r, small, sizeof(small));
    CHECK_EQ_INT(n, 7);
    CHECK_EQ_STR(small, "quality");
}

static void test_framesize_dims(void)
{
    int w = 0;
    int h = 0;
    CHECK(settings_framesize_dims(8, &w, &h));
    CHECK_EQ_INT(w, 640);
    CHECK_EQ_INT(h, 480);
    CHECK(settings_framesize_dims(13, &w, &h));
    CHECK_EQ_INT(w, 1600);
    CHECK_EQ_INT(h, 1200);
    CHECK(settings_framesize_dims(5, &w, &h));
    CHECK_EQ_INT(w, 320);
    CHECK(!settings_framesize_dims(14, &w, &h));
    CHECK(!settings_framesize_dims(-1, &w, &h));
}

static void test_json(void)
{
    char buf[SETTINGS_JSON_MAX];
    cam_settings_t s;
    size_t n;
    const char *expected = "{\"framesize\":5,\"quality\":10,\"brightness\":-1,\"contrast\":0,"
                           "\"saturation\":2,\"hmirror\":1,\"vflip\":0,"
                           "\"width\":320,\"height\":240}";
    settings_defaults(&s);
    s.framesize = 5;
    s.quality = 10;
    s.brightness = -1;
    s.saturation = 2;
    s.hmirror = 1;
    n = settings_to_json(&s, buf, sizeof(buf));
    CHECK_EQ_STR(buf, expected);
    CHECK_EQ_INT(n, strlen(expected));
    CHECK_EQ_INT(settings_to_json(&s, buf, n), 0);
    CHECK_EQ_INT(settings_to_json(&s, buf, 30), 0);
    CHECK_EQ_INT(settings_to_json(&s, buf, n + 1), n);
}

static void test_hostname(void)
{
    static char too_long[SETTINGS_HOSTNAME_MAX + 2];
    CHECK(settings_hostname_valid("affectra-cam"));
    CHECK(settings_hostname_valid("Cam2"));
    CHECK(settings_hostname_valid("a"));
    CHECK(!settings_hostname_valid(""));
    CHECK(!settings_hostname_valid(NULL));
    CHECK(!settings_hostname_valid("-cam"));
    CHECK(!settings_hostname_valid("cam-"));
    CHECK(!settings_hostname_valid("cam.local"));
    CHECK(!settings_hostname_valid("cam_1"));
    CHECK(!settings_hostname_valid("caf\xc3\xa9"));
    memset(too_long, 'a', SETTINGS_HOSTNAME_MAX);
    CHECK(settings_hostname_valid(too_long));
    too_long[SETTINGS_HOSTNAME_MAX] = 'a';
    CHECK(!settings_hostname_valid(too_long));
}

void run_settings_tests(void)
{
    RUN(test_defaults_are_valid);
    RUN(test_names_and_lookup);
    RUN(test_bounds);
    RUN(test_set_checks_bounds_and_leaves_value_on_error);
    RUN(test_validate_names_first_bad_field);
    RUN(test_parse_good_queries);
    RUN(test_parse_rejects_bad_values);
    RUN(test_parse_rejects_out_of_range_with_details);
    RUN(test_parse_rejects_malformed_queries);
    RUN(test_every_error_has_a_message);
    RUN(test_error_message_truncates_safely);
    RUN(test_framesize_dims);
    RUN(test_json);
    RUN(test_hostname);
}
