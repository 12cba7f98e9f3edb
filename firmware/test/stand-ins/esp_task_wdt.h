/* Stand-in (declarations only) for ESP-IDF's esp_task_wdt.h; see README.md. */
#pragma once
#include <stdint.h>
#include "esp_err.h"
#include "esp_idf_version.h"
typedef void *TaskHandle_t;
extern "C" {
#if ESP_IDF_VERSION_MAJOR >= 5
typedef struct {
    uint32_t timeout_ms;
    uint32_t idle_core_mask;
    bool trigger_panic;
} esp_task_wdt_config_t;
esp_err_t esp_task_wdt_init(const esp_task_wdt_config_t *config);
esp_err_t esp_task_wdt_reconfigure(const esp_task_wdt_config_t *config);
#else
esp_err_t esp_task_wdt_init(uint32_t timeout, bool panic);
#endif
esp_err_t esp_task_wdt_add(TaskHandle_t task_handle);
esp_err_t esp_task_wdt_reset(void);
}
