/*
 * alerts: conditions with a raise and a clear.  The built-in alert types
 * live in one table; open alerts are kept in memory (a list, and counts per
 * computer for the "Multiple Errors/Warnings" status) and written through
 * the store.  Raising an alert that is already open never duplicates it.
 */
#ifndef VIGIL_ALERTS_H
#define VIGIL_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct mgr;

struct alerts {
	struct alert *open; /* open alerts, newest first */
	struct alert *wide; /* the manager-wide ones among them (cnext) */
	int64_t next_id;
};

extern const struct alert_type alert_computer_offline;
extern const struct alert_type alert_duplicate_computer;
extern const struct alert_type alert_comm_problem;
extern const struct alert_type alert_clock_change;
extern const struct alert_type alert_heartbeat_rejected;

void alerts_init(struct alerts *a);
void alerts_clear(struct alerts *a);
const struct alert_type *alert_type_find(const char *id);
/* Adopts a loaded open alert (from the store at start-up). */
void alerts_adopt(struct mgr *m, struct alert *al);
/* Raises (or refreshes) type on computer c (NULL: manager-wide). */
void alert_raise(struct mgr *m, const struct alert_type *t, struct computer *c,
		 const char *message);
/* Clears type on c if open. */
void alert_clear(struct mgr *m, const struct alert_type *t, struct computer *c);
/* Ends every open alert of c (it is being deleted), recording why. */
void alerts_clear_computer(struct mgr *m, struct computer *c, const char *why);
/* The open alert with this ID, or NULL. */
struct alert *alert_by_id(struct mgr *m, int64_t id);
/*
 * Dismisses an open dismissible alert (event 800).  0; -1 when there is no
 * such open alert, -2 when its type cannot be dismissed (err says so).
 */
int alert_dismiss(struct mgr *m, int64_t id, const char *by, char *err, size_t errsize);
struct alert *alert_find_open(struct mgr *m, const struct alert_type *t, int64_t computer_id);
const char *alert_severity_name(enum alert_severity s);
void alert_free(struct alert *al);

#endif
