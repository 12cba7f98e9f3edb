// The camera and its HTTP servers; see camera_http.h. Board-only code: the byte layout of
// the stream and the parsing of /control live in mjpeg_framing.c and settings.c, which the
// host tests exercise.
#include <Arduino.h>
#include <WiFi.h>
#include <atomic>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "esp_camera.h"
#include "esp_http_server.h"

#include "camera_http.h"
#include "camera_pins.h"
#include "config.h"
#include "mjpeg_framing.h"
#include "settings.h"

static httpd_handle_t g_control_httpd = NULL;
static httpd_handle_t g_stream_httpd = NULL;
static cam_settings_t g_settings;           // what the sensor was last told; port-80 task only
static int g_max_framesize = FRAMESIZE_SVGA; // UXGA with PSRAM
static const char *g_hostname = "affectra-cam";
static std::atomic<uint32_t> g_capture_failures(0);
static std::atomic<uint32_t> g_frames_streamed(0);

uint32_t camera_capture_failures(void) { return g_capture_failures.load(); }

uint32_t camera_frames_streamed(void) { return g_frames_streamed.load(); }

static void note_capture(bool ok)
{
    if (ok) {
        g_capture_failures.store(0);
    } else {
        uint32_t failures = ++g_capture_failures;
        Serial.printf("camera: frame grab failed (%u in a row)\n", (unsigned)failures);
    }
}

// Tells the sensor one setting; 0 when it took it.
static int apply_to_sensor(sensor_t *sensor, setting_id_t id, int value)
{
    switch (id) {
    case SETTING_FRAMESIZE:
        return sensor->set_framesize(sensor, (framesize_t)value);
    case SETTING_QUALITY:
        return sensor->set_quality(sensor, value);
    case SETTING_BRIGHTNESS:
        return sensor->set_brightness(sensor, value);
    case SETTING_CONTRAST:
        return sensor->set_contrast(sensor, value);
    case SETTING_SATURATION:
        return sensor->set_saturation(sensor, value);
    case SETTING_HMIRROR:
        return sensor->set_hmirror(sensor, value);
    case SETTING_VFLIP:
        return sensor->set_vflip(sensor, value);
    case SETTING_COUNT:
        break;
    }
    return -1;
}

bool camera_begin(const cam_settings_t *wanted)
{
    camera_config_t config;
    memset(&config, 0, sizeof(config));
    config.pin_pwdn = CAM_PIN_PWDN;
    config.pin_reset = CAM_PIN_RESET;
    config.pin_xclk = CAM_PIN_XCLK;
    config.pin_sccb_sda = CAM_PIN_SIOD;
    config.pin_sccb_scl = CAM_PIN_SIOC;
    config.pin_d7 = CAM_PIN_D7;
    config.pin_d6 = CAM_PIN_D6;
    config.pin_d5 = CAM_PIN_D5;
    config.pin_d4 = CAM_PIN_D4;
    config.pin_d3 = CAM_PIN_D3;
    config.pin_d2 = CAM_PIN_D2;
    config.pin_d1 = CAM_PIN_D1;
    config.pin_d0 = CAM_PIN_D0;
    config.pin_vsync = CAM_PIN_VSYNC;
    config.pin_href = CAM_PIN_HREF;
    config.pin_pclk = CAM_PIN_PCLK;
    config.xclk_freq_hz = AFX_XCLK_HZ;
    config.ledc_timer = LEDC_TIMER_0;
    config.ledc_channel = LEDC_CHANNEL_0;
    config.pixel_format = PIXFORMAT_JPEG;
    config.jpeg_quality = wanted->quality;

    // Frame buffers are sized at init for the largest frame we will allow later.
    if (psramFound()) {
        g_max_framesize = FRAMESIZE_UXGA;
        config.frame_size = FRAMESIZE_UXGA;
        config.fb_count = 2;
        config.fb_location = CAMERA_FB_IN_PSRAM;
        config.grab_mode = CAMERA_GRAB_LATEST;
    } else {
        g_max_framesize = FRAMESIZE_SVGA;
        config.frame_size = FRAMESIZE_SVGA;
        config.fb_count = 1;
        config.fb_location = CAMERA_FB_IN_DRAM;
        config.grab_mode = CAMERA_GRAB_WHEN_EMPTY;
    }

    esp_err_t err = esp_camera_init(&config);
    if (err != ESP_OK) {
        Serial.printf("camera: init failed, error 0x%x\n", (unsigned)err);
        return false;
    }
    sensor_t *sensor = esp_camera_sensor_get();
    if (sensor == NULL) {
        Serial.println("camera: no sensor found");
        return false;
    }

    g_settings = *wanted;
    if (g_settings.framesize > g_max_framesize) {
        Serial.printf("camera: framesize %d needs PSRAM, using %d\n", g_settings.framesize,
                      g_max_framesize);
        g_settings.framesize = g_max_framesize;
    }
    for (int id = 0; id < SETTING_COUNT; id++) {
        setting_id_t setting = (setting_id_t)id;
        if (apply_to_sensor(sensor, setting, settings_get(&g_settings, setting)) != 0) {
            Serial.printf("camera: the sensor refused %s\n", settings_name(setting));
        }
    }
    pinMode(CAM_PIN_FLASH_LED, OUTPUT);
    digitalWrite(CAM_PIN_FLASH_LED, LOW);
    return true;
}

// ---- port 81: /stream ------------------------------------------------------------------

static esp_err_t stream_handler(httpd_req_t *req)
{
    esp_err_t res = httpd_resp_set_type(req, MJPEG_STREAM_CONTENT_TYPE);
    if (res != ESP_OK) {
        return res;
    }
    for (size_t i = 0; i < mjpeg_stream_header_count; i++) {
        httpd_resp_set_hdr(req, mjpeg_stream_headers[i].name, mjpeg_stream_headers[i].value);
    }
    char part[MJPEG_PART_HEADER_MAX];
    for (;;) {
        camera_fb_t *fb = esp_camera_fb_get();
        if (fb == NULL) {
            note_capture(false);
            return ESP_FAIL; // closes the connection, as Espressif's example does
        }
        note_capture(true);
        size_t part_len = 0;
        if (fb->format == PIXFORMAT_JPEG) {
            part_len = mjpeg_part_header(part, sizeof(part), fb->len,
                                         (unsigned long)fb->timestamp.tv_sec,
                                         (unsigned long)fb->timestamp.tv_usec);
        }
        res = part_len > 0 ? ESP_OK : ESP_FAIL;
        if (res == ESP_OK) {
            res = httpd_resp_send_chunk(req, MJPEG_PART_SEPARATOR,
                                        (ssize_t)MJPEG_PART_SEPARATOR_LEN);
        }
        if (res == ESP_OK) {
            res = httpd_resp_send_chunk(req, part, (ssize_t)part_len);
        }
        if (res == ESP_OK) {
            res = httpd_resp_send_chunk(req, (const char *)fb->buf, (ssize_t)fb->len);
        }
        esp_camera_fb_return(fb);
        if (res != ESP_OK) {
            return res; // the client went away (or the frame was not a JPEG)
        }
        ++g_frames_streamed;
    }
}

// ---- port 80: /capture, /status, /control, / ----------------------------------------

static esp_err_t capture_handler(httpd_req_t *req)
{
    camera_fb_t *fb = esp_camera_fb_get();
    if (fb == NULL) {
        note_capture(false);
        return httpd_resp_send_500(req);
    }
    note_capture(true);
    char stamp[MJPEG_TIMESTAMP_MAX];
    if (fb->format != PIXFORMAT_JPEG
        || mjpeg_timestamp(stamp, sizeof(stamp), (unsigned long)fb->timestamp.tv_sec,
                           (unsigned long)fb->timestamp.tv_usec) == 0) {
        esp_camera_fb_return(fb);
        return httpd_resp_send_500(req);
    }
    httpd_resp_set_type(req, "image/jpeg");
    httpd_resp_set_hdr(req, "Content-Disposition", MJPEG_CAPTURE_DISPOSITION);
    httpd_resp_set_hdr(req, "Access-Control-Allow-Origin", "*");
    httpd_resp_set_hdr(req, "X-Timestamp", stamp);
    esp_err_t res = httpd_resp_send(req, (const char *)fb->buf, (ssize_t)fb->len);
    esp_camera_fb_return(fb);
    return res;
}

static esp_err_t status_handler(httpd_req_t *req)
{
    static char json[SETTINGS_JSON_MAX];
    size_t len = settings_to_json(&g_settings, json, sizeof(json));
    if (len == 0) {
        return httpd_resp_send_500(req);
    }
    httpd_resp_set_type(req, "application/json");
    httpd_resp_set_hdr(req, "Access-Control-Allow-Origin", "*");
    return httpd_resp_send(req, json, (ssize_t)len);
}

static esp_err_t bad_request(httpd_req_t *req, const char *message)
{
    Serial.printf("control: refused: %s\n", message);
    return httpd_resp_send_err(req, HTTPD_400_BAD_REQUEST, message);
}

static esp_err_t control_handler(httpd_req_t *req)
{
    static char query[SETTINGS_QUERY_MAX + 1];
    static char message[96];

    size_t query_len = httpd_req_get_url_query_len(req);
    if (query_len > SETTINGS_QUERY_MAX) {
        return bad_request(req, settings_strerror(SETTINGS_ERR_TOO_LONG));
    }
    query[0] = '\0';
    if (query_len > 0 && httpd_req_get_url_query_str(req, query, sizeof(query)) != ESP_OK) {
        return bad_request(req, settings_strerror(SETTINGS_ERR_MALFORMED));
    }
    control_request_t request = settings_parse_control(query);
    if (request.err != SETTINGS_OK) {
        settings_error_message(&request, message, sizeof(message));
        return bad_request(req, message);
    }
    if (request.id == SETTING_FRAMESIZE && request.value > g_max_framesize) {
        snprintf(message, sizeof(message), "framesize %d is too large for this board (max %d)",
                 request.value, g_max_framesize);
        return bad_request(req, message);
    }
    sensor_t *sensor = esp_camera_sensor_get();
    if (sensor == NULL || apply_to_sensor(sensor, request.id, request.value) != 0) {
        snprintf(message, sizeof(message), "the camera refused %s=%d",
                 settings_name(request.id), request.value);
        Serial.printf("control: %s\n", message);
        return httpd_resp_send_err(req, HTTPD_500_INTERNAL_SERVER_ERROR, message);
    }
    settings_set(&g_settings, request.id, request.value);
    Serial.printf("control: %s = %d\n", settings_name(request.id), request.value);
    httpd_resp_set_hdr(req, "Access-Control-Allow-Origin", "*");
    return httpd_resp_send(req, NULL, 0);
}

// The Host header without its port, when it is a plain name or address; else NULL.
static const char *request_host(httpd_req_t *req, char *buf, size_t cap)
{
    if (httpd_req_get_hdr_value_str(req, "Host", buf, cap) != ESP_OK || buf[0] == '\0') {
        return NULL;
    }
    char *end = buf[0] == '[' ? strchr(buf, ']') : strchr(buf, ':');
    if (end != NULL) {
        end[buf[0] == '[' ? 1 : 0] = '\0';
    }
    for (const char *p = buf; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p) && strchr(".-:[]", *p) == NULL) {
            return NULL; // nothing odd goes into the page
        }
    }
    return buf;
}

static esp_err_t index_handler(httpd_req_t *req)
{
    static char page[1400];
    char host_buf[72];
    char fallback[SETTINGS_HOSTNAME_MAX + 8];
    const char *host = request_host(req, host_buf, sizeof(host_buf));
    if (host == NULL) {
        snprintf(fallback, sizeof(fallback), "%s.local", g_hostname);
        host = fallback;
    }
    int width = 0;
    int height = 0;
    settings_framesize_dims(g_settings.framesize, &width, &height);
    int len = snprintf(
        page, sizeof(page),
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title></head><body>"
        "<h1>%s</h1><p>Affectra ESP32-CAM</p><ul>"
        "<li>Stream: <a href=\"http://%s:%d/stream\">http://%s:%d/stream</a></li>"
        "<li><a href=\"/capture\">/capture</a> one JPEG</li>"
        "<li><a href=\"/status\">/status</a> settings as JSON</li>"
        "<li>/control?var=framesize&amp;val=0..%d, /control?var=quality&amp;val=4..63</li>"
        "</ul><p>Frame %dx%d (framesize %d), JPEG quality %d. Up %lu s, Wi-Fi %d dBm, "
        "%lu frames streamed.</p></body></html>",
        g_hostname, g_hostname, host, AFX_STREAM_PORT, host, AFX_STREAM_PORT,
        g_max_framesize, width, height, g_settings.framesize, g_settings.quality,
        (unsigned long)(millis() / 1000), (int)WiFi.RSSI(),
        (unsigned long)g_frames_streamed.load());
    if (len <= 0 || (size_t)len >= sizeof(page)) {
        return httpd_resp_send_500(req);
    }
    httpd_resp_set_type(req, "text/html");
    return httpd_resp_send(req, page, len);
}

static bool register_get(httpd_handle_t server, const char *uri,
                         esp_err_t (*handler)(httpd_req_t *))
{
    httpd_uri_t route;
    memset(&route, 0, sizeof(route));
    route.uri = uri;
    route.method = HTTP_GET;
    route.handler = handler;
    route.user_ctx = NULL;
    return httpd_register_uri_handler(server, &route) == ESP_OK;
}

bool camera_http_start(const char *hostname)
{
    g_hostname = hostname;
    httpd_config_t config = HTTPD_DEFAULT_CONFIG();
    config.max_uri_handlers = 8;

    bool ok = true;
    if (g_control_httpd == NULL) {
        config.server_port = AFX_HTTP_PORT;
        if (httpd_start(&g_control_httpd, &config) != ESP_OK) {
            Serial.printf("http: cannot start the server on port %d\n", AFX_HTTP_PORT);
            g_control_httpd = NULL;
            ok = false;
        } else {
            ok = register_get(g_control_httpd, "/", index_handler)
                 && register_get(g_control_httpd, "/capture", capture_handler)
                 && register_get(g_control_httpd, "/status", status_handler)
                 && register_get(g_control_httpd, "/control", control_handler);
        }
    }
    if (g_stream_httpd == NULL) {
        config.server_port = AFX_STREAM_PORT;
        config.ctrl_port += 1; // each server needs its own control socket
        if (httpd_start(&g_stream_httpd, &config) != ESP_OK) {
            Serial.printf("http: cannot start the stream server on port %d\n",
                          AFX_STREAM_PORT);
            g_stream_httpd = NULL;
            ok = false;
        } else {
            ok = register_get(g_stream_httpd, "/stream", stream_handler) && ok;
        }
    }
    return ok;
}
