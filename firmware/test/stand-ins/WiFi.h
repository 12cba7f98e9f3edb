/* Stand-in (declarations only) for the arduino-esp32 core's WiFi.h; see README.md. */
#pragma once
#include <Arduino.h>

typedef enum {
    WL_NO_SHIELD = 255,
    WL_IDLE_STATUS = 0,
    WL_NO_SSID_AVAIL = 1,
    WL_SCAN_COMPLETED = 2,
    WL_CONNECTED = 3,
    WL_CONNECT_FAILED = 4,
    WL_CONNECTION_LOST = 5,
    WL_DISCONNECTED = 6
} wl_status_t;

typedef enum { WIFI_OFF = 0, WIFI_STA = 1, WIFI_AP = 2, WIFI_AP_STA = 3 } wifi_mode_t;

class IPAddress {
public:
    String toString() const;
};

class WiFiClass {
public:
    wl_status_t begin(const char *ssid, const char *passphrase = NULL);
    bool disconnect(bool wifioff = false, bool eraseap = false);
    wl_status_t status(void);
    bool mode(wifi_mode_t mode);
    bool setSleep(bool enabled);
    bool setAutoReconnect(bool autoReconnect);
    bool setHostname(const char *hostname);
    static void persistent(bool persistent);
    IPAddress localIP(void);
    int8_t RSSI(void);
};
extern WiFiClass WiFi;
