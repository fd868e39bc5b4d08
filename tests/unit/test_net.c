/* test_net.c - peer addresses: [ID@]HOST[:PORT][:PATH], IPv6 in brackets,
 * the default port, and everything that must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ferry/net.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct good {
	const char *in;
	int want_path;
	const char *id, *host, *port;
	int has_path;
	const char *path;
};

static void
check_good(const struct good *g)
{
	struct ferry_addr a;
	int r;

	memset(&a, 0xa5, sizeof(a));
	r = ferry_addr_parse(g->in, g->want_path, &a);
	if (r != 0)
		fail_msg("'%s' (want_path %d) refused: %s", g->in, g->want_path,
		    ferry_err_detail(r));
	assert_string_equal(a.id, g->id);
	assert_string_equal(a.host, g->host);
	assert_string_equal(a.port, g->port);
	assert_int_equal(a.has_path, g->has_path);
	assert_string_equal(a.path, g->path);
}

static void
check_bad(const char *in, int want_path)
{
	struct ferry_addr a;
	int r = ferry_addr_parse(in, want_path, &a);

	if (r != FERRY_E_USAGE)
		fail_msg("'%s' (want_path %d): %d, expected FERRY_E_USAGE", in,
		    want_path, r);
}

static void
test_parse_good(void **state)
{
	static const struct good good[] = {
	    {"host:7443", 0, "", "host", "7443", 0, ""},
	    {"bob@host:7443", 0, "bob", "host", "7443", 0, ""},
	    {"[::1]:7443", 0, "", "::1", "7443", 0, ""},
	    {"bob@[::1]:7443", 0, "bob", "::1", "7443", 0, ""},
	    {"host", 0, "", "host", "7443", 0, ""},
	    {"[::1]", 0, "", "::1", "7443", 0, ""},
	    {"bob@host", 0, "bob", "host", "7443", 0, ""},
	    {"127.0.0.1:1", 0, "", "127.0.0.1", "1", 0, ""},
	    {"h:65535", 0, "", "h", "65535", 0, ""},
	    {"h:00080", 0, "", "h", "80", 0, ""},
	    {"peer-1.example.org:8443", 0, "", "peer-1.example.org", "8443", 0,
	        ""},
	    {"[fe80::1%eth0]:7443", 0, "", "fe80::1%eth0", "7443", 0, ""},
	    {"a.b_c-d@h:2", 0, "a.b_c-d", "h", "2", 0, ""},
	    /* Addresses without a path are fine when one is allowed. */
	    {"host:7443", 1, "", "host", "7443", 0, ""},
	    {"host", 1, "", "host", "7443", 0, ""},
	    /* With a path. */
	    {"h:1:dir/file", 1, "", "h", "1", 1, "dir/file"},
	    {"h:1:", 1, "", "h", "1", 1, ""},
	    {"[::1]:7443:a:b", 1, "", "::1", "7443", 1, "a:b"},
	    {"bob@[::1]:7443:x", 1, "bob", "::1", "7443", 1, "x"},
	    {"bob@h:1:a@b", 1, "bob", "h", "1", 1, "a@b"},
	    {"[::1]:1:a@b", 1, "", "::1", "1", 1, "a@b"},
	    /* ferry.1: the port left empty means 7443 (issue 10). */
	    {"bob@bob-laptop::docs", 1, "bob", "bob-laptop", "7443", 1, "docs"},
	    {"bob@bob-laptop::docs/a.txt", 1, "bob", "bob-laptop", "7443", 1,
	        "docs/a.txt"},
	    {"[::1]::docs", 1, "", "::1", "7443", 1, "docs"},
	    {"bob@host::", 1, "bob", "host", "7443", 1, ""},
	};

	(void)state;
	for (size_t i = 0; i < NELEM(good); i++)
		check_good(&good[i]);
}

static void
test_parse_bad(void **state)
{
	static const struct {
		const char *in;
		int want_path;
	} bad[] = {
	    {"h:0", 0},
	    {"h:65536", 0},
	    {"h:99999", 0},
	    {"h:123456", 0},
	    {"h:abc", 0},
	    {"h:-1", 0},
	    {"h:+1", 0},
	    {"h: 1", 0},
	    {"h:1x", 0},
	    {"@h:1", 0},
	    {"bad id@h:1", 0},
	    {"-bob@h:1", 0},
	    {".bob@h:1", 0},
	    {"b/b@h:1", 0},
	    {"::1:7443", 0},
	    {"::1:7443", 1},
	    {"::1", 0},
	    {"[::1", 0},
	    {"[::1:7443", 0},
	    {"[::1]x", 0},
	    {"[::1]7443", 0},
	    {"[]:1", 0},
	    {"", 0},
	    {"", 1},
	    {":7443", 0},
	    {"h:1:x", 0},
	    {"[::1]:1:x", 0},
	    {"h::x", 0}, /* an empty port, then a path where none belongs */
	    {"[::1]::x", 0},
	    {"h:", 0}, /* an empty port and no path: not a port */
	    {"h:", 1},
	    {"ho st:1", 0},
	    {"h\t:1", 0},
	    {"h\n", 0},
	    {"h\x01:1", 0},
	    {"h\x7f", 0},
	    {"h/x:1", 0},
	    {"h]:1", 0},
	    {"[h h]:1", 0},
	    {"h\xc3\xa9:1", 0},
	};
	char buf[512];
	size_t n;

	(void)state;
	for (size_t i = 0; i < NELEM(bad); i++)
		check_bad(bad[i].in, bad[i].want_path);

	/* A host of 300 characters; 253 is the most a DNS name has. */
	memset(buf, 'h', 300);
	strcpy(buf + 300, ":7443");
	check_bad(buf, 0);
	buf[0] = '[';
	memset(buf + 1, 'h', 300);
	strcpy(buf + 301, "]:1");
	check_bad(buf, 0);
	/* Exactly FERRY_MAX_HOST is fine, one more is not. */
	memset(buf, 'h', FERRY_MAX_HOST);
	strcpy(buf + FERRY_MAX_HOST, ":9");
	{
		struct ferry_addr a;

		assert_int_equal(ferry_addr_parse(buf, 0, &a), 0);
		assert_int_equal(strlen(a.host), FERRY_MAX_HOST);
	}
	memset(buf, 'h', FERRY_MAX_HOST + 1);
	strcpy(buf + FERRY_MAX_HOST + 1, ":9");
	check_bad(buf, 0);

	/* An ID of FERRY_MAX_ID characters is fine, one more is not. */
	n = FERRY_MAX_ID;
	memset(buf, 'i', n);
	strcpy(buf + n, "@h:1");
	{
		struct ferry_addr a;

		assert_int_equal(ferry_addr_parse(buf, 0, &a), 0);
		assert_int_equal(strlen(a.id), FERRY_MAX_ID);
	}
	memset(buf, 'i', n + 1);
	strcpy(buf + n + 1, "@h:1");
	check_bad(buf, 0);
}

static void
test_parse_path_limit(void **state)
{
	static char buf[FERRY_MAX_PATH + 32];
	struct ferry_addr a;

	(void)state;
	strcpy(buf, "h:1:");
	memset(buf + 4, 'p', FERRY_MAX_PATH);
	buf[4 + FERRY_MAX_PATH] = '\0';
	assert_int_equal(ferry_addr_parse(buf, 1, &a), 0);
	assert_int_equal(strlen(a.path), FERRY_MAX_PATH);
	buf[4 + FERRY_MAX_PATH] = 'p';
	buf[5 + FERRY_MAX_PATH] = '\0';
	check_bad(buf, 1);
}

/*
 * A path may contain '@' whether or not the address names an ID. Today the
 * '@' in "host:7443:me@x.txt" is taken for the end of an ID "host:7443:me".
 */
static void
test_parse_path_with_at(void **state)
{
	static const struct good g = {
	    "host:7443:dir/me@x.txt", 1, "", "host", "7443", 1, "dir/me@x.txt"};

	(void)state;
	/* BUG (src/lib/net.c ferry_addr_parse): refused with "bad peer ID". */
	check_good(&g);
}

/* IPv6 without brackets is refused whatever follows it. */
static void
test_parse_unbracketed_ipv6(void **state)
{
	static const struct {
		const char *in;
		int want_path;
	} bad[] = {
	    {"::1:7443", 0},
	    {"fe80::1:7443", 0},
	    {"2001:db8::1", 0},
	    {"::1:7443:path", 1},
	};

	(void)state;
	for (size_t i = 0; i < NELEM(bad); i++)
		check_bad(bad[i].in, bad[i].want_path);
	/*
	 * Not host "fe80", empty port (so 7443), path "1:7443:x": the empty
	 * port form "HOST::PATH" is not taken when the text before one of
	 * its colons is an IPv6 address.
	 */
	check_bad("fe80::1:7443:x", 1);
}

static void
test_host_is_ip(void **state)
{
	static const char *ip[] = {"127.0.0.1", "0.0.0.0", "255.255.255.255",
	    "::1", "::", "fe80::1", "2001:db8::8:800:200c:417a",
	    "::ffff:192.0.2.1"};
	static const char *notip[] = {"", "localhost", "example.com",
	    "256.1.1.1", "1.2.3", "1.2.3.4.5", "[::1]", ":::", "1.2.3.4 ",
	    "01.2.3.4x", "fe80::1%eth0z:"};

	(void)state;
	for (size_t i = 0; i < NELEM(ip); i++)
		if (ferry_host_is_ip(ip[i]) != 1)
			fail_msg("'%s' is an IP literal", ip[i]);
	for (size_t i = 0; i < NELEM(notip); i++)
		if (ferry_host_is_ip(notip[i]) != 0)
			fail_msg("'%s' is not an IP literal", notip[i]);
}

static void
test_addr_format(void **state)
{
	char out[64];

	(void)state;
	ferry_addr_format("::1", "7443", out, sizeof(out));
	assert_string_equal(out, "[::1]:7443");
	ferry_addr_format("host", "1", out, sizeof(out));
	assert_string_equal(out, "host:1");
	ferry_addr_format("example.org", "7443", out, 8);
	assert_string_equal(out, "example"); /* truncated, terminated */
}

/* What format writes, parse reads back. */
static void
test_format_parse_roundtrip(void **state)
{
	static const char *hosts[] = {"::1", "host", "10.0.0.1", "fe80::1%lo"};
	static const char *ports[] = {"1", "7443", "65535"};

	(void)state;
	for (size_t i = 0; i < NELEM(hosts); i++) {
		for (size_t j = 0; j < NELEM(ports); j++) {
			struct ferry_addr a;
			char s[FERRY_MAX_HOST + 16];

			ferry_addr_format(hosts[i], ports[j], s, sizeof(s));
			assert_int_equal(ferry_addr_parse(s, 0, &a), 0);
			assert_string_equal(a.host, hosts[i]);
			assert_string_equal(a.port, ports[j]);
			assert_string_equal(a.id, "");
			assert_int_equal(a.has_path, 0);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_parse_path_limit),
	    cmocka_unit_test(test_parse_path_with_at),
	    cmocka_unit_test(test_parse_unbracketed_ipv6),
	    cmocka_unit_test(test_host_is_ip),
	    cmocka_unit_test(test_addr_format),
	    cmocka_unit_test(test_format_parse_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
