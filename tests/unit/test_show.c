/* test_show.c - show.c: the UTF-8 decoder over ferry_rd, which characters
 * may reach a terminal, '?' for logs, shell-escape quoting for a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ferry/show.h"

/* One row: the input, what ferry_show_sanitize makes of it, what
 * ferry_show_quote makes of it (NULL: the input as it is). */
struct row {
	const char *what, *in, *clean, *quoted;
};

static const struct row table[] = {
    {"empty", "", "", "''"},
    {"plain", "report.pdf", "report.pdf", NULL},
    {"safe punctuation", "a+b,c-d.e/f:g_h%i]j@k", NULL, NULL},
    {"space", "my file.pdf", NULL, "'my file.pdf'"},
    {"single quote", "it's", NULL, "\"it's\""},
    {"quote and dollar", "it's $HOME", NULL, "'it'\\''s $HOME'"},
    {"shell specials", "a;b|c&d", NULL, "'a;b|c&d'"},
    {"leading tilde", "~x", NULL, "'~x'"},
    {"inner tilde", "x~", NULL, NULL},
    {"backslash", "a\\b", NULL, "'a\\b'"},
    /* C0 and DEL */
    {"newline", "a\nb", "a?b", "'a'$'\\n''b'"},
    {"tab alone", "\t", "?", "''$'\\t'"},
    {"escape sequence", "x\x1b]0;PWNED\x07\x1b[2Jy", "x?]0;PWNED??[2Jy",
        "'x'$'\\033'']0;PWNED'$'\\a\\033''[2Jy'"},
    {"carriage return", "a\rb", "a?b", "'a'$'\\r''b'"},
    {"DEL", "del\x7f", "del?", "'del'$'\\177'"},
    /* C1, as UTF-8 and as a raw byte */
    {"U+009B CSI",
        "\xc2\x9b"
        "31mred",
        "??31mred", "''$'\\302\\233''31mred'"},
    {"U+0085 NEL", "a\xc2\x85", "a??", "'a'$'\\302\\205'"},
    {"U+0080", "\xc2\x80", "??", "''$'\\302\\200'"},
    {"raw 0x9b",
        "x\x9b"
        "31m",
        "x?31m", "'x'$'\\233''31m'"},
    /* bidirectional overrides and isolates, marks, separators */
    {"U+202E RLO", "\xe2\x80\xaegpj.exe", "???gpj.exe",
        "''$'\\342\\200\\256''gpj.exe'"},
    {"U+202A LRE", "a\xe2\x80\xaa", "a???", "'a'$'\\342\\200\\252'"},
    {"U+202C PDF", "\xe2\x80\xac", "???", "''$'\\342\\200\\254'"},
    {"U+2066 LRI", "\xe2\x81\xa6x", "???x", "''$'\\342\\201\\246''x'"},
    {"U+2069 PDI", "x\xe2\x81\xa9", "x???", "'x'$'\\342\\201\\251'"},
    {"U+200F RLM", "\xe2\x80\x8f", "???", "''$'\\342\\200\\217'"},
    {"U+2028 LS", "\xe2\x80\xa8", "???", "''$'\\342\\200\\250'"},
    /* invalid UTF-8: stray, overlong, surrogate, too high, truncated */
    {"stray bytes", "x\xffy", "x?y", "'x'$'\\377''y'"},
    {"overlong slash", "\xc0\xaf", "??", "''$'\\300\\257'"},
    {"overlong 3", "\xe0\x80\xaf", "???", "''$'\\340\\200\\257'"},
    {"surrogate", "\xed\xa0\x80", "???", "''$'\\355\\240\\200'"},
    {"above U+10FFFF", "\xf4\x90\x80\x80", "????", "''$'\\364\\220\\200\\200'"},
    {"truncated", "end\xe2\x82", "end??", "'end'$'\\342\\202'"},
    /* valid non-ASCII stays as it is */
    {"accents", "caf\xc3\xa9", NULL, NULL},
    {"nbsp", "\xc2\xa0nbsp", NULL, NULL},
    {"euro, ship", "\xe2\x82\xac\xf0\x9f\x9a\xa2", NULL, NULL},
    {"U+202F (not bidi)", "a\xe2\x80\xaf", NULL, NULL},
    {"U+2065 (not bidi)", "\xe2\x81\xa5", NULL, NULL},
    {"U+00A0 after C1", "\xc2\x9f\xc2\xa0", "??\xc2\xa0",
        "''$'\\302\\237''\xc2\xa0'"},
};

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct row *t = &table[i];
		char buf[128], *q = NULL;

		strcpy(buf, t->in);
		ferry_show_sanitize(buf);
		if (strcmp(buf, t->clean != NULL ? t->clean : t->in) != 0)
			fail_msg("%s: sanitized to '%s'", t->what, buf);
		assert_int_equal(ferry_show_quote(t->in, &q), 0);
		if (strcmp(q, t->quoted != NULL ? t->quoted : t->in) != 0)
			fail_msg("%s: quoted as %s", t->what, q);
		free(q);
	}
}

static void
test_decoder(void **state)
{
	static const struct {
		const char *in;
		size_t len; /* 0: refused */
		uint32_t cp;
	} v[] = {
	    {"A", 1, 'A'},
	    {"\x7f", 1, 0x7f},
	    {"\xc2\x80", 2, 0x80},
	    {"\xdf\xbf", 2, 0x7ff},
	    {"\xe0\xa0\x80", 3, 0x800},
	    {"\xed\x9f\xbf", 3, 0xd7ff},
	    {"\xee\x80\x80", 3, 0xe000},
	    {"\xef\xbf\xbf", 3, 0xffff},
	    {"\xf0\x90\x80\x80", 4, 0x10000},
	    {"\xf4\x8f\xbf\xbf", 4, 0x10ffff},
	    {"\x80", 0, 0},
	    {"\xc1\xbf", 0, 0},
	    {"\xe0\x9f\xbf", 0, 0},
	    {"\xed\xbf\xbf", 0, 0},
	    {"\xf0\x8f\xbf\xbf", 0, 0},
	    {"\xf5\x80\x80\x80", 0, 0},
	    {"\xc2", 0, 0},
	    {"\xc2\x41", 0, 0},
	    {"\xe2\x80", 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ferry_rd rd;
		const uint8_t *p = NULL;
		uint32_t cp = 0;
		size_t n = 0, len = strlen(v[i].in);
		int r;

		ferry_rd_init(&rd, v[i].in, len);
		r = ferry_show_utf8(&rd, &cp, &p, &n);
		if (v[i].len == 0) {
			assert_int_equal(r, FERRY_E_PROTO);
			/* A refusal does not move the cursor. */
			assert_int_equal(ferry_rd_left(&rd), len);
			continue;
		}
		assert_int_equal(r, 0);
		assert_int_equal(n, v[i].len);
		assert_int_equal(cp, v[i].cp);
		assert_ptr_equal(p, (const uint8_t *)v[i].in);
		assert_int_equal(ferry_rd_left(&rd), len - n);
	}
}

static void
test_unsafe(void **state)
{
	(void)state;
	for (uint32_t cp = 0; cp < 0x20; cp++)
		assert_true(ferry_show_unsafe(cp));
	for (uint32_t cp = 0x7f; cp <= 0x9f; cp++)
		assert_true(ferry_show_unsafe(cp));
	for (uint32_t cp = 0x202a; cp <= 0x202e; cp++)
		assert_true(ferry_show_unsafe(cp));
	for (uint32_t cp = 0x2066; cp <= 0x2069; cp++)
		assert_true(ferry_show_unsafe(cp));
	assert_false(ferry_show_unsafe(' '));
	assert_false(ferry_show_unsafe('~'));
	assert_false(ferry_show_unsafe(0xa0));
	assert_false(ferry_show_unsafe(0xe9));
	assert_false(ferry_show_unsafe(0x2065));
	assert_false(ferry_show_unsafe(0x202f));
	assert_false(ferry_show_unsafe(0x1f6a2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_decoder),
	    cmocka_unit_test(test_unsafe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
