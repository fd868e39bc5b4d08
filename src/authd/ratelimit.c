/* ratelimit.c - failed logins per user and per client address, in memory.
 * After `threshold` failures within WINDOW, each further one doubles a wait. */
#include <stdlib.h>
#include <string.h>

#include "authd.h"

/* Failures older than this are forgotten (seconds). */
#define WINDOW (15 * 60)
/* The longest wait imposed (seconds). */
#define MAX_WAIT (15 * 60)
#define KEY_MAX 272

struct entry {
	char key[KEY_MAX];
	unsigned fails;
	time_t first; /* first failure of the window */
	time_t until; /* no attempt before this */
	time_t last;
};

struct ratelimit {
	struct entry *e;
	size_t n, cap;
	unsigned threshold;
};

struct ratelimit *
ratelimit_new(unsigned threshold, size_t cap)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	if (rl == NULL || (rl->e = calloc(cap, sizeof(*rl->e))) == NULL) {
		free(rl);
		return NULL;
	}
	rl->cap = cap;
	rl->threshold = threshold;
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->e);
	free(rl);
}

static int
expired(const struct entry *e, time_t now)
{
	return now - e->first >= WINDOW && now >= e->until;
}

static struct entry *
find(struct ratelimit *rl, const char *key)
{
	for (size_t i = 0; i < rl->n; i++)
		if (strcmp(rl->e[i].key, key) == 0)
			return &rl->e[i];
	return NULL;
}

static void
drop(struct ratelimit *rl, size_t i)
{
	rl->e[i] = rl->e[--rl->n];
}

unsigned
ratelimit_wait(struct ratelimit *rl, const char *key, time_t now)
{
	struct entry *e = find(rl, key);

	if (e == NULL || now >= e->until)
		return 0;
	return (unsigned)(e->until - now);
}

unsigned
ratelimit_fail(struct ratelimit *rl, const char *key, time_t now)
{
	struct entry *e = find(rl, key);
	unsigned over, wait;

	if (e != NULL && expired(e, now)) {
		e->fails = 0;
		e->first = now;
		e->until = 0;
	}
	if (e == NULL) {
		/* Full: forget what has expired, else the stalest entry. */
		for (size_t i = 0; rl->n == rl->cap && i < rl->n;)
			if (expired(&rl->e[i], now))
				drop(rl, i);
			else
				i++;
		if (rl->n == rl->cap) {
			size_t old = 0;

			for (size_t i = 1; i < rl->n; i++)
				if (rl->e[i].last < rl->e[old].last)
					old = i;
			drop(rl, old);
		}
		e = &rl->e[rl->n++];
		memset(e, 0, sizeof(*e));
		strncpy(e->key, key, sizeof(e->key) - 1);
		e->first = now;
	}
	e->fails++;
	e->last = now;
	if (e->fails < rl->threshold)
		return 0;
	/* threshold failures: 2 s, then 4, 8, ... up to MAX_WAIT. */
	over = e->fails - rl->threshold;
	wait = over >= 9 ? MAX_WAIT : 2u << over;
	if (wait > MAX_WAIT)
		wait = MAX_WAIT;
	e->until = now + (time_t)wait;
	return wait;
}

void
ratelimit_clear(struct ratelimit *rl, const char *key)
{
	for (size_t i = 0; i < rl->n; i++)
		if (strcmp(rl->e[i].key, key) == 0) {
			drop(rl, i);
			return;
		}
}
