/*
 * wdstate: see wdstate.h.
 */
#include "wdstate.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int
wdstate_path(const char *dir, char *out, size_t outsize)
{
	return path_join(out, outsize, dir, WDSTATE_FILE);
}

static int64_t
wd_int(json_t *o, const char *name)
{
	json_int_t v = json_integer_value(json_object_get(o, name));

	return v < 0 ? 0 : (int64_t)v;
}

int
wdstate_load(const char *dir, struct wdstate *w)
{
	char path[PATH_MAX], *data = NULL;
	size_t len;
	json_error_t je;
	json_t *o;
	const char *s;

	memset(w, 0, sizeof(*w));
	if (wdstate_path(dir, path, sizeof(path)) < 0)
		return -1;
	if (file_read_all(path, WDSTATE_MAX, &data, &len) < 0)
		return 0;
	o = json_loadb(data, len, 0, &je);
	free(data);
	if (!json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	w->monitor_pid = wd_int(o, "monitor_pid");
	w->monitor_started_ms = wd_int(o, "monitor_started_ms");
	w->restarts = wd_int(o, "restarts");
	w->unreported = wd_int(o, "unreported");
	w->consecutive = wd_int(o, "consecutive");
	w->last_restart_ms = wd_int(o, "last_restart_ms");
	s = json_string_value(json_object_get(o, "last_exit"));
	str_copy(w->last_exit, s ? s : "", sizeof(w->last_exit));
	json_decref(o);
	return 1;
}

int
wdstate_save(const char *dir, const struct wdstate *w)
{
	char path[PATH_MAX], *s;
	json_t *o;
	int ret;

	if (wdstate_path(dir, path, sizeof(path)) < 0)
		return -1;
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "monitor_pid",
	              (json_int_t)w->monitor_pid, "monitor_started_ms",
	              (json_int_t)w->monitor_started_ms, "restarts", (json_int_t)w->restarts,
	              "unreported", (json_int_t)w->unreported, "consecutive",
	              (json_int_t)w->consecutive, "last_restart_ms", (json_int_t)w->last_restart_ms,
	              "last_exit", w->last_exit);
	s = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (s == NULL)
		return -1;
	ret = file_write_atomic(path, s, strlen(s), 0600);
	free(s);
	return ret;
}

json_t *
wdstate_report_json(const char *dir)
{
	struct wdstate w;

	if (wdstate_load(dir, &w) != 1 || w.restarts == 0)
		return NULL;
	return json_pack("{s:I, s:I, s:I, s:s}", "restarts", (json_int_t)w.restarts, "unreported",
	                 (json_int_t)w.unreported, "last_restart_ms", (json_int_t)w.last_restart_ms,
	                 "last_exit", w.last_exit);
}

int
wdstate_ack(const char *dir)
{
	struct wdstate w;

	if (wdstate_load(dir, &w) != 1 || w.unreported == 0)
		return 0;
	w.unreported = 0;
	return wdstate_save(dir, &w);
}
