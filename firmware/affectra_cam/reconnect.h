/*
 * The Wi-Fi reconnect state machine: capped exponential backoff, as a pure function of
 * (state, event, now_ms). No Arduino headers, no clock, no globals: the sketch feeds it the
 * link status it sees every loop and does what the returned action says; the host tests
 * drive it with made-up times.
 *
 *   IDLE --tick--> CONNECTING (action BEGIN)
 *   CONNECTING --link up--> CONNECTED (ONLINE)
 *   CONNECTING --failed (after fail_grace_ms), or no link by the deadline--> WAITING (ABORT)
 *   CONNECTED --link down / failed--> WAITING (OFFLINE), first retry after base_delay_ms
 *   WAITING --link up (the stack got back by itself)--> CONNECTED (ONLINE)
 *   WAITING --retry time reached--> CONNECTING (BEGIN)
 *
 * The wait after the n-th failed attempt in a row is base_delay_ms * 2^(n-1), capped at
 * max_delay_ms, less up to jitter_percent of it (deterministic, from a seed in the state).
 * A "failed" status in the first fail_grace_ms of an attempt is ignored: right after
 * WiFi.begin() the stack may still report the previous attempt's failure.
 * After restart_after_failures failed attempts in a row (0 = never) the action is RESTART:
 * the board reboots, which clears a wedged Wi-Fi stack.
 *
 * Times are uint32_t milliseconds as millis() gives them; comparisons survive its
 * wrap-around after 49.7 days.
 */
#ifndef AFFECTRA_RECONNECT_H
#define AFFECTRA_RECONNECT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RC_IDLE = 0,
    RC_CONNECTING,
    RC_CONNECTED,
    RC_WAITING
} rc_phase_t;

typedef enum {
    RC_EV_TICK = 0,       /* nothing new; time passes */
    RC_EV_LINK_UP,        /* the station is connected and has an address */
    RC_EV_LINK_DOWN,      /* not connected (yet) */
    RC_EV_CONNECT_FAILED  /* the stack gave up: wrong password, no such SSID */
} rc_event_t;

typedef enum {
    RC_ACT_NONE = 0,
    RC_ACT_BEGIN,   /* start a connection attempt (WiFi.begin) */
    RC_ACT_ABORT,   /* give up this attempt (WiFi.disconnect) and wait */
    RC_ACT_ONLINE,  /* the link came up: start or refresh what needs the network */
    RC_ACT_OFFLINE, /* the link went down: note it; a retry follows */
    RC_ACT_RESTART  /* too many failures in a row: reboot the board */
} rc_action_t;

typedef struct {
    uint32_t base_delay_ms;          /* wait after the first failure */
    uint32_t max_delay_ms;           /* the cap */
    uint32_t attempt_timeout_ms;     /* how long one attempt may take */
    uint32_t restart_after_failures; /* 0 = never restart */
    uint32_t jitter_percent;         /* 0..50: shave up to this much off each wait */
    uint32_t fail_grace_ms;          /* ignore CONNECT_FAILED this early in an attempt */
} rc_config_t;

typedef struct {
    rc_config_t config;
    rc_phase_t phase;
    uint32_t failures;    /* failed attempts in a row */
    uint32_t started_ms;  /* when the current attempt began */
    uint32_t deadline_ms; /* CONNECTING: attempt deadline; WAITING: retry time */
    uint32_t wait_ms;     /* the wait chosen at the last failure */
    uint32_t attempts;    /* attempts started since boot */
    uint32_t seed;        /* jitter's pseudo-random state (never 0) */
} rc_state_t;

typedef struct {
    rc_state_t state;
    rc_action_t action;
} rc_step_t;

/* Defaults: 1 s base, 60 s cap, 20 s per attempt, restart after 30 failures, 20 % jitter,
 * 1.5 s grace. */
rc_config_t rc_default_config(void);

/* A machine in IDLE; out-of-range config values are clamped (see rc_clamp_config). */
rc_state_t rc_init(rc_config_t config, uint32_t seed);

/* base >= 100 ms, cap >= base, attempt timeout >= 1 s, jitter <= 50 %,
 * grace < attempt timeout. */
rc_config_t rc_clamp_config(rc_config_t config);

/* The backoff before jitter after `failures` failed attempts in a row (failures >= 1). */
uint32_t rc_backoff_ms(const rc_config_t *config, uint32_t failures);

/* One step: the new state and what to do. Pure: same inputs, same outputs. */
rc_step_t rc_step(rc_state_t state, rc_event_t event, uint32_t now_ms);

const char *rc_phase_name(rc_phase_t phase);
const char *rc_action_name(rc_action_t action);

#ifdef __cplusplus
}
#endif

#endif /* AFFECTRA_RECONNECT_H */
