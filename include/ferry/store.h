/* store.h - authd's state: user accounts, issued certificates, audit events.
 * One small interface over SQLite (WAL) today, so another database can replace it. */
#ifndef FERRY_STORE_H
#define FERRY_STORE_H

#include <stdint.h>
#include <time.h>

#include "ferry/err.h"
#include "ferry/limits.h"
#include "ferry/passwd.h"

/* An open database. Opaque; one per thread. */
struct ferry_store;

/*
 * Opens the database at path, creating it (mode 0600, exclusively) and its
 * tables when create is set and it does not exist. FERRY_E_NOENT if it is
 * missing and !create. Caller frees with ferry_store_close.
 */
int ferry_store_open(
    const char *path, int create, struct ferry_store **out) FERRY_MUST_CHECK;
void ferry_store_close(struct ferry_store *st);

/* Accounts. name must pass ferry_id_check; hash is a passwd.h string. */
int ferry_store_user_add(struct ferry_store *st, const char *name,
    const char *hash) FERRY_MUST_CHECK; /* FERRY_E_EXIST if present */
int ferry_store_user_set_hash(struct ferry_store *st, const char *name,
    const char *hash) FERRY_MUST_CHECK; /* FERRY_E_NOENT if absent */
int ferry_store_user_del(
    struct ferry_store *st, const char *name) FERRY_MUST_CHECK;
/* The stored hash into out; FERRY_E_NOENT (no detail) if no such user. */
int ferry_store_user_hash(struct ferry_store *st, const char *name,
    char out[FERRY_PASSWD_ENCODED_MAX]) FERRY_MUST_CHECK;

/* What list shows of an account: never the hash. */
struct ferry_store_user {
	const char *name; /* borrowed for the callback's duration */
	time_t created;
	time_t updated; /* last password change */
	unsigned n_certs; /* certificates issued to the name */
	time_t last_issued; /* 0 if none */
};
typedef void ferry_store_user_fn(const struct ferry_store_user *u, void *arg);
/* Calls fn for each account, ordered by name. */
int ferry_store_user_list(struct ferry_store *st, ferry_store_user_fn *fn,
    void *arg) FERRY_MUST_CHECK;

/* Kinds of audit event; the strings are stored and stable. */
#define FERRY_EV_ENROLL "enroll"
#define FERRY_EV_RENEW "renew"
#define FERRY_EV_LOGIN_FAILED "login-failed"
#define FERRY_EV_REFUSED "refused"
#define FERRY_EV_REVOKE "revoke"
#define FERRY_EV_USER_ADD "user-add"
#define FERRY_EV_USER_DEL "user-del"
#define FERRY_EV_USER_PASSWD "user-passwd"

/* One audit record; any string may be NULL. time 0: now. */
struct ferry_store_event {
	time_t time;
	const char *kind;
	const char *user;
	const char *addr; /* client address, "cli" for local commands */
	const char *serial; /* upper-case hex */
	const char *detail;
};
int ferry_store_event_add(struct ferry_store *st,
    const struct ferry_store_event *ev) FERRY_MUST_CHECK;
typedef void ferry_store_event_fn(
    const struct ferry_store_event *ev, void *arg);
/* The last n events (oldest first), optionally only those of user. */
int ferry_store_event_list(struct ferry_store *st, const char *user, unsigned n,
    ferry_store_event_fn *fn, void *arg) FERRY_MUST_CHECK;

/*
 * Records an issued certificate and its event (kind FERRY_EV_ENROLL or
 * FERRY_EV_RENEW) in one transaction.
 */
int ferry_store_cert_add(struct ferry_store *st, const char *kind,
    const char *serial, const char *user, time_t not_before, time_t not_after,
    const char *addr) FERRY_MUST_CHECK;
/* Marks a certificate revoked (if the store knows it) and records the event. */
int ferry_store_cert_revoke(struct ferry_store *st, const char *serial,
    const char *user, time_t when, const char *addr) FERRY_MUST_CHECK;

#endif
