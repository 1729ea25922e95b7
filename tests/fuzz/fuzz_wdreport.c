/* fuzz_wdreport: the watchdog field of a heartbeat (manager/wdreport.c). */
#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "wdreport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* wdreport_heartbeat() records events; the parser alone is fuzzed */
void
event_record(struct mgr *m, int id, const struct computer *c, const char *fmt, ...)
{
	(void)m;
	(void)id;
	(void)c;
	(void)fmt;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wdreport r;

	if (wdreport_parse((const char *)data, size, &r) == 1 &&
	    (r.unreported > r.restarts || r.last_exit[WDREPORT_MAX_EXIT] != '\0'))
		__builtin_trap();
	return 0;
}
