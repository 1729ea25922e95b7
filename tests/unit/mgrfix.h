/*
 * mgrfix: a manager context on a real store in a temporary directory, for
 * the unit tests of the modules that need one (status, policy, contact,
 * metrics, wdreport).  Policies are loaded, so computers have Default.
 */
#ifndef VIGIL_MGRFIX_H
#define VIGIL_MGRFIX_H

#include <stdint.h>

#include "mgr.h"

struct mgrfix {
	char dir[64];
	char db[128];
	int64_t interval, missed; /* the [policy] base */
	struct mgr m;
};

/* A new context; interval and missed become [policy] before the policies load. */
struct mgrfix *mgrfix_new(const char *name, int64_t interval, int64_t missed);
/* Closes and opens the same database again, as a restart does. */
void mgrfix_reopen(struct mgrfix *f);
void mgrfix_free(struct mgrfix *f);
/* An activated computer under p (NULL: Default), first contact at wall / mono. */
struct computer *mgrfix_computer(struct mgr *m, const char *name, struct policy *p, int64_t wall,
                                 int64_t mono);

/* How many events with this ID are stored (after a flush). */
int mgrfix_events(struct mgr *m, int id);

#endif
