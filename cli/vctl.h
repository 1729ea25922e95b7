/*
 * vctl: what vigilctl's files share: the settings of one run, the command
 * table's entry, and the helpers that print and fail the same way
 * everywhere.  vigilctl.c has main() and most commands; vctl_policy.c the
 * policy commands.
 */
#ifndef VIGIL_VCTL_H
#define VIGIL_VCTL_H

#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "ctlapi.h"

#define VIGILCTL_VERSION "0.1.0"
#define VIGILCTL_DEFAULT_URL "https://localhost:4119"
#define VIGILCTL_DEFAULT_CA "/var/lib/vigil/ca.crt"
#define VIGILCTL_DESC_MAX 80    /* columns of a description in a table */
#define VIGILCTL_SHOW_EVENTS 10 /* events under "computer show" */
#ifndef VIGILCTL_PAGE
#define VIGILCTL_PAGE 5000 /* the API's largest page of events; -D for tests */
#endif
#ifndef VIGILCTL_COMPUTER_PAGE
#define VIGILCTL_COMPUTER_PAGE 10000          /* the API's largest page of computers */
#define VIGILCTL_MAX_INPUT (64 * 1024 * 1024) /* an inventory file (the API's largest body) */
#endif
#define VIGILCTL_MAX_EVENTS 1000000 /* kept in memory by one command */
#define VIGILCTL_MAX_TEXT 4096      /* one joined value (status messages, addresses) */
#define VIGILCTL_MAX_QUERY 1024

/* options, as bits to check which command accepts which */
enum vctl_opt {
	OPT_MANAGER = 1 << 0,
	OPT_KEY_FILE = 1 << 1,
	OPT_CA = 1 << 2,
	OPT_NO_VERIFY_NAME = 1 << 3,
	OPT_JSON = 1 << 4,
	OPT_WIDE = 1 << 5,
	OPT_COMPUTER = 1 << 6,
	OPT_ID = 1 << 7,
	OPT_SINCE = 1 << 8,
	OPT_UNTIL = 1 << 9,
	OPT_LIMIT = 1 << 10,
	OPT_ALL = 1 << 11,
	OPT_HELP = 1 << 12,
	OPT_VERSION = 1 << 13,
	OPT_SEATS = 1 << 14,
	OPT_MODULES = 1 << 15,
	OPT_EXPIRES = 1 << 16,
	OPT_POLICY = 1 << 17,
	OPT_GROUP = 1 << 18,
	OPT_RETRY_INTERVAL = 1 << 19,
	OPT_MAX_RETRIES = 1 << 20,
	OPT_OUTPUT = 1 << 21,
	OPT_PARENT = 1 << 22,
	OPT_DESCRIPTION = 1 << 23,
	OPT_SUMMARY = 1 << 24,
};

#define OPT_GLOBAL (OPT_MANAGER | OPT_KEY_FILE | OPT_CA | OPT_NO_VERIFY_NAME)

/* One run of vigilctl: the settings from the command line and the client. */
struct vctl {
	struct ctlapi api;
	struct ctlapi_err err;
	const struct vctl_cmd *cmd;
	unsigned given; /* enum vctl_opt bits seen */
	const char *manager, *key_file, *ca;
	const char *computer; /* --computer, or the argument of "computer show" */
	int64_t event_id, since_ms, until_ms, limit;
	int deactivate;                      /* "computer deactivate" rather than "computer show" */
	int delete;                          /* "computer delete" */
	int64_t alert_id;                    /* "alert dismiss ID" */
	const char *file;                    /* "inventory push FILE" */
	const char *policy, *group, *output; /* deploy-script */
	const char *parent, *description;    /* policy create|set */
	int settings;                        /* "computer settings" */
	const char *action; /* computer check-status|send-policy|clear-alerts|tasks */
	int64_t retry_interval, max_retries;
	const char *power;          /* "computer power NAME stopped|running" */
	const char *license_action; /* "add", "show" (license); "show", "set" (settings) */
	char **words;               /* activation-settings set KEY=VALUE ... */
	int nwords;
	int64_t seats;
	const char *modules, *expires;
};

struct vctl_cmd {
	const char *name;
	const char *usage;
	unsigned opts; /* besides OPT_GLOBAL */
	int nargs;     /* positional arguments after the name; -1: one or more (words) */
	int auth;      /* needs the API key */
	int (*run)(struct vctl *v);
};

/* Prints "vigilctl: <sentence>" with the operator's terminal kept safe. */
void vctl_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: the sentence, a pointer to --help; returns exit status 2. */
int vctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The API call failed: prints why; returns the exit status. */
int vctl_api_fail(struct vctl *v);
/* An answer that parsed but does not have the expected shape. */
int vctl_bad_answer(struct vctl *v, const char *what);
/* A string or integer member, "" or 0 when absent. */
const char *jstr(const json_t *o, const char *key);
int64_t jint(const json_t *o, const char *key);
int vctl_print_json(const json_t *j);
/* "Label:   value" lines of "computer show". */
void vctl_kv(const char *label, const char *value);
/* The computer called arg (name, GUID or ID), as the API's object; 0 or the exit status. */
int vctl_resolve(struct vctl *v, const char *arg, json_t **comp_r);

/* vctl_policy.c */
int cmd_policy(struct vctl *v);
int cmd_computer_settings(struct vctl *v);
int cmd_computer_action(struct vctl *v);
int cmd_alert_summary(struct vctl *v);

#endif
