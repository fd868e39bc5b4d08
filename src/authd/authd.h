/* authd.h - the enrollment server: EST (RFC 7030) over HTTPS on libevent.
 * cmd_authd.c parses the command line into a struct authd_cfg; authd.c serves. */
#ifndef FERRY_AUTHD_H
#define FERRY_AUTHD_H

#include <stddef.h>
#include <time.h>

#include "ferry/admit.h"
#include "ferry/est.h"
#include "ferry/limits.h"
#include "ferry/store.h"

#define AUTHD_DEFAULT_PORT "8443"

struct authd_cfg {
	const char *ca_dir;
	const char *db_path;
	const char *listen; /* "HOST:PORT", port given */
	const char *listen_host; /* the HOST part, without brackets */
	int cert_days; /* issued certificates' validity */
	int crl_days; /* the CRL's nextUpdate */
	int timeout_s; /* per connection: idle read/write */
	int max_conns; /* past the TLS handshake; more are answered 503 */
	/* The handshake pool: --max-startups, --per-source, --login-grace. */
	struct ferry_admit_policy admit;
	int allow_tls12;
	const char *const *names; /* extra names for authd's own certificate */
	size_t n_names;
	const char *const *allow_dns; /* DNS suffixes CSRs may ask for */
	size_t n_allow_dns;
	const char *user; /* --user: switched to once listening; NULL: none */
	int allow_root; /* --allow-root */
	const char *config; /* --config FILE, for log lines; NULL: none */
	/*
	 * On SIGHUP: fills *next with the settings now (the file, the
	 * command line over it), whose strings stay valid until the next
	 * call; or returns nonzero with the one-line reason in why. NULL:
	 * SIGHUP changes nothing.
	 */
	int (*reload)(struct authd_cfg *next, char *why, size_t len);
};

/*
 * Listening, with the CA and the database open: switches to cfg->user and
 * confines file access to the CA directory and the database's directory
 * (sandbox.h). 0 or FERRY_E_*.
 */
int authd_confine(const struct authd_cfg *cfg);

/* What one certificate authd issues will name besides the member (grant.c). */
struct grant {
	char *dns[FERRY_MAX_HOST_NAMES]; /* normalized, owned */
	size_t n_dns;
	char *ips[FERRY_MAX_HOST_NAMES];
	size_t n_ips;
	char *groups[FERRY_MAX_GROUPS]; /* the account's, owned */
	size_t n_groups;
	int failed; /* a group could not be copied */
	char why[512]; /* the refusal; for a renewal, what was left out */
};
/*
 * Which of the names a request asks for user may hold: each must be bound
 * to user in st (so never one reserved for authd) and, for a DNS name, lie
 * under an --allow-dns suffix when any are given. An enrollment is refused
 * whole over one name: FERRY_E_ACCESS, or FERRY_E_USAGE for a name that
 * ferry_host_normalize refuses, with why. A renewal leaves such names out
 * and says so in why. The account's groups come along (ferry-group:
 * URIs). Free with grant_free, also after a failure.
 */
int grant_names(struct ferry_store *st, const struct authd_cfg *cfg,
    const char *user, const struct ferry_est_names *asked, int renew,
    struct grant *g);
void grant_free(struct grant *g);

/* Runs until SIGTERM/SIGINT. Returns 0 or a FERRY_E_* that stopped it. */
int authd_run(const struct authd_cfg *cfg);

/* In-memory failed-login counters (ratelimit.c). */
struct ratelimit;
struct ratelimit *ratelimit_new(unsigned threshold, size_t cap);
void ratelimit_free(struct ratelimit *rl);
/* Seconds until key may try again, 0 if it may now. */
unsigned ratelimit_wait(struct ratelimit *rl, const char *key, time_t now);
/* Counts a failure; returns the wait it imposes from now on (0: none yet). */
unsigned ratelimit_fail(struct ratelimit *rl, const char *key, time_t now);
void ratelimit_clear(struct ratelimit *rl, const char *key);

#endif
