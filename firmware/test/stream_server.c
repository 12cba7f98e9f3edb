/*
 * A host stand-in for the ESP32-CAM's HTTP servers, built on the firmware's own framing code
 * (affectra_cam/mjpeg_framing.c), so that the Python reader can be tested against the exact
 * bytes the sketch sends. Loopback only.
 *
 *   stream_server [options] FRAME.jpg [FRAME.jpg ...]
 *
 *   -p PORT     port on 127.0.0.1 (0, the default, picks a free one)
 *   -n FRAMES   frames per /stream connection (default 10); frames cycle through the files
 *   -f FPS      frames per second (default 10; 0 = as fast as the socket takes them)
 *   -e END      after the last frame: "close" the connection (default), "hold" it open
 *               sending nothing, or "stall" = send the next part's headers and half its
 *               JPEG, then hold (a camera that froze mid-frame)
 *   -H SECONDS  how long "hold"/"stall" keep the connection (default 30) unless the client
 *               closes first
 *   -c COUNT    serve this many connections one after the other, then exit (default 1;
 *               0 = until killed). Like the board, one client at a time.
 *
 * Paths: /stream (port 81 on the board), /capture (one JPEG, port 80 on the board; the
 * connection then stays open up to 5 s, as httpd keeps it alive), anything else 404. On start it prints "listening on 127.0.0.1:PORT" and flushes stdout.
 *
 * The bytes: esp_http_server's chunked response head, then per frame three chunks: the
 * part separator, the part headers, the JPEG; no closing boundary, no last chunk.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../affectra_cam/mjpeg_framing.h"

#define MAX_FRAMES 64
#define MAX_FRAME_BYTES (50L * 1024 * 1024)
#define REQUEST_MAX 8192
#define CAPTURE_KEEPALIVE_S 5.0

typedef enum { END_CLOSE, END_HOLD, END_STALL } end_mode_t;

typedef struct {
    int port;
    long frames;
    double fps;
    end_mode_t end;
    double hold_s;
    long connections;
} options_t;

typedef struct {
    unsigned char *data;
    size_t len;
} frame_t;

static frame_t g_frames[MAX_FRAMES];
static size_t g_frame_count = 0;
static struct timespec g_boot;

static void usage(void)
{
    fprintf(stderr,
            "usage: stream_server [-p PORT] [-n FRAMES] [-f FPS] [-e close|hold|stall]\n"
            "                     [-H HOLD_SECONDS] [-c CONNECTIONS] FRAME.jpg...\n");
}

static int parse_long(const char *text, long min_value, long *out)
{
    char *end;
    long value;
    errno = 0;
    value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min_value) {
        return 0;
    }
    *out = value;
    return 1;
}

static int parse_double(const char *text, double *out)
{
    char *end;
    double value;
    errno = 0;
    value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || value < 0) {
        return 0;
    }
    *out = value;
    return 1;
}

static int parse_options(int argc, char **argv, options_t *opt, int *first_file)
{
    int c;
    long value;

    opt->port = 0;
    opt->frames = 10;
    opt->fps = 10.0;
    opt->end = END_CLOSE;
    opt->hold_s = 30.0;
    opt->connections = 1;
    while ((c = getopt(argc, argv, "p:n:f:e:H:c:")) != -1) {
        switch (c) {
        case 'p':
            if (!parse_long(optarg, 0, &value) || value > 65535) {
                return 0;
            }
            opt->port = (int)value;
            break;
        case 'n':
            if (!parse_long(optarg, 0, &opt->frames)) {
                return 0;
            }
            break;
        case 'f':
            if (!parse_double(optarg, &opt->fps)) {
                return 0;
            }
            break;
        case 'e':
            if (strcmp(optarg, "close") == 0) {
                opt->end = END_CLOSE;
            } else if (strcmp(optarg, "hold") == 0) {
                opt->end = END_HOLD;
            } else if (strcmp(optarg, "stall") == 0) {
                opt->end = END_STALL;
            } else {
                return 0;
            }
            break;
        case 'H':
            if (!parse_double(optarg, &opt->hold_s)) {
                return 0;
            }
            break;
        case 'c':
            if (!parse_long(optarg, 0, &opt->connections)) {
                return 0;
            }
            break;
        default:
            return 0;
        }
    }
    *first_file = optind;
    return optind < argc;
}

static int load_frame(const char *path, frame_t *frame)
{
    FILE *file = fopen(path, "rb");
    long size;

    if (file == NULL) {
        fprintf(stderr, "stream_server: cannot open %s: %s\n", path, strerror(errno));
        return 0;
    }
    if (fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) <= 0 || size > MAX_FRAME_BYTES
        || fseek(file, 0, SEEK_SET) != 0) {
        fprintf(stderr, "stream_server: %s is empty, too large or unreadable\n", path);
        fclose(file);
        return 0;
    }
    frame->data = malloc((size_t)size);
    frame->len = (size_t)size;
    if (frame->data == NULL || fread(frame->data, 1, frame->len, file) != frame->len) {
        fprintf(stderr, "stream_server: cannot read %s\n", path);
        fclose(file);
        return 0;
    }
    fclose(file);
    return 1;
}

/* Seconds and microseconds since this program started: the board's "time since boot". */
static void since_boot(unsigned long *sec, unsigned long *usec)
{
    struct timespec now;
    long long delta_ns;
    clock_gettime(CLOCK_MONOTONIC, &now);
    delta_ns = (long long)(now.tv_sec - g_boot.tv_sec) * 1000000000LL
               + (now.tv_nsec - g_boot.tv_nsec);
    *sec = (unsigned long)(delta_ns / 1000000000LL);
    *usec = (unsigned long)((delta_ns % 1000000000LL) / 1000LL);
}

static void sleep_s(double seconds)
{
    struct timespec ts;
    if (seconds <= 0) {
        return;
    }
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return 0;
        }
        p += n;
        len -= (size_t)n;
    }
    return 1;
}

/* One chunk as esp_http_server's httpd_resp_send_chunk() writes it. */
static int send_chunk(int fd, const void *payload, size_t len)
{
    char prefix[MJPEG_CHUNK_PREFIX_MAX];
    size_t n = mjpeg_chunk_prefix(prefix, sizeof(prefix), len);
    return n > 0 && send_all(fd, prefix, n) && send_all(fd, payload, len)
           && send_all(fd, MJPEG_CHUNK_SUFFIX, 2);
}

/* Sends one whole frame (separator, part headers, JPEG); 0 when the client went away. */
static int send_frame(int fd, const frame_t *frame)
{
    char header[MJPEG_PART_HEADER_MAX];
    unsigned long sec;
    unsigned long usec;
    size_t header_len;

    since_boot(&sec, &usec);
    header_len = mjpeg_part_header(header, sizeof(header), frame->len, sec, usec);
    return header_len > 0 && send_chunk(fd, MJPEG_PART_SEPARATOR, MJPEG_PART_SEPARATOR_LEN)
           && send_chunk(fd, header, header_len) && send_chunk(fd, frame->data, frame->len);
}

/* Sends a part's headers and the first half of its JPEG chunk, then nothing more. */
static int send_half_frame(int fd, const frame_t *frame)
{
    char header[MJPEG_PART_HEADER_MAX];
    char prefix[MJPEG_CHUNK_PREFIX_MAX];
    unsigned long sec;
    unsigned long usec;
    size_t header_len;
    size_t prefix_len;

    since_boot(&sec, &usec);
    header_len = mjpeg_part_header(header, sizeof(header), frame->len, sec, usec);
    prefix_len = mjpeg_chunk_prefix(prefix, sizeof(prefix), frame->len);
    return header_len > 0 && prefix_len > 0
           && send_chunk(fd, MJPEG_PART_SEPARATOR, MJPEG_PART_SEPARATOR_LEN)
           && send_chunk(fd, header, header_len) && send_all(fd, prefix, prefix_len)
           && send_all(fd, frame->data, frame->len / 2);
}

/* Keeps the connection open, sending nothing, until the client closes or time runs out. */
static void hold_open(int fd, double hold_s)
{
    struct timespec start;
    struct timespec now;
    char sink[512];

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct pollfd pfd;
        double elapsed;
        int ready;

        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
        if (elapsed >= hold_s) {
            return;
        }
        pfd.fd = fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        ready = poll(&pfd, 1, 100);
        if (ready > 0) {
            ssize_t n = recv(fd, sink, sizeof(sink), 0);
            if (n <= 0) {
                return; /* the client closed */
            }
        }
    }
}

/* Reads the request head; writes the path (query cut off) into path. 0 on a bad request. */
static int read_request_path(int fd, char *path, size_t cap)
{
    char request[REQUEST_MAX + 1];
    size_t used = 0;
    char method[16];
    char target[1024];
    char *query;

    while (used < REQUEST_MAX) {
        ssize_t n = recv(fd, request + used, REQUEST_MAX - used, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return 0;
        }
        used += (size_t)n;
        request[used] = '\0';
        if (strstr(request, "\r\n\r\n") != NULL) {
            break;
        }
    }
    request[used] = '\0';
    if (sscanf(request, "%15s %1023s HTTP/1.", method, target) != 2 || strcmp(method, "GET") != 0) {
        return 0;
    }
    query = strchr(target, '?');
    if (query != NULL) {
        *query = '\0';
    }
    if (strlen(target) >= cap) {
        return 0;
    }
    strcpy(path, target);
    return 1;
}

static void send_error(int fd, const char *status, const char *message)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %s\r\nContent-Type: text/html\r\nContent-Length: %lu\r\n\r\n",
                     status, (unsigned long)strlen(message));
    if (n > 0 && (size_t)n < sizeof(head) && send_all(fd, head, (size_t)n)) {
        send_all(fd, message, strlen(message));
    }
}

static void serve_stream(int fd, const options_t *opt)
{
    char head[MJPEG_RESPONSE_HEAD_MAX];
    size_t head_len = mjpeg_stream_response_head(head, sizeof(head));
    long i;

    if (head_len == 0 || !send_all(fd, head, head_len)) {
        return;
    }
    for (i = 0; i < opt->frames; i++) {
        if (i > 0 && opt->fps > 0) {
            sleep_s(1.0 / opt->fps);
        }
        if (!send_frame(fd, &g_frames[(size_t)i % g_frame_count])) {
            return; /* the client went away, as the board's handler would see it */
        }
    }
    if (opt->end == END_STALL) {
        if (!send_half_frame(fd, &g_frames[(size_t)opt->frames % g_frame_count])) {
            return;
        }
    }
    if (opt->end != END_CLOSE) {
        hold_open(fd, opt->hold_s);
    }
}

static void serve_capture(int fd, long serial)
{
    char head[MJPEG_RESPONSE_HEAD_MAX];
    const frame_t *frame = &g_frames[(size_t)serial % g_frame_count];
    unsigned long sec;
    unsigned long usec;
    size_t head_len;

    since_boot(&sec, &usec);
    head_len = mjpeg_capture_response_head(head, sizeof(head), frame->len, sec, usec);
    if (head_len > 0 && send_all(fd, head, head_len) && send_all(fd, frame->data, frame->len)) {
        /* esp_http_server keeps the connection open after a Content-Length answer: the
         * client must not wait for the close to know the JPEG is whole. */
        hold_open(fd, CAPTURE_KEEPALIVE_S);
    }
}

static void serve_connection(int fd, const options_t *opt, long serial)
{
    char path[256];
    struct timeval timeout;

    timeout.tv_sec = 5;
    timeout.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    if (!read_request_path(fd, path, sizeof(path))) {
        send_error(fd, "400 Bad Request", "Bad request syntax");
    } else if (strcmp(path, "/stream") == 0) {
        serve_stream(fd, opt);
    } else if (strcmp(path, "/capture") == 0) {
        serve_capture(fd, serial);
    } else {
        send_error(fd, "404 Not Found", "Nothing matches the given URI");
    }
    shutdown(fd, SHUT_WR);
    close(fd);
}

static int listen_loopback(int port, int *bound_port)
{
    struct sockaddr_in addr;
    socklen_t addr_len = sizeof(addr);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((unsigned short)port);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 4) != 0
        || getsockname(fd, (struct sockaddr *)&addr, &addr_len) != 0) {
        close(fd);
        return -1;
    }
    *bound_port = ntohs(addr.sin_port);
    return fd;
}

int main(int argc, char **argv)
{
    options_t opt;
    int first_file;
    int listener;
    int port;
    long served;
    int i;

    if (!parse_options(argc, argv, &opt, &first_file)) {
        usage();
        return 2;
    }
    for (i = first_file; i < argc; i++) {
        if (g_frame_count == MAX_FRAMES) {
            fprintf(stderr, "stream_server: at most %d frame files\n", MAX_FRAMES);
            return 2;
        }
        if (!load_frame(argv[i], &g_frames[g_frame_count])) {
            return 1;
        }
        g_frame_count++;
    }
    signal(SIGPIPE, SIG_IGN);
    clock_gettime(CLOCK_MONOTONIC, &g_boot);
    listener = listen_loopback(opt.port, &port);
    if (listener < 0) {
        fprintf(stderr, "stream_server: cannot listen on 127.0.0.1:%d: %s\n", opt.port,
                strerror(errno));
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    for (served = 0; opt.connections == 0 || served < opt.connections; served++) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) {
                served--;
                continue;
            }
            fprintf(stderr, "stream_server: accept: %s\n", strerror(errno));
            break;
        }
        serve_connection(fd, &opt, served);
    }
    close(listener);
    for (i = 0; (size_t)i < g_frame_count; i++) {
        free(g_frames[i].data);
    }
    return 0;
}
