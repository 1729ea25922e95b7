/*
 * actsettings: the manager-wide activation settings (Deep Security's
 * "Agent-Initiated Activation" settings): who may activate (any computer,
 * computers already listed, or addresses in an allow-list) and what to do
 * when a computer with the same identity (host name and machine id) exists,
 * and whether cloned agents and agents of deleted computers are reactivated
 * as new computers.
 * Kept as one JSON value ("activation_settings") in the settings table.
 * Pure functions (no manager state), so they are unit-tested and fuzzed.
 */
#ifndef VIGIL_ACTSETTINGS_H
#define VIGIL_ACTSETTINGS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ACT_MAX_CIDRS 64

enum act_allow { ACT_ALLOW_ANY, ACT_ALLOW_EXISTING, ACT_ALLOW_IPLIST };
enum act_duplicate { ACT_DUP_REACTIVATE, ACT_DUP_NEW, ACT_DUP_REFUSE };

struct act_cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
};

struct act_settings {
	enum act_allow allow;
	enum act_duplicate duplicate;
	struct act_cidr cidrs[ACT_MAX_CIDRS];
	int ncidrs;
	int reactivate_cloned;	/* a clone becomes a new computer (else refused) */
	int reactivate_unknown; /* an agent whose computer was deleted comes back */
};

void act_defaults(struct act_settings *s);
/* Parses "10.0.0.0/8", "::1/128" or a bare address; -1 when malformed. */
int act_cidr_parse(const char *text, struct act_cidr *out);
/* 1 when the textual address ip lies in one of the allow-list's ranges. */
int act_ip_allowed(const struct act_settings *s, const char *ip);
/* JSON for the API: {"allow","ipList","duplicate","reactivateCloned","reactivateUnknown"}. */
json_t *act_to_json(const struct act_settings *s);
/* Fills s from a JSON object (all fields optional over the current values). */
int act_from_json(struct act_settings *s, json_t *o, char *err, size_t errsize);

#endif
