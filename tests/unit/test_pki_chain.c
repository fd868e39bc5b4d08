/* test_pki_chain.c - two levels: the issuing CA, identity chains, CRL
 * bundles and their checks (pki.c; docs/internals/pki.md). */
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ferry/pki.h"

struct fixture {
	char dir[PATH_MAX];
	char root[PATH_MAX]; /* dir/root: a root CA */
	char iss[PATH_MAX]; /* dir/iss: an issuing CA under it */
	struct ferry_ca *r, *i;
};

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
path(char *out, const char *dir, const char *name)
{
	assert_true(snprintf(out, PATH_MAX, "%s/%s", dir, name) < PATH_MAX);
}

static void
assert_detail(int r, const char *want)
{
	const char *d = ferry_err_detail(r);

	if (strstr(d, want) == NULL)
		fail_msg("%s detail '%s' does not mention '%s'",
		    ferry_errname(r), d, want);
}

static void
root_make(const char *dir, const char *name)
{
	struct ferry_ca_init_opts o = {.dir = dir, .name = name};

	assert_int_equal(ferry_ca_init(&o), 0);
}

/* A root in dir/root and an issuing CA in dir/iss, both loaded. */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ferry_ca_intermediate_opts o = {.name = "Test Issuing CA"};
	const char *tmp = getenv("TMPDIR");

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/ferry-test-chain.XXXXXX",
	    tmp != NULL && *tmp == '/' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	path(f->root, f->dir, "root");
	path(f->iss, f->dir, "iss");
	root_make(f->root, "Test Root CA");
	o.dir = f->iss;
	if (ferry_ca_load(f->root, &f->r) != 0 ||
	    ferry_ca_intermediate(f->r, &o, NULL) != 0 ||
	    ferry_ca_load(f->iss, &f->i) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int r;

	ferry_ca_free(f->r);
	ferry_ca_free(f->i);
	r = nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return r;
}

static void
test_intermediate(void **state)
{
	struct fixture *f = *state;
	X509 *iss = ferry_ca_cert(f->i), *root = ferry_ca_cert(f->r);
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(root);
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(iss);
	X509_CRL *crl = NULL;
	char p[PATH_MAX], line[512];
	FILE *fp;

	assert_null(ferry_ca_root(f->r));
	assert_non_null(ferry_ca_root(f->i));
	assert_int_equal(X509_cmp(ferry_ca_root(f->i), root), 0);
	/* CA:TRUE pathlen:0, keyCertSign + cRLSign only, AKI = root's SKI. */
	assert_true(X509_check_ca(iss) >= 1);
	assert_int_equal(X509_get_pathlen(iss), 0);
	assert_int_equal(X509_get_extension_flags(iss) & EXFLAG_CRITICAL, 0);
	assert_int_equal(
	    X509_get_key_usage(iss), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(ski);
	assert_non_null(aki);
	assert_int_equal(ASN1_OCTET_STRING_cmp(ski, aki), 0);
	assert_int_equal(X509_check_issued(root, iss), X509_V_OK);
	assert_int_equal(X509_verify(iss, X509_get0_pubkey(root)), 1);
	assert_true(ASN1_TIME_compare(X509_get0_notAfter(iss),
	                X509_get0_notAfter(root)) <= 0);
	/* Recorded at the root, so it can be revoked by serial. */
	path(p, f->root, "index.tsv");
	assert_non_null(fp = fopen(p, "r"));
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	assert_non_null(strstr(line, "\tca:Test Issuing CA\tV"));
	/* Its copy of the root's CRL is there and good. */
	assert_int_equal(ferry_ca_root_crl(f->i, &crl), 0);
	assert_non_null(crl);
	X509_CRL_free(crl);
	assert_int_equal(ferry_ca_root_crl(f->r, &crl), 0);
	assert_null(crl);
}

static void
test_intermediate_refused(void **state)
{
	struct fixture *f = *state;
	struct ferry_ca_intermediate_opts o = {.name = "Sub CA"};
	struct ferry_ca *ca = NULL;
	char p[PATH_MAX], other[PATH_MAX], q[PATH_MAX];

	/* An issuing CA cannot sign another CA. */
	path(p, f->dir, "sub");
	o.dir = p;
	assert_int_equal(
	    ferry_ca_intermediate(f->i, &o, NULL), FERRY_E_REFUSED);
	assert_detail(FERRY_E_REFUSED, "an issuing CA cannot sign another CA");
	assert_int_equal(access(p, F_OK), -1);
	/* Not into a CA directory, not even the root's own. */
	o.dir = f->iss;
	assert_int_equal(ferry_ca_intermediate(f->r, &o, NULL), FERRY_E_EXIST);
	o.dir = f->root;
	assert_int_equal(ferry_ca_intermediate(f->r, &o, NULL), FERRY_E_EXIST);
	/* Not past the root's own notAfter. */
	o.dir = p;
	o.days = 36000;
	assert_int_equal(ferry_ca_intermediate(f->r, &o, NULL), FERRY_E_USAGE);
	path(q, p, "ca.key");
	assert_int_equal(access(q, F_OK), -1);
	/* A root.pem that did not sign ca.pem: the directory is refused. */
	path(other, f->dir, "other");
	root_make(other, "Test Root CA");
	path(p, f->iss, "root.pem");
	path(q, other, "ca.pem");
	assert_int_equal(rename(q, p), 0);
	assert_int_equal(ferry_ca_load(f->iss, &ca), FERRY_E_CERT);
	assert_detail(FERRY_E_CERT, "not signed by the root CA");
	assert_null(ca);
	/* Without root.pem at all: not a usable CA directory either. */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(ferry_ca_load(f->iss, &ca), FERRY_E_CERT);
	assert_detail(FERRY_E_CERT, "not self-signed and");
	assert_null(ca);
}

static void
test_identity_chain(void **state)
{
	struct fixture *f = *state;
	struct ferry_cert_req req = {.id = "alice"};
	STACK_OF(X509) *chain = NULL;
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *xs = X509_STORE_CTX_new();
	EVP_PKEY *key = NULL;
	X509 *cert = NULL, *ca = NULL;
	char id[PATH_MAX], p[PATH_MAX];

	assert_int_equal(ferry_key_generate(FERRY_KEY_P256, &key), 0);
	assert_int_equal(ferry_ca_sign(f->i, key, &req, &cert), 0);
	path(id, f->dir, "alice");
	assert_int_equal(ferry_identity_write_chain(id, key, cert,
	                     ferry_ca_cert(f->i), ferry_ca_root(f->i)),
	    0);
	path(p, id, "cert.pem");
	assert_int_equal(ferry_chain_load(p, &chain), 0);
	assert_int_equal(sk_X509_num(chain), 2);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), cert), 0);
	assert_int_equal(
	    X509_cmp(sk_X509_value(chain, 1), ferry_ca_cert(f->i)), 0);
	path(p, id, "ca.pem");
	assert_int_equal(ferry_cert_load(p, &ca), 0);
	assert_int_equal(X509_cmp(ca, ferry_ca_root(f->i)), 0);
	/* The leaf verifies with the root as the only anchor. */
	assert_int_equal(X509_STORE_add_cert(store, ca), 1);
	assert_int_equal(X509_STORE_CTX_init(xs, store, cert, chain), 1);
	assert_int_equal(X509_verify_cert(xs), 1);
	X509_STORE_CTX_free(xs);
	X509_STORE_free(store);
	sk_X509_pop_free(chain, X509_free);
	X509_free(ca);
	X509_free(cert);
	EVP_PKEY_free(key);
}

/* A CRL of ca signed by key, nextUpdate `next` seconds from now. */
static X509_CRL *
crl_by(X509 *ca, EVP_PKEY *key, long next)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_set(NULL, time(NULL) - 3600);

	assert_non_null(crl);
	assert_int_equal(X509_CRL_set_version(crl, 1), 1);
	assert_int_equal(
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)), 1);
	assert_int_equal(X509_CRL_set1_lastUpdate(crl, t), 1);
	assert_non_null(ASN1_TIME_set(t, time(NULL) + next));
	assert_int_equal(X509_CRL_set1_nextUpdate(crl, t), 1);
	assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	ASN1_TIME_free(t);
	return crl;
}

static STACK_OF(X509_CRL) * crls_of(X509_CRL *a, X509_CRL *b)
{
	STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();

	assert_non_null(sk);
	if (a != NULL)
		assert_true(sk_X509_CRL_push(sk, X509_CRL_dup(a)) > 0);
	if (b != NULL)
		assert_true(sk_X509_CRL_push(sk, X509_CRL_dup(b)) > 0);
	return sk;
}

static int
check(X509_CRL *a, X509_CRL *b, X509 *root, X509 *iss, int flags)
{
	STACK_OF(X509_CRL) *sk = crls_of(a, b);
	int r = ferry_crls_check(sk, root, iss, flags);

	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	return r;
}

static void
test_crls_check(void **state)
{
	struct fixture *f = *state;
	X509 *root = ferry_ca_root(f->i), *iss = ferry_ca_cert(f->i);
	X509_CRL *rc = NULL, *ic = NULL, *forged, *old;
	EVP_PKEY *rkey = NULL, *fake = NULL;
	char p[PATH_MAX];

	assert_int_equal(ferry_ca_crl(f->r, 0, &rc), 0);
	assert_int_equal(ferry_ca_crl(f->i, 0, &ic), 0);
	path(p, f->root, "ca.key");
	assert_int_equal(ferry_key_load(p, &rkey), 0);
	assert_int_equal(ferry_key_generate(FERRY_KEY_P256, &fake), 0);
	forged = crl_by(root, fake, 86400);
	old = crl_by(root, rkey, -60);

	assert_int_equal(check(ic, rc, root, iss, FERRY_CRLS_FRESH), 0);
	assert_int_equal(check(rc, NULL, root, NULL, FERRY_CRLS_FRESH), 0);
	assert_int_equal(check(ic, NULL, root, iss, 0), FERRY_E_CERT);
	assert_detail(FERRY_E_CERT, "no CRL of the root CA (CN=Test Root CA)");
	assert_int_equal(check(rc, NULL, root, iss, 0), FERRY_E_CERT);
	assert_detail(FERRY_E_CERT, "no CRL of the issuing CA");
	assert_int_equal(check(ic, forged, root, iss, 0), FERRY_E_CERT);
	assert_detail(FERRY_E_CERT, "root CA (CN=Test Root CA) is not signed");
	assert_int_equal(check(rc, rc, root, NULL, 0), FERRY_E_CERT);
	assert_detail(FERRY_E_CERT, "2 CRLs of the root CA");
	/* Without the issuer known, its CRL is nobody's. */
	assert_int_equal(check(rc, ic, root, NULL, 0), FERRY_E_CERT);
	assert_detail(FERRY_E_CERT, "not issued by the organization's root");
	/* Past nextUpdate: loaded for peers, refused when fetched. */
	assert_int_equal(check(ic, old, root, iss, 0), 0);
	assert_int_equal(
	    check(ic, old, root, iss, FERRY_CRLS_FRESH), FERRY_E_CERT);
	assert_detail(FERRY_E_CERT, "expired on");
	/* An issuer the root did not sign. */
	assert_int_equal(
	    check(ic, rc, ferry_ca_cert(f->i), iss, 0), FERRY_E_CERT);
	assert_detail(FERRY_E_CERT, "not signed by the root CA");

	X509_CRL_free(rc);
	X509_CRL_free(ic);
	X509_CRL_free(forged);
	X509_CRL_free(old);
	EVP_PKEY_free(rkey);
	EVP_PKEY_free(fake);
}

static void
test_crls_parse(void **state)
{
	struct fixture *f = *state;
	STACK_OF(X509_CRL) *sk = NULL, *back = NULL;
	X509_CRL *rc = NULL, *ic = NULL;
	char *pem = NULL, big[16384];
	size_t len = 0;

	(void)f;
	assert_int_equal(ferry_ca_crl(f->r, 0, &rc), 0);
	assert_int_equal(ferry_ca_crl(f->i, 0, &ic), 0);
	sk = crls_of(ic, rc);
	assert_int_equal(ferry_crls_pem(sk, &pem, &len), 0);
	assert_int_equal(ferry_crls_parse(pem, len, "x", &back), 0);
	assert_int_equal(sk_X509_CRL_num(back), 2);
	assert_ptr_equal(ferry_crls_find(back, ferry_ca_root(f->i)),
	    sk_X509_CRL_value(back, 1));
	sk_X509_CRL_pop_free(back, X509_CRL_free);
	/* Too many, none, a broken one after a good one. */
	assert_true(3 * len < sizeof(big));
	snprintf(big, sizeof(big), "%s%s%s", pem, pem, pem);
	assert_int_equal(
	    ferry_crls_parse(big, strlen(big), "x", &back), FERRY_E_CERT);
	assert_detail(FERRY_E_CERT, "more than 4 CRLs");
	assert_null(back);
	assert_int_equal(
	    ferry_crls_parse("garbage\n", 8, "x", &back), FERRY_E_CERT);
	snprintf(big, sizeof(big),
	    "%s-----BEGIN X509 CRL-----\nAAAA\n"
	    "-----END X509 CRL-----\n",
	    pem);
	assert_int_equal(
	    ferry_crls_parse(big, strlen(big), "x", &back), FERRY_E_CERT);
	assert_null(back);
	free(pem);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	X509_CRL_free(rc);
	X509_CRL_free(ic);
}

static void
test_root_crl_missing(void **state)
{
	struct fixture *f = *state;
	X509_CRL *crl = NULL;
	char p[PATH_MAX];
	int r;

	path(p, f->iss, "root-crl.pem");
	assert_int_equal(unlink(p), 0);
	assert_int_not_equal(r = ferry_ca_root_crl(f->i, &crl), 0);
	assert_null(crl);
	assert_detail(r, "ferry ca crl --dir ROOTDIR");
}

static void
test_usable(void **state)
{
	struct fixture *f = *state;
	X509_CRL *crl = NULL;
	char *serial = NULL, *pem = NULL, p[PATH_MAX];
	size_t len = 0;
	FILE *fp;
	int r;

	assert_int_equal(ferry_ca_usable(f->r), 0);
	assert_int_equal(ferry_ca_usable(f->i), 0);
	/* Revoked at the root, and the root's CRL copied to ISSUERDIR. */
	assert_int_equal(
	    ferry_cert_serial_hex(ferry_ca_cert(f->i), &serial), 0);
	assert_int_equal(ferry_ca_revoke(f->r, serial, NULL, 0, NULL, NULL), 0);
	assert_int_equal(ferry_ca_crl(f->r, 0, &crl), 0);
	assert_int_equal(ferry_crl_pem(crl, &pem, &len), 0);
	path(p, f->iss, "root-crl.pem");
	assert_non_null(fp = fopen(p, "w"));
	assert_int_equal(fwrite(pem, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(r = ferry_ca_usable(f->i), FERRY_E_REVOKED);
	assert_detail(r, "has been revoked by the root");
	/* A forged copy is refused, whatever it lists. */
	assert_non_null(fp = fopen(p, "w"));
	assert_int_equal(fputs("garbage\n", fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_not_equal(ferry_ca_usable(f->i), 0);
	free(pem);
	X509_CRL_free(crl);
	OPENSSL_free(serial);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_intermediate, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_intermediate_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_identity_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crls_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crls_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_root_crl_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_usable, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
