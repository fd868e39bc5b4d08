/* authd.h - the enrollment server: EST (RFC 7030) over HTTPS on libevent.
 * cmd_authd.c parses the command line into a struct authd_cfg; authd.c serves. */
#ifndef FERRY_AUTHD_H
#define FERRY_AUTHD_H

#include <stddef.h>
#include <time.h>

#define AUTHD_DEFAULT_PORT "8443"

struct authd_cfg {
	const char *ca_dir;
	const char *db_path;
	const char *listen; /* "HOST:PORT", port given */
	const char *listen_host; /* the HOST part, without brackets */
	int cert_days; /* issued certificates' validity */
	int crl_days; /* the CRL's nextUpdate */
	int timeout_s; /* per connection: idle read/write */
	int max_conns; /* open connections; more wait in the backlog */
	int allow_tls12;
	const char *const *names; /* extra names for authd's own certificate */
	size_t n_names;
	const char *const *allow_dns; /* DNS suffixes CSRs may ask for */
	size_t n_allow_dns;
};

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
