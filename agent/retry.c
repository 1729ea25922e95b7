/*
 * retry: see retry.h.
 */
#include "retry.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "util.h"

static void
rt_str(json_t *o, const char *name, char *out, size_t outsize)
{
	const char *v = json_string_value(json_object_get(o, name));

	str_copy(out, v ? v : "", outsize);
}

int
retry_load(const struct agent_state *st, struct pending_activation *p)
{
	char path[PATH_MAX];
	json_error_t je;
	json_t *o;

	memset(p, 0, sizeof(*p));
	if (agent_state_path(st, RETRY_FILE, path, sizeof(path)) < 0 || access(path, F_OK) != 0)
		return 0;
	o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		unlink(path);
		return -1;
	}
	rt_str(o, "url", p->url, sizeof(p->url));
	rt_str(o, "token", p->token, sizeof(p->token));
	rt_str(o, "hostname", p->hostname, sizeof(p->hostname));
	rt_str(o, "description", p->description, sizeof(p->description));
	rt_str(o, "policy", p->policy, sizeof(p->policy));
	rt_str(o, "ca_fingerprint", p->ca_fingerprint, sizeof(p->ca_fingerprint));
	rt_str(o, "last_error", p->last_error, sizeof(p->last_error));
	p->retry_interval = json_integer_value(json_object_get(o, "retry_interval"));
	p->attempts_left = json_integer_value(json_object_get(o, "attempts_left"));
	p->next_at_ms = json_integer_value(json_object_get(o, "next_at_ms"));
	json_decref(o);
	if (p->url[0] == '\0' || p->token[0] == '\0' || p->retry_interval < 1 ||
	    p->retry_interval > 3600 || p->attempts_left < 0 || p->attempts_left > 100) {
		unlink(path);
		return -1;
	}
	return 1;
}

int
retry_save(const struct agent_state *st, const struct pending_activation *p)
{
	char path[PATH_MAX], *s;
	json_t *o;
	int ret;

	if (agent_state_path(st, RETRY_FILE, path, sizeof(path)) < 0)
		return -1;
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "url", p->url, "token",
		      p->token, "hostname", p->hostname, "description", p->description,
		      "ca_fingerprint", p->ca_fingerprint, "retry_interval",
		      (json_int_t)p->retry_interval, "attempts_left", (json_int_t)p->attempts_left,
		      "next_at_ms", (json_int_t)p->next_at_ms, "last_error", p->last_error);
	if (o != NULL && p->policy[0])
		json_object_set_new(o, "policy", json_string(p->policy));
	s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	if (s == NULL)
		return -1;
	ret = file_write_atomic(path, s, strlen(s), 0600);
	OPENSSL_cleanse(s, strlen(s));
	free(s);
	return ret;
}

void
retry_remove(const struct agent_state *st)
{
	char path[PATH_MAX];

	if (agent_state_path(st, RETRY_FILE, path, sizeof(path)) == 0)
		unlink(path);
}

int64_t
retry_delay_ms(int64_t interval_s, long retry_after_s, uint64_t rnd)
{
	int64_t base = interval_s * 1000, spread = base / 5, d, ra = (int64_t)retry_after_s * 1000;

	d = spread > 0 ? base - spread / 2 + (int64_t)(rnd % (uint64_t)(spread + 1)) : base;
	if (ra > 0 && d < ra)
		d = ra + (int64_t)((rnd >> 16) % (uint64_t)(ra / 2 + 1));
	return d;
}
