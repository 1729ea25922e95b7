/*
 * registry: see registry.h.  The hash is chained and doubles when the load
 * reaches 1; computers are never removed in this version (deleted computers
 * come with a later issue), so removal is not implemented.
 */
#include "registry.h"

#include <stdlib.h>
#include <string.h>

#include "deadline.h"

static uint64_t
reg_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void
registry_init(struct registry *r)
{
	memset(r, 0, sizeof(*r));
	r->next_id = 1;
}

void
computer_free(struct computer *c)
{
	if (c == NULL)
		return;
	free(c->hostname);
	free(c->description);
	free(c->platform);
	free(c->agent_version);
	free(c->machine_id);
	free(c->ov);
	free(c->reach_error);
	free(c->agent_error);
	while (c->tasks != NULL) {
		struct ctask *t = c->tasks;
		c->tasks = t->next;
		free(t);
	}
	free(c->interfaces_json);
	free(c->failure);
	free(c->inventory_id);
	free(c);
}

void
registry_clear(struct registry *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		computer_free(r->byid[i]);
	free(r->byid);
	free(r->hash);
	registry_init(r);
}

int
computer_set_str(char **field, const char *s)
{
	char *p = strdup(s ? s : "");

	if (p == NULL)
		return -1;
	free(*field);
	*field = p;
	return 0;
}

struct computer *
registry_new_computer(struct registry *r)
{
	struct computer *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->id = r->next_id;
	c->deadline.heap_idx = DEADLINE_NONE;
	c->contact_dl.heap_idx = DEADLINE_NONE;
	if (computer_set_str(&c->hostname, "") < 0 || computer_set_str(&c->description, "") < 0 ||
	    computer_set_str(&c->platform, "") < 0 || computer_set_str(&c->agent_version, "") < 0 ||
	    computer_set_str(&c->machine_id, "") < 0 ||
	    computer_set_str(&c->interfaces_json, "[]") < 0 || computer_set_str(&c->failure, "") < 0 ||
	    computer_set_str(&c->inventory_id, "") < 0) {
		computer_free(c);
		return NULL;
	}
	return c;
}

static int
reg_rehash(struct registry *r, size_t hsize)
{
	struct computer **h = calloc(hsize, sizeof(*h));
	size_t i;

	if (h == NULL)
		return -1;
	for (i = 0; i < r->n; i++) {
		struct computer *c = r->byid[i];
		size_t b = reg_hash(c->guid) & (hsize - 1);
		c->hnext = h[b];
		h[b] = c;
	}
	free(r->hash);
	r->hash = h;
	r->hsize = hsize;
	return 0;
}

int
registry_add(struct registry *r, struct computer *c)
{
	size_t b;

	if (r->n > 0 && c->id <= r->byid[r->n - 1]->id)
		return -1;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct computer **v = realloc(r->byid, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		r->byid = v;
		r->cap = cap;
	}
	if (r->n + 1 > r->hsize && reg_rehash(r, r->hsize ? r->hsize * 2 : 256) < 0)
		return -1;
	r->byid[r->n++] = c;
	b = reg_hash(c->guid) & (r->hsize - 1);
	c->hnext = r->hash[b];
	r->hash[b] = c;
	if (c->id >= r->next_id)
		r->next_id = c->id + 1;
	return 0;
}

void
registry_remove(struct registry *r, struct computer *c)
{
	struct computer **pp;
	size_t lo = 0, hi = r->n;

	if (r->hsize == 0)
		return;
	for (pp = &r->hash[reg_hash(c->guid) & (r->hsize - 1)]; *pp; pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			c->hnext = NULL;
			break;
		}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->byid[mid]->id < c->id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < r->n && r->byid[lo] == c) {
		memmove(&r->byid[lo], &r->byid[lo + 1], (r->n - lo - 1) * sizeof(*r->byid));
		r->n--;
	}
}

struct computer *
registry_by_guid(const struct registry *r, const char *guid)
{
	struct computer *c;

	if (r->hsize == 0)
		return NULL;
	for (c = r->hash[reg_hash(guid) & (r->hsize - 1)]; c; c = c->hnext)
		if (strcmp(c->guid, guid) == 0)
			return c;
	return NULL;
}

struct computer *
registry_by_id(const struct registry *r, int64_t id)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->byid[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->n && r->byid[lo]->id == id ? r->byid[lo] : NULL;
}

struct computer *
registry_by_name(const struct registry *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->byid[i]->hostname, name) == 0)
			return r->byid[i];
	return NULL;
}
