/*
 * httpreq: see httpreq.h.  llhttp does the HTTP grammar; this module only
 * collects the pieces, within limits, and pauses llhttp at each message end.
 */
#include "httpreq.h"

#include <string.h>
#include <strings.h>

static int
hr_fail(struct http_request *r, int status, const char *msg)
{
	r->error_status = status;
	r->error_msg = msg;
	return -1;
}

static struct http_request *
hr_of(llhttp_t *p)
{
	return p->data;
}

static int
hr_on_url(llhttp_t *p, const char *at, size_t len)
{
	struct http_request *r = hr_of(p);

	if (r->url.len + len > r->lim->max_url || buf_append(&r->url, at, len) < 0)
		return hr_fail(r, 414, "request target too long");
	return 0;
}

static int
hr_hdr_append(struct http_request *r, const char *at, size_t len)
{
	if (r->hdr.len + len > r->lim->max_header_bytes || buf_append(&r->hdr, at, len) < 0)
		return hr_fail(r, 431, "request headers too large");
	return 0;
}

static int
hr_on_field(llhttp_t *p, const char *at, size_t len)
{
	struct http_request *r = hr_of(p);

	if (r->in_value || r->nhdr == 0 || r->hdr_off[r->nhdr - 1][1] != (size_t)-1) {
		/* a new header begins */
		if (r->nhdr == HTTPREQ_MAX_HEADERS)
			return hr_fail(r, 431, "too many request headers");
		if (r->nhdr > 0 && hr_hdr_append(r, "", 1) < 0) /* ends previous value */
			return -1;
		r->hdr_off[r->nhdr][0] = r->hdr.len;
		r->hdr_off[r->nhdr][1] = (size_t)-1;
		r->nhdr++;
		r->in_value = 0;
	}
	return hr_hdr_append(r, at, len);
}

static int
hr_on_value(llhttp_t *p, const char *at, size_t len)
{
	struct http_request *r = hr_of(p);

	if (r->nhdr == 0)
		return hr_fail(r, 400, "header value without a name");
	if (!r->in_value) {
		if (hr_hdr_append(r, "", 1) < 0) /* ends the name */
			return -1;
		r->hdr_off[r->nhdr - 1][1] = r->hdr.len;
		r->in_value = 1;
	}
	return hr_hdr_append(r, at, len);
}

static int
hr_on_headers_complete(llhttp_t *p)
{
	struct http_request *r = hr_of(p);

	if (r->nhdr > 0) {
		if (!r->in_value) {
			/* a name with an empty value */
			if (hr_hdr_append(r, "", 1) < 0)
				return -1;
			r->hdr_off[r->nhdr - 1][1] = r->hdr.len;
		}
		if (hr_hdr_append(r, "", 1) < 0)
			return -1;
	}
	r->method = p->method;
	if ((p->flags & F_CONTENT_LENGTH) && p->content_length > r->lim->max_body)
		return hr_fail(r, 413, "request body too large");
	return 0;
}

static int
hr_on_body(llhttp_t *p, const char *at, size_t len)
{
	struct http_request *r = hr_of(p);

	if (r->body.len + len > r->lim->max_body || buf_append(&r->body, at, len) < 0)
		return hr_fail(r, 413, "request body too large");
	return 0;
}

static int
hr_on_complete(llhttp_t *p)
{
	struct http_request *r = hr_of(p);

	r->complete = 1;
	r->keep_alive = llhttp_should_keep_alive(p);
	return HPE_PAUSED;
}

static const llhttp_settings_t hr_settings = {
	.on_url = hr_on_url,
	.on_header_field = hr_on_field,
	.on_header_value = hr_on_value,
	.on_headers_complete = hr_on_headers_complete,
	.on_body = hr_on_body,
	.on_message_complete = hr_on_complete,
};

void
httpreq_init(struct http_request *r, const struct http_limits *lim)
{
	memset(r, 0, sizeof(*r));
	r->lim = lim;
	buf_init(&r->url, lim->max_url);
	buf_init(&r->hdr, lim->max_header_bytes + HTTPREQ_MAX_HEADERS * 2 + 2);
	buf_init(&r->body, lim->max_body);
	llhttp_init(&r->parser, HTTP_REQUEST, &hr_settings);
	r->parser.data = r;
}

void
httpreq_clear(struct http_request *r)
{
	buf_clear(&r->url);
	buf_clear(&r->hdr);
	buf_clear(&r->body);
}

void
httpreq_next(struct http_request *r)
{
	buf_reset(&r->url);
	buf_reset(&r->hdr);
	buf_reset(&r->body);
	r->nhdr = 0;
	r->in_value = 0;
	r->complete = 0;
	r->keep_alive = 0;
	r->error_status = 0;
	r->error_msg = NULL;
	if (llhttp_get_errno(&r->parser) == HPE_PAUSED)
		llhttp_resume(&r->parser);
}

int
httpreq_feed(struct http_request *r, const char *data, size_t len, size_t *used_r)
{
	llhttp_errno_t e;

	*used_r = 0;
	if (r->error_status)
		return -1;
	e = llhttp_execute(&r->parser, data, len);
	if (e == HPE_OK) {
		*used_r = len;
		return 0;
	}
	if (e == HPE_PAUSED && r->complete) {
		const char *pos = llhttp_get_error_pos(&r->parser);
		*used_r = pos ? (size_t)(pos - data) : len;
		return 1;
	}
	if (r->error_status == 0) {
		/* llhttp's reasons are static strings such as "Invalid header value char" */
		const char *why = llhttp_get_error_reason(&r->parser);
		r->error_status = 400;
		r->error_msg = why != NULL ? why : "malformed HTTP request";
	}
	return -1;
}

const char *
httpreq_header(const struct http_request *r, const char *name)
{
	int i;

	for (i = 0; i < r->nhdr; i++) {
		if (r->hdr_off[i][1] == (size_t)-1)
			continue;
		if (strcasecmp(r->hdr.data + r->hdr_off[i][0], name) == 0)
			return r->hdr.data + r->hdr_off[i][1];
	}
	return NULL;
}

const char *
httpreq_method_name(const struct http_request *r)
{
	return llhttp_method_name((llhttp_method_t)r->method);
}

int
httpreq_path(const struct http_request *r, char *out, size_t outsize)
{
	size_t n = r->url.len;
	const char *q = r->url.data ? memchr(r->url.data, '?', r->url.len) : NULL;

	if (q != NULL)
		n = (size_t)(q - r->url.data);
	if (n + 1 > outsize)
		return -1;
	if (n > 0)
		memcpy(out, r->url.data, n);
	out[n] = '\0';
	return 0;
}

static int
hr_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
httpreq_query(const struct http_request *r, const char *name, char *out, size_t outsize)
{
	const char *p, *end;
	size_t nlen = strlen(name);

	if (r->url.data == NULL)
		return -1;
	end = r->url.data + r->url.len;
	p = memchr(r->url.data, '?', r->url.len);
	if (p == NULL)
		return -1;
	p++;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp ? amp : end;
		if ((size_t)(pe - p) > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
			const char *v = p + nlen + 1;
			size_t o = 0;
			while (v < pe) {
				char c = *v++;
				if (c == '+')
					c = ' ';
				else if (c == '%') {
					int hi, lo;
					if (pe - v < 2 || (hi = hr_hexval(v[0])) < 0 ||
					    (lo = hr_hexval(v[1])) < 0)
						return -2;
					c = (char)(hi * 16 + lo);
					v += 2;
					if (c == '\0')
						return -2;
				}
				if (o + 1 >= outsize)
					return -2;
				out[o++] = c;
			}
			out[o] = '\0';
			return 0;
		}
		p = pe + 1;
	}
	return -1;
}
