/* cmd_authd.c - ferry authd: the enrollment server's command line.
 * Parses options into a struct authd_cfg and hands over to authd_run. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/config.h"
#include "ferry/log.h"
#include "ferry/net.h"
#include "ferry/pki.h"
#include "ferry/sandbox.h"

#include "authd.h"
#include "cli.h"

static const char authd_usage[] =
    "usage: ferry authd --ca-dir DIR [--db FILE] [--listen HOST:PORT]\n"
    "                   [--config FILE]\n"
    "                   [--cert-days N] [--name NAME]... [--allow-dns "
    "SUFFIX]...\n"
    "                   [--allow-tls12] [--timeout SECS] [--max-conns N] "
    "[-v]\n"
    "                   [--max-startups START:RATE:FULL] [--per-source N]\n"
    "                   [--login-grace SECS] [--user NAME] [--allow-root]\n"
    "                   [--log auto|stderr|journal|syslog]\n"
    "\n"
    "The organization's enrollment server: EST (RFC 7030) over HTTPS.\n"
    "Members log in with their account (ferry user) and get a certificate\n"
    "for a key made on their own machine (ferry enroll, or curl + openssl).\n"
    "\n"
    "  --config FILE      settings from FILE's [authd] section: every\n"
    "                     option below is a key (cert-days = 7); options\n"
    "                     given here win; SIGHUP reads it again\n"
    "  --ca-dir DIR       the CA directory (ferry ca init)\n"
    "  --db FILE          accounts and audit record (default DIR/ferry.db)\n"
    "  --listen HOST:PORT where to listen (default 0.0.0.0:8443)\n"
    "  --cert-days N      validity of issued certificates (default 7)\n"
    "  --crl-days N       validity of the CRL it serves (default 7)\n"
    "  --name NAME        a DNS name or IP for authd's own certificate\n"
    "                     (repeatable; localhost, 127.0.0.1, ::1 and this\n"
    "                     host's name are always in it)\n"
    "  --allow-dns DOMAIN a guard on top of the names bound to accounts\n"
    "                     ('ferry user dns'): only DOMAIN and names under\n"
    "                     it are issued (repeatable; default: any bound)\n"
    "  --allow-tls12      also accept TLS 1.2 (ECDHE + AEAD) for old "
    "clients\n"
    "  --timeout SECS     drop a connection idle this long (default 10)\n"
    "  --max-conns N      connections past the TLS handshake at most\n"
    "                     (default 256); more are answered 503 (busy)\n"
    "  --max-startups START:RATE:FULL\n"
    "                     connections still in the handshake: random\n"
    "                     early drop from START, none past FULL\n"
    "                     (default 10:30:60; see ferry(1) serve)\n"
    "  --per-source N     handshakes under way from one address (10)\n"
    "  --login-grace SECS time to finish the handshake (default 10)\n"
    "  --user NAME        started as root: switch to NAME once listening\n"
    "  --allow-root       run on as root (refused without this or --user)\n"
    "  --log DEST         auto (journald's when started by systemd, else\n"
    "                     stderr), stderr, journal or syslog\n"
    "  -v, --verbose      debug logging\n";

enum {
	OPT_CA_DIR = 256,
	OPT_DB,
	OPT_LISTEN,
	OPT_CERT_DAYS,
	OPT_CRL_DAYS,
	OPT_NAME,
	OPT_ALLOW_DNS,
	OPT_ALLOW_TLS12,
	OPT_TIMEOUT,
	OPT_MAX_CONNS,
	OPT_MAX_STARTUPS,
	OPT_PER_SOURCE,
	OPT_LOGIN_GRACE,
	OPT_CONFIG,
	OPT_USER,
	OPT_ALLOW_ROOT,
	OPT_LOG,
};

/* The handshake pool's options: 0 taken, 1 not one of them, else EXIT_USAGE. */
static int
admit_opt(int c, const char *arg, struct ferry_admit_policy *p)
{
	long v;
	int r;

	switch (c) {
	case OPT_MAX_STARTUPS:
		if ((r = ferry_admit_parse(arg, p)) != 0) {
			cli_fail(r, "authd: --max-startups");
			return EXIT_USAGE;
		}
		return 0;
	case OPT_PER_SOURCE:
		if (cli_parse_int("authd: --per-source", arg, 1,
		        FERRY_ADMIT_MAX_FULL, &v) != 0)
			return EXIT_USAGE;
		p->per_source = (int)v;
		return 0;
	case OPT_LOGIN_GRACE:
		if (cli_parse_int("authd: --login-grace", arg, 1,
		        FERRY_ADMIT_MAX_GRACE_S, &v) != 0)
			return EXIT_USAGE;
		p->grace_s = (int)v;
		return 0;
	}
	return 1;
}

/* Root goes on only with --user or --allow-root: 0 or EXIT_USAGE. */
static int
check_root(const char *cmd, const struct authd_cfg *cfg)
{
	int r = ferry_priv_check(cfg->user, cfg->allow_root);

	return r != 0 ? cli_fail(r, "%s", cmd) : 0;
}

int
authd_confine(const struct authd_cfg *cfg)
{
	char *db = strdup(cfg->db_path),
	     *conf = cfg->config != NULL ? strdup(cfg->config) : NULL;
	struct ferry_fs_rule rules[4] = {
	    {cfg->ca_dir, FERRY_FS_WRITE, "--ca-dir"},
	    /* SQLite's -wal and -shm files live next to the database. */
	    {db != NULL ? dirname(db) : NULL, FERRY_FS_WRITE, "--db directory"},
	};
	size_t n = 2;
	int r;

	if (db == NULL || (cfg->config != NULL && conf == NULL)) {
		free(db);
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	}
	/* The file's directory, read again on SIGHUP (editors replace it). */
	if (conf != NULL)
		rules[n++] = (struct ferry_fs_rule){
		    dirname(conf), FERRY_FS_READ, "--config"};
	/* A database not made yet is created by the user, in its directory. */
	if (access(cfg->db_path, F_OK) == 0)
		rules[n++] = (struct ferry_fs_rule){
		    cfg->db_path, FERRY_FS_WRITE, "--db"};
	r = ferry_sandbox_enter(cfg->user, rules, n);
	free(db);
	free(conf);
	return r;
}

/*
 * "HOST:PORT", "[V6]:PORT", or either without the port (8443): the host
 * (for authd's certificate) and the full "host:port" to listen on.
 */
static int
split_listen(
    const char *s, char *host, size_t hostlen, char *hostport, size_t hplen)
{
	const char *end, *port = NULL;
	size_t n;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return -1;
		n = (size_t)(end - s - 1);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -1;
		s++;
	} else {
		end = strrchr(s, ':');
		if (end != NULL && strchr(s, ':') != end)
			return -1; /* a bare IPv6 literal: needs brackets */
		n = end != NULL ? (size_t)(end - s) : strlen(s);
		port = end != NULL ? end + 1 : NULL;
	}
	if (n == 0 || n >= hostlen || (port != NULL && *port == '\0'))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	ferry_addr_format(
	    host, port != NULL ? port : AUTHD_DEFAULT_PORT, hostport, hplen);
	return 0;
}

/* --name: a host name or IP, refused rather than dropped when malformed. */
static int
check_name(const char *name)
{
	char norm[FERRY_MAX_HOSTNAME + 1];
	enum ferry_host_kind kind;
	int r;

	if ((r = ferry_host_normalize(name, norm, &kind)) != 0)
		return cli_fail(r, "authd: --name");
	return 0;
}

/*
 * --allow-dns: a domain ('.' for any); a leading dot is refused, since the
 * domain itself is allowed along with every name under it.
 */
static int
check_allow_dns(const char *d)
{
	char norm[FERRY_MAX_HOSTNAME + 1];
	enum ferry_host_kind kind;
	int r;

	if (strcmp(d, ".") == 0)
		return 0;
	if (d[0] == '.') {
		cli_error("authd: --allow-dns '%s': give the domain without "
		          "the leading dot ('%s' allows it and every name "
		          "under it)",
		    d, d + 1);
		return EXIT_USAGE;
	}
	if ((r = ferry_host_normalize(d, norm, &kind)) != 0)
		return cli_fail(r, "authd: --allow-dns");
	if (kind != FERRY_HOST_DNS) {
		cli_error("authd: --allow-dns '%s' is an IP address; IPs are "
		          "bound to accounts with 'ferry user dns'",
		    d);
		return EXIT_USAGE;
	}
	return 0;
}

static const struct option authd_opts[] = {
    {"ca-dir", required_argument, NULL, OPT_CA_DIR},
    {"db", required_argument, NULL, OPT_DB},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"cert-days", required_argument, NULL, OPT_CERT_DAYS},
    {"crl-days", required_argument, NULL, OPT_CRL_DAYS},
    {"name", required_argument, NULL, OPT_NAME},
    {"allow-dns", required_argument, NULL, OPT_ALLOW_DNS},
    {"allow-tls12", no_argument, NULL, OPT_ALLOW_TLS12},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"max-startups", required_argument, NULL, OPT_MAX_STARTUPS},
    {"per-source", required_argument, NULL, OPT_PER_SOURCE},
    {"login-grace", required_argument, NULL, OPT_LOGIN_GRACE},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"user", required_argument, NULL, OPT_USER},
    {"allow-root", no_argument, NULL, OPT_ALLOW_ROOT},
    {"log", required_argument, NULL, OPT_LOG},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};
/* The command line's list of these replaces the file's. */
static const char *const authd_repeatable[] = {"name", "allow-dns", NULL};

/* Everything the command line and the file say, and what it fills in. */
struct authd_args {
	struct authd_cfg cfg;
	const char **names, **allow; /* cfg's lists */
	size_t cap;
	const char *listen, *config;
	int verbose;
	enum ferry_log_dest log; /* --log */
	int from_file; /* options now come from the configuration file */
	int names_from_file, allow_from_file; /* the lists are the file's */
	char dbpath[PATH_MAX], hostport[FERRY_MAX_HOST + 16];
	char host[FERRY_MAX_HOST + 1];
};

/* Appends v to a repeatable option's list; the command line's replaces. */
static int
list_add(struct authd_args *a, const char **list, size_t *n, int *from_file,
    const char *v)
{
	if (*from_file != a->from_file)
		*n = 0;
	*from_file = a->from_file;
	if (*n == a->cap)
		return cli_fail(FERRY_E_NOMEM, "authd");
	list[(*n)++] = v;
	return 0;
}

/* A number option into *out: 0 or EXIT_USAGE (one line said). */
static int
int_opt(const char *label, long max, int *out)
{
	long v;

	if (cli_parse_int(label, optarg, 1, max, &v) != 0)
		return EXIT_USAGE;
	*out = (int)v;
	return 0;
}

/* One option, from the command line or the file: 0 or an exit code. */
static int
authd_opt(void *arg, int c)
{
	struct authd_args *a = arg;
	int r;

	switch (c) {
	case OPT_CA_DIR:
		a->cfg.ca_dir = optarg;
		return 0;
	case OPT_DB:
		a->cfg.db_path = optarg;
		return 0;
	case OPT_LISTEN:
		a->listen = optarg;
		return 0;
	case OPT_CONFIG:
		a->config = optarg;
		return 0;
	case OPT_CERT_DAYS:
		return int_opt("authd: --cert-days", 3650, &a->cfg.cert_days);
	case OPT_CRL_DAYS:
		return int_opt("authd: --crl-days", 365, &a->cfg.crl_days);
	case OPT_NAME:
		if ((r = check_name(optarg)) != 0)
			return r;
		return list_add(
		    a, a->names, &a->cfg.n_names, &a->names_from_file, optarg);
	case OPT_ALLOW_DNS:
		if ((r = check_allow_dns(optarg)) != 0)
			return r;
		return list_add(a, a->allow, &a->cfg.n_allow_dns,
		    &a->allow_from_file, optarg);
	case OPT_ALLOW_TLS12:
		a->cfg.allow_tls12 = 1;
		return 0;
	case OPT_USER:
		a->cfg.user = optarg;
		return 0;
	case OPT_ALLOW_ROOT:
		a->cfg.allow_root = 1;
		return 0;
	case OPT_TIMEOUT:
		return int_opt("authd: --timeout", 3600, &a->cfg.timeout_s);
	case OPT_MAX_CONNS:
		return int_opt("authd: --max-conns", 100000, &a->cfg.max_conns);
	case OPT_LOG:
		return cli_log_opt("authd", optarg, &a->log);
	case 'v':
		a->verbose = 1;
		return 0;
	case 'h':
		fputs(authd_usage, stdout);
		exit(EXIT_OK);
	}
	if ((r = admit_opt(c, optarg, &a->cfg.admit)) != 1)
		return r;
	return cli_opt_error("authd", c, NULL);
}

/* Defaults, and room for the lists of argc arguments or a file's lines. */
static int
authd_args_init(struct authd_args *a, int argc)
{
	memset(a, 0, sizeof(*a));
	a->cfg.cert_days = 7;
	a->cfg.crl_days = 7;
	a->cfg.timeout_s = 10;
	a->cfg.max_conns = 256;
	a->listen = "0.0.0.0:" AUTHD_DEFAULT_PORT;
	a->cap = (size_t)argc + FERRY_CONFIG_MAX_LINES;
	if ((a->names = calloc(a->cap, sizeof(*a->names))) == NULL ||
	    (a->allow = calloc(a->cap, sizeof(*a->allow))) == NULL)
		return cli_fail(FERRY_E_NOMEM, "authd");
	a->cfg.names = a->names;
	a->cfg.allow_dns = a->allow;
	return 0;
}

static void
authd_args_free(struct authd_args *a)
{
	free(a->names);
	free(a->allow);
	a->names = a->allow = NULL;
}

/* The command line into a, over what a holds (defaults, the file). */
static int
authd_parse(int argc, char **argv, struct authd_args *a)
{
	int c, code;

	a->from_file = 0;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv", authd_opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return cli_opt_error("authd", c, argv);
		if ((code = authd_opt(a, c)) != 0)
			return code;
	}
	if (optind < argc)
		return cli_extra_arg("authd", argv[optind]);
	return 0;
}

/* What follows from the options: required ones, listen, db, names. */
static int
authd_finish(struct authd_args *a)
{
	struct authd_cfg *cfg = &a->cfg;

	if (cfg->ca_dir == NULL || *cfg->ca_dir == '\0') {
		cli_error("authd: --ca-dir is required (see 'ferry authd "
		          "--help')");
		return EXIT_USAGE;
	}
	if (split_listen(a->listen, a->host, sizeof(a->host), a->hostport,
	        sizeof(a->hostport)) != 0) {
		cli_error("authd: --listen: '%s' is not HOST:PORT", a->listen);
		return EXIT_USAGE;
	}
	cfg->listen_host = a->host;
	cfg->listen = a->hostport;
	if (cfg->db_path == NULL) {
		if ((size_t)snprintf(a->dbpath, sizeof(a->dbpath),
		        "%s/ferry.db", cfg->ca_dir) >= sizeof(a->dbpath)) {
			cli_error("authd: --ca-dir: path too long");
			return EXIT_USAGE;
		}
		cfg->db_path = a->dbpath;
	}
	return 0;
}

/* The command line, for reloads; and the settings the last one made. */
static struct {
	int argc;
	char **argv;
	struct authd_args first;
	struct authd_args next;
	struct ferry_config *next_cfg;
} ast;

/*
 * The settings: defaults, the --config file's [authd] (none without
 * --config), then the command line (checked into first already) over them.
 */
static int
authd_load(int argc, char **argv, const struct authd_args *first,
    struct authd_args *a, struct ferry_config **cfg)
{
	const struct cli_config_apply ap = {.section = "authd",
	    .opts = authd_opts,
	    .repeatable = authd_repeatable,
	    .handle = authd_opt,
	    .arg = a};
	struct stat st;
	int code, r;

	*cfg = NULL;
	if ((code = authd_args_init(a, argc)) != 0)
		return code;
	if (first->config != NULL) {
		if (stat(first->config, &st) != 0)
			r = ferry_errf_errno(ferry_err_from_errno(errno), errno,
			    "%s", first->config);
		else
			r = ferry_config_load(first->config, cfg);
		/* At a reload the detail alone: "FILE:LINE: what". */
		if (r != 0 && a == &ast.next) {
			cli_error("%s", ferry_err_detail(r));
			return cli_exit_code(r);
		}
		if (r != 0)
			return cli_fail(r, "authd: configuration");
		a->from_file = 1;
		if ((code = cli_config_apply(&ap, *cfg, first->config)) != 0)
			return code;
	}
	if ((code = authd_parse(argc, argv, a)) != 0)
		return code;
	return authd_finish(a);
}

/* SIGHUP (authd.h): the file again, the command line over it. */
static int
authd_reload(struct authd_cfg *next, char *why, size_t len)
{
	int code;

	authd_args_free(&ast.next);
	ferry_config_free(ast.next_cfg);
	ast.next_cfg = NULL;
	cli_capture(why, len);
	code = authd_load(
	    ast.argc, ast.argv, &ast.first, &ast.next, &ast.next_cfg);
	cli_capture(NULL, 0);
	if (code != 0)
		return -1;
	cli_log_daemon(ast.next.verbose, ast.next.log);
	*next = ast.next.cfg;
	return 0;
}

int
cmd_authd(int argc, char **argv)
{
	struct authd_args a;
	struct ferry_config *cfg = NULL;
	int code, r;

	ast.argc = argc;
	ast.argv = argv;
	memset(&a, 0, sizeof(a));
	if ((code = authd_args_init(&ast.first, argc)) == 0 &&
	    (code = authd_parse(argc, argv, &ast.first)) == 0 &&
	    (code = authd_load(argc, argv, &ast.first, &a, &cfg)) == 0 &&
	    (code = check_root("authd", &a.cfg)) == 0) {
		cli_log_daemon(a.verbose, a.log);
		a.cfg.config = ast.first.config;
		a.cfg.reload = authd_reload;
		if ((r = authd_run(&a.cfg)) != 0)
			code = cli_fail(r, "authd");
	}
	authd_args_free(&a);
	authd_args_free(&ast.first);
	authd_args_free(&ast.next);
	ferry_config_free(ast.next_cfg);
	ferry_config_free(cfg);
	memset(&ast, 0, sizeof(ast));
	return code;
}
