/*
 * jsonw: see jsonw.h.  The UTF-8 rules follow jansson's utf8.c.
 */
#include "jsonw.h"

#include <string.h>

int
jsonw_utf8_ok(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + len;

	while (s < end) {
		unsigned char u = *s;
		int32_t v;
		size_t n, i;

		if (u < 0x80) {
			s++;
			continue;
		}
		if (u < 0xc2)
			return 0; /* a continuation byte, or an overlong 2-byte start */
		if (u < 0xe0) {
			n = 2;
			v = u & 0x1f;
		} else if (u < 0xf0) {
			n = 3;
			v = u & 0x0f;
		} else if (u <= 0xf4) {
			n = 4;
			v = u & 0x07;
		} else
			return 0;
		if ((size_t)(end - s) < n)
			return 0;
		for (i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			v = (v << 6) | (s[i] & 0x3f);
		}
		if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) || (n == 3 && v < 0x800) ||
		    (n == 4 && v < 0x10000))
			return 0;
		s += n;
	}
	return 1;
}

int
jsonw_raw(struct buf *b, const char *s, size_t len)
{
	return buf_append(b, s, len);
}

/* The bytes s takes once escaped, quotes included. */
static size_t
jsonw_str_len(const unsigned char *s, size_t len)
{
	size_t n = len + 2, i;

	for (i = 0; i < len; i++)
		if (s[i] == '"' || s[i] == '\\' || s[i] == '\b' || s[i] == '\f' || s[i] == '\n' ||
		    s[i] == '\r' || s[i] == '\t')
			n += 1;
		else if (s[i] < 0x20)
			n += 5;
	return n;
}

int
jsonw_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(s), i;
	char *p;

	if (!jsonw_utf8_ok(s, len) ||
	    buf_reserve(b, jsonw_str_len((const unsigned char *)s, len)) < 0)
		return -1;
	p = b->data + b->len;
	*p++ = '"';
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch != '"' && ch != '\\') {
			*p++ = (char)ch;
			continue;
		}
		*p++ = '\\';
		switch (ch) {
		case '"':
		case '\\':
			*p++ = (char)ch;
			break;
		case '\b':
			*p++ = 'b';
			break;
		case '\f':
			*p++ = 'f';
			break;
		case '\n':
			*p++ = 'n';
			break;
		case '\r':
			*p++ = 'r';
			break;
		case '\t':
			*p++ = 't';
			break;
		default:
			memcpy(p, "u00", 3);
			p[3] = hex[ch >> 4];
			p[4] = hex[ch & 15];
			p += 5;
		}
	}
	*p++ = '"';
	b->len = (size_t)(p - b->data);
	return 0;
}

int
jsonw_i64(struct buf *b, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	/* the magnitude as unsigned: -INT64_MIN does not fit an int64_t */
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--p = '-';
	return buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}
