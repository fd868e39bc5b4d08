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

/* What an account holds besides its password: see the bindings below. */
struct ferry_store_grants {
	const char *const *names; /* DNS names and IPs */
	size_t n_names;
	const char *const *groups;
	size_t n_groups;
};
/*
 * Accounts. name must pass ferry_id_check; hash is a passwd.h string.
 * add creates the account with grants (may be NULL) in one transaction:
 * FERRY_E_EXIST if it is present or a name is taken, and then nothing is
 * written.
 */
int ferry_store_user_add(struct ferry_store *st, const char *name,
    const char *hash, const struct ferry_store_grants *grants) FERRY_MUST_CHECK;
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
	time_t disabled; /* when it was disabled; 0 if it is enabled */
	const char *names; /* bound host names, ", "-separated; "" if none */
	const char *groups; /* its groups likewise */
};
typedef void ferry_store_user_fn(const struct ferry_store_user *u, void *arg);
/* Calls fn for each account, ordered by name. */
int ferry_store_user_list(struct ferry_store *st, ferry_store_user_fn *fn,
    void *arg) FERRY_MUST_CHECK;

/*
 * Disabled accounts keep their record and bindings but cannot enroll or
 * renew. set_disabled records a user-disable/user-enable event with why
 * (may be NULL) and addr; FERRY_E_NOENT if there is no such account.
 * user_disabled sets *when to the time it was disabled, 0 if enabled.
 */
int ferry_store_user_set_disabled(struct ferry_store *st, const char *name,
    int disabled, const char *why, const char *addr) FERRY_MUST_CHECK;
int ferry_store_user_disabled(
    struct ferry_store *st, const char *name, time_t *when) FERRY_MUST_CHECK;

/*
 * Host names bound to accounts: authd puts a DNS name or IP in a
 * certificate only if it is bound to the account that asks. A name belongs
 * to at most one account, or is reserved for authd itself. Names go through
 * ferry_host_normalize first; every change records an event.
 *
 * bind: FERRY_E_EXIST (detail names the owner, or says reserved) if the
 * name is taken, FERRY_E_NOENT if there is no such account, FERRY_E_TOOBIG
 * past FERRY_MAX_HOST_NAMES. unbind: FERRY_E_NOENT if name is not bound to
 * user. owner: the account into owner, "" and 0 with *reserved set if it
 * is authd's, FERRY_E_NOENT (no detail) if nobody holds it.
 */
int ferry_store_name_bind(struct ferry_store *st, const char *user,
    const char *name) FERRY_MUST_CHECK;
int ferry_store_name_unbind(struct ferry_store *st, const char *user,
    const char *name) FERRY_MUST_CHECK;
int ferry_store_name_owner(struct ferry_store *st, const char *name,
    char owner[FERRY_MAX_ID + 1], int *reserved) FERRY_MUST_CHECK;
/*
 * Reserves name for authd (what says whose: "authd --name"). Idempotent.
 * FERRY_E_EXIST, naming the member, if an account holds it.
 */
int ferry_store_name_reserve(struct ferry_store *st, const char *name,
    const char *what) FERRY_MUST_CHECK;

/*
 * Groups set on an account, carried in its certificates. add: FERRY_E_EXIST
 * if it is in the group; del: FERRY_E_NOENT if it is not.
 */
int ferry_store_group_add(struct ferry_store *st, const char *user,
    const char *group) FERRY_MUST_CHECK;
int ferry_store_group_del(struct ferry_store *st, const char *user,
    const char *group) FERRY_MUST_CHECK;

/* One binding of an account: kind "dns", "ip" or "group". */
typedef void ferry_store_binding_fn(
    const char *kind, const char *value, void *arg);
/* Calls fn for each binding of user, names first, each kind sorted. */
int ferry_store_bindings(struct ferry_store *st, const char *user,
    ferry_store_binding_fn *fn, void *arg) FERRY_MUST_CHECK;

/* Kinds of audit event; the strings are stored and stable. */
#define FERRY_EV_ENROLL "enroll"
#define FERRY_EV_RENEW "renew"
#define FERRY_EV_LOGIN_FAILED "login-failed"
#define FERRY_EV_REFUSED "refused"
#define FERRY_EV_REVOKE "revoke"
#define FERRY_EV_USER_ADD "user-add"
#define FERRY_EV_USER_DEL "user-del"
#define FERRY_EV_USER_PASSWD "user-passwd"
#define FERRY_EV_USER_DISABLE "user-disable"
#define FERRY_EV_USER_ENABLE "user-enable"
#define FERRY_EV_NAME_BIND "name-bind"
#define FERRY_EV_NAME_UNBIND "name-unbind"
#define FERRY_EV_NAME_RESERVE "name-reserve"
#define FERRY_EV_GROUP_ADD "group-add"
#define FERRY_EV_GROUP_DEL "group-del"

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
