/*
 * httpreq: incremental HTTP/1.1 request parsing on top of llhttp, with
 * limits.  One struct http_request per connection; feed it bytes as they
 * arrive; it stops at the end of each request so pipelined requests are
 * handled one at a time.
 */
#ifndef VIGIL_HTTPREQ_H
#define VIGIL_HTTPREQ_H

#include <stddef.h>

#include "buf.h"
#include "llhttp.h"

#define HTTPREQ_MAX_HEADERS 48

struct http_limits {
	size_t max_url;		/* bytes of the request target */
	size_t max_header_bytes; /* all header names and values together */
	size_t max_body;	/* decoded body bytes */
};

struct http_request {
	llhttp_t parser;
	const struct http_limits *lim;
	struct buf url;
	struct buf hdr;	/* "name\0value\0" pairs */
	size_t hdr_off[HTTPREQ_MAX_HEADERS][2];
	int nhdr;
	int in_value;
	struct buf body;
	int method; /* llhttp_method_t */
	int complete;
	int keep_alive;
	int error_status; /* 400, 413, 414, 431 when parsing failed */
	const char *error_msg;
};

void httpreq_init(struct http_request *r, const struct http_limits *lim);
void httpreq_clear(struct http_request *r);
/* Prepares for the next request on the same connection. */
void httpreq_next(struct http_request *r);
/*
 * Feeds len bytes.  Returns 1 when a request is complete (*used_r bytes were
 * consumed; the rest belongs to the next request), 0 when more bytes are
 * needed (all consumed), -1 on a protocol error or a limit (error_status and
 * error_msg say which).
 */
int httpreq_feed(struct http_request *r, const char *data, size_t len, size_t *used_r);
/* Case-insensitive header lookup; NULL when absent. */
const char *httpreq_header(const struct http_request *r, const char *name);
const char *httpreq_method_name(const struct http_request *r);
/* The path of the target without the query string, into out. */
int httpreq_path(const struct http_request *r, char *out, size_t outsize);
/*
 * A query parameter by name, percent-decoded, into out: 0, -1 when absent,
 * -2 when malformed (bad escape, %00) or longer than outsize - 1.
 */
int httpreq_query(const struct http_request *r, const char *name, char *out, size_t outsize);

#endif
