/*
 * metrics: GET /metrics on the API port in the Prometheus text exposition
 * format 0.0.4: computers by status, heartbeats and activations (refusals
 * by reason), open alerts by type and severity, connections, the store's
 * flush latency (a histogram) and pending writes, event loop lag, process
 * start time.  The counters that are not already in struct mgr_stats live
 * here.  [api] metrics_require_key decides whether a scrape needs the API
 * key (docs/PROTOCOL.md).
 */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct mgr;

#define METRICS_MAX_REASONS 16
#define METRICS_MAX_OUTPUT (4 * 1024 * 1024)
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_reason {
	char code[32];
	uint64_t n;
};

struct metrics {
	struct metrics_reason refused[METRICS_MAX_REASONS];
	size_t nrefused;
	int64_t loop_lag_ms;     /* the housekeeping tick's last delay */
	int64_t loop_lag_max_ms; /* the largest since start */
};

/* Counts one refused activation under its machine-readable reason. */
void metrics_activation_refused(struct metrics *mt, const char *code);
/* The housekeeping tick ran lag_ms after it was due. */
void metrics_loop_lag(struct metrics *mt, int64_t lag_ms);
/* A label value escaped for the exposition format (\\, \", \n) into out. */
int metrics_escape(const char *in, char *out, size_t outsize);
/* Writes every metric into out.  0 or -1 (out of room). */
int metrics_render(struct mgr *m, struct buf *out);

#endif
