/* test_access.c - serve's access rules: lists, the longest read rule,
 * groups, sizes, and the inbox usage scan a quota is checked against. */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ferry/access.h"
#include "ferry/limits.h"

static char *fin[] = {"finance"};
static const struct ferry_member alice = {.id = "alice"};
static const struct ferry_member carol = {.id = "carol"};
static const struct ferry_member frank = {
    .id = "frank", .groups = fin, .n_groups = 1};

static struct ferry_access *
access_new(void)
{
	struct ferry_access *a = NULL;

	assert_int_equal(ferry_access_new(&a), 0);
	assert_non_null(a);
	return a;
}

static void
assert_detail(int r, const char *want)
{
	if (strstr(ferry_err_detail(r), want) == NULL)
		fail_msg("detail '%s' lacks '%s'", ferry_err_detail(r), want);
}

static void
test_default(void **state)
{
	struct ferry_access *a = access_new();

	(void)state;
	/* No rule: every member, everything; so does no rule set at all. */
	assert_true(ferry_access_may_connect(a, &carol));
	assert_true(ferry_access_may_push(a, &carol));
	assert_true(ferry_access_may_read(a, &carol, "payroll/x"));
	assert_false(ferry_access_has_read_rules(a));
	assert_true(ferry_access_may_read(NULL, &carol, ""));
	assert_true(ferry_access_may_connect(NULL, &carol));
	ferry_access_free(a);
	ferry_access_free(NULL);
}

static void
test_lists(void **state)
{
	struct ferry_access *a = access_new();

	(void)state;
	assert_int_equal(ferry_access_set(a, FERRY_ACCESS_MEMBERS,
	                     " alice ,\tgroup:finance"),
	    0);
	assert_true(ferry_access_may_connect(a, &alice));
	assert_true(ferry_access_may_connect(a, &frank));
	assert_false(ferry_access_may_connect(a, &carol));
	/* The push list is its own; "*" is everyone admitted. */
	assert_true(ferry_access_may_push(a, &carol));
	assert_int_equal(ferry_access_set(a, FERRY_ACCESS_PUSH, "frank"), 0);
	assert_false(ferry_access_may_push(a, &alice));
	assert_true(ferry_access_may_push(a, &frank));
	/* A later list replaces the earlier one (the command line wins). */
	assert_int_equal(ferry_access_set(a, FERRY_ACCESS_PUSH, "*"), 0);
	assert_true(ferry_access_may_push(a, &alice));
	assert_int_equal(ferry_access_set(a, FERRY_ACCESS_MEMBERS, "carol"), 0);
	assert_false(ferry_access_may_connect(a, &alice));
	assert_true(ferry_access_may_connect(a, &carol));
	ferry_access_free(a);
}

static void
test_list_refused(void **state)
{
	static const struct {
		const char *list, *want;
	} bad[] = {
	    {"", "an empty entry"},
	    {"alice,,bob", "an empty entry"},
	    {"alice,", "an empty entry"},
	    {"grp:x", "'grp:x': member ID"},
	    {"group:", "'group:': member ID"},
	    {"group:fi n", "'group:fi n': group name"},
	    {"group:../x", "group name"},
	    {"a/b", "member ID"},
	    {"al ice", "member ID"},
	    {"**", "member ID"},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaa"
	     "aaaaaaaaaaaa",
	        "too long"},
	};
	struct ferry_access *a = access_new();
	char many[8 * (FERRY_ACCESS_MAX_ENTRIES + 2)];
	size_t n = 0;

	(void)state;
	assert_int_equal(ferry_access_set(a, FERRY_ACCESS_MEMBERS, "alice"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = ferry_access_set(a, FERRY_ACCESS_MEMBERS, bad[i].list);

		if (r != FERRY_E_USAGE)
			fail_msg("'%s' accepted", bad[i].list);
		assert_detail(r, bad[i].want);
	}
	/* A refused list leaves the one before in place. */
	assert_true(ferry_access_may_connect(a, &alice));
	assert_false(ferry_access_may_connect(a, &carol));
	for (int i = 0; i <= FERRY_ACCESS_MAX_ENTRIES; i++)
		n += (size_t)snprintf(
		    many + n, sizeof(many) - n, "%sm%d", i ? "," : "", i);
	assert_int_equal(
	    ferry_access_set(a, FERRY_ACCESS_PUSH, many), FERRY_E_USAGE);
	ferry_access_free(a);
}

static void
test_read_rules(void **state)
{
	struct ferry_access *a = access_new();

	(void)state;
	assert_int_equal(
	    ferry_access_read(a, "payroll/", "alice, group:finance"), 0);
	assert_int_equal(ferry_access_read(a, "payroll/public", "*"), 0);
	assert_true(ferry_access_has_read_rules(a));
	/* The rule covers the path and what is below it, nothing else. */
	assert_false(ferry_access_may_read(a, &carol, "payroll"));
	assert_false(ferry_access_may_read(a, &carol, "payroll/x.txt"));
	assert_false(ferry_access_may_read(a, &carol, "payroll/a/b"));
	assert_true(ferry_access_may_read(a, &carol, "payroll2"));
	assert_true(ferry_access_may_read(a, &carol, "payrol"));
	assert_true(ferry_access_may_read(a, &carol, ""));
	assert_true(ferry_access_may_read(a, &alice, "payroll/x.txt"));
	assert_true(ferry_access_may_read(a, &frank, "payroll"));
	/* The longest rule wins. */
	assert_true(ferry_access_may_read(a, &carol, "payroll/public"));
	assert_true(ferry_access_may_read(a, &carol, "payroll/public/x"));
	assert_false(ferry_access_may_read(a, &carol, "payroll/publicx"));
	/* The whole share, then a later rule for the same path replaces. */
	assert_int_equal(ferry_access_read_spec(a, "alice"), 0);
	assert_false(ferry_access_may_read(a, &carol, "pub.txt"));
	assert_true(ferry_access_may_read(a, &alice, "pub.txt"));
	assert_int_equal(ferry_access_read_spec(a, "/=carol"), 0);
	assert_true(ferry_access_may_read(a, &carol, "pub.txt"));
	assert_false(ferry_access_may_read(a, &alice, "pub.txt"));
	assert_int_equal(ferry_access_read_spec(a, "payroll=carol"), 0);
	assert_true(ferry_access_may_read(a, &carol, "payroll/x"));
	assert_false(ferry_access_may_read(a, &frank, "payroll/x"));
	ferry_access_free(a);
}

static void
test_read_refused(void **state)
{
	static const char *const bad_path[] = {
	    "../x", "a//b", "/abs", "a/../b", ".", "a/./b", "a\nb"};
	struct ferry_access *a = access_new();
	char norm[FERRY_MAX_PATH + 1];
	char *lng = malloc(FERRY_MAX_PATH + 3);

	(void)state;
	for (size_t i = 0; i < sizeof(bad_path) / sizeof(bad_path[0]); i++) {
		if (ferry_access_read(a, bad_path[i], "*") != FERRY_E_USAGE)
			fail_msg("rule path '%s' accepted", bad_path[i]);
		assert_detail(FERRY_E_USAGE, "read rule path");
	}
	assert_int_equal(ferry_access_read_spec(a, "x=al ice"), FERRY_E_USAGE);
	assert_false(ferry_access_has_read_rules(a));
	assert_int_equal(ferry_access_rule_path("a/b/", norm), 0);
	assert_string_equal(norm, "a/b");
	assert_int_equal(ferry_access_rule_path("/", norm), 0);
	assert_string_equal(norm, "");
	assert_non_null(lng);
	memset(lng, 'a', FERRY_MAX_PATH + 2);
	lng[FERRY_MAX_PATH + 2] = '\0';
	assert_int_equal(ferry_access_rule_path(lng, norm), FERRY_E_USAGE);
	free(lng);
	ferry_access_free(a);
}

static void
test_size(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
	    {"0", 0},
	    {"4096", 4096},
	    {"1K", 1024},
	    {"10k", 10240},
	    {"3M", 3u << 20},
	    {"10G", 10ull << 30},
	    {"2T", 2ull << 40},
	    {"4194304T", 1ull << 62},
	    {"4611686018427387904", 1ull << 62},
	};
	static const char *const bad[] = {"", "G", "-1", " 1", "1 ", "1GB",
	    "1.5G", "1P", "0x10", "4194305T", "4611686018427387905",
	    "99999999999999999999999", "1e3"};
	uint64_t v;
	char out[24];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (ferry_size_parse(good[i].s, &v) != 0)
			fail_msg("'%s' refused", good[i].s);
		assert_true(v == good[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ferry_size_parse(bad[i], &v) != FERRY_E_USAGE)
			fail_msg("'%s' accepted", bad[i]);
	ferry_size_format(1, out);
	assert_string_equal(out, "1 byte");
	ferry_size_format(1023, out);
	assert_string_equal(out, "1023 bytes");
	ferry_size_format(3u << 20, out);
	assert_string_equal(out, "3.0 MiB");
	ferry_size_format((uint64_t)(9.8 * (1 << 30)), out);
	assert_string_equal(out, "9.8 GiB");
	ferry_size_format(10ull << 30, out);
	assert_string_equal(out, "10 GiB");
	ferry_size_format(UINT64_MAX, out);
	assert_string_equal(out, "16 EiB");
}

static void
put(int dirfd, const char *name, size_t n)
{
	char buf[100] = {0};
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	assert_true(n <= sizeof(buf));
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
}

static void
test_usage(void **state)
{
	char dir[] = "/tmp/test_access.XXXXXX", cmd[PATH_MAX];
	struct ferry_usage u;
	struct stat st;
	int fd, sub;

	(void)state;
	assert_non_null(mkdtemp(dir));
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(ferry_inbox_usage(fd, 0, &u), 0);
	assert_true(u.bytes == 0 && u.files == 0);
	put(fd, "a", 10);
	put(fd, ".ferry-resume-0123456789abcdef.part", 40);
	assert_int_equal(mkdirat(fd, "d", 0700), 0);
	sub = openat(fd, "d", O_RDONLY | O_DIRECTORY);
	assert_true(sub >= 0);
	put(sub, "b", 5);
	/* A link is not followed: what it points to is not counted again. */
	assert_int_equal(symlinkat("d", fd, "ln"), 0);
	assert_int_equal(symlinkat("/etc/passwd", fd, "out"), 0);
	assert_int_equal(ferry_inbox_usage(fd, 0, &u), 0);
	/* Partials count in bytes, not in files. */
	assert_true(u.bytes == 55);
	assert_true(u.files == 2);
	/* The file being received is left out. */
	assert_int_equal(fstatat(sub, "b", &st, 0), 0);
	assert_int_equal(ferry_inbox_usage(fd, st.st_ino, &u), 0);
	assert_true(u.bytes == 50 && u.files == 1);
	close(sub);
	close(fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default),
	    cmocka_unit_test(test_lists),
	    cmocka_unit_test(test_list_refused),
	    cmocka_unit_test(test_read_rules),
	    cmocka_unit_test(test_read_refused),
	    cmocka_unit_test(test_size),
	    cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
