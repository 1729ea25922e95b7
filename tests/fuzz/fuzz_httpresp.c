/*
 * fuzz_httpresp: answers from agents' ports (httpresp.c), whole and cut
 * at every length, open and closed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "httpresp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body;
	size_t blen, cut;
	int status, eof;

	for (eof = 0; eof < 2; eof++)
		for (cut = size > 64 ? size - 64 : 0; cut <= size; cut++)
			if (httpresp_parse((const char *)data, cut, eof, 4096, &status, &body,
			                   &blen) == 1) {
				/* the body lies inside what was read */
				if (body < (const char *)data ||
				    body + blen > (const char *)data + cut || status < 100 ||
				    status > 599)
					abort();
			}
	return 0;
}
