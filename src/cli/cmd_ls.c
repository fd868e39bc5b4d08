/* cmd_ls.c - `ferry ls [ID@]HOST[:PORT][:DIR]`: list a peer's share. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ferry/log.h"
#include "ferry/xfer.h"

#include "cli.h"
#include "client.h"

static const char usage[] = "ls [-i IDDIR] [--timeout SECS] "
                            "{[ID@]HOST[:PORT][:DIR] | PEER:[DIR]}";

struct listing {
	struct ferry_dirent *e;
	char **names;
	size_t n, cap;
};

static int
collect(const struct ferry_dirent *e, void *arg)
{
	struct listing *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->e, cap * sizeof(*l->e));

		if (p == NULL)
			return FERRY_E_NOMEM;
		l->e = p;
		if ((p = realloc(l->names, cap * sizeof(*l->names))) == NULL)
			return FERRY_E_NOMEM;
		l->names = p;
		l->cap = cap;
	}
	if ((l->names[l->n] = strdup(e->name)) == NULL)
		return FERRY_E_NOMEM;
	l->e[l->n] = *e;
	l->e[l->n].name = l->names[l->n];
	l->n++;
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct ferry_dirent *)a)->name,
	    ((const struct ferry_dirent *)b)->name);
}

static void
print_entry(const struct ferry_dirent *e)
{
	static const char rwx[] = "rwxrwxrwx";
	char perms[11], when[32], name[FERRY_MAX_NAME + 1];
	struct tm tm;
	time_t t = (time_t)e->mtime;

	/* A peer's name reaches a terminal: no escape sequences in it. */
	snprintf(name, sizeof(name), "%s", e->name);
	ferry_sanitize(name);
	perms[0] = e->kind == FERRY_KIND_FILE   ? '-'
	           : e->kind == FERRY_KIND_DIR  ? 'd'
	           : e->kind == FERRY_KIND_LINK ? 'l'
	                                        : '?';
	for (int i = 0; i < 9; i++)
		perms[1 + i] = (e->mode & (0400u >> i)) ? rwx[i] : '-';
	perms[10] = '\0';
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(when, sizeof(when), "?");
	if (e->kind == FERRY_KIND_FILE)
		printf("%s %12llu  %s  %s\n", perms,
		    (unsigned long long)e->size, when, name);
	else
		printf("%s %12s  %s  %s%s\n", perms, "-", when, name,
		    e->kind == FERRY_KIND_DIR ? "/" : "");
}

int
cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_LONGOPTS_COMMON,
	    {NULL, 0, NULL, 0},
	};
	struct cli_common o = {
	    .cmd = "ls", .usage = usage, .timeout_ms = 30000};
	struct listing l = {0};
	struct ferry_tls *tls = NULL;
	struct ferry_conn *c = NULL;
	struct ferry_config *cfg = NULL;
	const char *identity = NULL;
	struct ferry_addr a;
	size_t plen;
	int ch, code, r;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
		if ((code = cli_common_opt(&o, ch, argv)) != 0)
			return code;
	}
	if (argc - optind != 1)
		return cli_usage(usage);
	if ((code = client_addr("ls", argv[optind], 1, &cfg, &a, &identity)) !=
	    0) {
		ferry_config_free(cfg);
		return code;
	}
	if (o.identity != NULL) /* -i wins over the configuration file */
		identity = o.identity;
	/* "dir/" and "/" mean what a shell user means by them. */
	while ((plen = strlen(a.path)) > 0 && a.path[plen - 1] == '/')
		a.path[plen - 1] = '\0';
	if (strcmp(a.path, ".") == 0)
		a.path[0] = '\0';
	cli_log_setup(0, 0);
	client_catch_signals();
	code = client_open(
	    "ls", identity, FERRY_TLS_CLIENT, &a, o.timeout_ms, &tls, &c);
	ferry_config_free(cfg); /* identity is not needed any more */
	if (code != 0)
		return code;
	if ((r = ferry_xfer_list(c, a.path, collect, &l)) == 0)
		r = ferry_conn_close(c);
	if (r == 0) {
		if (l.n > 1) /* qsort(NULL, 0) is undefined */
			qsort(l.e, l.n, sizeof(*l.e), by_name);
		for (size_t i = 0; i < l.n; i++)
			print_entry(&l.e[i]);
		code = EXIT_OK;
	} else
		code = cli_fail(r, "ls %s", argv[optind]);
	for (size_t i = 0; i < l.n; i++)
		free(l.names[i]);
	free(l.names);
	free(l.e);
	ferry_conn_free(c);
	ferry_tls_free(tls);
	return code;
}
