/* cmd_serve.c - `ferry serve`: the peer daemon's command line. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/access.h"
#include "ferry/config.h"
#include "ferry/limits.h"
#include "ferry/log.h"
#include "ferry/sandbox.h"
#include "ferry/xfer.h"

#include "cli.h"
#include "daemon.h"

static const char usage[] =
    "serve [-i IDDIR] [--listen HOST:PORT] [--share DIR] [--inbox DIR]\n"
    "             [--timeout SECS] [--max-conns N] [--config FILE]\n"
    "             [--max-startups START:RATE:FULL] [--per-source N]\n"
    "             [--login-grace SECS] [--user NAME] [--allow-root]\n"
    "             [--log auto|stderr|journal|syslog]\n"
    "             [--members LIST] [--allow-read [PATH=]LIST]...\n"
    "             [--allow-push LIST] [--inbox-quota SIZE] [--inbox-files N] "
    "[-v]";

enum {
	OPT_SHARE = 0x200,
	OPT_INBOX,
	OPT_CONFIG,
	OPT_MEMBERS,
	OPT_ALLOW_READ,
	OPT_ALLOW_PUSH,
	OPT_QUOTA,
	OPT_FILES,
	OPT_USER,
	OPT_ALLOW_ROOT,
};

/* Everything the command line can say. */
struct serve_args {
	struct cli_common o;
	const char *share, *inbox, *config;
	const char *members, *allow_push; /* NULL: as the file says */
	const char **allow_read; /* [PATH=]LIST, in order */
	size_t n_allow_read;
	const char *quota, *files; /* NULL: as the file says */
	size_t cap_allow_read;
	int from_file; /* options now come from the configuration file */
	int allow_read_from_file; /* the --allow-read list is the file's */
	const char *user; /* --user: switched to once listening */
	int allow_root;
};

/* mkdir -p with 0700 for what it creates. */
static int
make_dirs(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return ferry_errf(FERRY_E_USAGE, "bad directory name");
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return ferry_errf_errno(
			    ferry_err_from_errno(errno), errno, "%s", tmp);
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return ferry_errf_errno(
		    ferry_err_from_errno(errno), errno, "%s", tmp);
	return 0;
}

static int
open_dir(const char *what, const char *path, int *fd)
{
	int r;

	if ((r = make_dirs(path)) != 0)
		return cli_fail(r, "serve: %s", what);
	if ((*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return cli_fail(ferry_errf_errno(ferry_err_from_errno(errno),
		                    errno, "%s", path),
		    "serve: %s", what);
	return 0;
}

static int
session(struct ferry_conn *c, void *arg, char *summary, size_t len)
{
	struct ferry_serve_stats st = {0};
	int r = ferry_xfer_serve(c, arg, &st);

	snprintf(summary, len,
	    "%u file%s received (%llu bytes), %u sent (%llu bytes), "
	    "%u refused",
	    st.files_in, st.files_in == 1 ? "" : "s",
	    (unsigned long long)st.bytes_in, st.files_out,
	    (unsigned long long)st.bytes_out, st.refused);
	return r;
}

/* Checks a value by applying it to a scratch rule set: one line per error. */
static int
serve_check(const struct serve_args *a)
{
	struct ferry_access *x = NULL;
	uint64_t v;
	int r = ferry_access_new(&x);

	if (r == 0 && a->members != NULL &&
	    (r = ferry_access_set(x, FERRY_ACCESS_MEMBERS, a->members)) != 0)
		r = cli_fail(r, "serve: --members");
	else if (r == 0 && a->allow_push != NULL &&
	         (r = ferry_access_set(x, FERRY_ACCESS_PUSH, a->allow_push)) !=
	             0)
		r = cli_fail(r, "serve: --allow-push");
	for (size_t i = 0; r == 0 && i < a->n_allow_read; i++)
		if ((r = ferry_access_read_spec(x, a->allow_read[i])) != 0)
			r = cli_fail(r, "serve: --allow-read");
	if (r == 0 && a->quota != NULL &&
	    (r = ferry_size_parse(a->quota, &v)) != 0)
		r = cli_fail(r, "serve: --inbox-quota");
	ferry_access_free(x);
	return r != 0 ? EXIT_USAGE : 0;
}

static const struct option serve_opts[] = {
    CLI_LONGOPTS_COMMON,
    CLI_LONGOPTS_DAEMON,
    {"share", required_argument, NULL, OPT_SHARE},
    {"inbox", required_argument, NULL, OPT_INBOX},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"members", required_argument, NULL, OPT_MEMBERS},
    {"allow-read", required_argument, NULL, OPT_ALLOW_READ},
    {"allow-push", required_argument, NULL, OPT_ALLOW_PUSH},
    {"inbox-quota", required_argument, NULL, OPT_QUOTA},
    {"inbox-files", required_argument, NULL, OPT_FILES},
    {"user", required_argument, NULL, OPT_USER},
    {"allow-root", no_argument, NULL, OPT_ALLOW_ROOT},
    {NULL, 0, NULL, 0},
};
/* Options that may be given more than once: the command line's list
 * replaces the file's. */
static const char *const serve_repeatable[] = {"allow-read", NULL};

/* One option, from the command line or the file: 0 or an exit code. */
static int
serve_opt(void *arg, int ch)
{
	struct serve_args *a = arg;
	long files;

	switch (ch) {
	case OPT_SHARE:
		a->share = optarg;
		return 0;
	case OPT_INBOX:
		a->inbox = optarg;
		return 0;
	case OPT_CONFIG:
		a->config = optarg;
		return 0;
	case OPT_MEMBERS:
		a->members = optarg;
		return 0;
	case OPT_ALLOW_READ:
		if (a->from_file != a->allow_read_from_file)
			a->n_allow_read = 0;
		a->allow_read_from_file = a->from_file;
		if (a->n_allow_read == a->cap_allow_read)
			return cli_fail(FERRY_E_NOMEM, "serve");
		a->allow_read[a->n_allow_read++] = optarg;
		return 0;
	case OPT_ALLOW_PUSH:
		a->allow_push = optarg;
		return 0;
	case OPT_QUOTA:
		a->quota = optarg;
		return 0;
	case OPT_FILES:
		if (cli_parse_int("serve: --inbox-files", optarg, 0, 1000000000,
		        &files) != 0)
			return EXIT_USAGE;
		a->files = optarg;
		return 0;
	case OPT_USER:
		a->user = optarg;
		return 0;
	case OPT_ALLOW_ROOT:
		a->allow_root = 1;
		return 0;
	}
	return cli_common_opt(&a->o, ch, NULL);
}

/* Defaults, and room for the repeated options of argc arguments or lines. */
static int
serve_args_init(struct serve_args *a, int argc)
{
	size_t cap = (size_t)argc + FERRY_CONFIG_MAX_LINES;

	*a = (struct serve_args){.o = {.cmd = "serve",
	                             .usage = usage,
	                             .timeout_ms = 60000,
	                             .listen = "0.0.0.0:" FERRY_DEFAULT_PORT,
	                             .max_conns = 64}};
	if ((a->allow_read = calloc(cap, sizeof(char *))) == NULL)
		return cli_fail(FERRY_E_NOMEM, "serve");
	a->cap_allow_read = cap;
	return 0;
}

/* The command line into a, over what a holds (defaults, the file). */
static int
serve_parse(int argc, char **argv, struct serve_args *a)
{
	int ch, code;

	a->from_file = 0;
	optind = 0;
	opterr = 0;
	while (
	    (ch = getopt_long(argc, argv, "+:i:vh", serve_opts, NULL)) != -1) {
		if (ch == '?' || ch == ':')
			return cli_opt_error("serve", ch, argv);
		if ((code = serve_opt(a, ch)) != 0)
			return code;
	}
	if (optind != argc)
		return cli_extra_arg("serve", argv[optind]);
	return serve_check(a);
}

/* What a reload reads and changes: the running daemon's. */
static struct serve_state {
	int argc;
	char **argv;
	struct serve_args first; /* the command line alone: --config, -i */
	struct serve_args cur; /* in force; strings in argv or cfg */
	struct ferry_config *cfg;
	struct ferry_access *own;
	char *path; /* the configuration file */
	/* Fixed at start: a reload that changes them says so. */
	char *listen, *share, *inbox, *identity;
	struct ferry_serve_cfg *scfg;
} st;

/*
 * The settings: defaults, the configuration file's (--config, else
 * IDDIR/config), then the command line over them (checked already by
 * serve_parse into first). *cfg holds the file; *path names it.
 */
static int
serve_load(int argc, char **argv, const struct serve_args *first,
    struct serve_args *a, struct ferry_config **cfg, char **path)
{
	const struct cli_config_apply ap = {.section = "serve",
	    .opts = serve_opts,
	    .repeatable = serve_repeatable,
	    .handle = serve_opt,
	    .arg = a};
	char *dir = NULL;
	struct stat sb;
	int code, r;

	*cfg = NULL;
	if (first->config != NULL)
		*path = strdup(first->config);
	else if ((dir = cli_identity_dir(first->o.identity)) == NULL ||
	         asprintf(path, "%s/config", dir) < 0)
		*path = NULL;
	free(dir);
	if (*path == NULL)
		return cli_fail(FERRY_E_NOMEM, "serve");
	/* A file named on the command line must be there. */
	if (first->config != NULL && stat(first->config, &sb) != 0)
		r = ferry_errf_errno(
		    ferry_err_from_errno(errno), errno, "%s", first->config);
	else
		r = ferry_config_load(*path, cfg);
	/* At a reload the detail alone: "FILE:LINE: what" (cli_capture). */
	if (r != 0 && a == &st.cur)
		return cli_fail(r, "serve: configuration");
	if (r != 0) {
		cli_error("%s", ferry_err_detail(r));
		return cli_exit_code(r);
	}
	if ((code = serve_args_init(a, argc)) != 0)
		return code;
	a->from_file = 1;
	if ((code = cli_config_apply(&ap, *cfg, *path)) != 0)
		return code;
	return serve_parse(argc, argv, a);
}

/*
 * The rules: the file's [serve] and [read PATH] sections, then the
 * command line over them.
 */
static int
serve_rules(const struct serve_args *a, struct ferry_config *cfg,
    struct ferry_access **own, const struct ferry_access **out)
{
	struct ferry_access *x;
	uint64_t qb, qf, v;
	int r;

	*own = NULL;
	if ((x = ferry_config_serve(cfg)) == NULL) {
		if ((r = ferry_access_new(own)) != 0)
			return cli_fail(r, "serve");
		x = *own;
	}
	/* Checked by serve_parse already: these cannot fail but for memory. */
	if ((a->members != NULL &&
	        (r = ferry_access_set(x, FERRY_ACCESS_MEMBERS, a->members)) !=
	            0) ||
	    (a->allow_push != NULL &&
	        (r = ferry_access_set(x, FERRY_ACCESS_PUSH, a->allow_push)) !=
	            0))
		return cli_fail(r, "serve");
	for (size_t i = 0; i < a->n_allow_read; i++)
		if ((r = ferry_access_read_spec(x, a->allow_read[i])) != 0)
			return cli_fail(r, "serve");
	ferry_access_quota(x, &qb, &qf);
	if (a->quota != NULL && ferry_size_parse(a->quota, &v) == 0)
		qb = v;
	if (a->files != NULL)
		qf = strtoull(a->files, NULL, 10);
	ferry_access_set_quota(x, qb, qf);
	*out = x;
	return 0;
}

/*
 * PROTOCOL.md 5.1: --max-conns sessions run already. The client has sent
 * HELLO; it gets ERR id 0, code 47 (BUSY), saying how many, and the close.
 */
static void
serve_busy(struct ferry_conn *c, void *arg, int sessions)
{
	char text[128];
	struct ferry_msg m = {
	    .type = FERRY_F_ERR, .code = (uint16_t)-FERRY_E_BUSY, .text = text};

	(void)arg;
	snprintf(text, sizeof(text), "busy (%d sessions); try again later",
	    sessions);
	m.text_len = strlen(text);
	/* Its HELLO read first, so the close does not reset the answer. */
	ferry_conn_set_timeout(c, 2000);
	if (ferry_conn_read(c, &(struct ferry_msg){0}, 1) != 0 ||
	    ferry_conn_send(c, &m) != 0 || ferry_conn_close(c) != 0)
		ferry_debug(
		    "%s: could not say it is busy", ferry_conn_peer_addr(c));
}

/* NULL-safe string equality. */
static int
same(const char *x, const char *y)
{
	return x == y || (x != NULL && y != NULL && strcmp(x, y) == 0);
}

/* A directory option as serve uses it: given, or the default. */
static char *
dir_of(const char *given, const char *leaf)
{
	return given != NULL ? strdup(given) : cli_data_dir(leaf);
}

/* What only a restart can change: said, and the value in use stays. */
static void
serve_fixed(const struct serve_args *b)
{
	char *share = dir_of(b->share, "share"),
	     *inbox = dir_of(b->inbox, "inbox");
	const char *changed[4];
	int n = 0;

	if (!same(b->o.listen, st.listen))
		changed[n++] = "listen";
	if (share == NULL || strcmp(share, st.share) != 0)
		changed[n++] = "share";
	if (inbox == NULL || strcmp(inbox, st.inbox) != 0)
		changed[n++] = "inbox";
	if (!same(b->o.identity, st.identity))
		changed[n++] = "identity";
	for (int i = 0; i < n; i++)
		ferry_warn("serve: reload: %s changed: restart ferry-serve to "
		           "apply it; keeping %s",
		    changed[i], changed[i]);
	free(share);
	free(inbox);
}

/*
 * SIGHUP: the file again, the command line over it. A fault leaves all
 * as it was; else the rules, limits and log level apply to connections
 * from now on.
 */
static void
serve_reload(struct daemon_cfg *dcfg)
{
	struct serve_args b = {0};
	struct ferry_config *cfg = NULL;
	struct ferry_access *own = NULL;
	const struct ferry_access *rules = NULL;
	char why[1024], *path = NULL;
	int code;

	cli_capture(why, sizeof(why));
	code = serve_load(st.argc, st.argv, &st.first, &b, &cfg, &path);
	if (code == 0)
		code = serve_rules(&b, cfg, &own, &rules);
	cli_capture(NULL, 0);
	if (code != 0) {
		ferry_warn(
		    "serve: reload: %s; keeping the configuration in use", why);
		ferry_access_free(own);
		ferry_config_free(cfg);
		free(b.allow_read);
		free(path);
		return;
	}
	serve_fixed(&b);
	st.scfg->access = rules;
	ferry_access_free(st.own);
	ferry_config_free(st.cfg);
	free(st.cur.allow_read);
	st.own = own;
	st.cfg = cfg;
	st.cur = b;
	dcfg->timeout_ms = b.o.timeout_ms;
	dcfg->max_conns = b.o.max_conns;
	dcfg->admit = b.o.admit;
	cli_log_daemon(b.o.verbose, b.o.log);
	ferry_info("serve: reload: %s applied to new connections", path);
	free(path);
}

/* The directory path is in, allocated. */
static char *
parent_dir(const char *path)
{
	char *t = strdup(path), *d = t != NULL ? strdup(dirname(t)) : NULL;

	free(t);
	return d;
}

/*
 * The parent, listening and holding its keys: switches to --user, then
 * Landlock lets it read the identity (reloaded when renewed), the share
 * and the configuration file's directory (read again on SIGHUP), and
 * write the inbox; nothing else.
 */
static int
serve_confine(void *arg)
{
	char *iddir = cli_identity_dir(st.identity),
	     *confdir = st.path != NULL ? parent_dir(st.path) : NULL;
	struct ferry_fs_rule rules[] = {
	    {iddir, FERRY_FS_READ, "--identity"},
	    {st.share, FERRY_FS_READ, "--share"},
	    {st.inbox, FERRY_FS_WRITE, "--inbox"},
	    {confdir, FERRY_FS_READ, "--config"},
	};
	int r;

	(void)arg;
	if (iddir == NULL || confdir == NULL)
		r = ferry_errf(FERRY_E_NOMEM, "out of memory");
	else
		r = ferry_sandbox_enter(st.cur.user, rules, 4);
	free(iddir);
	free(confdir);
	return r;
}

static int
serve_confine_child(void)
{
	return ferry_seccomp_apply_child();
}

/* The start: directories, identity; the fixed values kept for reloads. */
static int
serve_start(struct ferry_serve_cfg *scfg, struct daemon_cfg *dcfg)
{
	const struct serve_args *a = &st.cur;
	struct ferry_tls_opts topts = {.role = FERRY_TLS_SERVER};
	int code;

	st.share = dir_of(a->share, "share");
	st.inbox = dir_of(a->inbox, "inbox");
	st.listen = strdup(a->o.listen);
	st.identity = a->o.identity != NULL ? strdup(a->o.identity) : NULL;
	if (st.share == NULL || st.inbox == NULL || st.listen == NULL ||
	    (a->o.identity != NULL && st.identity == NULL))
		return cli_fail(FERRY_E_NOMEM, "serve");
	if ((code = serve_rules(a, st.cfg, &st.own, &scfg->access)) != 0 ||
	    (code = open_dir("--share", st.share, &scfg->share_fd)) != 0 ||
	    (code = open_dir("--inbox", st.inbox, &scfg->inbox_fd)) != 0 ||
	    (code = cli_tls("serve", a->o.identity, &topts, &dcfg->tls)) != 0)
		return code;
	dcfg->listen = st.listen;
	dcfg->timeout_ms = a->o.timeout_ms;
	dcfg->max_conns = a->o.max_conns;
	dcfg->admit = a->o.admit;
	return 0;
}

static int
serve_run(void)
{
	struct ferry_serve_cfg scfg = {.share_fd = -1, .inbox_fd = -1};
	struct daemon_cfg dcfg = {.name = "serve",
	    .session = session,
	    .busy = serve_busy,
	    .reload = serve_reload,
	    .arg = &scfg,
	    .confine = serve_confine,
	    .confine_child = serve_confine_child};
	char self[FERRY_MAX_ID + 1];
	int code, r;

	cli_log_daemon(st.cur.o.verbose, st.cur.o.log);
	st.scfg = &scfg;
	if ((code = serve_start(&scfg, &dcfg)) != 0)
		goto out;
	/* A copy: the daemon replaces dcfg.tls when the identity changes. */
	snprintf(self, sizeof(self), "%s", ferry_tls_self_id(dcfg.tls));
	scfg.self_id = self;
	ferry_info("serve: member '%s', sharing %s, receiving into %s",
	    scfg.self_id, st.share, st.inbox);
	if ((r = daemon_run(&dcfg)) != 0) {
		code = cli_fail(r, "serve");
		goto out;
	}
	code = EXIT_OK;
out:
	ferry_tls_free(dcfg.tls);
	if (scfg.share_fd >= 0)
		close(scfg.share_fd);
	if (scfg.inbox_fd >= 0)
		close(scfg.inbox_fd);
	return code;
}

int
cmd_serve(int argc, char **argv)
{
	int code;

	st.argc = argc;
	st.argv = argv;
	if ((code = serve_args_init(&st.first, argc)) == 0 &&
	    (code = serve_parse(argc, argv, &st.first)) == 0 &&
	    (code = serve_load(
	         argc, argv, &st.first, &st.cur, &st.cfg, &st.path)) == 0 &&
	    (code = ferry_priv_check(st.cur.user, st.cur.allow_root)) != 0)
		code = cli_fail(code, "serve");
	else if (code == 0)
		code = serve_run();
	free(st.first.allow_read);
	free(st.cur.allow_read);
	ferry_access_free(st.own);
	ferry_config_free(st.cfg);
	free(st.path);
	free(st.listen);
	free(st.share);
	free(st.inbox);
	free(st.identity);
	memset(&st, 0, sizeof(st));
	return code;
}
