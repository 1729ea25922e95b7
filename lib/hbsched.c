/*
 * hbsched: see hbsched.h.
 */
#include "hbsched.h"

int64_t
hb_next_delay_ms(int64_t interval_s, uint64_t rnd)
{
	int64_t base = interval_s * 1000, spread = base / 5; /* +-10% */

	if (spread <= 0)
		return base;
	return base - spread / 2 + (int64_t)(rnd % (uint64_t)(spread + 1));
}

int64_t
hb_backoff_ms(int failures, int64_t interval_s, uint64_t rnd)
{
	int64_t cap = interval_s < 300 ? interval_s : 300, d = 1;

	if (cap < 1)
		cap = 1;
	while (failures-- > 1 && d < cap)
		d *= 2;
	if (d > cap)
		d = cap;
	d *= 1000;
	return d / 2 + (int64_t)(rnd % (uint64_t)(d / 2 + 1));
}
