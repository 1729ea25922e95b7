/*
 * util: small helpers shared by every program: clocks, bounded strings,
 * strict number parsing, atomic file writes, randomness.
 */
#ifndef VIGIL_UTIL_H
#define VIGIL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Wall clock in milliseconds since the epoch (what is shown and stored). */
int64_t now_ms(void);
/* Monotonic clock in milliseconds (what timers and deadlines use). */
int64_t mono_ms(void);

/* Copies at most dstsize-1 bytes and always terminates; returns -1 when cut. */
int str_copy(char *dst, const char *src, size_t dstsize);
/* Strict decimal parsing: the whole string, within [min, max]. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out_r);
/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void hex_encode(const unsigned char *in, size_t len, char *out);
/* Uniform random in [0, n) from the OS generator; n > 0. */
uint64_t rand_below(uint64_t n);
/* Fills buf with random bytes; returns -1 on failure. */
int rand_bytes(void *buf, size_t len);
/* ISO 8601 UTC of a millisecond timestamp into out (>= 32 bytes). */
void fmt_time_ms(int64_t ms, char *out, size_t outsize);
/* Parses ISO 8601 UTC ("2026-11-22T10:00:00Z", optional .mmm) or epoch ms. */
int parse_time_ms(const char *s, int64_t *ms_r);

/* Writes data to path atomically (temp file, fsync, rename) with mode. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Reads a whole file of at most maxlen bytes; caller frees *data_r. */
int file_read_all(const char *path, size_t maxlen, char **data_r, size_t *len_r);
/* mkdir -p with mode for the last component. */
int mkdir_p(const char *path, mode_t mode);
/* snprintf that reports truncation as -1. */
int path_join(char *out, size_t outsize, const char *dir, const char *name);

/* An IPv4 or IPv6 address in text and a port as a socket address; -1 when not an address. */
int sockaddr_from_ip(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *len_r);

#endif
