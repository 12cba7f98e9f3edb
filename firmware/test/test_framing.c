/* Tests of mjpeg_framing.c: the exact bytes of Espressif's CameraWebServer stream. */
#include <stdlib.h>

#include "../affectra_cam/mjpeg_framing.h"
#include "unit.h"

/* The bytes as the Espressif example sends them, written out by hand (not by our code). */
static const char EXPECTED_HEAD[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: multipart/x-mixed-replace;boundary=123456789000000000000987654321\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Access-Control-Allow-Origin: *\r\n"
    "X-Framerate: 60\r\n"
    "\r\n";

static void test_constants_match_espressif(void)
{
    CHECK_EQ_STR(MJPEG_BOUNDARY, "123456789000000000000987654321");
    CHECK_EQ_STR(MJPEG_STREAM_CONTENT_TYPE,
                 "multipart/x-mixed-replace;boundary=123456789000000000000987654321");
    CHECK_EQ_STR(MJPEG_PART_SEPARATOR, "\r\n--123456789000000000000987654321\r\n");
    CHECK_EQ_INT(MJPEG_PART_SEPARATOR_LEN, 36);
    CHECK_EQ_STR(MJPEG_CAPTURE_DISPOSITION, "inline; filename=capture.jpg");
}

static void test_part_header_exact_bytes(void)
{
    char buf[MJPEG_PART_HEADER_MAX];
    size_t n = mjpeg_part_header(buf, sizeof(buf), 1234, 5, 42);
    const char *expected =
        "Content-Type: image/jpeg\r\nContent-Length: 1234\r\nX-Timestamp: 5.000042\r\n\r\n";
    CHECK_EQ_STR(buf, expected);
    CHECK_EQ_INT(n, strlen(expected));
}

static void test_part_header_large_values(void)
{
    char buf[MJPEG_PART_HEADER_MAX];
    size_t n = mjpeg_part_header(buf, sizeof(buf), 52428800, 4294967295UL, 999999);
    CHECK(n > 0);
    CHECK_EQ_STR(buf, "Content-Type: image/jpeg\r\nContent-Length: 52428800\r\n"
                      "X-Timestamp: 4294967295.999999\r\n\r\n");
}

static void test_part_header_rejects_bad_input(void)
{
    char buf[MJPEG_PART_HEADER_MAX];
    CHECK_EQ_INT(mjpeg_part_header(buf, sizeof(buf), 0, 1, 0), 0);       /* empty JPEG */
    CHECK_EQ_INT(mjpeg_part_header(buf, sizeof(buf), 10, 1, 1000000), 0); /* usec too big */
    CHECK_EQ_INT(mjpeg_part_header(NULL, 10, 10, 1, 0), 0);
    CHECK_EQ_INT(mjpeg_part_header(buf, 0, 10, 1, 0), 0);
}

static void test_part_header_exact_fit(void)
{
    /* "...Content-Length: 7\r\nX-Timestamp: 0.000000\r\n\r\n" is 70 bytes. */
    char buf[80];
    size_t full = mjpeg_part_header(buf, sizeof(buf), 7, 0, 0);
    CHECK_EQ_INT(full, 70);
    CHECK_EQ_INT(mjpeg_part_header(buf, full, 7, 0, 0), 0); /* no room for the NUL */
    CHECK_EQ_INT(mjpeg_part_header(buf, full + 1, 7, 0, 0), full);
}

static void test_timestamp(void)
{
    char buf[MJPEG_TIMESTAMP_MAX];
    CHECK_EQ_INT(mjpeg_timestamp(buf, sizeof(buf), 0, 0), 8);
    CHECK_EQ_STR(buf, "0.000000");
    mjpeg_timestamp(buf, sizeof(buf), 123, 456789);
    CHECK_EQ_STR(buf, "123.456789");
    CHECK_EQ_INT(mjpeg_timestamp(buf, sizeof(buf), 1, 1000000), 0);
    CHECK_EQ_INT(mjpeg_timestamp(buf, 8, 0, 0), 0);
}

static void test_stream_response_head(void)
{
    char buf[MJPEG_RESPONSE_HEAD_MAX];
    size_t n = mjpeg_stream_response_head(buf, sizeof(buf));
    CHECK_EQ_STR(buf, EXPECTED_HEAD);
    CHECK_EQ_INT(n, sizeof(EXPECTED_HEAD) - 1);
    CHECK_EQ_INT(mjpeg_stream_response_head(buf, n), 0);
    CHECK_EQ_INT(mjpeg_stream_response_head(buf, 20), 0);
    CHECK_EQ_INT(mjpeg_stream_header_count, 2);
}

static void test_chunk_prefix_is_lowercase_hex(void)
{
    char buf[MJPEG_CHUNK_PREFIX_MAX];
    CHECK_EQ_INT(mjpeg_chunk_prefix(buf, sizeof(buf), 36), 4);
    CHECK_EQ_STR(buf, "24\r\n");
    mjpeg_chunk_prefix(buf, sizeof(buf), 0x1a2bc);
    CHECK_EQ_STR(buf, "1a2bc\r\n");
    mjpeg_chunk_prefix(buf, sizeof(buf), 0);
    CHECK_EQ_STR(buf, "0\r\n");
    CHECK_EQ_INT(mjpeg_chunk_prefix(buf, 3, 255), 0);
}

static void test_capture_response_head(void)
{
    char buf[MJPEG_RESPONSE_HEAD_MAX];
    size_t n = mjpeg_capture_response_head(buf, sizeof(buf), 2048, 7, 5);
    const char *expected = "HTTP/1.1 200 OK\r\n"
                           "Content-Type: image/jpeg\r\n"
                           "Content-Length: 2048\r\n"
                           "Content-Disposition: inline; filename=capture.jpg\r\n"
                           "Access-Control-Allow-Origin: *\r\n"
                           "X-Timestamp: 7.000005\r\n"
                           "\r\n";
    CHECK_EQ_STR(buf, expected);
    CHECK_EQ_INT(n, strlen(expected));
    CHECK_EQ_INT(mjpeg_capture_response_head(buf, sizeof(buf), 0, 7, 5), 0);
    CHECK_EQ_INT(mjpeg_capture_response_head(buf, 40, 2048, 7, 5), 0);
}

/* Appends one chunk, framed as esp_http_server frames it, to out at *used. */
static void put_chunk(char *out, size_t *used, const char *payload, size_t len)
{
    char prefix[MJPEG_CHUNK_PREFIX_MAX];
    size_t n = mjpeg_chunk_prefix(prefix, sizeof(prefix), len);
    memcpy(out + *used, prefix, n);
    *used += n;
    memcpy(out + *used, payload, len);
    *used += len;
    memcpy(out + *used, MJPEG_CHUNK_SUFFIX, 2);
    *used += 2;
}

/* Undoes the chunked encoding; returns the body length, or -1 on a framing error. */
static long dechunk(const char *in, size_t in_len, char *out)
{
    size_t pos = 0;
    long body = 0;
    while (pos < in_len) {
        char *end;
        unsigned long len = strtoul(in + pos, &end, 16);
        if (end == in + pos || end[0] != '\r' || end[1] != '\n') {
            return -1;
        }
        pos = (size_t)(end - in) + 2;
        if (pos + len + 2 > in_len || in[pos + len] != '\r' || in[pos + len + 1] != '\n') {
            return -1;
        }
        memcpy(out + body, in + pos, len);
        body += (long)len;
        pos += len + 2;
    }
    return body;
}

static void test_two_frames_round_trip_through_chunking(void)
{
    static char wire[4096];
    static char body[4096];
    static char expected[4096];
    const char *jpegs[2] = {"\xff\xd8 first \xff\xd9", "\xff\xd8 second frame \xff\xd9"};
    size_t used = 0;
    size_t expected_len = 0;
    int i;

    for (i = 0; i < 2; i++) {
        char header[MJPEG_PART_HEADER_MAX];
        size_t jpeg_len = strlen(jpegs[i]);
        size_t header_len = mjpeg_part_header(header, sizeof(header), jpeg_len, 1, (unsigned long)i);
        put_chunk(wire, &used, MJPEG_PART_SEPARATOR, MJPEG_PART_SEPARATOR_LEN);
        put_chunk(wire, &used, header, header_len);
        put_chunk(wire, &used, jpegs[i], jpeg_len);
        expected_len += (size_t)sprintf(expected + expected_len,
                                        "\r\n--123456789000000000000987654321\r\n"
                                        "Content-Type: image/jpeg\r\nContent-Length: %lu\r\n"
                                        "X-Timestamp: 1.00000%d\r\n\r\n%s",
                                        (unsigned long)jpeg_len, i, jpegs[i]);
    }
    CHECK_EQ_INT(dechunk(wire, used, body), (long)expected_len);
    CHECK(memcmp(body, expected, expected_len) == 0);
    /* The first chunk on the wire is the separator, length 0x24. */
    CHECK(memcmp(wire, "24\r\n\r\n--1234", 12) == 0);
}

void run_framing_tests(void)
{
    RUN(test_constants_match_espressif);
    RUN(test_part_header_exact_bytes);
    RUN(test_part_header_large_values);
    RUN(test_part_header_rejects_bad_input);
    RUN(test_part_header_exact_fit);
    RUN(test_timestamp);
    RUN(test_stream_response_head);
    RUN(test_chunk_prefix_is_lowercase_hex);
    RUN(test_capture_response_head);
    RUN(test_two_frames_round_trip_through_chunking);
}
