/*
 * actsettings: see actsettings.h.
 */
#include "actsettings.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

static const char *const allow_names[] = {"any", "existing", "iplist"};
static const char *const dup_names[] = {"reactivate", "new", "refuse"};

void
act_defaults(struct act_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->allow = ACT_ALLOW_ANY;
	s->duplicate = ACT_DUP_REACTIVATE;
	s->reactivate_cloned = 1;
	s->reactivate_unknown = 0;
}

int
act_cidr_parse(const char *text, struct act_cidr *out)
{
	char addr[64];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	int64_t prefix;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(addr))
		return -1;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -1;
	out->prefix = out->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (parse_i64(slash + 1, 0, out->prefix, &prefix) < 0)
			return -1;
		out->prefix = (int)prefix;
	}
	return 0;
}

static int
cidr_contains(const struct act_cidr *c, int family, const unsigned char *a)
{
	int full = c->prefix / 8, rest = c->prefix % 8;

	if (c->family != family)
		return 0;
	if (memcmp(c->addr, a, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((c->addr[full] ^ a[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

int
act_ip_allowed(const struct act_settings *s, const char *ip)
{
	unsigned char a[16];
	int family, i;

	if (inet_pton(AF_INET, ip, a) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, ip, a) == 1)
		family = AF_INET6;
	else
		return 0;
	for (i = 0; i < s->ncidrs; i++)
		if (cidr_contains(&s->cidrs[i], family, a))
			return 1;
	return 0;
}

json_t *
act_to_json(const struct act_settings *s)
{
	json_t *list = json_array();
	char addr[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 8];
	int i;

	for (i = 0; i < s->ncidrs; i++) {
		inet_ntop(s->cidrs[i].family, s->cidrs[i].addr, addr, sizeof(addr));
		snprintf(text, sizeof(text), "%s/%d", addr, s->cidrs[i].prefix);
		json_array_append_new(list, json_string(text));
	}
	return json_pack("{s:s, s:o, s:s, s:b, s:b}", "allow", allow_names[s->allow], "ipList",
			 list, "duplicate", dup_names[s->duplicate], "reactivateCloned",
			 s->reactivate_cloned, "reactivateUnknown", s->reactivate_unknown);
}

static int
name_index(const char *const *names, size_t n, const char *v)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		if (strcmp(names[i], v) == 0)
			return (int)i;
	return -1;
}

int
act_from_json(struct act_settings *s, json_t *o, char *err, size_t errsize)
{
	struct act_settings next = *s;
	json_t *v, *it;
	size_t i;
	int k;

	if ((v = json_object_get(o, "allow")) != NULL) {
		if ((k = name_index(allow_names, 3, json_string_value(v))) < 0) {
			snprintf(err, errsize, "field \"allow\" must be \"any\", \"existing\" or \"iplist\"");
			return -1;
		}
		next.allow = (enum act_allow)k;
	}
	if ((v = json_object_get(o, "duplicate")) != NULL) {
		if ((k = name_index(dup_names, 3, json_string_value(v))) < 0) {
			snprintf(err, errsize,
				 "field \"duplicate\" must be \"reactivate\", \"new\" or \"refuse\"");
			return -1;
		}
		next.duplicate = (enum act_duplicate)k;
	}
	if ((v = json_object_get(o, "reactivateCloned")) != NULL) {
		if (!json_is_boolean(v)) {
			snprintf(err, errsize, "field \"reactivateCloned\" must be true or false");
			return -1;
		}
		next.reactivate_cloned = json_is_true(v);
	}
	if ((v = json_object_get(o, "reactivateUnknown")) != NULL) {
		if (!json_is_boolean(v)) {
			snprintf(err, errsize, "field \"reactivateUnknown\" must be true or false");
			return -1;
		}
		next.reactivate_unknown = json_is_true(v);
	}
	if ((v = json_object_get(o, "ipList")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) > ACT_MAX_CIDRS) {
			snprintf(err, errsize, "field \"ipList\" must be an array of at most %d ranges",
				 ACT_MAX_CIDRS);
			return -1;
		}
		next.ncidrs = 0;
		json_array_foreach(v, i, it)
		{
			if (!json_is_string(it) ||
			    act_cidr_parse(json_string_value(it), &next.cidrs[next.ncidrs]) < 0) {
				snprintf(err, errsize,
					 "field \"ipList\": entry %zu is not an address or a range such as "
					 "10.0.0.0/8",
					 i + 1);
				return -1;
			}
			next.ncidrs++;
		}
	}
	if (next.allow == ACT_ALLOW_IPLIST && next.ncidrs == 0) {
		snprintf(err, errsize, "\"allow\": \"iplist\" needs at least one range in \"ipList\"");
		return -1;
	}
	*s = next;
	return 0;
}
