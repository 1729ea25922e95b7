/*
 * license: licenses and seats.  A seat is held by every activated computer
 * that is not powered off (Managed (VM Stopped)) and not deactivated.  With
 * no license added at all, seats are unlimited (a fresh install works);
 * once one is added, activations beyond the seats are refused.  Expired
 * licenses give no seats, and new activations are refused once all are
 * expired, but running protection is never switched off.
 */
#ifndef VIGIL_LICENSE_H
#define VIGIL_LICENSE_H

#include <stdint.h>

#include "model.h"

struct mgr;

#define LIC_EXPIRY_WARNING_MS (60LL * 86400 * 1000)
#define LIC_MAX_SEATS 100000000

struct licenses {
	struct license *list; /* ascending id */
	int64_t next_id;
	int64_t seats_used;
};

extern const struct alert_type alert_license_expiring;
extern const struct alert_type alert_license_expired;
extern const struct alert_type alert_seat_limit_exceeded;

void lic_init(struct licenses *l);
void lic_clear(struct licenses *l);
int lic_load(struct mgr *m);
/* Adds a license durably; -1 when the database refuses. */
int lic_add(struct mgr *m, int64_t seats, const char *modules, int64_t expires_ms,
	    struct license **out_r);
/* Seats of unexpired licenses, or -1 for "unlimited" (no license at all). */
int64_t lic_seats_total(const struct mgr *m, int64_t now_ms);
/* 1 when licenses exist and every one has expired (the latest expiry in *when_r). */
int lic_all_expired(const struct mgr *m, int64_t now_ms, int64_t *when_r);
int lic_holds_seat(const struct computer *c);
/* Counts the seats held, after loading. */
void lic_recount(struct mgr *m);
/* A computer took (+1) or gave back (-1) a seat. */
void lic_seat_change(struct mgr *m, struct computer *c, int delta);
/* Raises or clears the license alerts; called on change and hourly. */
void lic_evaluate(struct mgr *m, int64_t now_ms);

#endif
