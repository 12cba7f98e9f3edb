/* Camera settings, /control parsing and /status JSON; see settings.h. */
#include "settings.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    size_t offset; /* of the int field in cam_settings_t */
    int min_value;
    int max_value;
    int default_value;
} setting_spec_t;

/* Indexed by setting_id_t. */
static const setting_spec_t SPECS[SETTING_COUNT] = {
    {"framesize", offsetof(cam_settings_t, framesize), 0, 13, 8},
    {"quality", offsetof(cam_settings_t, quality), 4, 63, 12},
    {"brightness", offsetof(cam_settings_t, brightness), -2, 2, 0},
    {"contrast", offsetof(cam_settings_t, contrast), -2, 2, 0},
    {"saturation", offsetof(cam_settings_t, saturation), -2, 2, 0},
    {"hmirror", offsetof(cam_settings_t, hmirror), 0, 1, 0},
    {"vflip", offsetof(cam_settings_t, vflip), 0, 1, 0},
};

/* esp32-camera's resolution table for framesize_t 0..13. */
static const int FRAME_DIMS[14][2] = {
    {96, 96},   {160, 120}, {176, 144},  {240, 176},  {240, 240},  {320, 240},   {400, 296},
    {480, 320}, {640, 480}, {800, 600},  {1024, 768}, {1280, 720}, {1280, 1024}, {1600, 1200},
};

static int valid_id(setting_id_t id)
{
    return (int)id >= 0 && id < SETTING_COUNT;
}

static int *field(cam_settings_t *settings, setting_id_t id)
{
    return (int *)(void *)((char *)settings + SPECS[id].offset);
}

static const int *const_field(const cam_settings_t *settings, setting_id_t id)
{
    return (const int *)(const void *)((const char *)settings + SPECS[id].offset);
}

void settings_defaults(cam_settings_t *settings)
{
    int id;
    for (id = 0; id < SETTING_COUNT; id++) {
        *field(settings, (setting_id_t)id) = SPECS[id].default_value;
    }
}

const char *settings_name(setting_id_t id)
{
    return valid_id(id) ? SPECS[id].name : NULL;
}

setting_id_t settings_lookup(const char *name)
{
    int id;
    if (name == NULL) {
        return SETTING_COUNT;
    }
    for (id = 0; id < SETTING_COUNT; id++) {
        if (strcmp(SPECS[id].name, name) == 0) {
            return (setting_id_t)id;
        }
    }
    return SETTING_COUNT;
}

int settings_bounds(setting_id_t id, int *min_value, int *max_value)
{
    if (!valid_id(id)) {
        return 0;
    }
    if (min_value != NULL) {
        *min_value = SPECS[id].min_value;
    }
    if (max_value != NULL) {
        *max_value = SPECS[id].max_value;
    }
    return 1;
}

int settings_get(const cam_settings_t *settings, setting_id_t id)
{
    return valid_id(id) ? *const_field(settings, id) : 0;
}

static int in_bounds(setting_id_t id, int value)
{
    return valid_id(id) && value >= SPECS[id].min_value && value <= SPECS[id].max_value;
}

settings_err_t settings_set(cam_settings_t *settings, setting_id_t id, int value)
{
    if (!valid_id(id)) {
        return SETTINGS_ERR_UNKNOWN_VAR;
    }
    if (!in_bounds(id, value)) {
        return SETTINGS_ERR_OUT_OF_RANGE;
    }
    *field(settings, id) = value;
    return SETTINGS_OK;
}

settings_err_t settings_validate(const cam_settings_t *settings, setting_id_t *bad_id)
{
    int id;
    for (id = 0; id < SETTING_COUNT; id++) {
        if (!in_bounds((setting_id_t)id, *const_field(settings, (setting_id_t)id))) {
            if (bad_id != NULL) {
                *bad_id = (setting_id_t)id;
            }
            return SETTINGS_ERR_OUT_OF_RANGE;
        }
    }
    return SETTINGS_OK;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decodes src[0..len) ('+' and %XX) into out (cap bytes with the NUL). */
static settings_err_t url_decode(const char *src, size_t len, char *out, size_t cap)
{
    size_t i = 0;
    size_t n = 0;

    while (i < len) {
        char c = src[i];
        if (c == '%') {
            int hi;
            int lo;
            if (i + 2 >= len) {
                return SETTINGS_ERR_MALFORMED; /* "%" or "%4" at the end */
            }
            hi = hex_digit(src[i + 1]);
            lo = hex_digit(src[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) { /* not hex, or a NUL */
                return SETTINGS_ERR_MALFORMED;
            }
            c = (char)(hi * 16 + lo);
            i += 3;
        } else {
            if (c == '+') {
                c = ' ';
            }
            i += 1;
        }
        if (n + 1 >= cap) {
            return SETTINGS_ERR_TOO_LONG;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return SETTINGS_OK;
}

/* A plain decimal integer: optional '-', 1..9 digits, nothing else. */
static int parse_int(const char *text, int *value)
{
    const char *p = text;
    int negative = 0;
    long total = 0;
    int digits = 0;

    if (*p == '-') {
        negative = 1;
        p++;
    }
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || digits == 9) {
            return 0;
        }
        total = total * 10 + (*p - '0');
        digits++;
    }
    if (digits == 0) {
        return 0;
    }
    *value = (int)(negative ? -total : total);
    return 1;
}

typedef struct {
    char var[SETTINGS_TOKEN_MAX];
    char val[SETTINGS_TOKEN_MAX];
    int have_var;
    int have_val;
} control_pair_t;

/* Reads one "key=value" pair of the query into pair; unknown keys are ignored. */
static settings_err_t take_pair(const char *start, size_t len, control_pair_t *pair)
{
    char key[SETTINGS_TOKEN_MAX];
    const char *eq = memchr(start, '=', len);
    size_t key_len = eq != NULL ? (size_t)(eq - start) : len;
    const char *value = eq != NULL ? eq + 1 : start + len;
    size_t value_len = len - key_len - (eq != NULL ? 1 : 0);
    settings_err_t err;

    if (len == 0) {
        return SETTINGS_OK; /* "a=1&&b=2" or a trailing '&' */
    }
    if (key_len == 0) {
        return SETTINGS_ERR_MALFORMED;
    }
    err = url_decode(start, key_len, key, sizeof(key));
    if (err == SETTINGS_ERR_TOO_LONG) {
        return SETTINGS_OK; /* a long key cannot be var or val: ignore it */
    }
    if (err != SETTINGS_OK) {
        return err;
    }
    if (strcmp(key, "var") == 0) {
        if (pair->have_var) {
            return SETTINGS_ERR_DUPLICATE;
        }
        pair->have_var = 1;
        return url_decode(value, value_len, pair->var, sizeof(pair->var));
    }
    if (strcmp(key, "val") == 0) {
        if (pair->have_val) {
            return SETTINGS_ERR_DUPLICATE;
        }
        pair->have_val = 1;
        return url_decode(value, value_len, pair->val, sizeof(pair->val));
    }
    return SETTINGS_OK;
}

static control_request_t failed(settings_err_t err)
{
    control_request_t request;
    request.err = err;
    request.id = SETTING_COUNT;
    request.value = 0;
    return request;
}

control_request_t settings_parse_control(const char *query)
{
    control_pair_t pair;
    control_request_t request;
    size_t total;
    const char *p;

    if (query == NULL || *query == '\0') {
        return failed(SETTINGS_ERR_EMPTY);
    }
    total = strlen(query);
    if (total > SETTINGS_QUERY_MAX) {
        return failed(SETTINGS_ERR_TOO_LONG);
    }
    memset(&pair, 0, sizeof(pair));
    p = query;
    for (;;) {
        const char *amp = strchr(p, '&');
        size_t len = amp != NULL ? (size_t)(amp - p) : strlen(p);
        settings_err_t err = take_pair(p, len, &pair);
        if (err != SETTINGS_OK) {
            return failed(err);
        }
        if (amp == NULL) {
            break;
        }
        p = amp + 1;
    }
    if (!pair.have_var || pair.var[0] == '\0') {
        return failed(SETTINGS_ERR_MISSING_VAR);
    }
    if (!pair.have_val) {
        return failed(SETTINGS_ERR_MISSING_VAL);
    }
    request.id = settings_lookup(pair.var);
    if (request.id == SETTING_COUNT) {
        return failed(SETTINGS_ERR_UNKNOWN_VAR);
    }
    if (!parse_int(pair.val, &request.value)) {
        request.err = SETTINGS_ERR_BAD_VALUE;
        request.value = 0;
        return request;
    }
    request.err = in_bounds(request.id, request.value) ? SETTINGS_OK
                                                        : SETTINGS_ERR_OUT_OF_RANGE;
    return request;
}

const char *settings_strerror(settings_err_t err)
{
    switch (err) {
    case SETTINGS_OK:
        return "ok";
    case SETTINGS_ERR_EMPTY:
        return "no query: expected ?var=NAME&val=NUMBER";
    case SETTINGS_ERR_TOO_LONG:
        return "query too long";
    case SETTINGS_ERR_MALFORMED:
        return "malformed query";
    case SETTINGS_ERR_DUPLICATE:
        return "var or val given twice";
    case SETTINGS_ERR_MISSING_VAR:
        return "missing var";
    case SETTINGS_ERR_MISSING_VAL:
        return "missing val";
    case SETTINGS_ERR_UNKNOWN_VAR:
        return "unknown setting";
    case SETTINGS_ERR_BAD_VALUE:
        return "val is not a whole number";
    case SETTINGS_ERR_OUT_OF_RANGE:
        return "val out of range";
    }
    return "unknown error";
}

size_t settings_error_message(const control_request_t *request, char *buf, size_t cap)
{
    int written;

    if (buf == NULL || cap == 0) {
        return 0;
    }
    if (request->err == SETTINGS_ERR_OUT_OF_RANGE && valid_id(request->id)) {
        written = snprintf(buf, cap, "%s must be between %d and %d, got %d",
                           SPECS[request->id].name, SPECS[request->id].min_value,
                           SPECS[request->id].max_value, request->value);
    } else if (request->err == SETTINGS_ERR_BAD_VALUE && valid_id(request->id)) {
        written = snprintf(buf, cap, "%s: val is not a whole number",
                           SPECS[request->id].name);
    } else {
        written = snprintf(buf, cap, "%s", settings_strerror(request->err));
    }
    if (written < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)written < cap ? (size_t)written : cap - 1;
}

int settings_framesize_dims(int framesize, int *width, int *height)
{
    if (!in_bounds(SETTING_FRAMESIZE, framesize)) {
        return 0;
    }
    *width = FRAME_DIMS[framesize][0];
    *height = FRAME_DIMS[framesize][1];
    return 1;
}

size_t settings_to_json(const cam_settings_t *settings, char *buf, size_t cap)
{
    size_t used = 0;
    int id;
    int width = 0;
    int height = 0;
    int written;

    if (buf == NULL || cap == 0) {
        return 0;
    }
    for (id = 0; id < SETTING_COUNT; id++) {
        written = snprintf(buf + used, cap - used, "%c\"%s\":%d", id == 0 ? '{' : ',',
                           SPECS[id].name, *const_field(settings, (setting_id_t)id));
        if (written < 0 || (size_t)written >= cap - used) {
            return 0;
        }
        used += (size_t)written;
    }
    settings_framesize_dims(settings->framesize, &width, &height);
    written = snprintf(buf + used, cap - used, ",\"width\":%d,\"height\":%d}", width, height);
    if (written < 0 || (size_t)written >= cap - used) {
        return 0;
    }
    return used + (size_t)written;
}

int settings_hostname_valid(const char *name)
{
    size_t len;
    size_t i;

    if (name == NULL) {
        return 0;
    }
    len = strlen(name);
    if (len == 0 || len > SETTINGS_HOSTNAME_MAX || name[0] == '-' || name[len - 1] == '-') {
        return 0;
    }
    for (i = 0; i < len; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                 || c == '-';
        if (!ok) {
            return 0;
        }
    }
    return 1;
}
