/*
 * ini: a strict INI reader.  "[section]", "key = value", "#" or ";"
 * comments on their own line.  Every problem is reported with its line
 * number through the callback's errstr_r or the parser's own messages, and
 * parsing continues so that all problems of a file are shown at once.
 */
#ifndef VIGIL_INI_H
#define VIGIL_INI_H

#include <stddef.h>

#define INI_MAX_LINE 4096
#define INI_MAX_FILE (1024 * 1024)

/* Returns 0, or -1 with a message in *errstr_r (static or in errbuf). */
typedef int ini_handler(void *ctx, const char *section, const char *key, const char *value,
			int line, char *errbuf, size_t errbufsize);
/* Called for every error, with the line number (0 for whole-file errors). */
typedef void ini_error_cb(void *ctx, int line, const char *msg);

/* Parses text of len bytes; returns the number of errors (0 = good). */
int ini_parse_mem(const char *text, size_t len, ini_handler *h, ini_error_cb *err, void *ctx);
/* Reads and parses a file; a read error counts as one error (line 0). */
int ini_parse_file(const char *path, ini_handler *h, ini_error_cb *err, void *ctx);

#endif
