/*
 * httpresp: see httpresp.h.
 */
#include "httpresp.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* The value of header name (case-insensitive) within the head, or NULL. */
static const char *
hr_header(const char *head, size_t hlen, const char *name, size_t *vlen_r)
{
	const char *p = memchr(head, '\n', hlen), *end = head + hlen;
	size_t n = strlen(name);

	while (p != NULL && p + 1 < end) {
		const char *line = p + 1, *eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			return NULL;
		if ((size_t)(eol - line) > n && line[n] == ':' && strncasecmp(line, name, n) == 0) {
			const char *v = line + n + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*vlen_r = (size_t)(eol - v);
			while (*vlen_r > 0 && (v[*vlen_r - 1] == '\r' || v[*vlen_r - 1] == ' '))
				(*vlen_r)--;
			return v;
		}
		p = eol;
	}
	return NULL;
}

int
httpresp_parse(const char *data, size_t len, int eof, size_t max_body, int *status,
               const char **body_r, size_t *blen_r)
{
	const char *end, *cl;
	size_t hlen, vlen, want;
	char num[24];
	int64_t v;

	if (data == NULL || len == 0)
		return eof ? -1 : 0;
	if (len >= 7 && strncmp(data, "HTTP/1.", 7) != 0)
		return -1;
	end = memmem(data, len, "\r\n\r\n", 4);
	if (end == NULL)
		return eof ? -1 : 0;
	hlen = (size_t)(end - data) + 4;
	if (hlen < 16 || data[8] != ' ' || data[9] < '1' || data[9] > '5' || data[10] < '0' ||
	    data[10] > '9' || data[11] < '0' || data[11] > '9' ||
	    (data[12] != ' ' && data[12] != '\r'))
		return -1;
	*status = (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0');
	cl = hr_header(data, hlen, "Content-Length", &vlen);
	if (cl != NULL) {
		if (vlen == 0 || vlen >= sizeof(num))
			return -1;
		memcpy(num, cl, vlen);
		num[vlen] = '\0';
		if (parse_i64(num, 0, (int64_t)max_body, &v) < 0)
			return -1;
		want = (size_t)v;
		if (len - hlen < want)
			return eof ? -1 : 0;
	} else {
		if (len - hlen > max_body)
			return -1;
		if (!eof)
			return 0; /* until the peer closes */
		want = len - hlen;
	}
	*body_r = data + hlen;
	*blen_r = want;
	return 1;
}
