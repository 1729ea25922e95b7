/*
 * inventory: see inventory.h.
 *
 * One pass over the computers for the whole push: the request's ids and
 * MACs are sorted once and each computer's inventory id and reported MACs
 * are looked up in them (the MACs read straight from the stored, normalised
 * interfaces JSON, without parsing it).  A push costs O(computers + MACs)
 * whatever its size.
 */
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgr.h"
#include "status.h"
#include "util.h"

#define INV_CANDIDATES 8 /* candidates named in an "ambiguous" answer */

enum inv_by { BY_ID, BY_MAC, BY_NAME, BY_N };

struct inv_match {
	struct computer *cand[BY_N][INV_CANDIDATES];
	int n[BY_N];
};

struct inv_key {
	const char *key;
	size_t inst;
};

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct inv_key *)a)->key, ((const struct inv_key *)b)->key);
}

static void
inv_add(struct inv_match *mt, enum inv_by by, struct computer *c)
{
	int i;

	for (i = 0; i < mt->n[by] && i < INV_CANDIDATES; i++)
		if (mt->cand[by][i] == c)
			return; /* the same computer through another MAC */
	if (mt->n[by] < INV_CANDIDATES)
		mt->cand[by][mt->n[by]] = c;
	mt->n[by]++;
}

/* Every instance whose key equals k gets c as a candidate. */
static void
inv_lookup(const struct inv_key *keys, size_t n, const char *k, struct inv_match *mt,
	   enum inv_by by, struct computer *c)
{
	struct inv_key probe = {k, 0};
	const struct inv_key *hit = bsearch(&probe, keys, n, sizeof(*keys), key_cmp);

	if (hit == NULL)
		return;
	while (hit > keys && strcmp(hit[-1].key, k) == 0)
		hit--;
	for (; hit < keys + n && strcmp(hit->key, k) == 0; hit++)
		inv_add(&mt[hit->inst], by, c);
}

static json_t *
inv_result(struct mgr *m, const struct inv_instance *in, struct inv_match *mt, const char *by)
{
	static const char *const by_name[] = {"id", "mac", "hostname"};
	struct computer *c;
	json_t *cands;
	char why[320];
	int b, i, changed = 0;

	for (b = 0; b < BY_N && mt->n[b] == 0; b++)
		;
	if (b == BY_N)
		return json_pack("{s:s, s:s, s:b}", "id", in->id, "result", "unmatched", "changed",
				 0);
	if (mt->n[b] > 1) {
		cands = json_array();
		for (i = 0; i < mt->n[b] && i < INV_CANDIDATES; i++)
			json_array_append_new(cands, json_integer(mt->cand[b][i]->id));
		return json_pack("{s:s, s:s, s:s, s:o, s:b}", "id", in->id, "result", "ambiguous",
				 "matchedBy", by_name[b], "candidates", cands, "changed", 0);
	}
	c = mt->cand[b][0];
	if (strcmp(c->inventory_id, in->id) != 0) {
		if (computer_set_str(&c->inventory_id, in->id) == 0) {
			store_mark_row(&m->store, c);
			changed = 1;
		}
	}
	if (c->power_stopped != in->stopped) {
		snprintf(why, sizeof(why), "%s, instance %s", by, in->id);
		status_power(m, c, in->stopped, why);
		changed = 1;
	}
	return json_pack("{s:s, s:s, s:s, s:I, s:s, s:b, s:s}", "id", in->id, "result", "matched",
			 "matchedBy", by_name[b], "computerID", (json_int_t)c->id, "hostName",
			 c->hostname, "changed", changed, "status", status_text(c));
}

json_t *
inventory_apply(struct mgr *m, const struct inventory_req *req, const char *by)
{
	struct inv_key *ids = NULL, *macs = NULL, *names = NULL;
	struct inv_match *mt = NULL;
	size_t i, j, nids = 0, nmacs = 0, nnames = 0;
	json_t *out = NULL, *list;
	int counts[4] = {0, 0, 0, 0}; /* matched, unmatched, ambiguous, changed */

	mt = calloc(req->n + 1, sizeof(*mt));
	ids = calloc(req->n + 1, sizeof(*ids));
	names = calloc(req->n + 1, sizeof(*names));
	for (i = 0; i < req->n; i++)
		nmacs += (size_t)req->inst[i].nmacs;
	macs = calloc(nmacs + 1, sizeof(*macs));
	if (mt == NULL || ids == NULL || names == NULL || macs == NULL)
		goto out;
	nmacs = 0;
	for (i = 0; i < req->n; i++) {
		const struct inv_instance *in = &req->inst[i];
		ids[nids++] = (struct inv_key){in->id, i};
		if (in->hostname[0])
			names[nnames++] = (struct inv_key){in->hostname, i};
		for (j = 0; j < (size_t)in->nmacs; j++)
			macs[nmacs++] = (struct inv_key){in->macs[j], i};
	}
	qsort(ids, nids, sizeof(*ids), key_cmp);
	qsort(names, nnames, sizeof(*names), key_cmp);
	qsort(macs, nmacs, sizeof(*macs), key_cmp);

	for (i = 0; i < m->reg.n; i++) {
		struct computer *c = m->reg.byid[i];
		const char *p;

		/* a refused activation is not a machine the inventory can own */
		if (c->state == COMPUTER_ACTIVATION_FAILED)
			continue;
		if (c->inventory_id[0])
			inv_lookup(ids, nids, c->inventory_id, mt, BY_ID, c);
		for (p = c->interfaces_json; nmacs && (p = strstr(p, "\"mac\":\"")) != NULL;) {
			char mac[18];
			p += 7;
			if (strlen(p) < 17 || p[17] != '"')
				continue;
			memcpy(mac, p, 17);
			mac[17] = '\0';
			inv_lookup(macs, nmacs, mac, mt, BY_MAC, c);
		}
		if (nnames)
			inv_lookup(names, nnames, c->hostname, mt, BY_NAME, c);
	}

	list = json_array();
	out = json_object();
	if (list == NULL || out == NULL || json_object_set_new(out, "instances", list) < 0) {
		json_decref(out);
		out = NULL;
		goto out;
	}
	for (i = 0; i < req->n; i++) {
		json_t *r = inv_result(m, &req->inst[i], &mt[i], by);
		const char *res = json_string_value(json_object_get(r, "result"));
		if (r == NULL || json_array_append_new(list, r) < 0) {
			json_decref(out);
			out = NULL;
			goto out;
		}
		counts[strcmp(res, "matched") == 0 ? 0 : strcmp(res, "unmatched") == 0 ? 1 : 2]++;
		counts[3] += json_is_true(json_object_get(r, "changed"));
	}
	json_object_set_new(out, "matched", json_integer(counts[0]));
	json_object_set_new(out, "unmatched", json_integer(counts[1]));
	json_object_set_new(out, "ambiguous", json_integer(counts[2]));
	json_object_set_new(out, "changed", json_integer(counts[3]));
out:
	free(mt);
	free(ids);
	free(names);
	free(macs);
	return out;
}
