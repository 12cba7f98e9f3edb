/* Stand-in (declarations only) for the arduino-esp32 core's Arduino.h; see README.md. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "esp_err.h"

#define LOW 0x0
#define HIGH 0x1
#define OUTPUT 0x03

unsigned long millis(void);
void delay(uint32_t ms);
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t val);
bool psramFound(void);

class String {
public:
    const char *c_str() const;
};

class HardwareSerial {
public:
    void begin(unsigned long baud);
    size_t printf(const char *format, ...) __attribute__((format(printf, 2, 3)));
    size_t println(const char *text);
    size_t println(void);
};
extern HardwareSerial Serial;

class EspClass {
public:
    void restart(void);
    uint64_t getEfuseMac(void);
};
extern EspClass ESP;
