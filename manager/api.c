/*
 * api: see api.h.
 */
#include "api.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "agentsvc.h"
#include "apibody.h"
#include "deploy.h"
#include "inventory.h"
#include "license.h"
#include "events.h"
#include "jsonbody.h"
#include "log.h"
#include "mgr.h"
#include "policy.h"
#include "status.h"
#include "util.h"

#define API_MAX_LIMIT 5000
#define API_DEFAULT_LIMIT 1000
/* one page of computers stays well below the response size limit */
#define API_MAX_COMPUTERS 10000

static int api_query_int(struct http_request *req, const char *name, int64_t min, int64_t max,
			 int64_t *out, struct http_response *resp);

void
api_reply(struct http_response *resp, json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	if (s == NULL || buf_puts(&resp->body, s) < 0 || buf_puts(&resp->body, "\n") < 0)
		http_error(resp, 500, "internal", "cannot encode the response");
	else
		resp->status = 200;
	free(s);
	json_decref(obj);
}

static json_t *api_computer_json_base(struct mgr *m, const struct computer *c);

static json_t *
api_computer_json(struct mgr *m, const struct computer *c)
{
	json_t *o = api_computer_json_base(m, c), *vg = json_object_get(o, "vigil");

	if (o == NULL)
		return NULL;
	/* Deep Security's Task(s) column, and where the manager calls the agent */
	json_object_set_new(o, "tasks", json_pack("{s:o, s:[]}", "agentTasks",
						  contact_task_strings(c), "applianceTasks"));
	json_object_set_new(vg, "communicationDirection",
			    json_string(dir_name(policy_value(m, c, PS_DIRECTION))));
	json_object_set_new(vg, "agentPort", json_integer(c->agent_port));
	json_object_set_new(vg, "lastReach", json_integer(c->last_reach_ms));
	json_object_set_new(vg, "reachError", json_string(c->reach_error ? c->reach_error : ""));
	json_object_set_new(vg, "agentLastError", json_string(c->agent_error ? c->agent_error : ""));
	json_object_set_new(vg, "agentLastErrorTime", json_integer(c->agent_error_ms));
	json_object_set_new(vg, "stoppedCleanly", json_integer(c->goodbye_ms));
	if (c->offline) {
		char cause[700];
		status_probable_cause(m, c, cause, sizeof(cause));
		json_object_set_new(vg, "probableCause", json_string(cause));
	} else {
		json_object_set_new(vg, "probableCause", json_string(""));
	}
	return o;
}

static json_t *
api_computer_json_base(struct mgr *m, const struct computer *c)
{
	json_error_t je;
	json_t *ifs = json_loads(c->interfaces_json, 0, &je), *out_ifs = json_array(), *it;
	json_t *o, *vigil;
	int64_t dl = status_deadline_wall_ms(m, c);
	size_t i;

	if (ifs != NULL && json_is_array(ifs)) {
		json_array_foreach(ifs, i, it)
		{
			json_t *mac = json_object_get(it, "mac");
			json_array_append_new(out_ifs,
					      json_pack("{s:O, s:s, s:O}", "name",
							json_object_get(it, "name"), "MAC",
							json_is_string(mac) ? json_string_value(mac) : "",
							"IPs", json_object_get(it, "addresses")));
		}
	}
	json_decref(ifs);
	o = json_pack(
		"{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, "
		"s:{s:s, s:[s]}, s:{s:o}, "
		"s:{s:s, s:b, s:I, s:I, s:I, s:s, s:i, s:i, s:s, s:b, s:s, s:s, s:s}}",
		"ID", (json_int_t)c->id, "hostName", c->hostname, "displayName", "", "description",
		c->description, "platform", c->platform, "agentVersion", c->agent_version, "hostGUID",
		c->guid, "policyID", (json_int_t)(c->pol ? c->pol->id : 0), "policyName",
		c->pol ? c->pol->name : "", "lastAgentCommunication",
		(json_int_t)c->last_contact_ms, "created", (json_int_t)c->created_ms, "computerStatus",
		"agentStatus", status_agent_status(c), "agentStatusMessages", status_text(c),
		"interfaces", "interfaces", out_ifs, "vigil", "state",
		c->state == COMPUTER_DEACTIVATED	 ? "deactivated"
		: c->state == COMPUTER_ACTIVATION_FAILED ? "activation-failed"
							 : "activated",
		"offline",
		c->offline, "offlineDeadline", (json_int_t)dl,
		"clockOffsetMs", (json_int_t)c->clock_offset_ms, "certificateExpires",
		(json_int_t)c->cert_not_after_ms, "lastIPUsed", c->last_ip, "openCriticalAlerts",
		c->open_critical, "openWarningAlerts", c->open_warning, "power",
		c->power_stopped ? "stopped" : "running", "holdsSeat", lic_holds_seat(c),
		"activationFailure", c->failure, "machineFingerprint", c->machine_fpr, "inventoryID",
		c->inventory_id);
	/* restarts by the agent's watchdog, as its last heartbeat reported them (wdreport.h) */
	vigil = json_object_get(o, "vigil");
	if (vigil != NULL) {
		json_object_set_new(vigil, "watchdogRestarts", json_integer(c->watchdog_restarts));
		json_object_set_new(vigil, "lastWatchdogRestart",
				    json_integer(c->watchdog_last_restart_ms));
	}
	return o;
}

/* ?after=ID&limit=N pages through large fleets in ID order. */
static void
api_computers(struct mgr *m, struct http_request *req, struct http_response *resp)
{
	int64_t after = 0, limit = API_MAX_COMPUTERS;
	json_t *arr;
	size_t i, n = 0;

	if (api_query_int(req, "after", 0, INT64_MAX, &after, resp) < 0 ||
	    api_query_int(req, "limit", 1, API_MAX_COMPUTERS, &limit, resp) < 0)
		return;
	arr = json_array();
	for (i = 0; i < m->reg.n && n < (size_t)limit; i++) {
		if (m->reg.byid[i]->id <= after)
			continue;
		json_array_append_new(arr, api_computer_json(m, m->reg.byid[i]));
		n++;
	}
	api_reply(resp, json_pack("{s:o}", "computers", arr));
}

static int
api_query_int(struct http_request *req, const char *name, int64_t min, int64_t max,
	      int64_t *out, struct http_response *resp)
{
	char v[64];
	int r = httpreq_query(req, name, v, sizeof(v));

	if (r == -1)
		return 0;
	if (r < 0 || parse_i64(v, min, max, out) < 0) {
		http_error(resp, 400, "bad_parameter", "parameter %s: \"%s\" is not a number from %lld to %lld",
			   name, r < 0 ? "(malformed or too long)" : v, (long long)min, (long long)max);
		return -1;
	}
	return 1;
}

static int
api_query_time(struct http_request *req, const char *name, int64_t *out,
	       struct http_response *resp)
{
	char v[64];
	int r = httpreq_query(req, name, v, sizeof(v));

	if (r == -1)
		return 0;
	if (r < 0 || parse_time_ms(v, out) < 0) {
		http_error(resp, 400, "bad_parameter",
			   "parameter %s: \"%s\" is neither epoch milliseconds nor an ISO 8601 UTC time (2026-11-22T10:00:00Z)",
			   name, r < 0 ? "(malformed or too long)" : v);
		return -1;
	}
	return 1;
}

static int
api_event_cb(void *ctx, const struct event_row *row)
{
	const struct event_def *d = evcat_find(row->event_id);
	json_t *o = json_pack(
	    "{s:I, s:i, s:s, s:s, s:I, s:s, s:s}", "systemEventID", (json_int_t)row->id, "eventID",
	    row->event_id, "event", d ? d->name : "Unknown Event", "severity",
	    d ? evcat_severity_name(d->severity) : "Info", "time", (json_int_t)row->time_ms,
	    "target", row->target, "description", row->description);

	if (o == NULL)
		return -1;
	if (row->computer_id)
		json_object_set_new(o, "targetID", json_integer(row->computer_id));
	if (row->agent_seq) {
		/* from the agent's queue: its own clock and sequence; time is the receipt */
		json_object_set_new(o, "agentSequence", json_integer(row->agent_seq));
		json_object_set_new(o, "agentTime", json_integer(row->agent_time_ms));
	}
	return json_array_append_new(ctx, o);
}

static void
api_events(struct mgr *m, struct http_request *req, struct http_response *resp)
{
	struct event_filter f;
	int64_t v = 0;
	char s[300];
	int r;
	json_t *arr;

	memset(&f, 0, sizeof(f));
	f.limit = API_DEFAULT_LIMIT;
	r = httpreq_query(req, "computer", s, sizeof(s));
	if (r == -2) {
		http_error(resp, 400, "bad_parameter",
			   "parameter computer is malformed or longer than %zu bytes", sizeof(s) - 1);
		return;
	}
	if (r == 0) {
		struct computer *c = NULL;
		int64_t cid;
		if (parse_i64(s, 1, INT64_MAX, &cid) == 0)
			c = registry_by_id(&m->reg, cid);
		if (c == NULL)
			c = registry_by_guid(&m->reg, s);
		if (c == NULL)
			c = registry_by_name(&m->reg, s);
		if (c != NULL)
			f.computer_id = c->id;
		else if (parse_i64(s, 1, m->reg.next_id - 1, &cid) == 0)
			f.computer_id = cid; /* a deleted computer: its events stay */
		else {
			http_error(resp, 404, "unknown_computer", "no computer with ID, GUID or name \"%s\"", s);
			return;
		}
	}
	if (api_query_int(req, "id", 1, 99999, &v, resp) < 0)
		return;
	f.event_id = (int)(v > 0 ? v : 0);
	v = 0;
	if (api_query_time(req, "since", &f.since_ms, resp) < 0 ||
	    api_query_time(req, "until", &f.until_ms, resp) < 0 ||
	    api_query_int(req, "after", 0, INT64_MAX, &f.after_id, resp) < 0)
		return;
	if (api_query_int(req, "limit", 1, API_MAX_LIMIT, &v, resp) < 0)
		return;
	if (v > 0)
		f.limit = (int)v;
	/* order=desc: newest first, e.g. "the last 10 events of this computer" */
	if (httpreq_query(req, "order", s, sizeof(s)) == 0) {
		if (strcmp(s, "desc") == 0)
			f.descending = 1;
		else if (strcmp(s, "asc") != 0) {
			http_error(resp, 400, "bad_parameter", "parameter order: use asc or desc");
			return;
		}
	}
	/* events recorded in this tick must be visible */
	store_flush(&m->store, 0);
	arr = json_array();
	if (store_events_query(&m->store, &f, api_event_cb, arr) < 0) {
		json_decref(arr);
		http_error(resp, 503, "store_unavailable", "cannot read events from the database");
		return;
	}
	api_reply(resp, json_pack("{s:o}", "events", arr));
}

struct alert_ctx {
	struct mgr *m;
	json_t *arr;
};

static int
api_alert_cb(void *vctx, const struct alert_row *row)
{
	struct alert_ctx *ctx = vctx;
	const struct alert_type *t = alert_type_find(row->type);
	struct computer *c = row->computer_id ? registry_by_id(&ctx->m->reg, row->computer_id) : NULL;
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:b, s:s, s:I, s:I, s:[]}", "ID",
			      (json_int_t)row->id, "alertType", row->type, "name", t ? t->name : row->type,
			      "severity", row->severity, "dismissible", row->dismissible, "description",
			      row->message, "timeRaised", (json_int_t)row->first_raised_ms,
			      "timeChanged", (json_int_t)row->last_changed_ms, "computerIDs");

	if (o == NULL)
		return -1;
	if (row->computer_id) {
		json_array_append_new(json_object_get(o, "computerIDs"), json_integer(row->computer_id));
		json_object_set_new(o, "target", json_string(c ? c->hostname : ""));
	}
	json_object_set_new(o, "timeCleared", row->cleared_ms ? json_integer(row->cleared_ms) : json_null());
	return json_array_append_new(ctx->arr, o);
}

/*
 * ?summary=true: open alerts by type, with the computers each affects (the
 * Alerts page's summary view), from memory.
 */
static void
api_alert_summary(struct mgr *m, struct http_response *resp)
{
	json_t *by_type = json_object(), *arr = json_array(), *s;
	const struct alert *al;
	const char *k;

	for (al = m->alerts.open; al != NULL; al = al->next) {
		const struct computer *c = al->computer_id ? registry_by_id(&m->reg, al->computer_id)
							   : NULL;
		s = json_object_get(by_type, al->type->id);
		if (s == NULL) {
			s = json_pack("{s:s, s:s, s:s, s:b, s:i, s:I, s:I, s:[]}", "alertType",
				      al->type->id, "name", al->type->name, "severity",
				      alert_severity_name(al->type->severity), "dismissible",
				      al->type->dismissible, "count", 0, "firstRaised",
				      (json_int_t)al->first_raised_ms, "lastChanged",
				      (json_int_t)al->last_changed_ms, "computers");
			json_object_set_new(by_type, al->type->id, s);
		}
		json_object_set_new(s, "count",
				    json_integer(json_integer_value(json_object_get(s, "count")) + 1));
		if (al->first_raised_ms < json_integer_value(json_object_get(s, "firstRaised")))
			json_object_set_new(s, "firstRaised", json_integer(al->first_raised_ms));
		if (al->last_changed_ms > json_integer_value(json_object_get(s, "lastChanged")))
			json_object_set_new(s, "lastChanged", json_integer(al->last_changed_ms));
		if (c != NULL)
			json_array_append_new(json_object_get(s, "computers"),
					      json_pack("{s:I, s:s}", "ID", (json_int_t)c->id,
							"hostName", c->hostname));
	}
	json_object_foreach(by_type, k, s)
		json_array_append(arr, s);
	json_decref(by_type);
	api_reply(resp, json_pack("{s:o}", "alertSummaries", arr));
}

static void
api_alerts(struct mgr *m, struct http_request *req, struct http_response *resp)
{
	struct alert_ctx ctx = {m, NULL};
	char v[16];
	int all = httpreq_query(req, "all", v, sizeof(v)) == 0 && strcmp(v, "true") == 0;

	if (httpreq_query(req, "summary", v, sizeof(v)) == 0 && strcmp(v, "true") == 0) {
		api_alert_summary(m, resp);
		return;
	}
	ctx.arr = json_array();
	store_flush(&m->store, 0);
	if (store_alerts_query(&m->store, all, 0, api_alert_cb, &ctx) < 0) {
		json_decref(ctx.arr);
		http_error(resp, 503, "store_unavailable", "cannot read alerts from the database");
		return;
	}
	api_reply(resp, json_pack("{s:o}", "alerts", ctx.arr));
}

static void
api_healthz(struct mgr *m, struct http_response *resp)
{
	size_t i, online = 0, offline = 0;

	for (i = 0; i < m->reg.n; i++) {
		const struct computer *c = m->reg.byid[i];
		if (c->state != COMPUTER_ACTIVATED)
			continue;
		if (c->offline)
			offline++;
		else
			online++;
	}
	api_reply(resp, json_pack("{s:s, s:I, s:I, s:I, s:I, s:i, s:i, s:s}", "status", "ok",
				  "uptimeSeconds", (json_int_t)((mono_ms() - m->started_mono) / 1000),
				  "computers", (json_int_t)m->reg.n, "online", (json_int_t)online,
				  "offline", (json_int_t)offline, "agentPort", m->agent_srv.port,
				  "apiPort", m->api_srv.port, "caFingerprint", m->ca.fingerprint));
}

/* GET /metrics: the Prometheus text format (metrics.h). */
static void
api_metrics(struct mgr *m, const char *method, struct http_response *resp)
{
	if (strcmp(method, "GET") != 0) {
		http_error(resp, 405, "method_not_allowed", "use GET");
		return;
	}
	if (metrics_render(m, &resp->body) < 0) {
		http_error(resp, 500, "internal", "cannot render the metrics");
		return;
	}
	resp->status = 200;
	resp->content_type = METRICS_CONTENT_TYPE;
}

/* Licenses, seats and who holds them. */
static json_t *
api_licenses_json(struct mgr *m)
{
	int64_t now = now_ms(), total = lic_seats_total(m, now);
	json_t *arr = json_array(), *holders = json_array();
	const struct license *l;
	size_t i;

	for (l = m->lic.list; l; l = l->next) {
		json_t *mods = json_array();
		char copy[APIBODY_MAX_MODULES + 1], *save = NULL, *tok;
		str_copy(copy, l->modules, sizeof(copy));
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			json_array_append_new(mods, json_string(tok));
		json_array_append_new(
			arr, json_pack("{s:I, s:I, s:o, s:o, s:I, s:b}", "ID", (json_int_t)l->id,
				       "seats", (json_int_t)l->seats, "modules", mods, "expires",
				       l->expires_ms ? json_integer(l->expires_ms) : json_null(),
				       "created", (json_int_t)l->created_ms, "expired",
				       l->expires_ms && l->expires_ms <= now));
	}
	for (i = 0; i < m->reg.n; i++)
		if (lic_holds_seat(m->reg.byid[i]))
			json_array_append_new(holders, json_pack("{s:I, s:s}", "ID",
								 (json_int_t)m->reg.byid[i]->id,
								 "hostName", m->reg.byid[i]->hostname));
	return json_pack("{s:o, s:{s:o, s:I, s:o, s:b}, s:o}", "licenses", arr, "seats", "total",
			 total < 0 ? json_null() : json_integer(total), "used",
			 (json_int_t)m->lic.seats_used, "free",
			 total < 0 ? json_null()
				   : json_integer(total > m->lic.seats_used ? total - m->lic.seats_used
									    : 0),
			 "unlimited", total < 0, "holders", holders);
}

static void
api_licenses(struct mgr *m, const char *method, struct http_request *req,
	     struct http_response *resp)
{
	struct license_req lr;
	struct license *added;
	char err[512];

	if (strcmp(method, "GET") == 0) {
		api_reply(resp, api_licenses_json(m));
		return;
	}
	if (strcmp(method, "POST") != 0) {
		http_error(resp, 405, "method_not_allowed", "use GET or POST");
		return;
	}
	if (apibody_license(req->body.data ? req->body.data : "", req->body.len, &lr, err,
			    sizeof(err)) < 0) {
		http_error(resp, 400, "bad_request", "%s", err);
		return;
	}
	if (lic_add(m, lr.seats, lr.modules, lr.expires_ms, &added) < 0) {
		http_error(resp, 503, "store_unavailable", "the license could not be stored; try again");
		return;
	}
	api_reply(resp, api_licenses_json(m));
	resp->status = 201;
}

/* GET/POST /api/activationsettings: who may activate, what a duplicate does. */
static void
api_activation_settings(struct mgr *m, const char *method, struct http_request *req,
			struct http_response *resp)
{
	struct act_settings next = m->act;
	char err[256], *text;
	json_t *o, *cur;

	if (strcmp(method, "GET") == 0) {
		api_reply(resp, act_to_json(&m->act));
		return;
	}
	if (strcmp(method, "POST") != 0) {
		http_error(resp, 405, "method_not_allowed", "use GET or POST");
		return;
	}
	o = jsonbody_object(req->body.data ? req->body.data : "", req->body.len, err, sizeof(err));
	if (o == NULL || act_from_json(&next, o, err, sizeof(err)) < 0) {
		json_decref(o);
		http_error(resp, 400, "bad_request", "%s", err);
		return;
	}
	json_decref(o);
	cur = act_to_json(&next);
	text = cur ? json_dumps(cur, JSON_COMPACT) : NULL;
	if (text == NULL || store_setting_set(&m->store, "activation_settings", text) < 0) {
		free(text);
		json_decref(cur);
		http_error(resp, 503, "store_unavailable", "the settings could not be stored; try again");
		return;
	}
	m->act = next;
	event_record(m, EV_SETTINGS_CHANGED, NULL, "activation settings: %s", text);
	free(text);
	api_reply(resp, cur);
}

/*
 * DELETE /api/computers/{ID}: the computer leaves the list (its events
 * stay).  A deactivated one's certificate stays revoked for good; an
 * activated one's agent comes back as a new computer only when
 * "reactivate unknown agents" is on (Deep Security's behaviour).
 */
static void
api_computer_delete(struct mgr *m, struct conn *conn, struct computer *comp,
		    struct http_response *resp)
{
	char by[128], name[MAX_HOSTNAME + 1], guid[GUID_LEN];
	int64_t id = comp->id;
	int was_activated = comp->state == COMPUTER_ACTIVATED;

	str_copy(name, comp->hostname, sizeof(name));
	str_copy(guid, comp->guid, sizeof(guid));
	snprintf(by, sizeof(by), "the operator through the REST API from %s", conn->peer_ip);
	if (status_delete(m, comp, by) < 0) {
		http_error(resp, 503, "store_unavailable",
			   "computer %s was not deleted: the manager cannot write its database", name);
		return;
	}
	api_reply(resp, json_pack("{s:I, s:s, s:s, s:b, s:s}", "ID", (json_int_t)id, "hostName", name,
				  "guid", guid, "deleted", 1, "note",
				  was_activated ? "the agent was still activated: it is refused (or comes "
						  "back as a new computer when reactivating unknown "
						  "agents is on) at its next heartbeat"
						: "its certificate stays revoked"));
}

/*
 * Operator actions on a computer: POST .../checkstatus (event 267),
 * .../sendpolicy (256), .../clearalerts (266); GET .../tasks.
 */
static void
api_computer_action(struct mgr *m, struct conn *conn, const char *method, struct computer *c,
		    const char *what, struct http_response *resp)
{
	char by[128], err[256], cleared[512];
	struct ctask *t;

	if (strcmp(what, "tasks") == 0) {
		if (strcmp(method, "GET") != 0)
			http_error(resp, 405, "method_not_allowed", "use GET");
		else
			api_reply(resp, json_pack("{s:I, s:s, s:o}", "ID", (json_int_t)c->id,
						  "hostName", c->hostname, "tasks",
						  contact_tasks_json(c)));
		return;
	}
	if (strcmp(method, "POST") != 0) {
		http_error(resp, 405, "method_not_allowed", "use POST");
		return;
	}
	snprintf(by, sizeof(by), "the operator through the REST API from %s", conn->peer_ip);
	if (strcmp(what, "clearalerts") == 0) {
		int n = status_clear_warnings(m, c, by, cleared, sizeof(cleared));
		api_reply(resp, json_pack("{s:I, s:i, s:s, s:o}", "ID", (json_int_t)c->id, "cleared",
					  n, "names", cleared, "computer", api_computer_json(m, c)));
		return;
	}
	t = contact_task(m, c, strcmp(what, "checkstatus") == 0 ? TASK_CHECK_STATUS : TASK_SEND_POLICY,
			 by, err, sizeof(err));
	if (t == NULL) {
		http_error(resp, 409, "not_activated", "%s", err);
		return;
	}
	event_record(m, t->kind == TASK_CHECK_STATUS ? EV_CHECK_STATUS : EV_SEND_POLICY_REQUESTED, c,
		     "%s by %s (%s)", t->kind == TASK_CHECK_STATUS ? "check status" : "send policy", by,
		     ctask_name(t));
	api_reply(resp, json_pack("{s:I, s:s, s:o}", "ID", (json_int_t)c->id, "task", ctask_name(t),
				  "tasks", contact_tasks_json(c)));
}

/*
 * /api/computers/{ID|GUID}: GET shows it, DELETE deletes it; POST .../deactivate revokes its
 * certificate at once (later heartbeats are refused with 770) and frees it;
 * POST .../power {"state":"stopped"|"running"} sets its power state.
 */
static void
api_computer_item(struct mgr *m, struct conn *conn, const char *method, const char *rest,
		  struct http_request *req, struct http_response *resp)
{
	struct computer *comp = NULL;
	const char *slash = strchr(rest, '/');
	char ref[GUID_LEN + 1];
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
	int64_t id;

	if (n < sizeof(ref)) {
		memcpy(ref, rest, n);
		ref[n] = '\0';
		if (parse_i64(ref, 1, INT64_MAX, &id) == 0)
			comp = registry_by_id(&m->reg, id);
		else
			comp = registry_by_guid(&m->reg, ref);
	}
	if (comp == NULL) {
		http_error(resp, 404, "unknown_computer", "no computer with ID or GUID \"%.*s\"",
			   (int)(n > 64 ? 64 : n), rest);
		return;
	}
	if (slash == NULL) {
		if (strcmp(method, "DELETE") == 0) {
			api_computer_delete(m, conn, comp, resp);
			return;
		}
		if (strcmp(method, "GET") != 0) {
			http_error(resp, 405, "method_not_allowed", "use GET or DELETE");
			return;
		}
		api_reply(resp, api_computer_json(m, comp));
		return;
	}
	if (strcmp(slash, "/settings") == 0 || strcmp(slash, "/policy") == 0) {
		api_computer_policy(m, conn, method, comp, slash + 1, req, resp);
		return;
	}
	if (strcmp(slash, "/tasks") == 0 || strcmp(slash, "/checkstatus") == 0 ||
	    strcmp(slash, "/sendpolicy") == 0 || strcmp(slash, "/clearalerts") == 0) {
		api_computer_action(m, conn, method, comp, slash + 1, resp);
		return;
	}
	if (strcmp(slash, "/deactivate") != 0 && strcmp(slash, "/power") != 0) {
		http_error(resp, 404, "not_found", "no such resource under the computer: %s", slash);
		return;
	}
	if (strcmp(method, "POST") != 0) {
		http_error(resp, 405, "method_not_allowed", "use POST");
		return;
	}
	if (strcmp(slash, "/power") == 0) {
		char err[256], by[96];
		int stopped;
		if (apibody_power(req->body.data ? req->body.data : "", req->body.len, &stopped, err,
				  sizeof(err)) < 0) {
			http_error(resp, 400, "bad_request", "%s", err);
			return;
		}
		snprintf(by, sizeof(by), "set through the REST API from %s", conn->peer_ip);
		status_power(m, comp, stopped, by);
		api_reply(resp, api_computer_json(m, comp));
		return;
	}
	if (comp->state == COMPUTER_DEACTIVATED) {
		http_error(resp, 409, "already_deactivated", "computer %s is already deactivated",
			   comp->hostname);
		return;
	}
	status_deactivate(m, comp, "by the operator through the REST API from", conn->peer_ip, 1);
	api_reply(resp, api_computer_json(m, comp));
}

/*
 * GET /api/agentdeploymentscripts[?policy=P&group=G&retry_interval=S&max_retries=N]
 * (or POST with {"policy","group","retryInterval","maxRetries"}): the
 * deployment script, as {"scriptBody": "..."} like Deep Security's API.
 */
static void
api_deploy_script(struct mgr *m, struct conn *conn, const char *method, struct http_request *req,
		  struct http_response *resp)
{
	struct deploy_opts o = {NULL, NULL, 300, 30};
	char policy[256] = "", group[256] = "", err[256];
	char *script;
	json_t *body = NULL;

	if (strcmp(method, "GET") == 0) {
		if (httpreq_query(req, "policy", policy, sizeof(policy)) == -2 ||
		    httpreq_query(req, "group", group, sizeof(group)) == -2) {
			http_error(resp, 400, "bad_parameter",
				   "parameter policy or group is malformed or longer than 255 bytes");
			return;
		}
		if (api_query_int(req, "retry_interval", 1, 3600, &o.retry_interval, resp) < 0 ||
		    api_query_int(req, "max_retries", 0, 100, &o.max_retries, resp) < 0)
			return;
	} else if (strcmp(method, "POST") == 0) {
		json_t *v;
		body = jsonbody_object(req->body.data ? req->body.data : "", req->body.len, err,
				       sizeof(err));
		if (body == NULL) {
			http_error(resp, 400, "bad_request", "%s", err);
			return;
		}
		v = json_object_get(body, "policy");
		if (v != NULL && (!json_is_string(v) || json_string_length(v) > 255)) {
			json_decref(body);
			http_error(resp, 400, "bad_request", "field \"policy\" must be a policy name");
			return;
		}
		str_copy(policy, v ? json_string_value(v) : "", sizeof(policy));
		v = json_object_get(body, "group");
		if (v != NULL && (!json_is_string(v) || json_string_length(v) > 255)) {
			json_decref(body);
			http_error(resp, 400, "bad_request", "field \"group\" must be a group name");
			return;
		}
		str_copy(group, v ? json_string_value(v) : "", sizeof(group));
		if ((v = json_object_get(body, "retryInterval")) != NULL)
			o.retry_interval = json_is_integer(v) ? json_integer_value(v) : -1;
		if ((v = json_object_get(body, "maxRetries")) != NULL)
			o.max_retries = json_is_integer(v) ? json_integer_value(v) : -1;
		json_decref(body);
	} else {
		http_error(resp, 405, "method_not_allowed", "use GET or POST");
		return;
	}
	o.policy = policy;
	o.group = group;
	script = deploy_script(m, &o, err, sizeof(err));
	if (script == NULL) {
		http_error(resp, 400, "bad_request", "%s", err);
		return;
	}
	event_record(m, EV_DEPLOY_SCRIPT, NULL, "deployment script handed out to %s (retry every "
		     "%lld s, up to %lld times)",
		     conn->peer_ip, (long long)o.retry_interval, (long long)o.max_retries);
	api_reply(resp, json_pack("{s:s}", "scriptBody", script));
	OPENSSL_cleanse(script, strlen(script));
	free(script);
}

/* POST /api/inventory: power states from a hypervisor or cloud (inventory.h). */
static void
api_inventory(struct mgr *m, struct conn *conn, const char *method, struct http_request *req,
	      struct http_response *resp)
{
	struct inventory_req inv;
	char err[512], by[128];
	json_t *out;

	if (strcmp(method, "POST") != 0) {
		http_error(resp, 405, "method_not_allowed", "use POST");
		return;
	}
	if (apibody_inventory(req->body.data ? req->body.data : "", req->body.len, &inv, err,
			      sizeof(err)) < 0) {
		http_error(resp, 400, "bad_request", "%s", err);
		return;
	}
	snprintf(by, sizeof(by), "inventory push from %s", conn->peer_ip);
	out = inventory_apply(m, &inv, by);
	apibody_inventory_clear(&inv);
	if (out == NULL) {
		http_error(resp, 500, "internal", "cannot encode the response");
		return;
	}
	api_reply(resp, out);
}

/* POST /api/alerts/{ID}/dismiss: dismissible alerts only (event 800). */
static void
api_alert_item(struct mgr *m, struct conn *conn, const char *method, const char *rest,
	       struct http_response *resp)
{
	const char *slash = strchr(rest, '/');
	char idtext[24], err[256], by[128];
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
	int64_t id;
	int rc;

	if (slash == NULL || strcmp(slash, "/dismiss") != 0) {
		http_error(resp, 404, "not_found", "no such resource: /api/alerts/%.64s", rest);
		return;
	}
	if (strcmp(method, "POST") != 0) {
		http_error(resp, 405, "method_not_allowed", "use POST");
		return;
	}
	if (n >= sizeof(idtext) || (memcpy(idtext, rest, n), idtext[n] = '\0',
				    parse_i64(idtext, 1, INT64_MAX, &id)) < 0) {
		http_error(resp, 400, "bad_parameter", "the alert ID must be a whole number");
		return;
	}
	snprintf(by, sizeof(by), "the operator through the REST API from %s", conn->peer_ip);
	rc = alert_dismiss(m, id, by, err, sizeof(err));
	if (rc == -1) {
		http_error(resp, 404, "unknown_alert", "%s", err);
		return;
	}
	if (rc == -2) {
		http_error(resp, 409, "not_dismissible", "%s", err);
		return;
	}
	api_reply(resp, json_pack("{s:I, s:b}", "ID", (json_int_t)id, "dismissed", 1));
}

void
api_handle(struct mgr *m, struct conn *c, struct http_request *req, struct http_response *resp)
{
	char path[256];
	const char *method = httpreq_method_name(req), *key, *ver;

	/* the API sees only durable computers: activations still in the batch commit first */
	agentsvc_commit(m);
	if (httpreq_path(req, path, sizeof(path)) < 0) {
		http_error(resp, 404, "not_found", "no such resource");
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		api_healthz(m, resp);
		return;
	}
	key = httpreq_header(req, "api-secret-key");
	if (key == NULL) {
		const char *auth = httpreq_header(req, "authorization");
		if (auth != NULL && strncmp(auth, "ApiKey ", 7) == 0)
			key = auth + 7;
		/* Prometheus sends its credentials as a bearer token */
		else if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0 &&
			 strcmp(path, "/metrics") == 0)
			key = auth + 7;
	}
	if (strcmp(path, "/metrics") == 0 && !m->cfg.metrics_require_key) {
		api_metrics(m, method, resp);
		return;
	}
	if (key == NULL || *key == '\0') {
		http_error(resp, 401, "api_key_required",
			   "send the API key in the api-secret-key header");
		return;
	}
	if (!secret_check(key, m->api_key_hash)) {
		log_info("api: %s: request with a wrong API key refused", c->peer_ip);
		http_error(resp, 401, "bad_api_key", "the API key is not valid for this manager");
		return;
	}
	ver = httpreq_header(req, "api-version");
	if (ver != NULL && strcmp(ver, "v1") != 0) {
		http_error(resp, 400, "bad_api_version", "api-version \"%s\" is not supported; use v1", ver);
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		api_metrics(m, method, resp);
		return;
	}
	if (strncmp(path, "/api/computers/", 15) == 0) {
		api_computer_item(m, c, method, path + 15, req, resp);
		return;
	}
	if (strncmp(path, "/api/alerts/", 12) == 0) {
		api_alert_item(m, c, method, path + 12, resp);
		return;
	}
	if (strcmp(path, "/api/policies") == 0 || strncmp(path, "/api/policies/", 14) == 0) {
		api_policies(m, c, method, path + 13, req, resp);
		return;
	}
	if (strcmp(path, "/api/agentdeploymentscripts") == 0) {
		api_deploy_script(m, c, method, req, resp);
		return;
	}
	if (strcmp(path, "/api/inventory") == 0) {
		api_inventory(m, c, method, req, resp);
		return;
	}
	if (strcmp(path, "/api/licenses") == 0) {
		api_licenses(m, method, req, resp);
		return;
	}
	if (strcmp(path, "/api/activationsettings") == 0) {
		api_activation_settings(m, method, req, resp);
		return;
	}
	if (strcmp(method, "GET") != 0) {
		http_error(resp, 405, "method_not_allowed", "%s is not supported on %s", method, path);
		return;
	}
	if (strcmp(path, "/api/computers") == 0) {
		api_computers(m, req, resp);
	} else if (strcmp(path, "/api/events") == 0 || strcmp(path, "/api/systemevents") == 0) {
		api_events(m, req, resp);
	} else if (strcmp(path, "/api/alerts") == 0) {
		api_alerts(m, req, resp);
	} else {
		http_error(resp, 404, "not_found", "no such resource: %s", path);
	}
}
