/*
 * registry: see registry.h.  Two chained hashes of the same size, by GUID
 * and by host name (activation looks computers up by name, and a scan of a
 * million names per activation would cap activations far below 1 000/s);
 * both double when the load reaches 1.
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
	free(r->nhash);
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
	struct computer **h = calloc(hsize, sizeof(*h)), **nh = calloc(hsize, sizeof(*nh));
	size_t i;

	if (h == NULL || nh == NULL) {
		free(h);
		free(nh);
		return -1;
	}
	for (i = 0; i < r->n; i++) {
		struct computer *c = r->byid[i];
		size_t b = reg_hash(c->guid) & (hsize - 1);
		c->hnext = h[b];
		h[b] = c;
		b = reg_hash(c->hostname) & (hsize - 1);
		c->nnext = nh[b];
		nh[b] = c;
	}
	free(r->hash);
	free(r->nhash);
	r->hash = h;
	r->nhash = nh;
	r->hsize = hsize;
	return 0;
}

static void
reg_name_link(struct registry *r, struct computer *c)
{
	size_t b = reg_hash(c->hostname) & (r->hsize - 1);

	c->nnext = r->nhash[b];
	r->nhash[b] = c;
}

static void
reg_name_unlink(struct registry *r, struct computer *c)
{
	struct computer **pp;

	for (pp = &r->nhash[reg_hash(c->hostname) & (r->hsize - 1)]; *pp; pp = &(*pp)->nnext)
		if (*pp == c) {
			*pp = c->nnext;
			c->nnext = NULL;
			return;
		}
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
	reg_name_link(r, c);
	c->in_registry = 1;
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
	if (c->in_registry)
		reg_name_unlink(r, c);
	c->in_registry = 0;
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
registry_name_next(const struct computer *c, const char *name)
{
	for (c = c->nnext; c; c = c->nnext)
		if (strcmp(c->hostname, name) == 0)
			return (struct computer *)c;
	return NULL;
}

struct computer *
registry_name_first(const struct registry *r, const char *name)
{
	struct computer *c;

	if (r->hsize == 0)
		return NULL;
	c = r->nhash[reg_hash(name) & (r->hsize - 1)];
	if (c == NULL || strcmp(c->hostname, name) == 0)
		return c;
	return registry_name_next(c, name);
}

struct computer *
registry_by_name(const struct registry *r, const char *name)
{
	struct computer *c, *best = NULL;

	for (c = registry_name_first(r, name); c; c = registry_name_next(c, name))
		if (best == NULL || c->id < best->id)
			best = c;
	return best;
}

int
registry_set_hostname(struct registry *r, struct computer *c, const char *name)
{
	char *p = strdup(name ? name : "");

	if (p == NULL)
		return -1;
	if (c->in_registry)
		reg_name_unlink(r, c);
	free(c->hostname);
	c->hostname = p;
	if (c->in_registry)
		reg_name_link(r, c);
	return 0;
}
