/*
 * store: the manager's persistence, on top of db.h.  The single writer:
 * callers mark what changed and store_flush() writes it in one transaction
 * (events, alerts, computer rows every housekeeping tick; last-contact
 * times every contact_flush_interval).  Activation writes are made durable
 * before the agent gets its identity (store_computer_insert).
 */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "model.h"

struct registry;
struct mgr;

#define STORE_MAX_PENDING_EVENTS 1000000
/* flush latency histogram (GET /metrics): upper bounds in microseconds, then +Inf */
#define STORE_FLUSH_BUCKETS 9
extern const int64_t store_flush_bucket_us[STORE_FLUSH_BUCKETS];

struct pending_event {
	int64_t id, time_ms, computer_id;
	int64_t agent_seq, agent_time_ms; /* 0: recorded by the manager */
	int event_id;
	char *target, *description;
};

struct store {
	struct db_handle h;
	struct db_stmt *st_contact, *st_row, *st_insert, *st_event, *st_alert_ins, *st_alert_upd;
	struct computer *inserts, **inserts_tail; /* new rows, in the order queued */
	struct computer *dirty_rows;
	struct computer *dirty_contacts;
	size_t ndirty_contacts;
	struct alert *dirty_alerts;
	struct pending_event *events;
	size_t nevents, events_cap;
	int64_t next_event_id;
	uint64_t flushes, flush_errors, events_dropped;
	int64_t last_flush_us;
	uint64_t flush_hist[STORE_FLUSH_BUCKETS + 1]; /* not cumulative; last: +Inf */
	int64_t flush_sum_us;
};

struct event_filter {
	int64_t computer_id; /* 0: any */
	int event_id;	     /* 0: any */
	int64_t since_ms, until_ms; /* 0: open */
	int64_t after_id;	    /* paging: id > after_id */
	int limit;
	int descending;
};

struct event_row {
	int64_t id, time_ms, computer_id;
	int64_t agent_seq, agent_time_ms; /* 0: not an agent's event */
	int event_id;
	const char *target, *description;
};

struct alert_row {
	int64_t id, computer_id, first_raised_ms, last_changed_ms, cleared_ms;
	int dismissible;
	const char *type, *severity, *message;
};

int store_open(struct store *s, const char *path, const char **errstr_r);
void store_close(struct store *s);
struct policy;
/* pol_of maps a stored policy ID to its policy (NULL: the base values). */
int store_load_computers(struct store *s, struct registry *r,
			 struct policy *(*pol_of)(void *ctx, int64_t id), void *ctx);
int store_load_alerts(struct store *s, struct mgr *m);
/* Writes c's row now, with everything pending (durable when it returns 0). */
int store_computer_write(struct store *s, struct computer *c);
int store_license_insert(struct store *s, const struct license *l);
/* Calls cb for every license (the strings live only during the call). */
int store_load_licenses(struct store *s, int (*cb)(void *ctx, const struct license *l),
			void *ctx);
/* Inserts a new computer durably (one transaction with everything pending). */
int store_computer_insert(struct store *s, struct computer *c);
/*
 * Group commit: queues c's row to be inserted by the next store_flush(),
 * in the same transaction as everything else pending (first, so that rows
 * and events written with it may refer to it).  c->insert_pending is set
 * until a flush commits it.  store_insert_cancel() takes a queued row out
 * again (the computer is not going to exist after all).
 */
void store_insert_later(struct store *s, struct computer *c);
void store_insert_cancel(struct store *s, struct computer *c);
void store_mark_contact(struct store *s, struct computer *c);
void store_mark_row(struct store *s, struct computer *c);
void store_mark_alert(struct store *s, struct alert *al);
int store_event_add(struct store *s, int64_t time_ms, int event_id, int64_t computer_id,
		    const char *target, const char *description);
/*
 * An event from an agent's queue: (computer_id, agent_seq) is unique in
 * the database, so a resend that reaches the store is not stored twice.
 */
int store_agent_event_add(struct store *s, int64_t time_ms, int event_id, int64_t computer_id,
                          const char *target, const char *description, int64_t agent_seq,
                          int64_t agent_time_ms);
/* Writes everything pending; contacts too when with_contacts. */
int store_flush(struct store *s, int with_contacts);
/* Deletes events beyond age and count limits. */
int store_events_prune(struct store *s, int64_t min_time_ms, int64_t max_count);
int store_events_query(struct store *s, const struct event_filter *f,
		       int (*cb)(void *ctx, const struct event_row *row), void *ctx);
int store_alerts_query(struct store *s, int include_cleared, int64_t computer_id,
		       int (*cb)(void *ctx, const struct alert_row *row), void *ctx);
/* Settings table: value copied into out; -1 when absent. */
/*
 * Revoked certificates (deactivated computers, superseded certificates):
 * they must stay refused after their computer is deleted.  Written at once.
 */
int store_cert_revoke(struct store *s, const char *serial, const char *guid, int64_t not_after_ms,
		      const char *reason);
/* 1 when revoked, 0 when not, -1 when the database cannot be read. */
int store_cert_revoked(struct store *s, const char *serial);
int store_certs_prune(struct store *s, int64_t now);
/*
 * Deletes c's row durably (after flushing everything pending); with a
 * reason its certificate is revoked in the same transaction.  id_floor
 * (the highest ID ever given) is kept as the setting computer_id_floor so
 * that IDs are never reused, even after a restart.
 */
int store_computer_delete(struct store *s, const struct computer *c, const char *revoke_reason,
			  int64_t id_floor);
/* A policy as stored; the strings live only during a call. */
struct policy_row {
	int64_t id, parent_id, created_ms, changed_ms; /* parent_id 0: none */
	const char *name, *description, *settings;
};

int store_load_policies(struct store *s, int (*cb)(void *ctx, const struct policy_row *row),
			void *ctx);
/* Inserts (insert) or updates the policy row; durable when it returns 0. */
int store_policy_write(struct store *s, const struct policy_row *row, int insert);
int store_setting_get(struct store *s, const char *name, char *out, size_t outsize);
int store_setting_set(struct store *s, const char *name, const char *value);

#endif
