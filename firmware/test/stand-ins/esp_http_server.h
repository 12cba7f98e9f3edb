/* Stand-in (declarations only) for ESP-IDF's esp_http_server.h; see README.md. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "esp_err.h"

typedef void *httpd_handle_t;
typedef enum { HTTP_DELETE = 0, HTTP_GET = 1, HTTP_HEAD = 2, HTTP_POST = 3 } httpd_method_t;
typedef enum {
    HTTPD_500_INTERNAL_SERVER_ERROR = 0,
    HTTPD_400_BAD_REQUEST = 3,
    HTTPD_404_NOT_FOUND = 6
} httpd_err_code_t;

typedef struct httpd_req {
    httpd_handle_t handle;
    int method;
    const char uri[513];
    size_t content_len;
    void *aux;
    void *user_ctx;
} httpd_req_t;

typedef struct httpd_uri {
    const char *uri;
    httpd_method_t method;
    esp_err_t (*handler)(httpd_req_t *r);
    void *user_ctx;
} httpd_uri_t;

typedef struct httpd_config {
    unsigned task_priority;
    size_t stack_size;
    int core_id;
    uint16_t server_port;
    uint16_t ctrl_port;
    uint16_t max_open_sockets;
    uint16_t max_uri_handlers;
    uint16_t max_resp_headers;
    uint16_t backlog_conn;
    bool lru_purge_enable;
    uint16_t recv_wait_timeout;
    uint16_t send_wait_timeout;
} httpd_config_t;

#define HTTPD_DEFAULT_CONFIG()                                                        \
    {                                                                                 \
        .task_priority = 5, .stack_size = 4096, .core_id = 0x7FFFFFFF,                \
        .server_port = 80, .ctrl_port = 32768, .max_open_sockets = 7,                 \
        .max_uri_handlers = 8, .max_resp_headers = 8, .backlog_conn = 5,              \
        .lru_purge_enable = false, .recv_wait_timeout = 5, .send_wait_timeout = 5,   \
    }

extern "C" {
esp_err_t httpd_start(httpd_handle_t *handle, const httpd_config_t *config);
esp_err_t httpd_register_uri_handler(httpd_handle_t handle, const httpd_uri_t *uri_handler);
esp_err_t httpd_resp_set_type(httpd_req_t *r, const char *type);
esp_err_t httpd_resp_set_hdr(httpd_req_t *r, const char *field, const char *value);
esp_err_t httpd_resp_send(httpd_req_t *r, const char *buf, ssize_t buf_len);
esp_err_t httpd_resp_send_chunk(httpd_req_t *r, const char *buf, ssize_t buf_len);
esp_err_t httpd_resp_send_err(httpd_req_t *req, httpd_err_code_t error, const char *msg);
size_t httpd_req_get_url_query_len(httpd_req_t *r);
esp_err_t httpd_req_get_url_query_str(httpd_req_t *r, char *buf, size_t buf_len);
esp_err_t httpd_req_get_hdr_value_str(httpd_req_t *r, const char *field, char *val,
                                      size_t val_size);
}
static inline esp_err_t httpd_resp_send_500(httpd_req_t *r)
{
    return httpd_resp_send_err(r, HTTPD_500_INTERNAL_SERVER_ERROR, NULL);
}
