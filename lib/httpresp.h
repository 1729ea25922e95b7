/*
 * httpresp: the answer to one HTTP/1.1 request, as the manager reads it
 * from an agent's port (agentlink.c): status line, headers, and a body of
 * Content-Length bytes, or up to the end of the connection without one.
 * Pure and bounded; fuzzed.
 */
#ifndef VIGIL_HTTPRESP_H
#define VIGIL_HTTPRESP_H

#include <stddef.h>

/*
 * Looks at the len bytes read so far (eof: the peer closed).  1 when the
 * answer is complete: *status, and the body at *body_r (inside data) of
 * *blen_r bytes; 0 when more bytes are needed; -1 when it is not HTTP or
 * the body would exceed max_body.
 */
int httpresp_parse(const char *data, size_t len, int eof, size_t max_body, int *status,
                   const char **body_r, size_t *blen_r);

#endif
