/*
 * buf: a growable byte buffer created with a named maximum size.  Appends
 * beyond the maximum fail and leave the buffer unchanged.
 */
#ifndef VIGIL_BUF_H
#define VIGIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
void buf_clear(struct buf *b); /* frees the storage */
void buf_reset(struct buf *b); /* keeps the storage, len = 0 */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void buf_consume(struct buf *b, size_t n);
/* NUL-terminates without counting the NUL in len; returns data or NULL. */
const char *buf_cstr(struct buf *b);

#endif
