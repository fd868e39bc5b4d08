/* admit.c - the pool of connections still in their handshake: its size,
 * random early drop, a cap per address and eviction in favour of new addresses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "ferry/admit.h"
#include "ferry/log.h"

/* "[v6]:port" -> 47 characters of address at most, with brackets. */
#define HOST_MAX 64

struct entry {
	uint64_t key; /* 0: free */
	double since;
	char host[HOST_MAX];
};

struct ferry_admit {
	struct ferry_admit_policy p;
	struct entry *e; /* p.full entries */
	size_t n;
	/* ferry_admit_log: refusals of each verdict since its last line. */
	unsigned count[FERRY_ADMIT_DROP_FULL + 1];
	time_t said[FERRY_ADMIT_DROP_FULL + 1];
};

static int
parse_num(const char **s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(*s, &end, 10);
	if (errno != 0 || end == *s || *(*s) == '-' || *(*s) == '+' ||
	    v < min || v > max)
		return FERRY_E_USAGE;
	*s = end;
	*out = v;
	return 0;
}

int
ferry_admit_parse(const char *spec, struct ferry_admit_policy *p)
{
	const char *s = spec;
	long v[3] = {0, 0, 0};
	int i, r = FERRY_E_USAGE;

	for (i = 0; i < 3; i++) {
		if ((r = parse_num(&s, 0, FERRY_ADMIT_MAX_FULL, &v[i])) != 0)
			goto out;
		if (*s != ':')
			break;
		s++;
	}
	r = FERRY_E_USAGE;
	if (*s != '\0' || (i != 0 && i != 2))
		goto out;
	if (i == 0) { /* "FULL": no early drop */
		v[2] = v[0];
		v[1] = 100;
	}
	if (v[0] < 1 || v[2] < v[0] || v[1] > 100)
		goto out;
	p->start = (int)v[0];
	p->rate = (int)v[1];
	p->full = (int)v[2];
	return 0;
out:
	return ferry_errf(r,
	    "'%s' is not START:RATE:FULL with 1 <= START <= FULL <= %d and "
	    "RATE a percentage",
	    spec, FERRY_ADMIT_MAX_FULL);
}

int
ferry_admit_new(const struct ferry_admit_policy *p, struct ferry_admit **out)
{
	struct ferry_admit *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (a == NULL)
		return FERRY_E_NOMEM;
	a->p = *p;
	if (a->p.full <= 0) {
		a->p.start = FERRY_ADMIT_START;
		a->p.rate = FERRY_ADMIT_RATE;
		a->p.full = FERRY_ADMIT_FULL;
	}
	if (a->p.start <= 0 || a->p.start > a->p.full)
		a->p.start = a->p.full;
	if (a->p.per_source <= 0)
		a->p.per_source = FERRY_ADMIT_PER_SOURCE;
	if (a->p.grace_s <= 0)
		a->p.grace_s = FERRY_ADMIT_GRACE_S;
	if ((a->e = calloc((size_t)a->p.full, sizeof(*a->e))) == NULL) {
		free(a);
		return FERRY_E_NOMEM;
	}
	*out = a;
	return 0;
}

void
ferry_admit_free(struct ferry_admit *a)
{
	if (a == NULL)
		return;
	free(a->e);
	free(a);
}

const struct ferry_admit_policy *
ferry_admit_policy(const struct ferry_admit *a)
{
	return &a->p;
}

size_t
ferry_admit_count(const struct ferry_admit *a, const char *host)
{
	size_t n = 0;

	if (host == NULL)
		return a->n;
	for (int i = 0; i < a->p.full; i++)
		if (a->e[i].key != 0 && strcmp(a->e[i].host, host) == 0)
			n++;
	return n;
}

/*
 * The oldest entry of the address holding the most entries (ties: the
 * address whose oldest entry is oldest); its count in *most.
 */
static const struct entry *
heaviest(const struct ferry_admit *a, size_t *most)
{
	const struct entry *best = NULL;

	*most = 0;
	for (int i = 0; i < a->p.full; i++) {
		const struct entry *x = &a->e[i], *old = x;
		size_t n = 0;

		if (x->key == 0)
			continue;
		/* Counted at the address's oldest entry only. */
		for (int j = 0; j < a->p.full; j++)
			if (a->e[j].key != 0 &&
			    strcmp(a->e[j].host, x->host) == 0) {
				n++;
				if (a->e[j].since < old->since)
					old = &a->e[j];
			}
		if (old != x)
			continue;
		if (n > *most ||
		    (n == *most && best != NULL && x->since < best->since)) {
			*most = n;
			best = x;
		}
	}
	return best;
}

enum ferry_admit_verdict
ferry_admit_decide(
    const struct ferry_admit *a, const char *host, double r, uint64_t *victim)
{
	size_t mine = ferry_admit_count(a, host), most;
	const struct entry *v;
	double drop;

	*victim = 0;
	if (mine >= (size_t)a->p.per_source)
		return FERRY_ADMIT_DROP_SOURCE;
	if (a->n < (size_t)a->p.start)
		return FERRY_ADMIT_YES;
	if (a->n < (size_t)a->p.full) {
		/* An address with no handshake under way is never dropped early. */
		if (mine == 0)
			return FERRY_ADMIT_YES;
		drop = (a->p.rate + (100.0 - a->p.rate) *
		                        (double)(a->n - (size_t)a->p.start) /
		                        (double)(a->p.full - a->p.start)) /
		       100.0;
		return r < drop ? FERRY_ADMIT_DROP_EARLY : FERRY_ADMIT_YES;
	}
	/*
	 * Full: a newcomer evicts the oldest handshake of the address that
	 * holds the most, if that address holds more than the newcomer would
	 * after the swap. So many sockets from few addresses cannot keep
	 * one more address out.
	 */
	v = heaviest(a, &most);
	if (v != NULL && (mine == 0 || most > mine + 1)) {
		*victim = v->key;
		return FERRY_ADMIT_EVICT;
	}
	return FERRY_ADMIT_DROP_FULL;
}

int
ferry_admit_add(
    struct ferry_admit *a, uint64_t key, const char *host, double now)
{
	if (key == 0)
		return FERRY_E_INTERNAL;
	for (int i = 0; i < a->p.full; i++)
		if (a->e[i].key == 0) {
			a->e[i].key = key;
			a->e[i].since = now;
			snprintf(
			    a->e[i].host, sizeof(a->e[i].host), "%s", host);
			a->n++;
			return 0;
		}
	return FERRY_E_BUSY;
}

int
ferry_admit_remove(struct ferry_admit *a, uint64_t key)
{
	if (key == 0)
		return FERRY_E_NOENT;
	for (int i = 0; i < a->p.full; i++)
		if (a->e[i].key == key) {
			memset(&a->e[i], 0, sizeof(a->e[i]));
			a->n--;
			return 0;
		}
	return FERRY_E_NOENT;
}

uint64_t
ferry_admit_expired(const struct ferry_admit *a, double now, double *next)
{
	uint64_t key = 0;

	*next = -1;
	for (int i = 0; i < a->p.full; i++) {
		double left;

		if (a->e[i].key == 0)
			continue;
		left = a->e[i].since + a->p.grace_s - now;
		if (left <= 0 && key == 0)
			key = a->e[i].key;
		if (left < 0)
			left = 0;
		if (*next < 0 || left < *next)
			*next = left;
	}
	return key;
}

double
ferry_admit_random(void)
{
	uint32_t v;

	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		v = (uint32_t)random();
	return (double)v / 4294967296.0;
}

void
ferry_admit_host(const char *peer, char *out, size_t n)
{
	const char *close = strchr(peer, ']');
	const char *colon = strrchr(peer, ':');
	size_t len;

	if (peer[0] == '[' && close != NULL)
		len = (size_t)(close - peer) + 1;
	else if (colon != NULL && strchr(peer, ':') == colon)
		len = (size_t)(colon - peer);
	else
		len = strlen(peer); /* a bare address, v4 or v6 */
	snprintf(out, n, "%.*s", (int)len, peer);
}

void
ferry_admit_log(struct ferry_admit *a, enum ferry_admit_verdict v,
    const char *name, const char *host)
{
	time_t now = time(NULL);
	unsigned n;

	if (v == FERRY_ADMIT_YES || v > FERRY_ADMIT_DROP_FULL)
		return;
	n = ++a->count[v];
	if (a->said[v] == now)
		return;
	a->said[v] = now;
	a->count[v] = 0;
	switch (v) {
	case FERRY_ADMIT_DROP_SOURCE:
		ferry_warn("%s: %s: refused %u connection%s: %d handshakes "
		           "under way from one address (--per-source)",
		    name, host, n, n == 1 ? "" : "s", a->p.per_source);
		break;
	case FERRY_ADMIT_DROP_EARLY:
	case FERRY_ADMIT_DROP_FULL:
		ferry_warn("%s: refused %u connection%s: %zu handshakes under "
		           "way (--max-startups %d:%d:%d)",
		    name, n, n == 1 ? "" : "s", a->n, a->p.start, a->p.rate,
		    a->p.full);
		break;
	default:
		ferry_info("%s: ended %u handshake%s of the busiest addresses "
		           "to let new ones in",
		    name, n, n == 1 ? "" : "s");
	}
}
