/* Tests of reconnect.c: the Wi-Fi reconnect state machine and its capped backoff. */
#include "../affectra_cam/reconnect.h"
#include "unit.h"

/* 1 s base, 8 s cap, 5 s per attempt, restart after 6 failures, no jitter, no grace. */
static rc_config_t plain_config(void)
{
    rc_config_t c;
    c.base_delay_ms = 1000;
    c.max_delay_ms = 8000;
    c.attempt_timeout_ms = 5000;
    c.restart_after_failures = 6;
    c.jitter_percent = 0;
    c.fail_grace_ms = 0;
    return c;
}

/* Steps the machine in place and returns the action. */
static rc_action_t step(rc_state_t *s, rc_event_t ev, uint32_t now)
{
    rc_step_t r = rc_step(*s, ev, now);
    *s = r.state;
    return r.action;
}

static void test_backoff_doubles_and_caps(void)
{
    rc_config_t c = plain_config();
    CHECK_EQ_INT(rc_backoff_ms(&c, 1), 1000);
    CHECK_EQ_INT(rc_backoff_ms(&c, 2), 2000);
    CHECK_EQ_INT(rc_backoff_ms(&c, 3), 4000);
    CHECK_EQ_INT(rc_backoff_ms(&c, 4), 8000);
    CHECK_EQ_INT(rc_backoff_ms(&c, 5), 8000);
    CHECK_EQ_INT(rc_backoff_ms(&c, 4000000000u), 8000); /* no overflow, no long loop */
    c.max_delay_ms = 0xFFFFFFFFu;
    CHECK_EQ_INT(rc_backoff_ms(&c, 40), 0xFFFFFFFFu);
}

static void test_first_tick_begins_an_attempt(void)
{
    rc_state_t s = rc_init(plain_config(), 1);
    CHECK_EQ_INT(s.phase, RC_IDLE);
    CHECK_EQ_INT(step(&s, RC_EV_TICK, 100), RC_ACT_BEGIN);
    CHECK_EQ_INT(s.phase, RC_CONNECTING);
    CHECK_EQ_INT(s.deadline_ms, 5100);
    CHECK_EQ_INT(s.attempts, 1);
}

static void test_idle_with_link_already_up_goes_online(void)
{
    rc_state_t s = rc_init(plain_config(), 1);
    CHECK_EQ_INT(step(&s, RC_EV_LINK_UP, 0), RC_ACT_ONLINE);
    CHECK_EQ_INT(s.phase, RC_CONNECTED);
}

static void test_connects_and_stays_quiet_while_up(void)
{
    rc_state_t s = rc_init(plain_config(), 1);
    step(&s, RC_EV_TICK, 0);
    CHECK_EQ_INT(step(&s, RC_EV_LINK_DOWN, 1000), RC_ACT_NONE); /* still trying */
    CHECK_EQ_INT(s.phase, RC_CONNECTING);
    CHECK_EQ_INT(step(&s, RC_EV_LINK_UP, 2000), RC_ACT_ONLINE);
    CHECK_EQ_INT(s.phase, RC_CONNECTED);
    CHECK_EQ_INT(step(&s, RC_EV_LINK_UP, 3000), RC_ACT_NONE);
    CHECK_EQ_INT(step(&s, RC_EV_TICK, 900000), RC_ACT_NONE);
    CHECK_EQ_INT(s.failures, 0);
}

static void test_timeouts_back_off_exponentially_up_to_the_cap(void)
{
    rc_state_t s = rc_init(plain_config(), 1);
    uint32_t now = 0;
    uint32_t expected_waits[5] = {1000, 2000, 4000, 8000, 8000};
    int i;

    CHECK_EQ_INT(step(&s, RC_EV_TICK, now), RC_ACT_BEGIN);
    for (i = 0; i < 5; i++) {
        /* Just before the attempt deadline: nothing. At it: abort and wait. */
        CHECK_EQ_INT(step(&s, RC_EV_LINK_DOWN, now + 4999), RC_ACT_NONE);
        now += 5000;
        CHECK_EQ_INT(step(&s, RC_EV_LINK_DOWN, now), RC_ACT_ABORT);
        CHECK_EQ_INT(s.phase, RC_WAITING);
        CHECK_EQ_INT(s.failures, (long)i + 1);
        CHECK_EQ_INT(s.wait_ms, expected_waits[i]);
        CHECK_EQ_INT(step(&s, RC_EV_TICK, now + expected_waits[i] - 1), RC_ACT_NONE);
        now += expected_waits[i];
        CHECK_EQ_INT(step(&s, RC_EV_TICK, now), RC_ACT_BEGIN);
        CHECK_EQ_INT(s.phase, RC_CONNECTING);
    }
    CHECK_EQ_INT(s.attempts, 6);
}

static void test_connect_failed_fails_fast(void)
{
    rc_state_t s = rc_init(plain_config(), 1);
    step(&s, RC_EV_TICK, 0);
    CHECK_EQ_INT(step(&s, RC_EV_CONNECT_FAILED, 300), RC_ACT_ABORT);
    CHECK_EQ_INT(s.phase, RC_WAITING);
    CHECK_EQ_INT(s.deadline_ms, 1300);
}

static void test_failed_status_right_after_begin_is_ignored(void)
{
    rc_config_t c = plain_config();
    rc_state_t s;
    c.fail_grace_ms = 1500;
    s = rc_init(c, 1);
    step(&s, RC_EV_TICK, 1000);
    /* The stack still says "failed" from before: not this attempt's answer yet. */
    CHECK_EQ_INT(step(&s, RC_EV_CONNECT_FAILED, 1100), RC_ACT_NONE);
    CHECK_EQ_INT(step(&s, RC_EV_CONNECT_FAILED, 2499), RC_ACT_NONE);
    CHECK_EQ_INT(s.phase, RC_CONNECTING);
    CHECK_EQ_INT(step(&s, RC_EV_CONNECT_FAILED, 2500), RC_ACT_ABORT);
    CHECK_EQ_INT(s.failures, 1);
}

static void test_success_resets_the_backoff(void)
{
    rc_state_t s = rc_init(plain_config(), 1);
    step(&s, RC_EV_TICK, 0);
    step(&s, RC_EV_CONNECT_FAILED, 10);     /* wait 1 s */
    step(&s, RC_EV_TICK, 1010);             /* begin */
    step(&s, RC_EV_CONNECT_FAILED, 1020);   /* wait 2 s */
    CHECK_EQ_INT(s.wait_ms, 2000);
    step(&s, RC_EV_TICK, 3020);             /* begin */
    CHECK_EQ_INT(step(&s, RC_EV_LINK_UP, 3500), RC_ACT_ONLINE);
    CHECK_EQ_INT(s.failures, 0);
    /* Losing the link later: first retry after the base delay again. */
    CHECK_EQ_INT(step(&s, RC_EV_LINK_DOWN, 50000), RC_ACT_OFFLINE);
    CHECK_EQ_INT(s.phase, RC_WAITING);
    CHECK_EQ_INT(s.wait_ms, 1000);
    CHECK_EQ_INT(step(&s, RC_EV_TICK, 51000), RC_ACT_BEGIN);
}

static void test_link_back_by_itself_while_waiting(void)
{
    rc_state_t s = rc_init(plain_config(), 1);
    step(&s, RC_EV_LINK_UP, 0);
    step(&s, RC_EV_LINK_DOWN, 100);
    CHECK_EQ_INT(step(&s, RC_EV_LINK_UP, 200), RC_ACT_ONLINE);
    CHECK_EQ_INT(s.phase, RC_CONNECTED);
    CHECK_EQ_INT(s.failures, 0);
}

static void test_restart_after_too_many_failures(void)
{
    rc_state_t s = rc_init(plain_config(), 1);
    uint32_t now = 0;
    int aborts = 0;
    rc_action_t last = RC_ACT_NONE;
    int i;

    step(&s, RC_EV_TICK, now);
    for (i = 0; i < 6; i++) {
        now += 10;
        last = step(&s, RC_EV_CONNECT_FAILED, now);
        if (last == RC_ACT_ABORT) {
            aborts++;
        }
        now += s.wait_ms;
        step(&s, RC_EV_TICK, now);
    }
    CHECK_EQ_INT(aborts, 5);
    CHECK_EQ_INT(last, RC_ACT_RESTART);
}

static void test_never_restarts_when_disabled(void)
{
    rc_config_t c = plain_config();
    rc_state_t s;
    uint32_t now = 0;
    int i;

    c.restart_after_failures = 0;
    s = rc_init(c, 1);
    step(&s, RC_EV_TICK, now);
    for (i = 0; i < 200; i++) {
        now += 10;
        CHECK_EQ_INT(step(&s, RC_EV_CONNECT_FAILED, now), RC_ACT_ABORT);
        now += s.wait_ms;
        CHECK_EQ_INT(step(&s, RC_EV_TICK, now), RC_ACT_BEGIN);
    }
    CHECK_EQ_INT(s.wait_ms, 8000);
}

static void test_survives_millis_wraparound(void)
{
    rc_state_t s = rc_init(plain_config(), 1);
    uint32_t start = 0xFFFFFFFFu - 2000u;
    step(&s, RC_EV_TICK, start);
    CHECK_EQ_INT(s.deadline_ms, 2999u); /* start + 5000 wraps */
    CHECK_EQ_INT(step(&s, RC_EV_LINK_DOWN, start + 1000u), RC_ACT_NONE);
    CHECK_EQ_INT(step(&s, RC_EV_LINK_DOWN, 10u), RC_ACT_NONE); /* wrapped, 2.9 s before */
    CHECK_EQ_INT(step(&s, RC_EV_LINK_DOWN, 2999u), RC_ACT_ABORT);
    CHECK_EQ_INT(step(&s, RC_EV_TICK, 3998u), RC_ACT_NONE);
    CHECK_EQ_INT(step(&s, RC_EV_TICK, 3999u), RC_ACT_BEGIN);
}

static void test_jitter_stays_within_bounds_and_varies(void)
{
    rc_config_t c = plain_config();
    rc_state_t s;
    uint32_t now = 0;
    uint32_t lowest = 0xFFFFFFFFu;
    uint32_t highest = 0;
    int i;

    c.jitter_percent = 20;
    c.restart_after_failures = 0;
    c.max_delay_ms = 1000; /* every wait is the capped 1 s, less jitter */
    s = rc_init(c, 12345);
    step(&s, RC_EV_TICK, now);
    for (i = 0; i < 500; i++) {
        now += 1;
        step(&s, RC_EV_CONNECT_FAILED, now);
        CHECK(s.wait_ms >= 800 && s.wait_ms <= 1000);
        if (s.wait_ms < lowest) {
            lowest = s.wait_ms;
        }
        if (s.wait_ms > highest) {
            highest = s.wait_ms;
        }
        now += s.wait_ms;
        step(&s, RC_EV_TICK, now);
    }
    CHECK(highest - lowest > 100);
}

static void test_step_is_pure(void)
{
    rc_config_t c = plain_config();
    rc_state_t s;
    rc_step_t a;
    rc_step_t b;

    c.jitter_percent = 30;
    s = rc_init(c, 99);
    s = rc_step(s, RC_EV_TICK, 0).state;
    a = rc_step(s, RC_EV_CONNECT_FAILED, 50);
    b = rc_step(s, RC_EV_CONNECT_FAILED, 50);
    CHECK_EQ_INT(a.action, b.action);
    CHECK_EQ_INT(a.state.wait_ms, b.state.wait_ms);
    CHECK_EQ_INT(a.state.seed, b.state.seed);
    CHECK_EQ_INT(s.phase, RC_CONNECTING); /* the input state is untouched */
}

static void test_config_is_clamped(void)
{
    rc_config_t c;
    rc_state_t s;
    c.base_delay_ms = 0;
    c.max_delay_ms = 0;
    c.attempt_timeout_ms = 0;
    c.restart_after_failures = 0;
    c.jitter_percent = 400;
    c.fail_grace_ms = 5000;
    s = rc_init(c, 0);
    CHECK_EQ_INT(s.config.base_delay_ms, 100);
    CHECK_EQ_INT(s.config.max_delay_ms, 100);
    CHECK_EQ_INT(s.config.attempt_timeout_ms, 1000);
    CHECK_EQ_INT(s.config.jitter_percent, 50);
    CHECK_EQ_INT(s.config.fail_grace_ms, 500);
    CHECK(s.seed != 0);
}

static void test_defaults_and_names(void)
{
    rc_config_t c = rc_default_config();
    CHECK_EQ_INT(c.base_delay_ms, 1000);
    CHECK_EQ_INT(c.max_delay_ms, 60000);
    CHECK_EQ_INT(rc_clamp_config(c).jitter_percent, c.jitter_percent);
    CHECK_EQ_STR(rc_phase_name(RC_WAITING), "waiting");
    CHECK_EQ_STR(rc_action_name(RC_ACT_RESTART), "restart");
    CHECK_EQ_STR(rc_action_name(RC_ACT_BEGIN), "begin");
}

void run_reconnect_tests(void)
{
    RUN(test_backoff_doubles_and_caps);
    RUN(test_first_tick_begins_an_attempt);
    RUN(test_idle_with_link_already_up_goes_online);
    RUN(test_connects_and_stays_quiet_while_up);
    RUN(test_timeouts_back_off_exponentially_up_to_the_cap);
    RUN(test_connect_failed_fails_fast);
    RUN(test_failed_status_right_after_begin_is_ignored);
    RUN(test_success_resets_the_backoff);
    RUN(test_link_back_by_itself_while_waiting);
    RUN(test_restart_after_too_many_failures);
    RUN(test_never_restarts_when_disabled);
    RUN(test_survives_millis_wraparound);
    RUN(test_jitter_stays_within_bounds_and_varies);
    RUN(test_step_is_pure);
    RUN(test_config_is_clamped);
    RUN(test_defaults_and_names);
}
