/* cmd_id_export.c - ferry id export --p12: the identity's key and chain as
 * one password-protected PKCS#12 file, for browsers and other tools. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "ferry/passwd.h"
#include "ferry/pki.h"

#include "cli.h"

static const char export_usage[] =
    "usage: ferry id export --p12 FILE [-i IDDIR] [--name NAME] "
    "[--no-chain]\n"
    "                       [--password-stdin] [--force] [-v]\n"
    "\n"
    "Writes this identity's key (key.pem), certificate and chain (cert.pem,\n"
    "ca.pem) to FILE as PKCS#12 (AES-256-CBC, PBKDF2-HMAC-SHA-256, a\n"
    "SHA-256 MAC), mode 0600, protected by a password asked twice on the\n"
    "terminal. An empty password is refused.\n"
    "\n"
    "  --p12 FILE        the file to write; it must not exist\n"
    "  -i IDDIR          the identity (default $FERRY_HOME, "
    "~/.config/ferry)\n"
    "  --name NAME       the friendly name (default: the member ID)\n"
    "  --no-chain        the certificate alone, without its CAs\n"
    "  --password-stdin  read the password from the first line of stdin\n"
    "  -f, --force       replace FILE if it exists\n"
    "  -v, --verbose     debug logging\n";

enum {
	OPT_P12 = 256,
	OPT_NAME,
	OPT_NO_CHAIN,
	OPT_PASSWORD_STDIN,
};

struct export_args {
	const char *identity, *file, *name;
	int no_chain, from_stdin, force, verbose;
};

/* 0, -1 after --help, or the exit code of a bad command line (said). */
static int
export_parse(int argc, char **argv, struct export_args *a)
{
	static const char cmd[] = "id export";
	static const struct option longopts[] = {
	    {"p12", required_argument, NULL, OPT_P12},
	    {"identity", required_argument, NULL, 'i'},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"no-chain", no_argument, NULL, OPT_NO_CHAIN},
	    {"password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN},
	    {"force", no_argument, NULL, 'f'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hvfi:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_P12:
			a->file = optarg;
			break;
		case 'i':
			a->identity = optarg;
			break;
		case OPT_NAME:
			a->name = optarg;
			break;
		case OPT_NO_CHAIN:
			a->no_chain = 1;
			break;
		case OPT_PASSWORD_STDIN:
			a->from_stdin = 1;
			break;
		case 'f':
			a->force = 1;
			break;
		case 'v':
			a->verbose = 1;
			break;
		case 'h':
			fputs(export_usage, stdout);
			return -1;
		default:
			return cli_opt_error(cmd, c, argv);
		}
	}
	if (optind < argc)
		return cli_extra_arg(cmd, argv[optind]);
	if (a->file == NULL || *a->file == '\0') {
		cli_error("%s: give the file to write with --p12 FILE (see "
		          "'ferry id export --help')",
		    cmd);
		return EXIT_USAGE;
	}
	if (a->name != NULL && (*a->name == '\0' || strlen(a->name) > 64)) {
		cli_error("%s: --name: 1 to 64 characters", cmd);
		return EXIT_USAGE;
	}
	return 0;
}

/* The identity: key, leaf, and (unless no_chain) the issuing CA and root. */
static int
export_load(const char *dir, int no_chain, EVP_PKEY **key, X509 **leaf,
    STACK_OF(X509) * *cas)
{
	char path[PATH_MAX];
	X509 *root = NULL;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/key.pem", dir) >=
	    sizeof(path))
		return ferry_errf(FERRY_E_BADNAME, "%s: path too long", dir);
	if ((r = ferry_key_load(path, key)) != 0)
		return r;
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	if ((r = ferry_chain_load(path, cas)) != 0)
		return r;
	*leaf = sk_X509_shift(*cas);
	if (no_chain) {
		sk_X509_pop_free(*cas, X509_free);
		*cas = NULL;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	if ((r = ferry_cert_load(path, &root)) != 0)
		return r;
	if (sk_X509_push(*cas, root) <= 0) {
		X509_free(root);
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	}
	return 0;
}

static int
export_run(const struct export_args *a)
{
	static const char cmd[] = "id export";
	char pw[FERRY_PASSWD_MAX + 2], name[FERRY_MAX_ID + 1], *dir;
	STACK_OF(X509) *cas = NULL;
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;
	struct stat st;
	size_t pwlen = 0;
	int r, ret;

	cli_log_setup(a->verbose, 0);
	if ((dir = cli_identity_dir(a->identity)) == NULL)
		return cli_fail(FERRY_E_NOMEM, "%s", cmd);
	/* Said before the password is asked for; the write checks again. */
	if (!a->force && lstat(a->file, &st) == 0) {
		ret = cli_fail(
		    ferry_errf(FERRY_E_EXIST,
		        "%s already exists (--force replaces it)", a->file),
		    "%s", cmd);
		goto out;
	}
	if ((r = export_load(dir, a->no_chain, &key, &leaf, &cas)) != 0) {
		ret = cli_fail(r, "%s: identity %s", cmd, dir);
		goto out;
	}
	if (ferry_cert_id(leaf, name) != 0)
		snprintf(name, sizeof(name), "ferry");
	ferry_err_clear();
	if ((r = cli_read_password("PKCS#12 password: ", a->from_stdin, 1, pw,
	         sizeof(pw), &pwlen)) != 0) {
		ret = cli_fail(r, "%s", cmd);
		goto out;
	}
	if ((r = ferry_p12_write(a->file, key, leaf, cas,
	         a->name != NULL ? a->name : name, pw, a->force)) != 0) {
		ret = cli_fail(r, "%s", cmd);
		goto out;
	}
	printf("exported %s: key, certificate%s -> %s\n", name,
	    cas != NULL && sk_X509_num(cas) > 0 ? " and its CAs" : "", a->file);
	ret = EXIT_OK;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	sk_X509_pop_free(cas, X509_free);
	X509_free(leaf);
	EVP_PKEY_free(key);
	free(dir);
	return ret;
}

int
cmd_id_export(int argc, char **argv)
{
	struct export_args a;
	int r;

	memset(&a, 0, sizeof(a));
	if ((r = export_parse(argc, argv, &a)) != 0)
		return r < 0 ? EXIT_OK : r;
	return export_run(&a);
}
