/*
 * state: see state.h.
 */
#include "state.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void
agent_state_init(struct agent_state *st, const char *dir)
{
	memset(st, 0, sizeof(*st));
	str_copy(st->dir, dir, sizeof(st->dir));
	st->heartbeat_interval = 600;
}

void
agent_state_clear(struct agent_state *st)
{
	json_decref(st->config);
	st->config = NULL;
}

int
agent_state_path(const struct agent_state *st, const char *name, char *out, size_t outsize)
{
	return path_join(out, outsize, st->dir, name);
}

static void
st_get_str(json_t *root, const char *name, char *out, size_t outsize)
{
	const char *v = json_string_value(json_object_get(root, name));

	str_copy(out, v ? v : "", outsize);
}

int
agent_state_load(struct agent_state *st, const char **errstr_r)
{
	char path[PATH_MAX];
	json_error_t je;
	json_t *root;

	st->activated = 0;
	if (agent_state_path(st, "agent.json", path, sizeof(path)) < 0) {
		*errstr_r = "state directory path too long";
		return -1;
	}
	if (access(path, F_OK) != 0)
		return 0;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		*errstr_r = "agent.json is damaged; run vigil-agentctl reset and activate again";
		return -1;
	}
	st_get_str(root, "manager_url", st->manager_url, sizeof(st->manager_url));
	st_get_str(root, "guid", st->guid, sizeof(st->guid));
	st_get_str(root, "hostname", st->hostname, sizeof(st->hostname));
	st_get_str(root, "description", st->description, sizeof(st->description));
	st_get_str(root, "ca_fingerprint", st->ca_fingerprint, sizeof(st->ca_fingerprint));
	st_get_str(root, "config_fingerprint", st->config_fingerprint,
		   sizeof(st->config_fingerprint));
	st_get_str(root, "deactivated_reason", st->deactivated_reason,
		   sizeof(st->deactivated_reason));
	st->computer_id = json_integer_value(json_object_get(root, "computer_id"));
	st->activated_ms = json_integer_value(json_object_get(root, "activated_ms"));
	st->deactivated = json_is_true(json_object_get(root, "deactivated"));
	st->reported_port = json_integer_value(json_object_get(root, "reported_port"));
	st->heartbeat_interval = json_integer_value(json_object_get(root, "heartbeat_interval"));
	if (st->heartbeat_interval < 1 || st->heartbeat_interval > 86400)
		st->heartbeat_interval = 600;
	json_decref(st->config);
	st->config = json_incref(json_object_get(root, "config"));
	json_decref(root);
	if (st->manager_url[0] == '\0' || st->guid[0] == '\0') {
		*errstr_r = "agent.json lacks the manager URL or the GUID; run vigil-agentctl reset and activate again";
		return -1;
	}
	st->activated = 1;
	return 0;
}

int
agent_state_save(const struct agent_state *st)
{
	char path[PATH_MAX], *s;
	json_t *root;
	int ret;

	if (agent_state_path(st, "agent.json", path, sizeof(path)) < 0)
		return -1;
	root = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:s, s:O?, s:b, s:s}",
			 "manager_url", st->manager_url, "guid", st->guid, "computer_id",
			 (json_int_t)st->computer_id, "hostname", st->hostname, "description",
			 st->description, "ca_fingerprint", st->ca_fingerprint, "activated_ms",
			 (json_int_t)st->activated_ms, "heartbeat_interval",
			 (json_int_t)st->heartbeat_interval, "config_fingerprint",
			 st->config_fingerprint, "config", st->config, "deactivated", st->deactivated,
			 "deactivated_reason", st->deactivated_reason);
	if (root == NULL)
		return -1;
	json_object_set_new(root, "reported_port", json_integer(st->reported_port));
	s = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (s == NULL)
		return -1;
	ret = file_write_atomic(path, s, strlen(s), 0600);
	free(s);
	return ret;
}
