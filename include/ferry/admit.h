/* admit.h - who may start a handshake: the pool of connections that have
 * not authenticated yet (OpenSSH's MaxStartups and LoginGraceTime, per address). */
#ifndef FERRY_ADMIT_H
#define FERRY_ADMIT_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/err.h"

/* Defaults of the pre-authentication pool (docs/internals/admit.md). */
#define FERRY_ADMIT_START 10
#define FERRY_ADMIT_RATE 30
#define FERRY_ADMIT_FULL 60
#define FERRY_ADMIT_PER_SOURCE 10
#define FERRY_ADMIT_GRACE_S 10
/* Bounds a command line may set. */
#define FERRY_ADMIT_MAX_FULL 1000
#define FERRY_ADMIT_MAX_GRACE_S 600

/* A field left 0 takes its default (ferry_admit_new). */
struct ferry_admit_policy {
	int start; /* below this many unauthenticated: always admitted */
	int rate; /* percent dropped at start, rising to 100 at full */
	int full; /* the pool's size */
	int per_source; /* unauthenticated connections one address may hold */
	int grace_s; /* seconds to finish the handshake */
};

/*
 * Parses "START:RATE:FULL" (or "FULL") into p's start, rate and full:
 * 1 <= START <= FULL <= FERRY_ADMIT_MAX_FULL, 0 <= RATE <= 100. FERRY_E_USAGE
 * with the reason otherwise; p is untouched then.
 */
int ferry_admit_parse(
    const char *spec, struct ferry_admit_policy *p) FERRY_MUST_CHECK;

/* What to do with a new connection (ferry_admit_decide). */
enum ferry_admit_verdict {
	FERRY_ADMIT_YES = 0, /* take it */
	FERRY_ADMIT_EVICT, /* take it, after ending *victim */
	FERRY_ADMIT_DROP_SOURCE, /* its address holds per_source already */
	FERRY_ADMIT_DROP_EARLY, /* random early drop between start and full */
	FERRY_ADMIT_DROP_FULL, /* the pool is full and nobody may be evicted */
};

/* The pool: at most policy.full entries, each a key and its address. */
struct ferry_admit;

/* Caller frees with ferry_admit_free. Zero fields of p take defaults. */
int ferry_admit_new(const struct ferry_admit_policy *p,
    struct ferry_admit **out) FERRY_MUST_CHECK;
void ferry_admit_free(struct ferry_admit *a);
/* The policy in force, defaults filled in. Borrowed; valid until free. */
const struct ferry_admit_policy *ferry_admit_policy(
    const struct ferry_admit *a);

/*
 * Decides about a connection from host (an address without port), given
 * a uniform random number r in [0, 1). For FERRY_ADMIT_EVICT, *victim is
 * the key to end and remove first. Changes nothing.
 */
enum ferry_admit_verdict ferry_admit_decide(
    const struct ferry_admit *a, const char *host, double r, uint64_t *victim);
/* Enters key (unique, not 0) from host at time now (seconds). */
int ferry_admit_add(struct ferry_admit *a, uint64_t key, const char *host,
    double now) FERRY_MUST_CHECK;
/* Takes key out (authenticated, or gone); 0 if it was there, else FERRY_E_NOENT. */
int ferry_admit_remove(struct ferry_admit *a, uint64_t key);
/* Entries now, and those from host. */
size_t ferry_admit_count(const struct ferry_admit *a, const char *host);
/*
 * The first key whose grace ran out by now, or 0; seconds until the next
 * one runs out in *next (-1 if the pool is empty).
 */
uint64_t ferry_admit_expired(
    const struct ferry_admit *a, double now, double *next);
/*
 * Logs a verdict other than YES for the connection of name ("serve") from
 * host: the first of each kind at once, then one line a second with how
 * many there were.
 */
void ferry_admit_log(struct ferry_admit *a, enum ferry_admit_verdict v,
    const char *name, const char *host);
/* A uniform random number in [0, 1) for ferry_admit_decide. */
double ferry_admit_random(void);
/*
 * The address part of "host:port" or "[v6]:port" into out (size n): the
 * key by which connections are counted per source.
 */
void ferry_admit_host(const char *peer, char *out, size_t n);

#endif
