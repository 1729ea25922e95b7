/*
 * evq: the agent's durable event queue (events.queue in the state
 * directory).  Events get a per-agent sequence number that never goes
 * back, are appended with fdatasync before evq_push() returns, and leave
 * the queue only when the manager acknowledges them (evq_ack()).  The
 * queue is bounded in events and bytes; when full the oldest are dropped
 * and counted, and the count travels to the manager in every heartbeat.
 * A damaged file is set aside and the good prefix kept.  The format and
 * the durability argument: docs/internals/agent.md.
 */
#ifndef VIGIL_EVQ_H
#define VIGIL_EVQ_H

#include <stddef.h>
#include <stdint.h>

#define EVQ_FILE "events.queue"
#define EVQ_SEQ_FILE "events.seq"
#define EVQ_MAX_DESC 1024 /* bytes of one event's description */
#define EVQ_HDR_LEN 16    /* magic, type, reserved, length, CRC-32 */
#define EVQ_MAX_BODY (20 + EVQ_MAX_DESC)
#define EVQ_DEFAULT_MAX_BYTES (16 * 1024 * 1024)
#define EVQ_MIN_MAX_BYTES (16 * 1024)
#define EVQ_MAX_MAX_BYTES (1024LL * 1024 * 1024)
#define EVQ_DEFAULT_MAX_EVENTS 100000
#define EVQ_MIN_MAX_EVENTS 10
#define EVQ_MAX_MAX_EVENTS 10000000
/* sequence numbers are reserved in events.seq this many at a time */
#define EVQ_SEQ_BLOCK 4096

/* agent-side event IDs (the manager's catalogue, manager/events.c, knows them) */
#define EVQ_EV_CONTACT_FAILED 4011
#define EVQ_EV_HEARTBEAT_FAILED 4012
#define EVQ_EV_CLOCK_CHANGED 5004
#define EVQ_EV_QUEUE_DAMAGED 4990
#define EVQ_EV_TEST 4991

enum evq_rec_type {
	EVQ_REC_STATE = 'H', /* next_seq, acked_seq, dropped_total: first record of a file */
	EVQ_REC_EVENT = 'E', /* seq, time_ms, event_id, description */
	EVQ_REC_ACK = 'A',   /* every event up to seq was acknowledged */
	EVQ_REC_DROP = 'D',  /* every event up to seq was dropped; dropped_total */
};

/* One record as parsed from the file; desc points into the input. */
struct evq_record {
	enum evq_rec_type type;
	uint64_t seq;      /* E: its sequence; A, D: up to; H: next_seq */
	uint64_t acked;    /* H: everything <= acked is gone */
	uint64_t dropped;  /* H, D: dropped_total */
	int64_t time_ms;   /* E */
	uint32_t event_id; /* E */
	const char *desc;  /* E: not NUL-terminated */
	size_t desc_len;
};

struct evq_event {
	uint64_t seq;
	int64_t time_ms;
	int event_id;
	char *desc;  /* owned */
	size_t size; /* bytes of its record in the file */
};

struct evq {
	char path[600], seq_path[600], dir[512];
	int fd; /* -1: not open (memory only until reopened) */
	int64_t max_bytes, max_events;
	struct evq_event *ev; /* ev[head .. head+n) are queued */
	size_t head, n, cap;
	uint64_t bytes;        /* of the queued events' records */
	uint64_t file_bytes;   /* size of the file */
	uint64_t next_seq;     /* the next event's sequence */
	uint64_t seq_reserved; /* events.seq: sequences below this may have been used */
	uint64_t acked;        /* highest sequence acknowledged */
	uint64_t dropped;      /* events dropped because the queue was full, ever */
	char last_error[256];
	char damage[512]; /* what evq_open() found wrong, "" if nothing; for the event */
};

/*
 * Parses one record at the start of p.  Returns the record's length,
 * 0 when p holds only the start of one (a torn tail), -1 when it is
 * damaged (with a reason in *why_r).
 */
long evq_parse_record(const unsigned char *p, size_t len, struct evq_record *rec,
                      const char **why_r);
/* Encodes a record into out (at least EVQ_HDR_LEN + EVQ_MAX_BODY); returns its length. */
size_t evq_encode_record(const struct evq_record *rec, unsigned char *out);
uint32_t evq_crc32(uint32_t crc, const void *data, size_t len);

/*
 * Opens (creates) the queue of dir.  A damaged file is renamed to
 * events.queue.damaged-<UTC time> and its good prefix kept; q->damage
 * says what happened (the caller records event 4990).  -1 only when the
 * directory cannot be written: the queue then works in memory.
 */
int evq_open(struct evq *q, const char *dir, int64_t max_bytes, int64_t max_events,
             const char **errstr_r);
void evq_close(struct evq *q);
/* Queues one event, durably (fdatasync) before it returns; the oldest go when full. */
int evq_push(struct evq *q, int event_id, int64_t time_ms, const char *desc);
/* Same without the fdatasync; call evq_sync() after a burst. */
int evq_push_nosync(struct evq *q, int event_id, int64_t time_ms, const char *desc);
int evq_sync(struct evq *q);
/* Removes every event with a sequence <= seq (the manager stored them). */
int evq_ack(struct evq *q, uint64_t seq);
/* The i-th oldest queued event, NULL past the end. */
const struct evq_event *evq_peek(const struct evq *q, size_t i);
size_t evq_depth(const struct evq *q);

#endif
