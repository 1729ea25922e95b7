/*
 * heartbeat: see heartbeat.h.
 */
#include "heartbeat.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "hostinfo.h"
#include "log.h"
#include "util.h"

int64_t
hb_clock_jump(int64_t *base, int64_t wall_ms, int64_t mono_ms, int64_t threshold_ms)
{
	int64_t d = wall_ms - mono_ms, step = d - *base;

	if (step > threshold_ms || step < -threshold_ms) {
		*base = d;
		return step;
	}
	return 0;
}

json_t *
hb_events_batch(const struct evq *q, size_t max_events, size_t max_bytes)
{
	json_t *arr = json_array();
	const struct evq_event *e;
	size_t i, bytes = 0;

	if (arr == NULL)
		return NULL;
	for (i = 0; q != NULL && i < max_events && (e = evq_peek(q, i)) != NULL; i++) {
		/* fields and quoting: the description is at most 1 KiB, escapes at most 6x */
		size_t cost = 96 + 6 * strlen(e->desc);
		int64_t t;
		json_t *o;

		if (i > 0 && bytes + cost > max_bytes)
			break;
		/* the manager's range (PROTOCOL.md 4.3): a clock before 1970 must not block the
		 * queue */
		t = e->time_ms < 0 ? 0 : e->time_ms > HB_MAX_TIME_MS ? HB_MAX_TIME_MS : e->time_ms;
		o = json_pack("{s:I, s:i, s:I, s:s}", "seq", (json_int_t)e->seq, "id", e->event_id,
			      "time_ms", (json_int_t)t, "description", e->desc);
		if (o == NULL || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
		bytes += cost;
	}
	return arr;
}

int
hb_client_setup(struct agent_state *st, struct http_client *cl)
{
	if (agent_state_path(st, "identity.crt", cl->cert, sizeof(cl->cert)) < 0 ||
	    agent_state_path(st, "identity.key", cl->key, sizeof(cl->key)) < 0 ||
	    agent_state_path(st, "ca.crt", cl->ca, sizeof(cl->ca)) < 0)
		return -1;
	cl->insecure = 0;
	return 0;
}

static void
hb_fail(struct hb_status *hs, enum client_stage stage, long http, const char *msg)
{
	hs->last_ok = 0;
	hs->last_stage = stage;
	hs->last_http_status = http;
	str_copy(hs->last_message, msg, sizeof(hs->last_message));
	hs->failures++;
}

int
hb_apply_config(struct agent_state *st, const json_t *msg)
{
	json_int_t iv = json_integer_value(json_object_get(msg, "heartbeat_interval"));
	const char *fpr = json_string_value(json_object_get(msg, "config_fingerprint"));
	json_t *cfg = json_object_get(msg, "config");
	int changed = 0;

	if (iv >= 1 && iv <= 86400 && iv != st->heartbeat_interval) {
		st->heartbeat_interval = iv;
		changed = 1;
	}
	if (json_is_object(cfg) && fpr != NULL && strlen(fpr) < sizeof(st->config_fingerprint)) {
		json_decref(st->config);
		st->config = json_incref(cfg);
		str_copy(st->config_fingerprint, fpr, sizeof(st->config_fingerprint));
		changed = 1;
		log_info("new configuration from the manager (%s)", fpr);
	}
	if (changed && agent_state_save(st) < 0)
		log_warn("cannot write agent.json; the new configuration holds until a restart");
	return changed;
}

const char *
hb_direction(const struct agent_state *st)
{
	const char *d = json_string_value(json_object_get(st->config, "communication_direction"));

	return d ? d : "bidirectional";
}

json_t *
hb_request_json(const struct agent_state *st, const struct hb_status *hs)
{
	struct sysinfo si;
	json_t *req = json_object();

	if (req == NULL || hostinfo_fill(req, st->hostname, hs->clock_offset_ms, st->dir) < 0) {
		json_decref(req);
		return NULL;
	}
	if (sysinfo(&si) == 0)
		json_object_set_new(req, "uptime_s", json_integer(si.uptime));
	json_object_set_new(req, "config_fingerprint", json_string(st->config_fingerprint));
	/* hostinfo_fill() put the machine fingerprint: the manager spots clones with it */
	json_object_set_new(req, "last_error",
			    json_string(hs->last_ok || hs->failures == 0 ? "" : hs->last_message));
	json_object_set_new(req, "events", json_array());
	/* 0: not listening (agent-initiated); the manager calls only a port it was told */
	json_object_set_new(req, "agent_port", json_integer(hs->listen_port));
	return req;
}

int
hb_send(struct agent_state *st, struct http_client *cl, struct hb_status *hs, struct evq *q)
{
	json_t *batch;
	json_int_t ack;
	struct client_result r;
	json_t *req, *resp = NULL;
	json_error_t je;
	char *body = NULL, code[64], msg[600];
	int ret = -1;

	hs->last_attempt_ms = now_ms();
	hs->last_code[0] = '\0';
	client_result_init(&r);
	req = hb_request_json(st, hs);
	if (req == NULL)
		goto oom;
	batch = hb_events_batch(hs->skip_events ? NULL : q, HB_MAX_BATCH_EVENTS, HB_MAX_BATCH_BYTES);
	hs->skip_events = 0;
	if (batch == NULL)
		goto oom;
	hs->events_sent = json_array_size(batch);
	hs->drain = 0;
	json_object_set_new(req, "events", batch);
	json_object_set_new(req, "events_dropped", json_integer(q ? (json_int_t)q->dropped : 0));
	body = json_dumps(req, JSON_COMPACT);
	if (body == NULL)
		goto oom;
	if (client_request(cl, st->manager_url, "/agent/v1/heartbeat", body, &r) < 0) {
		hb_fail(hs, r.stage, 0, r.error);
		log_warn("event 4012 heartbeat failed (%s): %s", client_stage_name(r.stage), r.error);
		goto out;
	}
	if (r.status != 200) {
		client_error_code(&r, code, sizeof(code));
		hb_fail(hs, CL_HTTP, r.status, r.error);
		str_copy(hs->last_code, code, sizeof(hs->last_code));
		if (strcmp(code, "computer_deactivated") == 0 && !st->deactivated) {
			st->deactivated = 1;
			snprintf(st->deactivated_reason, sizeof(st->deactivated_reason), "%.250s",
				 client_error_message(&r, msg, sizeof(msg)) ? msg : "deactivated");
			agent_state_save(st);
			log_warn("the manager deactivated this computer; heartbeats stop until it is "
				 "activated again");
		} else {
			log_warn("event 4012 heartbeat failed: %s", r.error);
		}
		if (r.status == 400 && hs->events_sent > 0) {
			/*
			 * Should a batch ever be refused, the computer must not go
			 * offline for it: the next heartbeat goes without events,
			 * the one after it tries them again.
			 */
			hs->skip_events = 1;
			log_error("the manager refused a heartbeat with %zu queued events; the next "
				  "heartbeat goes without them",
				  hs->events_sent);
		}
		goto out;
	}
	resp = json_loadb(r.body.data, r.body.len, 0, &je);
	if (resp == NULL || !json_is_object(resp)) {
		hb_fail(hs, CL_HTTP, r.status, "the manager's answer is not JSON");
		goto out;
	}
	{
		const char *s = json_string_value(json_object_get(resp, "status"));

		hb_apply_config(st, resp);
		str_copy(hs->manager_status, s ? s : "", sizeof(hs->manager_status));
	}
	/* events leave the queue only once the manager says it stored them */
	ack = json_integer_value(json_object_get(resp, "ack_seq"));
	if (q != NULL && ack > 0) {
		size_t before = evq_depth(q);
		uint64_t prev = q->acked;
		evq_ack(q, (uint64_t)ack);
		hs->ack_seq = (uint64_t)ack;
		hs->drain = evq_depth(q) > 0 && q->acked > prev && evq_depth(q) < before;
	}
	if (hs->listen_port != st->reported_port) {
		st->reported_port = hs->listen_port;
		agent_state_save(st);
	}
	hs->last_ok = 1;
	hs->last_stage = CL_OK;
	hs->last_http_status = 200;
	hs->last_success_ms = hs->last_attempt_ms;
	hs->failures = 0;
	snprintf(hs->last_message, sizeof(hs->last_message), "ok");
	ret = 0;
	goto out;
oom:
	hb_fail(hs, CL_OTHER, 0, "out of memory");
out:
	json_decref(req);
	json_decref(resp);
	free(body);
	client_result_clear(&r);
	return ret;
}
