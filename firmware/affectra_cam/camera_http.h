/*
 * The camera and its two HTTP servers (ESP-IDF's esp_http_server), following Espressif's
 * CameraWebServer example:
 *
 *   port 80: /          a small status page
 *            /capture   one JPEG (image/jpeg, Content-Length, inline; filename=capture.jpg)
 *            /status    the current settings as JSON
 *            /control   ?var=NAME&val=NUMBER, validated by settings.c
 *   port 81: /stream    multipart/x-mixed-replace, chunked, framed by mjpeg_framing.c
 *
 * The stream handler keeps its server's only task for as long as a client watches, so the
 * board serves one stream client at a time (a second one waits), as the example does.
 */
#ifndef AFFECTRA_CAMERA_HTTP_H
#define AFFECTRA_CAMERA_HTTP_H

#include <stdint.h>

#include "settings.h"

/* Starts the camera with these settings (clamped to what the board can do). */
bool camera_begin(const cam_settings_t *wanted);

/* Starts both HTTP servers; true when both run. Call once the network is up. */
bool camera_http_start(const char *hostname);

/* Frame grabs that failed in a row (0 after any good one): the loop reboots on too many. */
uint32_t camera_capture_failures(void);

/* Frames sent on /stream since boot. */
uint32_t camera_frames_streamed(void);

#endif /* AFFECTRA_CAMERA_HTTP_H */
