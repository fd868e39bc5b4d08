/* cmd_authd.c - ferry authd: the enrollment server's command line.
 * Parses options into a struct authd_cfg and hands over to authd_run. */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/log.h"
#include "ferry/net.h"
#include "ferry/pki.h"
#include "ferry/sandbox.h"

#include "authd.h"
#include "cli.h"

static const char authd_usage[] =
    "usage: ferry authd --ca-dir DIR [--db FILE] [--listen HOST:PORT]\n"
    "                   [--cert-days N] [--name NAME]... [--allow-dns "
    "SUFFIX]...\n"
    "                   [--allow-tls12] [--timeout SECS] [--max-conns N] "
    "[-v]\n"
    "                   [--max-startups START:RATE:FULL] [--per-source N]\n"
    "                   [--login-grace SECS] [--user NAME] [--allow-root]\n"
    "\n"
    "The organization's enrollment server: EST (RFC 7030) over HTTPS.\n"
    "Members log in with their account (ferry user) and get a certificate\n"
    "for a key made on their own machine (ferry enroll, or curl + openssl).\n"
    "\n"
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
	OPT_USER,
	OPT_ALLOW_ROOT,
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
	char *t = strdup(cfg->db_path);
	struct ferry_fs_rule rules[] = {
	    {cfg->ca_dir, FERRY_FS_WRITE, "--ca-dir"},
	    /* SQLite's -wal and -shm files live next to the database. */
	    {t != NULL ? dirname(t) : NULL, FERRY_FS_WRITE, "--db directory"},
	    {cfg->db_path, FERRY_FS_WRITE, "--db"},
	};
	int r;

	if (t == NULL)
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	/* A database not made yet is created by the user, in its directory. */
	r = ferry_sandbox_enter(
	    cfg->user, rules, access(cfg->db_path, F_OK) == 0 ? 3 : 2);
	free(t);
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

/*
 * --name: host names or IPs, refused rather than dropped when malformed.
 * --allow-dns: domains ('.' for any); a leading dot is refused, since the
 * domain itself is allowed along with every name under it.
 */
static int
check_names(const char *cmd, const struct authd_cfg *cfg)
{
	char norm[FERRY_MAX_HOSTNAME + 1];
	enum ferry_host_kind kind;
	int r;

	for (size_t i = 0; i < cfg->n_names; i++)
		if ((r = ferry_host_normalize(cfg->names[i], norm, &kind)) != 0)
			return cli_fail(r, "%s: --name", cmd);
	for (size_t i = 0; i < cfg->n_allow_dns; i++) {
		const char *d = cfg->allow_dns[i];

		if (strcmp(d, ".") == 0)
			continue;
		if (d[0] == '.') {
			cli_error("%s: --allow-dns '%s': give the domain "
			          "without the leading dot ('%s' allows it and "
			          "every name under it)",
			    cmd, d, d + 1);
			return EXIT_USAGE;
		}
		if ((r = ferry_host_normalize(d, norm, &kind)) != 0)
			return cli_fail(r, "%s: --allow-dns", cmd);
		if (kind != FERRY_HOST_DNS) {
			cli_error("%s: --allow-dns '%s' is an IP address; IPs "
			          "are bound to accounts with 'ferry user dns'",
			    cmd, d);
			return EXIT_USAGE;
		}
	}
	return 0;
}

int
cmd_authd(int argc, char **argv)
{
	static const char cmd[] = "authd";
	static const struct option longopts[] = {
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
	    {"user", required_argument, NULL, OPT_USER},
	    {"allow-root", no_argument, NULL, OPT_ALLOW_ROOT},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct authd_cfg cfg;
	const char **names = NULL, **allow = NULL;
	const char *listen = "0.0.0.0:" AUTHD_DEFAULT_PORT;
	char dbpath[PATH_MAX], hostport[FERRY_MAX_HOST + 16];
	char host[FERRY_MAX_HOST + 1];
	long v;
	int c, r, verbose = 0, ret = EXIT_USAGE;

	memset(&cfg, 0, sizeof(cfg));
	cfg.cert_days = 7;
	cfg.crl_days = 7;
	cfg.timeout_s = 10;
	cfg.max_conns = 256;
	if ((names = calloc((size_t)argc, sizeof(*names))) == NULL ||
	    (allow = calloc((size_t)argc, sizeof(*allow))) == NULL) {
		ret = cli_fail(FERRY_E_NOMEM, "%s", cmd);
		goto out;
	}
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CA_DIR:
			cfg.ca_dir = optarg;
			break;
		case OPT_DB:
			cfg.db_path = optarg;
			break;
		case OPT_LISTEN:
			listen = optarg;
			break;
		case OPT_CERT_DAYS:
			if (cli_parse_int(
			        "authd: --cert-days", optarg, 1, 3650, &v) != 0)
				goto out;
			cfg.cert_days = (int)v;
			break;
		case OPT_CRL_DAYS:
			if (cli_parse_int(
			        "authd: --crl-days", optarg, 1, 365, &v) != 0)
				goto out;
			cfg.crl_days = (int)v;
			break;
		case OPT_NAME:
			names[cfg.n_names++] = optarg;
			break;
		case OPT_ALLOW_DNS:
			allow[cfg.n_allow_dns++] = optarg;
			break;
		case OPT_ALLOW_TLS12:
			cfg.allow_tls12 = 1;
			break;
		case OPT_USER:
			cfg.user = optarg;
			break;
		case OPT_ALLOW_ROOT:
			cfg.allow_root = 1;
			break;
		case OPT_TIMEOUT:
			if (cli_parse_int(
			        "authd: --timeout", optarg, 1, 3600, &v) != 0)
				goto out;
			cfg.timeout_s = (int)v;
			break;
		case OPT_MAX_CONNS:
			if (cli_parse_int("authd: --max-conns", optarg, 1,
			        100000, &v) != 0)
				goto out;
			cfg.max_conns = (int)v;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(authd_usage, stdout);
			ret = EXIT_OK;
			goto out;
		default:
			if ((r = admit_opt(c, optarg, &cfg.admit)) == 0)
				break;
			ret = r == 1 ? cli_opt_error(cmd, c, argv) : r;
			goto out;
		}
	}
	if (optind < argc) {
		cli_error("%s: unexpected argument '%s' (see 'ferry authd "
		          "--help')",
		    cmd, argv[optind]);
		goto out;
	}
	if (cfg.ca_dir == NULL || *cfg.ca_dir == '\0') {
		cli_error(
		    "%s: --ca-dir is required (see 'ferry authd --help')", cmd);
		goto out;
	}
	if (split_listen(
	        listen, host, sizeof(host), hostport, sizeof(hostport)) != 0) {
		cli_error("%s: --listen: '%s' is not HOST:PORT", cmd, listen);
		goto out;
	}
	cfg.listen_host = host;
	cfg.listen = hostport;
	if (cfg.db_path == NULL) {
		if ((size_t)snprintf(dbpath, sizeof(dbpath), "%s/ferry.db",
		        cfg.ca_dir) >= sizeof(dbpath)) {
			cli_error("%s: --ca-dir: path too long", cmd);
			goto out;
		}
		cfg.db_path = dbpath;
	}
	cfg.names = names;
	cfg.allow_dns = allow;
	if ((ret = check_names(cmd, &cfg)) != 0 ||
	    (ret = check_root(cmd, &cfg)) != 0)
		goto out;
	ret = EXIT_USAGE;
	cli_log_setup(verbose, 1);
	if ((r = authd_run(&cfg)) != 0) {
		ret = cli_fail(r, "%s", cmd);
		goto out;
	}
	ret = EXIT_OK;
out:
	free(names);
	free(allow);
	return ret;
}
