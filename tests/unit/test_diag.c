/* test_diag: which keys are secrets, and their redaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"

static void
test_secret_keys(void **state)
{
	assert_true(diag_is_secret_key("token"));
	assert_true(diag_is_secret_key("activation_token"));
	assert_true(diag_is_secret_key("api_key"));
	assert_true(diag_is_secret_key("privateKey"));
	assert_true(diag_is_secret_key("SECRET"));
	assert_true(diag_is_secret_key("proxy_password"));
	assert_false(diag_is_secret_key("guid"));
	assert_false(diag_is_secret_key("ca_fingerprint"));
	assert_false(diag_is_secret_key("manager_url"));
	assert_false(diag_is_secret_key(""));
}

static void
test_redact_recursive(void **state)
{
	json_error_t je;
	json_t *o = json_loads("{\"url\":\"https://m:4120/\",\"token\":\"T0PSECRET\","
	                       "\"config\":{\"relays\":[{\"api_key\":\"K\",\"name\":\"r1\"}],"
	                       "\"secret\":null},\"attempts_left\":3}",
	                       0, &je);
	char *s;

	assert_non_null(o);
	diag_redact(o);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"attempts_left\":3,\"config\":{\"relays\":[{\"api_key\":"
	                       "\"REDACTED\",\"name\":\"r1\"}],\"secret\":null},\"token\":"
	                       "\"REDACTED\",\"url\":\"https://m:4120/\"}");
	assert_null(strstr(s, "T0PSECRET"));
	free(s);
	json_decref(o);
	assert_null(diag_redact(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_secret_keys),
	    cmocka_unit_test(test_redact_recursive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
