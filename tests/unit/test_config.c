/* test_config.c - the client configuration parser: a good file, every
 * refusal with its file:line, the limits, truncation of a valid file at
 * every byte, and input that ends against a guard page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ferry/access.h"
#include "ferry/config.h"
#include "ferry/limits.h"

static const char good[] = "# peers I send to\n"
                           "[peer bob]\n"
                           "address = 127.0.0.1\n"
                           "  id=bob\r\n"
                           "port\t=  7443  \n"
                           "\n"
                           "; another comment\n"
                           "[ peer  laptop-2 ]\n"
                           "address = [::1]:8443\n"
                           "identity = /home/a/ferry work\n";

static struct ferry_config *
parse_ok(const char *text)
{
	struct ferry_config *c = NULL;

	assert_int_equal(ferry_config_parse(text, strlen(text), "cfg", &c), 0);
	assert_non_null(c);
	return c;
}

/* text must be refused, and the detail must start with want. */
static void
refused(const char *text, const char *want)
{
	struct ferry_config *c = (struct ferry_config *)1;
	int r = ferry_config_parse(text, strlen(text), "cfg", &c);

	assert_int_equal(r, FERRY_E_USAGE);
	assert_null(c);
	if (strncmp(ferry_err_detail(r), want, strlen(want)) != 0)
		fail_msg("'%s': detail '%s', want '%s...'", text,
		    ferry_err_detail(r), want);
}

static void
test_good(void **state)
{
	struct ferry_config *c = parse_ok(good);
	const struct ferry_config_peer *p;
	struct ferry_addr a;

	(void)state;
	p = ferry_config_peer(c, "bob");
	assert_non_null(p);
	assert_string_equal(p->address, "127.0.0.1");
	assert_string_equal(p->id, "bob");
	assert_string_equal(p->port, "7443");
	assert_null(p->identity);
	assert_int_equal(p->line, 2);
	p = ferry_config_peer(c, "laptop-2");
	assert_non_null(p);
	assert_string_equal(p->address, "[::1]:8443");
	assert_null(p->id);
	assert_null(p->port);
	assert_string_equal(p->identity, "/home/a/ferry work");
	assert_int_equal(p->line, 8);
	assert_null(ferry_config_peer(c, "alice"));
	assert_null(ferry_config_peer(c, "Bob"));

	assert_int_equal(ferry_config_addr(p, "docs/a.txt", &a), 0);
	assert_string_equal(a.host, "::1");
	assert_string_equal(a.port, "8443");
	assert_string_equal(a.id, "");
	assert_int_equal(a.has_path, 1);
	assert_string_equal(a.path, "docs/a.txt");
	p = ferry_config_peer(c, "bob");
	assert_int_equal(ferry_config_addr(p, NULL, &a), 0);
	assert_string_equal(a.host, "127.0.0.1");
	assert_string_equal(a.port, "7443");
	assert_string_equal(a.id, "bob");
	assert_int_equal(a.has_path, 0);
	ferry_config_free(c);
	ferry_config_free(NULL);
}

static void
test_empty(void **state)
{
	struct ferry_config *c;

	(void)state;
	c = parse_ok("");
	assert_null(ferry_config_peer(c, "bob"));
	ferry_config_free(c);
	c = parse_ok("\n\n# only comments\n   \n");
	ferry_config_free(c);
	/* No final newline. */
	c = parse_ok("[peer x]\naddress = h");
	assert_string_equal(ferry_config_peer(c, "x")->address, "h");
	ferry_config_free(c);
}

static void
test_refused(void **state)
{
	(void)state;
	refused("address = h\n",
	    "cfg:1: a setting before any [peer NAME], [serve] or [authd]");
	refused("[peer a]\naddress = h\n[peer a]\naddress = g\n",
	    "cfg:3: peer 'a' already defined on line 1");
	refused("[peer a\n", "cfg:1: missing ']'");
	refused("[host a]\n", "cfg:1: unknown section");
	refused("[peer]\n", "cfg:1: unknown section");
	refused("[peerx a]\n", "cfg:1: unknown section");
	refused("[peer a b]\n", "cfg:1: a peer name is");
	refused("[peer -a]\n", "cfg:1: a peer name is");
	refused("[peer a/b]\n", "cfg:1: a peer name is");
	refused("[peer a]\n", "cfg:1: peer 'a' has no 'address ='");
	refused("[peer a]\nid = a\n[peer b]\naddress = h\n",
	    "cfg:1: peer 'a' has no 'address ='");
	refused("[peer a]\naddress h\n", "cfg:2: expected 'key = value'");
	refused("[peer a]\nhost = h\n", "cfg:2: unknown key 'host'");
	refused("[peer a]\naddress = h\naddress = g\n",
	    "cfg:3: 'address' given twice");
	refused("[peer a]\naddress =  \n", "cfg:2: 'address' has no value");
	refused("[peer a]\naddress = h\nport = 0\n", "cfg:3: port '0'");
	refused("[peer a]\naddress = h\nport = 65536\n", "cfg:3: port");
	refused("[peer a]\naddress = h\nport = 7x\n", "cfg:3: port");
	refused("[peer a]\naddress = h\nport = 000007443\n", "cfg:3: port");
	refused("[peer a]\naddress = h:1\nport = 2\n",
	    "cfg:1: peer 'a' has a port in its address and in 'port ='");
	refused("[peer a]\naddress = b@h\n", "cfg:2: the peer's ID");
	refused("[peer a]\naddress = h:port\n", "cfg:2: address: ");
	refused("[peer a]\naddress = h:1:path\n", "cfg:2: address: ");
	refused("[peer a]\naddress = h\nid = a b\n", "cfg:3: 'a b' is not");
	refused("[peer a]\naddress = h\x01\n", "cfg:2: control character "
	                                       "0x01");
	refused("[peer a]\naddress = h\x7f\n", "cfg:2: control character");
	refused("[peer a]\naddress = h\rx\n", "cfg:2: control character");
	refused("[peer a]\naddress = h\r\r\n", "cfg:2: control character "
	                                       "0x0d");
	/* Edges of the section header and of the key. */
	refused("[]\n", "cfg:1: unknown section");
	refused("[\n", "cfg:1: missing ']'");
	refused("[peer a] x\n", "cfg:1: missing ']'");
	refused("[peer a]b]\n", "cfg:1: a peer name is");
	refused("[peer a]\n =h\n", "cfg:2: unknown key ''");
	refused("[peer a]\n=\n", "cfg:2: unknown key ''");
	refused("[peer a]\naddress==h\n", "cfg:2: address: ");
}

/* Blanks and a CR around the tokens, a tab after "peer", no final newline. */
static void
test_blanks(void **state)
{
	struct ferry_config *c;
	const struct ferry_config_peer *p;

	(void)state;
	c = parse_ok("  [peer\ta]  \n\taddress = h \r\nport = 7443 \r");
	p = ferry_config_peer(c, "a");
	assert_non_null(p);
	assert_string_equal(p->address, "h");
	assert_string_equal(p->port, "7443");
	ferry_config_free(c);
}

/* A UTF-8 byte order mark is skipped at the start, and only there. */
static void
test_bom(void **state)
{
	struct ferry_config *c;

	(void)state;
	c = parse_ok("\xef\xbb\xbf[peer a]\naddress = h\n");
	assert_non_null(ferry_config_peer(c, "a"));
	ferry_config_free(c);
	c = parse_ok("\xef\xbb\xbf");
	ferry_config_free(c);
	refused("[peer a]\n\xef\xbb\xbf"
	        "address = h\n",
	    "cfg:2:");
	refused("\xef\xbb\xbf\xef\xbb\xbf[peer a]\n", "cfg:1:");
}

static void
test_nul(void **state)
{
	static const char text[] = "[peer a]\naddress = h\0x\n";
	struct ferry_config *c;

	(void)state;
	assert_int_equal(ferry_config_parse(text, sizeof(text) - 1, "cfg", &c),
	    FERRY_E_USAGE);
	assert_null(c);
	assert_string_equal(
	    ferry_err_detail(FERRY_E_USAGE), "cfg:2: control character 0x00");
}

static void
test_limits(void **state)
{
	size_t big = FERRY_CONFIG_MAX_SIZE + 1;
	char *text = malloc(big + 1);
	struct ferry_config *c;
	int n;

	(void)state;
	assert_non_null(text);
	/* A line of exactly the limit passes; one byte more does not. */
	n = snprintf(text, big, "[peer a]\naddress = h\n#");
	memset(text + n, 'x', FERRY_CONFIG_MAX_LINE - 1);
	text[n + FERRY_CONFIG_MAX_LINE - 1] = '\0';
	assert_int_equal(ferry_config_parse(text, strlen(text), "cfg", &c), 0);
	ferry_config_free(c);
	strcat(text, "x\n");
	refused(text, "cfg:3: line longer than");
	/* The same as the last line, without a newline; a CR counts. */
	text[strlen(text) - 2] = '\0';
	assert_int_equal(ferry_config_parse(text, strlen(text), "cfg", &c), 0);
	ferry_config_free(c);
	strcat(text, "x");
	refused(text, "cfg:3: line longer than");
	text[strlen(text) - 1] = '\r';
	refused(text, "cfg:3: line longer than");
	/* Too many lines, each short. */
	memset(text, '\n', FERRY_CONFIG_MAX_LINES + 1);
	text[FERRY_CONFIG_MAX_LINES + 1] = '\0';
	refused(text, "cfg:10001: more than 10000 lines");
	/* Too large. */
	memset(text, '#', big);
	text[big] = '\0';
	refused(text, "cfg: larger than");
	free(text);
}

static void
test_too_many_peers(void **state)
{
	size_t cap = (FERRY_CONFIG_MAX_PEERS + 1) * 32, len = 0;
	char *text = malloc(cap);

	(void)state;
	assert_non_null(text);
	for (int i = 0; i <= FERRY_CONFIG_MAX_PEERS; i++)
		len += (size_t)snprintf(
		    text + len, cap - len, "[peer p%d]\naddress=h\n", i);
	refused(text, "cfg:2001: more than 1000 peers");
	free(text);
}

/* Every prefix of a good file parses or is refused cleanly (ASan looks). */
static void
test_truncation(void **state)
{
	(void)state;
	for (size_t n = 0; n <= strlen(good); n++) {
		char *copy = malloc(n ? n : 1);
		struct ferry_config *c = NULL;
		int r;

		assert_non_null(copy);
		memcpy(copy, good, n);
		r = ferry_config_parse(copy, n, "cfg", &c);
		assert_true(r == 0 || r == FERRY_E_USAGE);
		assert_true((r == 0) == (c != NULL));
		ferry_config_free(c);
		free(copy);
	}
}

/* The text ends where the mapping does: no read past len. */
static void
test_guard_page(void **state)
{
	long ps = sysconf(_SC_PAGESIZE);
	size_t len = strlen(good);
	uint8_t *map;
	struct ferry_config *c;

	(void)state;
	map = mmap(NULL, (size_t)ps * 2, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + ps, (size_t)ps, PROT_NONE), 0);
	memcpy(map + ps - len, good, len);
	assert_int_equal(
	    ferry_config_parse((char *)map + ps - len, len, "cfg", &c), 0);
	ferry_config_free(c);
	/* Ends inside a section header, against the guard. */
	memcpy(map + ps - 6, "[peer ", 6);
	assert_int_equal(ferry_config_parse((char *)map + ps - 6, 6, "cfg", &c),
	    FERRY_E_USAGE);
	munmap(map, (size_t)ps * 2);
}

static void
test_load(void **state)
{
	char dir[] = "/tmp/test_config.XXXXXX", path[64];
	struct ferry_config *c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config", dir);
	/* Missing: empty. */
	assert_int_equal(ferry_config_load(path, &c), 0);
	assert_null(ferry_config_peer(c, "bob"));
	ferry_config_free(c);
	assert_non_null(f = fopen(path, "w"));
	fputs(good, f);
	fclose(f);
	assert_int_equal(ferry_config_load(path, &c), 0);
	assert_non_null(ferry_config_peer(c, "bob"));
	ferry_config_free(c);
	/* An error names the file and line. */
	assert_non_null(f = fopen(path, "w"));
	fputs("[peer a]\nbad\n", f);
	fclose(f);
	assert_int_equal(ferry_config_load(path, &c), FERRY_E_USAGE);
	assert_non_null(strstr(ferry_err_detail(FERRY_E_USAGE), "/config:2: "));
	/* A directory is not a configuration. */
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(ferry_config_load(path, &c), FERRY_E_USAGE);
	rmdir(path);
	rmdir(dir);
}

static void
test_serve(void **state)
{
	static char *fin[] = {"finance"};
	const struct ferry_member alice = {.id = "alice"},
	                          carol = {.id = "carol"},
	                          frank = {.id = "frank",
	                              .groups = fin,
	                              .n_groups = 1};
	struct ferry_config *c;
	struct ferry_access *a;
	uint64_t bytes, files;

	(void)state;
	c = parse_ok("[peer bob]\naddress = h\n");
	assert_null(ferry_config_serve(c));
	ferry_config_free(c);
	c = parse_ok("[peer bob]\naddress = h\n"
	             "[serve]\n"
	             "members = alice, carol,group:finance\n"
	             "allow-push=alice\n"
	             "inbox-quota = 10G\n"
	             "inbox-files = 500\n"
	             "[ read payroll/ ]\n"
	             "allow = alice, group:finance\n"
	             "[read /]\n"
	             "allow = *\n"
	             "[peer laptop]\naddress = g\n");
	assert_non_null(ferry_config_peer(c, "laptop"));
	a = ferry_config_serve(c);
	assert_non_null(a);
	assert_true(ferry_access_may_connect(a, &carol));
	assert_true(ferry_access_may_push(a, &alice));
	assert_false(ferry_access_may_push(a, &carol));
	assert_false(ferry_access_may_read(a, &carol, "payroll/x"));
	assert_true(ferry_access_may_read(a, &frank, "payroll/x"));
	assert_true(ferry_access_may_read(a, &carol, "other"));
	ferry_access_quota(a, &bytes, &files);
	assert_true(bytes == 10ull << 30);
	assert_true(files == 500);
	ferry_config_free(c);
	/* allow-read in [serve] is [read /]. */
	c = parse_ok("[serve]\nallow-read = alice\n");
	assert_false(ferry_access_may_read(ferry_config_serve(c), &carol, "x"));
	ferry_config_free(c);
}

/* Daemon options: kept in order for the command, which knows its options. */
static void
test_daemon_opts(void **state)
{
	struct ferry_config *c;
	const struct ferry_config_opt *o;

	(void)state;
	c = parse_ok("[serve]\nlisten = 127.0.0.1:7443\nmembers = a\n"
	             "allowed = b\n[authd]\ncert-days = 3\n"
	             "allow-dns = a.example\nallow-dns = b.example\n");
	o = ferry_config_opt(c, "serve", 0);
	assert_non_null(o);
	assert_string_equal(o->key, "listen");
	assert_string_equal(o->value, "127.0.0.1:7443");
	assert_int_equal(o->line, 2);
	/* members is an access key: in ferry_config_serve(), not here. */
	o = ferry_config_opt(c, "serve", 1);
	assert_non_null(o);
	assert_string_equal(o->key, "allowed");
	assert_int_equal(o->line, 4);
	assert_null(ferry_config_opt(c, "serve", 2));
	o = ferry_config_opt(c, "authd", 0);
	assert_string_equal(o->key, "cert-days");
	assert_string_equal(o->value, "3");
	assert_int_equal(o->line, 6);
	o = ferry_config_opt(c, "authd", 2);
	assert_string_equal(o->key, "allow-dns");
	assert_string_equal(o->value, "b.example");
	assert_int_equal(o->line, 8);
	assert_null(ferry_config_opt(c, "authd", 3));
	assert_null(ferry_config_opt(c, "peer", 0));
	ferry_config_free(c);
	assert_null(ferry_config_opt(NULL, "serve", 0));
}

static void
test_serve_refused(void **state)
{
	(void)state;
	refused("[serve]\nAllowed = a\n", "cfg:2: 'Allowed' is not a key");
	refused("[serve]\nlisten =\n", "cfg:2: 'listen' has no value");
	refused("[serve]\nmembers = a\nmembers = b\n",
	    "cfg:3: 'members' given twice");
	refused("[serve]\nmembers =\n", "cfg:2: 'members' has no value");
	refused("[serve]\nmembers = a,,b\n", "cfg:2: members: an empty entry");
	refused("[serve]\nmembers = grp:x\n", "cfg:2: members: 'grp:x'");
	refused("[serve]\nallow-push = group:a b\n",
	    "cfg:2: allow-push: 'group:a b': group name");
	refused("[serve]\ninbox-quota = 10 GB\n",
	    "cfg:2: inbox-quota: '10 GB' is not a size");
	refused("[serve]\ninbox-files = -1\n",
	    "cfg:2: inbox-files: '-1' is not a number");
	refused("[serve]\ninbox-files = 1000000001\n", "cfg:2: inbox-files");
	refused("[serve]\n[peer a]\naddress = h\n[serve]\n",
	    "cfg:4: [serve] already given on line 1");
	refused("[serve x]\n", "cfg:1: [serve] takes no name");
	refused("[servex]\n", "cfg:1: unknown section");
	refused("[read]\n", "cfg:1: [read PATH] needs a path");
	refused("[read ../x]\nallow = *\n", "cfg:1: read rule path '../x'");
	refused("[read a//b]\nallow = *\n", "cfg:1: read rule path");
	refused("[read a]\n", "cfg:1: [read a] has no 'allow ='");
	refused("[read a]\n[read b]\nallow = *\n",
	    "cfg:1: [read a] has no 'allow ='");
	refused(
	    "[read a]\nallow = *\nallow = b\n", "cfg:3: 'allow' given twice");
	refused("[read a]\nmembers = b\n",
	    "cfg:2: unknown key 'members' in [read PATH]");
	refused(
	    "[authd]\n\n[authd]\n", "cfg:3: [authd] already given on line 1");
	refused("[authd x]\n", "cfg:1: [authd] takes no name");
	refused("[authd]\n-v = yes\n", "cfg:2: '-v' is not a key");
	refused("[authd]\nx_y = 1\n", "cfg:2: 'x_y' is not a key");
	refused("[authd]\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1\n",
	    "cfg:2: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is not a key");
	refused(
	    "[peer a]\naddress = h\nallow = b\n", "cfg:3: unknown key 'allow'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bom),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_serve),
	    cmocka_unit_test(test_serve_refused),
	    cmocka_unit_test(test_daemon_opts),
	    cmocka_unit_test(test_blanks),
	    cmocka_unit_test(test_nul),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_too_many_peers),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_guard_page),
	    cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
