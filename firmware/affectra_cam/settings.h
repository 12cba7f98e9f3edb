/*
 * Camera settings: bounds, defaults, the /control?var=&val= query parser and the /status JSON.
 *
 * Plain C99, no Arduino headers; the sketch and the host tests use this same file.
 * Names and numbers follow Espressif's CameraWebServer and the esp32-camera driver:
 * `framesize` is the driver's framesize_t (0 = 96x96 ... 13 = UXGA, the OV2640's largest),
 * `quality` is the JPEG quality 0..63 where lower is better (we accept 4..63: below 4 the
 * OV2640's frames overflow their buffer at large sizes).
 */
#ifndef AFFECTRA_SETTINGS_H
#define AFFECTRA_SETTINGS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SETTING_FRAMESIZE = 0,
    SETTING_QUALITY,
    SETTING_BRIGHTNESS,
    SETTING_CONTRAST,
    SETTING_SATURATION,
    SETTING_HMIRROR,
    SETTING_VFLIP,
    SETTING_COUNT
} setting_id_t;

typedef struct {
    int framesize;  /* esp32-camera framesize_t, 0..13 */
    int quality;    /* JPEG quality, 4..63, lower is better */
    int brightness; /* -2..2 */
    int contrast;   /* -2..2 */
    int saturation; /* -2..2 */
    int hmirror;    /* 0 or 1 */
    int vflip;      /* 0 or 1 */
} cam_settings_t;

typedef enum {
    SETTINGS_OK = 0,
    SETTINGS_ERR_EMPTY,        /* no query at all */
    SETTINGS_ERR_TOO_LONG,     /* the query, a key or a value is longer than we accept */
    SETTINGS_ERR_MALFORMED,    /* a bad %-escape or an empty key */
    SETTINGS_ERR_DUPLICATE,    /* var or val given twice */
    SETTINGS_ERR_MISSING_VAR,
    SETTINGS_ERR_MISSING_VAL,
    SETTINGS_ERR_UNKNOWN_VAR,
    SETTINGS_ERR_BAD_VALUE,    /* not a plain decimal integer */
    SETTINGS_ERR_OUT_OF_RANGE
} settings_err_t;

/* One parsed /control request; id and value are set when err is OK or OUT_OF_RANGE. */
typedef struct {
    settings_err_t err;
    setting_id_t id;
    int value;
} control_request_t;

#define SETTINGS_QUERY_MAX 256   /* longest query string accepted */
#define SETTINGS_TOKEN_MAX 32    /* longest decoded key or value, with its NUL */
#define SETTINGS_JSON_MAX 256    /* room enough for settings_to_json() */
#define SETTINGS_HOSTNAME_MAX 63 /* one DNS label */

/* The factory settings: VGA, quality 12, everything else neutral. */
void settings_defaults(cam_settings_t *settings);

/* The setting's name as used in /control and /status ("framesize", ...), or NULL. */
const char *settings_name(setting_id_t id);

/* The setting's id by name; SETTING_COUNT when unknown. */
setting_id_t settings_lookup(const char *name);

/* Bounds of a setting; 0 when id is unknown. */
int settings_bounds(setting_id_t id, int *min_value, int *max_value);

int settings_get(const cam_settings_t *settings, setting_id_t id);

/* Sets one value when it is within bounds; the settings are untouched otherwise. */
settings_err_t settings_set(cam_settings_t *settings, setting_id_t id, int value);

/*
 * Checks every field. Returns SETTINGS_OK, or SETTINGS_ERR_OUT_OF_RANGE with *bad_id set
 * to the first field out of bounds (bad_id may be NULL).
 */
settings_err_t settings_validate(const cam_settings_t *settings, setting_id_t *bad_id);

/*
 * Parses a /control query string such as "var=quality&val=10" (percent-escapes and '+'
 * decoded; other keys ignored). The result's err says what was wrong, if anything.
 */
control_request_t settings_parse_control(const char *query);

/* A short constant phrase for an error code. */
const char *settings_strerror(settings_err_t err);

/*
 * A message for a person, e.g. "quality must be between 4 and 63, got 99". Writes at most
 * cap bytes, NUL-terminated; returns the length.
 */
size_t settings_error_message(const control_request_t *request, char *buf, size_t cap);

/* Width and height of a framesize; 0 when it is not one we accept. */
int settings_framesize_dims(int framesize, int *width, int *height);

/*
 * Writes the /status JSON, e.g. {"framesize":8,"quality":12,...,"width":640,"height":480}.
 * Returns its length, or 0 when buf is too small (SETTINGS_JSON_MAX always suffices).
 */
size_t settings_to_json(const cam_settings_t *settings, char *buf, size_t cap);

/* 1 when name is a valid mDNS host label: 1..63 letters, digits and '-', no '-' at either end. */
int settings_hostname_valid(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* AFFECTRA_SETTINGS_H */
