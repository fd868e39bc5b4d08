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

int
cmd_get(int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_LONGOPTS_COMMON,
	    CLI_LONGOPTS_XFER,
	    {"output", required_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	struct cli_common o = {
	    .cmd = "get", .usage = usage, .timeout_ms = 30000};
	struct batch b;
	struct ferry_pull_item *items = NULL;
	struct ferry_addr *addrs = NULL;
	struct ferry_config *cfg = NULL;
	const char **ident = NULL;
	struct ferry_tls *tls = NULL;
	struct ferry_conn *c = NULL;
	char **remote = NULL, **shown = NULL, *dest = ".", *destdir = NULL;
	char *destbase = NULL, *lroot = NULL;
	unsigned flags = 0;
	struct cli_xfer x = {0};
	int whole = 0, dest_is_dir;
	int dirfd = -1;
	struct stat st;
	size_t n, i, j;
	int ch, code = EXIT_FAIL, r = 0;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:o:" CLI_SHORTOPTS_XFER "h",
	            opts, NULL)) != -1) {
		if (ch == 'o') {
			dest = optarg;
			continue;
		}
		if ((code = cli_xfer_opt(&x, ch)) == -1)
			code = cli_common_opt(&o, ch, argv);
		if (code != 0)
			return code;
	}
	flags = (x.force ? FERRY_PULL_REPLACE : 0) |
	        (x.preserve ? FERRY_PULL_PRESERVE : 0) |
	        (x.no_resume ? FERRY_PULL_NO_RESUME : 0) |
	        (x.links ? FERRY_PULL_LINKS : 0);
	if (argc - optind < 1)
		return cli_usage(usage);
	n = (size_t)(argc - optind);
	/*
	 * -r: DEST is the directory the tree goes in, as DEST/NAME (DEST made
	 * with the tree, once the tree checked out), so that running the same
	 * command again finds what the first run left (up to date, partials).
	 */
	if (x.recursive && (code = tree_dest(dest)) != 0)
		return code;
	dest_is_dir = stat(dest, &st) == 0 && S_ISDIR(st.st_mode);
	if (!dest_is_dir && n > 1) {
		cli_error(
		    "get: -o %s: not a directory (several files requested)",
		    dest);
		return EXIT_USAGE;
	}
	if ((items = calloc(n, sizeof(*items))) == NULL ||
	    (addrs = calloc(n, sizeof(*addrs))) == NULL ||
	    (ident = calloc(n, sizeof(*ident))) == NULL ||
	    (remote = calloc(n, sizeof(*remote))) == NULL ||
	    (shown = calloc(n, sizeof(*shown))) == NULL ||
	    (destdir = strdup(dest)) == NULL ||
	    (destbase = strdup(dest)) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		const char *arg = argv[optind + (int)i];
		const char *local;

		ident[i] = NULL;
		if ((code = client_addr(
		         "get", arg, 2, &cfg, &addrs[i], &ident[i])) != 0)
			goto out;
		code = EXIT_FAIL;
		/* -i wins over the configuration file. */
		if (o.identity != NULL)
			ident[i] = o.identity;
		/* "docs/" is "docs", as for scp and cp. */
		for (size_t l = strlen(addrs[i].path);
		     l > 1 && addrs[i].path[l - 1] == '/'; l--)
			addrs[i].path[l - 1] = '\0';
		/* "PEER:/" is the top of the share, as for ls. */
		if (strcmp(addrs[i].path, "/") == 0)
			addrs[i].path[0] = '\0';
		if (addrs[i].path[0] == '\0' && !x.recursive) {
			cli_error("get: '%s': no path after the peer; name a "
			          "file, or use -r -o DEST for the whole share",
			    arg);
			code = EXIT_USAGE;
			goto out;
		}
		if ((remote[i] = strdup(addrs[i].path)) == NULL)
			goto out;
		local = last_component(remote[i]);
		/* The whole share (-r PEER:) has no name: DEST is its copy. */
		whole = x.recursive && addrs[i].path[0] == '\0';
		if (whole && (n > 1 || strcmp(dest, ".") == 0)) {
			cli_error("get: %s: the whole share needs -o DEST, and "
			          "alone",
			    arg);
			code = EXIT_USAGE;
			goto out;
		}
		if (!dest_is_dir || whole) /* -o names the file itself */
			local = basename(destbase);
		if (x.recursive && !dest_is_dir && !whole) {
			/* A new DEST: made beneath its parent, with the tree. */
			if ((r = ferry_fsafe_check_name(
			         local, strlen(local))) != 0) {
				code = cli_fail(r, "get: -o %s", dest);
				goto out;
			}
			if (asprintf(&lroot, "%s/%s", local,
			        last_component(remote[i])) < 0) {
				lroot = NULL;
				goto out;
			}
			local = lroot;
			if ((r = ferry_fsafe_check_path(
			         local, strlen(local))) != 0) {
				code = cli_fail(r, "get: %s", arg);
				goto out;
			}
		} else if ((r = ferry_fsafe_check_name(local, strlen(local))) !=
		           0) {
			code = cli_fail(r, "get: %s", arg);
			goto out;
		}
		items[i].local = local;
		items[i].remote = addrs[i].path;
		if (whole)
			r = asprintf(&shown[i], "%s", dest);
		else if (x.recursive && !dest_is_dir)
			r = asprintf(&shown[i], "%s/%s", dest,
			    last_component(remote[i]));
		else if (dest_is_dir && strcmp(dest, ".") != 0)
			r = asprintf(&shown[i], "%s%s%s", dest,
			    dest[strlen(dest) - 1] == '/' ? "" : "/", local);
		else
			r = asprintf(
			    &shown[i], "%s", dest_is_dir ? local : dest);
		if (r < 0) {
			shown[i] = NULL;
			goto out;
		}
		items[i].shown = shown[i];
	}
	if ((dirfd = open(dest_is_dir && !whole ? dest : dirname(destdir),
	         O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		code = cli_fail(ferry_errf_errno(ferry_err_from_errno(errno),
		                    errno, "%s", dest),
		    "get: -o");
		goto out;
	}
	{
		const char **dst = malloc(n * sizeof(*dst));

		if (dst == NULL)
			goto out;
		for (i = 0; i < n; i++)
			dst[i] = items[i].local;
		code = client_unique_names("get", dst, n);
		free(dst);
		if (code != 0)
			goto out;
		code = EXIT_FAIL;
	}
	cli_log_setup(0, 0);
	client_catch_signals();
	client_batch_init(&b, "get", x.quiet);
	b.json = x.json;
	b.limit = x.limit;
	b.total = (unsigned)n;
	b.nfiles = x.recursive ? 0 : (unsigned)n;
	b.overall = x.recursive;
	/* Consecutive paths on the same peer share one connection. */
	code = 0;
	for (i = 0; i < n; i = j) {
		int rc;

		for (j = i + 1;
		     j < n && strcmp(addrs[j].host, addrs[i].host) == 0 &&
		     strcmp(addrs[j].port, addrs[i].port) == 0 &&
		     strcmp(addrs[j].id, addrs[i].id) == 0 &&
		     (ident[j] == ident[i] ||
		         (ident[j] != NULL && ident[i] != NULL &&
		             strcmp(ident[j], ident[i]) == 0));
		     j++)
			;
		if ((rc = client_open("get", ident[i], FERRY_TLS_CLIENT,
		         &addrs[i], o.timeout_ms, &tls, &c)) != 0) {
			if (b.failed == 0)
				code = rc;
			b.failed += (unsigned)(j - i);
			continue;
		}
		b.peer = ferry_conn_peer_id(c);
		r = 0;
		if (!x.recursive)
			r = ferry_xfer_pull(c, items + i, j - i, dirfd, flags,
			    client_progress, client_report, &b);
		/* A tree lands as DEST/NAME, or as DEST if that is new. */
		for (size_t k = i; x.recursive && k < j && r == 0; k++)
			r = ferry_xfer_pull_tree(c, items[k].remote, dirfd,
			    items[k].local, items[k].shown, flags,
			    client_progress, client_report, &b);
		/* How many items a tree had is known only now. */
		if (x.recursive) {
			b.total = b.ok + b.failed + b.skipped;
			b.total_unknown = 1;
		}
		if (r == 0)
			r = ferry_conn_close(c);
		ferry_conn_free(c);
		ferry_tls_free(tls);
		c = NULL;
		tls = NULL;
		b.peer = NULL;
		if (r != 0) {
			code = client_batch_exit(&b, r, (unsigned)n);
			client_summary(&b, code);
			goto out;
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
out:
	if (dirfd >= 0)
		close(dirfd);
	for (i = 0; remote != NULL && i < n; i++)
		free(remote[i]);
	for (i = 0; shown != NULL && i < n; i++)
		free(shown[i]);
	free(remote);
	free(shown);
	free(addrs);
	free(ident);
	ferry_config_free(cfg);
	free(items);
	free(destdir);
	free(destbase);
	free(lroot);
	return code;
}
