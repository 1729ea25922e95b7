/*
 * registry: the table of computers: by GUID (hash), by ID (sorted array,
 * IDs only grow) and in ID order for listing.  Owns struct computer.
 */
#ifndef VIGIL_REGISTRY_H
#define VIGIL_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct registry {
	struct computer **byid; /* ascending id */
	size_t n, cap;
	struct computer **hash;  /* by GUID */
	struct computer **nhash; /* by host name, same size */
	size_t hsize;		 /* power of two */
	int64_t next_id;
};

void registry_init(struct registry *r);
void registry_clear(struct registry *r); /* frees every computer */
/* A zeroed computer with the next ID; not yet in the registry. */
struct computer *registry_new_computer(struct registry *r);
/* Adds c (its id must be above every id present). */
int registry_add(struct registry *r, struct computer *c);
/* Takes c out (the caller frees it); next_id does not go back. */
void registry_remove(struct registry *r, struct computer *c);
struct computer *registry_by_guid(const struct registry *r, const char *guid);
struct computer *registry_by_id(const struct registry *r, int64_t id);
/* The computer with the lowest ID whose hostname equals name, or NULL. */
struct computer *registry_by_name(const struct registry *r, const char *name);
/*
 * Every computer named name, in no particular order:
 *   for (c = registry_name_first(r, n); c; c = registry_name_next(c, n))
 */
struct computer *registry_name_first(const struct registry *r, const char *name);
struct computer *registry_name_next(const struct computer *c, const char *name);
/* Renames c, in the registry or not, keeping the name index right. */
int registry_set_hostname(struct registry *r, struct computer *c, const char *name);
void computer_free(struct computer *c);
/* Replaces *field with a copy of s; -1 on allocation failure. */
int computer_set_str(char **field, const char *s);

#endif
