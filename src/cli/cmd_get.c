/* cmd_get.c - `ferry get [ID@]HOST:PORT:PATH... [-o DEST]`: pull from a peer's share. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/fsafe.h"
#include "ferry/xfer.h"

#include "cli.h"
#include "client.h"

static const char usage[] =
    "get [-i IDDIR] [-r] [--links] [--force] [-p] [-q] [--json] "
    "[--no-resume] [--limit-rate RATE] [--timeout SECS] "
    "{[ID@]HOST:PORT:PATH | PEER:PATH}... [-o DEST]";

/* The local name for a remote path: its last component, never the server's word. */
static const char *
last_component(char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	return basename(path);
}

/* get -r: DEST must be a directory, or not exist yet (it is made then). */
static int
tree_dest(const char *dest)
{
	struct stat st;

	if (stat(dest, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		cli_error("get: -o %s: not a directory", dest);
		return EXIT_REFUSED;
	}
	if (errno == ENOENT && lstat(dest, &st) == 0) {
		cli_error("get: -o %s: a symbolic link to nothing", dest);
		return EXIT_REFUSED;
	}
	if (errno != ENOENT)
		return cli_fail(ferry_errf_errno(ferry_err_from_errno(errno),
		                    errno, "%s", dest),
		    "get: -o");
	return 0;
}

/* What the command line asked for. */
struct get_args {
	struct cli_common o;
	struct cli_xfer x;
	const char *dest; /* -o, "." by default */
	char **paths; /* the PEER:PATH arguments */
	size_t n;
};

/* Each argument resolved: where it comes from and the name it lands as. */
struct get_plan {
	size_t n;
	struct ferry_pull_item *items;
	struct ferry_addr *addrs;
	const char **ident; /* identity directory per item; NULL: default */
	char **remote, **shown;
	char *destdir, *destbase, *lroot;
	struct ferry_config *cfg;
	int dest_is_dir, whole;
};

static int
get_parse(int argc, char **argv, struct get_args *a)
{
	static const struct option opts[] = {
	    CLI_LONGOPTS_COMMON,
	    CLI_LONGOPTS_XFER,
	    {"output", required_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	int ch, code;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:o:" CLI_SHORTOPTS_XFER "h",
	            opts, NULL)) != -1) {
		if (ch == 'o') {
			a->dest = optarg;
			continue;
		}
		if ((code = cli_xfer_opt(&a->x, ch)) == -1)
			code = cli_common_opt(&a->o, ch, argv);
		if (code != 0)
			return code;
	}
	if (argc - optind < 1)
		return cli_usage(usage);
	a->paths = argv + optind;
	a->n = (size_t)(argc - optind);
	return 0;
}

/* The name shown for item i in progress lines and reports. */
static int
get_shown(const struct get_args *a, struct get_plan *p, size_t i)
{
	const char *dest = a->dest, *local = p->items[i].local;
	int r;

	if (p->whole)
		r = asprintf(&p->shown[i], "%s", dest);
	else if (a->x.recursive && !p->dest_is_dir)
		r = asprintf(
		    &p->shown[i], "%s/%s", dest, last_component(p->remote[i]));
	else if (p->dest_is_dir && strcmp(dest, ".") != 0)
		r = asprintf(&p->shown[i], "%s%s%s", dest,
		    dest[strlen(dest) - 1] == '/' ? "" : "/", local);
	else
		r = asprintf(&p->shown[i], "%s", p->dest_is_dir ? local : dest);
	if (r < 0) {
		p->shown[i] = NULL;
		return cli_fail(FERRY_E_NOMEM, "get");
	}
	p->items[i].shown = p->shown[i];
	return 0;
}

/* The local name for item i: a checked name beneath DEST's directory. */
static int
get_local(const struct get_args *a, struct get_plan *p, size_t i)
{
	const char *arg = a->paths[i], *local = last_component(p->remote[i]);
	int r;

	if (!p->dest_is_dir || p->whole) /* -o names the file itself */
		local = basename(p->destbase);
	if (a->x.recursive && !p->dest_is_dir && !p->whole) {
		/* A new DEST: made beneath its parent, with the tree. */
		if ((r = ferry_fsafe_check_name(local, strlen(local))) != 0)
			return cli_fail(r, "get: -o %s", a->dest);
		if (asprintf(&p->lroot, "%s/%s", local,
		        last_component(p->remote[i])) < 0) {
			p->lroot = NULL;
			return cli_fail(FERRY_E_NOMEM, "get");
		}
		local = p->lroot;
		if ((r = ferry_fsafe_check_path(local, strlen(local))) != 0)
			return cli_fail(r, "get: %s", arg);
	} else if ((r = ferry_fsafe_check_name(local, strlen(local))) != 0) {
		return cli_fail(r, "get: %s", arg);
	}
	p->items[i].local = local;
	p->items[i].remote = p->addrs[i].path;
	return get_shown(a, p, i);
}

/* Argument i: its peer, its remote path, and where it lands. */
static int
get_item(const struct get_args *a, struct get_plan *p, size_t i)
{
	const char *arg = a->paths[i];
	struct ferry_addr *addr = &p->addrs[i];
	int code;

	if ((code = client_addr("get", arg, 2, &p->cfg, addr, &p->ident[i])) !=
	    0)
		return code;
	/* -i wins over the configuration file. */
	if (a->o.identity != NULL)
		p->ident[i] = a->o.identity;
	/* "docs/" is "docs", as for scp and cp. */
	for (size_t l = strlen(addr->path); l > 1 && addr->path[l - 1] == '/';
	     l--)
		addr->path[l - 1] = '\0';
	/* "PEER:/" is the top of the share, as for ls. */
	if (strcmp(addr->path, "/") == 0)
		addr->path[0] = '\0';
	if (addr->path[0] == '\0' && !a->x.recursive) {
		cli_error("get: '%s': no path after the peer; name a "
		          "file, or use -r -o DEST for the whole share",
		    arg);
		return EXIT_USAGE;
	}
	if ((p->remote[i] = strdup(addr->path)) == NULL)
		return cli_fail(FERRY_E_NOMEM, "get");
	/* The whole share (-r PEER:) has no name: DEST is its copy. */
	p->whole = a->x.recursive && addr->path[0] == '\0';
	if (p->whole && (p->n > 1 || strcmp(a->dest, ".") == 0)) {
		cli_error(
		    "get: %s: the whole share needs -o DEST, and alone", arg);
		return EXIT_USAGE;
	}
	return get_local(a, p, i);
}

static void
get_plan_free(struct get_plan *p)
{
	for (size_t i = 0; p->remote != NULL && i < p->n; i++)
		free(p->remote[i]);
	for (size_t i = 0; p->shown != NULL && i < p->n; i++)
		free(p->shown[i]);
	free(p->remote);
	free(p->shown);
	free(p->addrs);
	free(p->ident);
	ferry_config_free(p->cfg);
	free(p->items);
	free(p->destdir);
	free(p->destbase);
	free(p->lroot);
}

/*
 * Every argument resolved and checked before anything connects; *dirfd is
 * the directory the items land in.
 */
static int
get_plan(const struct get_args *a, struct get_plan *p, int *dirfd)
{
	const char *dest = a->dest;
	const char **dst;
	struct stat st;
	size_t n = a->n;
	int code;

	/*
	 * -r: DEST is the directory the tree goes in, as DEST/NAME (DEST made
	 * with the tree, once the tree checked out), so that running the same
	 * command again finds what the first run left (up to date, partials).
	 */
	if (a->x.recursive && (code = tree_dest(dest)) != 0)
		return code;
	p->n = n;
	p->dest_is_dir = stat(dest, &st) == 0 && S_ISDIR(st.st_mode);
	if (!p->dest_is_dir && n > 1) {
		cli_error(
		    "get: -o %s: not a directory (several files requested)",
		    dest);
		return EXIT_USAGE;
	}
	if ((p->items = calloc(n, sizeof(*p->items))) == NULL ||
	    (p->addrs = calloc(n, sizeof(*p->addrs))) == NULL ||
	    (p->ident = calloc(n, sizeof(*p->ident))) == NULL ||
	    (p->remote = calloc(n, sizeof(*p->remote))) == NULL ||
	    (p->shown = calloc(n, sizeof(*p->shown))) == NULL ||
	    (p->destdir = strdup(dest)) == NULL ||
	    (p->destbase = strdup(dest)) == NULL)
		return cli_fail(FERRY_E_NOMEM, "get");
	for (size_t i = 0; i < n; i++)
		if ((code = get_item(a, p, i)) != 0)
			return code;
	if ((*dirfd = open(
	         p->dest_is_dir && !p->whole ? dest : dirname(p->destdir),
	         O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return cli_fail(ferry_errf_errno(ferry_err_from_errno(errno),
		                    errno, "%s", dest),
		    "get: -o");
	if ((dst = malloc(n * sizeof(*dst))) == NULL)
		return cli_fail(FERRY_E_NOMEM, "get");
	for (size_t i = 0; i < n; i++)
		dst[i] = p->items[i].local;
	code = client_unique_names("get", dst, n);
	free(dst);
	return code;
}

/* Items i and j come from the same peer through the same identity. */
static int
same_peer(const struct get_plan *p, size_t i, size_t j)
{
	const struct ferry_addr *x = &p->addrs[i], *y = &p->addrs[j];

	return strcmp(x->host, y->host) == 0 && strcmp(x->port, y->port) == 0 &&
	       strcmp(x->id, y->id) == 0 &&
	       (p->ident[i] == p->ident[j] ||
	           (p->ident[i] != NULL && p->ident[j] != NULL &&
	               strcmp(p->ident[i], p->ident[j]) == 0));
}

/*
 * Items [i, j) over one connection: 0, or the error that ends the batch.
 * A peer that cannot be reached is not such an error: *unreached is then
 * the exit code it would be alone.
 */
static int
get_from_peer(const struct get_args *a, struct get_plan *p, size_t i, size_t j,
    int dirfd, struct batch *b, int *unreached)
{
	unsigned flags = (a->x.force ? FERRY_PULL_REPLACE : 0) |
	                 (a->x.preserve ? FERRY_PULL_PRESERVE : 0) |
	                 (a->x.no_resume ? FERRY_PULL_NO_RESUME : 0) |
	                 (a->x.links ? FERRY_PULL_LINKS : 0);
	struct ferry_tls *tls = NULL;
	struct ferry_conn *c = NULL;
	int r = 0;

	if ((*unreached = client_open("get", p->ident[i], FERRY_TLS_CLIENT,
	         &p->addrs[i], a->o.timeout_ms, &tls, &c)) != 0)
		return 0;
	b->peer = ferry_conn_peer_id(c);
	if (!a->x.recursive)
		r = ferry_xfer_pull(c, p->items + i, j - i, dirfd, flags,
		    client_progress, client_report, b);
	/* A tree lands as DEST/NAME, or as DEST if that is new. */
	for (size_t k = i; a->x.recursive && k < j && r == 0; k++)
		r = ferry_xfer_pull_tree(c, p->items[k].remote, dirfd,
		    p->items[k].local, p->items[k].shown, flags,
		    client_progress, client_report, b);
	/* How many items a tree had is known only now. */
	if (a->x.recursive) {
		b->total = b->ok + b->failed + b->skipped;
		b->total_unknown = 1;
	}
	if (r == 0)
		r = ferry_conn_close(c);
	ferry_conn_free(c);
	ferry_tls_free(tls);
	b->peer = NULL;
	return r;
}

static int
get_run(const struct get_args *a, struct get_plan *p, int dirfd)
{
	struct batch b;
	int code = 0, r;

	cli_log_setup(0, 0);
	client_catch_signals();
	client_batch_init(&b, "get", a->x.quiet);
	b.json = a->x.json;
	b.limit = a->x.limit;
	b.total = (unsigned)p->n;
	b.nfiles = a->x.recursive ? 0 : (unsigned)p->n;
	b.overall = a->x.recursive;
	/* Consecutive paths on the same peer share one connection. */
	for (size_t i = 0, j; i < p->n; i = j) {
		int unreached = 0;

		for (j = i + 1; j < p->n && same_peer(p, i, j); j++)
			;
		if ((r = get_from_peer(a, p, i, j, dirfd, &b, &unreached)) !=
		    0) {
			code = client_batch_exit(&b, r, (unsigned)p->n);
			client_summary(&b, code);
			return code;
		}
		if (unreached != 0) {
			/* The first failure names the exit code. */
			if (b.failed == 0)
				code = unreached;
			b.failed += (unsigned)(j - i);
		}
	}
	/* Links left out of a tree (no --links): not all of it arrived. */
	if (b.failed == 0)
		code = b.skipped > 0 ? EXIT_PARTIAL : EXIT_OK;
	else if (b.ok > 0)
		code = EXIT_PARTIAL;
	else if (code == 0)
		code = cli_exit_code(b.first_err);
	client_summary(&b, code);
	return code;
}

int
cmd_get(int argc, char **argv)
{
	struct get_args a = {
	    .o = {.cmd = "get", .usage = usage, .timeout_ms = 30000},
	    .dest = "."};
	struct get_plan p = {0};
	int dirfd = -1, code = get_parse(argc, argv, &a);

	if (code == 0 && (code = get_plan(&a, &p, &dirfd)) == 0)
		code = get_run(&a, &p, dirfd);
	if (dirfd >= 0)
		close(dirfd);
	get_plan_free(&p);
	return code;
}
