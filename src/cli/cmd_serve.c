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
	const char *user; /* --user: switched to once listening */
	int allow_root;
};

/* What the parent confines itself to once it listens (serve_confine). */
struct serve_jail {
	const char *user;
	const char *identity, *share, *inbox;
	char *config_dir; /* --config's directory, for a reload; NULL: none */
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

/* The directory path is in, allocated. */
static char *
dir_of(const char *path)
{
	char *t = strdup(path), *d = t != NULL ? strdup(dirname(t)) : NULL;

	free(t);
	return d;
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

static int
serve_parse(int argc, char **argv, struct serve_args *a)
{
	static const struct option opts[] = {
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
	long files;
	int ch, code;

	/* Each --allow-read takes an argument: argc bounds the list. */
	if ((a->allow_read = calloc((size_t)argc, sizeof(char *))) == NULL)
		return cli_fail(FERRY_E_NOMEM, "serve");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:i:vh", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_SHARE:
			a->share = optarg;
			break;
		case OPT_INBOX:
			a->inbox = optarg;
			break;
		case OPT_CONFIG:
			a->config = optarg;
			break;
		case OPT_MEMBERS:
			a->members = optarg;
			break;
		case OPT_ALLOW_READ:
			a->allow_read[a->n_allow_read++] = optarg;
			break;
		case OPT_ALLOW_PUSH:
			a->allow_push = optarg;
			break;
		case OPT_QUOTA:
			a->quota = optarg;
			break;
		case OPT_FILES:
			if (cli_parse_int("serve: --inbox-files", optarg, 0,
			        1000000000, &files) != 0)
				return EXIT_USAGE;
			a->files = optarg;
			break;
		case OPT_USER:
			a->user = optarg;
			break;
		case OPT_ALLOW_ROOT:
			a->allow_root = 1;
			break;
		default:
			if ((code = cli_common_opt(&a->o, ch, argv)) != 0)
				return code;
		}
	}
	if (optind != argc)
		return cli_extra_arg("serve", argv[optind]);
	if ((code = ferry_priv_check(a->user, a->allow_root)) != 0)
		return cli_fail(code, "serve");
	return serve_check(a);
}

/*
 * The rules: the configuration file's [serve] and [read PATH] sections
 * (--config, else IDDIR/config), then the command line over them.
 */
static int
serve_rules(const struct serve_args *a, struct ferry_config **cfg,
    struct ferry_access **own, const struct ferry_access **out)
{
	struct ferry_access *x;
	char *dir = NULL, *path = NULL;
	uint64_t qb, qf, v;
	struct stat st;
	int r;

	if (a->config == NULL &&
	    ((dir = cli_identity_dir(a->o.identity)) == NULL ||
	        asprintf(&path, "%s/config", dir) < 0)) {
		free(dir);
		return cli_fail(FERRY_E_NOMEM, "serve");
	}
	free(dir);
	/* A file named on the command line must be there. */
	if (a->config != NULL && stat(a->config, &st) != 0)
		r = ferry_errf_errno(
		    ferry_err_from_errno(errno), errno, "%s", a->config);
	else
		r = ferry_config_load(a->config ? a->config : path, cfg);
	free(path);
	if (r != 0)
		return cli_fail(r, "serve: configuration");
	if ((x = ferry_config_serve(*cfg)) == NULL) {
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

/*
 * The parent, listening and holding its keys: switches to --user, then
 * Landlock lets it read the identity (reloaded when renewed), the share
 * and the configuration's directory, and write the inbox; nothing else.
 */
static int
serve_confine(void *arg)
{
	const struct serve_jail *j = arg;
	struct ferry_fs_rule rules[] = {
	    {j->identity, FERRY_FS_READ, "--identity"},
	    {j->share, FERRY_FS_READ, "--share"},
	    {j->inbox, FERRY_FS_WRITE, "--inbox"},
	    {j->config_dir, FERRY_FS_READ, "--config"},
	};

	return ferry_sandbox_enter(
	    j->user, rules, j->config_dir != NULL ? 4 : 3);
}

static int
serve_confine_child(void)
{
	return ferry_seccomp_apply_child();
}

static int
serve_run(const struct serve_args *a)
{
	struct ferry_tls_opts topts = {.role = FERRY_TLS_SERVER};
	struct ferry_serve_cfg scfg = {.share_fd = -1, .inbox_fd = -1};
	struct daemon_cfg dcfg = {.name = "serve",
	    .session = session,
	    .busy = serve_busy,
	    .arg = &scfg,
	    .confine = serve_confine,
	    .confine_child = serve_confine_child};
	struct serve_jail jail = {.user = a->user};
	struct ferry_config *cfg = NULL;
	struct ferry_access *own = NULL;
	char *share = NULL, *inbox = NULL, *iddir = NULL;
	char self[FERRY_MAX_ID + 1];
	int code = EXIT_FAIL, r;

	cli_log_setup(a->o.verbose, 1);
	share = a->share != NULL ? strdup(a->share) : cli_data_dir("share");
	inbox = a->inbox != NULL ? strdup(a->inbox) : cli_data_dir("inbox");
	iddir = cli_identity_dir(a->o.identity);
	if (share == NULL || inbox == NULL || iddir == NULL ||
	    (a->config != NULL &&
	        (jail.config_dir = dir_of(a->config)) == NULL))
		goto out;
	if ((code = serve_rules(a, &cfg, &own, &scfg.access)) != 0 ||
	    (code = open_dir("--share", share, &scfg.share_fd)) != 0 ||
	    (code = open_dir("--inbox", inbox, &scfg.inbox_fd)) != 0 ||
	    (code = cli_tls("serve", a->o.identity, &topts, &dcfg.tls)) != 0)
		goto out;
	/* A copy: the daemon replaces dcfg.tls when the identity changes. */
	snprintf(self, sizeof(self), "%s", ferry_tls_self_id(dcfg.tls));
	scfg.self_id = self;
	ferry_info("serve: member '%s', sharing %s, receiving into %s",
	    scfg.self_id, share, inbox);
	dcfg.listen = a->o.listen;
	dcfg.timeout_ms = a->o.timeout_ms;
	dcfg.max_conns = a->o.max_conns;
	dcfg.admit = a->o.admit;
	jail.identity = iddir;
	jail.share = share;
	jail.inbox = inbox;
	dcfg.confine_arg = &jail;
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
	ferry_access_free(own);
	ferry_config_free(cfg);
	free(share);
	free(inbox);
	free(iddir);
	free(jail.config_dir);
	return code;
}

int
cmd_serve(int argc, char **argv)
{
	struct serve_args a = {.o = {.cmd = "serve",
	                           .usage = usage,
	                           .timeout_ms = 60000,
	                           .listen = "0.0.0.0:" FERRY_DEFAULT_PORT,
	                           .max_conns = 64}};
	int code = serve_parse(argc, argv, &a);

	if (code == 0)
		code = serve_run(&a);
	free(a.allow_read);
	return code;
}
