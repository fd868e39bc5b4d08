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
#include <sqlite3.h>

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

	assert_int_equal(ferry_store_user_add(st, "bob", "$h1", NULL), 0);
	assert_int_equal(ferry_store_user_add(st, "alice", "$h2", NULL), 0);
	assert_int_equal(
	    ferry_store_user_add(st, "alice", "$h3", NULL), FERRY_E_EXIST);
	assert_int_equal(
	    ferry_store_user_add(st, "../x", "$h3", NULL), FERRY_E_USAGE);
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

/* Collects bindings as "kind:value" lines. */
struct binds {
	char text[512];
};

static void
collect_binding(const char *kind, const char *value, void *arg)
{
	struct binds *b = arg;
	size_t n = strlen(b->text);

	snprintf(b->text + n, sizeof(b->text) - n, "%s:%s ", kind, value);
}

/* A host name belongs to one account, in one normalized form. */
static void
test_names_bound_once(void **state)
{
	struct fixture *f = *state;
	struct ferry_store *st = NULL;
	const char *names[] = {"Bob-Laptop.Example.Internal.", "10.1.2.3"};
	const char *groups[] = {"finance"};
	struct ferry_store_grants g = {names, 2, groups, 1};
	char owner[FERRY_MAX_ID + 1];
	struct binds b = {{0}};
	int reserved = 1;

	assert_int_equal(ferry_store_open(f->db, 1, &st), 0);
	assert_int_equal(ferry_store_user_add(st, "bob", "$h", &g), 0);
	assert_int_equal(ferry_store_user_add(st, "alice", "$h", NULL), 0);
	/* Taken, in any spelling; the failed add leaves nothing behind. */
	assert_int_equal(
	    ferry_store_name_bind(st, "alice", "BOB-laptop.example.internal"),
	    FERRY_E_EXIST);
	assert_int_equal(
	    ferry_store_user_add(st, "carol", "$h", &g), FERRY_E_EXIST);
	assert_int_equal(ferry_store_name_owner(st,
	                     "bob-laptop.example.internal.", owner, &reserved),
	    0);
	assert_string_equal(owner, "bob");
	assert_int_equal(reserved, 0);
	assert_int_equal(ferry_store_user_disabled(st, "carol", &(time_t){0}),
	    FERRY_E_NOENT);
	/* Hostile spellings are refused, not stored. */
	assert_int_equal(
	    ferry_store_name_bind(st, "alice", "*.example.internal"),
	    FERRY_E_USAGE);
	assert_int_equal(
	    ferry_store_name_bind(st, "alice", ".example.internal"),
	    FERRY_E_USAGE);
	assert_int_equal(
	    ferry_store_name_bind(st, "alice", "xn--80ak6aa92e.com"),
	    FERRY_E_USAGE);
	assert_int_equal(
	    ferry_store_name_bind(st, "nobody", "n.example"), FERRY_E_NOENT);
	/* Reserved for authd: nobody may bind it, and a bound one cannot be. */
	assert_int_equal(ferry_store_name_reserve(
	                     st, "auth.example.internal", "authd --name"),
	    0);
	assert_int_equal(ferry_store_name_reserve(
	                     st, "auth.example.internal", "authd --name"),
	    0);
	assert_int_equal(
	    ferry_store_name_bind(st, "alice", "Auth.Example.Internal"),
	    FERRY_E_EXIST);
	assert_int_equal(ferry_store_name_owner(
	                     st, "auth.example.internal", owner, &reserved),
	    0);
	assert_int_equal(reserved, 1);
	assert_int_equal(
	    ferry_store_name_reserve(st, "10.1.2.3", "authd --listen"),
	    FERRY_E_EXIST);
	assert_int_equal(
	    ferry_store_name_owner(st, "unbound.example", owner, &reserved),
	    FERRY_E_NOENT);
	/* Unbinding is the owner's: alice cannot free bob's name. */
	assert_int_equal(
	    ferry_store_name_unbind(st, "alice", "10.1.2.3"), FERRY_E_NOENT);
	assert_int_equal(
	    ferry_store_bindings(st, "bob", collect_binding, &b), 0);
	assert_string_equal(b.text,
	    "dns:bob-laptop.example.internal ip:10.1.2.3 group:finance ");
	/* Deleting the account frees its names. */
	assert_int_equal(ferry_store_user_del(st, "bob"), 0);
	assert_int_equal(ferry_store_name_bind(st, "alice", "10.1.2.3"), 0);
	ferry_store_close(st);
}

static void
test_disable(void **state)
{
	struct fixture *f = *state;
	struct ferry_store *st = NULL;
	time_t when = 0;

	assert_int_equal(ferry_store_open(f->db, 1, &st), 0);
	assert_int_equal(ferry_store_user_add(st, "alice", "$h", NULL), 0);
	assert_int_equal(ferry_store_user_disabled(st, "alice", &when), 0);
	assert_int_equal(when, 0);
	assert_int_equal(
	    ferry_store_user_set_disabled(st, "alice", 1, "lost laptop", "cli"),
	    0);
	assert_int_equal(ferry_store_user_disabled(st, "alice", &when), 0);
	assert_true(when > 0);
	assert_int_equal(
	    ferry_store_user_set_disabled(st, "alice", 0, NULL, "cli"), 0);
	assert_int_equal(ferry_store_user_disabled(st, "alice", &when), 0);
	assert_int_equal(when, 0);
	assert_int_equal(
	    ferry_store_user_set_disabled(st, "bob", 1, NULL, "cli"),
	    FERRY_E_NOENT);
	ferry_store_close(st);
}

/* A version 1 database (before names and groups) migrates forward. */
static void
test_migrate_v1(void **state)
{
	struct fixture *f = *state;
	struct ferry_store *st = NULL;
	sqlite3 *db = NULL;
	time_t when = 1;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                     "CREATE TABLE users (name TEXT PRIMARY KEY NOT "
	                     "NULL, hash TEXT NOT NULL, created INTEGER NOT "
	                     "NULL, updated INTEGER NOT NULL);"
	                     "CREATE TABLE certs (serial TEXT PRIMARY KEY NOT "
	                     "NULL, user TEXT NOT NULL, not_before INTEGER NOT "
	                     "NULL, not_after INTEGER NOT NULL, issued INTEGER "
	                     "NOT NULL, addr TEXT, revoked INTEGER);"
	                     "CREATE TABLE events (id INTEGER PRIMARY KEY "
	                     "AUTOINCREMENT, time INTEGER NOT NULL, kind TEXT "
	                     "NOT NULL, user TEXT, addr TEXT, serial TEXT, "
	                     "detail TEXT);"
	                     "INSERT INTO users VALUES('old', '$h', 1, 1);"
	                     "PRAGMA user_version=1;",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(ferry_store_open(f->db, 0, &st), 0);
	assert_int_equal(ferry_store_user_disabled(st, "old", &when), 0);
	assert_int_equal(when, 0);
	assert_int_equal(ferry_store_name_bind(st, "old", "old.example"), 0);
	assert_int_equal(ferry_store_group_add(st, "old", "staff"), 0);
	ferry_store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_users, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_db, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_names_bound_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
	};

	ferry_log_set(NULL, FERRY_LOG_ERROR, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
