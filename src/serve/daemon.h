/* daemon.h - the accepting loop shared by `ferry serve` and `ferry echo-server`.
 * The parent only accepts; each connection is handshaken and served in its own child. */
#ifndef FERRY_DAEMON_H
#define FERRY_DAEMON_H

#include "ferry/admit.h"
#include "ferry/conn.h"
#include "ferry/tls.h"

struct daemon_cfg {
	const char *name; /* "serve", for log lines */
	const char *listen; /* HOST:PORT */
	struct ferry_tls *tls; /* replaced when the identity files change */
	int timeout_ms; /* handshake and idle timeout per connection */
	int max_conns; /* sessions (past the handshake) at once; more: busy */
	/* The handshake pool (--max-startups, --per-source, --login-grace). */
	struct ferry_admit_policy admit;
	struct ferry_admit *pool; /* set by daemon_run; the policy in force */
	/* Runs in the child after a verified handshake; 0 or FERRY_E_*. */
	int (*session)(
	    struct ferry_conn *c, void *arg, char *summary, size_t summary_len);
	/*
	 * Runs in the child instead of session when --max-conns sessions run
	 * already: tells the client, in the protocol's way, that the server
	 * is busy with that many. May be NULL (the connection just closes).
	 */
	void (*busy)(struct ferry_conn *c, void *arg, int sessions);
	/*
	 * Runs in the parent on SIGHUP, before the identity is checked: may
	 * change timeout_ms, max_conns, admit and what arg points to; new
	 * connections get the new values, running ones keep theirs. NULL:
	 * SIGHUP only re-checks the identity.
	 */
	void (*reload)(struct daemon_cfg *cfg);
	void *arg;
	/*
	 * Least privilege (sandbox.h), both may be NULL. confine runs in the
	 * parent once it listens, before the first connection (the user
	 * switch and Landlock); its failure stops the daemon. confine_child
	 * runs in the child right after a verified handshake, before any
	 * request is read (seccomp); its failure ends the connection.
	 */
	int (*confine)(void *confine_arg);
	void *confine_arg;
	int (*confine_child)(void);
};

/* The largest max_conns (--max-conns' bound): a reload may raise it. */
#define DAEMON_MAX_CONNS 10000

/*
 * Listens and serves until SIGINT or SIGTERM, then stops accepting, asks
 * running connections to finish (SIGTERM) and returns 0. Errors setting up
 * the listener are returned as FERRY_E_*. Connections still in their
 * handshake are admitted by cfg->admit (admit.h): a pool of their own, a
 * cap per address and a grace time; sessions count against max_conns.
 * SIGHUP runs cfg->reload. systemd is told READY=1 once listening,
 * RELOADING=1 then READY=1 around a SIGHUP, and STOPPING=1 (notify.h).
 */
int daemon_run(struct daemon_cfg *cfg);

#endif
