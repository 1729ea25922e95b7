/*
 * heartbeat: the agent's side of the heartbeat: building the request,
 * reading the answer, and the schedule (interval with jitter, back-off
 * with jitter after failures).
 */
#ifndef VIGIL_HEARTBEAT_H
#define VIGIL_HEARTBEAT_H

#include <stdint.h>

#include <jansson.h>

#include "client.h"
#include "evq.h"
#include "hbsched.h"
#include "state.h"

/*
 * One heartbeat carries at most this many queued events and this many
 * bytes of them, far below the manager's authenticated body limit
 * ([limits] max_body_agent, 1 MiB by default; PROTOCOL.md 4.3).
 */
#define HB_MAX_BATCH_EVENTS 500
#define HB_MAX_BATCH_BYTES (256 * 1024)
#define HB_MAX_TIME_MS INT64_C(253402300799000) /* 9999-12-31T23:59:59Z */
/* after an acknowledged batch with more queued: the next one this soon */
#define HB_DRAIN_DELAY_MS 200
/* a wall-clock step larger than this against the monotonic clock is event 5004 */
#define HB_CLOCK_JUMP_MS 5000

struct hb_status {
	int64_t last_attempt_ms;
	int64_t last_success_ms;
	int last_ok;
	enum client_stage last_stage;
	long last_http_status;
	char last_message[512];
	char last_code[64]; /* the manager's error code of the last refusal, or "" */
	int failures; /* consecutive */
	char manager_status[64];
	int64_t clock_offset_ms; /* test option: shifts the reported clock */
	int listen_port;	 /* the agent port (listener.h) when open, else 0 */
	size_t events_sent;      /* in the last heartbeat */
	uint64_t ack_seq;        /* the last acknowledgement */
	int drain;               /* the last heartbeat was acknowledged and more events wait */
	int skip_events; /* the manager refused the last batch (400): the next goes without */
};

/*
 * Sends one heartbeat and updates st (interval, configuration,
 * deactivation) and hs.  Returns 0 on success.
 */
int hb_send(struct agent_state *st, struct http_client *cl, struct hb_status *hs, struct evq *q);
/*
 * The oldest queued events as the heartbeat's "events" array, within
 * HB_MAX_BATCH_EVENTS and HB_MAX_BATCH_BYTES.  New reference, NULL on OOM.
 */
json_t *hb_events_batch(const struct evq *q, size_t max_events, size_t max_bytes);
/*
 * Clock change: base is the last (wall - monotonic) difference.  Returns
 * the step in ms when it moved by more than threshold_ms (and adopts the
 * new difference), else 0.
 */
int64_t hb_clock_jump(int64_t *base, int64_t wall_ms, int64_t mono_ms, int64_t threshold_ms);
/*
 * Takes heartbeat_interval, config and config_fingerprint from a message of
 * the manager (a heartbeat answer, or a push on the agent port) and saves
 * agent.json when they changed.  1 when something changed.
 */
int hb_apply_config(struct agent_state *st, const json_t *msg);
/* The communication direction of the configuration: "bidirectional" until told. */
const char *hb_direction(const struct agent_state *st);
/* The body of a heartbeat (also the answer to the manager's hostinfo); caller owns it. */
json_t *hb_request_json(const struct agent_state *st, const struct hb_status *hs);
/* Points the client at the identity files of st. */
int hb_client_setup(struct agent_state *st, struct http_client *cl);

#endif
