/*
 * api_policy: the REST API of policies and of computers' own settings
 * (docs/PROTOCOL.md, "Policies"):
 *   GET  /api/policies                       list
 *   POST /api/policies                       create {"name", "description", "parentID", "settings"}
 *   GET  /api/policies/{ID}                  one, with each setting's value and source
 *   POST /api/policies/{ID}                  change {"description", "parentID", "settings"}
 *   GET  /api/policies/{ID}/settings/{name}  {"value": ...}, as Deep Security answers
 *   POST /api/policies/{ID}/settings/{name}  {"value": ...}; "inherited" or null unsets
 *   GET  /api/computers/{ID}/settings        the computer's effective settings and sources
 *   POST /api/computers/{ID}/settings        overrides {"name": value | "inherited"}
 *   POST /api/computers/{ID}/policy          {"policyID": N} assigns (event 253)
 */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonbody.h"
#include "mgr.h"
#include "policy.h"
#include "registry.h"
#include "status.h"
#include "util.h"

static json_t *
api_setting_json(int ps, int64_t v, int inherited, const char *source)
{
	return json_pack("{s:s, s:s, s:o, s:b, s:s}", "name", ps_table[ps].name, "dsName",
	                 ps_table[ps].ds_name, "value", ps_json(ps, v), "inherited", inherited,
	                 "source", source);
}

static const char *
api_policy_source(const struct mgr *m, const struct policy *p, int ps)
{
	const struct policy *from;

	if (p->eff_from[ps] == 0)
		return "configuration";
	from = policy_by_id(m, p->eff_from[ps]);
	return from ? from->name : "configuration";
}

static json_t *
api_policy_json(struct mgr *m, const struct policy *p)
{
	json_t *settings = json_object(), *own = policy_values_json(&p->own);
	size_t i, n = 0;
	int ps;

	for (ps = 0; ps < PS_COUNT; ps++)
		json_object_set_new(settings, ps_table[ps].name,
		                    api_setting_json(ps, p->eff[ps], !(p->own.set & (1u << ps)),
		                                     api_policy_source(m, p, ps)));
	for (i = 0; i < m->reg.n; i++)
		n += m->reg.byid[i]->pol == p;
	return json_pack("{s:I, s:s, s:s, s:o, s:o, s:{s:o, s:s, s:I, s:I, s:I}}", "ID",
	                 (json_int_t)p->id, "name", p->name, "description", p->description,
	                 "parentID", p->parent_id ? json_integer(p->parent_id) : json_null(),
	                 "policySettings", settings, "vigil", "ownSettings",
	                 own ? own : json_object(), "configFingerprint", p->fpr, "computers",
	                 (json_int_t)n, "created", (json_int_t)p->created_ms, "changed",
	                 (json_int_t)p->changed_ms);
}

static json_t *
api_body(struct http_request *req, struct http_response *resp)
{
	char err[256];
	json_t *o =
	    jsonbody_object(req->body.data ? req->body.data : "", req->body.len, err, sizeof(err));

	if (o == NULL)
		http_error(resp, 400, "bad_request", "%s", err);
	return o;
}

/* "parentID": a number, or null / 0 for none; -1 when absent. */
static int
api_parent(const json_t *body, int64_t dflt, int64_t *out, struct http_response *resp)
{
	json_t *v = json_object_get(body, "parentID");

	*out = dflt;
	if (v == NULL)
		return 0;
	if (json_is_null(v)) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		http_error(resp, 400, "bad_request",
		           "field \"parentID\" must be a policy ID or null");
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* An optional string field of at most max bytes; NULL when absent. */
static int
api_opt_str(const json_t *body, const char *name, size_t max, const char **out,
            struct http_response *resp)
{
	json_t *v = json_object_get(body, name);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		http_error(resp, 400, "bad_request",
		           "field \"%s\" must be a string of at most %zu bytes", name, max);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static void
api_by(const struct conn *conn, char *by, size_t bysize)
{
	snprintf(by, bysize, "the operator through the REST API from %s", conn->peer_ip);
}

/*
 * A refused create or change: the database's failure is 503 (nothing
 * changed, try again), anything else the caller's 400.  policy.c says which
 * by its sentence ("cannot write its database").
 */
static void
api_policy_refused(struct http_response *resp, const char *err)
{
	int store = strstr(err, "database") != NULL;

	http_error(resp, store ? 503 : 400, store ? "store_unavailable" : "bad_request", "%s", err);
}

static void
api_policy_create(struct mgr *m, struct conn *conn, struct http_request *req,
                  struct http_response *resp)
{
	struct policy_values pv;
	struct policy *p;
	const char *name, *desc;
	char err[512], by[128];
	int64_t parent;
	json_t *body = api_body(req, resp), *settings;

	if (body == NULL)
		return;
	memset(&pv, 0, sizeof(pv));
	if (api_opt_str(body, "name", POLICY_MAX_NAME, &name, resp) < 0 ||
	    api_opt_str(body, "description", POLICY_MAX_DESCRIPTION, &desc, resp) < 0 ||
	    api_parent(body, POLICY_DEFAULT_ID, &parent, resp) < 0)
		goto out;
	if (name == NULL) {
		http_error(resp, 400, "bad_request", "field \"name\" is required");
		goto out;
	}
	settings = json_object_get(body, "settings");
	if (settings != NULL && policy_values_parse(settings, &pv, NULL, err, sizeof(err)) < 0) {
		http_error(resp, 400, "bad_request", "%s", err);
		goto out;
	}
	api_by(conn, by, sizeof(by));
	p = policy_create(m, name, desc, parent, by, err, sizeof(err));
	if (p == NULL) {
		api_policy_refused(resp, err);
		goto out;
	}
	if (pv.set && policy_update(m, p, &pv, 0, -1, NULL, by, err, sizeof(err)) < 0) {
		http_error(resp, 503, "store_unavailable", "policy %s was created, but %s", p->name,
		           err);
		goto out;
	}
	api_reply(resp, api_policy_json(m, p));
out:
	json_decref(body);
}

static void
api_policy_update(struct mgr *m, struct conn *conn, struct policy *p, struct http_request *req,
                  struct http_response *resp)
{
	struct policy_values pv;
	uint32_t unset = 0;
	const char *desc, *name;
	char err[512], by[128];
	int64_t parent;
	json_t *body = api_body(req, resp), *settings;

	if (body == NULL)
		return;
	memset(&pv, 0, sizeof(pv));
	if (api_opt_str(body, "description", POLICY_MAX_DESCRIPTION, &desc, resp) < 0 ||
	    api_opt_str(body, "name", POLICY_MAX_NAME, &name, resp) < 0 ||
	    api_parent(body, -1, &parent, resp) < 0)
		goto out;
	if (name != NULL && strcmp(name, p->name) != 0) {
		http_error(resp, 400, "bad_request",
		           "policies cannot be renamed (yet): \"name\" must "
		           "stay \"%s\"",
		           p->name);
		goto out;
	}
	if (p->id == POLICY_DEFAULT_ID && parent > 0) {
		http_error(resp, 400, "bad_request", "the Default policy has no parent");
		goto out;
	}
	settings = json_object_get(body, "settings");
	if (settings != NULL && policy_values_parse(settings, &pv, &unset, err, sizeof(err)) < 0) {
		http_error(resp, 400, "bad_request", "%s", err);
		goto out;
	}
	api_by(conn, by, sizeof(by));
	if (policy_update(m, p, &pv, unset, parent, desc, by, err, sizeof(err)) < 0) {
		api_policy_refused(resp, err);
		goto out;
	}
	api_reply(resp, api_policy_json(m, p));
out:
	json_decref(body);
}

/* .../settings/{name} of a policy: GET, or POST {"value": ...} */
static void
api_policy_setting(struct mgr *m, struct conn *conn, const char *method, struct policy *p,
                   const char *name, struct http_request *req, struct http_response *resp)
{
	struct policy_values pv;
	char err[512], by[128];
	int ps = ps_lookup(name);
	json_t *body, *v;

	if (ps < 0) {
		http_error(resp, 404, "unknown_setting", "no policy setting named \"%.64s\"", name);
		return;
	}
	if (strcmp(method, "GET") == 0) {
		api_reply(resp, api_setting_json(ps, p->eff[ps], !(p->own.set & (1u << ps)),
		                                 api_policy_source(m, p, ps)));
		return;
	}
	if (strcmp(method, "POST") != 0) {
		http_error(resp, 405, "method_not_allowed", "use GET or POST");
		return;
	}
	if ((body = api_body(req, resp)) == NULL)
		return;
	v = json_object_get(body, "value");
	memset(&pv, 0, sizeof(pv));
	api_by(conn, by, sizeof(by));
	if (v == NULL) {
		http_error(resp, 400, "bad_request", "field \"value\" is required");
	} else if (json_is_null(v) ||
	           (json_is_string(v) && strcmp(json_string_value(v), "inherited") == 0)) {
		if (policy_update(m, p, NULL, 1u << ps, -1, NULL, by, err, sizeof(err)) < 0)
			http_error(resp, 503, "store_unavailable", "%s", err);
		else
			api_reply(resp,
			          api_setting_json(ps, p->eff[ps], 1, api_policy_source(m, p, ps)));
	} else if (ps_parse_json(ps, v, &pv.v[ps], err, sizeof(err)) < 0) {
		http_error(resp, 400, "bad_request", "%s", err);
	} else {
		pv.set = 1u << ps;
		if (policy_update(m, p, &pv, 0, -1, NULL, by, err, sizeof(err)) < 0)
			http_error(resp, 503, "store_unavailable", "%s", err);
		else
			api_reply(resp, api_setting_json(ps, p->eff[ps], 0, p->name));
	}
	json_decref(body);
}

void
api_policies(struct mgr *m, struct conn *conn, const char *method, const char *rest,
             struct http_request *req, struct http_response *resp)
{
	struct policy *p;
	const char *slash;
	char ref[POLICY_MAX_NAME + 1];
	size_t n;

	if (*rest == '\0') {
		if (strcmp(method, "POST") == 0) {
			api_policy_create(m, conn, req, resp);
		} else if (strcmp(method, "GET") == 0) {
			json_t *arr = json_array();
			for (p = m->pol.list; p != NULL; p = p->next)
				json_array_append_new(arr, api_policy_json(m, p));
			api_reply(resp, json_pack("{s:o}", "policies", arr));
		} else {
			http_error(resp, 405, "method_not_allowed", "use GET or POST");
		}
		return;
	}
	rest++; /* the '/' */
	slash = strchr(rest, '/');
	n = slash ? (size_t)(slash - rest) : strlen(rest);
	p = NULL;
	if (n > 0 && n < sizeof(ref)) {
		memcpy(ref, rest, n);
		ref[n] = '\0';
		p = policy_find(m, ref);
	}
	if (p == NULL) {
		http_error(resp, 404, "unknown_policy", "no policy with ID or name \"%.*s\"",
		           (int)(n > 64 ? 64 : n), rest);
		return;
	}
	if (slash == NULL) {
		if (strcmp(method, "GET") == 0)
			api_reply(resp, api_policy_json(m, p));
		else if (strcmp(method, "POST") == 0)
			api_policy_update(m, conn, p, req, resp);
		else
			http_error(resp, 405, "method_not_allowed", "use GET or POST");
		return;
	}
	if (strncmp(slash, "/settings/", 10) == 0 && slash[10] != '\0') {
		api_policy_setting(m, conn, method, p, slash + 10, req, resp);
		return;
	}
	http_error(resp, 404, "not_found", "no such resource under the policy: %.64s", slash);
}

static json_t *
api_computer_settings_json(struct mgr *m, const struct computer *c)
{
	json_t *settings = json_object(), *own = policy_values_json(c->ov);
	int ps;

	for (ps = 0; ps < PS_COUNT; ps++)
		json_object_set_new(settings, ps_table[ps].name,
		                    api_setting_json(ps, policy_value(m, c, ps),
		                                     !(c->ov != NULL && (c->ov->set & (1u << ps))),
		                                     policy_value_source(m, c, ps)));
	return json_pack("{s:I, s:s, s:I, s:s, s:o, s:o}", "ID", (json_int_t)c->id, "hostName",
	                 c->hostname, "policyID", (json_int_t)(c->pol ? c->pol->id : 0),
	                 "policyName", c->pol ? c->pol->name : "", "computerSettings", settings,
	                 "ownSettings", own ? own : json_object());
}

void
api_computer_policy(struct mgr *m, struct conn *conn, const char *method, struct computer *c,
                    const char *what, struct http_request *req, struct http_response *resp)
{
	struct policy_values pv;
	uint32_t unset = 0;
	char err[512], by[128];
	json_t *body, *v;

	if (strcmp(what, "settings") == 0 && strcmp(method, "GET") == 0) {
		api_reply(resp, api_computer_settings_json(m, c));
		return;
	}
	if (strcmp(method, "POST") != 0) {
		http_error(resp, 405, "method_not_allowed", "use %s",
		           strcmp(what, "settings") == 0 ? "GET or POST" : "POST");
		return;
	}
	if ((body = api_body(req, resp)) == NULL)
		return;
	api_by(conn, by, sizeof(by));
	if (strcmp(what, "settings") == 0) {
		if (policy_values_parse(body, &pv, &unset, err, sizeof(err)) < 0)
			http_error(resp, 400, "bad_request", "%s", err);
		else if (policy_override(m, c, &pv, unset, by, err, sizeof(err)) < 0)
			http_error(resp, 500, "internal", "%s", err);
		else
			api_reply(resp, api_computer_settings_json(m, c));
	} else {
		struct policy *p = NULL;
		v = json_object_get(body, "policyID");
		if (json_is_integer(v))
			p = policy_by_id(m, json_integer_value(v));
		else if (json_is_string(v = json_object_get(body, "policy")))
			p = policy_find(m, json_string_value(v));
		if (p == NULL) {
			http_error(resp, v == NULL ? 400 : 404,
			           v == NULL ? "bad_request" : "unknown_policy",
			           v == NULL ? "give \"policyID\" (or \"policy\", a name)"
			                     : "no such policy");
		} else {
			policy_assign(m, c, p, by);
			api_reply(resp, api_computer_settings_json(m, c));
		}
	}
	json_decref(body);
}
