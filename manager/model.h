/*
 * model: the manager's in-memory records.  The computer table is the hot
 * state (every heartbeat touches it); the database is written from it in
 * batches by store.c.
 */
#ifndef VIGIL_MODEL_H
#define VIGIL_MODEL_H

#include <stdint.h>

#include "deadline.h"

#define GUID_LEN 37 /* 36 characters and a NUL */
#define SERIAL_LEN 41

/* Field length limits, enforced by proto.c for everything an agent sends. */
#define MAX_HOSTNAME 255
#define MAX_DESCRIPTION 1024
#define MAX_PLATFORM 255
#define MAX_VERSION 64
#define MAX_MACHINE_ID 128
#define FPR_HEX_LEN 64 /* a SHA-256 in hex */
#define MAX_INTERFACES 64
#define MAX_IF_ADDRS 32

enum computer_state {
	COMPUTER_ACTIVATED,
	COMPUTER_DEACTIVATED,
	COMPUTER_ACTIVATION_FAILED, /* refused; failure says why; no certificate */
};

struct alert;
struct policy;
struct policy_values;

struct computer {
	struct deadline_entry deadline; /* first: container_of by cast */
	int64_t id;
	char guid[GUID_LEN];
	char cert_serial[SERIAL_LEN];
	int64_t cert_not_after_ms;
	char *hostname;
	char *description;
	char *platform;
	char *agent_version;
	char *machine_id;
	char machine_fpr[FPR_HEX_LEN + 1]; /* the agent's machine fingerprint at activation */
	struct policy *pol;	   /* policy.c; NULL only for a damaged row: base values */
	struct policy_values *ov; /* the computer's own settings, or NULL */
	char *interfaces_json; /* the agent's last report, as a JSON array */
	char last_ip[64];
	enum computer_state state;
	int offline;
	int power_stopped; /* the inventory says the VM is powered off */
	char *inventory_id; /* the instance id an inventory push matched, or "" */
	char *failure;	   /* why the last activation was refused, or "" */
	int64_t created_ms;
	int64_t activated_ms;
	int64_t last_contact_ms;   /* wall clock, shown and stored */
	int64_t last_contact_mono; /* monotonic, drives the deadline */
	int64_t clock_offset_ms;   /* agent clock - manager clock at last contact */
	/* agentsvc.c: events from the agent's queue (docs/internals/store.md) */
	int64_t agent_seq;        /* highest agent sequence accepted (pending or stored) */
	int64_t agent_seq_stored; /* highest agent sequence known to be committed */
	int64_t agent_dropped;    /* the agent's dropped count last recorded (745) */
	/* store.c: pending writes */
	unsigned dirty_contact : 1; /* last contact changed since the last flush */
	unsigned dirty_row : 1;	    /* other columns changed */
	unsigned insert_pending : 1;   /* a new row, inserted by the next flush */
	struct computer *next_dirty;   /* row list */
	struct computer *next_insert;  /* insert list */
	struct computer *next_contact; /* contact list */
	/* registry.c: hash chains by GUID and by host name */
	struct computer *hnext, *nnext;
	unsigned in_registry : 1;
	/* alerts.c: open alerts of this computer */
	int open_critical, open_warning;
	struct alert *alerts;
	/* contact.c: the manager's calls to the agent port */
	int agent_port;			  /* reported by the agent; 0: it does not listen */
	struct deadline_entry contact_dl; /* the next call */
	struct ctask *tasks;		  /* operator tasks, newest first */
	char *reach_error;		  /* why the last call failed, or NULL */
	int64_t last_reach_ms;		  /* the last call that worked (wall clock) */
	unsigned push_config : 1;	  /* its configuration changed: send it */
	unsigned calling : 1;		  /* a call is running */
	unsigned reach_failed : 1;	  /* the last call failed */
	int64_t last_clock_offset_ms;	  /* status.c: the offset at the heartbeat before */
	/* status.c: what the manager knows of why the computer went quiet (not stored) */
	char *agent_error;	/* the failure the agent reported at its last contact, or NULL */
	int64_t agent_error_ms; /* when it reported it */
	int64_t goodbye_ms;	/* the agent said it was stopping (clean shutdown), or 0 */
	int64_t last_agent_hb_mono; /* the last heartbeat sent by the agent itself */
	unsigned dl_early : 1;	    /* the deadline is the check half an interval before */
	unsigned comm_dir : 2;	    /* communications problem: 1 to the agent, 2 from it */
	/* wdreport.c: the agent's watchdog, from its heartbeats (not stored) */
	int64_t watchdog_restarts;
	int64_t watchdog_last_restart_ms;
};

enum ctask_kind { TASK_CHECK_STATUS, TASK_SEND_POLICY };
enum ctask_state {
	TASK_PENDING,		/* the manager calls the agent at once */
	TASK_PENDING_HEARTBEAT, /* it may not call (or the call failed): the next heartbeat */
	TASK_RUNNING,
	TASK_DONE,
	TASK_FAILED,
};

struct ctask {
	int64_t id;
	enum ctask_kind kind;
	enum ctask_state state;
	int64_t created_ms, updated_ms;
	char by[96];
	char result[200];
	struct ctask *next;
};

enum alert_severity { ALERT_WARNING, ALERT_CRITICAL };

struct alert {
	int64_t id;
	const struct alert_type *type;
	int64_t computer_id; /* 0 for manager-wide alerts */
	char *message;
	int64_t first_raised_ms;
	int64_t last_changed_ms;
	int64_t cleared_ms; /* 0 while open */
	struct alert *next, *prev; /* all open alerts (alerts.c) */
	struct alert *cnext;	   /* the open alerts of the same computer */
	unsigned dirty : 1;
	struct alert *next_dirty;
};

struct license {
	int64_t id;
	int64_t seats;
	char *modules;	    /* comma-separated, "" for all */
	int64_t expires_ms; /* 0: never */
	int64_t created_ms;
	struct license *next;
};

struct alert_type {
	const char *id; /* stable machine name, e.g. "computer-offline" */
	const char *name;
	enum alert_severity severity;
	int dismissible;
	const char *description;
};

#endif
