/* test_config: the settings table, INI errors with file:line, validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

static int
load(struct mgr_config *cfg, const char *text, char **errs)
{
	size_t len = 0;
	FILE *fp = open_memstream(errs, &len);
	int n;

	config_defaults(cfg);
	n = config_load_mem(cfg, text, strlen(text), "m.conf", fp);
	fclose(fp);
	return n;
}

static void
test_defaults(void **state)
{
	struct mgr_config cfg;

	config_defaults(&cfg);
	assert_int_equal(cfg.agent_port, 4120);
	assert_int_equal(cfg.api_port, 4119);
	assert_int_equal(cfg.heartbeat_interval, 600);
	assert_int_equal(cfg.missed_heartbeats_allowed, 2);
	assert_string_equal(cfg.state_dir, "/var/lib/vigil");
}

static void
test_good_file(void **state)
{
	struct mgr_config cfg;
	char *errs = NULL;

	assert_int_equal(load(&cfg,
			      "# comment\n[listen]\nagent_port = 0\n  api_port=14119  \n"
			      "[policy]\nheartbeat_interval = 1\nmissed_heartbeats_allowed = unlimited\n"
			      "[manager]\nstate_dir = \" /tmp/x\"\n",
			      &errs),
			 0);
	assert_string_equal(errs, "");
	assert_int_equal(cfg.agent_port, 0);
	assert_int_equal(cfg.api_port, 14119);
	assert_int_equal(cfg.missed_heartbeats_allowed, MISSED_UNLIMITED);
	assert_string_equal(cfg.state_dir, " /tmp/x");
	free(errs);
}

static void
test_every_error_with_its_line(void **state)
{
	struct mgr_config cfg;
	char *errs = NULL;

	assert_int_equal(load(&cfg,
			      "orphan = 1\n[listen]\nagent_port = 65536\nagent_port = 1\nagent_port = 2\n"
			      "[policy]\nheartbeat_interval = 10s\nnope = 1\n[bad section\nno equals\n"
			      "[manager]\nlog_level = loud\n",
			      &errs),
			 9);
	assert_non_null(strstr(errs, "m.conf:1: \"orphan\" is outside any [section]"));
	assert_non_null(strstr(errs, "m.conf:3: listen.agent_port: \"65536\" is not a whole number from 0 to 65535"));
	assert_non_null(strstr(errs, "m.conf:4: listen.agent_port is set twice"));
	assert_non_null(strstr(errs, "m.conf:5: listen.agent_port is set twice"));
	assert_non_null(strstr(errs, "m.conf:12: manager.log_level: \"loud\" is not one of"));
	assert_non_null(strstr(errs, "m.conf:7: policy.heartbeat_interval: \"10s\""));
	assert_non_null(strstr(errs, "m.conf:8: unknown setting policy.nope"));
	assert_non_null(strstr(errs, "m.conf:9: section header"));
	assert_non_null(strstr(errs, "m.conf:10: expected \"key = value\""));
	free(errs);
	/* the bad values did not replace the defaults */
	assert_int_equal(cfg.heartbeat_interval, 600);
}

static void
test_validate_same_ports(void **state)
{
	struct mgr_config cfg;
	char *errs = NULL;
	size_t len = 0;
	FILE *fp;

	config_defaults(&cfg);
	cfg.api_port = cfg.agent_port;
	fp = open_memstream(&errs, &len);
	assert_int_equal(config_validate(&cfg, "m.conf", fp), 1);
	fclose(fp);
	assert_non_null(strstr(errs, "both 4120"));
	free(errs);
}

static void
test_table_mentions_every_setting(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	config_print_table(fp);
	fclose(fp);
	assert_non_null(strstr(out, "`heartbeat_interval` | `600` | 1–86400 s"));
	assert_non_null(strstr(out, "`missed_heartbeats_allowed`"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_every_error_with_its_line),
		cmocka_unit_test(test_validate_same_ports),
		cmocka_unit_test(test_table_mentions_every_setting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
