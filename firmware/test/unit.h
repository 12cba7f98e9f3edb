/*
 * A tiny test runner: CHECK() records a failure (file, line, expression) and goes on;
 * RUN() runs one test function and counts it as passed or failed; unit_summary() prints
 * "N passed, M failed" as the last line and gives the exit status.
 */
#ifndef AFFECTRA_UNIT_H
#define AFFECTRA_UNIT_H

#include <stdio.h>
#include <string.h>

extern int unit_passed;
extern int unit_failed;
extern int unit_current_failed;

#define CHECK(expr)                                                                     \
    do {                                                                                \
        if (!(expr)) {                                                                  \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #expr); \
            unit_current_failed = 1;                                                    \
        }                                                                               \
    } while (0)

#define CHECK_EQ_INT(actual, expected)                                                \
    do {                                                                              \
        long unit_a_ = (long)(actual);                                                \
        long unit_e_ = (long)(expected);                                              \
        if (unit_a_ != unit_e_) {                                                     \
            fprintf(stderr, "  %s:%d: %s == %ld, expected %ld\n", __FILE__, __LINE__, \
                    #actual, unit_a_, unit_e_);                                       \
            unit_current_failed = 1;                                                  \
        }                                                                             \
    } while (0)

#define CHECK_EQ_STR(actual, expected)                                                   \
    do {                                                                                 \
        const char *unit_a_ = (actual);                                                  \
        const char *unit_e_ = (expected);                                                \
        if (unit_a_ == NULL || strcmp(unit_a_, unit_e_) != 0) {                          \
            fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,        \
                    __LINE__, #actual, unit_a_ == NULL ? "(null)" : unit_a_, unit_e_);    \
            unit_current_failed = 1;                                                     \
        }                                                                                \
    } while (0)

#define RUN(test_fn)                                          \
    do {                                                      \
        unit_current_failed = 0;                              \
        test_fn();                                            \
        if (unit_current_failed) {                            \
            unit_failed++;                                    \
            fprintf(stderr, "FAIL %s\n", #test_fn);           \
        } else {                                              \
            unit_passed++;                                    \
        }                                                     \
    } while (0)

/* Prints the closing line and returns the process exit status. */
int unit_summary(void);

void run_framing_tests(void);
void run_settings_tests(void);
void run_reconnect_tests(void);

#endif /* AFFECTRA_UNIT_H */
