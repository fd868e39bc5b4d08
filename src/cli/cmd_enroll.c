/* cmd_enroll.c - ferry enroll, ferry renew, ferry crl update: a member's side
 * of authd. Keys are made here and never leave; the CA is pinned first. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ferry/est.h"
#include "ferry/estc.h"
#include "ferry/log.h"
#include "ferry/net.h"
#include "ferry/passwd.h"
#include "ferry/pki.h"

#include "cli.h"

#define DEFAULT_TIMEOUT 30
#define URL_FILE "authd.url"
#define MAX_URL 2048

static const char enroll_usage[] =
    "usage: ferry enroll URL --user NAME [-i IDDIR] [--fingerprint "
    "SHA256:HEX]\n"
    "                    [--password-stdin] [--dns NAME]... [--ip ADDR]...\n"
    "                    [--key-type TYPE]\n"
    "                    [--timeout SECS] [-v]\n"
    "\n"
    "Makes a key on this machine (it never leaves it), proves to authd at\n"
    "URL (https://HOST:PORT) that you are NAME with your password, and "
    "writes\n"
    "the identity directory: key.pem (0600), cert.pem, ca.pem, crl.pem,\n"
    "authd.url. The organization's CA is trusted only if its fingerprint is\n"
    "the one your administrator gave you (--fingerprint), or, without it,\n"
    "after you confirm the fingerprint shown on the terminal.\n"
    "\n"
    "  --user NAME          your account on authd (the certificate's name)\n"
    "  -i IDDIR             where to write (default $FERRY_HOME, "
    "~/.config/ferry)\n"
    "  --fingerprint FP     SHA256:<64 hex> of the (root) CA certificate\n"
    "  --password-stdin     read the password from the first line of stdin\n"
    "  --dns NAME           a host name to include (repeatable; the admin\n"
    "                       must have bound it to your account)\n"
    "  --ip ADDR            an IPv4/IPv6 address likewise\n"
    "  --key-type TYPE      p256 (default), ed25519 or rsa3072\n"
    "  --timeout SECS       per request (default 30)\n"
    "  -v, --verbose        debug logging\n";

static const char renew_usage[] =
    "usage: ferry renew [-i IDDIR] [--if-due] [--url URL] [--timeout SECS] "
    "[-v]\n"
    "\n"
    "Asks authd for a new certificate for this identity's key, "
    "authenticating\n"
    "with the current certificate (EST simplereenroll), then refreshes the\n"
    "CRL. cert.pem is replaced atomically; on any failure the old files "
    "stay\n"
    "as they were. Meant for a daily timer.\n"
    "\n"
    "  -i IDDIR        the identity (default $FERRY_HOME, ~/.config/ferry)\n"
    "  --if-due        renew only when at most a third of the certificate's\n"
    "                  lifetime is left; otherwise only refresh the CRL\n"
    "  --url URL       authd (default: IDDIR/authd.url, written by enroll)\n"
    "  --timeout SECS  per request (default 30)\n"
    "  -v, --verbose   debug logging\n";

static const char crl_usage[] =
    "usage: ferry crl update [-i IDDIR] [--url URL] [--timeout SECS] [-v]\n"
    "\n"
    "Fetches the current CRLs from authd (the root's and, with two levels,\n"
    "the issuing CA's), checks that each CA signed its own, that each is\n"
    "current and not older than the one in IDDIR, and replaces\n"
    "IDDIR/crl.pem with them all, or changes nothing. serve, send, get and\n"
    "ls refuse every certificate they list.\n";

enum {
	OPT_USER = 256,
	OPT_FINGERPRINT,
	OPT_PASSWORD_STDIN,
	OPT_DNS,
	OPT_KEY_TYPE,
	OPT_TIMEOUT,
	OPT_URL,
	OPT_IF_DUE,
};

static int
path_of(char *out, const char *dir, const char *leaf)
{
	return (size_t)snprintf(out, PATH_MAX, "%s/%s", dir, leaf) >= PATH_MAX
	           ? -1
	           : 0;
}

/* "SHA256:ab12..." / "AB:12:..." / bare hex -> 64 lower-case hex digits. */
/*
 * mkdir -p DIR with mode 0700 for what it makes (an identity directory
 * holds a private key); what exists is left as it is.
 */
/* 1 when DIR has no cert.pem. */
static int
cert_missing(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;

	return path_of(p, dir, "cert.pem") == 0 && lstat(p, &st) != 0;
}

static int
make_dirs(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return ferry_errf(FERRY_E_BADNAME, "%s: bad directory", dir);
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return ferry_errf_errno(ferry_err_from_errno(errno),
			    errno, "%s: cannot create directory", path);
		path[i] = dir[i];
	}
	if (stat(dir, &st) != 0)
		return ferry_errf_errno(
		    ferry_err_from_errno(errno), errno, "%s", dir);
	if (!S_ISDIR(st.st_mode))
		return ferry_errf(FERRY_E_NOTDIR, "%s: not a directory", dir);
	return 0;
}

static int
fingerprint_norm(const char *in, char out[65])
{
	size_t n = 0;

	if (strncasecmp(in, "sha256:", 7) == 0)
		in += 7;
	for (; *in != '\0'; in++) {
		if (*in == ':')
			continue;
		if (!isxdigit((unsigned char)*in) || n >= 64)
			return -1;
		out[n++] = (char)tolower((unsigned char)*in);
	}
	out[n] = '\0';
	return n == 64 ? 0 : -1;
}

/* The one self-signed CA certificate of a /cacerts answer. */
static int
pick_ca(STACK_OF(X509) * certs, X509 **out)
{
	X509 *found = NULL;

	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		if (X509_check_ca(x) >= 1 &&
		    X509_check_issued(x, x) == X509_V_OK) {
			if (found != NULL)
				return ferry_errf(FERRY_E_PROTO,
				    "authd offers more than one root CA");
			found = x;
		}
	}
	if (found == NULL)
		return ferry_errf(FERRY_E_PROTO,
		    "authd's /cacerts holds no self-signed CA certificate");
	X509_up_ref(found);
	*out = found;
	return 0;
}

/* Asks y/N on the terminal; 1 only for an explicit yes. */
static int
confirm_tty(const char *question)
{
	char ans[16];
	ssize_t n;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd == -1)
		return -1;
	if (write(fd, question, strlen(question)) < 0) {
		close(fd);
		return -1;
	}
	n = read(fd, ans, sizeof(ans) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	ans[n] = '\0';
	return ans[0] == 'y' || ans[0] == 'Y';
}

static void
describe(X509 *cert, char **serial, char until[32])
{
	struct tm tm;

	if (ferry_cert_serial_hex(cert, serial) != 0)
		*serial = NULL;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1 ||
	    strftime(until, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(until, 32, "?");
}

/*
 * The issuing CA of cert among authd's /cacerts: a CA that issued it and
 * that the pinned root signed. *out NULL (and 0) when the root issued it.
 */
static int
pick_issuer(STACK_OF(X509) * certs, X509 *root, X509 *cert, X509 **out)
{
	EVP_PKEY *pub = X509_get0_pubkey(root);

	*out = NULL;
	if (X509_check_issued(root, cert) == X509_V_OK)
		return 0;
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		if (X509_check_ca(x) < 1 ||
		    X509_check_issued(x, cert) != X509_V_OK)
			continue;
		if (X509_check_issued(root, x) != X509_V_OK || pub == NULL ||
		    X509_verify(x, pub) != 1) {
			ferry_log_openssl();
			return ferry_errf(FERRY_E_CERT,
			    "authd's issuing CA is not signed by the "
			    "organization's root CA");
		}
		X509_up_ref(x);
		*out = x;
		return 0;
	}
	return ferry_errf(FERRY_E_CERT,
	    "authd's /cacerts lacks the CA that issued the certificate");
}

/* The issued certificate is for our key, names id and chains to ca. */
static int
check_issued(X509 *cert, EVP_PKEY *key, const char *id, X509 *ca, X509 *issuer)
{
	char got[FERRY_MAX_ID + 1];
	X509_STORE *store = NULL;
	X509_STORE_CTX *xs = NULL;
	STACK_OF(X509) *untrusted = NULL;
	int r = FERRY_E_CERT;

	if (X509_check_private_key(cert, key) != 1) {
		r = ferry_errf(FERRY_E_CERT,
		    "authd answered with a certificate for another key");
		goto out;
	}
	if (ferry_cert_id(cert, got) != 0 || strcmp(got, id) != 0) {
		r = ferry_errf(FERRY_E_IDENTITY,
		    "authd issued a certificate for '%s', not '%s'", got, id);
		goto out;
	}
	if ((store = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(store, ca) != 1 ||
	    (untrusted = sk_X509_new_null()) == NULL ||
	    (issuer != NULL && sk_X509_push(untrusted, issuer) <= 0) ||
	    (xs = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(xs, store, cert, untrusted) != 1) {
		r = ferry_errf(FERRY_E_CRYPTO, "cannot check the certificate");
		goto out;
	}
	if (X509_verify_cert(xs) != 1) {
		r = ferry_errf(FERRY_E_CERT,
		    "the issued certificate does not verify: %s",
		    X509_verify_cert_error_string(
		        X509_STORE_CTX_get_error(xs)));
		goto out;
	}
	r = 0;
out:
	X509_STORE_CTX_free(xs);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	ferry_log_openssl();
	return r;
}

/* PEM of cert, followed by issuer's when there is one. Caller frees. */
static int
chain_pem(X509 *cert, X509 *issuer, char **out, size_t *outlen)
{
	char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	int r;

	*out = NULL;
	if ((r = ferry_cert_pem(cert, &a, &alen)) != 0 ||
	    (issuer != NULL && (r = ferry_cert_pem(issuer, &b, &blen)) != 0))
		goto out;
	if ((*out = malloc(alen + blen + 1)) == NULL) {
		r = ferry_errf(FERRY_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*out, a, alen);
	if (blen > 0)
		memcpy(*out + alen, b, blen);
	(*out)[alen + blen] = '\0';
	*outlen = alen + blen;
	r = 0;
out:
	free(a);
	free(b);
	return r;
}

/* cert.pem = leaf + issuing CA (if any); ca.pem = the root. */
static int
write_certs(const char *dir, X509 *cert, X509 *issuer, X509 *ca)
{
	char *pem = NULL;
	size_t len = 0;
	int r;

	if ((r = chain_pem(cert, issuer, &pem, &len)) == 0)
		r = ferry_identity_replace(dir, "cert.pem", pem, len, 0644);
	free(pem);
	pem = NULL;
	if (r == 0 && (r = ferry_cert_pem(ca, &pem, &len)) == 0)
		r = ferry_identity_replace(dir, "ca.pem", pem, len, 0644);
	free(pem);
	return r;
}

/*
 * Issued, key.pem written, cert.pem not: the certificate goes to standard
 * output so that it is not lost either. Returns the exit code.
 */
static int
keep_cert(const char *cmd, int r, const char *dir, X509 *cert, X509 *issuer)
{
	char *pem = NULL;
	size_t len = 0;

	cli_error("%s: enrolled, but the certificate could not be written "
	          "(%s); %s/key.pem is kept, and the certificate follows on "
	          "standard output: save it as %s/cert.pem",
	    cmd, ferry_err_detail(r), dir, dir);
	if (chain_pem(cert, issuer, &pem, &len) == 0)
		fwrite(pem, 1, len, stdout);
	free(pem);
	return cli_exit_code(r);
}

/* FERRY_E_REFUSED if fresh's CRL number is below that of old's (checked). */
static int
crl_not_older(X509_CRL *fresh, X509_CRL *old, X509 *ca, const char *path)
{
	ASN1_INTEGER *num = NULL, *oldnum = NULL;
	int r = 0;

	if (fresh == NULL || old == NULL || ferry_crl_check(old, ca) != 0) {
		ferry_err_clear();
		return 0;
	}
	num = X509_CRL_get_ext_d2i(fresh, NID_crl_number, NULL, NULL);
	oldnum = X509_CRL_get_ext_d2i(old, NID_crl_number, NULL, NULL);
	if (num != NULL && oldnum != NULL && ASN1_INTEGER_cmp(num, oldnum) < 0)
		r = ferry_errf(FERRY_E_REFUSED,
		    "authd's CRL is older than %s; keeping that one", path);
	ASN1_INTEGER_free(num);
	ASN1_INTEGER_free(oldnum);
	return r;
}

/*
 * Fetches, checks and installs IDDIR/crl.pem: one CRL per level (the
 * root's, and issuer's when the identity chains through an issuing CA),
 * each signed by its CA and current, none older than the one already
 * there; otherwise nothing is replaced. *n_revoked: how many they list.
 */
static int
crl_install(struct ferry_estc *c, const char *dir, X509 *ca, X509 *issuer,
    int *n_revoked)
{
	char path[PATH_MAX], *pem = NULL, why[300];
	STACK_OF(X509_CRL) *crls = NULL, *old = NULL;
	X509 *levels[2] = {ca, issuer};
	size_t len = 0;
	int r;

	*n_revoked = 0;
	if (path_of(path, dir, "crl.pem") != 0)
		return ferry_errf(FERRY_E_BADNAME, "%s: path too long", dir);
	if ((r = ferry_estc_crls(c, &crls)) != 0)
		goto out;
	if ((r = ferry_crls_check(crls, ca, issuer, FERRY_CRLS_FRESH)) != 0) {
		snprintf(why, sizeof(why), "%s", ferry_err_detail(r));
		r = ferry_errf(r, "%s: authd's CRLs are refused: %s",
		    ferry_estc_where(c), why);
		goto out;
	}
	if (access(path, F_OK) == 0 && ferry_crls_load(path, &old) == 0)
		for (int i = 0; i < 2 && levels[i] != NULL; i++)
			if ((r = crl_not_older(ferry_crls_find(crls, levels[i]),
			         ferry_crls_find(old, levels[i]), levels[i],
			         path)) != 0)
				goto out;
	ferry_err_clear();
	if ((r = ferry_crls_pem(crls, &pem, &len)) != 0 ||
	    (r = ferry_identity_replace(dir, "crl.pem", pem, len, 0644)) != 0)
		goto out;
	for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
		int n = sk_X509_REVOKED_num(
		    X509_CRL_get_REVOKED(sk_X509_CRL_value(crls, i)));

		*n_revoked += n > 0 ? n : 0;
	}
	r = 0;
out:
	free(pem);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	sk_X509_CRL_pop_free(old, X509_CRL_free);
	return r;
}

/* Everything enroll's command line can say. */
struct enroll_args {
	const char *url, *user, *fpopt, *idopt;
	const char **dns; /* --dns and --ip, argc long; caller frees */
	size_t n_dns;
	enum ferry_key_type key_type;
	long timeout;
	int verbose, from_stdin;
	char want[65]; /* --fingerprint's hex */
};

/* 0, -1 after --help, or the exit code of a bad command line (said). */
static int
enroll_parse(int argc, char **argv, struct enroll_args *a)
{
	static const char cmd[] = "enroll";
	static const struct option longopts[] = {
	    {"user", required_argument, NULL, OPT_USER},
	    {"fingerprint", required_argument, NULL, OPT_FINGERPRINT},
	    {"password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN},
	    {"dns", required_argument, NULL, OPT_DNS},
	    {"ip", required_argument, NULL, OPT_DNS},
	    {"key-type", required_argument, NULL, OPT_KEY_TYPE},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch, r;

	a->key_type = FERRY_KEY_P256;
	a->timeout = DEFAULT_TIMEOUT;
	if ((a->dns = calloc((size_t)argc, sizeof(*a->dns))) == NULL)
		return cli_fail(FERRY_E_NOMEM, "%s", cmd);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hvi:", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_USER:
			a->user = optarg;
			break;
		case OPT_FINGERPRINT:
			a->fpopt = optarg;
			break;
		case OPT_PASSWORD_STDIN:
			a->from_stdin = 1;
			break;
		case OPT_DNS:
			a->dns[a->n_dns++] = optarg;
			break;
		case OPT_KEY_TYPE:
			if ((r = ferry_key_type_parse(optarg, &a->key_type)) !=
			    0) {
				return cli_fail(r, "%s: --key-type", cmd);
			}
			break;
		case OPT_TIMEOUT:
			if (cli_parse_int("enroll: --timeout", optarg, 1, 3600,
			        &a->timeout) != 0)
				return EXIT_USAGE;
			break;
		case 'i':
			a->idopt = optarg;
			break;
		case 'v':
			a->verbose = 1;
			break;
		case 'h':
			fputs(enroll_usage, stdout);
			return -1;
		default:
			return cli_opt_error(cmd, ch, argv);
		}
	}
	if (optind < argc)
		a->url = argv[optind++];
	if (optind < argc) {
		cli_error("%s: unexpected argument '%s' (see 'ferry enroll "
		          "--help')",
		    cmd, argv[optind]);
		return EXIT_USAGE;
	}
	if (a->url == NULL || a->user == NULL) {
		cli_error("%s: %s is required (see 'ferry enroll --help')", cmd,
		    a->url == NULL ? "the authd URL" : "--user");
		return EXIT_USAGE;
	}
	if (a->fpopt != NULL && fingerprint_norm(a->fpopt, a->want) != 0) {
		cli_error("%s: --fingerprint: '%s' is not SHA256:<64 hex "
		          "digits>",
		    cmd, a->fpopt);
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * Fetches authd's CA without trusting it, checks it against --fingerprint
 * (or asks on the terminal), then trusts only it. 0 or an exit code, said.
 */
static int
pin_ca(struct ferry_estc *c, const struct enroll_args *a,
    STACK_OF(X509) * *certs, X509 **ca)
{
	static const char cmd[] = "enroll";
	char fp[80], question[FERRY_MAX_HOST + 512], cn[128];
	int r;

	if ((r = ferry_estc_cacerts(c, certs)) != 0 ||
	    (r = pick_ca(*certs, ca)) != 0 ||
	    (r = ferry_cert_fingerprint(*ca, fp, sizeof(fp))) != 0) {
		return cli_fail(r, "%s: cannot get the CA from %s", cmd,
		    ferry_estc_where(c));
	}
	if (a->fpopt != NULL) {
		if (CRYPTO_memcmp(fp + 7, a->want, 64) != 0) {
			return cli_fail(
			    ferry_errf(FERRY_E_CERT,
			        "%s offers a CA with fingerprint %s, "
			        "not the one given; nothing was "
			        "sent (check the fingerprint with "
			        "your administrator)",
			        ferry_estc_where(c), fp),
			    "%s", cmd);
		}
	} else {
		if (X509_NAME_get_text_by_NID(X509_get_subject_name(*ca),
		        NID_commonName, cn, sizeof(cn)) < 0)
			snprintf(cn, sizeof(cn), "?");
		/* A CA or peer chose it: no controls, no bidi overrides. */
		ferry_sanitize(cn);
		snprintf(question, sizeof(question),
		    "authd %s offers the CA \"%s\"\n  %s\nTrust it as your "
		    "organization's CA? [y/N] ",
		    ferry_estc_where(c), cn, fp);
		if ((r = confirm_tty(question)) != 1) {
			return cli_fail(ferry_errf(FERRY_E_CERT,
			                    "%s: CA %s not confirmed%s; give "
			                    "--fingerprint as your "
			                    "administrator printed it",
			                    ferry_estc_where(c), fp,
			                    r < 0 ? " (no terminal)" : ""),
			    "%s", cmd);
		}
	}
	if ((r = ferry_estc_trust(c, *ca)) != 0)
		return cli_fail(r, "%s", cmd);
	return 0;
}

/* enroll's work, once its command line is known good. */
static int
enroll_run(const struct enroll_args *a)
{
	static const char cmd[] = "enroll";
	const char *url = a->url, *user = a->user;
	size_t pwlen = 0, csrlen = 0;
	char path[PATH_MAX], pw[FERRY_PASSWD_MAX + 2], line[MAX_URL + 2];
	char *dir = NULL, *csr = NULL, *serial = NULL, until[32];
	STACK_OF(X509) *certs = NULL;
	struct ferry_estc *c = NULL;
	X509 *ca = NULL, *cert = NULL, *issuer = NULL;
	EVP_PKEY *key = NULL;
	struct stat st;
	int r, n_revoked = 0, made_key = 0;
	int ret = EXIT_USAGE;

	pw[0] = '\0';
	cli_log_setup(a->verbose, 0);
	if ((r = ferry_id_check(user)) != 0) {
		ret = cli_fail(r, "%s: --user", cmd);
		goto out;
	}
	if ((dir = cli_identity_dir(a->idopt)) == NULL) {
		ret = cli_fail(FERRY_E_NOMEM, "%s", cmd);
		goto out;
	}
	/* Refuse before any network traffic if we could not write. */
	if (path_of(path, dir, "key.pem") != 0) {
		ret = cli_fail(
		    ferry_errf(FERRY_E_BADNAME, "%s: path too long", dir), "%s",
		    cmd);
		goto out;
	}
	if (lstat(path, &st) == 0) {
		ret = cli_fail(
		    ferry_errf(FERRY_E_EXIST,
		        "%s already exists; this identity is "
		        "enrolled (use 'ferry renew', or -i for "
		        "another directory%s)",
		        path,
		        cert_missing(dir) ? "; it has no cert.pem: if an "
		                            "enrollment was cut short, "
		                            "remove key.pem first"
		                          : ""),
		    "%s", cmd);
		goto out;
	}
	/*
	 * The directory, and its parents (~/.config), before authd issues
	 * anything: a certificate must never come back to nowhere.
	 */
	if ((r = make_dirs(dir)) != 0) {
		ret = cli_fail(r, "%s: identity directory", cmd);
		goto out;
	}
	if ((r = ferry_estc_new(url, (int)a->timeout, &c)) != 0) {
		ret = cli_fail(r, "%s", cmd);
		goto out;
	}

	/* 1. Bootstrap: the CA as authd offers it, checked by fingerprint. */
	if ((ret = pin_ca(c, a, &certs, &ca)) != 0)
		goto out;
	ret = EXIT_USAGE;

	/* 2. The key, made here, and a request for it. */
	if ((r = cli_read_password("Password: ", a->from_stdin, 0, pw,
	         sizeof(pw), &pwlen)) != 0) {
		ret = cli_fail(r, "%s", cmd);
		goto out;
	}
	if ((r = ferry_key_generate(a->key_type, &key)) != 0 ||
	    (r = ferry_est_csr_make(
	         key, user, a->dns, a->n_dns, &csr, &csrlen)) != 0) {
		ret = cli_fail(r, "%s", cmd);
		goto out;
	}

	/*
	 * key.pem first, exclusively, 0600: a certificate authd issues must
	 * never come back to a key that could not be kept.
	 */
	if ((r = ferry_key_write(path, key)) != 0) {
		ret = cli_fail(r, "%s: cannot write the key", cmd);
		goto out;
	}
	made_key = 1;

	/* 3. Enroll over a verified connection. */
	if ((r = ferry_estc_enroll(c, user, pw, pwlen, csr, csrlen, &cert)) !=
	        0 ||
	    (r = pick_issuer(certs, ca, cert, &issuer)) != 0 ||
	    (r = check_issued(cert, key, user, ca, issuer)) != 0) {
		ret = cli_fail(r, "%s", cmd);
		goto out;
	}
	OPENSSL_cleanse(pw, sizeof(pw));
	made_key = 0; /* issued: the key stays, whatever happens next */
	if ((r = write_certs(dir, cert, issuer, ca)) != 0) {
		ret = keep_cert(cmd, r, dir, cert, issuer);
		goto out;
	}
	snprintf(line, sizeof(line), "%s\n", url);
	if ((r = ferry_identity_replace(
	         dir, URL_FILE, line, strlen(line), 0644)) != 0)
		cli_warn("%s: %s", cmd, ferry_err_detail(r));
	if ((r = crl_install(c, dir, ca, issuer, &n_revoked)) != 0)
		cli_warn("%s: enrolled, but no CRL yet (run 'ferry crl "
		         "update'): %s",
		    cmd, ferry_err_detail(r));
	describe(cert, &serial, until);
	printf("enrolled %s serial %s valid until %s -> %s\n", user,
	    serial != NULL ? serial : "?", until, dir);
	ret = EXIT_OK;
out:
	/* Nothing was issued for it: let the next enroll start afresh. */
	if (made_key)
		unlink(path);
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_free(serial);
	free(csr);
	free(dir);
	sk_X509_pop_free(certs, X509_free);
	X509_free(ca);
	X509_free(issuer);
	X509_free(cert);
	EVP_PKEY_free(key);
	ferry_estc_free(c);
	return ret;
}

int
cmd_enroll(int argc, char **argv)
{
	struct enroll_args a;
	int r;

	memset(&a, 0, sizeof(a));
	r = enroll_parse(argc, argv, &a);
	if (r == 0)
		r = enroll_run(&a);
	free(a.dns);
	return r < 0 ? EXIT_OK : r;
}

/* -i, --url, --timeout, -v: what renew and crl update share; --if-due. */
struct member_opts {
	const char *idopt;
	const char *url;
	long timeout;
	int verbose;
	int if_due; /* renew only */
};

static int
member_parse(const char *cmd, const char *usage, int argc, char **argv,
    struct member_opts *o)
{
	static const struct option longopts[] = {
	    {"url", required_argument, NULL, OPT_URL},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"if-due", no_argument, NULL, OPT_IF_DUE},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->timeout = DEFAULT_TIMEOUT;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hvi:", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_URL:
			o->url = optarg;
			break;
		case OPT_TIMEOUT:
			if (cli_parse_int(
			        "--timeout", optarg, 1, 3600, &o->timeout) != 0)
				return EXIT_USAGE;
			break;
		case 'i':
			o->idopt = optarg;
			break;
		case OPT_IF_DUE:
			if (strcmp(cmd, "renew") != 0) {
				cli_error("%s: unknown option '--if-due' (see "
				          "'ferry %s --help')",
				    cmd, cmd);
				return EXIT_USAGE;
			}
			o->if_due = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			return cli_opt_error(cmd, ch, argv);
		}
	}
	if (optind < argc) {
		cli_error("%s: unexpected argument '%s' (see 'ferry %s "
		          "--help')",
		    cmd, argv[optind], cmd);
		return EXIT_USAGE;
	}
	cli_log_setup(o->verbose, 0);
	return 0;
}

/* The identity's CA, and a client for its authd (URL from --url or file). */
static int
member_connect(const char *cmd, const struct member_opts *o, char **dir,
    X509 **ca, struct ferry_estc **c)
{
	char path[PATH_MAX], url[MAX_URL + 2];
	FILE *f;
	int r = FERRY_E_BADNAME;

	if ((*dir = cli_identity_dir(o->idopt)) == NULL)
		return cli_fail(FERRY_E_NOMEM, "%s", cmd);
	if (path_of(path, *dir, "ca.pem") != 0 ||
	    (r = ferry_cert_load(path, ca)) != 0)
		return cli_fail(r, "%s: identity", cmd);
	if (o->url != NULL) {
		snprintf(url, sizeof(url), "%s", o->url);
	} else {
		if (path_of(path, *dir, URL_FILE) != 0 ||
		    (f = fopen(path, "re")) == NULL)
			return cli_fail(ferry_errf(FERRY_E_NOENT,
			                    "%s: no authd URL here (not made "
			                    "by 'ferry enroll'?); give --url",
			                    path),
			    "%s", cmd);
		if (fgets(url, sizeof(url), f) == NULL)
			url[0] = '\0';
		fclose(f);
		url[strcspn(url, "\r\n")] = '\0';
	}
	if ((r = ferry_estc_new(url, (int)o->timeout, c)) != 0 ||
	    (r = ferry_estc_trust(*c, *ca)) != 0)
		return cli_fail(r, "%s", cmd);
	return 0;
}

/*
 * The DNS names and IPs (as text) cert carries besides the member's ID.
 * Caller frees with host_names_free.
 */
static int
host_names(X509 *cert, char ***out, size_t *n)
{
	GENERAL_NAMES *gens;
	char **v = NULL, text[INET6_ADDRSTRLEN];
	int r = 0;

	*out = NULL;
	*n = 0;
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	if (gens == NULL)
		return 0;
	if ((v = calloc((size_t)sk_GENERAL_NAME_num(gens) + 1, sizeof(*v))) ==
	    NULL)
		r = ferry_errf(FERRY_E_NOMEM, "out of memory");
	for (int i = 0; r == 0 && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s = gn->type == GEN_DNS     ? gn->d.dNSName
		                       : gn->type == GEN_IPADD ? gn->d.iPAddress
		                                               : NULL;
		int len = s != NULL ? ASN1_STRING_length(s) : 0;

		if (s == NULL)
			continue;
		if (gn->type == GEN_DNS)
			v[*n] = strndup((const char *)ASN1_STRING_get0_data(s),
			    (size_t)len);
		else if ((len == 4 || len == 16) &&
		         inet_ntop(len == 4 ? AF_INET : AF_INET6,
		             ASN1_STRING_get0_data(s), text,
		             sizeof(text)) != NULL)
			v[*n] = strdup(text);
		else
			continue;
		if (v[(*n)++] == NULL)
			r = ferry_errf(FERRY_E_NOMEM, "out of memory");
	}
	GENERAL_NAMES_free(gens);
	*out = v;
	return r;
}

static void
host_names_free(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

/* Names the old certificate had and the renewed one lacks: one warning each. */
static void
warn_left_out(const char *cmd, char **old, size_t n_old, X509 *fresh)
{
	char **now = NULL;
	size_t n_now = 0;

	if (host_names(fresh, &now, &n_now) != 0) {
		host_names_free(now, n_now);
		return;
	}
	for (size_t i = 0; i < n_old; i++) {
		size_t k = 0;

		while (k < n_now && strcasecmp(old[i], now[k]) != 0)
			k++;
		if (k == n_now)
			cli_warn("%s: the new certificate leaves out %s: it is "
			         "no longer bound to your account",
			    cmd, old[i]);
	}
	host_names_free(now, n_now);
}

static time_t
asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

/*
 * renew --if-due before the certificate is due: says when it will be, and
 * refreshes the CRL (the issuing CA from cert.pem's chain, as crl update
 * does). 1 when cert is due (nothing done), 0 when done, else an exit code.
 */
static int
renew_not_due(const char *cmd, struct ferry_estc *c, const char *dir, X509 *ca,
    X509 *cert)
{
	STACK_OF(X509) *chain = NULL;
	time_t na = asn1_time(X509_get0_notAfter(cert)), now = time(NULL);
	time_t at = cli_renew_at(asn1_time(X509_get0_notBefore(cert)), na);
	char path[PATH_MAX], when[32];
	int r = FERRY_E_BADNAME, n = 0;

	if (na == 0 || now >= at)
		return 1;
	cli_iso_time(at, when);
	printf("%s: not due until %s (%lld days left)\n", cmd, when,
	    (long long)(na - now) / 86400);
	if (path_of(path, dir, "cert.pem") != 0 ||
	    (r = ferry_chain_load(path, &chain)) != 0 ||
	    (r = crl_install(c, dir, ca,
	         sk_X509_num(chain) > 1 ? sk_X509_value(chain, 1) : NULL,
	         &n)) != 0) {
		sk_X509_pop_free(chain, X509_free);
		return cli_fail(
		    r, "%s: not due, but the CRL is not updated", cmd);
	}
	printf("crl %s/crl.pem: %d revoked\n", dir, n);
	sk_X509_pop_free(chain, X509_free);
	return 0;
}

int
cmd_renew(int argc, char **argv)
{
	static const char cmd[] = "renew";
	struct member_opts o;
	struct ferry_estc *c = NULL;
	char *dir = NULL, *csr = NULL, *serial = NULL, *pem = NULL;
	char path[PATH_MAX], id[FERRY_MAX_ID + 1], until[32];
	char **names = NULL;
	size_t n_names = 0, csrlen = 0, pemlen = 0;
	X509 *ca = NULL, *cert = NULL, *fresh = NULL, *issuer = NULL;
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL;
	int r = FERRY_E_BADNAME, n_revoked = 0, ret;

	if ((ret = member_parse(cmd, renew_usage, argc, argv, &o)) != 0)
		return ret < 0 ? EXIT_OK : ret;
	if ((ret = member_connect(cmd, &o, &dir, &ca, &c)) != 0)
		goto out;
	ret = EXIT_FAIL;
	if (path_of(path, dir, "cert.pem") != 0 ||
	    (r = ferry_cert_load(path, &cert)) != 0 ||
	    path_of(path, dir, "key.pem") != 0 ||
	    (r = ferry_key_load(path, &key)) != 0 ||
	    (r = ferry_cert_id(cert, id)) != 0 ||
	    (r = ferry_estc_identity(c, key, cert)) != 0) {
		ret = cli_fail(r, "%s: identity %s", cmd, dir);
		goto out;
	}
	if (o.if_due && (ret = renew_not_due(cmd, c, dir, ca, cert)) != 1)
		goto out;
	ret = EXIT_FAIL;
	/* The same names as now: authd issues those still bound to us. */
	if ((r = host_names(cert, &names, &n_names)) != 0 ||
	    (r = ferry_est_csr_make(key, id, (const char *const *)names,
	         n_names, &csr, &csrlen)) != 0 ||
	    (r = ferry_estc_enroll(c, NULL, NULL, 0, csr, csrlen, &fresh)) !=
	        0 ||
	    (r = ferry_estc_cacerts(c, &certs)) != 0 ||
	    (r = pick_issuer(certs, ca, fresh, &issuer)) != 0 ||
	    (r = check_issued(fresh, key, id, ca, issuer)) != 0) {
		ret = cli_fail(r, "%s", cmd);
		goto out;
	}
	warn_left_out(cmd, names, n_names, fresh);
	if ((r = chain_pem(fresh, issuer, &pem, &pemlen)) != 0 ||
	    (r = ferry_identity_replace(dir, "cert.pem", pem, pemlen, 0644)) !=
	        0) {
		ret =
		    cli_fail(r, "%s: renewed, but cannot write cert.pem", cmd);
		goto out;
	}
	if ((r = crl_install(c, dir, ca, issuer, &n_revoked)) != 0)
		cli_warn("%s: renewed, but the CRL is not updated: %s", cmd,
		    ferry_err_detail(r));
	describe(fresh, &serial, until);
	printf("renewed %s serial %s valid until %s -> %s\n", id,
	    serial != NULL ? serial : "?", until, dir);
	ret = EXIT_OK;
out:
	host_names_free(names, n_names);
	free(pem);
	free(csr);
	free(dir);
	OPENSSL_free(serial);
	sk_X509_pop_free(certs, X509_free);
	X509_free(ca);
	X509_free(issuer);
	X509_free(cert);
	X509_free(fresh);
	EVP_PKEY_free(key);
	ferry_estc_free(c);
	return ret;
}

int
cmd_crl(int argc, char **argv)
{
	static const char cmd[] = "crl update";
	struct member_opts o;
	struct ferry_estc *c = NULL;
	STACK_OF(X509) *chain = NULL;
	X509 *ca = NULL;
	char *dir = NULL, path[PATH_MAX];
	int r, n = 0, ret;

	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(crl_usage, stdout);
		return EXIT_OK;
	}
	if (argc < 2 || strcmp(argv[1], "update") != 0) {
		cli_error("crl: the command is 'ferry crl update' (see 'ferry "
		          "crl --help')");
		return EXIT_USAGE;
	}
	if ((ret = member_parse(cmd, crl_usage, argc - 1, argv + 1, &o)) != 0)
		return ret < 0 ? EXIT_OK : ret;
	if ((ret = member_connect(cmd, &o, &dir, &ca, &c)) != 0)
		goto out;
	/* Our own chain says which issuing CA's CRL we need. */
	r = FERRY_E_BADNAME;
	if (path_of(path, dir, "cert.pem") != 0 ||
	    (r = ferry_chain_load(path, &chain)) != 0) {
		ret = cli_fail(r, "%s: identity %s", cmd, dir);
		goto out;
	}
	if ((r = crl_install(c, dir, ca,
	         sk_X509_num(chain) > 1 ? sk_X509_value(chain, 1) : NULL,
	         &n)) != 0) {
		ret = cli_fail(r, "%s", cmd);
		goto out;
	}
	printf("crl %s/crl.pem: %d revoked\n", dir, n);
	ret = EXIT_OK;
out:
	free(dir);
	sk_X509_pop_free(chain, X509_free);
	X509_free(ca);
	ferry_estc_free(c);
	return ret;
}
