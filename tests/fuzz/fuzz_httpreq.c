/*
 * fuzz_httpreq: HTTP/1.1 request parsing with the manager's limits, fed in
 * pieces whose sizes come from the input, with pipelining.
 */
#include <stddef.h>
#include <stdint.h>

#include "httpreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct http_limits lim = {256, 1024, 4096};
	struct http_request r;
	char path[300], q[64];
	size_t step, pos = 0;

	if (size < 1)
		return 0;
	step = (size_t)data[0] % 64 + 1;
	data++, size--;
	httpreq_init(&r, &lim);
	while (pos < size) {
		size_t n = size - pos < step ? size - pos : step, used = 0;
		int rc = httpreq_feed(&r, (const char *)data + pos, n, &used);

		if (rc < 0)
			break;
		if (rc == 0) {
			pos += n;
			continue;
		}
		/* a complete request: look at it as the handlers do */
		(void)httpreq_header(&r, "api-secret-key");
		(void)httpreq_method_name(&r);
		(void)httpreq_path(&r, path, sizeof(path));
		(void)httpreq_query(&r, "computer", q, sizeof(q));
		httpreq_next(&r);
		pos += used;
	}
	httpreq_clear(&r);
	return 0;
}
