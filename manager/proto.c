/*
 * proto: see proto.h.  jansson parses (strict, no duplicate keys, depth
 * limited by the body limit); this module checks shape and lengths.
 */
#include "proto.h"

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonbody.h"
#include "jsonw.h"
#include "util.h"


static int __attribute__((format(printf, 3, 4)))
pr_fail(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * No C0 or C1 control characters, DEL, or bidirectional overrides and
 * isolates (U+202A-202E, U+2066-2069): names reach terminals and logs.
 * jansson has already checked that the string is valid UTF-8.
 */
static int
pr_printable(const char *str, int multiline)
{
	const unsigned char *s = (const unsigned char *)str;

	for (; *s; s++) {
		if ((*s < 0x20 && *s != '\t' && !(multiline && (*s == '\n' || *s == '\r'))) ||
		    *s == 0x7f)
			return 0;
		if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
			return 0;
		if (s[0] == 0xe2 && s[1] == 0x80 && s[2] >= 0xaa && s[2] <= 0xae)
			return 0;
		if (s[0] == 0xe2 && s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)
			return 0;
	}
	return 1;
}

int
proto_text_ok(const char *s)
{
	return pr_printable(s, 0);
}

/* String field copied into out (size outsize), checked; multiline allows CR/LF. */
static int
pr_str_ml(json_t *obj, const char *name, char *out, size_t outsize, int required, int multiline,
	  char *err, size_t errsize)
{
	json_t *v = json_object_get(obj, name);
	const char *s;

	if (v == NULL || json_is_null(v)) {
		if (required)
			return pr_fail(err, errsize, "field \"%s\" is required", name);
		out[0] = '\0';
		return 0;
	}
	if (!json_is_string(v))
		return pr_fail(err, errsize, "field \"%s\" must be a string", name);
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return pr_fail(err, errsize, "field \"%s\" contains a NUL character", name);
	if (json_string_length(v) >= outsize) {
		snprintf(err, errsize, "field \"%s\" is longer than %zu bytes", name, outsize - 1);
		return -1;
	}
	if (!pr_printable(s, multiline))
		return pr_fail(err, errsize, "field \"%s\" contains control characters", name);
	memcpy(out, s, json_string_length(v) + 1);
	return 0;
}

static int
pr_str(json_t *obj, const char *name, char *out, size_t outsize, int required, char *err,
       size_t errsize)
{
	return pr_str_ml(obj, name, out, outsize, required, 0, err, errsize);
}

static int
pr_int(json_t *obj, const char *name, int64_t min, int64_t max, int64_t *out, char *err,
       size_t errsize)
{
	json_t *v = json_object_get(obj, name);

	if (v == NULL || json_is_null(v)) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(err, errsize, "field \"%s\" must be a whole number from %lld to %lld", name,
			 (long long)min, (long long)max);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static int
pr_mac_ok(const char *s)
{
	int i;

	if (strlen(s) != 17)
		return 0;
	for (i = 0; i < 17; i++) {
		char c = s[i];
		if (i % 3 == 2) {
			if (c != ':')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			     (c >= 'A' && c <= 'F')))
			return 0;
	}
	return 1;
}

/*
 * Validates the interfaces array and re-serialises a normalised copy.  When
 * absent, *out is "[]" if required (activation), else NULL ("unchanged").
 */
static int
pr_interfaces(json_t *obj, char **out, int required, char *err, size_t errsize)
{
	json_t *arr = json_object_get(obj, "interfaces"), *norm, *it;
	size_t i, j;

	*out = NULL;
	if (arr == NULL || json_is_null(arr)) {
		if (!required)
			return 0;
		*out = strdup("[]");
		return *out ? 0 : pr_fail(err, errsize, "out of memory%s", "");
	}
	if (!json_is_array(arr))
		return pr_fail(err, errsize, "field \"%s\" must be an array", "interfaces");
	if (json_array_size(arr) > MAX_INTERFACES) {
		snprintf(err, errsize, "field \"interfaces\" has more than %d entries", MAX_INTERFACES);
		return -1;
	}
	norm = json_array();
	if (norm == NULL)
		return pr_fail(err, errsize, "out of memory%s", "");
	json_array_foreach(arr, i, it)
	{
		char name[64], mac[18];
		json_t *addrs, *a, *nitem, *naddrs;

		if (!json_is_object(it)) {
			json_decref(norm);
			return pr_fail(err, errsize, "every entry of \"%s\" must be an object",
				       "interfaces");
		}
		if (pr_str(it, "name", name, sizeof(name), 1, err, errsize) < 0 ||
		    pr_str(it, "mac", mac, sizeof(mac), 0, err, errsize) < 0) {
			json_decref(norm);
			return -1;
		}
		if (mac[0] && !pr_mac_ok(mac)) {
			json_decref(norm);
			return pr_fail(err, errsize, "interface \"%s\" has a malformed mac", name);
		}
		addrs = json_object_get(it, "addresses");
		naddrs = json_array();
		if (addrs != NULL && !json_is_null(addrs)) {
			if (!json_is_array(addrs) || json_array_size(addrs) > MAX_IF_ADDRS) {
				json_decref(naddrs);
				json_decref(norm);
				snprintf(err, errsize,
					 "interface \"%s\": \"addresses\" must be an array of at most %d strings",
					 name, MAX_IF_ADDRS);
				return -1;
			}
			json_array_foreach(addrs, j, a)
			{
				if (!json_is_string(a) || json_string_length(a) > 64 ||
				    strlen(json_string_value(a)) != json_string_length(a) ||
				    !pr_printable(json_string_value(a), 0)) {
					json_decref(naddrs);
					json_decref(norm);
					snprintf(err, errsize,
						 "interface \"%s\": every address must be a string of at most 64 bytes",
						 name);
					return -1;
				}
				json_array_append(naddrs, a);
			}
		}
		for (j = 0; mac[j]; j++)
			if (mac[j] >= 'A' && mac[j] <= 'F')
				mac[j] = (char)(mac[j] - 'A' + 'a');
		nitem = json_pack("{s:s, s:s, s:o}", "name", name, "mac", mac, "addresses", naddrs);
		if (nitem == NULL || json_array_append_new(norm, nitem) < 0) {
			json_decref(norm);
			return pr_fail(err, errsize, "out of memory%s", "");
		}
	}
	*out = json_dumps(norm, JSON_COMPACT);
	json_decref(norm);
	return *out ? 0 : pr_fail(err, errsize, "out of memory%s", "");
}

static int
pr_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == FPR_HEX_LEN;
}

static int
pr_host(json_t *obj, struct host_facts *h, int hostname_required, char *err, size_t errsize)
{
	if (pr_str(obj, "hostname", h->hostname, sizeof(h->hostname), hostname_required, err,
		   errsize) < 0 ||
	    pr_str(obj, "description", h->description, sizeof(h->description), 0, err, errsize) < 0 ||
	    pr_str(obj, "platform", h->platform, sizeof(h->platform), 0, err, errsize) < 0 ||
	    pr_str(obj, "agent_version", h->agent_version, sizeof(h->agent_version), 0, err,
		   errsize) < 0 ||
	    pr_str(obj, "machine_id", h->machine_id, sizeof(h->machine_id), 0, err, errsize) < 0 ||
	    pr_str(obj, "machine_fingerprint", h->machine_fingerprint,
		   sizeof(h->machine_fingerprint), 0, err, errsize) < 0 ||
	    pr_int(obj, "clock_ms", 0, INT64_C(253402300799000), &h->clock_ms, err, errsize) < 0 ||
	    pr_int(obj, "agent_port", 0, 65535, &h->agent_port, err, errsize) < 0)
		return -1;
	if (json_object_get(obj, "agent_port") == NULL)
		h->agent_port = -1; /* not sent: unchanged */
	if (h->machine_fingerprint[0] && !pr_hex64(h->machine_fingerprint))
		return pr_fail(err, errsize, "field \"%s\" must be 64 lowercase hexadecimal digits",
			       "machine_fingerprint");
	if (hostname_required && h->hostname[0] == '\0')
		return pr_fail(err, errsize, "field \"%s\" must not be empty", "hostname");
	return pr_interfaces(obj, &h->interfaces_json, hostname_required, err, errsize);
}

void
proto_host_facts_clear(struct host_facts *h)
{
	free(h->interfaces_json);
	h->interfaces_json = NULL;
}

static int
pr_activation(const char *body, size_t len, struct activation_req *out, int with_token, char *err,
	      size_t errsize)
{
	json_t *root, *host;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	root = jsonbody_object(body, len, err, errsize);
	if (root == NULL)
		return -1;
	if ((with_token &&
	     pr_str(root, "token", out->token, sizeof(out->token), 1, err, errsize) < 0) ||
	    pr_str_ml(root, "csr", out->csr, sizeof(out->csr), 1, 1, err, errsize) < 0 ||
	    pr_str(root, "policy", out->policy, sizeof(out->policy), 0, err, errsize) < 0)
		goto out;
	host = json_object_get(root, "host");
	if (!json_is_object(host)) {
		pr_fail(err, errsize, "field \"%s\" must be an object with the host facts", "host");
		goto out;
	}
	if (pr_host(host, &out->host, 1, err, errsize) < 0)
		goto out;
	ret = 0;
out:
	json_decref(root);
	if (ret < 0)
		proto_host_facts_clear(&out->host);
	return ret;
}

int
proto_parse_activation(const char *body, size_t len, struct activation_req *out, char *err,
		       size_t errsize)
{
	return pr_activation(body, len, out, 1, err, errsize);
}

int
proto_parse_reactivation(const char *body, size_t len, struct activation_req *out, char *err,
			 size_t errsize)
{
	return pr_activation(body, len, out, 0, err, errsize);
}

void
proto_heartbeat_clear(struct heartbeat_req *hb)
{
	int64_t i;

	proto_host_facts_clear(&hb->host);
	for (i = 0; hb->events != NULL && i < hb->events_count; i++)
		free(hb->events[i].description);
	free(hb->events);
	hb->events = NULL;
	hb->events_count = 0;
}

/* The events array: entries {seq, id, time_ms, description}, seq increasing. */
static int
pr_events(json_t *events, struct heartbeat_req *out, char *err, size_t errsize)
{
	size_t i, n = json_array_size(events);
	json_t *it;

	if (n > PROTO_MAX_EVENTS) {
		snprintf(err, errsize, "field \"events\" has more than %d entries",
		         PROTO_MAX_EVENTS);
		return -1;
	}
	if (n == 0)
		return 0;
	out->events = calloc(n, sizeof(*out->events));
	if (out->events == NULL)
		return pr_fail(err, errsize, "out of memory%s", "");
	json_array_foreach (events, i, it) {
		struct hb_event *e = &out->events[i];
		char desc[PROTO_MAX_EVENT_DESC + 1];
		int64_t id;

		if (!json_is_object(it))
			return pr_fail(err, errsize, "every entry of \"%s\" must be an object",
			               "events");
		if (json_object_get(it, "seq") == NULL || json_object_get(it, "id") == NULL) {
			snprintf(err, errsize, "event %zu: \"seq\" and \"id\" are required", i);
			return -1;
		}
		if (pr_int(it, "seq", 1, PROTO_MAX_SEQ, &e->seq, err, errsize) < 0 ||
		    pr_int(it, "id", 1, 99999, &id, err, errsize) < 0 ||
		    pr_int(it, "time_ms", 0, INT64_C(253402300799000), &e->time_ms, err, errsize) <
		        0 ||
		    pr_str(it, "description", desc, sizeof(desc), 0, err, errsize) < 0)
			return -1;
		e->id = (int)id;
		if (i > 0 && e->seq <= out->events[i - 1].seq) {
			snprintf(err, errsize, "event %zu: \"seq\" must be above the previous one",
			         i);
			return -1;
		}
		e->description = strdup(desc);
		if (e->description == NULL)
			return pr_fail(err, errsize, "out of memory%s", "");
		out->events_count = (int64_t)i + 1;
	}
	return 0;
}

/*
 * The heartbeat fast path: most heartbeats are one flat object of known
 * fields with plain strings and whole numbers.  That shape is read here in
 * one pass, without a tree; anything else (an escape, a nested value, null,
 * an unknown or repeated key, a value that a check refuses) returns 0 and
 * the jansson parse below decides, refusals and their sentences included.
 * So the fast path accepts a subset of what jansson accepts, with the same
 * result: fuzz_heartbeat compares the two on every input.
 */
enum { HF_STR, HF_INT, HF_BOOL };

static const struct hb_field {
	const char *key;
	int kind;
	size_t off, size; /* HF_STR: the char array; HF_INT: the int64_t */
	int64_t min, max;
} hb_fields[] = {
    {"hostname", HF_STR, offsetof(struct heartbeat_req, host.hostname), MAX_HOSTNAME + 1, 0, 0},
    {"description", HF_STR, offsetof(struct heartbeat_req, host.description), MAX_DESCRIPTION + 1,
     0, 0},
    {"platform", HF_STR, offsetof(struct heartbeat_req, host.platform), MAX_PLATFORM + 1, 0, 0},
    {"agent_version", HF_STR, offsetof(struct heartbeat_req, host.agent_version), MAX_VERSION + 1,
     0, 0},
    {"machine_id", HF_STR, offsetof(struct heartbeat_req, host.machine_id), MAX_MACHINE_ID + 1, 0,
     0},
    {"machine_fingerprint", HF_STR, offsetof(struct heartbeat_req, host.machine_fingerprint),
     FPR_HEX_LEN + 1, 0, 0},
    {"config_fingerprint", HF_STR, offsetof(struct heartbeat_req, config_fingerprint),
     PROTO_MAX_FPR + 1, 0, 0},
    {"last_error", HF_STR, offsetof(struct heartbeat_req, last_error), PROTO_MAX_ERROR + 1, 0, 0},
    {"clock_ms", HF_INT, offsetof(struct heartbeat_req, host.clock_ms), 0, 0,
     INT64_C(253402300799000)},
    {"agent_port", HF_INT, offsetof(struct heartbeat_req, host.agent_port), 0, 0, 65535},
    {"uptime_s", HF_INT, offsetof(struct heartbeat_req, uptime_s), 0, 0, INT64_C(1) << 40},
    {"events_dropped", HF_INT, offsetof(struct heartbeat_req, events_dropped), 0, 0, PROTO_MAX_SEQ},
    {"call_me", HF_BOOL, offsetof(struct heartbeat_req, call_me), 0, 0, 0},
};

static const char *
hf_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* A string without escapes or control characters: *s, *n; NULL if not that. */
static const char *
hf_plain_str(const char *p, const char *end, const char **s, size_t *n)
{
	const char *q;

	if (p >= end || *p != '"')
		return NULL;
	for (q = ++p; q < end && *q != '"'; q++)
		if (*q == '\\' || (unsigned char)*q < 0x20)
			return NULL;
	if (q >= end)
		return NULL;
	*s = p;
	*n = (size_t)(q - p);
	return q + 1;
}

static int
pr_heartbeat_fast(const char *body, size_t len, struct heartbeat_req *out)
{
	const char *p = body, *end = body + len;
	unsigned seen = 0;
	size_t i;

	out->host.agent_port = -1; /* not sent: unchanged */
	p = hf_ws(p, end);
	if (p >= end || *p++ != '{')
		return 0;
	p = hf_ws(p, end);
	if (p < end && *p == '}') {
		p++;
		goto done;
	}
	for (;;) {
		const struct hb_field *f = NULL;
		const char *key, *val;
		size_t klen, vlen;

		p = hf_plain_str(p, end, &key, &klen);
		if (p == NULL)
			return 0;
		for (i = 0; i < sizeof(hb_fields) / sizeof(hb_fields[0]); i++)
			if (strlen(hb_fields[i].key) == klen &&
			    memcmp(hb_fields[i].key, key, klen) == 0) {
				f = &hb_fields[i];
				break;
			}
		if (f == NULL || (seen & (1u << i)))
			return 0; /* unknown (jansson checks it) or repeated */
		seen |= 1u << i;
		p = hf_ws(p, end);
		if (p >= end || *p++ != ':')
			return 0;
		p = hf_ws(p, end);
		if (f->kind == HF_STR) {
			char *dst = (char *)out + f->off;

			p = hf_plain_str(p, end, &val, &vlen);
			if (p == NULL || vlen >= f->size || !jsonw_utf8_ok(val, vlen))
				return 0;
			memcpy(dst, val, vlen);
			dst[vlen] = '\0';
			if (!pr_printable(dst, 0))
				return 0;
		} else if (f->kind == HF_INT) {
			int64_t v = 0;
			const char *d = p;

			/* digits without a sign or a leading zero, at most 18: no overflow */
			while (p < end && *p >= '0' && *p <= '9' && p - d < 19)
				v = v * 10 + (*p++ - '0');
			if (p == d || p - d > 18 || (*d == '0' && p - d > 1) ||
			    (p < end &&
			     (*p == '.' || *p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9'))) ||
			    v < f->min || v > f->max)
				return 0;
			memcpy((char *)out + f->off, &v, sizeof(v));
		} else {
			int t;

			if ((size_t)(end - p) >= 4 && memcmp(p, "true", 4) == 0) {
				t = 1;
				p += 4;
			} else if ((size_t)(end - p) >= 5 && memcmp(p, "false", 5) == 0) {
				t = 0;
				p += 5;
			} else
				return 0;
			memcpy((char *)out + f->off, &t, sizeof(t));
		}
		p = hf_ws(p, end);
		if (p >= end)
			return 0;
		if (*p == '}') {
			p++;
			break;
		}
		if (*p++ != ',')
			return 0;
		p = hf_ws(p, end);
	}
done:
	if (hf_ws(p, end) != end)
		return 0;
	if (out->host.machine_fingerprint[0] && !pr_hex64(out->host.machine_fingerprint))
		return 0;
	return 1;
}

int
proto_parse_heartbeat(const char *body, size_t len, struct heartbeat_req *out, char *err,
		      size_t errsize)
{
	memset(out, 0, sizeof(*out));
	if (pr_heartbeat_fast(body, len, out))
		return 0;
	return proto_parse_heartbeat_tree(body, len, out, err, errsize);
}

int
proto_parse_heartbeat_tree(const char *body, size_t len, struct heartbeat_req *out, char *err,
                           size_t errsize)
{
	json_t *root, *events;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	root = jsonbody_object(body, len, err, errsize);
	if (root == NULL)
		return -1;
	if (pr_host(root, &out->host, 0, err, errsize) < 0 ||
	    pr_int(root, "uptime_s", 0, INT64_C(1) << 40, &out->uptime_s, err, errsize) < 0 ||
	    pr_str(root, "config_fingerprint", out->config_fingerprint,
	           sizeof(out->config_fingerprint), 0, err, errsize) < 0 ||
	    pr_str(root, "last_error", out->last_error, sizeof(out->last_error), 0, err, errsize) <
	        0 ||
	    pr_int(root, "events_dropped", 0, PROTO_MAX_SEQ, &out->events_dropped, err, errsize) <
	        0)
		goto out;
	if (json_is_true(json_object_get(root, "call_me")))
		out->call_me = 1;
	events = json_object_get(root, "events");
	if (events != NULL && !json_is_null(events)) {
		if (!json_is_array(events)) {
			pr_fail(err, errsize, "field \"%s\" must be an array", "events");
			goto out;
		}
		if (pr_events(events, out, err, errsize) < 0)
			goto out;
	}
	ret = 0;
out:
	json_decref(root);
	if (ret < 0)
		proto_heartbeat_clear(out);
	return ret;
}

/* A key and its colon, with the comma before it: a constant piece. */
#define HB_KEY(b, text) jsonw_raw(b, text, sizeof(text) - 1)

int
proto_heartbeat_answer(struct buf *b, const struct hb_answer *a)
{
	size_t start = b->len;
	int ok;

	ok = HB_KEY(b, "{\"status\":") == 0 && jsonw_str(b, a->status) == 0 &&
	     HB_KEY(b, ",\"manager_clock_ms\":") == 0 && jsonw_i64(b, a->manager_clock_ms) == 0 &&
	     HB_KEY(b, ",\"heartbeat_interval\":") == 0 &&
	     jsonw_i64(b, a->heartbeat_interval) == 0 &&
	     HB_KEY(b, ",\"config_fingerprint\":") == 0 &&
	     jsonw_str(b, a->config_fingerprint) == 0 && HB_KEY(b, ",\"ack_seq\":") == 0 &&
	     jsonw_i64(b, a->ack_seq) == 0 && HB_KEY(b, ",\"tasks\":[]") == 0;
	if (ok && a->config_json != NULL)
		ok = HB_KEY(b, ",\"config\":") == 0 &&
		     jsonw_raw(b, a->config_json, strlen(a->config_json)) == 0;
	/*
	 * jansson refuses a string that is not UTF-8, and the object was built
	 * without agent_port_check then: so it is here
	 */
	if (ok && a->port_check && jsonw_utf8_ok(a->port_error, strlen(a->port_error)) &&
	    jsonw_utf8_ok(a->direction, strlen(a->direction)))
		ok = HB_KEY(b, ",\"agent_port_check\":{\"port\":") == 0 &&
		     jsonw_i64(b, a->port) == 0 && HB_KEY(b, ",\"last_ok_ms\":") == 0 &&
		     jsonw_i64(b, a->last_ok_ms) == 0 && HB_KEY(b, ",\"error\":") == 0 &&
		     jsonw_str(b, a->port_error) == 0 && HB_KEY(b, ",\"direction\":") == 0 &&
		     jsonw_str(b, a->direction) == 0 && HB_KEY(b, "}") == 0;
	if (ok)
		ok = HB_KEY(b, "}\n") == 0;
	if (!ok)
		b->len = start;
	return ok ? 0 : -1;
}
