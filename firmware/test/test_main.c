/* Runs every firmware unit test and prints "N passed, M failed" as the last line. */
#include "unit.h"

int unit_passed = 0;
int unit_failed = 0;
int unit_current_failed = 0;

int unit_summary(void)
{
    fflush(stderr);
    printf("%d passed, %d failed\n", unit_passed, unit_failed);
    fflush(stdout);
    return unit_failed == 0 && unit_passed > 0 ? 0 : 1;
}

int main(void)
{
    run_framing_tests();
    run_settings_tests();
    run_reconnect_tests();
    return unit_summary();
}
