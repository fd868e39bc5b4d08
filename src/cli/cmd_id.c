/* cmd_id.c - ferry id: who this identity is, what it may be called, how long
 * it lasts, the chain up to the organization's root and the CRLs it holds. */
#include <arpa/inet.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ferry/log.h"
#include "ferry/pki.h"

#include "cli.h"

static const char id_usage[] =
    "usage: ferry id [-i IDDIR] [-v]\n"
    "       ferry id export --p12 FILE [-i IDDIR] (see 'ferry id export "
    "--help')\n"
    "\n"
    "Shows this identity: member ID, host names, groups, serial, validity,\n"
    "the chain up to the organization's root (ca.pem) with fingerprints,\n"
    "and each CRL's next update. Warns when the certificate has less than\n"
    "a third of its life left (renew: 'ferry renew'), a CA certificate\n"
    "less than 30 days, or a CRL is stale ('ferry crl update').\n"
    "Exit 0 if the certificate verifies up to ca.pem (and, with a CRL, is\n"
    "not revoked), 4 if it does not, 6 if cert.pem or ca.pem is missing.\n"
    "\n"
    "  -i IDDIR       the identity (default $FERRY_HOME, ~/.config/ferry)\n"
    "  -v, --verbose  debug logging\n";

/* A CA certificate this close to its end is worth a warning. */
#define CA_WARN_DAYS 30

struct id_args {
	const char *identity;
	int verbose;
};

/* Every PEM certificate in path, in order. NULL if none could be read. */
static STACK_OF(X509) * pem_certs(const char *path)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *b = BIO_new_file(path, "r");
	X509 *x;

	while (sk != NULL && b != NULL &&
	       (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (sk_X509_push(sk, x) <= 0)
			X509_free(x);
	ERR_clear_error();
	BIO_free(b);
	if (sk != NULL && sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		sk = NULL;
	}
	return sk;
}

static STACK_OF(X509_CRL) * pem_crls(const char *path)
{
	STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();
	BIO *b = BIO_new_file(path, "r");
	X509_CRL *x;

	while (sk != NULL && b != NULL &&
	       (x = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL)
		if (sk_X509_CRL_push(sk, x) <= 0)
			X509_CRL_free(x);
	ERR_clear_error();
	BIO_free(b);
	return sk;
}

static time_t
asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

/* "3 days", "5 hours", "expired". */
static void
left(time_t until, time_t now, char out[32])
{
	long long s = (long long)(until - now);

	if (s <= 0)
		snprintf(out, 32, "expired");
	else if (s >= 2 * 86400)
		snprintf(out, 32, "%lld days left", s / 86400);
	else
		snprintf(out, 32, "%lld hours left", s / 3600);
}

static void
subject_cn(X509_NAME *name, char *out, size_t n)
{
	if (name == NULL ||
	    X509_NAME_get_text_by_NID(name, NID_commonName, out, (int)n) < 0)
		snprintf(out, n, "?");
	ferry_sanitize(out);
}

/* The leaf's DNS names and IPs, ", "-separated. */
static void
host_names(X509 *cert, char *out, size_t n)
{
	GENERAL_NAMES *gens =
	    X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		char text[FERRY_MAX_HOSTNAME + 1];
		const unsigned char *d;
		int len, k;

		if (gn->type == GEN_DNS) {
			len = ASN1_STRING_length(gn->d.dNSName);
			snprintf(text, sizeof(text), "%.*s", len,
			    ASN1_STRING_get0_data(gn->d.dNSName));
		} else if (gn->type == GEN_IPADD) {
			d = ASN1_STRING_get0_data(gn->d.iPAddress);
			len = ASN1_STRING_length(gn->d.iPAddress);
			if ((len != 4 && len != 16) ||
			    inet_ntop(len == 4 ? AF_INET : AF_INET6, d, text,
			        sizeof(text)) == NULL)
				continue;
		} else {
			continue;
		}
		ferry_sanitize(text);
		k = snprintf(
		    out + used, n - used, "%s%s", used > 0 ? ", " : "", text);
		if (k < 0 || (size_t)k >= n - used)
			break;
		used += (size_t)k;
	}
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
}

/* One line of the chain, with a warning if it ends soon. */
static void
chain_line(X509 *x, const char *what, time_t now, int is_leaf, int *warned)
{
	char cn[128], fp[80], until[32], rest[32];
	time_t nb = asn1_to_time(X509_get0_notBefore(x));
	time_t na = asn1_to_time(X509_get0_notAfter(x));

	subject_cn(X509_get_subject_name(x), cn, sizeof(cn));
	if (ferry_cert_fingerprint(x, fp, sizeof(fp)) != 0)
		snprintf(fp, sizeof(fp), "?");
	cli_iso_time(na, until);
	left(na, now, rest);
	printf("  %-28s %s\n  %-28s until %s (%s)%s%s\n", cn, fp, "", until,
	    rest, what != NULL ? ", " : "", what != NULL ? what : "");
	if (na <= now)
		cli_warn("id: %s's certificate has expired", cn);
	else if (is_leaf && now >= cli_renew_at(nb, na))
		cli_warn(
		    "id: %s's certificate has %s; run 'ferry renew'", cn, rest);
	else if (!is_leaf && na - now < (time_t)CA_WARN_DAYS * 86400)
		cli_warn("id: CA certificate '%s' has %s", cn, rest);
	else
		return;
	*warned = 1;
}

static void
crl_lines(STACK_OF(X509_CRL) * crls, time_t now, int *warned)
{
	for (int i = 0; crls != NULL && i < sk_X509_CRL_num(crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);
		ASN1_INTEGER *num =
		    X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
		time_t next = asn1_to_time(X509_CRL_get0_nextUpdate(crl));
		int revoked = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
		char cn[128], when[32], rest[32];

		subject_cn(X509_CRL_get_issuer(crl), cn, sizeof(cn));
		cli_iso_time(next, when);
		left(next, now, rest);
		printf("  %-28s number %ld, %d revoked, next update %s (%s)\n",
		    cn, num != NULL ? ASN1_INTEGER_get(num) : -1L,
		    revoked > 0 ? revoked : 0, when,
		    next <= now ? "stale" : rest);
		ASN1_INTEGER_free(num);
		if (next != 0 && next <= now) {
			cli_warn("id: the CRL of '%s' is stale; run 'ferry crl "
			         "update'",
			    cn);
			*warned = 1;
		}
	}
	ERR_clear_error();
}

/* Verifies leaf up to roots with the rest of chain, and the CRLs if any. */
static int
chain_verify(X509 *leaf, STACK_OF(X509) * chain, STACK_OF(X509) * roots,
    STACK_OF(X509_CRL) * crls, char *why, size_t n)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = 0;

	for (int i = 0; store != NULL && i < sk_X509_num(roots); i++)
		X509_STORE_add_cert(store, sk_X509_value(roots, i));
	if (store != NULL && crls != NULL && sk_X509_CRL_num(crls) > 0)
		X509_STORE_set_flags(
		    store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	if (ctx != NULL && store != NULL &&
	    X509_STORE_CTX_init(ctx, store, leaf, chain) == 1) {
		if (crls != NULL)
			X509_STORE_CTX_set0_crls(ctx, crls);
		ok = X509_verify_cert(ctx) == 1;
		if (!ok)
			snprintf(why, n, "%s (depth %d)",
			    X509_verify_cert_error_string(
			        X509_STORE_CTX_get_error(ctx)),
			    X509_STORE_CTX_get_error_depth(ctx));
	} else {
		snprintf(why, n, "cannot set up the verification");
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok;
}

static int
id_parse(int argc, char **argv, struct id_args *a)
{
	static const struct option longopts[] = {
	    {"identity", required_argument, NULL, 'i'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hvi:", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			a->identity = optarg;
			break;
		case 'v':
			a->verbose = 1;
			break;
		case 'h':
			fputs(id_usage, stdout);
			return -1;
		default:
			return cli_opt_error("id", c, argv);
		}
	}
	if (optind < argc)
		return cli_extra_arg("id", argv[optind]);
	return 0;
}

/* "DIR/leaf" into out; EXIT_USAGE-style failure if it does not fit. */
static int
id_path(char *out, size_t n, const char *dir, const char *leaf)
{
	return (size_t)snprintf(out, n, "%s/%s", dir, leaf) < n ? 0 : -1;
}

static void
print_groups(X509 *leaf)
{
	char **groups = NULL;
	size_t n = 0;

	if (ferry_cert_groups(leaf, &groups, &n) != 0) {
		ferry_err_clear();
		printf("groups    (malformed)\n");
		return;
	}
	printf("groups    ");
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i > 0 ? ", " : "", groups[i]);
	printf("%s\n", n == 0 ? "-" : "");
	ferry_cert_groups_free(groups, n);
}

static void
print_member(const char *dir, X509 *leaf)
{
	char id[FERRY_MAX_ID + 1], names[2048], *serial = NULL;

	if (ferry_cert_id(leaf, id) != 0)
		snprintf(id, sizeof(id), "(none: not a member certificate)");
	ferry_err_clear();
	host_names(leaf, names, sizeof(names));
	if (ferry_cert_serial_hex(leaf, &serial) != 0)
		serial = NULL;
	printf("identity  %s\nmember    %s\nnames     %s\n", dir, id,
	    names[0] != '\0' ? names : "-");
	print_groups(leaf);
	printf("serial    %s\n", serial != NULL ? serial : "?");
	OPENSSL_free(serial);
}

static int
id_run(const struct id_args *a)
{
	char *dir = cli_identity_dir(a->identity), path[PATH_MAX], why[256];
	STACK_OF(X509) *certs = NULL, *roots = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	time_t now = time(NULL);
	int warned = 0, ret = EXIT_NOTFOUND;
	X509 *leaf;

	cli_log_setup(a->verbose, 0);
	if (dir == NULL)
		return cli_fail(FERRY_E_NOMEM, "id");
	if (id_path(path, sizeof(path), dir, "cert.pem") != 0 ||
	    (certs = pem_certs(path)) == NULL) {
		cli_error("id: %s/cert.pem: no certificate there (enroll with "
		          "'ferry enroll' or ask the admin for an identity)",
		    dir);
		goto out;
	}
	if (id_path(path, sizeof(path), dir, "ca.pem") != 0 ||
	    (roots = pem_certs(path)) == NULL) {
		cli_error("id: %s/ca.pem: no CA certificate there", dir);
		goto out;
	}
	if (id_path(path, sizeof(path), dir, "crl.pem") == 0 &&
	    access(path, F_OK) == 0)
		crls = pem_crls(path);
	ret = EXIT_AUTH;
	leaf = sk_X509_shift(certs);
	print_member(dir, leaf);
	printf("chain\n");
	chain_line(leaf, NULL, now, 1, &warned);
	for (int i = 0; i < sk_X509_num(certs); i++)
		chain_line(
		    sk_X509_value(certs, i), "issuing CA", now, 0, &warned);
	for (int i = 0; i < sk_X509_num(roots); i++)
		chain_line(
		    sk_X509_value(roots, i), "root (ca.pem)", now, 0, &warned);
	printf("crl%s\n",
	    crls == NULL ? "       none: run 'ferry crl update'" : "");
	crl_lines(crls, now, &warned);
	if (chain_verify(leaf, certs, roots, crls, why, sizeof(why))) {
		printf("verified  up to ca.pem%s\n",
		    crls != NULL ? ", none revoked" : " (no CRL to check)");
		ret = EXIT_OK;
	} else {
		cli_error("id: %s/cert.pem does not verify: %s", dir, why);
	}
	X509_free(leaf);
out:
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(roots, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	free(dir);
	return ret;
}

int
cmd_id(int argc, char **argv)
{
	struct id_args a;
	int r;

	memset(&a, 0, sizeof(a));
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return cmd_id_export(argc - 1, argv + 1);
	if ((r = id_parse(argc, argv, &a)) != 0)
		return r < 0 ? EXIT_OK : r;
	return id_run(&a);
}
