/*
 * ini: see ini.h.  The parser is line based and never allocates; limits:
 * INI_MAX_LINE bytes per line, INI_MAX_FILE bytes per file, section and key
 * names of [A-Za-z0-9_.-] only.
 */
#include "ini.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int
ini_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static char *
ini_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int
ini_parse_mem(const char *text, size_t len, ini_handler *h, ini_error_cb *err, void *ctx)
{
	char line[INI_MAX_LINE + 1], section[128] = "", errbuf[256];
	size_t pos = 0;
	int lineno = 0, nerr = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *s, *eq, *key, *val;

		lineno++;
		if (l > INI_MAX_LINE) {
			err(ctx, lineno, "line too long (limit 4096 bytes)");
			nerr++;
			pos += l + 1;
			continue;
		}
		if (memchr(text + pos, '\0', l) != NULL) {
			err(ctx, lineno, "line contains a NUL byte");
			nerr++;
			pos += l + 1;
			continue;
		}
		memcpy(line, text + pos, l);
		line[l] = '\0';
		pos += l + 1;
		s = ini_trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (e == NULL || e[1] != '\0') {
				err(ctx, lineno, "section header must be [name] alone on its line");
				nerr++;
				continue;
			}
			*e = '\0';
			s = ini_trim(s + 1);
			if (!ini_name_ok(s) || strlen(s) >= sizeof(section)) {
				err(ctx, lineno, "invalid section name");
				nerr++;
				continue;
			}
			str_copy(section, s, sizeof(section));
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			err(ctx, lineno, "expected \"key = value\"");
			nerr++;
			continue;
		}
		*eq = '\0';
		key = ini_trim(s);
		val = ini_trim(eq + 1);
		if (!ini_name_ok(key)) {
			err(ctx, lineno, "invalid key name");
			nerr++;
			continue;
		}
		/* allow "quoted values" so that leading spaces survive */
		if (val[0] == '"') {
			size_t vl = strlen(val);
			if (vl < 2 || val[vl - 1] != '"') {
				err(ctx, lineno, "unterminated quoted value");
				nerr++;
				continue;
			}
			val[vl - 1] = '\0';
			val++;
		}
		errbuf[0] = '\0';
		if (h(ctx, section, key, val, lineno, errbuf, sizeof(errbuf)) < 0) {
			err(ctx, lineno, errbuf[0] ? errbuf : "invalid setting");
			nerr++;
		}
	}
	return nerr;
}

int
ini_parse_file(const char *path, ini_handler *h, ini_error_cb *err, void *ctx)
{
	char *data = NULL, msg[512];
	size_t len = 0;
	int n;

	if (file_read_all(path, INI_MAX_FILE, &data, &len) < 0) {
		snprintf(msg, sizeof(msg), "cannot read %s: %s", path,
			 errno == EFBIG ? "file larger than 1 MiB" : strerror(errno));
		err(ctx, 0, msg);
		return 1;
	}
	n = ini_parse_mem(data, len, h, err, ctx);
	free(data);
	return n;
}
