/*
 * psettings: the table of policy settings (names, Deep Security names,
 * kinds, bounds) and the pure functions that parse and print their
 * values.  No manager state: unit-tested and fuzzed.  policy.c builds
 * policies on it.
 */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "config.h"
#include "util.h"

const struct ps_def ps_table[PS_COUNT] = {
    [PS_HEARTBEAT_INTERVAL] = {"heartbeat_interval", "platformSettingHeartbeatInterval", PSK_INT, 1,
                               86400, "s", "Seconds between heartbeats."},
    [PS_MISSED_HEARTBEATS] = {"missed_heartbeats_allowed",
                              "platformSettingHeartbeatMissedAlertThreshold", PSK_MISSED, 0, 1000,
                              "",
                              "Heartbeats that may be missed before the computer is offline; "
                              "\"unlimited\" never raises the offline alert (laptops)."},
    [PS_MAX_CLOCK_CHANGE] =
        {"max_clock_change", "platformSettingHeartbeatLocalTimeShiftAlertThreshold", PSK_INT, 1,
         86400 * 365, "s",
         "Largest difference between the agent's and the manager's clock, or "
         "jump of the agent's clock between heartbeats, before the clock change "
         "alert (734)."},
    [PS_OFFLINE_STOPPED_VMS] = {"offline_errors_for_stopped_vms",
                                "platformSettingHeartbeatInactiveVmOfflineAlertEnabled", PSK_BOOL,
                                0, 1, "",
                                "Raise the offline error for a VM the inventory reports stopped."},
    [PS_DIRECTION] = {"communication_direction", "platformSettingAgentCommunicationsDirection",
                      PSK_DIRECTION, 0, 2, "",
                      "bidirectional, agent-initiated or manager-initiated (DESIGN 2)."},
    [PS_ANTI_MALWARE] = {"anti_malware", "antiMalware", PSK_ONOFF, 0, 1, "",
                         "Anti-malware module."},
    [PS_WEB_REPUTATION] = {"web_reputation", "webReputation", PSK_ONOFF, 0, 1, "",
                           "Web reputation module."},
    [PS_FIREWALL] = {"firewall", "firewall", PSK_ONOFF, 0, 1, "", "Firewall module."},
    [PS_INTRUSION_PREVENTION] = {"intrusion_prevention", "intrusionPrevention", PSK_ONOFF, 0, 1, "",
                                 "Intrusion prevention module."},
    [PS_INTEGRITY_MONITORING] = {"integrity_monitoring", "integrityMonitoring", PSK_ONOFF, 0, 1, "",
                                 "Integrity monitoring module."},
    [PS_LOG_INSPECTION] = {"log_inspection", "logInspection", PSK_ONOFF, 0, 1, "",
                           "Log inspection module."},
};

static const char *const dir_names[] = {"bidirectional", "agent-initiated", "manager-initiated"};

const char *
dir_name(int64_t d)
{
	return d >= 0 && d <= DIR_MANAGER_INITIATED ? dir_names[d] : "bidirectional";
}

int
ps_lookup(const char *name)
{
	int i;

	for (i = 0; i < PS_COUNT; i++)
		if (strcmp(name, ps_table[i].name) == 0 || strcmp(name, ps_table[i].ds_name) == 0)
			return i;
	return -1;
}

int
ps_parse(int ps, const char *text, int64_t *v, char *err, size_t errsize)
{
	const struct ps_def *d = &ps_table[ps];
	int i;

	switch (d->kind) {
	case PSK_MISSED:
		if (strcmp(text, "unlimited") == 0) {
			*v = MISSED_UNLIMITED;
			return 0;
		}
		/* fall through */
	case PSK_INT:
		if (parse_i64(text, d->min, d->max, v) == 0)
			return 0;
		snprintf(err, errsize, "%s: \"%.64s\" is not a whole number from %lld to %lld%s",
		         d->name, text, (long long)d->min, (long long)d->max,
		         d->kind == PSK_MISSED ? " or \"unlimited\"" : "");
		return -1;
	case PSK_BOOL:
	case PSK_ONOFF:
		if (strcmp(text, "true") == 0 || strcmp(text, "on") == 0 ||
		    strcmp(text, "1") == 0) {
			*v = 1;
			return 0;
		}
		if (strcmp(text, "false") == 0 || strcmp(text, "off") == 0 ||
		    strcmp(text, "0") == 0) {
			*v = 0;
			return 0;
		}
		snprintf(err, errsize, "%s: \"%.64s\" is neither %s", d->name, text,
		         d->kind == PSK_ONOFF ? "on nor off" : "true nor false");
		return -1;
	case PSK_DIRECTION:
		for (i = 0; i <= DIR_MANAGER_INITIATED; i++)
			if (strcmp(text, dir_names[i]) == 0) {
				*v = i;
				return 0;
			}
		snprintf(
		    err, errsize,
		    "%s: \"%.64s\" is none of bidirectional, agent-initiated, manager-initiated",
		    d->name, text);
		return -1;
	}
	return -1;
}

int
ps_parse_json(int ps, const json_t *j, int64_t *v, char *err, size_t errsize)
{
	char num[32];

	if (json_is_string(j)) {
		if (json_string_length(j) > 64) {
			snprintf(err, errsize, "%s: the value is too long", ps_table[ps].name);
			return -1;
		}
		return ps_parse(ps, json_string_value(j), v, err, errsize);
	}
	if (json_is_boolean(j))
		return ps_parse(ps, json_is_true(j) ? "true" : "false", v, err, errsize);
	if (json_is_integer(j)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(j));
		return ps_parse(ps, num, v, err, errsize);
	}
	snprintf(err, errsize, "%s: give a string, a whole number or a boolean", ps_table[ps].name);
	return -1;
}

json_t *
ps_json(int ps, int64_t v)
{
	switch (ps_table[ps].kind) {
	case PSK_MISSED:
		if (v == MISSED_UNLIMITED)
			return json_string("unlimited");
		/* fall through */
	case PSK_INT:
		return json_integer(v);
	case PSK_BOOL:
		return json_boolean(v);
	case PSK_ONOFF:
		return json_string(v ? "on" : "off");
	case PSK_DIRECTION:
		return json_string(dir_name(v));
	}
	return json_null();
}

json_t *
policy_values_json(const struct policy_values *pv)
{
	json_t *o = json_object();
	int i;

	if (o == NULL)
		return NULL;
	for (i = 0; pv != NULL && i < PS_COUNT; i++)
		if (pv->set & (1u << i))
			json_object_set_new(o, ps_table[i].name, ps_json(i, pv->v[i]));
	return o;
}

int
policy_values_parse(const json_t *o, struct policy_values *pv, uint32_t *unset_r, char *err,
                    size_t errsize)
{
	const char *k;
	json_t *v;

	memset(pv, 0, sizeof(*pv));
	if (unset_r != NULL)
		*unset_r = 0;
	if (!json_is_object(o)) {
		snprintf(err, errsize, "settings must be an object of name: value");
		return -1;
	}
	json_object_foreach ((json_t *)o, k, v) {
		int ps = ps_lookup(k);
		if (ps < 0) {
			snprintf(err, errsize, "no policy setting named \"%.64s\"", k);
			return -1;
		}
		/* null or "inherited": take the parent's value again */
		if (json_is_null(v) ||
		    (json_is_string(v) && strcmp(json_string_value(v), "inherited") == 0)) {
			if (unset_r == NULL) {
				snprintf(err, errsize, "%s: a value is needed here",
				         ps_table[ps].name);
				return -1;
			}
			*unset_r |= 1u << ps;
			continue;
		}
		if (ps_parse_json(ps, v, &pv->v[ps], err, errsize) < 0)
			return -1;
		pv->set |= 1u << ps;
	}
	return 0;
}

int
policy_fingerprint(json_t *cfg, char out[PKI_FPR_LEN])
{
	unsigned char md[32];
	unsigned int n = 0;
	char *s = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	int ret = -1;

	if (s == NULL)
		return -1;
	if (EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) == 1 && n == 32) {
		hex_encode(md, 32, out);
		ret = 0;
	}
	free(s);
	return ret;
}
