/*
 * hbsched: when an agent heartbeats next.  Shared by vigil-agent and the load
 * simulator (bench/vigil-sim.c), so that a benchmark's reconnect storm backs
 * off exactly as the agents do.
 */
#ifndef VIGIL_HBSCHED_H
#define VIGIL_HBSCHED_H

#include <stdint.h>

/* ms until the next heartbeat after a success: interval +-10%. */
int64_t hb_next_delay_ms(int64_t interval_s, uint64_t rnd);
/* ms until the next try after `failures` consecutive failures (>= 1):
 * exponential from 1 s, capped at min(interval, 300 s), 50-100% jitter. */
int64_t hb_backoff_ms(int failures, int64_t interval_s, uint64_t rnd);

#endif
