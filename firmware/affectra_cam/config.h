/*
 * Build-time configuration of the Affectra ESP32-CAM firmware.
 *
 * Every value can be overridden by defining it in secrets.h (included first) or on the
 * compiler command line, e.g. arduino-cli's --build-property "build.extra_flags=-DAFX_...".
 * Frame size and JPEG quality can also be changed at run time with /control (not kept
 * across a reboot).
 */
#ifndef AFFECTRA_CONFIG_H
#define AFFECTRA_CONFIG_H

/* mDNS / DHCP host name: the camera answers as http://affectra-cam.local/ */
#ifndef AFX_HOSTNAME
#define AFX_HOSTNAME "affectra-cam"
#endif

/* Start-up frame size: esp32-camera framesize_t, 0 = 96x96 ... 8 = VGA 640x480 ... 13 = UXGA. */
#ifndef AFX_FRAMESIZE
#define AFX_FRAMESIZE 8
#endif

/* Start-up JPEG quality, 4..63, lower is better and larger. */
#ifndef AFX_JPEG_QUALITY
#define AFX_JPEG_QUALITY 12
#endif

/* Mount the board upside down or mirrored? 0 or 1. */
#ifndef AFX_VFLIP
#define AFX_VFLIP 0
#endif
#ifndef AFX_HMIRROR
#define AFX_HMIRROR 0
#endif

/* Ports, as in Espressif's CameraWebServer: control on 80, stream on 81. */
#ifndef AFX_HTTP_PORT
#define AFX_HTTP_PORT 80
#endif
#ifndef AFX_STREAM_PORT
#define AFX_STREAM_PORT 81
#endif

/* Camera clock. 20 MHz as in Espressif's example; 10 MHz helps some noisy boards. */
#ifndef AFX_XCLK_HZ
#define AFX_XCLK_HZ 20000000
#endif

/* Task watchdog: reboot when loop() has not run for this long. */
#ifndef AFX_WDT_TIMEOUT_S
#define AFX_WDT_TIMEOUT_S 30
#endif

/* Reboot after this many failed frame grabs in a row (a wedged camera). 0 = never. */
#ifndef AFX_CAPTURE_FAILS_BEFORE_RESTART
#define AFX_CAPTURE_FAILS_BEFORE_RESTART 20
#endif

/* Wi-Fi reconnect backoff (see reconnect.h). */
#ifndef AFX_WIFI_BASE_DELAY_MS
#define AFX_WIFI_BASE_DELAY_MS 1000
#endif
#ifndef AFX_WIFI_MAX_DELAY_MS
#define AFX_WIFI_MAX_DELAY_MS 60000
#endif
#ifndef AFX_WIFI_ATTEMPT_TIMEOUT_MS
#define AFX_WIFI_ATTEMPT_TIMEOUT_MS 20000
#endif
/* Reboot after this many failed connection attempts in a row. 0 = never. */
#ifndef AFX_WIFI_RESTART_AFTER_FAILURES
#define AFX_WIFI_RESTART_AFTER_FAILURES 30
#endif

#endif /* AFFECTRA_CONFIG_H */
