/* The Wi-Fi reconnect state machine; see reconnect.h. */
#include "reconnect.h"

#define MIN_BASE_DELAY_MS 100u
#define MIN_ATTEMPT_TIMEOUT_MS 1000u
#define MAX_JITTER_PERCENT 50u
#define NONZERO_SEED 0x9E3779B9u

rc_config_t rc_default_config(void)
{
    rc_config_t config;
    config.base_delay_ms = 1000u;
    config.max_delay_ms = 60000u;
    config.attempt_timeout_ms = 20000u;
    config.restart_after_failures = 30u;
    config.jitter_percent = 20u;
    config.fail_grace_ms = 1500u;
    return config;
}

rc_config_t rc_clamp_config(rc_config_t config)
{
    if (config.base_delay_ms < MIN_BASE_DELAY_MS) {
        config.base_delay_ms = MIN_BASE_DELAY_MS;
    }
    if (config.max_delay_ms < config.base_delay_ms) {
        config.max_delay_ms = config.base_delay_ms;
    }
    if (config.attempt_timeout_ms < MIN_ATTEMPT_TIMEOUT_MS) {
        config.attempt_timeout_ms = MIN_ATTEMPT_TIMEOUT_MS;
    }
    if (config.jitter_percent > MAX_JITTER_PERCENT) {
        config.jitter_percent = MAX_JITTER_PERCENT;
    }
    if (config.fail_grace_ms >= config.attempt_timeout_ms) {
        config.fail_grace_ms = config.attempt_timeout_ms / 2u;
    }
    return config;
}

rc_state_t rc_init(rc_config_t config, uint32_t seed)
{
    rc_state_t state;
    state.config = rc_clamp_config(config);
    state.phase = RC_IDLE;
    state.failures = 0;
    state.started_ms = 0;
    state.deadline_ms = 0;
    state.wait_ms = 0;
    state.attempts = 0;
    state.seed = seed != 0 ? seed : NONZERO_SEED;
    return state;
}

uint32_t rc_backoff_ms(const rc_config_t *config, uint32_t failures)
{
    uint64_t wait = config->base_delay_ms;
    uint32_t n;

    for (n = 1; n < failures && wait < config->max_delay_ms; n++) {
        wait *= 2u;
    }
    return wait < config->max_delay_ms ? (uint32_t)wait : config->max_delay_ms;
}

/* True once now_ms has reached deadline_ms, across millis() wrap-around. */
static int reached(uint32_t now_ms, uint32_t deadline_ms)
{
    return (uint32_t)(now_ms - deadline_ms) < 0x80000000u;
}

static uint32_t next_random(uint32_t *seed)
{
    uint32_t x = *seed;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *seed = x;
    return x;
}

/* The wait less a pseudo-random share of up to jitter_percent of it. */
static uint32_t jittered(rc_state_t *state, uint32_t wait_ms)
{
    uint64_t shave;
    if (state->config.jitter_percent == 0) {
        return wait_ms;
    }
    shave = (uint64_t)wait_ms * state->config.jitter_percent * (next_random(&state->seed) % 1001u)
            / 100000u;
    return wait_ms - (uint32_t)shave;
}

static rc_step_t result(rc_state_t state, rc_action_t action)
{
    rc_step_t step;
    step.state = state;
    step.action = action;
    return step;
}

static rc_step_t begin_attempt(rc_state_t state, uint32_t now_ms)
{
    state.phase = RC_CONNECTING;
    state.started_ms = now_ms;
    state.deadline_ms = now_ms + state.config.attempt_timeout_ms;
    state.attempts++;
    return result(state, RC_ACT_BEGIN);
}

static rc_step_t go_online(rc_state_t state)
{
    state.phase = RC_CONNECTED;
    state.failures = 0;
    state.wait_ms = 0;
    return result(state, RC_ACT_ONLINE);
}

static rc_step_t wait_then_retry(rc_state_t state, uint32_t now_ms, rc_action_t action)
{
    state.phase = RC_WAITING;
    state.wait_ms = jittered(&state, rc_backoff_ms(&state.config, state.failures));
    state.deadline_ms = now_ms + state.wait_ms;
    return result(state, action);
}

static rc_step_t attempt_failed(rc_state_t state, uint32_t now_ms)
{
    state.failures++;
    if (state.config.restart_after_failures != 0
        && state.failures >= state.config.restart_after_failures) {
        return wait_then_retry(state, now_ms, RC_ACT_RESTART);
    }
    return wait_then_retry(state, now_ms, RC_ACT_ABORT);
}

rc_step_t rc_step(rc_state_t state, rc_event_t event, uint32_t now_ms)
{
    switch (state.phase) {
    case RC_IDLE:
        return event == RC_EV_LINK_UP ? go_online(state) : begin_attempt(state, now_ms);
    case RC_CONNECTING:
        if (event == RC_EV_LINK_UP) {
            return go_online(state);
        }
        if (reached(now_ms, state.deadline_ms)
            || (event == RC_EV_CONNECT_FAILED
                && now_ms - state.started_ms >= state.config.fail_grace_ms)) {
            return attempt_failed(state, now_ms);
        }
        return result(state, RC_ACT_NONE);
    case RC_CONNECTED:
        if (event == RC_EV_LINK_DOWN || event == RC_EV_CONNECT_FAILED) {
            state.failures = 1; /* the drop counts as one: first retry after base_delay_ms */
            return wait_then_retry(state, now_ms, RC_ACT_OFFLINE);
        }
        return result(state, RC_ACT_NONE);
    case RC_WAITING:
        if (event == RC_EV_LINK_UP) {
            return go_online(state);
        }
        if (reached(now_ms, state.deadline_ms)) {
            return begin_attempt(state, now_ms);
        }
        return result(state, RC_ACT_NONE);
    }
    /* A corrupt phase: start over. */
    state.phase = RC_IDLE;
    return result(state, RC_ACT_NONE);
}

const char *rc_phase_name(rc_phase_t phase)
{
    switch (phase) {
    case RC_IDLE:
        return "idle";
    case RC_CONNECTING:
        return "connecting";
    case RC_CONNECTED:
        return "connected";
    case RC_WAITING:
        return "waiting";
    }
    return "?";
}

const char *rc_action_name(rc_action_t action)
{
    switch (action) {
    case RC_ACT_NONE:
        return "none";
    case RC_ACT_BEGIN:
        return "begin";
    case RC_ACT_ABORT:
        return "abort";
    case RC_ACT_ONLINE:
        return "online";
    case RC_ACT_OFFLINE:
        return "offline";
    case RC_ACT_RESTART:
        return "restart";
    }
    return "?";
}
