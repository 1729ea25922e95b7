/*
 * policy: named policies with parent/child inheritance, per-computer
 * overrides, and each computer's effective configuration with its
 * fingerprint.  Owns struct policy and the table of policy settings.
 *
 * A setting's value is resolved, for a computer, from the first of: the
 * computer's override, its policy, that policy's parent, ... and finally
 * the base: the [policy] section of the configuration file (so a manager
 * with no policies behaves as its configuration says).  Policy 1,
 * "Default", always exists and is where new computers go.
 *
 * Every policy keeps its resolved values and the fingerprint of the
 * configuration its computers get, recomputed when any policy changes
 * (rare), so a heartbeat costs one pointer chase, not a walk up the tree.
 */
#ifndef VIGIL_POLICY_H
#define VIGIL_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "pki.h"

struct mgr;
struct computer;

enum ps_id {
	PS_HEARTBEAT_INTERVAL,
	PS_MISSED_HEARTBEATS,
	PS_MAX_CLOCK_CHANGE,
	PS_OFFLINE_STOPPED_VMS,
	PS_DIRECTION,
	PS_ANTI_MALWARE,
	PS_WEB_REPUTATION,
	PS_FIREWALL,
	PS_INTRUSION_PREVENTION,
	PS_INTEGRITY_MONITORING,
	PS_LOG_INSPECTION,
	PS_COUNT
};

#define PS_FIRST_MODULE PS_ANTI_MALWARE

enum ps_kind {
	PSK_INT,    /* whole number in [min, max] */
	PSK_MISSED, /* whole number, or "unlimited" (MISSED_UNLIMITED) */
	PSK_BOOL,   /* true / false */
	PSK_ONOFF,  /* a protection module: on / off */
	PSK_DIRECTION,
};

enum comm_direction {
	DIR_BIDIRECTIONAL,
	DIR_AGENT_INITIATED,
	DIR_MANAGER_INITIATED,
};

struct ps_def {
	const char *name;    /* vigilctl and the agent: heartbeat_interval */
	const char *ds_name; /* Deep Security API: platformSettingHeartbeatInterval */
	enum ps_kind kind;
	int64_t min, max;
	const char *unit;
	const char *description;
};

extern const struct ps_def ps_table[PS_COUNT];

#define POLICY_MAX_NAME 128
#define POLICY_MAX_DESCRIPTION 1024
#define POLICY_MAX_DEPTH 16 /* a policy and its ancestors */
#define POLICY_MAX_COUNT 10000
#define POLICY_DEFAULT_ID 1

/* Values a policy or a computer sets itself; the others are inherited. */
struct policy_values {
	uint32_t set; /* bit (1 << ps_id) for each value given */
	int64_t v[PS_COUNT];
};

struct policy {
	int64_t id;
	char *name;
	char *description;
	int64_t parent_id; /* 0: none (inherits from the base) */
	struct policy_values own;
	int64_t eff[PS_COUNT]; /* resolved */
	int64_t eff_from[PS_COUNT]; /* the policy id that gave it, 0 for the base */
	char fpr[PKI_FPR_LEN];	    /* configuration fingerprint of its computers */
	int moved;		    /* policy.c: the last change moved fpr */
	char *cfg_json;             /* the configuration that fpr is of, as compact JSON text */
	int64_t created_ms, changed_ms;
	struct policy *next;
};

struct policies {
	struct policy *list; /* in id order */
	size_t n;
	int64_t next_id;
	int64_t base[PS_COUNT];
};

void policies_init(struct policies *p);
void policies_clear(struct policies *p);
/* Base values from the configuration; then loads the policies (store). */
int policies_load(struct mgr *m, const char **errstr_r);

struct policy *policy_by_id(const struct mgr *m, int64_t id);
/* By name (exact), or by ID when ref is a number. */
struct policy *policy_find(const struct mgr *m, const char *ref);
/* The setting called name (either spelling), or -1. */
int ps_lookup(const char *name);

/*
 * Parses a value for setting ps from text ("600", "unlimited", "on",
 * "agent-initiated", ...); -1 with a sentence in err.
 */
int ps_parse(int ps, const char *text, int64_t *v, char *err, size_t errsize);
/* The same from a JSON value (string, integer or boolean). */
int ps_parse_json(int ps, const json_t *j, int64_t *v, char *err, size_t errsize);
/* v as JSON (integer, "unlimited", boolean, "on"/"off", direction name). */
json_t *ps_json(int ps, int64_t v);
const char *dir_name(int64_t d);

/*
 * Creates a policy (durable when it returns); NULL with a sentence in err
 * (a name in use or malformed, an unknown parent, the database).
 */
struct policy *policy_create(struct mgr *m, const char *name, const char *description,
			     int64_t parent_id, const char *by, char *err, size_t errsize);
/*
 * Changes a policy: set settings from vals (only the bits set), unset the
 * bits in unset, and optionally the parent (-1: unchanged) and description
 * (NULL: unchanged).  Durable when it returns 0; every computer that uses
 * the policy or a descendant gets the new configuration (policy_changed).
 */
int policy_update(struct mgr *m, struct policy *p, const struct policy_values *vals,
		  uint32_t unset, int64_t parent_id, const char *description, const char *by,
		  char *err, size_t errsize);
/* Puts c under p (event 253); durable at the next flush. */
void policy_assign(struct mgr *m, struct computer *c, struct policy *p, const char *by);
/* Sets and unsets c's own overrides (event 252). */
int policy_override(struct mgr *m, struct computer *c, const struct policy_values *vals,
		    uint32_t unset, const char *by, char *err, size_t errsize);

/* c's effective value of setting ps. */
int64_t policy_value(const struct mgr *m, const struct computer *c, int ps);
/* Where c's value of ps comes from: "computer", a policy name, or "configuration". */
const char *policy_value_source(const struct mgr *m, const struct computer *c, int ps);
/* The effective configuration sent to c's agent; caller owns the reference. */
json_t *policy_effective(const struct mgr *m, const struct computer *c);
/* Its fingerprint (cached per policy for computers without overrides). */
int policy_config_fpr(const struct mgr *m, const struct computer *c, char out[PKI_FPR_LEN]);
/*
 * policy_effective() as compact JSON text: the policy's cached text, or (a
 * computer with overrides) text made for c and left in *owned to free.
 * NULL if it cannot be made.
 */
const char *policy_config_text(const struct mgr *m, const struct computer *c, char **owned);
/* SHA-256 of the canonical (sorted, compact) JSON of cfg, in hex. */
int policy_fingerprint(json_t *cfg, char out[PKI_FPR_LEN]);

/* Overrides as JSON {"name": value} (for the store and the API); NULL when none. */
json_t *policy_values_json(const struct policy_values *pv);
/* Parses {"name": value, ...}; -1 with a sentence. */
int policy_values_parse(const json_t *o, struct policy_values *pv, uint32_t *unset_r, char *err,
			size_t errsize);

#endif
