/* test_passwd.c - Argon2id hashing: parameters, salts, verification, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ferry/log.h"
#include "ferry/passwd.h"

static void
test_hash_format(void **state)
{
	char a[FERRY_PASSWD_ENCODED_MAX], b[FERRY_PASSWD_ENCODED_MAX];

	(void)state;
	assert_int_equal(ferry_passwd_hash("correct horse", 13, a), 0);
	assert_int_equal(ferry_passwd_hash("correct horse", 13, b), 0);
	/* OWASP parameters, written into the string. */
	assert_non_null(strstr(a, "$argon2id$v=19$m=19456,t=2,p=1$"));
	assert_true(strlen(a) < FERRY_PASSWD_ENCODED_MAX);
	/* A fresh salt every time. */
	assert_string_not_equal(a, b);
}

static void
test_verify(void **state)
{
	char h[FERRY_PASSWD_ENCODED_MAX];
	static const char pw[] = "p\0ss with a NUL";

	(void)state;
	assert_int_equal(ferry_passwd_hash(pw, sizeof(pw) - 1, h), 0);
	assert_int_equal(ferry_passwd_verify(h, pw, sizeof(pw) - 1), 0);
	/* Every byte counts, including those after a NUL. */
	assert_int_equal(
	    ferry_passwd_verify(h, pw, sizeof(pw) - 2), FERRY_E_LOGIN);
	assert_int_equal(ferry_passwd_verify(h, "p", 1), FERRY_E_LOGIN);
	assert_int_equal(ferry_passwd_verify(h, "", 0), FERRY_E_LOGIN);
	/* Unknown user: the dummy hash, always a refusal. */
	assert_int_equal(
	    ferry_passwd_verify(NULL, pw, sizeof(pw) - 1), FERRY_E_LOGIN);
	/* A damaged stored hash refuses, it does not crash or accept. */
	assert_int_equal(ferry_passwd_verify("$argon2id$v=19$garbage", "x", 1),
	    FERRY_E_LOGIN);
	assert_int_equal(ferry_passwd_verify("", "x", 1), FERRY_E_LOGIN);
}

static void
test_limits(void **state)
{
	char h[FERRY_PASSWD_ENCODED_MAX], big[FERRY_PASSWD_MAX + 1];

	(void)state;
	memset(big, 'a', sizeof(big));
	assert_int_equal(ferry_passwd_hash("1234567", 7, h), FERRY_E_USAGE);
	assert_string_equal(h, "");
	assert_int_equal(ferry_passwd_hash("12345678", 8, h), 0);
	assert_int_equal(ferry_passwd_hash(big, sizeof(big), h), FERRY_E_USAGE);
	assert_int_equal(ferry_passwd_hash(big, FERRY_PASSWD_MAX, h), 0);
	assert_int_equal(ferry_passwd_verify(h, big, FERRY_PASSWD_MAX), 0);
	/* Longer than any accepted password: refused at full cost. */
	assert_int_equal(
	    ferry_passwd_verify(h, big, sizeof(big)), FERRY_E_LOGIN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_format),
	    cmocka_unit_test(test_verify),
	    cmocka_unit_test(test_limits),
	};

	ferry_log_set(NULL, FERRY_LOG_ERROR, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
