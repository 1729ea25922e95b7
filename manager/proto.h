/*
 * proto: parsing and validation of the JSON bodies that agents send on the
 * agent channel (activation, heartbeat).  Every known field has a type and
 * a length limit, and a field that breaks them is refused with a sentence
 * naming it; unknown fields are ignored so that newer agents can talk to
 * this manager.
 * Pure functions: no manager state, so they are unit-tested and fuzzed.
 */
#ifndef VIGIL_PROTO_H
#define VIGIL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "model.h"

#define PROTO_MAX_TOKEN 128
#define PROTO_MAX_CSR 4096
#define PROTO_MAX_FPR 64
#define PROTO_MAX_ERROR 512
/* events in one heartbeat, and the bytes of one event's description */
#define PROTO_MAX_EVENTS 1000
#define PROTO_MAX_EVENT_DESC 1024
#define PROTO_MAX_SEQ (INT64_C(1) << 62)

struct host_facts {
	char hostname[MAX_HOSTNAME + 1];
	char description[MAX_DESCRIPTION + 1];
	char platform[MAX_PLATFORM + 1];
	char agent_version[MAX_VERSION + 1];
	char machine_id[MAX_MACHINE_ID + 1];
	char machine_fingerprint[FPR_HEX_LEN + 1]; /* 64 hex digits, "" when not sent */
	int64_t clock_ms; /* 0 when not sent */
	int64_t agent_port; /* the agent's port when it listens; 0 when it does not; -1 not sent */
	char *interfaces_json; /* normalised JSON array, NULL when a heartbeat omits it; caller frees */
};

#define PROTO_MAX_POLICY 128

struct activation_req {
	char token[PROTO_MAX_TOKEN + 1];
	char policy[PROTO_MAX_POLICY + 1]; /* a policy name or ID, "" for the default */
	char csr[PROTO_MAX_CSR + 1];
	struct host_facts host;
};

/* One event from the agent's queue. */
struct hb_event {
	int64_t seq;       /* the agent's sequence, 1 - 2^62, increasing within a heartbeat */
	int id;            /* catalogue number, 1 - 99999 */
	int64_t time_ms;   /* the agent's clock when it happened */
	char *description; /* owned */
};

struct heartbeat_req {
	struct host_facts host;
	int64_t uptime_s;
	char config_fingerprint[PROTO_MAX_FPR + 1];
	char last_error[PROTO_MAX_ERROR + 1]; /* the agent's last failure, "" if none */
	int call_me; /* vigil-agentctl diagnose: call my port now */
	int64_t events_count;                 /* events carried */
	struct hb_event *events;              /* owned: proto_heartbeat_clear() */
	int64_t events_dropped; /* the agent's count of events its full queue dropped, ever */
};

/* Returns 0, or -1 with a sentence in err. */
int proto_parse_activation(const char *body, size_t len, struct activation_req *out, char *err,
			   size_t errsize);
/* A reactivation (clone or unknown agent): an activation without a token. */
int proto_parse_reactivation(const char *body, size_t len, struct activation_req *out, char *err,
			     size_t errsize);
int proto_parse_heartbeat(const char *body, size_t len, struct heartbeat_req *out, char *err,
			  size_t errsize);
/* The same with jansson only, no fast path: the reference that fuzz_heartbeat compares with. */
int proto_parse_heartbeat_tree(const char *body, size_t len, struct heartbeat_req *out, char *err,
                               size_t errsize);
void proto_host_facts_clear(struct host_facts *h);
/* 1 when s (UTF-8) has no control characters or bidirectional overrides. */
int proto_text_ok(const char *s);
/* Frees what proto_parse_heartbeat() allocated (host facts and events). */
void proto_heartbeat_clear(struct heartbeat_req *hb);

/* What the manager answers to a heartbeat. */
struct hb_answer {
	const char *status;
	int64_t manager_clock_ms;
	int64_t heartbeat_interval;
	const char *config_fingerprint;
	int64_t ack_seq;
	const char *config_json; /* compact JSON text of the configuration; NULL: not sent */
	int port_check;          /* agent_port_check is sent (the agent asked: call_me) */
	int port;
	int64_t last_ok_ms;
	const char *port_error;
	const char *direction;
};

/*
 * Appends the answer and a newline to b without a JSON tree: the bytes that
 * json_dumps(JSON_COMPACT) writes for the object that jansson would build
 * from the same values (test_proto compares them).  -1 if it cannot.
 */
int proto_heartbeat_answer(struct buf *b, const struct hb_answer *a);

#endif
