// Affectra ESP32-CAM firmware (board: "AI Thinker ESP32-CAM").
//
// Serves what the Affectra Edge daemon reads, following Espressif's CameraWebServer:
// http://<name>.local:81/stream (MJPEG), and /capture, /status, /control on port 80.
// Keeps Wi-Fi up with a capped exponential backoff (reconnect.c), answers to an mDNS name,
// and feeds the task watchdog from loop(), so a hung loop reboots the board.
//
// Wi-Fi credentials: copy secrets.example.h to secrets.h (git-ignored). Other settings:
// config.h. See ../README.md.
#include <Arduino.h>
#include <ESPmDNS.h>
#include <WiFi.h>

#include "esp_idf_version.h"
#include "esp_task_wdt.h"

#if defined(AFFECTRA_SECRETS_FROM_EXAMPLE)
#include "secrets.example.h" // the host syntax check only; never on a real build
#elif __has_include("secrets.h")
#include "secrets.h"
#else
#error "Copy secrets.example.h to secrets.h and put your Wi-Fi network in it (see README.md)"
#endif

#include "camera_http.h"
#include "config.h"
#include "reconnect.h"
#include "settings.h"

#define LOOP_PERIOD_MS 100
#define CAMERA_RETRY_BEFORE_RESTART_MS 5000

static const char *g_hostname = AFX_HOSTNAME;
static rc_state_t g_wifi;
static bool g_servers_started = false;
static bool g_mdns_started = false;

// Subscribes loop()'s task to the task watchdog with our timeout.
static void watchdog_begin(void)
{
#if ESP_IDF_VERSION_MAJOR >= 5
    esp_task_wdt_config_t config = {};
    config.timeout_ms = AFX_WDT_TIMEOUT_S * 1000;
    config.idle_core_mask = 0; // watch our task, not the idle tasks
    config.trigger_panic = true;
    if (esp_task_wdt_reconfigure(&config) == ESP_ERR_INVALID_STATE) {
        esp_task_wdt_init(&config); // the core did not start it
    }
#else
    esp_task_wdt_init(AFX_WDT_TIMEOUT_S, true); // re-configures when already running
#endif
    esp_task_wdt_add(NULL);
}

// Waits, feeding the watchdog, then reboots.
static void restart_after(uint32_t wait_ms, const char *why)
{
    Serial.printf("restarting in %u ms: %s\n", (unsigned)wait_ms, why);
    uint32_t start = millis();
    while (millis() - start < wait_ms) {
        esp_task_wdt_reset();
        delay(LOOP_PERIOD_MS);
    }
    ESP.restart();
}

static cam_settings_t startup_settings(void)
{
    cam_settings_t settings;
    settings_defaults(&settings);
    settings.framesize = AFX_FRAMESIZE;
    settings.quality = AFX_JPEG_QUALITY;
    settings.vflip = AFX_VFLIP;
    settings.hmirror = AFX_HMIRROR;
    setting_id_t bad;
    if (settings_validate(&settings, &bad) != SETTINGS_OK) {
        int lo = 0;
        int hi = 0;
        settings_bounds(bad, &lo, &hi);
        Serial.printf("config: %s must be %d..%d; using the factory settings\n",
                      settings_name(bad), lo, hi);
        settings_defaults(&settings);
    }
    return settings;
}

static rc_config_t wifi_backoff_config(void)
{
    rc_config_t config = rc_default_config();
    config.base_delay_ms = AFX_WIFI_BASE_DELAY_MS;
    config.max_delay_ms = AFX_WIFI_MAX_DELAY_MS;
    config.attempt_timeout_ms = AFX_WIFI_ATTEMPT_TIMEOUT_MS;
    config.restart_after_failures = AFX_WIFI_RESTART_AFTER_FAILURES;
    return config;
}

// What the Wi-Fi stack says now, as an event for the reconnect machine.
static rc_event_t wifi_event(void)
{
    switch (WiFi.status()) {
    case WL_CONNECTED:
        return RC_EV_LINK_UP;
    case WL_CONNECT_FAILED:
    case WL_NO_SSID_AVAIL:
        return RC_EV_CONNECT_FAILED;
    default:
        return RC_EV_LINK_DOWN;
    }
}

static void went_online(void)
{
    Serial.printf("wifi: connected, http://%s/ (http://%s.local/), RSSI %d dBm\n",
                  WiFi.localIP().toString().c_str(), g_hostname, (int)WiFi.RSSI());
    if (!g_servers_started) {
        g_servers_started = camera_http_start(g_hostname);
    }
    if (!g_mdns_started && MDNS.begin(g_hostname)) {
        MDNS.addService("http", "tcp", AFX_HTTP_PORT);
        g_mdns_started = true;
    }
}

static void follow_wifi(uint32_t now_ms)
{
    rc_step_t step = rc_step(g_wifi, wifi_event(), now_ms);
    g_wifi = step.state;
    switch (step.action) {
    case RC_ACT_BEGIN:
        Serial.printf("wifi: connecting to \"%s\" (attempt %u)\n", AFX_WIFI_SSID,
                      (unsigned)g_wifi.attempts);
        WiFi.begin(AFX_WIFI_SSID, AFX_WIFI_PASSWORD);
        break;
    case RC_ACT_ABORT:
        Serial.printf("wifi: attempt failed (%u in a row), next in %u ms\n",
                      (unsigned)g_wifi.failures, (unsigned)g_wifi.wait_ms);
        WiFi.disconnect();
        break;
    case RC_ACT_ONLINE:
        went_online();
        break;
    case RC_ACT_OFFLINE:
        Serial.printf("wifi: link lost, retrying in %u ms\n", (unsigned)g_wifi.wait_ms);
        WiFi.disconnect();
        break;
    case RC_ACT_RESTART:
        restart_after(0, "Wi-Fi failed too many times in a row");
        break;
    case RC_ACT_NONE:
        break;
    }
}

void setup()
{
    Serial.begin(115200);
    Serial.println();
    Serial.println("affectra-cam: starting");
    watchdog_begin();

    if (!settings_hostname_valid(g_hostname)) {
        Serial.printf("config: host name \"%s\" is not a valid DNS label; using affectra-cam\n",
                      g_hostname);
        g_hostname = "affectra-cam";
    }
    cam_settings_t settings = startup_settings();
    if (!camera_begin(&settings)) {
        restart_after(CAMERA_RETRY_BEFORE_RESTART_MS, "the camera did not start");
    }

    WiFi.persistent(false);       // credentials come from secrets.h, not flash
    WiFi.setHostname(g_hostname); // before the station starts
    WiFi.mode(WIFI_STA);
    WiFi.setSleep(false);         // modem sleep stalls the stream
    WiFi.setAutoReconnect(false); // reconnect.c decides when to retry
    // Seed the backoff jitter from the MAC, so boards that lost the same access point do not
    // all come back at the same instant.
    uint64_t mac = ESP.getEfuseMac();
    g_wifi = rc_init(wifi_backoff_config(), (uint32_t)(mac ^ (mac >> 32)));
}

void loop()
{
    esp_task_wdt_reset();
    follow_wifi(millis());
#if AFX_CAPTURE_FAILS_BEFORE_RESTART > 0
    if (camera_capture_failures() >= AFX_CAPTURE_FAILS_BEFORE_RESTART) {
        restart_after(0, "the camera stopped delivering frames");
    }
#endif
    delay(LOOP_PERIOD_MS);
}
