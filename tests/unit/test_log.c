/* test_log.c - ferry_sanitize: what may reach a terminal or a log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ferry/log.h"

static void
check(const char *in, const char *want)
{
	char buf[64];

	strcpy(buf, in);
	ferry_sanitize(buf);
	assert_string_equal(buf, want);
}

static void
test_sanitize(void **state)
{
	(void)state;
	check("", "");
	check("report.pdf", "report.pdf");
	check("a\nb\rc\td", "a?b?c?d");
	check("bell\x07", "bell?");
	check("del\x7f", "del?");
	/* Valid UTF-8 stays: names are bytes, shown as the user wrote them. */
	check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\xa2",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\xa2");
	check("\xc2\xa0nbsp", "\xc2\xa0nbsp");
	/* 8-bit CSI raw, and C1 controls encoded as UTF-8. */
	check("x\x9b"
	      "31m",
	    "x?31m");
	check("x\xc2\x9b"
	      "31m",
	    "x??31m");
	check("\xc2\x85", "??");
	/* Invalid: stray bytes, overlong forms, surrogates, truncation. */
	check("\xff\xfe", "??");
	check("\xc0\xaf", "??");
	check("\xe0\x80\xaf", "???");
	check("\xed\xa0\x80", "???");
	check("\xf4\x90\x80\x80", "????");
	check("end\xe2\x82", "end??");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sanitize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
