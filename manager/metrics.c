/*
 * metrics: see metrics.h.  Rendering walks the computer table once; at a
 * million computers that is a few milliseconds, paid by the scraper's
 * interval, not by heartbeats.
 */
#include "metrics.h"

#include <string.h>

#include "alerts.h"
#include "mgr.h"
#include "status.h"
#include "util.h"

#define METRICS_MAX_SERIES 64

void
metrics_activation_refused(struct metrics *mt, const char *code)
{
	size_t i;

	for (i = 0; i < mt->nrefused; i++)
		if (strcmp(mt->refused[i].code, code) == 0) {
			mt->refused[i].n++;
			return;
		}
	if (mt->nrefused == METRICS_MAX_REASONS)
		return; /* counted as "other" from the total */
	str_copy(mt->refused[mt->nrefused].code, code, sizeof(mt->refused[0].code));
	mt->refused[mt->nrefused++].n = 1;
}

void
metrics_loop_lag(struct metrics *mt, int64_t lag_ms)
{
	if (lag_ms < 0)
		lag_ms = 0;
	mt->loop_lag_ms = lag_ms;
	if (lag_ms > mt->loop_lag_max_ms)
		mt->loop_lag_max_ms = lag_ms;
}

int
metrics_escape(const char *in, char *out, size_t outsize)
{
	size_t o = 0;

	for (; *in; in++) {
		const char *rep = *in == '\\'   ? "\\\\"
		                  : *in == '"'  ? "\\\""
		                  : *in == '\n' ? "\\n"
		                                : NULL;
		size_t n = rep ? 2 : 1;
		if (o + n >= outsize)
			return -1;
		if (rep)
			memcpy(out + o, rep, 2);
		else
			out[o] = *in;
		o += n;
	}
	if (o >= outsize)
		return -1;
	out[o] = '\0';
	return 0;
}

static int
metrics_head(struct buf *out, const char *name, const char *type, const char *help)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One counter or gauge without labels. */
static int
metrics_one(struct buf *out, const char *name, const char *type, const char *help, double v)
{
	if (metrics_head(out, name, type, help) < 0)
		return -1;
	return buf_printf(out, "%s %.15g\n", name, v);
}

struct series {
	char label[300];
	uint64_t n;
};

static void
series_add(struct series *s, size_t *n, const char *label)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(s[i].label, label) == 0) {
			s[i].n++;
			return;
		}
	if (*n == METRICS_MAX_SERIES)
		return;
	str_copy(s[*n].label, label, sizeof(s[0].label));
	s[(*n)++].n = 1;
}

static int
metrics_computers(struct mgr *m, struct buf *out)
{
	struct series s[METRICS_MAX_SERIES];
	char esc[256];
	size_t i, n = 0;

	/* the two statuses every fleet has are shown even at zero */
	series_add(s, &n, "Managed (Online)");
	series_add(s, &n, "Managed (Offline)");
	s[0].n = s[1].n = 0;
	for (i = 0; i < m->reg.n; i++)
		series_add(s, &n, status_text(m->reg.byid[i]));
	if (metrics_head(out, "vigil_computers", "gauge",
	                 "Computers by the status the console shows.") < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (metrics_escape(s[i].label, esc, sizeof(esc)) < 0 ||
		    buf_printf(out, "vigil_computers{status=\"%s\"} %llu\n", esc,
		               (unsigned long long)s[i].n) < 0)
			return -1;
	return 0;
}

static int
metrics_alerts(struct mgr *m, struct buf *out)
{
	struct series s[METRICS_MAX_SERIES];
	const struct alert *al;
	char label[300], esc[300];
	size_t i, n = 0;

	for (al = m->alerts.open; al; al = al->next) {
		snprintf(label, sizeof(label), "%s\n%s", al->type->id,
		         alert_severity_name(al->type->severity));
		series_add(s, &n, label);
	}
	if (metrics_head(out, "vigil_alerts_open", "gauge", "Open alerts by type and severity.") <
	    0)
		return -1;
	for (i = 0; i < n; i++) {
		char *nl = strchr(s[i].label, '\n');
		*nl = '\0';
		if (metrics_escape(s[i].label, esc, sizeof(esc)) < 0 ||
		    buf_printf(out, "vigil_alerts_open{type=\"%s\",severity=\"%s\"} %llu\n", esc,
		               nl + 1, (unsigned long long)s[i].n) < 0)
			return -1;
	}
	return 0;
}

static int
metrics_activations(struct mgr *m, struct buf *out)
{
	uint64_t known = 0;
	char esc[80];
	size_t i;

	if (metrics_one(out, "vigil_activations_accepted_total", "counter",
	                "Activations accepted (a certificate was issued).",
	                (double)m->stats.activations) < 0 ||
	    metrics_one(out, "vigil_activation_commits_total", "counter",
	                "Group commits of new computers' activations (one transaction each).",
	                (double)m->act_commits) < 0 ||
	    metrics_head(out, "vigil_activations_refused_total", "counter",
	                 "Activations refused, by the machine-readable reason sent to the agent.") <
	        0)
		return -1;
	for (i = 0; i < m->metrics.nrefused; i++) {
		known += m->metrics.refused[i].n;
		if (metrics_escape(m->metrics.refused[i].code, esc, sizeof(esc)) < 0 ||
		    buf_printf(out, "vigil_activations_refused_total{reason=\"%s\"} %llu\n", esc,
		               (unsigned long long)m->metrics.refused[i].n) < 0)
			return -1;
	}
	return buf_printf(out, "vigil_activations_refused_total{reason=\"other\"} %llu\n",
	                  (unsigned long long)(m->stats.activations_refused > known
	                                           ? m->stats.activations_refused - known
	                                           : 0));
}

static int
metrics_store(struct mgr *m, struct buf *out)
{
	const struct store *s = &m->store;
	const struct computer *c;
	uint64_t cum = 0, rows = 0;
	size_t i;

	if (metrics_head(out, "vigil_store_flush_duration_seconds", "histogram",
	                 "Time one store flush (one database transaction) took.") < 0)
		return -1;
	for (i = 0; i < STORE_FLUSH_BUCKETS; i++) {
		cum += s->flush_hist[i];
		if (buf_printf(out, "vigil_store_flush_duration_seconds_bucket{le=\"%g\"} %llu\n",
		               (double)store_flush_bucket_us[i] / 1e6, (unsigned long long)cum) < 0)
			return -1;
	}
	cum += s->flush_hist[STORE_FLUSH_BUCKETS];
	if (buf_printf(out,
	               "vigil_store_flush_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	               "vigil_store_flush_duration_seconds_sum %.6f\n"
	               "vigil_store_flush_duration_seconds_count %llu\n",
	               (unsigned long long)cum, (double)s->flush_sum_us / 1e6,
	               (unsigned long long)cum) < 0)
		return -1;
	for (c = s->dirty_rows; c; c = c->next_dirty)
		rows++;
	if (metrics_one(out, "vigil_store_flush_errors_total", "counter",
	                "Store flushes that failed (their writes stay pending).",
	                (double)s->flush_errors) < 0 ||
	    metrics_one(out, "vigil_store_events_dropped_total", "counter",
	                "Events dropped because too many were pending.",
	                (double)s->events_dropped) < 0 ||
	    metrics_head(out, "vigil_store_pending_writes", "gauge",
	                 "Writes waiting for the next store flush, by kind.") < 0 ||
	    buf_printf(out,
	               "vigil_store_pending_writes{kind=\"event\"} %zu\n"
	               "vigil_store_pending_writes{kind=\"computer\"} %llu\n"
	               "vigil_store_pending_writes{kind=\"contact\"} %zu\n",
	               s->nevents, (unsigned long long)rows, s->ndirty_contacts) < 0)
		return -1;
	return 0;
}

int
metrics_render(struct mgr *m, struct buf *out)
{
	if (metrics_computers(m, out) < 0 ||
	    metrics_one(out, "vigil_heartbeats_received_total", "counter",
	                "Heartbeats accepted from agents.", (double)m->stats.heartbeats) < 0 ||
	    metrics_one(out, "vigil_heartbeats_rejected_total", "counter",
	                "Heartbeats refused (bad certificate, deactivated, unknown, malformed).",
	                (double)m->stats.heartbeats_rejected) < 0 ||
	    metrics_activations(m, out) < 0 || metrics_alerts(m, out) < 0 ||
	    metrics_head(out, "vigil_connections", "gauge", "Connections open now, by listener.") <
	        0 ||
	    buf_printf(out,
	               "vigil_connections{listener=\"agent\"} %zu\n"
	               "vigil_connections{listener=\"api\"} %zu\n",
	               m->agent_srv.nconns, m->api_srv.nconns) < 0 ||
	    metrics_one(out, "vigil_connections_refused_total", "counter",
	                "Connections closed at once because max_connections was reached.",
	                (double)m->stats.conns_refused) < 0 ||
	    metrics_one(out, "vigil_bad_requests_total", "counter",
	                "Requests refused by the HTTP parser or its limits.",
	                (double)m->stats.bad_requests) < 0 ||
	    metrics_store(m, out) < 0 ||
	    metrics_one(out, "vigil_event_loop_lag_seconds", "gauge",
	                "How late the last housekeeping tick ran.",
	                (double)m->metrics.loop_lag_ms / 1000.0) < 0 ||
	    metrics_one(out, "vigil_event_loop_lag_max_seconds", "gauge",
	                "The latest a housekeeping tick ran since start.",
	                (double)m->metrics.loop_lag_max_ms / 1000.0) < 0 ||
	    metrics_one(out, "process_start_time_seconds", "gauge",
	                "Start time of the process since the Unix epoch in seconds.",
	                (double)(m->started_ms / 1000)) < 0)
		return -1;
	return 0;
}
