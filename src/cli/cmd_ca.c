/* cmd_ca.c - ferry ca: create an offline CA, issue member identities from it,
 * revoke them and publish the CRL. Thin over ferry/pki.h. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "ferry/limits.h"
#include "ferry/pki.h"
#include "ferry/store.h"

#include "cli.h"

/* Longest validity the command line accepts, in days: a century. */
#define CA_MAX_DAYS 36525

static const char ca_usage[] =
    "usage: ferry ca <command> [options]\n"
    "\n"
    "commands:\n"
    "  init    create a CA directory: ca.key, ca.pem, issuance record\n"
    "  intermediate  create an issuing CA signed by a root CA (for authd)\n"
    "  issue   make a member's key and certificate, signed by the CA\n"
    "  revoke  revoke a member's certificate(s) and renew the CRL\n"
    "  crl     sign a fresh CRL (DIR/crl.pem) and print it\n"
    "\n"
    "'ferry ca <command> --help' shows a command's options.\n";

static const char intermediate_usage[] =
    "usage: ferry ca intermediate --dir ROOTDIR --out ISSUERDIR --name NAME\n"
    "                             [--key-type TYPE] [--days N] [--crl-days N]\n"
    "\n"
    "Creates an issuing CA in ISSUERDIR (made 0700 if missing), signed by\n"
    "the root CA in ROOTDIR (pathlen 0: it signs members, never a CA):\n"
    "ca.key (0600), ca.pem, root.pem, root-crl.pem (the root's CRL),\n"
    "index.tsv and certs/. The root records it in ROOTDIR/index.tsv, so\n"
    "'ferry ca revoke --dir ROOTDIR --serial HEX' revokes it. authd runs\n"
    "from ISSUERDIR and never needs ROOTDIR; members trust the root alone.\n"
    "\n"
    "  --dir ROOTDIR     the root CA's directory (keep it offline)\n"
    "  --out ISSUERDIR   the issuing CA's directory; must not hold a CA\n"
    "  --name NAME       the issuing CA's common name\n"
    "  --key-type TYPE   p256 (default), ed25519 or rsa3072\n"
    "  --days N          validity in days (default 1825, at most the root's)\n"
    "  --crl-days N      validity of the root CRL written to ISSUERDIR\n"
    "                    (default 30)\n"
    "  -v, --verbose     log OpenSSL's errors too\n";

static const char init_usage[] =
    "usage: ferry ca init --dir DIR [--name NAME] [--key-type TYPE] "
    "[--days N]\n"
    "\n"
    "Creates a CA in DIR (made 0700 if missing): ca.key (0600), the\n"
    "self-signed ca.pem, index.tsv and certs/, the record of what it issues.\n"
    "Prints the CA certificate's fingerprint, which members check.\n"
    "\n"
    "  --dir DIR         the CA directory; must not hold a CA already\n"
    "  --name NAME       the CA's common name (default \"ferry Root CA\")\n"
    "  --key-type TYPE   p256 (default), ed25519 or rsa3072\n"
    "  --days N          validity in days (default 3650)\n"
    "  -v, --verbose     log OpenSSL's errors too\n";

static const char issue_usage[] =
    "usage: ferry ca issue --dir DIR --name ID --out IDDIR [options]\n"
    "\n"
    "Makes a key for member ID and a certificate for it signed by the CA in\n"
    "DIR, and writes both with the CA certificate to IDDIR: key.pem (0600),\n"
    "cert.pem, ca.pem. The issuance is recorded in DIR.\n"
    "\n"
    "  --dir DIR          the CA directory\n"
    "  --name ID          the member ID: letters, digits, '.', '_', '-'\n"
    "  --out IDDIR        where to write the identity; must not hold "
    "key.pem\n"
    "  --dns NAME         a host name the member also answers to "
    "(repeatable)\n"
    "  --ip ADDR          an IPv4/IPv6 address likewise (repeatable)\n"
    "  --group NAME       a group the member belongs to, carried in the\n"
    "                     certificate (repeatable, at most 32)\n"
    "  --key-type TYPE    p256 (default), ed25519 or rsa3072\n"
    "  --days N           validity in days (default 365)\n"
    "  --not-before TIME  start of validity (default: 5 minutes ago)\n"
    "  --not-after TIME   end of validity, instead of --days\n"
    "  -v, --verbose      log OpenSSL's errors too\n"
    "\n"
    "TIME is YYYY-MM-DD (midnight UTC) or YYYY-MM-DDTHH:MM:SSZ.\n";

enum {
	OPT_DIR = 256,
	OPT_NAME,
	OPT_KEY_TYPE,
	OPT_DAYS,
	OPT_DNS,
	OPT_IP,
	OPT_NOT_BEFORE,
	OPT_NOT_AFTER,
	OPT_OUT,
	OPT_SERIAL,
	OPT_DB,
	OPT_GROUP,
	OPT_CRL_DAYS,
};

static const char revoke_usage[] =
    "usage: ferry ca revoke --dir DIR (--serial HEX | --name ID) [--db FILE]\n"
    "\n"
    "Marks the certificate with serial HEX, or every valid certificate of\n"
    "member ID, revoked in DIR/index.tsv, then signs a fresh DIR/crl.pem.\n"
    "Peers refuse a revoked certificate once they have that CRL ('ferry crl\n"
    "update'); authd refuses to renew it at once. --name also disables the\n"
    "member's account in authd's database, so the password cannot enroll\n"
    "again until 'ferry user enable'.\n"
    "\n"
    "  --dir DIR       the CA directory\n"
    "  --serial HEX    the certificate's serial (openssl x509 -serial)\n"
    "  --name ID       every valid certificate of this member\n"
    "  --db FILE       record the revocation in authd's database (default:\n"
    "                  DIR/ferry.db when it exists)\n"
    "  --days N        the new CRL's validity in days (default 7)\n"
    "  -v, --verbose   log OpenSSL's errors too\n";

static const char crl_usage[] =
    "usage: ferry ca crl --dir DIR [--out FILE] [--days N]\n"
    "\n"
    "Signs a fresh CRL of every certificate revoked in DIR, writes it to\n"
    "DIR/crl.pem and prints it (PEM) on stdout, or writes it to FILE.\n"
    "\n"
    "  --dir DIR       the CA directory\n"
    "  --out FILE      write the PEM CRL here instead of stdout\n"
    "  --days N        validity (nextUpdate) in days (default 7)\n"
    "  -v, --verbose   log OpenSSL's errors too\n";

static int
digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "YYYY-MM-DD" (00:00:00 UTC) or "YYYY-MM-DDTHH:MM:SSZ". */
static int
parse_time(const char *cmd, const char *opt, const char *s, time_t *out)
{
	struct tm tm, chk;
	size_t len = strlen(s);
	int y, mo, d, h = 0, mi = 0, sec = 0;
	time_t t;

	if ((len != 10 && len != 20) || s[4] != '-' || s[7] != '-' ||
	    digits(s, 4, &y) != 0 || digits(s + 5, 2, &mo) != 0 ||
	    digits(s + 8, 2, &d) != 0)
		goto bad;
	if (len == 20 &&
	    (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
	        digits(s + 11, 2, &h) != 0 || digits(s + 14, 2, &mi) != 0 ||
	        digits(s + 17, 2, &sec) != 0))
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm normalizes 02-30 to 03-02; a round trip catches it. */
	if (t == (time_t)-1 || gmtime_r(&t, &chk) == NULL ||
	    chk.tm_year != y - 1900 || chk.tm_mon != mo - 1 ||
	    chk.tm_mday != d || chk.tm_hour != h || chk.tm_min != mi ||
	    chk.tm_sec != sec)
		goto bad;
	if (t <= 0) {
		cli_error("%s: %s: '%s' is not after 1970-01-01", cmd, opt, s);
		return EXIT_USAGE;
	}
	*out = t;
	return 0;
bad:
	cli_error("%s: %s: '%s' is not a UTC time YYYY-MM-DD or "
	          "YYYY-MM-DDTHH:MM:SSZ",
	    cmd, opt, s);
	return EXIT_USAGE;
}

static int
ca_init(int argc, char **argv)
{
	static const char cmd[] = "ca init";
	static const struct option longopts[] = {
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"key-type", required_argument, NULL, OPT_KEY_TYPE},
	    {"days", required_argument, NULL, OPT_DAYS},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ferry_ca_init_opts opts;
	char path[PATH_MAX], fp[80];
	X509 *cert = NULL;
	long days;
	int c, r, verbose = 0;

	memset(&opts, 0, sizeof(opts));
	opts.key_type = FERRY_KEY_P256;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DIR:
			opts.dir = optarg;
			break;
		case OPT_NAME:
			opts.name = optarg;
			break;
		case OPT_KEY_TYPE:
			if ((r = ferry_key_type_parse(
			         optarg, &opts.key_type)) != 0)
				return cli_fail(r, "%s: --key-type", cmd);
			break;
		case OPT_DAYS:
			if (cli_parse_int("ca init: --days", optarg, 1,
			        CA_MAX_DAYS, &days) != 0)
				return EXIT_USAGE;
			opts.days = (int)days;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(init_usage, stdout);
			return EXIT_OK;
		default:
			return cli_opt_error(cmd, c, argv);
		}
	}
	if (optind < argc)
		return cli_extra_arg(cmd, argv[optind]);
	if (opts.dir == NULL || *opts.dir == '\0') {
		cli_error(
		    "%s: --dir is required (see 'ferry %s --help')", cmd, cmd);
		return EXIT_USAGE;
	}
	cli_log_setup(verbose, 0);

	if ((r = ferry_ca_init(&opts)) != 0)
		return cli_fail(r, "%s: cannot create the CA", cmd);
	if ((size_t)snprintf(path, sizeof(path), "%s/ca.pem", opts.dir) >=
	    sizeof(path)) {
		cli_error("%s: %s: path too long", cmd, opts.dir);
		return EXIT_USAGE;
	}
	if ((r = ferry_cert_load(path, &cert)) != 0 ||
	    (r = ferry_cert_fingerprint(cert, fp, sizeof(fp))) != 0) {
		X509_free(cert);
		return cli_fail(
		    r, "%s: created the CA but cannot read it back", cmd);
	}
	X509_free(cert);
	printf("%s %s\n", fp, path);
	return EXIT_OK;
}

struct intermediate_args {
	const char *root_dir;
	struct ferry_ca_intermediate_opts opts;
	int verbose;
};

/* -1: --help was printed; otherwise 0 or an exit status. */
static int
intermediate_parse(int argc, char **argv, struct intermediate_args *a)
{
	static const char cmd[] = "ca intermediate";
	static const struct option longopts[] = {
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"out", required_argument, NULL, OPT_OUT},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"key-type", required_argument, NULL, OPT_KEY_TYPE},
	    {"days", required_argument, NULL, OPT_DAYS},
	    {"crl-days", required_argument, NULL, OPT_CRL_DAYS},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	long days;
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DIR:
			a->root_dir = optarg;
			break;
		case OPT_OUT:
			a->opts.dir = optarg;
			break;
		case OPT_NAME:
			a->opts.name = optarg;
			break;
		case OPT_KEY_TYPE:
			if ((r = ferry_key_type_parse(
			         optarg, &a->opts.key_type)) != 0)
				return cli_fail(r, "%s: --key-type", cmd);
			break;
		case OPT_DAYS:
		case OPT_CRL_DAYS:
			if (cli_parse_int(c == OPT_DAYS
			                      ? "ca intermediate: --days"
			                      : "ca intermediate: --crl-days",
			        optarg, 1, CA_MAX_DAYS, &days) != 0)
				return EXIT_USAGE;
			*(c == OPT_DAYS ? &a->opts.days : &a->opts.crl_days) =
			    (int)days;
			break;
		case 'v':
			a->verbose = 1;
			break;
		case 'h':
			fputs(intermediate_usage, stdout);
			return -1;
		default:
			return cli_opt_error(cmd, c, argv);
		}
	}
	if (optind < argc)
		return cli_extra_arg(cmd, argv[optind]);
	if (a->root_dir == NULL || *a->root_dir == '\0' ||
	    a->opts.dir == NULL || *a->opts.dir == '\0' ||
	    a->opts.name == NULL) {
		cli_error("%s: %s is required (see 'ferry %s --help')", cmd,
		    a->root_dir == NULL || *a->root_dir == '\0'   ? "--dir"
		    : a->opts.dir == NULL || *a->opts.dir == '\0' ? "--out"
		                                                  : "--name",
		    cmd);
		return EXIT_USAGE;
	}
	return 0;
}

static void describe(X509 *cert, char **serial, char until[32]);

static int
intermediate_run(const struct intermediate_args *a)
{
	static const char cmd[] = "ca intermediate";
	struct ferry_ca *root = NULL;
	X509 *cert = NULL;
	char fp[80], *serial = NULL, until[32];
	int r, ret = EXIT_FAIL;

	cli_log_setup(a->verbose, 0);
	if ((r = ferry_ca_load(a->root_dir, &root)) != 0) {
		ret = cli_fail(r, "%s: cannot load the root CA", cmd);
		goto out;
	}
	if ((r = ferry_ca_intermediate(root, &a->opts, &cert)) != 0) {
		ret = cli_fail(r, "%s: cannot create the issuing CA", cmd);
		goto out;
	}
	if ((r = ferry_cert_fingerprint(cert, fp, sizeof(fp))) != 0)
		snprintf(fp, sizeof(fp), "?");
	describe(cert, &serial, until);
	printf("issued CA '%s' serial %s valid until %s -> %s (%s)\n",
	    a->opts.name, serial != NULL ? serial : "?", until, a->opts.dir,
	    fp);
	ret = EXIT_OK;
out:
	OPENSSL_free(serial);
	X509_free(cert);
	ferry_ca_free(root);
	return ret;
}

static int
ca_intermediate(int argc, char **argv)
{
	struct intermediate_args a;
	int r;

	memset(&a, 0, sizeof(a));
	a.opts.key_type = FERRY_KEY_P256;
	if ((r = intermediate_parse(argc, argv, &a)) != 0)
		return r < 0 ? EXIT_OK : r;
	return intermediate_run(&a);
}

/* "12AB..." and "2026-01-31T12:00:00Z" for the summary line. */
static void
describe(X509 *cert, char **serial, char until[32])
{
	BIGNUM *bn;
	struct tm tm;

	*serial = NULL;
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) !=
	    NULL)
		*serial = BN_bn2hex(bn);
	BN_free(bn);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1 ||
	    strftime(until, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(until, 32, "?");
}

/*
 * Refuses before anything is signed if the identity could not be written:
 * a certificate recorded in the CA but never delivered helps nobody.
 * ferry_identity_write checks again, exclusively.
 */
static int
check_out(const char *cmd, const char *out)
{
	char path[PATH_MAX], parent[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/key.pem", out) >=
	    sizeof(path)) {
		cli_error("%s: --out: %s: path too long", cmd, out);
		return EXIT_USAGE;
	}
	if (stat(out, &st) == 0 && !S_ISDIR(st.st_mode))
		return cli_fail(
		    ferry_errf(FERRY_E_NOTDIR, "%s: not a directory", out),
		    "%s: --out", cmd);
	if (stat(out, &st) == -1 && errno == ENOENT) {
		/* It will be created: its parent must be there. */
		char *slash;

		snprintf(parent, sizeof(parent), "%s", out);
		if ((slash = strrchr(parent, '/')) == NULL)
			snprintf(parent, sizeof(parent), ".");
		else if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(parent, &st) == -1 || !S_ISDIR(st.st_mode))
			return cli_fail(ferry_errf_errno(FERRY_E_NOENT, ENOENT,
			                    "%s: cannot create it here", out),
			    "%s: --out", cmd);
	}
	if (lstat(path, &st) == 0)
		return cli_fail(ferry_errf(FERRY_E_EXIST,
		                    "%s already exists; choose another --out "
		                    "directory or remove it",
		                    path),
		    "%s: cannot write the identity", cmd);
	return 0;
}

/* ca issue's work, once its command line is known good. */
static int
issue_run(const char *cmd, const char *dir, const char *out,
    enum ferry_key_type key_type, const struct ferry_cert_req *req)
{
	struct ferry_ca *ca = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char *serial = NULL, until[32];
	int r, ret = EXIT_FAIL;

	if ((r = ferry_id_check(req->id)) != 0) {
		ret = cli_fail(r, "%s: --name", cmd);
		goto out;
	}
	if ((ret = check_out(cmd, out)) != 0)
		goto out;
	if ((r = ferry_ca_load(dir, &ca)) != 0) {
		ret = cli_fail(r, "%s: cannot load the CA", cmd);
		goto out;
	}
	/* An issuing CA the root revoked issues nothing peers would take. */
	if ((r = ferry_ca_usable(ca)) != 0) {
		ret = cli_fail(r, "%s", cmd);
		goto out;
	}
	if ((r = ferry_key_generate(key_type, &key)) != 0) {
		ret = cli_fail(r, "%s: cannot generate a key", cmd);
		goto out;
	}
	if ((r = ferry_ca_sign(ca, key, req, &cert)) != 0) {
		ret = cli_fail(
		    r, "%s: cannot issue a certificate for %s", cmd, req->id);
		goto out;
	}
	/* Under an issuing CA: cert.pem = leaf + issuer, ca.pem = root. */
	if ((r = ferry_identity_write_chain(out, key, cert,
	         ferry_ca_root(ca) != NULL ? ferry_ca_cert(ca) : NULL,
	         ferry_ca_root(ca) != NULL ? ferry_ca_root(ca)
	                                   : ferry_ca_cert(ca))) != 0) {
		ret = cli_fail(r, "%s: cannot write the identity", cmd);
		goto out;
	}
	describe(cert, &serial, until);
	printf("issued %s serial %s valid until %s -> %s\n", req->id,
	    serial != NULL ? serial : "?", until, out);
	/* Allowed (tests, demonstrations), but never without a word. */
	if (req->not_after != 0 && req->not_after <= time(NULL))
		cli_warn("%s: --not-after %s is in the past: %s's certificate "
		         "is expired already, and peers will refuse it",
		    cmd, until, req->id);
	ret = EXIT_OK;
out:
	OPENSSL_free(serial);
	X509_free(cert);
	EVP_PKEY_free(key);
	ferry_ca_free(ca);
	return ret;
}

static int
ca_issue(int argc, char **argv)
{
	static const char cmd[] = "ca issue";
	static const struct option longopts[] = {
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"out", required_argument, NULL, OPT_OUT},
	    {"dns", required_argument, NULL, OPT_DNS},
	    {"ip", required_argument, NULL, OPT_IP},
	    {"group", required_argument, NULL, OPT_GROUP},
	    {"key-type", required_argument, NULL, OPT_KEY_TYPE},
	    {"days", required_argument, NULL, OPT_DAYS},
	    {"not-before", required_argument, NULL, OPT_NOT_BEFORE},
	    {"not-after", required_argument, NULL, OPT_NOT_AFTER},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ferry_cert_req req;
	enum ferry_key_type key_type = FERRY_KEY_P256;
	const char *dir = NULL, *out = NULL;
	const char **dns = NULL, **ips = NULL, **groups = NULL;
	long days;
	int c, r, verbose = 0, ret = EXIT_FAIL;

	memset(&req, 0, sizeof(req));
	/* Each --dns/--ip/--group takes an argument: argc bounds a list. */
	if ((dns = calloc((size_t)argc, sizeof(*dns))) == NULL ||
	    (ips = calloc((size_t)argc, sizeof(*ips))) == NULL ||
	    (groups = calloc((size_t)argc, sizeof(*groups))) == NULL) {
		cli_error("%s: out of memory", cmd);
		goto out;
	}
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DIR:
			dir = optarg;
			break;
		case OPT_NAME:
			req.id = optarg;
			break;
		case OPT_OUT:
			out = optarg;
			break;
		case OPT_DNS:
			dns[req.n_dns++] = optarg;
			break;
		case OPT_IP:
			ips[req.n_ips++] = optarg;
			break;
		case OPT_GROUP:
			if ((r = ferry_group_check(optarg)) != 0) {
				ret = cli_fail(r, "%s: --group", cmd);
				goto out;
			}
			groups[req.n_groups++] = optarg;
			break;
		case OPT_KEY_TYPE:
			if ((r = ferry_key_type_parse(optarg, &key_type)) !=
			    0) {
				ret = cli_fail(r, "%s: --key-type", cmd);
				goto out;
			}
			break;
		case OPT_DAYS:
			if (cli_parse_int("ca issue: --days", optarg, 1,
			        CA_MAX_DAYS, &days) != 0) {
				ret = EXIT_USAGE;
				goto out;
			}
			req.days = (int)days;
			break;
		case OPT_NOT_BEFORE:
			if ((ret = parse_time(cmd, "--not-before", optarg,
			         &req.not_before)) != 0)
				goto out;
			break;
		case OPT_NOT_AFTER:
			if ((ret = parse_time(cmd, "--not-after", optarg,
			         &req.not_after)) != 0)
				goto out;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(issue_usage, stdout);
			ret = EXIT_OK;
			goto out;
		default:
			ret = cli_opt_error(cmd, c, argv);
			goto out;
		}
	}
	ret = EXIT_USAGE;
	if (optind < argc) {
		cli_error(
		    "%s: unexpected argument '%s' (see 'ferry %s --help')", cmd,
		    argv[optind], cmd);
		goto out;
	}
	/* An empty value counts as none: "" would name the root directory. */
	if (dir != NULL && *dir == '\0')
		dir = NULL;
	if (out != NULL && *out == '\0')
		out = NULL;
	if (dir == NULL || req.id == NULL || out == NULL) {
		cli_error("%s: %s is required (see 'ferry %s --help')", cmd,
		    dir == NULL      ? "--dir"
		    : req.id == NULL ? "--name"
		                     : "--out",
		    cmd);
		goto out;
	}
	if (req.days != 0 && req.not_after != 0) {
		cli_error("%s: give --days or --not-after, not both", cmd);
		goto out;
	}
	req.dns = dns;
	req.ips = ips;
	req.groups = groups;
	cli_log_setup(verbose, 0);

	ret = issue_run(cmd, dir, out, key_type, &req);
out:
	free(dns);
	free(ips);
	free(groups);
	return ret;
}

struct revoke_ctx {
	struct ferry_store *st;
	unsigned n;
	int r;
};

static void
on_revoked(const struct ferry_ca_entry *e, void *arg)
{
	struct revoke_ctx *rc = arg;
	int r;

	rc->n++;
	printf("revoked %s serial %s (valid until %s)\n", e->id, e->serial,
	    e->not_after);
	if (rc->st != NULL &&
	    (r = ferry_store_cert_revoke(rc->st, e->serial, e->id, 0, "cli")) !=
	        0 &&
	    rc->r == 0)
		rc->r = r;
}

/*
 * Replaces path (a regular file, or new) atomically: authd re-reads
 * ISSUERDIR/root-crl.pem at any moment and must never see half of one.
 */
static int
out_replace(const char *path, const char *data, size_t len)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return ferry_errf(FERRY_E_BADNAME, "%s: path too long", path);
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	return ferry_identity_replace(
	    dir, slash != NULL ? slash + 1 : path, data, len, 0644);
}

/* Writes crl's PEM to path (replacing it) or stdout. */
static int
crl_output(const char *cmd, X509_CRL *crl, const char *path)
{
	char *pem = NULL;
	size_t len = 0;
	struct stat st;
	FILE *f;
	int r, ret = EXIT_OK;

	if ((r = ferry_crl_pem(crl, &pem, &len)) != 0)
		return cli_fail(r, "%s", cmd);
	if (path == NULL) {
		if (fwrite(pem, 1, len, stdout) != len || fflush(stdout) != 0)
			ret = cli_fail(
			    ferry_errf_errno(FERRY_E_IO, errno, "stdout"), "%s",
			    cmd);
	} else if (lstat(path, &st) == -1 ? errno == ENOENT
	                                  : S_ISREG(st.st_mode)) {
		if ((r = out_replace(path, pem, len)) != 0)
			ret = cli_fail(r, "%s: --out", cmd);
	} else if ((f = fopen(path, "we")) == NULL) { /* a pipe, a device */
		ret = cli_fail(ferry_errf_errno(ferry_err_from_errno(errno),
		                   errno, "%s", path),
		    "%s: --out", cmd);
	} else {
		if (fwrite(pem, 1, len, f) != len)
			r = FERRY_E_IO;
		if (fclose(f) != 0 || r == FERRY_E_IO)
			ret = cli_fail(ferry_errf_errno(FERRY_E_IO, errno,
			                   "%s: cannot write", path),
			    "%s: --out", cmd);
	}
	free(pem);
	return ret;
}

/*
 * Revoking a member by name locks them out: their account, if authd's
 * database has one, is disabled so the password cannot enroll again.
 */
static void
revoke_disable(
    const char *cmd, struct ferry_store *st, const char *db, const char *name)
{
	int r;

	if (st == NULL) {
		printf("no account database (--db): nothing to disable for "
		       "%s\n",
		    name);
		return;
	}
	r = ferry_store_user_set_disabled(
	    st, name, 1, "certificates revoked by 'ferry ca revoke'", "cli");
	if (r == 0)
		printf("disabled account %s in %s: no enrollment or renewal "
		       "until 'ferry user enable --db %s %s'\n",
		    name, db, db, name);
	else if (r == FERRY_E_NOENT)
		printf("no account %s in %s: nothing to disable\n", name, db);
	else
		cli_warn("%s: revoked, but cannot disable account %s: %s", cmd,
		    name, ferry_err_detail(r));
}

static int
ca_revoke(int argc, char **argv)
{
	static const char cmd[] = "ca revoke";
	static const struct option longopts[] = {
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"serial", required_argument, NULL, OPT_SERIAL},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"db", required_argument, NULL, OPT_DB},
	    {"days", required_argument, NULL, OPT_DAYS},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *serial = NULL, *name = NULL, *db = NULL;
	struct revoke_ctx rc = {NULL, 0, 0};
	struct ferry_ca *ca = NULL;
	X509_CRL *crl = NULL;
	char dbpath[PATH_MAX];
	struct stat st;
	long days = 0;
	int c, r, verbose = 0, ret = EXIT_FAIL;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DIR:
			dir = optarg;
			break;
		case OPT_SERIAL:
			serial = optarg;
			break;
		case OPT_NAME:
			name = optarg;
			break;
		case OPT_DB:
			db = optarg;
			break;
		case OPT_DAYS:
			if (cli_parse_int("ca revoke: --days", optarg, 1,
			        CA_MAX_DAYS, &days) != 0)
				return EXIT_USAGE;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(revoke_usage, stdout);
			return EXIT_OK;
		default:
			return cli_opt_error(cmd, c, argv);
		}
	}
	if (optind < argc)
		return cli_extra_arg(cmd, argv[optind]);
	if (dir == NULL || *dir == '\0') {
		cli_error(
		    "%s: --dir is required (see 'ferry %s --help')", cmd, cmd);
		return EXIT_USAGE;
	}
	if ((serial == NULL) == (name == NULL)) {
		cli_error("%s: give --serial or --name (one of them)", cmd);
		return EXIT_USAGE;
	}
	cli_log_setup(verbose, 0);
	if (db == NULL &&
	    (size_t)snprintf(dbpath, sizeof(dbpath), "%s/ferry.db", dir) <
	        sizeof(dbpath) &&
	    stat(dbpath, &st) == 0)
		db = dbpath;
	if ((r = ferry_ca_load(dir, &ca)) != 0) {
		ret = cli_fail(r, "%s: cannot load the CA", cmd);
		goto out;
	}
	if (db != NULL && (r = ferry_store_open(db, 0, &rc.st)) != 0) {
		ret = cli_fail(r, "%s: --db", cmd);
		goto out;
	}
	r = ferry_ca_revoke(ca, serial, name, 0, on_revoked, &rc);
	if (name != NULL && (r == 0 || r == FERRY_E_EXIST))
		revoke_disable(cmd, rc.st, db, name);
	if (r != 0) {
		ret = cli_fail(r, "%s", cmd);
		goto out;
	}
	if (rc.r != 0)
		cli_warn("%s: revoked, but not recorded in %s: %s", cmd, db,
		    ferry_err_detail(rc.r));
	if ((r = ferry_ca_crl(ca, (int)days, &crl)) != 0) {
		ret = cli_fail(r,
		    "%s: revoked, but cannot sign a new CRL (run 'ferry ca "
		    "crl')",
		    cmd);
		goto out;
	}
	printf("crl %s/crl.pem: %d revoked\n", dir,
	    sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)));
	ret = EXIT_OK;
out:
	X509_CRL_free(crl);
	ferry_store_close(rc.st);
	ferry_ca_free(ca);
	return ret;
}

static int
ca_crl(int argc, char **argv)
{
	static const char cmd[] = "ca crl";
	static const struct option longopts[] = {
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"out", required_argument, NULL, OPT_OUT},
	    {"days", required_argument, NULL, OPT_DAYS},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *out = NULL;
	struct ferry_ca *ca = NULL;
	X509_CRL *crl = NULL;
	long days = 0;
	int c, r, verbose = 0, ret = EXIT_FAIL;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DIR:
			dir = optarg;
			break;
		case OPT_OUT:
			out = optarg;
			break;
		case OPT_DAYS:
			if (cli_parse_int("ca crl: --days", optarg, 1,
			        CA_MAX_DAYS, &days) != 0)
				return EXIT_USAGE;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(crl_usage, stdout);
			return EXIT_OK;
		default:
			return cli_opt_error(cmd, c, argv);
		}
	}
	if (optind < argc)
		return cli_extra_arg(cmd, argv[optind]);
	if (dir == NULL || *dir == '\0') {
		cli_error(
		    "%s: --dir is required (see 'ferry %s --help')", cmd, cmd);
		return EXIT_USAGE;
	}
	if (out != NULL && *out == '\0') {
		cli_error("%s: --out is empty", cmd);
		return EXIT_USAGE;
	}
	cli_log_setup(verbose, 0);
	if ((r = ferry_ca_load(dir, &ca)) != 0) {
		ret = cli_fail(r, "%s: cannot load the CA", cmd);
		goto out;
	}
	if ((r = ferry_ca_crl(ca, (int)days, &crl)) != 0) {
		ret = cli_fail(r, "%s: cannot sign the CRL", cmd);
		goto out;
	}
	ret = crl_output(cmd, crl, out);
out:
	X509_CRL_free(crl);
	ferry_ca_free(ca);
	return ret;
}

int
cmd_ca(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} subs[] = {
	    {"init", ca_init},
	    {"intermediate", ca_intermediate},
	    {"issue", ca_issue},
	    {"revoke", ca_revoke},
	    {"crl", ca_crl},
	};

	if (argc < 2) {
		cli_error("ca: which command, init, intermediate, issue, "
		          "revoke or crl? (see 'ferry ca --help')");
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(ca_usage, stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(argc - 1, argv + 1);
	cli_error(
	    "ca: unknown command '%s'; 'ferry ca --help' lists them", argv[1]);
	return EXIT_USAGE;
}
