/* test_deploy: the deployment token and the script's contents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deploy.h"
#include "mgr.h"
#include "pki.h"
#include "util.h"

static struct mgr *
mgr_fixture(void)
{
	struct mgr *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->ca.key = pki_key_new();
	assert_non_null(m->ca.key);
	str_copy(m->token_hash, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	         sizeof(m->token_hash));
	str_copy(m->ca.fingerprint, "aa", sizeof(m->ca.fingerprint));
	str_copy(m->cfg.public_address, "vigil.example.com", sizeof(m->cfg.public_address));
	m->agent_srv.port = 4120;
	/* the Default policy, as policies_load() finds it in a new database */
	m->pol.list = calloc(1, sizeof(*m->pol.list));
	assert_non_null(m->pol.list);
	m->pol.list->id = POLICY_DEFAULT_ID;
	m->pol.list->name = strdup("Default");
	m->pol.n = 1;
	return m;
}

static void
mgr_fixture_free(struct mgr *m)
{
	EVP_PKEY_free(m->ca.key);
	free(m->pol.list->name);
	free(m->pol.list);
	free(m);
}

static void
test_token_follows_the_activation_token_and_the_ca(void **state)
{
	struct mgr *m = mgr_fixture(), *other = mgr_fixture();
	char t1[DEPLOY_TOKEN_LEN + 1], t2[DEPLOY_TOKEN_LEN + 1], t3[DEPLOY_TOKEN_LEN + 1];

	assert_int_equal(deploy_token(m, t1), 0);
	assert_int_equal(strlen(t1), DEPLOY_TOKEN_LEN);
	assert_int_equal(strspn(t1, "0123456789abcdef"), DEPLOY_TOKEN_LEN);
	assert_int_equal(deploy_token(m, t2), 0);
	assert_string_equal(t1, t2); /* stable while nothing changes */
	assert_true(deploy_token_check(m, t1));
	/* one digit off, too short, too long, empty */
	t2[5] = t2[5] == '0' ? '1' : '0';
	assert_false(deploy_token_check(m, t2));
	t2[5] = t1[5];
	t2[DEPLOY_TOKEN_LEN - 1] = '\0';
	assert_false(deploy_token_check(m, t2));
	assert_false(deploy_token_check(m, ""));
	/* another CA key: another token for the same activation token */
	assert_int_equal(deploy_token(other, t3), 0);
	assert_string_not_equal(t1, t3);
	assert_false(deploy_token_check(other, t1));
	/* a rotated activation token retires the old deployment token */
	m->token_hash[0] = 'f';
	assert_false(deploy_token_check(m, t1));
	mgr_fixture_free(m);
	mgr_fixture_free(other);
}

static void
test_script_carries_url_pin_token_and_retries(void **state)
{
	struct mgr *m = mgr_fixture();
	struct deploy_opts o = {NULL, NULL, 60, 5};
	char err[256], tok[DEPLOY_TOKEN_LEN + 1], line[128];
	char *s;

	s = deploy_script(m, &o, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(strncmp(s, "#!/bin/sh\n", 10), 0);
	assert_non_null(strstr(s, "MANAGER_URL='https://vigil.example.com:4120/'\n"));
	assert_non_null(strstr(s, "CA_FINGERPRINT='aa'\n"));
	assert_non_null(strstr(s, "RETRY_INTERVAL=60\nMAX_RETRIES=5\nPOLICY=''\n"));
	assert_int_equal(deploy_token(m, tok), 0);
	snprintf(line, sizeof(line), "TOKEN='%s'\n", tok);
	assert_non_null(strstr(s, line));
	assert_null(strstr(s, m->token_hash)); /* the hash stays on the manager */
	free(s);

	/* an IPv6 address goes in brackets */
	str_copy(m->cfg.public_address, "::1", sizeof(m->cfg.public_address));
	s = deploy_script(m, &o, err, sizeof(err));
	assert_non_null(s);
	assert_non_null(strstr(s, "MANAGER_URL='https://[::1]:4120/'\n"));
	free(s);
	mgr_fixture_free(m);
}

static void
test_script_refuses_bad_options(void **state)
{
	struct mgr *m = mgr_fixture();
	struct deploy_opts o = {"Default", "", 300, 30};
	char err[256];
	char *s;

	s = deploy_script(m, &o, err, sizeof(err));
	assert_non_null(s);
	/* by ID, which needs no quoting */
	assert_non_null(strstr(s, "POLICY='policyid:1'\n"));
	free(s);
	o.policy = "Web servers";
	assert_null(deploy_script(m, &o, err, sizeof(err)));
	assert_non_null(strstr(err, "no policy named \"Web servers\""));
	o.policy = NULL;
	o.group = "g";
	assert_null(deploy_script(m, &o, err, sizeof(err)));
	assert_non_null(strstr(err, "groups"));
	o.group = NULL;
	o.retry_interval = 0;
	assert_null(deploy_script(m, &o, err, sizeof(err)));
	o.retry_interval = 3601;
	assert_null(deploy_script(m, &o, err, sizeof(err)));
	o.retry_interval = 300;
	o.max_retries = 101;
	assert_null(deploy_script(m, &o, err, sizeof(err)));
	o.max_retries = -1;
	assert_null(deploy_script(m, &o, err, sizeof(err)));
	/* a quote in the address would break out of the script's quoting */
	o.max_retries = 3;
	str_copy(m->cfg.public_address, "a'b", sizeof(m->cfg.public_address));
	assert_null(deploy_script(m, &o, err, sizeof(err)));
	mgr_fixture_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_follows_the_activation_token_and_the_ca),
	    cmocka_unit_test(test_script_carries_url_pin_token_and_retries),
	    cmocka_unit_test(test_script_refuses_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
