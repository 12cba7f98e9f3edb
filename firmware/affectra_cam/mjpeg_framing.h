/*
 * MJPEG-over-HTTP framing, byte for byte as Espressif's CameraWebServer sends it.
 *
 * Plain C99, no Arduino or ESP-IDF headers: the sketch uses it on the board and the host
 * tests (and test/stream_server.c) use the very same file.
 *
 * On the wire (port 81, /stream), esp_http_server writes the response head:
 *
 *   HTTP/1.1 200 OK\r\n
 *   Content-Type: multipart/x-mixed-replace;boundary=123456789000000000000987654321\r\n
 *   Transfer-Encoding: chunked\r\n
 *   Access-Control-Allow-Origin: *\r\n
 *   X-Framerate: 60\r\n
 *   \r\n
 *
 * and then, for every frame, three HTTP chunks ("<hex length>\r\n<payload>\r\n" each):
 *
 *   1. \r\n--123456789000000000000987654321\r\n
 *   2. Content-Type: image/jpeg\r\nContent-Length: N\r\nX-Timestamp: S.US\r\n\r\n
 *   3. the N bytes of the JPEG
 *
 * There is no closing boundary and no terminating zero-length chunk: the stream ends when
 * the client goes away (or the camera dies). X-Timestamp is time since boot, S seconds and
 * US microseconds (six digits), not wall time.
 */
#ifndef AFFECTRA_MJPEG_FRAMING_H
#define AFFECTRA_MJPEG_FRAMING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MJPEG_BOUNDARY "123456789000000000000987654321"
#define MJPEG_STREAM_CONTENT_TYPE "multipart/x-mixed-replace;boundary=" MJPEG_BOUNDARY
/* The part separator: sent as one chunk before every part's headers. */
#define MJPEG_PART_SEPARATOR "\r\n--" MJPEG_BOUNDARY "\r\n"
#define MJPEG_PART_SEPARATOR_LEN (sizeof(MJPEG_PART_SEPARATOR) - 1)

/* Room enough for any part header built by mjpeg_part_header(). */
#define MJPEG_PART_HEADER_MAX 128
/* Room enough for the stream response head built by mjpeg_stream_response_head(). */
#define MJPEG_RESPONSE_HEAD_MAX 256
/* Room enough for a chunk-size line: up to 16 hex digits and CRLF, plus a NUL. */
#define MJPEG_CHUNK_PREFIX_MAX 20
/* Room enough for "S.US" with S up to 20 digits. */
#define MJPEG_TIMESTAMP_MAX 32

/* The chunked-encoding tail that closes every chunk. */
#define MJPEG_CHUNK_SUFFIX "\r\n"

/* /capture's extra header (image/jpeg, Content-Length are esp_http_server's own). */
#define MJPEG_CAPTURE_DISPOSITION "inline; filename=capture.jpg"

/* An extra response header: the sketch passes these to httpd_resp_set_hdr() in order. */
typedef struct {
    const char *name;
    const char *value;
} mjpeg_header_t;

/* The headers the stream response carries after Content-Type and Transfer-Encoding. */
extern const mjpeg_header_t mjpeg_stream_headers[];
extern const size_t mjpeg_stream_header_count;

/*
 * Writes "S.US" (microseconds as six digits) into buf, NUL-terminated.
 * Returns its length, or 0 when usec is 1,000,000 or more or buf is too small.
 */
size_t mjpeg_timestamp(char *buf, size_t cap, unsigned long sec, unsigned long usec);

/*
 * Writes one part's headers into buf, NUL-terminated:
 * "Content-Type: image/jpeg\r\nContent-Length: N\r\nX-Timestamp: S.US\r\n\r\n".
 * Returns the length (without the NUL), or 0 when jpeg_len is 0, usec is out of range or
 * buf is too small.
 */
size_t mjpeg_part_header(char *buf, size_t cap, size_t jpeg_len,
                         unsigned long sec, unsigned long usec);

/*
 * Writes the whole stream response head, as esp_http_server sends it for the first chunk
 * of a chunked response with mjpeg_stream_headers set. Returns its length, or 0 when buf
 * is too small. The device never calls this (esp_http_server writes the head itself); the
 * host stream server and the tests do.
 */
size_t mjpeg_stream_response_head(char *buf, size_t cap);

/*
 * Writes a chunk-size line, "<lowercase hex>\r\n", as esp_http_server writes it before a
 * chunk of payload_len bytes. Returns its length, or 0 when buf is too small.
 */
size_t mjpeg_chunk_prefix(char *buf, size_t cap, size_t payload_len);

/*
 * Writes the response head of one /capture answer as esp_http_server sends it
 * (Content-Length, not chunked). Returns its length, or 0 on bad input or a small buf.
 */
size_t mjpeg_capture_response_head(char *buf, size_t cap, size_t jpeg_len,
                                   unsigned long sec, unsigned long usec);

#ifdef __cplusplus
}
#endif

#endif /* AFFECTRA_MJPEG_FRAMING_H */
