/*
 * deadline: see deadline.h.  Textbook array heap with index back-pointers.
 */
#include "deadline.h"

#include <stdlib.h>

void
deadline_init(struct deadline_heap *h)
{
	h->v = NULL;
	h->n = h->cap = 0;
}

void
deadline_clear(struct deadline_heap *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		h->v[i]->heap_idx = DEADLINE_NONE;
	free(h->v);
	deadline_init(h);
}

static void
dl_place(struct deadline_heap *h, size_t i, struct deadline_entry *e)
{
	h->v[i] = e;
	e->heap_idx = i;
}

static void
dl_up(struct deadline_heap *h, size_t i)
{
	struct deadline_entry *e = h->v[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (h->v[p]->when <= e->when)
			break;
		dl_place(h, i, h->v[p]);
		i = p;
	}
	dl_place(h, i, e);
}

static void
dl_down(struct deadline_heap *h, size_t i)
{
	struct deadline_entry *e = h->v[i];

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		int64_t mw = e->when;
		if (l < h->n && h->v[l]->when < mw)
			m = l, mw = h->v[l]->when;
		if (r < h->n && h->v[r]->when < mw)
			m = r;
		if (m == i)
			break;
		dl_place(h, i, h->v[m]);
		i = m;
	}
	dl_place(h, i, e);
}

int
deadline_set(struct deadline_heap *h, struct deadline_entry *e, int64_t when)
{
	int64_t old = e->when;

	e->when = when;
	if (e->heap_idx == DEADLINE_NONE) {
		if (h->n == h->cap) {
			size_t cap = h->cap ? h->cap * 2 : 1024;
			struct deadline_entry **v = realloc(h->v, cap * sizeof(*v));
			if (v == NULL)
				return -1;
			h->v = v;
			h->cap = cap;
		}
		dl_place(h, h->n, e);
		h->n++;
		dl_up(h, h->n - 1);
		return 0;
	}
	if (when < old)
		dl_up(h, e->heap_idx);
	else
		dl_down(h, e->heap_idx);
	return 0;
}

void
deadline_remove(struct deadline_heap *h, struct deadline_entry *e)
{
	size_t i = e->heap_idx;
	struct deadline_entry *last;

	if (i == DEADLINE_NONE)
		return;
	e->heap_idx = DEADLINE_NONE;
	h->n--;
	if (i == h->n)
		return;
	last = h->v[h->n];
	dl_place(h, i, last);
	if (i > 0 && h->v[(i - 1) / 2]->when > last->when)
		dl_up(h, i);
	else
		dl_down(h, i);
}

struct deadline_entry *
deadline_peek(const struct deadline_heap *h)
{
	return h->n ? h->v[0] : NULL;
}
