/* MJPEG-over-HTTP framing; see mjpeg_framing.h for the bytes on the wire. */
#include "mjpeg_framing.h"

#include <stdio.h>
#include <string.h>

#define USEC_PER_SEC 1000000UL

const mjpeg_header_t mjpeg_stream_headers[] = {
    {"Access-Control-Allow-Origin", "*"},
    {"X-Framerate", "60"},
};
const size_t mjpeg_stream_header_count =
    sizeof(mjpeg_stream_headers) / sizeof(mjpeg_stream_headers[0]);

/* snprintf into buf; the length written, or 0 when it failed or did not fit. */
static size_t fitted(int written, size_t cap)
{
    if (written <= 0 || (size_t)written >= cap) {
        return 0;
    }
    return (size_t)written;
}

size_t mjpeg_timestamp(char *buf, size_t cap, unsigned long sec, unsigned long usec)
{
    if (buf == NULL || cap == 0 || usec >= USEC_PER_SEC) {
        return 0;
    }
    return fitted(snprintf(buf, cap, "%lu.%06lu", sec, usec), cap);
}

size_t mjpeg_part_header(char *buf, size_t cap, size_t jpeg_len,
                         unsigned long sec, unsigned long usec)
{
    char stamp[MJPEG_TIMESTAMP_MAX];

    if (buf == NULL || cap == 0 || jpeg_len == 0) {
        return 0;
    }
    if (mjpeg_timestamp(stamp, sizeof(stamp), sec, usec) == 0) {
        return 0;
    }
    return fitted(snprintf(buf, cap,
                           "Content-Type: image/jpeg\r\n"
                           "Content-Length: %lu\r\n"
                           "X-Timestamp: %s\r\n"
                           "\r\n",
                           (unsigned long)jpeg_len, stamp),
                  cap);
}

/* Appends "name: value\r\n" at buf[*used]; 0 when it does not fit. */
static int append_header(char *buf, size_t cap, size_t *used, const char *name,
                         const char *value)
{
    size_t n = fitted(snprintf(buf + *used, cap - *used, "%s: %s\r\n", name, value),
                      cap - *used);
    if (n == 0) {
        return 0;
    }
    *used += n;
    return 1;
}

/* Appends the blank line that ends a head; 0 when it does not fit. */
static int end_head(char *buf, size_t cap, size_t *used)
{
    if (cap - *used < 3) {
        return 0;
    }
    memcpy(buf + *used, "\r\n", 3);
    *used += 2;
    return 1;
}

size_t mjpeg_stream_response_head(char *buf, size_t cap)
{
    size_t used = 0;
    size_t i;

    if (buf == NULL || cap == 0) {
        return 0;
    }
    used = fitted(snprintf(buf, cap,
                           "HTTP/1.1 200 OK\r\n"
                           "Content-Type: %s\r\n"
                           "Transfer-Encoding: chunked\r\n",
                           MJPEG_STREAM_CONTENT_TYPE),
                  cap);
    if (used == 0) {
        return 0;
    }
    for (i = 0; i < mjpeg_stream_header_count; i++) {
        if (!append_header(buf, cap, &used, mjpeg_stream_headers[i].name,
                           mjpeg_stream_headers[i].value)) {
            return 0;
        }
    }
    return end_head(buf, cap, &used) ? used : 0;
}

size_t mjpeg_chunk_prefix(char *buf, size_t cap, size_t payload_len)
{
    if (buf == NULL || cap == 0) {
        return 0;
    }
    return fitted(snprintf(buf, cap, "%lx\r\n", (unsigned long)payload_len), cap);
}

size_t mjpeg_capture_response_head(char *buf, size_t cap, size_t jpeg_len,
                                   unsigned long sec, unsigned long usec)
{
    char stamp[MJPEG_TIMESTAMP_MAX];
    size_t used;

    if (buf == NULL || cap == 0 || jpeg_len == 0) {
        return 0;
    }
    if (mjpeg_timestamp(stamp, sizeof(stamp), sec, usec) == 0) {
        return 0;
    }
    used = fitted(snprintf(buf, cap,
                           "HTTP/1.1 200 OK\r\n"
                           "Content-Type: image/jpeg\r\n"
                           "Content-Length: %lu\r\n",
                           (unsigned long)jpeg_len),
                  cap);
    if (used == 0
        || !append_header(buf, cap, &used, "Content-Disposition", MJPEG_CAPTURE_DISPOSITION)
        || !append_header(buf, cap, &used, "Access-Control-Allow-Origin", "*")
        || !append_header(buf, cap, &used, "X-Timestamp", stamp)) {
        return 0;
    }
    return end_head(buf, cap, &used) ? used : 0;
}
