/* grant.c - what a certificate authd issues may name: the host names bound
 * to the account that asks (docs/internals/authd.md, "Names"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ferry/log.h"
#include "ferry/pki.h"

#include "authd.h"

/* Under an --allow-dns suffix, or no suffixes given. */
static int
dns_allowed(const struct authd_cfg *cfg, const char *name)
{
	size_t n = strlen(name);

	if (cfg->n_allow_dns == 0)
		return 1;
	for (size_t i = 0; i < cfg->n_allow_dns; i++) {
		const char *s = cfg->allow_dns[i];
		size_t k = strlen(s);

		if (strcmp(s, ".") == 0)
			return 1;
		if (strcasecmp(name, s) == 0 ||
		    (n > k && name[n - k - 1] == '.' &&
		        strcasecmp(name + n - k, s) == 0))
			return 1;
	}
	return 0;
}

/* Why user may not hold norm, into why; 0 if it may. */
static int
name_check(struct ferry_store *st, const struct authd_cfg *cfg,
    const char *user, const char *norm, enum ferry_host_kind kind, char *why,
    size_t whylen)
{
	char owner[FERRY_MAX_ID + 1];
	int reserved = 0, r;

	r = ferry_store_name_owner(st, norm, owner, &reserved);
	if (r != 0 && r != FERRY_E_NOENT)
		return r;
	if (r == 0 && reserved)
		snprintf(why, whylen,
		    "'%s' is authd's own name; no member may hold it", norm);
	else if (r != 0)
		snprintf(why, whylen,
		    "'%s' is not bound to '%s' (the admin binds names with "
		    "'ferry user dns')",
		    norm, user);
	else if (strcmp(owner, user) != 0)
		snprintf(why, whylen, "'%s' is bound to another account", norm);
	else if (kind == FERRY_HOST_DNS && !dns_allowed(cfg, norm))
		snprintf(why, whylen,
		    "'%s' is outside the domains this authd issues names in "
		    "(--allow-dns)",
		    norm);
	else
		return 0;
	return FERRY_E_ACCESS;
}

/* Adds norm to the list of its kind unless it is there already. */
static int
grant_add(struct grant *g, const char *norm, enum ferry_host_kind kind)
{
	char **list = kind == FERRY_HOST_IP ? g->ips : g->dns;
	size_t *n = kind == FERRY_HOST_IP ? &g->n_ips : &g->n_dns;

	for (size_t i = 0; i < *n; i++)
		if (strcmp(list[i], norm) == 0)
			return 0;
	if (*n >= FERRY_MAX_HOST_NAMES)
		return ferry_errf(
		    FERRY_E_TOOBIG, "more than %d names", FERRY_MAX_HOST_NAMES);
	if ((list[*n] = strdup(norm)) == NULL)
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	(*n)++;
	return 0;
}

/* One name the request asks for: granted, refused or (renew) left out. */
static int
grant_one(struct ferry_store *st, const struct authd_cfg *cfg, const char *user,
    const char *asked, int renew, struct grant *g)
{
	char norm[FERRY_MAX_HOSTNAME + 1], why[400];
	enum ferry_host_kind kind;
	size_t used;
	int r;

	if ((r = ferry_host_normalize(asked, norm, &kind)) != 0) {
		snprintf(g->why, sizeof(g->why), "%s", ferry_err_detail(r));
		return r;
	}
	if ((r = name_check(st, cfg, user, norm, kind, why, sizeof(why))) == 0)
		return grant_add(g, norm, kind);
	if (r != FERRY_E_ACCESS)
		return r;
	if (!renew) {
		snprintf(g->why, sizeof(g->why), "%s", why);
		return r;
	}
	used = strlen(g->why);
	snprintf(g->why + used, sizeof(g->why) - used, "%sleft out %s",
	    used > 0 ? "; " : "", why);
	return 0;
}

static void
grant_group(const char *kind, const char *value, void *arg)
{
	struct grant *g = arg;

	if (strcmp(kind, "group") != 0)
		return;
	if (g->n_groups >= FERRY_MAX_GROUPS ||
	    (g->groups[g->n_groups] = strdup(value)) == NULL) {
		g->failed = 1;
		return;
	}
	g->n_groups++;
}

int
grant_names(struct ferry_store *st, const struct authd_cfg *cfg,
    const char *user, const struct ferry_est_names *asked, int renew,
    struct grant *g)
{
	int r = 0;

	memset(g, 0, sizeof(*g));
	for (size_t i = 0; r == 0 && i < asked->n_dns; i++)
		r = grant_one(st, cfg, user, asked->dns[i], renew, g);
	for (size_t i = 0; r == 0 && i < asked->n_ips; i++)
		r = grant_one(st, cfg, user, asked->ips[i], renew, g);
	if (r == 0 &&
	    (r = ferry_store_bindings(st, user, grant_group, g)) == 0 &&
	    g->failed)
		r = ferry_errf(FERRY_E_NOMEM, "cannot copy %s's groups", user);
	return r;
}

void
grant_free(struct grant *g)
{
	for (size_t i = 0; i < g->n_dns; i++)
		free(g->dns[i]);
	for (size_t i = 0; i < g->n_ips; i++)
		free(g->ips[i]);
	for (size_t i = 0; i < g->n_groups; i++)
		free(g->groups[i]);
	memset(g, 0, sizeof(*g));
}
