/* test_store.c - the SQLite store: accounts, certificates, audit events. */
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

#include "ferry/log.h"
#include "ferry/store.h"

struct fixture {
	char dir[PATH_MAX - 16];
	char db[PATH_MAX];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/ferry-test-store.XXXXXX",
	    tmp != NULL && *tmp == '/' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	if (snprintf(f->db, sizeof(f->db), "%s/ferry.db", f->dir) >=
	    (int)sizeof(f->db)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX + 8];

	unlink(f->db);
	snprintf(p, sizeof(p), "%s-wal", f->db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->db);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

struct seen {
	unsigned n;
	char names[8][80];
	unsigned certs[8];
};

static void
on_user(const struct ferry_store_user *u, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", u->name);
		s->certs[s->n] = u->n_certs;
	}
	s->n++;
}

static void
on_event(const struct ferry_store_event *ev, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s %s %s",
		    ev->kind, ev->user != NULL ? ev->user : "-",
		    ev->serial != NULL ? ev->serial : "-");
	s->n++;
}

static void
test_users(void **state)
{
	struct fixture *f = *state;
	struct ferry_store *st = NULL;
	char h[FERRY_PASSWD_ENCODED_MAX];
	struct seen s;
	struct stat sb;

	assert_int_equal(ferry_store_open(f->db, 0, &st), FERRY_E_NOENT);
	assert_null(st);
	assert_int_equal(ferry_store_open(f->db, 1, &st), 0);
	assert_int_equal(stat(f->db, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	assert_int_equal(ferry_store_user_add(st, "bob", "$h1"), 0);
	assert_int_equal(ferry_store_user_add(st, "alice", "$h2"), 0);
	assert_int_equal(
	    ferry_store_user_add(st, "alice", "$h3"), FERRY_E_EXIST);
	assert_int_equal(
	    ferry_store_user_add(st, "../x", "$h3"), FERRY_E_USAGE);
	assert_int_equal(ferry_store_user_hash(st, "alice", h), 0);
	assert_string_equal(h, "$h2");
	assert_int_equal(ferry_store_user_hash(st, "carol", h), FERRY_E_NOENT);
	assert_int_equal(ferry_store_user_set_hash(st, "alice", "$h4"), 0);
	assert_int_equal(ferry_store_user_hash(st, "alice", h), 0);
	assert_string_equal(h, "$h4");
	assert_int_equal(
	    ferry_store_user_set_hash(st, "carol", "$h4"), FERRY_E_NOENT);

	assert_int_equal(ferry_store_cert_add(st, FERRY_EV_ENROLL, "0A",
	                     "alice", 1000, 2000, "127.0.0.1"),
	    0);
	/* A serial is recorded once. */
	assert_int_equal(ferry_store_cert_add(st, FERRY_EV_ENROLL, "0A",
	                     "alice", 1000, 2000, "127.0.0.1"),
	    FERRY_E_EXIST);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ferry_store_user_list(st, on_user, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "alice");
	assert_int_equal(s.certs[0], 1);
	assert_string_equal(s.names[1], "bob");

	assert_int_equal(ferry_store_user_del(st, "bob"), 0);
	assert_int_equal(ferry_store_user_del(st, "bob"), FERRY_E_NOENT);
	ferry_store_close(st);

	/* Reopened: still there. */
	assert_int_equal(ferry_store_open(f->db, 0, &st), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ferry_store_user_list(st, on_user, &s), 0);
	assert_int_equal(s.n, 1);
	ferry_store_close(st);
}

static void
test_events(void **state)
{
	struct fixture *f = *state;
	struct ferry_store *st = NULL;
	struct ferry_store_event ev = {.kind = FERRY_EV_LOGIN_FAILED,
	    .user = "mallory",
	    .addr = "10.0.0.1"};
	struct seen s;

	assert_int_equal(ferry_store_open(f->db, 1, &st), 0);
	assert_int_equal(ferry_store_event_add(st, &ev), 0);
	assert_int_equal(ferry_store_cert_add(
	                     st, FERRY_EV_RENEW, "0B", "eve", 1, 2, "10.0.0.2"),
	    0);
	assert_int_equal(ferry_store_cert_revoke(st, "0B", "eve", 5, "cli"), 0);
	ev.kind = NULL;
	assert_int_equal(ferry_store_event_add(st, &ev), FERRY_E_USAGE);

	memset(&s, 0, sizeof(s));
	assert_int_equal(ferry_store_event_list(st, NULL, 10, on_event, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.names[0], "login-failed mallory -");
	assert_string_equal(s.names[1], "renew eve 0B");
	assert_string_equal(s.names[2], "revoke eve 0B");
	/* Only one user's, and only the last n. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(ferry_store_event_list(st, "eve", 1, on_event, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], "revoke eve 0B");
	ferry_store_close(st);
}

static void
test_not_a_db(void **state)
{
	struct fixture *f = *state;
	struct ferry_store *st = NULL;
	FILE *fp = fopen(f->db, "w");

	assert_non_null(fp);
	fputs("this is not an SQLite database, not even close..........\n", fp);
	fclose(fp);
	assert_int_not_equal(ferry_store_open(f->db, 0, &st), 0);
	assert_null(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_users, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_db, setup, teardown),
	};

	ferry_log_set(NULL, FERRY_LOG_ERROR, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
