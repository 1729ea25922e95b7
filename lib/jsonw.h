/*
 * jsonw: JSON text written straight into a buf, without a jansson tree, for
 * the hot answers (the heartbeat).  The bytes are those that jansson's
 * json_dumps(JSON_COMPACT) writes for the same values: the same escapes
 * (\" \\ \b \f \n \r \t, else \u00XX in capitals), UTF-8 passed through, and
 * strings that are not valid UTF-8 refused as jansson refuses them.
 */
#ifndef VIGIL_JSONW_H
#define VIGIL_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* 1 when s is valid UTF-8 as jansson checks it (no overlongs, surrogates, > U+10FFFF). */
int jsonw_utf8_ok(const char *s, size_t len);
/* Appends s as a quoted JSON string; -1 (b unchanged) if not UTF-8 or b is full. */
int jsonw_str(struct buf *b, const char *s);
/* Appends v in decimal, as "%lld" writes it. */
int jsonw_i64(struct buf *b, int64_t v);
/* Appends a constant piece (a key with its quotes, punctuation). */
int jsonw_raw(struct buf *b, const char *s, size_t len);

#endif
