/*
 * deadline: a binary min-heap of computers keyed by their offline deadline
 * (monotonic ms).  Each computer records its heap index, so moving a
 * deadline after a heartbeat is O(log n) and finding what expired is O(1)
 * per expired entry: no scan of all computers, whatever the fleet size.
 */
#ifndef VIGIL_DEADLINE_H
#define VIGIL_DEADLINE_H

#include <stddef.h>
#include <stdint.h>

#define DEADLINE_NONE ((size_t)-1)

struct deadline_entry {
	int64_t when;	/* monotonic ms */
	size_t heap_idx; /* DEADLINE_NONE when not in the heap */
};

struct deadline_heap {
	struct deadline_entry **v;
	size_t n, cap;
};

void deadline_init(struct deadline_heap *h);
void deadline_clear(struct deadline_heap *h);
/* Inserts e or moves it to its new e->when after the caller set it. */
int deadline_set(struct deadline_heap *h, struct deadline_entry *e, int64_t when);
void deadline_remove(struct deadline_heap *h, struct deadline_entry *e);
/* The earliest entry, or NULL. */
struct deadline_entry *deadline_peek(const struct deadline_heap *h);

#endif
