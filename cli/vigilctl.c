/*
 * vigilctl: the operator's command line for the manager, as bgpctl is for
 * bgpd.  It reads the manager's REST API over HTTPS (see ctlapi.h) and
 * prints tables (see table.h) or the API's JSON:
 *   computers             every computer and its status
 *   computer show X       one computer by ID, GUID or host name, with its last events
 *   events [filters]      system events, oldest first, every page
 *   alerts [--all]        open (or all) alerts
 *   health                whether the manager is up
 * Exit status: 0 ok, 1 the manager said no or nothing was found, 2 usage or
 * local settings, 3 the manager cannot be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "buf.h"
#include "ctlapi.h"
#include "table.h"
#include "util.h"

#include "vctl.h"

static const struct option vctl_longopts[] = {
	{"manager", required_argument, NULL, OPT_MANAGER},
	{"api-key-file", required_argument, NULL, OPT_KEY_FILE},
	{"ca", required_argument, NULL, OPT_CA},
	{"no-verify-name", no_argument, NULL, OPT_NO_VERIFY_NAME},
	{"json", no_argument, NULL, OPT_JSON},
	{"wide", no_argument, NULL, OPT_WIDE},
	{"computer", required_argument, NULL, OPT_COMPUTER},
	{"id", required_argument, NULL, OPT_ID},
	{"since", required_argument, NULL, OPT_SINCE},
	{"until", required_argument, NULL, OPT_UNTIL},
	{"limit", required_argument, NULL, OPT_LIMIT},
	{"all", no_argument, NULL, OPT_ALL},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{"seats", required_argument, NULL, OPT_SEATS},
	{"modules", required_argument, NULL, OPT_MODULES},
	{"expires", required_argument, NULL, OPT_EXPIRES},
	{"policy", required_argument, NULL, OPT_POLICY},
	{"group", required_argument, NULL, OPT_GROUP},
	{"retry-interval", required_argument, NULL, OPT_RETRY_INTERVAL},
	{"max-retries", required_argument, NULL, OPT_MAX_RETRIES},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"parent", required_argument, NULL, OPT_PARENT},
	{"description", required_argument, NULL, OPT_DESCRIPTION},
	{"summary", no_argument, NULL, OPT_SUMMARY},
	{NULL, 0, NULL, 0},
};

static void
usage(FILE *fp)
{
	fprintf(fp,
		"usage: vigilctl [--manager URL] [--api-key-file FILE] [--ca FILE] [--no-verify-name]\n"
		"                COMMAND [OPTIONS]\n"
		"commands:\n"
		"  computers [--json]                   computers and their status\n"
		"  computer show NAME|GUID|ID [--json]  one computer and its last %d events\n"
		"  computer deactivate NAME|GUID|ID     revoke its certificate, free it (event 708)\n"
		"  computer power NAME stopped|running  set the VM's power state (seats follow)\n"
		"  computer delete NAME|GUID|ID         remove it from the list (event 251)\n"
		"  computer settings NAME [SETTING=VALUE|SETTING=inherited ...]\n"
		"                                       its effective settings, or its own overrides\n"
		"  computer check-status NAME           contact the agent now, or at its heartbeat (267)\n"
		"  computer send-policy NAME            send its configuration now (256)\n"
		"  computer clear-alerts NAME           end the warnings and errors that no longer hold (266)\n"
		"  computer tasks NAME [--json]         its tasks and their states\n"
		"  policy list | show NAME|ID [--json]  policies, or one with each setting's source\n"
		"  policy create NAME [--parent P|none] [--description D] [SETTING=VALUE ...]\n"
		"  policy set NAME|ID [--parent P|none] [--description D] SETTING=VALUE ...\n"
		"                                       (VALUE inherited: take the parent's again)\n"
		"  policy assign NAME|ID COMPUTER ...   put computers under a policy (event 253)\n"
		"  license show [--json]                seats: total, used, free, who holds them\n"
		"  license add --seats N [--modules LIST] [--expires DATE]\n"
		"  activation-settings show | set allow=any|existing|iplist iplist=CIDR,...\n"
		"                      duplicate=reactivate|new|refuse reactivate-cloned=on|off\n"
		"                      reactivate-unknown=on|off\n"
		"  events [--computer NAME|GUID|ID] [--id N] [--since T] [--until T]\n"
		"         [--limit N] [--wide] [--json] system events, oldest first\n"
		"  alerts [--all] [--wide] [--json]     open alerts (--all: cleared ones too)\n"
		"  alerts --summary [--json]            open alerts by type, with the computers hit\n"
		"  alert dismiss ID                     dismiss a dismissible alert (event 800)\n"
		"  inventory push FILE|- [--json]       send instances' power states (JSON)\n"
		"  deploy-script [--policy P] [--retry-interval S] [--max-retries N]\n"
		"                [--output FILE]        a shell script that activates an agent\n"
		"  health [--json]                      whether the manager is up\n"
		"options:\n"
		"  --manager URL        the manager's API (VIGIL_URL; default " VIGILCTL_DEFAULT_URL ")\n"
		"  --api-key-file FILE  a file holding the API key (VIGIL_API_KEY_FILE, or the key\n"
		"                       itself in VIGIL_API_KEY)\n"
		"  --ca FILE            the manager's CA certificate (VIGIL_CA; default\n"
		"                       " VIGILCTL_DEFAULT_CA ")\n"
		"  --no-verify-name     verify the certificate against the CA, but not the host name\n"
		"  --wide               do not shorten descriptions\n"
		"  -h, --help           this text; --version: the version\n"
		"T is epoch milliseconds, UTC ISO 8601 (2026-11-22T10:00:00Z) or an age (30s, 15m, 2h, 7d).\n"
		"exit status: 0 ok, 1 the manager answered with an error or nothing was found,\n"
		"             2 usage, 3 the manager cannot be reached\n",
		VIGILCTL_SHOW_EVENTS);
}

/* Prints "vigilctl: <sentence>" with the operator's terminal kept safe. */
void
vctl_warnx(const char *fmt, ...)
{
	char line[2048], *clean;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	clean = table_clean(line, 0);
	fprintf(stderr, "vigilctl: %s\n", clean ? clean : "out of memory");
	free(clean);
}

/* A usage error: the sentence, a pointer to --help, and exit status 2. */
int
vctl_usage_error(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	vctl_warnx("%s; see vigilctl --help", line);
	return CTLAPI_EXIT_USAGE;
}

int
vctl_api_fail(struct vctl *v)
{
	vctl_warnx("%s", v->err.msg);
	return v->err.exit_code ? v->err.exit_code : CTLAPI_EXIT_API;
}

/* An answer that parsed but does not have the expected shape. */
int
vctl_bad_answer(struct vctl *v, const char *what)
{
	vctl_warnx("the manager at %s answered without %s; is it a Vigil manager of this version?",
		   v->api.url, what);
	return CTLAPI_EXIT_API;
}

const char *
jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

int64_t
jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

int
vctl_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s == NULL) {
		vctl_warnx("cannot format the answer as JSON (out of memory)");
		return CTLAPI_EXIT_API;
	}
	puts(s);
	free(s);
	return 0;
}

/* "12 s", "5 min", "3 h", "4 days": how far ms is from now, unsigned. */
static void
vctl_fmt_span(int64_t ms, char *out, size_t outsize)
{
	int64_t s = (ms < 0 ? -ms : ms) / 1000;

	if (s < 120)
		snprintf(out, outsize, "%lld s", (long long)s);
	else if (s < 2 * 3600)
		snprintf(out, outsize, "%lld min", (long long)(s / 60));
	else if (s < 2 * 86400)
		snprintf(out, outsize, "%lld h", (long long)(s / 3600));
	else
		snprintf(out, outsize, "%lld days", (long long)(s / 86400));
}

/* Time in UTC ISO 8601 with how long ago or how soon it is. */
static void
vctl_fmt_when(int64_t ms, char *out, size_t outsize)
{
	char t[40], span[32];
	int64_t d = ms - now_ms();

	if (ms <= 0) {
		str_copy(out, "never", outsize);
		return;
	}
	fmt_time_ms(ms, t, sizeof(t));
	vctl_fmt_span(d, span, sizeof(span));
	snprintf(out, outsize, "%s (%s %s)", t, d < 0 ? span : "in", d < 0 ? "ago" : span);
}

/* The strings of a JSON array joined by sep; NULL entries are skipped. */
static void
vctl_join(const json_t *arr, const char *sep, struct buf *out)
{
	const json_t *it;
	size_t i;

	buf_reset(out);
	json_array_foreach(arr, i, it)
	{
		if (!json_is_string(it))
			continue;
		if (out->len > 0)
			buf_puts(out, sep);
		buf_puts(out, json_string_value(it));
	}
	if (buf_cstr(out) == NULL)
		buf_reset(out);
}

static const char *
vctl_status_text(const json_t *comp, struct buf *b)
{
	vctl_join(json_object_get(json_object_get(comp, "computerStatus"), "agentStatusMessages"),
		  ", ", b);
	return b->len ? b->data : "";
}

/*
 * A time from the command line: what parse_time_ms() reads, or an age
 * ("15m" is fifteen minutes ago), which is what one wants at 3 a.m.
 */
static int
vctl_parse_time(const char *s, int64_t *ms_r)
{
	static const struct {
		char unit;
		int64_t ms;
	} units[] = {{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}, {'w', 604800000}};
	char num[24];
	size_t len = strlen(s), i;
	int64_t n;

	if (parse_time_ms(s, ms_r) == 0)
		return 0;
	if (len < 2 || len > sizeof(num))
		return -1;
	memcpy(num, s, len - 1);
	num[len - 1] = '\0';
	/* at most about 100 years back, so that the product cannot overflow */
	if (parse_i64(num, 0, 36500LL * 86400, &n) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(units); i++)
		if (units[i].unit == s[len - 1]) {
			if (n > 36500LL * 86400000 / units[i].ms)
				return -1;
			*ms_r = now_ms() - n * units[i].ms;
			return *ms_r > 0 ? 0 : -1;
		}
	return -1;
}

static int
vctl_is_guid(const char *s)
{
	size_t n = strlen(s);

	if (n < 8 || n > 64)
		return 0;
	return strspn(s, "0123456789abcdefABCDEF-") == n;
}

/*
 * Reads one page (GET path), checks that its IDs (idfield) ascend past
 * *after, appends its items to all and moves *after.  *n_r gets the page
 * size.  0, or the exit status after printing why.
 */
static int
vctl_page(struct vctl *v, const char *path, const char *list, const char *idfield,
	  int64_t *after, json_t *all, size_t *n_r)
{
	json_t *res = NULL, *page, *item;
	size_t i;
	int rc = CTLAPI_EXIT_API;
	char what[64];

	if (ctlapi_get(&v->api, path, 1, &res, &v->err) < 0)
		return vctl_api_fail(v);
	page = json_object_get(res, list);
	if (!json_is_array(page)) {
		snprintf(what, sizeof(what), "a \"%s\" list", list);
		rc = vctl_bad_answer(v, what);
		goto out;
	}
	json_array_foreach(page, i, item)
	{
		/* ascending IDs are what makes after= paging end */
		if (jint(item, idfield) <= *after) {
			snprintf(what, sizeof(what), "%s in ascending %s order", list, idfield);
			rc = vctl_bad_answer(v, what);
			goto out;
		}
		*after = jint(item, idfield);
		if (json_array_append(all, item) < 0) {
			vctl_warnx("out of memory");
			goto out;
		}
	}
	*n_r = json_array_size(page);
	rc = 0;
out:
	json_decref(res);
	return rc;
}

/*
 * Every computer, in ID order, page after page (after=, limit=).  On
 * failure the message is printed and the exit status returned.  *arr_r is
 * the caller's.
 */
static int
vctl_computers_fetch(struct vctl *v, json_t **arr_r)
{
	json_t *all = json_array();
	char path[96];
	int64_t after = 0;
	size_t n = 0;
	int rc = CTLAPI_EXIT_API;

	*arr_r = NULL;
	if (all == NULL) {
		vctl_warnx("out of memory");
		goto out;
	}
	do {
		snprintf(path, sizeof(path), "/api/computers?after=%lld&limit=%d",
			 (long long)after, VIGILCTL_COMPUTER_PAGE);
		if ((rc = vctl_page(v, path, "computers", "ID", &after, all, &n)) != 0)
			goto out;
	} while (n >= VIGILCTL_COMPUTER_PAGE);
	*arr_r = all;
	all = NULL;
	rc = 0;
out:
	json_decref(all);
	return rc;
}

/* Lists computers that share a name, for the operator to pick one. */
static void
vctl_list_ambiguous(const json_t *matches)
{
	static const char *const hdr[] = {"ID", "GUID", "STATUS", "LAST CONTACT", "LAST IP"};
	struct table *t = table_new(ARRAY_SIZE(hdr), hdr);
	struct buf st;
	const json_t *c;
	char id[24], when[48];
	size_t i;

	if (t == NULL)
		return;
	buf_init(&st, VIGILCTL_MAX_TEXT);
	json_array_foreach(matches, i, c)
	{
		const char *row[ARRAY_SIZE(hdr)];
		snprintf(id, sizeof(id), "%lld", (long long)jint(c, "ID"));
		fmt_time_ms(jint(c, "lastAgentCommunication"), when, sizeof(when));
		row[0] = id;
		row[1] = jstr(c, "hostGUID");
		row[2] = vctl_status_text(c, &st);
		row[3] = when;
		row[4] = jstr(json_object_get(c, "vigil"), "lastIPUsed");
		if (table_add(t, row) < 0)
			break;
	}
	table_print(t, stderr);
	buf_clear(&st);
	table_free(&t);
}

/*
 * Finds the computer that arg names: a number is an ID, a GUID is looked
 * up as one, and then host names are compared, exactly first and then
 * ignoring case.  A host name may look like an ID or a GUID, so a miss
 * there falls through to the names.  *comp_r is the caller's.
 */
int
vctl_resolve(struct vctl *v, const char *arg, json_t **comp_r)
{
	json_t *res = NULL, *list = NULL, *matches, *c;
	char path[128];
	int64_t id;
	size_t i;
	int pass, rc;

	*comp_r = NULL;
	path[0] = '\0';
	if (parse_i64(arg, 1, INT64_MAX, &id) == 0)
		snprintf(path, sizeof(path), "/api/computers/%lld", (long long)id);
	else if (vctl_is_guid(arg))
		snprintf(path, sizeof(path), "/api/computers/%s", arg);
	if (path[0] != '\0') {
		if (ctlapi_get(&v->api, path, 1, &res, &v->err) == 0) {
			if (!json_is_integer(json_object_get(res, "ID"))) {
				json_decref(res);
				return vctl_bad_answer(v, "a computer's ID");
			}
			*comp_r = res;
			return 0;
		}
		if (v->err.http_status != 404)
			return vctl_api_fail(v);
	}
	if ((rc = vctl_computers_fetch(v, &list)) != 0)
		return rc;
	if ((matches = json_array()) == NULL) {
		json_decref(list);
		vctl_warnx("out of memory");
		return CTLAPI_EXIT_API;
	}
	for (pass = 0; pass < 2 && json_array_size(matches) == 0; pass++)
		json_array_foreach(list, i, c)
		{
			const char *name = jstr(c, "hostName");
			if (pass == 0 ? strcmp(name, arg) == 0 : strcasecmp(name, arg) == 0)
				json_array_append(matches, c);
		}
	switch (json_array_size(matches)) {
	case 0:
		vctl_warnx("no computer has the ID, GUID or host name \"%s\" (see vigilctl computers)",
			   arg);
		rc = CTLAPI_EXIT_API;
		break;
	case 1:
		*comp_r = json_incref(json_array_get(matches, 0));
		rc = 0;
		break;
	default:
		vctl_warnx("%zu computers are named \"%s\"; name one by its ID or GUID:",
			   json_array_size(matches), arg);
		vctl_list_ambiguous(matches);
		rc = CTLAPI_EXIT_API;
		break;
	}
	json_decref(matches);
	json_decref(list);
	return rc;
}

/*
 * Events matching the options, oldest first, page after page (after=).
 * max > 0 stops after that many.  *arr_r is the caller's.
 */
static int
vctl_events_fetch(struct vctl *v, int64_t computer_id, int64_t max, json_t **arr_r)
{
	json_t *all = json_array();
	struct buf q;
	int64_t after = 0, want;
	size_t n = 0;
	int rc = CTLAPI_EXIT_API;

	*arr_r = NULL;
	buf_init(&q, VIGILCTL_MAX_QUERY);
	if (all == NULL) {
		vctl_warnx("out of memory");
		goto out;
	}
	for (;;) {
		want = VIGILCTL_PAGE;
		if (max > 0 && max - (int64_t)json_array_size(all) < want)
			want = max - (int64_t)json_array_size(all);
		buf_reset(&q);
		buf_printf(&q, "/api/events?limit=%lld&after=%lld", (long long)want,
			   (long long)after);
		if (computer_id > 0)
			buf_printf(&q, "&computer=%lld", (long long)computer_id);
		if (v->event_id > 0)
			buf_printf(&q, "&id=%lld", (long long)v->event_id);
		if (v->given & OPT_SINCE)
			buf_printf(&q, "&since=%lld", (long long)v->since_ms);
		if (v->given & OPT_UNTIL)
			buf_printf(&q, "&until=%lld", (long long)v->until_ms);
		if (buf_cstr(&q) == NULL) {
			vctl_warnx("the events query is longer than %d bytes", VIGILCTL_MAX_QUERY);
			goto out;
		}
		if ((rc = vctl_page(v, q.data, "events", "systemEventID", &after, all, &n)) != 0)
			goto out;
		rc = CTLAPI_EXIT_API;
		if (n < (size_t)want || (max > 0 && (int64_t)json_array_size(all) >= max))
			break;
		if (json_array_size(all) >= VIGILCTL_MAX_EVENTS) {
			vctl_warnx("more than %d events match; narrow the query with --since, "
				   "--until, --id, --computer or --limit",
				   VIGILCTL_MAX_EVENTS);
			goto out;
		}
	}
	*arr_r = all;
	all = NULL;
	rc = 0;
out:
	buf_clear(&q);
	json_decref(all);
	return rc;
}

/* The newest n events of a computer, oldest first (order=desc, one page). */
static int
vctl_events_last(struct vctl *v, int64_t computer_id, int n, json_t **arr_r)
{
	json_t *res = NULL, *page, *out;
	char path[128];
	size_t i;

	*arr_r = NULL;
	snprintf(path, sizeof(path), "/api/events?computer=%lld&order=desc&limit=%d",
		 (long long)computer_id, n);
	if (ctlapi_get(&v->api, path, 1, &res, &v->err) < 0)
		return vctl_api_fail(v);
	page = json_object_get(res, "events");
	out = json_array();
	if (!json_is_array(page) || out == NULL) {
		json_decref(out);
		json_decref(res);
		return vctl_bad_answer(v, "an \"events\" list");
	}
	for (i = json_array_size(page); i > 0; i--)
		json_array_append(out, json_array_get(page, i - 1));
	json_decref(res);
	*arr_r = out;
	return 0;
}

/*
 * --wide adds the agent's own clock and sequence for events an agent sent
 * from its queue (empty for the manager's own events).
 */
static int
vctl_print_events(const json_t *events, int wide)
{
	static const char *const hdr[] = {"TIME",   "ID",          "EVENT",      "SEVERITY",
	                                  "TARGET", "DESCRIPTION", "AGENT TIME", "AGENT SEQ"};
	struct table *t = table_new(wide ? ARRAY_SIZE(hdr) : ARRAY_SIZE(hdr) - 2, hdr);
	const json_t *e;
	char when[40], id[24], atime[40], aseq[24];
	size_t i;
	int rc = CTLAPI_EXIT_API;

	if (t == NULL)
		goto out;
	if (!wide)
		table_set_max(t, 5, VIGILCTL_DESC_MAX);
	json_array_foreach(events, i, e)
	{
		const char *row[ARRAY_SIZE(hdr)];
		fmt_time_ms(jint(e, "time"), when, sizeof(when));
		snprintf(id, sizeof(id), "%lld", (long long)jint(e, "eventID"));
		atime[0] = aseq[0] = '\0';
		if (jint(e, "agentSequence") > 0) {
			fmt_time_ms(jint(e, "agentTime"), atime, sizeof(atime));
			snprintf(aseq, sizeof(aseq), "%lld", (long long)jint(e, "agentSequence"));
		}
		row[0] = when;
		row[1] = id;
		row[2] = jstr(e, "event");
		row[3] = jstr(e, "severity");
		row[4] = jstr(e, "target");
		row[5] = jstr(e, "description");
		row[6] = atime;
		row[7] = aseq;
		if (table_add(t, row) < 0)
			goto out;
	}
	table_print(t, stdout);
	rc = 0;
out:
	if (rc != 0)
		vctl_warnx("out of memory");
	table_free(&t);
	return rc;
}

static int
cmd_computers(struct vctl *v)
{
	static const char *const hdr[] = {"NAME",	  "STATUS",	   "LAST CONTACT",
					  "POLICY", "AGENT VERSION", "ID"};
	struct table *t = NULL;
	json_t *list = NULL, *c;
	struct buf st;
	char when[40], id[24];
	size_t i;
	int rc;

	buf_init(&st, VIGILCTL_MAX_TEXT);
	if ((rc = vctl_computers_fetch(v, &list)) != 0)
		goto out;
	if (v->given & OPT_JSON) {
		rc = vctl_print_json(list);
		goto out;
	}
	if (json_array_size(list) == 0) {
		/* stdout stays empty for scripts; the note is for people */
		fprintf(stderr, "vigilctl: no computers yet: activate an agent with vigil-agentctl\n");
		rc = 0;
		goto out;
	}
	rc = CTLAPI_EXIT_API;
	if ((t = table_new(ARRAY_SIZE(hdr), hdr)) == NULL)
		goto out;
	json_array_foreach(list, i, c)
	{
		const char *row[ARRAY_SIZE(hdr)];
		fmt_time_ms(jint(c, "lastAgentCommunication"), when, sizeof(when));
		snprintf(id, sizeof(id), "%lld", (long long)jint(c, "ID"));
		row[0] = jstr(c, "hostName");
		row[1] = vctl_status_text(c, &st);
		row[2] = when;
		row[3] = jstr(c, "policyName");
		row[4] = jstr(c, "agentVersion");
		row[5] = id;
		if (table_add(t, row) < 0)
			goto out;
	}
	table_print(t, stdout);
	rc = 0;
out:
	if (rc == CTLAPI_EXIT_API && t != NULL)
		vctl_warnx("out of memory");
	table_free(&t);
	buf_clear(&st);
	json_decref(list);
	return rc;
}

void
vctl_kv(const char *label, const char *value)
{
	char *clean = table_clean(value, 0);

	printf("%-20s %s\n", label, clean ? clean : "?");
	free(clean);
}

static void
vctl_show_interfaces(const json_t *comp)
{
	const json_t *ifs = json_object_get(json_object_get(comp, "interfaces"), "interfaces");
	const json_t *it;
	struct buf line, ips;
	size_t i;

	buf_init(&line, VIGILCTL_MAX_TEXT);
	buf_init(&ips, VIGILCTL_MAX_TEXT);
	if (json_array_size(ifs) == 0)
		vctl_kv("Interfaces:", "none reported");
	json_array_foreach(ifs, i, it)
	{
		buf_reset(&line);
		vctl_join(json_object_get(it, "IPs"), ", ", &ips);
		buf_printf(&line, "%s %s%s%s", jstr(it, "name"),
			   *jstr(it, "MAC") ? jstr(it, "MAC") : "(no MAC)", ips.len ? " " : "",
			   ips.len ? ips.data : "");
		vctl_kv(i == 0 ? "Interfaces:" : "", buf_cstr(&line) ? line.data : "?");
	}
	buf_clear(&line);
	buf_clear(&ips);
}

static int
vctl_act_print(struct vctl *v, json_t *res)
{
	struct buf list;

	if (v->given & OPT_JSON)
		return vctl_print_json(res);
	buf_init(&list, VIGILCTL_MAX_TEXT);
	vctl_join(json_object_get(res, "ipList"), ",", &list);
	printf("allow:              %s\niplist:             %s\nduplicate:          %s\n"
	       "reactivate-cloned:  %s\nreactivate-unknown: %s\n",
	       jstr(res, "allow"), list.len ? buf_cstr(&list) : "-", jstr(res, "duplicate"),
	       json_is_true(json_object_get(res, "reactivateCloned")) ? "on" : "off",
	       json_is_true(json_object_get(res, "reactivateUnknown")) ? "on" : "off");
	buf_clear(&list);
	return 0;
}

/* activation-settings show | set allow=.. iplist=a,b duplicate=.. */
static int
cmd_activation_settings(struct vctl *v)
{
	json_t *res = NULL, *body;
	char *text;
	int i, rc;

	if (strcmp(v->license_action, "show") == 0) {
		if (ctlapi_get(&v->api, "/api/activationsettings", 1, &res, &v->err) < 0)
			return vctl_api_fail(v);
		rc = vctl_act_print(v, res);
		json_decref(res);
		return rc;
	}
	body = json_object();
	for (i = 0; i < v->nwords; i++) {
		const char *w = v->words[i], *eq = strchr(w, '=');
		if (eq == NULL) {
			json_decref(body);
			return vctl_usage_error("\"%s\": expected KEY=VALUE", w);
		}
		if (strncmp(w, "allow=", 6) == 0 || strncmp(w, "duplicate=", 10) == 0) {
			char key[16];
			snprintf(key, sizeof(key), "%.*s", (int)(eq - w), w);
			json_object_set_new(body, key, json_string(eq + 1));
		} else if (strncmp(w, "reactivate-cloned=", 18) == 0 ||
			   strncmp(w, "reactivate-unknown=", 19) == 0) {
			const char *key = w[11] == 'c' ? "reactivateCloned" : "reactivateUnknown";
			if (strcmp(eq + 1, "on") != 0 && strcmp(eq + 1, "off") != 0) {
				json_decref(body);
				return vctl_usage_error("%.*s: give on or off, not \"%s\"",
							(int)(eq - w), w, eq + 1);
			}
			json_object_set_new(body, key, json_boolean(strcmp(eq + 1, "on") == 0));
		} else if (strncmp(w, "iplist=", 7) == 0) {
			json_t *arr = json_array();
			char copy[4096], *save = NULL, *tok;
			if (strlen(eq + 1) >= sizeof(copy)) {
				json_decref(arr);
				json_decref(body);
				return vctl_usage_error("iplist is too long");
			}
			str_copy(copy, eq + 1, sizeof(copy));
			for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				json_array_append_new(arr, json_string(tok));
			json_object_set_new(body, "ipList", arr);
		} else {
			json_decref(body);
			return vctl_usage_error("unknown setting \"%.*s\" (allow, iplist, duplicate, "
						"reactivate-cloned, reactivate-unknown)",
						(int)(eq - w), w);
		}
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		vctl_warnx("out of memory");
		return CTLAPI_EXIT_API;
	}
	rc = ctlapi_post(&v->api, "/api/activationsettings", text, 1, &res, &v->err);
	free(text);
	if (rc < 0)
		return vctl_api_fail(v);
	rc = vctl_act_print(v, res);
	json_decref(res);
	return rc;
}

/* computer power NAME stopped|running */
static int
vctl_power(struct vctl *v)
{
	json_t *comp = NULL, *res = NULL;
	char path[96], body[32];
	const char *st;
	int rc;

	if ((rc = vctl_resolve(v, v->computer, &comp)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/api/computers/%lld/power", (long long)jint(comp, "ID"));
	snprintf(body, sizeof(body), "{\"state\":\"%s\"}", v->power);
	if (ctlapi_post(&v->api, path, body, 1, &res, &v->err) < 0) {
		json_decref(comp);
		return vctl_api_fail(v);
	}
	st = json_string_value(json_array_get(
		json_object_get(json_object_get(res, "computerStatus"), "agentStatusMessages"), 0));
	printf("%s (ID %lld): %s\n", jstr(comp, "hostName"), (long long)jint(comp, "ID"),
	       st ? st : v->power);
	json_decref(res);
	json_decref(comp);
	return 0;
}

static int
vctl_license_print(struct vctl *v, json_t *res)
{
	json_t *seats = json_object_get(res, "seats"), *l, *h;
	size_t i;

	if (v->given & OPT_JSON)
		return vctl_print_json(res);
	if (json_is_true(json_object_get(seats, "unlimited"))) {
		printf("no license added: seats are unlimited (%lld in use)\n",
		       (long long)jint(seats, "used"));
	} else {
		printf("seats: %lld total, %lld used, %lld free\n", (long long)jint(seats, "total"),
		       (long long)jint(seats, "used"), (long long)jint(seats, "free"));
	}
	json_array_foreach(json_object_get(res, "licenses"), i, l)
	{
		char when[40];
		struct buf mods;
		json_t *exp = json_object_get(l, "expires");

		buf_init(&mods, VIGILCTL_MAX_TEXT);
		vctl_join(json_object_get(l, "modules"), ",", &mods);
		if (json_is_integer(exp))
			fmt_time_ms(json_integer_value(exp), when, sizeof(when));
		printf("license %lld: %lld seats, modules %s, %s%s%s\n", (long long)jint(l, "ID"),
		       (long long)jint(l, "seats"), mods.len ? buf_cstr(&mods) : "all",
		       json_is_integer(exp) ? "expires " : "no expiry",
		       json_is_integer(exp) ? when : "",
		       json_is_true(json_object_get(l, "expired")) ? " (EXPIRED)" : "");
		buf_clear(&mods);
	}
	if (json_array_size(json_object_get(res, "holders")) > 0) {
		printf("held by:");
		json_array_foreach(json_object_get(res, "holders"), i, h)
			printf(" %s (ID %lld)", jstr(h, "hostName"), (long long)jint(h, "ID"));
		printf("\n");
	}
	return 0;
}

/* license show | license add --seats N [--modules a,b] [--expires DATE] */
static int
cmd_license(struct vctl *v)
{
	json_t *res = NULL, *body, *mods;
	char *text;
	int rc;

	if (strcmp(v->license_action, "show") == 0) {
		if (ctlapi_get(&v->api, "/api/licenses", 1, &res, &v->err) < 0)
			return vctl_api_fail(v);
		rc = vctl_license_print(v, res);
		json_decref(res);
		return rc;
	}
	mods = json_array();
	if (v->modules != NULL) {
		char copy[512], *save = NULL, *tok;
		if (strlen(v->modules) >= sizeof(copy)) {
			json_decref(mods);
			return vctl_usage_error("--modules is too long");
		}
		str_copy(copy, v->modules, sizeof(copy));
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			json_array_append_new(mods, json_string(tok));
	}
	body = json_pack("{s:I, s:o}", "seats", (json_int_t)v->seats, "modules", mods);
	if (v->expires != NULL) {
		int64_t ms;
		/* a plain date means the start of that day, UTC */
		char full[40];
		if (strlen(v->expires) == 10) {
			snprintf(full, sizeof(full), "%sT00:00:00Z", v->expires);
			if (parse_time_ms(full, &ms) < 0) {
				json_decref(body);
				return vctl_usage_error("--expires \"%s\": give a date such as 2027-01-31",
							v->expires);
			}
		} else if (vctl_parse_time(v->expires, &ms) < 0) {
			json_decref(body);
			return vctl_usage_error("--expires \"%s\": give a date such as 2027-01-31",
						v->expires);
		}
		json_object_set_new(body, "expires", json_integer(ms));
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		vctl_warnx("out of memory");
		return CTLAPI_EXIT_API;
	}
	if (ctlapi_post(&v->api, "/api/licenses", text, 1, &res, &v->err) < 0) {
		free(text);
		return vctl_api_fail(v);
	}
	free(text);
	printf("license added\n");
	rc = vctl_license_print(v, res);
	json_decref(res);
	return rc;
}

/* computer deactivate: the certificate stops working at once. */
static int
vctl_deactivate(struct vctl *v)
{
	json_t *comp = NULL, *res = NULL;
	char path[96];
	int rc;

	if ((rc = vctl_resolve(v, v->computer, &comp)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/api/computers/%lld/deactivate", (long long)jint(comp, "ID"));
	if (ctlapi_post(&v->api, path, "{}", 1, &res, &v->err) < 0) {
		json_decref(comp);
		return vctl_api_fail(v);
	}
	printf("deactivated %s (ID %lld, GUID %s): its certificate no longer works; the agent "
	       "stops at its next contact\n",
	       jstr(comp, "hostName"), (long long)jint(comp, "ID"), jstr(comp, "hostGUID"));
	json_decref(res);
	json_decref(comp);
	return 0;
}

static int
vctl_delete(struct vctl *v)
{
	json_t *comp = NULL, *res = NULL;
	char path[96];
	int rc;

	if ((rc = vctl_resolve(v, v->computer, &comp)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/api/computers/%lld", (long long)jint(comp, "ID"));
	if (ctlapi_delete(&v->api, path, &res, &v->err) < 0) {
		json_decref(comp);
		return vctl_api_fail(v);
	}
	printf("deleted %s (ID %lld, GUID %s); its events stay: %s\n", jstr(comp, "hostName"),
	       (long long)jint(comp, "ID"), jstr(comp, "hostGUID"), jstr(res, "note"));
	json_decref(res);
	json_decref(comp);
	return 0;
}

/* alert dismiss ID */
static int
cmd_alert(struct vctl *v)
{
	json_t *res = NULL;
	char path[64];

	snprintf(path, sizeof(path), "/api/alerts/%lld/dismiss", (long long)v->alert_id);
	if (ctlapi_post(&v->api, path, "{}", 1, &res, &v->err) < 0)
		return vctl_api_fail(v);
	printf("alert %lld dismissed\n", (long long)v->alert_id);
	json_decref(res);
	return 0;
}

/* Reads FILE, or standard input for "-", up to max bytes. */
static int
vctl_read_input(const char *file, size_t max, char **data_r)
{
	struct buf b;
	char chunk[65536];
	size_t n;
	FILE *fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");

	*data_r = NULL;
	if (fp == NULL) {
		vctl_warnx("cannot read %s: %s", file, strerror(errno));
		return CTLAPI_EXIT_USAGE;
	}
	buf_init(&b, max);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(&b, chunk, n) < 0) {
			vctl_warnx("%s is larger than %zu bytes: send the inventory in parts", file,
				   max);
			buf_clear(&b);
			if (fp != stdin)
				fclose(fp);
			return CTLAPI_EXIT_USAGE;
		}
	if (ferror(fp)) {
		vctl_warnx("cannot read %s: %s", file, strerror(errno));
		buf_clear(&b);
		if (fp != stdin)
			fclose(fp);
		return CTLAPI_EXIT_USAGE;
	}
	if (fp != stdin)
		fclose(fp);
	*data_r = strdup(buf_cstr(&b));
	buf_clear(&b);
	if (*data_r == NULL) {
		vctl_warnx("out of memory");
		return CTLAPI_EXIT_API;
	}
	return 0;
}

/* '?' before a query string's first parameter, '&' before the others */
static char
vctl_query_sep(const struct buf *q)
{
	return q->data != NULL && memchr(q->data, '?', q->len) != NULL ? '&' : '?';
}

/* deploy-script: the script on standard output, or in FILE (mode 0700) */
static int
cmd_deploy_script(struct vctl *v)
{
	struct buf q;
	json_t *res = NULL;
	const char *script;
	char *esc;
	int rc = 0;

	buf_init(&q, VIGILCTL_MAX_QUERY);
	buf_puts(&q, "/api/agentdeploymentscripts");
	if (v->policy != NULL && (esc = ctlapi_escape(&v->api, v->policy)) != NULL) {
		buf_printf(&q, "%cpolicy=%s", vctl_query_sep(&q), esc);
		free(esc);
	}
	if (v->group != NULL && (esc = ctlapi_escape(&v->api, v->group)) != NULL) {
		buf_printf(&q, "%cgroup=%s", vctl_query_sep(&q), esc);
		free(esc);
	}
	if (v->given & OPT_RETRY_INTERVAL)
		buf_printf(&q, "%cretry_interval=%lld", vctl_query_sep(&q), (long long)v->retry_interval);
	if (v->given & OPT_MAX_RETRIES)
		buf_printf(&q, "%cmax_retries=%lld", vctl_query_sep(&q), (long long)v->max_retries);
	if (ctlapi_get(&v->api, buf_cstr(&q), 1, &res, &v->err) < 0) {
		buf_clear(&q);
		return vctl_api_fail(v);
	}
	buf_clear(&q);
	script = json_string_value(json_object_get(res, "scriptBody"));
	if (script == NULL) {
		json_decref(res);
		return vctl_bad_answer(v, "a \"scriptBody\"");
	}
	if (v->output != NULL) {
		/* it holds the deployment token: not for other users' eyes */
		if (file_write_atomic(v->output, script, strlen(script), 0700) < 0) {
			vctl_warnx("cannot write %s: %s", v->output, strerror(errno));
			rc = CTLAPI_EXIT_USAGE;
		} else {
			fprintf(stderr, "vigilctl: deployment script written to %s\n", v->output);
		}
	} else {
		fputs(script, stdout);
	}
	json_decref(res);
	return rc;
}

/* inventory push FILE|-: one line per instance, then the counts */
static int
cmd_inventory(struct vctl *v)
{
	json_t *res = NULL, *it;
	char *body;
	size_t i;
	int rc;

	if ((rc = vctl_read_input(v->file, VIGILCTL_MAX_INPUT, &body)) != 0)
		return rc;
	rc = ctlapi_post(&v->api, "/api/inventory", body, 1, &res, &v->err);
	free(body);
	if (rc < 0)
		return vctl_api_fail(v);
	if (v->given & OPT_JSON) {
		rc = vctl_print_json(res);
		json_decref(res);
		return rc;
	}
	json_array_foreach(json_object_get(res, "instances"), i, it)
	{
		const char *r = jstr(it, "result");
		if (strcmp(r, "matched") == 0)
			printf("%s: %s (ID %lld, by %s): %s%s\n", jstr(it, "id"), jstr(it, "hostName"),
			       (long long)jint(it, "computerID"), jstr(it, "matchedBy"),
			       jstr(it, "status"),
			       json_is_true(json_object_get(it, "changed")) ? "" : " (unchanged)");
		else if (strcmp(r, "ambiguous") == 0)
			printf("%s: ambiguous: several computers match by %s; nothing changed\n",
			       jstr(it, "id"), jstr(it, "matchedBy"));
		else
			printf("%s: no computer matches\n", jstr(it, "id"));
	}
	printf("%lld matched, %lld unmatched, %lld ambiguous; %lld changed\n",
	       (long long)jint(res, "matched"), (long long)jint(res, "unmatched"),
	       (long long)jint(res, "ambiguous"), (long long)jint(res, "changed"));
	json_decref(res);
	return 0;
}

static int
cmd_computer_show(struct vctl *v)
{
	json_t *comp = NULL, *events = NULL, *vg;
	struct buf st;
	char s[128];
	int64_t deadline, id;
	int rc;

	if (v->settings)
		return cmd_computer_settings(v);
	if (v->action != NULL)
		return cmd_computer_action(v);
	if (v->deactivate)
		return vctl_deactivate(v);
	if (v->delete)
		return vctl_delete(v);
	if (v->power != NULL)
		return vctl_power(v);
	buf_init(&st, VIGILCTL_MAX_TEXT);
	if ((rc = vctl_resolve(v, v->computer, &comp)) != 0)
		goto out;
	if (v->given & OPT_JSON) {
		rc = vctl_print_json(comp);
		goto out;
	}
	id = jint(comp, "ID");
	/* the events first, so that a failure prints nothing half done */
	if ((rc = vctl_events_last(v, id, VIGILCTL_SHOW_EVENTS, &events)) != 0)
		goto out;
	vg = json_object_get(comp, "vigil");
	vctl_kv("Name:", jstr(comp, "hostName"));
	if (*jstr(comp, "description"))
		vctl_kv("Description:", jstr(comp, "description"));
	snprintf(s, sizeof(s), "%lld", (long long)id);
	vctl_kv("ID:", s);
	vctl_kv("GUID:", jstr(comp, "hostGUID"));
	vctl_kv("Status:", vctl_status_text(comp, &st));
	vctl_kv("Agent status:", jstr(json_object_get(comp, "computerStatus"), "agentStatus"));
	vctl_fmt_when(jint(comp, "lastAgentCommunication"), s, sizeof(s));
	vctl_kv("Last contact:", s);
	deadline = jint(vg, "offlineDeadline");
	if (deadline <= 0)
		str_copy(s, "none (not activated)", sizeof(s));
	else
		vctl_fmt_when(deadline, s, sizeof(s));
	vctl_kv("Offline deadline:", s);
	if (*jstr(vg, "probableCause"))
		vctl_kv("Probable cause:", jstr(vg, "probableCause"));
	vctl_kv("Last IP:", *jstr(vg, "lastIPUsed") ? jstr(vg, "lastIPUsed") : "unknown");
	if (*jstr(vg, "agentLastError")) {
		char w[40];
		fmt_time_ms(jint(vg, "agentLastErrorTime"), w, sizeof(w));
		snprintf(s, sizeof(s), "%.80s (reported %s)", jstr(vg, "agentLastError"), w);
		vctl_kv("Agent's last error:", s);
	}
	vctl_kv("Platform:", jstr(comp, "platform"));
	vctl_kv("Agent version:", jstr(comp, "agentVersion"));
	vctl_kv("Policy:", jstr(comp, "policyName"));
	vctl_kv("Direction:", jstr(vg, "communicationDirection"));
	if (jint(vg, "agentPort") > 0) {
		snprintf(s, sizeof(s), "%s port %lld, %s", jstr(vg, "lastIPUsed"),
			 (long long)jint(vg, "agentPort"),
			 *jstr(vg, "reachError") ? "last call FAILED"
			 : jint(vg, "lastReach") > 0 ? "last call worked"
						      : "not called yet");
		vctl_kv("Agent port:", s);
		if (*jstr(vg, "reachError"))
			vctl_kv("Call failed:", jstr(vg, "reachError"));
	} else {
		vctl_kv("Agent port:", "not listening (or not reported)");
	}
	vctl_join(json_object_get(json_object_get(comp, "tasks"), "agentTasks"), ", ", &st);
	vctl_kv("Tasks:", st.len ? st.data : "none");
	snprintf(s, sizeof(s), "%lld ms", (long long)jint(vg, "clockOffsetMs"));
	vctl_kv("Clock offset:", s);
	vctl_fmt_when(jint(vg, "certificateExpires"), s, sizeof(s));
	vctl_kv("Certificate expires:", s);
	vctl_show_interfaces(comp);
	snprintf(s, sizeof(s), "%lld critical, %lld warning",
		 (long long)jint(vg, "openCriticalAlerts"), (long long)jint(vg, "openWarningAlerts"));
	vctl_kv("Open alerts:", s);
	if (json_array_size(events) == 0) {
		printf("\nNo events.\n");
		rc = 0;
		goto out;
	}
	printf("\nLast %zu events:\n", json_array_size(events));
	rc = vctl_print_events(events, 0);
out:
	buf_clear(&st);
	json_decref(events);
	json_decref(comp);
	return rc;
}

static int
cmd_events(struct vctl *v)
{
	json_t *comp = NULL, *events = NULL;
	int64_t computer_id = 0;
	int rc;

	/* resolved here, not by the API, so that a shared host name is an error */
	if (v->computer != NULL) {
		if ((rc = vctl_resolve(v, v->computer, &comp)) != 0)
			goto out;
		computer_id = jint(comp, "ID");
	}
	if ((rc = vctl_events_fetch(v, computer_id, v->limit, &events)) != 0)
		goto out;
	if (v->given & OPT_JSON)
		rc = vctl_print_json(events);
	else if (json_array_size(events) == 0)
		fprintf(stderr, "vigilctl: no events match\n");
	else
		rc = vctl_print_events(events, v->given & OPT_WIDE);
out:
	json_decref(events);
	json_decref(comp);
	return rc;
}

static int
cmd_alerts(struct vctl *v)
{
	static const char *const hdr[] = {"ID",	    "SEVERITY", "ALERT",      "TARGET",
					  "RAISED", "CLEARED",	"DESCRIPTION"};
	struct table *t = NULL;
	json_t *res = NULL, *list, *a;
	char id[24], raised[40], cleared[40];
	size_t i;
	int all = (v->given & OPT_ALL) != 0, rc;

	if (v->given & OPT_SUMMARY)
		return cmd_alert_summary(v);
	if (ctlapi_get(&v->api, all ? "/api/alerts?all=true" : "/api/alerts", 1, &res, &v->err) <
	    0) {
		rc = vctl_api_fail(v);
		goto out;
	}
	list = json_object_get(res, "alerts");
	if (!json_is_array(list)) {
		rc = vctl_bad_answer(v, "an \"alerts\" list");
		goto out;
	}
	if (v->given & OPT_JSON) {
		rc = vctl_print_json(list);
		goto out;
	}
	if (json_array_size(list) == 0) {
		fprintf(stderr, "vigilctl: %s\n", all ? "no alerts" : "no open alerts");
		rc = 0;
		goto out;
	}
	rc = CTLAPI_EXIT_API;
	if ((t = table_new(ARRAY_SIZE(hdr), hdr)) == NULL)
		goto out;
	if (!(v->given & OPT_WIDE))
		table_set_max(t, 6, VIGILCTL_DESC_MAX);
	json_array_foreach(list, i, a)
	{
		const char *row[ARRAY_SIZE(hdr)];
		snprintf(id, sizeof(id), "%lld", (long long)jint(a, "ID"));
		fmt_time_ms(jint(a, "timeRaised"), raised, sizeof(raised));
		if (jint(a, "timeCleared") > 0)
			fmt_time_ms(jint(a, "timeCleared"), cleared, sizeof(cleared));
		else
			str_copy(cleared, "-", sizeof(cleared));
		row[0] = id;
		row[1] = jstr(a, "severity");
		row[2] = jstr(a, "name");
		row[3] = *jstr(a, "target") ? jstr(a, "target") : "-";
		row[4] = raised;
		row[5] = cleared;
		row[6] = jstr(a, "description");
		if (table_add(t, row) < 0)
			goto out;
	}
	table_print(t, stdout);
	rc = 0;
out:
	if (rc == CTLAPI_EXIT_API && t != NULL)
		vctl_warnx("out of memory");
	table_free(&t);
	json_decref(res);
	return rc;
}

static int
cmd_health(struct vctl *v)
{
	json_t *res = NULL;
	const char *status;
	char span[32], line[160];
	int64_t n, on, off;
	int rc;

	if (ctlapi_get(&v->api, "/healthz", 0, &res, &v->err) < 0)
		return vctl_api_fail(v);
	status = jstr(res, "status");
	if (v->given & OPT_JSON) {
		rc = vctl_print_json(res);
		if (rc == 0 && strcmp(status, "ok") != 0)
			rc = CTLAPI_EXIT_API;
		goto out;
	}
	if (strcmp(status, "ok") != 0) {
		vctl_warnx("the manager at %s answers, but reports status \"%s\"", v->api.url,
			   *status ? status : "(none)");
		rc = CTLAPI_EXIT_API;
		goto out;
	}
	n = jint(res, "computers");
	on = jint(res, "online");
	off = jint(res, "offline");
	vctl_fmt_span(jint(res, "uptimeSeconds") * 1000, span, sizeof(span));
	printf("The manager at %s is up (status ok).\n", v->api.url);
	vctl_kv("Running for:", span);
	snprintf(line, sizeof(line), "%lld: %lld online, %lld offline, %lld not activated",
		 (long long)n, (long long)on, (long long)off,
		 (long long)(n - on - off > 0 ? n - on - off : 0));
	vctl_kv("Computers:", line);
	snprintf(line, sizeof(line), "%lld", (long long)jint(res, "agentPort"));
	vctl_kv("Agent port:", line);
	snprintf(line, sizeof(line), "%lld", (long long)jint(res, "apiPort"));
	vctl_kv("API port:", line);
	snprintf(line, sizeof(line), "sha256:%.100s", jstr(res, "caFingerprint"));
	vctl_kv("CA fingerprint:", line);
	rc = 0;
out:
	json_decref(res);
	return rc;
}

static const struct vctl_cmd vctl_cmds[] = {
	{"computers", "computers [--json]", OPT_JSON, 0, 1, cmd_computers},
	{"computer",
	 "computer show|deactivate|delete NAME|GUID|ID [--json] | computer power NAME "
	 "stopped|running | computer settings NAME [SETTING=VALUE ...] | computer "
	 "check-status|send-policy|clear-alerts|tasks NAME",
	 OPT_JSON, 2, 1, cmd_computer_show},
	{"license", "license show [--json] | license add --seats N [--modules LIST] [--expires DATE]",
	 OPT_JSON | OPT_SEATS | OPT_MODULES | OPT_EXPIRES, 1, 1, cmd_license},
	{"activation-settings",
	 "activation-settings show [--json] | activation-settings set allow=any|existing|iplist "
	 "iplist=CIDR,... duplicate=reactivate|new|refuse reactivate-cloned=on|off "
	 "reactivate-unknown=on|off",
	 OPT_JSON, 1, 1, cmd_activation_settings},
	{"events",
	 "events [--computer X] [--id N] [--since T] [--until T] [--limit N] [--wide] [--json]",
	 OPT_JSON | OPT_WIDE | OPT_COMPUTER | OPT_ID | OPT_SINCE | OPT_UNTIL | OPT_LIMIT, 0, 1,
	 cmd_events},
	{"alerts", "alerts [--all | --summary] [--wide] [--json]",
	 OPT_JSON | OPT_WIDE | OPT_ALL | OPT_SUMMARY, 0, 1, cmd_alerts},
	{"alert", "alert dismiss ID", 0, 2, 1, cmd_alert},
	{"inventory", "inventory push FILE|- [--json]", OPT_JSON, 2, 1, cmd_inventory},
	{"deploy-script",
	 "deploy-script [--policy P] [--group G] [--retry-interval S] [--max-retries N] "
	 "[--output FILE]",
	 OPT_POLICY | OPT_GROUP | OPT_RETRY_INTERVAL | OPT_MAX_RETRIES | OPT_OUTPUT, 0, 1,
	 cmd_deploy_script},
	{"policy",
	 "policy list | show NAME | create NAME [--parent P|none] [--description D] [SETTING=VALUE "
	 "...] | set NAME [--parent P|none] [--description D] SETTING=VALUE|SETTING=inherited ... | "
	 "assign NAME COMPUTER ... [--json]",
	 OPT_JSON | OPT_PARENT | OPT_DESCRIPTION, -1, 1, cmd_policy},
	{"health", "health [--json]", OPT_JSON, 0, 0, cmd_health},
};

static const char *
vctl_opt_name(unsigned bit)
{
	size_t i;

	for (i = 0; vctl_longopts[i].name != NULL; i++)
		if ((unsigned)vctl_longopts[i].val == bit)
			return vctl_longopts[i].name;
	return "?";
}

/* Reads the options into v; returns 0, or the exit status for main. */
static int
vctl_parse_opts(struct vctl *v, int argc, char **argv)
{
	int ch, idx;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", vctl_longopts, &idx)) != -1) {
		switch (ch) {
		case 'h':
			v->given |= OPT_HELP;
			break;
		case ':':
			return vctl_usage_error("%s needs a value", argv[optind - 1]);
		case '?':
			/* getopt_long puts a long option's value in optopt when it got "=x" */
			if (strncmp(argv[optind - 1], "--", 2) == 0 && optopt != 0)
				return vctl_usage_error("--%s takes no value",
							vctl_opt_name((unsigned)optopt));
			if (optopt > ' ' && optopt < 0x7f)
				return vctl_usage_error("unknown option \"-%c\"", optopt);
			return vctl_usage_error("unknown option \"%s\"", argv[optind - 1]);
		default:
			v->given |= (unsigned)ch;
			break;
		}
		switch (ch) {
		case OPT_MANAGER:
			v->manager = optarg;
			break;
		case OPT_KEY_FILE:
			v->key_file = optarg;
			break;
		case OPT_CA:
			v->ca = optarg;
			break;
		case OPT_COMPUTER:
			if (*optarg == '\0')
				return vctl_usage_error("--computer needs a name, GUID or ID");
			v->computer = optarg;
			break;
		case OPT_ID:
			if (parse_i64(optarg, 1, 99999, &v->event_id) < 0)
				return vctl_usage_error("--id \"%s\": an event ID is a number from 1 "
							"to 99999",
							optarg);
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (vctl_parse_time(optarg, ch == OPT_SINCE ? &v->since_ms : &v->until_ms) <
			    0) {
				char what[64];
				snprintf(what, sizeof(what), "--%s", vctl_opt_name((unsigned)ch));
				vctl_warnx("%s \"%s\" is not a time: give epoch milliseconds, UTC "
					   "ISO 8601 (2026-11-22T10:00:00Z) or an age (30s, 15m, 2h, "
					   "7d)",
					   what, optarg);
				return CTLAPI_EXIT_USAGE;
			}
			break;
		case OPT_SEATS:
			if (parse_i64(optarg, 1, 100000000, &v->seats) < 0) {
				vctl_warnx("--seats \"%s\": give a number from 1 to 100000000", optarg);
				return CTLAPI_EXIT_USAGE;
			}
			break;
		case OPT_MODULES:
			v->modules = optarg;
			break;
		case OPT_POLICY:
			v->policy = optarg;
			break;
		case OPT_GROUP:
			v->group = optarg;
			break;
		case OPT_OUTPUT:
			v->output = optarg;
			break;
		case OPT_PARENT:
			v->parent = optarg;
			break;
		case OPT_DESCRIPTION:
			v->description = optarg;
			break;
		case OPT_RETRY_INTERVAL:
			if (parse_i64(optarg, 1, 3600, &v->retry_interval) < 0)
				return vctl_usage_error("--retry-interval \"%s\": give seconds from 1 to "
							"3600",
							optarg);
			break;
		case OPT_MAX_RETRIES:
			if (parse_i64(optarg, 0, 100, &v->max_retries) < 0)
				return vctl_usage_error("--max-retries \"%s\": give a number from 0 to "
							"100",
							optarg);
			break;
		case OPT_EXPIRES:
			v->expires = optarg;
			break;
		case OPT_LIMIT:
			if (parse_i64(optarg, 1, VIGILCTL_MAX_EVENTS, &v->limit) < 0) {
				vctl_warnx("--limit \"%s\": give a number of events from 1 to %d",
					   optarg, VIGILCTL_MAX_EVENTS);
				return CTLAPI_EXIT_USAGE;
			}
			break;
		default:
			break;
		}
	}
	if ((v->given & OPT_SINCE) && (v->given & OPT_UNTIL) && v->since_ms > v->until_ms) {
		vctl_warnx("--since is later than --until: no event can match");
		return CTLAPI_EXIT_USAGE;
	}
	return 0;
}

/* Picks the command from the words left after the options. */
static int
vctl_parse_cmd(struct vctl *v, int argc, char **argv)
{
	unsigned bad;
	size_t i;
	int nargs = argc - optind;

	if (nargs == 0) {
		vctl_warnx("no command given");
		usage(stderr);
		return CTLAPI_EXIT_USAGE;
	}
	for (i = 0; i < ARRAY_SIZE(vctl_cmds); i++)
		if (strcmp(argv[optind], vctl_cmds[i].name) == 0)
			v->cmd = &vctl_cmds[i];
	if (v->cmd == NULL)
		return vctl_usage_error("unknown command \"%s\"", argv[optind]);
	if (v->cmd->nargs < 0) {
		if (nargs < 2) {
			vctl_warnx("usage: vigilctl %s", v->cmd->usage);
			return CTLAPI_EXIT_USAGE;
		}
		v->words = argv + optind + 1;
		v->nwords = nargs - 1;
	}
	/* "computer settings NAME [SETTING=VALUE ...]" takes any number of words */
	if (v->cmd->run == cmd_computer_show && nargs >= 3 &&
	    strcmp(argv[optind + 1], "settings") == 0) {
		v->settings = 1;
		v->computer = argv[optind + 2];
		v->words = argv + optind + 3;
		v->nwords = nargs - 3;
	}
	/* "computer power NAME STATE" takes one more word than show/deactivate */
	if (v->cmd->nargs >= 0 && !v->settings && nargs - 1 != v->cmd->nargs &&
	    !(v->cmd->run == cmd_computer_show && nargs == 4 &&
	      strcmp(argv[optind + 1], "power") == 0) &&
	    !(v->cmd->run == cmd_activation_settings && nargs >= 3 &&
	      strcmp(argv[optind + 1], "set") == 0)) {
		vctl_warnx("usage: vigilctl %s", v->cmd->usage);
		return CTLAPI_EXIT_USAGE;
	}
	if (v->cmd->run == cmd_computer_show && !v->settings) {
		const char *sub = argv[optind + 1];
		if (strcmp(sub, "check-status") == 0 || strcmp(sub, "send-policy") == 0 ||
		    strcmp(sub, "clear-alerts") == 0 || strcmp(sub, "tasks") == 0)
			v->action = sub;
		else if ((strcmp(sub, "show") != 0 && strcmp(sub, "deactivate") != 0 &&
			  strcmp(sub, "delete") != 0 && strcmp(sub, "power") != 0) ||
		    argv[optind + 2][0] == '\0' || (strcmp(sub, "power") == 0) != (nargs == 4)) {
			vctl_warnx("usage: vigilctl %s", v->cmd->usage);
			return CTLAPI_EXIT_USAGE;
		}
		v->computer = argv[optind + 2];
		v->deactivate = strcmp(sub, "deactivate") == 0;
		v->delete = strcmp(sub, "delete") == 0;
		if (nargs == 4) {
			v->power = argv[optind + 3];
			if (strcmp(v->power, "stopped") != 0 && strcmp(v->power, "running") != 0)
				return vctl_usage_error("computer power: the state is \"stopped\" or "
							"\"running\", not \"%s\"",
							v->power);
		}
	}
	if (v->cmd->run == cmd_inventory) {
		if (strcmp(argv[optind + 1], "push") != 0)
			return vctl_usage_error("usage: vigilctl %s", v->cmd->usage);
		v->file = argv[optind + 2];
	}
	if (v->cmd->run == cmd_alert) {
		if (strcmp(argv[optind + 1], "dismiss") != 0)
			return vctl_usage_error("usage: vigilctl %s", v->cmd->usage);
		if (parse_i64(argv[optind + 2], 1, INT64_MAX, &v->alert_id) < 0)
			return vctl_usage_error("alert dismiss: \"%s\" is not an alert ID (the first "
						"column of vigilctl alerts)",
						argv[optind + 2]);
	}
	if (v->cmd->run == cmd_activation_settings) {
		v->license_action = argv[optind + 1];
		if (strcmp(v->license_action, "show") != 0 && strcmp(v->license_action, "set") != 0)
			return vctl_usage_error("usage: vigilctl %s", v->cmd->usage);
		if (strcmp(v->license_action, "set") == 0 && nargs < 3)
			return vctl_usage_error("activation-settings set needs KEY=VALUE words");
		v->words = argv + optind + 2;
		v->nwords = nargs - 2;
	}
	if (v->cmd->run == cmd_license) {
		v->license_action = argv[optind + 1];
		if (strcmp(v->license_action, "add") != 0 && strcmp(v->license_action, "show") != 0)
			return vctl_usage_error("usage: vigilctl %s", v->cmd->usage);
		if (strcmp(v->license_action, "add") == 0 && !(v->given & OPT_SEATS))
			return vctl_usage_error("license add needs --seats N");
	}
	bad = v->given & ~(v->cmd->opts | OPT_GLOBAL);
	if (bad != 0) {
		return vctl_usage_error("--%s is not an option of \"%s\"", vctl_opt_name(bad & -bad),
					v->cmd->name);
	}
	return 0;
}

/* Connection settings: options, then the environment, then the defaults. */
static int
vctl_settings(struct vctl *v)
{
	const char *url = v->manager, *ca = v->ca, *key, *file;

	if (url == NULL)
		url = getenv("VIGIL_URL");
	if (url == NULL || *url == '\0')
		url = VIGILCTL_DEFAULT_URL;
	if (ca == NULL)
		ca = getenv("VIGIL_CA");
	if (ca == NULL || *ca == '\0')
		ca = VIGILCTL_DEFAULT_CA;
	if (ctlapi_set_url(&v->api, url, &v->err) < 0 || ctlapi_set_ca(&v->api, ca, &v->err) < 0)
		return vctl_api_fail(v);
	if (v->given & OPT_NO_VERIFY_NAME)
		v->api.verify_name = 0;
	/* a broken key must not stop "health", which needs none */
	if (!v->cmd->auth)
		return 0;
	key = getenv("VIGIL_API_KEY");
	file = getenv("VIGIL_API_KEY_FILE");
	if (v->key_file != NULL) {
		if (ctlapi_load_key_file(&v->api, v->key_file, "--api-key-file", &v->err) < 0)
			return vctl_api_fail(v);
	} else if (key != NULL && *key != '\0') {
		if (ctlapi_set_key(&v->api, key, "VIGIL_API_KEY", &v->err) < 0)
			return vctl_api_fail(v);
	} else if (file != NULL && *file != '\0') {
		if (ctlapi_load_key_file(&v->api, file, "VIGIL_API_KEY_FILE", &v->err) < 0)
			return vctl_api_fail(v);
	} else {
		vctl_warnx("no API key: give a file holding it with --api-key-file FILE, or set "
			   "VIGIL_API_KEY_FILE or VIGIL_API_KEY (vigil-manager printed the key "
			   "when it created its state directory)");
		return CTLAPI_EXIT_USAGE;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct vctl v;
	int rc;

	/* for the width of non-ASCII characters in tables; numbers stay in "C" */
	setlocale(LC_CTYPE, "");
	memset(&v, 0, sizeof(v));
	if (ctlapi_init(&v.api) < 0) {
		fprintf(stderr, "vigilctl: cannot initialise libcurl\n");
		return CTLAPI_EXIT_API;
	}
	if ((rc = vctl_parse_opts(&v, argc, argv)) != 0)
		goto out;
	if (v.given & OPT_HELP) {
		usage(stdout);
		goto out;
	}
	if (v.given & OPT_VERSION) {
		printf("vigilctl %s\n", VIGILCTL_VERSION);
		goto out;
	}
	if ((rc = vctl_parse_cmd(&v, argc, argv)) != 0 || (rc = vctl_settings(&v)) != 0)
		goto out;
	rc = v.cmd->run(&v);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		vctl_warnx("cannot write the output");
		if (rc == 0)
			rc = CTLAPI_EXIT_API;
	}
out:
	ctlapi_clear(&v.api);
	return rc;
}
