/*
 * vctl_policy: vigilctl's policy commands and a computer's own settings.
 *   policy list [--json]
 *   policy show NAME|ID [--json]
 *   policy create NAME [--parent P|none] [--description D] [KEY=VALUE ...]
 *   policy set NAME|ID [--parent P|none] [--description D] [KEY=VALUE|KEY=inherited ...]
 *   policy assign NAME|ID COMPUTER ...
 *   computer settings COMPUTER [KEY=VALUE|KEY=inherited ...]
 * Policies are found by name or ID through GET /api/policies, so names
 * with spaces need no escaping in URLs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "util.h"
#include "vctl.h"

/* The policy called ref (name or ID), as the API's object; 0 or the exit status. */
static int
vctl_policy_find(struct vctl *v, const char *ref, json_t **pol_r)
{
	json_t *res = NULL, *arr, *p;
	size_t i;
	int64_t id = 0;

	*pol_r = NULL;
	if (ctlapi_get(&v->api, "/api/policies", 1, &res, &v->err) < 0)
		return vctl_api_fail(v);
	arr = json_object_get(res, "policies");
	if (!json_is_array(arr)) {
		json_decref(res);
		return vctl_bad_answer(v, "a \"policies\" list");
	}
	if (parse_i64(ref, 1, INT64_MAX, &id) < 0)
		id = 0;
	json_array_foreach (arr, i, p) {
		if (strcmp(jstr(p, "name"), ref) == 0 || (id && jint(p, "ID") == id)) {
			*pol_r = json_incref(p);
			break;
		}
	}
	json_decref(res);
	if (*pol_r == NULL) {
		vctl_warnx("no policy named \"%s\" (vigilctl policy list shows them)", ref);
		return CTLAPI_EXIT_API;
	}
	return 0;
}

/* KEY=VALUE words into {"key": "value"}; "inherited" is passed on as such. */
static int
vctl_settings_words(char **words, int n, json_t **obj_r)
{
	json_t *o = json_object();
	int i;

	*obj_r = NULL;
	if (o == NULL) {
		vctl_warnx("out of memory");
		return CTLAPI_EXIT_API;
	}
	for (i = 0; i < n; i++) {
		const char *eq = strchr(words[i], '=');
		char key[64];
		if (eq == NULL || eq == words[i] || (size_t)(eq - words[i]) >= sizeof(key)) {
			json_decref(o);
			return vctl_usage_error(
			    "\"%s\": expected SETTING=VALUE (vigilctl policy show "
			    "Default lists the settings)",
			    words[i]);
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - words[i]), words[i]);
		json_object_set_new(o, key, json_string(eq + 1));
	}
	*obj_r = o;
	return 0;
}

static const char *
vctl_value_text(const json_t *v, char *buf, size_t bufsize)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, bufsize, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return "";
}

/* SETTING VALUE SOURCE, one row per setting of obj ("policySettings" or "computerSettings") */
static int
vctl_print_settings(const json_t *settings)
{
	static const char *const hdr[] = {"SETTING", "VALUE", "SOURCE"};
	struct table *t = table_new(ARRAY_SIZE(hdr), hdr);
	const char *k;
	json_t *s;
	char num[32];

	if (t == NULL)
		goto oom;
	json_object_foreach ((json_t *)settings, k, s) {
		const char *row[3];
		char src[160];
		snprintf(src, sizeof(src), "%s%s",
		         json_is_true(json_object_get(s, "inherited")) ? "inherited from "
		                                                       : "set here",
		         json_is_true(json_object_get(s, "inherited")) ? jstr(s, "source") : "");
		row[0] = k;
		row[1] = vctl_value_text(json_object_get(s, "value"), num, sizeof(num));
		row[2] = src;
		if (table_add(t, row) < 0)
			goto oom;
	}
	table_print(t, stdout);
	table_free(&t);
	return 0;
oom:
	table_free(&t);
	vctl_warnx("out of memory");
	return CTLAPI_EXIT_API;
}

static int
vctl_policy_print(struct vctl *v, json_t *p)
{
	json_t *vg = json_object_get(p, "vigil"), *parent = json_object_get(p, "parentID");
	char s[64];

	if (v->given & OPT_JSON)
		return vctl_print_json(p);
	vctl_kv("Name:", jstr(p, "name"));
	snprintf(s, sizeof(s), "%lld", (long long)jint(p, "ID"));
	vctl_kv("ID:", s);
	if (json_is_integer(parent))
		snprintf(s, sizeof(s), "%lld", (long long)json_integer_value(parent));
	else
		str_copy(s, "none (inherits from the configuration file)", sizeof(s));
	vctl_kv("Parent ID:", s);
	if (*jstr(p, "description"))
		vctl_kv("Description:", jstr(p, "description"));
	snprintf(s, sizeof(s), "%lld", (long long)jint(vg, "computers"));
	vctl_kv("Computers:", s);
	vctl_kv("Fingerprint:", jstr(vg, "configFingerprint"));
	printf("\n");
	return vctl_print_settings(json_object_get(p, "policySettings"));
}

static int
vctl_policy_list(struct vctl *v)
{
	static const char *const hdr[] = {"ID",        "NAME",   "PARENT",   "COMPUTERS",
	                                  "HEARTBEAT", "MISSED", "DIRECTION"};
	struct table *t = NULL;
	json_t *res = NULL, *arr, *p;
	size_t i;
	int rc = CTLAPI_EXIT_API;

	if (ctlapi_get(&v->api, "/api/policies", 1, &res, &v->err) < 0)
		return vctl_api_fail(v);
	arr = json_object_get(res, "policies");
	if (!json_is_array(arr)) {
		json_decref(res);
		return vctl_bad_answer(v, "a \"policies\" list");
	}
	if (v->given & OPT_JSON) {
		rc = vctl_print_json(arr);
		json_decref(res);
		return rc;
	}
	if ((t = table_new(ARRAY_SIZE(hdr), hdr)) == NULL)
		goto out;
	json_array_foreach (arr, i, p) {
		json_t *st = json_object_get(p, "policySettings");
		char id[24], parent[24], n[24], hb[32], missed[32];
		const char *row[ARRAY_SIZE(hdr)];
		snprintf(id, sizeof(id), "%lld", (long long)jint(p, "ID"));
		if (json_is_integer(json_object_get(p, "parentID")))
			snprintf(parent, sizeof(parent), "%lld", (long long)jint(p, "parentID"));
		else
			str_copy(parent, "-", sizeof(parent));
		snprintf(n, sizeof(n), "%lld",
		         (long long)jint(json_object_get(p, "vigil"), "computers"));
		snprintf(hb, sizeof(hb), "%lld s",
		         (long long)jint(json_object_get(st, "heartbeat_interval"), "value"));
		row[0] = id;
		row[1] = jstr(p, "name");
		row[2] = parent;
		row[3] = n;
		row[4] = hb;
		row[5] = vctl_value_text(
		    json_object_get(json_object_get(st, "missed_heartbeats_allowed"), "value"),
		    missed, sizeof(missed));
		row[6] = jstr(json_object_get(st, "communication_direction"), "value");
		if (table_add(t, row) < 0)
			goto out;
	}
	table_print(t, stdout);
	rc = 0;
out:
	if (rc != 0)
		vctl_warnx("out of memory");
	table_free(&t);
	json_decref(res);
	return rc;
}

/* --parent P|none into body's "parentID"; 0 or the exit status */
static int
vctl_parent(struct vctl *v, json_t *body)
{
	json_t *parent = NULL;
	int rc;

	if (!(v->given & OPT_PARENT))
		return 0;
	if (strcmp(v->parent, "none") == 0) {
		json_object_set_new(body, "parentID", json_null());
		return 0;
	}
	if ((rc = vctl_policy_find(v, v->parent, &parent)) != 0)
		return rc;
	json_object_set_new(body, "parentID", json_integer(jint(parent, "ID")));
	json_decref(parent);
	return 0;
}

static int
vctl_policy_post(struct vctl *v, const char *path, json_t *body)
{
	json_t *res = NULL;
	char *text = json_dumps(body, JSON_COMPACT);
	int rc;

	if (text == NULL) {
		vctl_warnx("out of memory");
		return CTLAPI_EXIT_API;
	}
	rc = ctlapi_post(&v->api, path, text, 1, &res, &v->err);
	free(text);
	if (rc < 0)
		return vctl_api_fail(v);
	rc = vctl_policy_print(v, res);
	json_decref(res);
	return rc;
}

static int
vctl_policy_change(struct vctl *v, int create)
{
	json_t *body = json_object(), *settings = NULL, *pol = NULL;
	char path[64];
	int rc;

	if (body == NULL) {
		vctl_warnx("out of memory");
		return CTLAPI_EXIT_API;
	}
	if (v->nwords < 2 ||
	    (!create && v->nwords < 3 && !(v->given & (OPT_PARENT | OPT_DESCRIPTION)))) {
		json_decref(body);
		return vctl_usage_error(
		    "usage: vigilctl policy %s",
		    create ? "create NAME [--parent P|none] [--description D] [SETTING=VALUE ...]"
		           : "set NAME|ID [--parent P|none] [--description D] "
		             "SETTING=VALUE|SETTING=inherited ...");
	}
	if ((rc = vctl_settings_words(v->words + 2, v->nwords - 2, &settings)) != 0 ||
	    (rc = vctl_parent(v, body)) != 0)
		goto out;
	if (json_object_size(settings) > 0)
		json_object_set(body, "settings", settings);
	if (v->given & OPT_DESCRIPTION)
		json_object_set_new(body, "description", json_string(v->description));
	if (create) {
		json_object_set_new(body, "name", json_string(v->words[1]));
		rc = vctl_policy_post(v, "/api/policies", body);
		goto out;
	}
	if ((rc = vctl_policy_find(v, v->words[1], &pol)) != 0)
		goto out;
	snprintf(path, sizeof(path), "/api/policies/%lld", (long long)jint(pol, "ID"));
	rc = vctl_policy_post(v, path, body);
out:
	json_decref(pol);
	json_decref(settings);
	json_decref(body);
	return rc;
}

static int
vctl_policy_assign(struct vctl *v)
{
	json_t *pol = NULL, *comp = NULL, *res = NULL;
	char path[96], body[64];
	int i, rc, failed = 0;

	if (v->nwords < 3)
		return vctl_usage_error("usage: vigilctl policy assign NAME|ID COMPUTER ...");
	if ((rc = vctl_policy_find(v, v->words[1], &pol)) != 0)
		return rc;
	snprintf(body, sizeof(body), "{\"policyID\":%lld}", (long long)jint(pol, "ID"));
	for (i = 2; i < v->nwords; i++) {
		if ((rc = vctl_resolve(v, v->words[i], &comp)) != 0) {
			failed = rc;
			continue;
		}
		snprintf(path, sizeof(path), "/api/computers/%lld/policy",
		         (long long)jint(comp, "ID"));
		if (ctlapi_post(&v->api, path, body, 1, &res, &v->err) < 0) {
			failed = vctl_api_fail(v);
		} else {
			printf("%s: policy %s\n", jstr(res, "hostName"), jstr(res, "policyName"));
		}
		json_decref(res);
		json_decref(comp);
		res = comp = NULL;
	}
	json_decref(pol);
	return failed;
}

int
cmd_policy(struct vctl *v)
{
	const char *sub = v->words[0];
	json_t *pol = NULL;
	int rc;

	if (strcmp(sub, "list") == 0 && v->nwords == 1)
		return vctl_policy_list(v);
	if (strcmp(sub, "show") == 0 && v->nwords == 2) {
		if ((rc = vctl_policy_find(v, v->words[1], &pol)) != 0)
			return rc;
		rc = vctl_policy_print(v, pol);
		json_decref(pol);
		return rc;
	}
	if (strcmp(sub, "create") == 0)
		return vctl_policy_change(v, 1);
	if (strcmp(sub, "set") == 0)
		return vctl_policy_change(v, 0);
	if (strcmp(sub, "assign") == 0)
		return vctl_policy_assign(v);
	return vctl_usage_error(
	    "usage: vigilctl policy list | show NAME | create NAME ... | set NAME "
	    "... | assign NAME COMPUTER ...");
}

int
cmd_computer_settings(struct vctl *v)
{
	json_t *comp = NULL, *settings = NULL, *res = NULL;
	char path[96], *text = NULL;
	int rc;

	if ((rc = vctl_resolve(v, v->computer, &comp)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/api/computers/%lld/settings", (long long)jint(comp, "ID"));
	if (v->nwords > 0) {
		if ((rc = vctl_settings_words(v->words, v->nwords, &settings)) != 0)
			goto out;
		text = json_dumps(settings, JSON_COMPACT);
	}
	if (v->nwords > 0 ? (text == NULL || ctlapi_post(&v->api, path, text, 1, &res, &v->err) < 0)
	                  : ctlapi_get(&v->api, path, 1, &res, &v->err) < 0) {
		rc = text == NULL && v->nwords > 0 ? CTLAPI_EXIT_API : vctl_api_fail(v);
		goto out;
	}
	if (v->given & OPT_JSON) {
		rc = vctl_print_json(res);
		goto out;
	}
	vctl_kv("Computer:", jstr(res, "hostName"));
	vctl_kv("Policy:", jstr(res, "policyName"));
	printf("\n");
	{
		/* "set here" on a computer means its own override */
		json_t *s = json_object_get(res, "computerSettings");
		rc = vctl_print_settings(s);
	}
out:
	free(text);
	json_decref(res);
	json_decref(settings);
	json_decref(comp);
	return rc;
}

/* computer check-status|send-policy|clear-alerts|tasks NAME */
int
cmd_computer_action(struct vctl *v)
{
	static const char *const hdr[] = {"ID", "TASK", "STATE", "CHANGED", "RESULT"};
	json_t *comp = NULL, *res = NULL, *tasks, *t;
	struct table *tb = NULL;
	char path[96];
	const char *what = strcmp(v->action, "check-status") == 0   ? "checkstatus"
	                   : strcmp(v->action, "send-policy") == 0  ? "sendpolicy"
	                   : strcmp(v->action, "clear-alerts") == 0 ? "clearalerts"
	                                                            : "tasks";
	size_t i;
	int rc;

	if ((rc = vctl_resolve(v, v->computer, &comp)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/api/computers/%lld/%s", (long long)jint(comp, "ID"), what);
	rc = strcmp(what, "tasks") == 0 ? ctlapi_get(&v->api, path, 1, &res, &v->err)
	                                : ctlapi_post(&v->api, path, "{}", 1, &res, &v->err);
	if (rc < 0) {
		rc = vctl_api_fail(v);
		goto out;
	}
	rc = 0;
	if (v->given & OPT_JSON) {
		rc = vctl_print_json(res);
		goto out;
	}
	if (strcmp(what, "clearalerts") == 0) {
		if (jint(res, "cleared") > 0)
			printf("%s: cleared %s\n", jstr(comp, "hostName"), jstr(res, "names"));
		else
			printf("%s: nothing to clear (what is still open still holds)\n",
			       jstr(comp, "hostName"));
		goto out;
	}
	if (strcmp(what, "tasks") != 0) {
		printf("%s: %s\n", jstr(comp, "hostName"), jstr(res, "task"));
		goto out;
	}
	tasks = json_object_get(res, "tasks");
	if (json_array_size(tasks) == 0) {
		printf("%s: no tasks\n", jstr(comp, "hostName"));
		goto out;
	}
	if ((tb = table_new(ARRAY_SIZE(hdr), hdr)) == NULL)
		goto oom;
	json_array_foreach (tasks, i, t) {
		char id[24], when[40];
		const char *row[ARRAY_SIZE(hdr)];
		snprintf(id, sizeof(id), "%lld", (long long)jint(t, "ID"));
		fmt_time_ms(jint(t, "changed"), when, sizeof(when));
		row[0] = id;
		row[1] = jstr(t, "name");
		row[2] = jstr(t, "state");
		row[3] = when;
		row[4] = jstr(t, "result");
		if (table_add(tb, row) < 0)
			goto oom;
	}
	table_print(tb, stdout);
	goto out;
oom:
	vctl_warnx("out of memory");
	rc = CTLAPI_EXIT_API;
out:
	table_free(&tb);
	json_decref(res);
	json_decref(comp);
	return rc;
}

/* alerts --summary: one row per alert type, with the computers it affects */
int
cmd_alert_summary(struct vctl *v)
{
	static const char *const hdr[] = {"ALERT", "SEVERITY", "COUNT", "COMPUTERS"};
	struct table *t = NULL;
	json_t *res = NULL, *arr, *s, *c;
	struct buf names;
	size_t i, j;
	int rc = CTLAPI_EXIT_API;

	buf_init(&names, 4096);
	if (ctlapi_get(&v->api, "/api/alerts?summary=true", 1, &res, &v->err) < 0) {
		buf_clear(&names);
		return vctl_api_fail(v);
	}
	arr = json_object_get(res, "alertSummaries");
	if (!json_is_array(arr)) {
		rc = vctl_bad_answer(v, "an \"alertSummaries\" list");
		goto out;
	}
	if (v->given & OPT_JSON) {
		rc = vctl_print_json(arr);
		goto out;
	}
	if (json_array_size(arr) == 0) {
		fprintf(stderr, "vigilctl: no open alerts\n");
		rc = 0;
		goto out;
	}
	if ((t = table_new(ARRAY_SIZE(hdr), hdr)) == NULL)
		goto oom;
	json_array_foreach (arr, i, s) {
		const char *row[ARRAY_SIZE(hdr)];
		char n[24];
		buf_reset(&names);
		/* five names, then how many more, as the console's summary shows */
		json_array_foreach (json_object_get(s, "computers"), j, c) {
			if (j == 5) {
				buf_printf(&names, ", ... (%zu more)",
				           json_array_size(json_object_get(s, "computers")) - 5);
				break;
			}
			buf_printf(&names, "%s%s", j ? ", " : "", jstr(c, "hostName"));
		}
		snprintf(n, sizeof(n), "%lld", (long long)jint(s, "count"));
		row[0] = jstr(s, "name");
		row[1] = jstr(s, "severity");
		row[2] = n;
		row[3] = names.len ? buf_cstr(&names) : "(the manager)";
		if (table_add(t, row) < 0)
			goto oom;
	}
	table_print(t, stdout);
	rc = 0;
	goto out;
oom:
	vctl_warnx("out of memory");
out:
	table_free(&t);
	buf_clear(&names);
	json_decref(res);
	return rc;
}
