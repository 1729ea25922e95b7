/*
 * fuzz_evq: the agent's event queue file, record by record, as evq_open()
 * reads it after a crash: every record parsed must encode back to the same
 * bytes, and a torn or damaged record must be told apart from a good one.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "evq.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char out[EVQ_HDR_LEN + EVQ_MAX_BODY];
	struct evq_record rec;
	const char *why = NULL;
	size_t off = 0;

	while (off < size) {
		long used = evq_parse_record(data + off, size - off, &rec, &why);

		if (used <= 0)
			break;
		BUG_ON((size_t)used > size - off || used < EVQ_HDR_LEN);
		/* what was parsed is exactly what the encoder writes */
		BUG_ON(evq_encode_record(&rec, out) != (size_t)used);
		BUG_ON(memcmp(out, data + off, (size_t)used) != 0);
		off += (size_t)used;
	}
	return 0;
}
