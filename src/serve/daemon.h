/* daemon.h - the accepting loop shared by `ferry serve` and `ferry echo-server`.
 * The parent only accepts; each connection is handshaken and served in its own child. */
#ifndef FERRY_DAEMON_H
#define FERRY_DAEMON_H

#include "ferry/conn.h"
#include "ferry/tls.h"

struct daemon_cfg {
	const char *name; /* "serve", for log lines */
	const char *listen; /* HOST:PORT */
	struct ferry_tls *tls; /* replaced when the identity files change */
	int timeout_ms; /* handshake and idle timeout per connection */
	int max_conns; /* connections served at once; more are turned away */
	/* Runs in the child after a verified handshake; 0 or FERRY_E_*. */
	int (*session)(
	    struct ferry_conn *c, void *arg, char *summary, size_t summary_len);
	void *arg;
};

/*
 * Listens and serves until SIGINT or SIGTERM, then stops accepting, asks
 * running connections to finish (SIGTERM) and returns 0. Errors setting up
 * the listener are returned as FERRY_E_*.
 */
int daemon_run(struct daemon_cfg *cfg);

#endif
