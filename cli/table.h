/*
 * table: vigilctl's text output.  A table collects rows of cells, then
 * prints them with every column padded to its widest value.  It owns
 * copies of the cells.  Everything shown to the operator passes through
 * table_clean() first: host names and descriptions come from agents, and a
 * terminal must never receive their control characters.
 */
#ifndef VIGIL_TABLE_H
#define VIGIL_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 8
#define TABLE_MAX_ROWS 10000000

struct table {
	size_t ncols;
	size_t nrows;  /* not counting the header */
	size_t ncells; /* filled cells: (nrows + 1) * ncols */
	size_t cap;
	char **cells; /* row by row, the header first; owned */
	size_t maxw[TABLE_MAX_COLS]; /* truncate longer cells; 0: never */
};

/* headers: ncols strings.  Returns NULL when out of memory; free with table_free(). */
struct table *table_new(size_t ncols, const char *const *headers);
void table_free(struct table **tp);
/* Cells wider than maxw (in columns on the terminal) end in "..."; 0 turns it off. */
void table_set_max(struct table *t, size_t col, size_t maxw);
/* Copies ncols cells (NULL reads as ""); returns -1 when out of memory or full. */
int table_add(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *fp);

/*
 * A copy of s that a terminal shows as text: newlines and tabs become
 * spaces, other control characters and bytes that are not UTF-8 become
 * '?'.  With maxw > 0 the copy is cut to maxw columns, ending in "...".
 * NULL reads as "".  Returns NULL when out of memory; the caller frees.
 */
char *table_clean(const char *s, size_t maxw);
/* Columns that s takes on a terminal (s already cleaned). */
size_t table_width(const char *s);

#endif
