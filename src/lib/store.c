/* store.c - SQLite behind include/ferry/store.h.
 * docs/internals/store.md: schema, transactions, how to port it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ferry/log.h"
#include "ferry/pki.h"
#include "ferry/store.h"

/* Bumped with every schema change; open refuses a newer database. */
#define SCHEMA_VERSION 2
/* How long a writer waits for another (authd and the CLI share the file). */
#define BUSY_MS 5000

struct ferry_store {
	sqlite3 *db;
	char *path;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS users ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " hash TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS certs ("
    " serial TEXT PRIMARY KEY NOT NULL,"
    " user TEXT NOT NULL,"
    " not_before INTEGER NOT NULL,"
    " not_after INTEGER NOT NULL,"
    " issued INTEGER NOT NULL,"
    " addr TEXT,"
    " revoked INTEGER);"
    "CREATE INDEX IF NOT EXISTS certs_user ON certs(user);"
    "CREATE TABLE IF NOT EXISTS events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " time INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " user TEXT,"
    " addr TEXT,"
    " serial TEXT,"
    " detail TEXT);"
    "CREATE INDEX IF NOT EXISTS events_user ON events(user);";

/*
 * Forward migrations: migrations[N - 1] takes version N to N + 1. A new
 * database runs schema (version 1) and then every step.
 */
static const char *const migrations[] = {
    /* 1 -> 2: names and groups bound to accounts, disabled accounts. */
    "ALTER TABLE users ADD COLUMN disabled INTEGER;"
    "CREATE TABLE names ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('dns', 'ip')),"
    " user TEXT REFERENCES users(name) ON DELETE CASCADE,"
    " reserved TEXT,"
    " CHECK ((user IS NULL) != (reserved IS NULL)));"
    "CREATE INDEX names_user ON names(user);"
    "CREATE TABLE groups ("
    " user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " PRIMARY KEY (user, name));",
};

/* Maps an SQLite result to FERRY_E_*, with the database's message. */
static int
db_fail(struct ferry_store *st, int rc, const char *what)
{
	int r;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		r = FERRY_E_BUSY;
		break;
	case SQLITE_CONSTRAINT:
		r = FERRY_E_EXIST;
		break;
	case SQLITE_NOMEM:
		r = FERRY_E_NOMEM;
		break;
	case SQLITE_FULL:
		r = FERRY_E_NOSPACE;
		break;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		r = FERRY_E_ACCESS;
		break;
	default:
		r = FERRY_E_IO;
		break;
	}
	return ferry_errf(r, "%s: %s: %s", st->path, what,
	    st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
}

static int
exec(struct ferry_store *st, const char *sql, const char *what)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(st, rc, what);
}

static int
prepare(struct ferry_store *st, const char *sql, sqlite3_stmt **out)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, out, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(st, rc, "cannot prepare a query");
}

/* Binds text or NULL. */
static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

/* Creates path 0600 exclusively, so the hashes are never world-readable. */
static int
create_file(const char *path)
{
	int fd, e;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1) {
		e = errno;
		if (e == EEXIST)
			return 0;
		return ferry_errf_errno(ferry_err_from_errno(e), e,
		    "%s: cannot create the database", path);
	}
	close(fd);
	return 0;
}

static int commit(struct ferry_store *st, int r);

/* Brings a database at version from up to SCHEMA_VERSION in one transaction. */
static int
migrate(struct ferry_store *st, int from)
{
	char sql[64];
	int r;

	if ((r = exec(st, "BEGIN IMMEDIATE", "cannot begin")) != 0)
		return r;
	if (from == 0)
		r = exec(st, schema, "cannot create the tables");
	for (int v = from > 0 ? from : 1; r == 0 && v < SCHEMA_VERSION; v++)
		r = exec(st, migrations[v - 1], "cannot upgrade the schema");
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SCHEMA_VERSION);
	if (r == 0)
		r = exec(st, sql, "cannot upgrade the schema");
	return commit(st, r);
}

int
ferry_store_open(const char *path, int create, struct ferry_store **out)
{
	struct ferry_store *st = NULL;
	sqlite3_stmt *s = NULL;
	struct stat sb;
	int rc, version, r = FERRY_E_INTERNAL;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return ferry_errf(FERRY_E_USAGE, "no database file given");
	if (stat(path, &sb) == -1) {
		if (errno != ENOENT || !create)
			return ferry_errf_errno(ferry_err_from_errno(errno),
			    errno, "%s: cannot open the database", path);
		if ((r = create_file(path)) != 0)
			return r;
	} else if (!S_ISREG(sb.st_mode)) {
		return ferry_errf(
		    FERRY_E_NOTREG, "%s: not a regular file", path);
	} else if ((sb.st_mode & 077) != 0) {
		ferry_warn("%s holds password hashes and is accessible by "
		           "others (mode %03o); chmod 600 it",
		    path, (unsigned)(sb.st_mode & 0777));
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->path = strdup(path)) == NULL) {
		r = ferry_errf(FERRY_E_NOMEM, "out of memory");
		goto out;
	}
	rc = sqlite3_open_v2(path, &st->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
	        SQLITE_OPEN_FULLMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		r = db_fail(st, rc, "cannot open the database");
		goto out;
	}
	sqlite3_busy_timeout(st->db, BUSY_MS);
	/* WAL: authd reads while the CLI writes; FULL sync: an issued
	 * certificate's record survives a power cut. Temporary tables in
	 * memory: under Landlock authd may write only next to the database. */
	if ((r = exec(st, "PRAGMA journal_mode=WAL", "cannot use WAL")) != 0 ||
	    (r = exec(st,
	         "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
	         "PRAGMA secure_delete=ON; PRAGMA temp_store=MEMORY",
	         "cannot configure")) != 0 ||
	    (r = prepare(st, "PRAGMA user_version", &s)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		r = db_fail(st, rc, "not a ferry database");
		goto out;
	}
	version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if (version > SCHEMA_VERSION) {
		r = ferry_errf(FERRY_E_VERSION,
		    "%s: database schema %d is newer than this ferry's (%d)",
		    path, version, SCHEMA_VERSION);
		goto out;
	}
	if (version < SCHEMA_VERSION && (r = migrate(st, version)) != 0)
		goto out;
	*out = st;
	st = NULL;
	r = 0;
out:
	sqlite3_finalize(s);
	ferry_store_close(st);
	return r;
}

void
ferry_store_close(struct ferry_store *st)
{
	if (st == NULL)
		return;
	sqlite3_close_v2(st->db);
	free(st->path);
	free(st);
}

/* Runs a one-statement write; *changes is the number of rows it touched. */
static int
write1(struct ferry_store *st, const char *sql, const char *what,
    const char *const *texts, int n_texts, const int64_t *ints, int n_ints,
    int *changes)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if ((r = prepare(st, sql, &s)) != 0)
		return r;
	for (int i = 0; i < n_texts; i++)
		if (bind_text(s, i + 1, texts[i]) != SQLITE_OK) {
			r = db_fail(st, sqlite3_errcode(st->db), what);
			goto out;
		}
	for (int i = 0; i < n_ints; i++)
		if (sqlite3_bind_int64(s, n_texts + i + 1, ints[i]) !=
		    SQLITE_OK) {
			r = db_fail(st, sqlite3_errcode(st->db), what);
			goto out;
		}
	if ((rc = sqlite3_step(s)) != SQLITE_DONE) {
		r = db_fail(st, rc, what);
		goto out;
	}
	if (changes != NULL)
		*changes = sqlite3_changes(st->db);
	r = 0;
out:
	sqlite3_finalize(s);
	return r;
}

static int
event_insert(struct ferry_store *st, const struct ferry_store_event *ev)
{
	const char *t[] = {
	    ev->kind, ev->user, ev->addr, ev->serial, ev->detail};
	int64_t when = ev->time != 0 ? (int64_t)ev->time : (int64_t)time(NULL);

	if (ev->kind == NULL)
		return ferry_errf(FERRY_E_USAGE, "an event needs a kind");
	return write1(st,
	    "INSERT INTO events(kind, user, addr, serial, detail, time) "
	    "VALUES(?, ?, ?, ?, ?, ?)",
	    "cannot record an event", t, 5, &when, 1, NULL);
}

int
ferry_store_event_add(
    struct ferry_store *st, const struct ferry_store_event *ev)
{
	return event_insert(st, ev);
}

/* Runs body-like writes as one transaction: BEGIN, caller's work, COMMIT. */
static int
begin(struct ferry_store *st)
{
	return exec(st, "BEGIN IMMEDIATE", "cannot begin a transaction");
}

static int
commit(struct ferry_store *st, int r)
{
	if (r == 0 && (r = exec(st, "COMMIT", "cannot commit")) == 0)
		return 0;
	(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

static int name_bind_tx(
    struct ferry_store *st, const char *user, const char *name);
static int group_change_tx(
    struct ferry_store *st, const char *user, const char *group, int add);

int
ferry_store_user_add(struct ferry_store *st, const char *name, const char *hash,
    const struct ferry_store_grants *grants)
{
	struct ferry_store_event ev = {
	    .kind = FERRY_EV_USER_ADD, .user = name, .addr = "cli"};
	const char *t[] = {name, hash};
	int64_t now = (int64_t)time(NULL), i[] = {now, now};
	int r;

	if ((r = ferry_id_check(name)) != 0)
		return r;
	if ((r = begin(st)) != 0)
		return r;
	r = write1(st,
	    "INSERT INTO users(name, hash, created, updated) "
	    "VALUES(?, ?, ?, ?)",
	    "cannot add the user", t, 2, i, 2, NULL);
	if (r == FERRY_E_EXIST)
		r = ferry_errf(FERRY_E_EXIST, "user '%s' already exists", name);
	if (r == 0)
		r = event_insert(st, &ev);
	for (size_t k = 0; r == 0 && grants != NULL && k < grants->n_names; k++)
		r = name_bind_tx(st, name, grants->names[k]);
	for (size_t k = 0; r == 0 && grants != NULL && k < grants->n_groups;
	     k++)
		r = group_change_tx(st, name, grants->groups[k], 1);
	return commit(st, r);
}

int
ferry_store_user_set_hash(
    struct ferry_store *st, const char *name, const char *hash)
{
	struct ferry_store_event ev = {
	    .kind = FERRY_EV_USER_PASSWD, .user = name, .addr = "cli"};
	const char *t[] = {hash, name};
	int64_t now = (int64_t)time(NULL);
	int changes = 0, r;

	if ((r = begin(st)) != 0)
		return r;
	r = write1(st,
	    "UPDATE users SET hash = ?1, updated = ?3 WHERE name = ?2",
	    "cannot change the password", t, 2, &now, 1, &changes);
	if (r == 0 && changes == 0)
		r = ferry_errf(FERRY_E_NOENT, "no user '%s'", name);
	if (r == 0)
		r = event_insert(st, &ev);
	return commit(st, r);
}

int
ferry_store_user_del(struct ferry_store *st, const char *name)
{
	struct ferry_store_event ev = {
	    .kind = FERRY_EV_USER_DEL, .user = name, .addr = "cli"};
	const char *t[] = {name};
	int changes = 0, r;

	if ((r = begin(st)) != 0)
		return r;
	r = write1(st, "DELETE FROM users WHERE name = ?1",
	    "cannot delete the user", t, 1, NULL, 0, &changes);
	if (r == 0 && changes == 0)
		r = ferry_errf(FERRY_E_NOENT, "no user '%s'", name);
	if (r == 0)
		r = event_insert(st, &ev);
	return commit(st, r);
}

int
ferry_store_user_hash(struct ferry_store *st, const char *name,
    char out[FERRY_PASSWD_ENCODED_MAX])
{
	sqlite3_stmt *s = NULL;
	const unsigned char *h;
	int rc, n, r;

	out[0] = '\0';
	if ((r = prepare(st, "SELECT hash FROM users WHERE name = ?1", &s)) !=
	    0)
		return r;
	if (bind_text(s, 1, name) != SQLITE_OK) {
		r = db_fail(st, sqlite3_errcode(st->db), "cannot look up");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		r = FERRY_E_NOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = db_fail(st, rc, "cannot look up a user");
		goto out;
	}
	h = sqlite3_column_text(s, 0);
	n = sqlite3_column_bytes(s, 0);
	if (h == NULL || n <= 0 || n >= FERRY_PASSWD_ENCODED_MAX) {
		r = ferry_errf(FERRY_E_IO, "%s: user '%s' has a malformed hash",
		    st->path, name);
		goto out;
	}
	memcpy(out, h, (size_t)n);
	out[n] = '\0';
	r = 0;
out:
	sqlite3_finalize(s);
	return r;
}

int
ferry_store_user_list(
    struct ferry_store *st, ferry_store_user_fn *fn, void *arg)
{
	sqlite3_stmt *s = NULL;
	struct ferry_store_user u;
	int rc, r;

	if ((r = prepare(st,
	         "SELECT u.name, u.created, u.updated, COUNT(c.serial), "
	         "COALESCE(MAX(c.issued), 0), COALESCE(u.disabled, 0), "
	         "(SELECT COALESCE(group_concat(name, ', '), '') FROM "
	         " (SELECT name FROM names WHERE user = u.name "
	         "  ORDER BY kind, name)), "
	         "(SELECT COALESCE(group_concat(name, ', '), '') FROM "
	         " (SELECT name FROM groups WHERE user = u.name "
	         "  ORDER BY name)) "
	         "FROM users u LEFT JOIN certs c ON c.user = u.name "
	         "GROUP BY u.name ORDER BY u.name",
	         &s)) != 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&u, 0, sizeof(u));
		u.name = (const char *)sqlite3_column_text(s, 0);
		u.created = (time_t)sqlite3_column_int64(s, 1);
		u.updated = (time_t)sqlite3_column_int64(s, 2);
		u.n_certs = (unsigned)sqlite3_column_int64(s, 3);
		u.last_issued = (time_t)sqlite3_column_int64(s, 4);
		u.disabled = (time_t)sqlite3_column_int64(s, 5);
		u.names = (const char *)sqlite3_column_text(s, 6);
		u.groups = (const char *)sqlite3_column_text(s, 7);
		if (u.names == NULL)
			u.names = "";
		if (u.groups == NULL)
			u.groups = "";
		if (u.name != NULL)
			fn(&u, arg);
	}
	if (rc != SQLITE_DONE)
		r = db_fail(st, rc, "cannot list users");
	sqlite3_finalize(s);
	return r;
}

int
ferry_store_event_list(struct ferry_store *st, const char *user, unsigned n,
    ferry_store_event_fn *fn, void *arg)
{
	sqlite3_stmt *s = NULL;
	struct ferry_store_event ev;
	int rc, r;

	if ((r = prepare(st,
	         "SELECT time, kind, user, addr, serial, detail FROM ("
	         "SELECT * FROM events WHERE ?1 IS NULL OR user = ?1 "
	         "ORDER BY id DESC LIMIT ?2) ORDER BY id",
	         &s)) != 0)
		return r;
	if (bind_text(s, 1, user) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, (int64_t)n) != SQLITE_OK) {
		r = db_fail(st, sqlite3_errcode(st->db), "cannot list events");
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ev.time = (time_t)sqlite3_column_int64(s, 0);
		ev.kind = (const char *)sqlite3_column_text(s, 1);
		ev.user = (const char *)sqlite3_column_text(s, 2);
		ev.addr = (const char *)sqlite3_column_text(s, 3);
		ev.serial = (const char *)sqlite3_column_text(s, 4);
		ev.detail = (const char *)sqlite3_column_text(s, 5);
		if (ev.kind != NULL)
			fn(&ev, arg);
	}
	if (rc != SQLITE_DONE)
		r = db_fail(st, rc, "cannot list events");
out:
	sqlite3_finalize(s);
	return r;
}

int
ferry_store_cert_add(struct ferry_store *st, const char *kind,
    const char *serial, const char *user, time_t not_before, time_t not_after,
    const char *addr)
{
	struct ferry_store_event ev = {
	    .kind = kind, .user = user, .addr = addr, .serial = serial};
	const char *t[] = {serial, user, addr};
	int64_t now = (int64_t)time(NULL);
	int64_t i[] = {(int64_t)not_before, (int64_t)not_after, now};
	int r;

	if ((r = begin(st)) != 0)
		return r;
	ev.time = (time_t)now;
	r = write1(st,
	    "INSERT INTO certs(serial, user, addr, not_before, not_after, "
	    "issued) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	    "cannot record the certificate", t, 3, i, 3, NULL);
	if (r == 0)
		r = event_insert(st, &ev);
	return commit(st, r);
}

int
ferry_store_cert_revoke(struct ferry_store *st, const char *serial,
    const char *user, time_t when, const char *addr)
{
	struct ferry_store_event ev = {.kind = FERRY_EV_REVOKE,
	    .user = user,
	    .addr = addr,
	    .serial = serial,
	    .time = when};
	const char *t[] = {serial};
	int64_t w = (int64_t)when;
	int r;

	if ((r = begin(st)) != 0)
		return r;
	r = write1(st,
	    "UPDATE certs SET revoked = ?2 WHERE serial = ?1 AND "
	    "revoked IS NULL",
	    "cannot record the revocation", t, 1, &w, 1, NULL);
	if (r == 0)
		r = event_insert(st, &ev);
	return commit(st, r);
}

/* Runs a SELECT with text parameters whose first row's first column is
 * text; *found is 0 if there is no row. out gets at most outlen - 1 bytes. */
static int
query_text(struct ferry_store *st, const char *sql, const char *const *texts,
    int n_texts, char *out, size_t outlen, int *found)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *v;
	int rc, r;

	*found = 0;
	out[0] = '\0';
	if ((r = prepare(st, sql, &s)) != 0)
		return r;
	for (int i = 0; i < n_texts; i++)
		if (bind_text(s, i + 1, texts[i]) != SQLITE_OK) {
			r = db_fail(
			    st, sqlite3_errcode(st->db), "cannot look up");
			goto out;
		}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*found = 1;
		v = sqlite3_column_text(s, 0);
		snprintf(out, outlen, "%s", v != NULL ? (const char *)v : "");
	} else if (rc != SQLITE_DONE) {
		r = db_fail(st, rc, "cannot look up");
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(s);
	return r;
}

/* FERRY_E_NOENT naming the account if there is none called name. */
static int
user_exists(struct ferry_store *st, const char *name)
{
	const char *t[] = {name};
	char v[8];
	int found = 0, r;

	if ((r = query_text(st, "SELECT 'y' FROM users WHERE name = ?1", t, 1,
	         v, sizeof(v), &found)) != 0)
		return r;
	return found ? 0 : ferry_errf(FERRY_E_NOENT, "no user '%s'", name);
}

int
ferry_store_user_set_disabled(struct ferry_store *st, const char *name,
    int disabled, const char *why, const char *addr)
{
	struct ferry_store_event ev = {
	    .kind = disabled ? FERRY_EV_USER_DISABLE : FERRY_EV_USER_ENABLE,
	    .user = name,
	    .addr = addr,
	    .detail = why};
	const char *t[] = {name};
	int64_t now = (int64_t)time(NULL);
	int changes = 0, r;

	if ((r = begin(st)) != 0)
		return r;
	r = write1(st,
	    disabled ? "UPDATE users SET disabled = COALESCE(disabled, ?2) "
	               "WHERE name = ?1"
	             : "UPDATE users SET disabled = NULL WHERE name = ?1",
	    "cannot change the account", t, 1, &now, disabled ? 1 : 0,
	    &changes);
	if (r == 0 && changes == 0)
		r = ferry_errf(FERRY_E_NOENT, "no user '%s'", name);
	if (r == 0)
		r = event_insert(st, &ev);
	return commit(st, r);
}

int
ferry_store_user_disabled(
    struct ferry_store *st, const char *name, time_t *when)
{
	const char *t[] = {name};
	char v[32];
	int found = 0, r;

	*when = 0;
	if ((r = query_text(st,
	         "SELECT COALESCE(disabled, 0) FROM users WHERE name = ?1", t,
	         1, v, sizeof(v), &found)) != 0)
		return r;
	if (!found)
		return ferry_errf(FERRY_E_NOENT, "no user '%s'", name);
	*when = (time_t)strtoll(v, NULL, 10);
	return 0;
}

static const char *
host_kind_name(enum ferry_host_kind kind)
{
	return kind == FERRY_HOST_IP ? "ip" : "dns";
}

/* Who holds norm: FERRY_E_EXIST naming them, 0 if nobody. */
static int
name_taken(struct ferry_store *st, const char *norm)
{
	char owner[FERRY_MAX_ID + 1];
	int reserved = 0, r;

	r = ferry_store_name_owner(st, norm, owner, &reserved);
	if (r == FERRY_E_NOENT)
		return 0;
	if (r != 0)
		return r;
	if (reserved)
		return ferry_errf(FERRY_E_EXIST,
		    "'%s' is reserved for authd itself; no member may hold it",
		    norm);
	return ferry_errf(
	    FERRY_E_EXIST, "'%s' is already bound to '%s'", norm, owner);
}

/* Binds name to user inside the caller's transaction. */
static int
name_bind_tx(struct ferry_store *st, const char *user, const char *name)
{
	struct ferry_store_event ev = {
	    .kind = FERRY_EV_NAME_BIND, .user = user, .addr = "cli"};
	char norm[FERRY_MAX_HOSTNAME + 1], count[32];
	enum ferry_host_kind kind;
	const char *t[] = {norm, NULL, user};
	int found = 0, r;

	if ((r = ferry_host_normalize(name, norm, &kind)) != 0)
		return r;
	t[1] = host_kind_name(kind);
	ev.detail = norm;
	if ((r = user_exists(st, user)) != 0 ||
	    (r = name_taken(st, norm)) != 0 ||
	    (r = query_text(st, "SELECT COUNT(*) FROM names WHERE user = ?1",
	         t + 2, 1, count, sizeof(count), &found)) != 0)
		return r;
	if (strtol(count, NULL, 10) >= FERRY_MAX_HOST_NAMES)
		return ferry_errf(FERRY_E_TOOBIG,
		    "'%s' already holds %d names, the most one account may",
		    user, FERRY_MAX_HOST_NAMES);
	if ((r = write1(st,
	         "INSERT INTO names(name, kind, user) VALUES(?1, ?2, ?3)",
	         "cannot bind the name", t, 3, NULL, 0, NULL)) != 0)
		return r;
	return event_insert(st, &ev);
}

int
ferry_store_name_bind(
    struct ferry_store *st, const char *user, const char *name)
{
	int r;

	if ((r = begin(st)) != 0)
		return r;
	return commit(st, name_bind_tx(st, user, name));
}

int
ferry_store_name_unbind(
    struct ferry_store *st, const char *user, const char *name)
{
	struct ferry_store_event ev = {
	    .kind = FERRY_EV_NAME_UNBIND, .user = user, .addr = "cli"};
	char norm[FERRY_MAX_HOSTNAME + 1];
	enum ferry_host_kind kind;
	const char *t[] = {norm, user};
	int changes = 0, r;

	if ((r = ferry_host_normalize(name, norm, &kind)) != 0)
		return r;
	ev.detail = norm;
	if ((r = begin(st)) != 0)
		return r;
	r = write1(st, "DELETE FROM names WHERE name = ?1 AND user = ?2",
	    "cannot unbind the name", t, 2, NULL, 0, &changes);
	if (r == 0 && changes == 0)
		r = ferry_errf(
		    FERRY_E_NOENT, "'%s' is not bound to '%s'", norm, user);
	if (r == 0)
		r = event_insert(st, &ev);
	return commit(st, r);
}

int
ferry_store_name_owner(struct ferry_store *st, const char *name,
    char owner[FERRY_MAX_ID + 1], int *reserved)
{
	char norm[FERRY_MAX_HOSTNAME + 1], v[FERRY_MAX_ID + 1];
	enum ferry_host_kind kind;
	const char *t[] = {norm};
	int found = 0, r;

	owner[0] = '\0';
	*reserved = 0;
	if ((r = ferry_host_normalize(name, norm, &kind)) != 0)
		return r;
	if ((r = query_text(st,
	         "SELECT COALESCE(user, '') FROM names WHERE name = ?1", t, 1,
	         v, sizeof(v), &found)) != 0)
		return r;
	if (!found)
		return FERRY_E_NOENT;
	*reserved = v[0] == '\0';
	memcpy(owner, v, sizeof(v));
	return 0;
}

int
ferry_store_name_reserve(
    struct ferry_store *st, const char *name, const char *what)
{
	struct ferry_store_event ev = {
	    .kind = FERRY_EV_NAME_RESERVE, .addr = "authd"};
	char norm[FERRY_MAX_HOSTNAME + 1], owner[FERRY_MAX_ID + 1];
	enum ferry_host_kind kind;
	const char *t[] = {norm, NULL, what};
	int reserved = 0, r;

	if ((r = ferry_host_normalize(name, norm, &kind)) != 0)
		return r;
	t[1] = host_kind_name(kind);
	ev.detail = norm;
	if ((r = begin(st)) != 0)
		return r;
	r = ferry_store_name_owner(st, norm, owner, &reserved);
	if (r == 0 && reserved)
		return commit(st, 0); /* nothing to write: no event either */
	if (r == 0)
		r = ferry_errf(FERRY_E_EXIST,
		    "'%s' is bound to member '%s'; unbind it with 'ferry user "
		    "dns %s --del %s'",
		    norm, owner, owner, norm);
	else if (r == FERRY_E_NOENT)
		r = write1(st,
		    "INSERT INTO names(name, kind, reserved) VALUES(?1, ?2, "
		    "?3)",
		    "cannot reserve the name", t, 3, NULL, 0, NULL);
	if (r == 0)
		r = event_insert(st, &ev);
	return commit(st, r);
}

static int
group_change_tx(
    struct ferry_store *st, const char *user, const char *group, int add)
{
	struct ferry_store_event ev = {
	    .kind = add ? FERRY_EV_GROUP_ADD : FERRY_EV_GROUP_DEL,
	    .user = user,
	    .addr = "cli",
	    .detail = group};
	const char *t[] = {user, group};
	int changes = 0, r;

	char count[32];
	int found = 0;

	if ((r = ferry_group_check(group)) != 0 ||
	    (r = user_exists(st, user)) != 0 ||
	    (add && (r = query_text(st,
	                 "SELECT COUNT(*) FROM groups WHERE user = ?1", t, 1,
	                 count, sizeof(count), &found)) != 0))
		return r;
	if (add && strtol(count, NULL, 10) >= FERRY_MAX_GROUPS)
		return ferry_errf(FERRY_E_TOOBIG,
		    "'%s' is already in %d groups, the most a certificate "
		    "carries",
		    user, FERRY_MAX_GROUPS);
	r = write1(st,
	    add ? "INSERT INTO groups(user, name) VALUES(?1, ?2)"
	        : "DELETE FROM groups WHERE user = ?1 AND name = ?2",
	    "cannot change the groups", t, 2, NULL, 0, &changes);
	if (r == FERRY_E_EXIST)
		return ferry_errf(FERRY_E_EXIST,
		    "'%s' is already in group '%s'", user, group);
	if (r == 0 && changes == 0)
		return ferry_errf(
		    FERRY_E_NOENT, "'%s' is not in group '%s'", user, group);
	return r != 0 ? r : event_insert(st, &ev);
}

static int
group_change(
    struct ferry_store *st, const char *user, const char *group, int add)
{
	int r;

	if ((r = begin(st)) != 0)
		return r;
	return commit(st, group_change_tx(st, user, group, add));
}

int
ferry_store_group_add(
    struct ferry_store *st, const char *user, const char *group)
{
	return group_change(st, user, group, 1);
}

int
ferry_store_group_del(
    struct ferry_store *st, const char *user, const char *group)
{
	return group_change(st, user, group, 0);
}

int
ferry_store_bindings(struct ferry_store *st, const char *user,
    ferry_store_binding_fn *fn, void *arg)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if ((r = prepare(st,
	         "SELECT kind, name FROM (SELECT kind, name, 0 AS o FROM "
	         "names WHERE user = ?1 UNION ALL SELECT 'group', name, 1 "
	         "FROM groups WHERE user = ?1) ORDER BY o, kind, name",
	         &s)) != 0)
		return r;
	if (bind_text(s, 1, user) != SQLITE_OK) {
		r = db_fail(
		    st, sqlite3_errcode(st->db), "cannot list bindings");
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(s, 0);
		const char *v = (const char *)sqlite3_column_text(s, 1);

		if (k != NULL && v != NULL)
			fn(k, v, arg);
	}
	if (rc != SQLITE_DONE)
		r = db_fail(st, rc, "cannot list bindings");
out:
	sqlite3_finalize(s);
	return r;
}
