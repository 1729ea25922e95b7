/*
 * table: see table.h.
 */
#include "table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/*
 * Length of the UTF-8 sequence at p (1 to 4) with its code point in *cp_r,
 * or 0 when the bytes there are not UTF-8 (overlong forms and surrogates
 * included, so that a terminal never sees them).
 */
static size_t
tb_utf8_next(const unsigned char *p, uint32_t *cp_r)
{
	uint32_t cp, min;
	size_t n, i;

	if (p[0] < 0x80) {
		*cp_r = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0)
		n = 2, cp = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, cp = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	/* the NUL terminator fails this test, so nothing is read past it */
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return n;
}

/* C1 controls reach some terminals as escapes; bidi controls reorder text. */
static int
tb_is_control(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	       cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

static size_t
tb_cp_width(uint32_t cp)
{
	int w;

	if (cp < 0x80)
		return 1;
	/* wcwidth knows wide and combining characters in a UTF-8 locale only */
	w = wcwidth((wchar_t)cp);
	return w < 0 ? 1 : (size_t)w;
}

size_t
table_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0, n;
	uint32_t cp;

	while (*p) {
		n = tb_utf8_next(p, &cp);
		if (n == 0)
			n = 1, cp = '?';
		w += tb_cp_width(cp);
		p += n;
	}
	return w;
}

char *
table_clean(const char *s, size_t maxw)
{
	const unsigned char *p;
	char *out, *o;
	size_t n, w = 0, cut = 0;
	uint32_t cp;

	if (s == NULL)
		s = "";
	/* every input byte gives at most one output byte, then "..." */
	out = malloc(strlen(s) + 4);
	if (out == NULL)
		return NULL;
	o = out;
	for (p = (const unsigned char *)s; *p; p += n) {
		n = tb_utf8_next(p, &cp);
		if (n == 0) {
			n = 1;
			*o++ = '?';
		} else if (cp == '\n' || cp == '\r' || cp == '\t') {
			*o++ = ' ';
		} else if (tb_is_control(cp)) {
			*o++ = '?';
		} else {
			memcpy(o, p, n);
			o += n;
		}
	}
	*o = '\0';
	if (maxw == 0 || table_width(out) <= maxw)
		return out;
	/* keep whole characters up to maxw - 3 columns, then the ellipsis */
	for (p = (const unsigned char *)out; *p; p += n) {
		n = tb_utf8_next(p, &cp);
		if (n == 0)
			n = 1, cp = '?';
		if (w + tb_cp_width(cp) + 3 > maxw)
			break;
		w += tb_cp_width(cp);
		cut += n;
	}
	memcpy(out + cut, "...", 4);
	return out;
}

struct table *
table_new(size_t ncols, const char *const *headers)
{
	struct table *t;

	if (ncols == 0 || ncols > TABLE_MAX_COLS)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->ncols = ncols;
	if (table_add(t, headers) < 0)
		table_free(&t);
	return t;
}

void
table_free(struct table **tp)
{
	struct table *t = *tp;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	*tp = NULL;
}

void
table_set_max(struct table *t, size_t col, size_t maxw)
{
	/* room for one character and the ellipsis */
	if (col < t->ncols)
		t->maxw[col] = maxw > 0 && maxw < 4 ? 4 : maxw;
}

int
table_add(struct table *t, const char *const *cells)
{
	size_t i;
	char **nc;

	if (t->nrows >= TABLE_MAX_ROWS)
		return -1;
	if (t->ncells + t->ncols > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64 * t->ncols;
		nc = realloc(t->cells, cap * sizeof(*nc));
		if (nc == NULL)
			return -1;
		t->cells = nc;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++) {
		/* the header (the first row) is never cut */
		char *c = table_clean(cells[i], t->ncells < t->ncols ? 0 : t->maxw[i]);
		if (c == NULL) {
			while (i-- > 0)
				free(t->cells[t->ncells + i]);
			return -1;
		}
		t->cells[t->ncells + i] = c;
	}
	t->ncells += t->ncols;
	t->nrows = t->ncells / t->ncols - 1;
	return 0;
}

void
table_print(const struct table *t, FILE *fp)
{
	size_t width[TABLE_MAX_COLS] = {0};
	size_t r, c, w;

	for (r = 0; r <= t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			w = table_width(t->cells[r * t->ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	for (r = 0; r <= t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			fputs(cell, fp);
			/* no trailing blanks after the last column */
			if (c + 1 == t->ncols)
				break;
			for (w = table_width(cell); w < width[c] + 2; w++)
				fputc(' ', fp);
		}
		fputc('\n', fp);
	}
}
