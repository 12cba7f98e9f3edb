/* Stand-in for ESP-IDF's esp_idf_version.h; see README.md. */
#pragma once
#ifndef STANDIN_IDF_MAJOR
#define STANDIN_IDF_MAJOR 5
#endif
#define ESP_IDF_VERSION_MAJOR STANDIN_IDF_MAJOR
