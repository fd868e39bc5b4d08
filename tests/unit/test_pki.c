/* test_pki.c - keys, member IDs, the CA directory, issuance and identities. */
#include <dirent.h>
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

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ferry/log.h"
#include "ferry/pki.h"

struct fixture {
	char dir[PATH_MAX]; /* removed with everything in it */
	char ca[PATH_MAX]; /* dir/ca, where ca_init puts a CA */
};

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/ferry-test-pki.XXXXXX",
	    tmp != NULL && *tmp == '/' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	if (snprintf(f->ca, sizeof(f->ca), "%s/ca", f->dir) >=
	    (int)sizeof(f->ca)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int r = nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);

	free(f);
	return r;
}

static void
path(char *out, const char *dir, const char *name)
{
	assert_true(snprintf(out, PATH_MAX, "%s/%s", dir, name) < PATH_MAX);
}

static mode_t
mode_of(const char *p)
{
	struct stat st;

	assert_int_equal(lstat(p, &st), 0);
	return st.st_mode & 07777;
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
ca_make(struct fixture *f, enum ferry_key_type type, int days)
{
	struct ferry_ca_init_opts o = {.dir = f->ca,
	    .name = "Test Root CA",
	    .key_type = type,
	    .days = days};

	assert_int_equal(ferry_ca_init(&o), 0);
}

static struct ferry_ca *
ca_open(struct fixture *f)
{
	struct ferry_ca *ca = NULL;

	assert_int_equal(ferry_ca_load(f->ca, &ca), 0);
	assert_non_null(ca);
	return ca;
}

static EVP_PKEY *
key_make(enum ferry_key_type type)
{
	EVP_PKEY *k = NULL;

	assert_int_equal(ferry_key_generate(type, &k), 0);
	assert_non_null(k);
	return k;
}

static X509 *
issue(struct ferry_ca *ca, EVP_PKEY *key, const char *id)
{
	struct ferry_cert_req req = {.id = id};
	X509 *cert = NULL;

	assert_int_equal(ferry_ca_sign(ca, key, &req, &cert), 0);
	assert_non_null(cert);
	return cert;
}

/* X509_verify_cert against ca alone, for TLS server or client use. */
static int
verify(X509 *cert, X509 *ca, int purpose)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	assert_non_null(store);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(store, ca), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, cert, NULL), 1);
	assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
	ok = X509_verify_cert(ctx);
	if (ok != 1)
		print_message(
		    "verify: %s\n", X509_verify_cert_error_string(
		                        X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

static int
serial_bits(X509 *cert)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	int bits;

	assert_non_null(bn);
	assert_false(BN_is_negative(bn));
	bits = BN_num_bits(bn);
	BN_free(bn);
	return bits;
}

static int
count_lines(const char *p)
{
	FILE *fp = fopen(p, "r");
	int c, n = 0;

	assert_non_null(fp);
	while ((c = fgetc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

/* No temporary file may stay behind in dir. */
static void
assert_no_temp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".tmp") != NULL)
			fail_msg("%s/%s left behind", dir, e->d_name);
	closedir(d);
}

static void
test_key_type_parse(void **state)
{
	enum ferry_key_type t;

	(void)state;
	assert_int_equal(ferry_key_type_parse("p256", &t), 0);
	assert_int_equal(t, FERRY_KEY_P256);
	assert_int_equal(ferry_key_type_parse("ed25519", &t), 0);
	assert_int_equal(t, FERRY_KEY_ED25519);
	assert_int_equal(ferry_key_type_parse("rsa3072", &t), 0);
	assert_int_equal(t, FERRY_KEY_RSA3072);
	assert_int_equal(ferry_key_type_parse("rsa", &t), FERRY_E_USAGE);
	assert_detail(FERRY_E_USAGE, "rsa");
	assert_int_equal(ferry_key_type_parse("", &t), FERRY_E_USAGE);
}

static void
test_id_check(void **state)
{
	static const char *const good[] = {
	    "alice", "a", "0", "bob-laptop", "x.y_z-1", "A.", "9..9"};
	static const char *const bad[] = {"", "../x", "a/b", ".hidden", "-dash",
	    "_u", "a\nb", "caf\xc3\xa9", "a b", "a:b", "a\\b", "\xff"};
	char max[FERRY_MAX_ID + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (ferry_id_check(good[i]) != 0)
			fail_msg("'%s' refused: %s", good[i],
			    ferry_err_detail(FERRY_E_USAGE));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ferry_id_check(bad[i]) != FERRY_E_USAGE)
			fail_msg("bad ID #%zu '%s' accepted", i, bad[i]);
	assert_int_equal(ferry_id_check(NULL), FERRY_E_USAGE);
	memset(max, 'a', sizeof(max));
	max[FERRY_MAX_ID] = '\0';
	assert_int_equal(ferry_id_check(max), 0);
	max[FERRY_MAX_ID] = 'a';
	max[FERRY_MAX_ID + 1] = '\0';
	assert_int_equal(ferry_id_check(max), FERRY_E_USAGE);
	assert_detail(FERRY_E_USAGE, "longer than 64");
}

static void
test_group_check(void **state)
{
	static const char *const good[] = {"finance", "f", "0", "ops-eu.1_x"};
	static const char *const bad[] = {"", "../x", "a/b", ".hidden", "-a",
	    "a\nb", "a b", "a:b", "group:x", "caf\xc3\xa9", "a,b"};
	char max[FERRY_MAX_GROUP + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (ferry_group_check(good[i]) != 0)
			fail_msg("'%s' refused: %s", good[i],
			    ferry_err_detail(FERRY_E_USAGE));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ferry_group_check(bad[i]) != FERRY_E_USAGE)
			fail_msg("bad group #%zu '%s' accepted", i, bad[i]);
		assert_detail(FERRY_E_USAGE, "group name");
	}
	memset(max, 'g', sizeof(max));
	max[FERRY_MAX_GROUP] = '\0';
	assert_int_equal(ferry_group_check(max), 0);
	max[FERRY_MAX_GROUP] = 'g';
	max[FERRY_MAX_GROUP + 1] = '\0';
	assert_int_equal(ferry_group_check(max), FERRY_E_USAGE);
	/* The member ID keeps its own wording. */
	assert_int_equal(ferry_id_check("a b"), FERRY_E_USAGE);
	assert_detail(FERRY_E_USAGE, "member ID");
}

static void
test_ca_init(void **state)
{
	struct fixture *f = *state;
	struct ferry_ca_init_opts o = {
	    .dir = f->ca, .key_type = FERRY_KEY_P256};
	char p[PATH_MAX];
	struct ferry_ca *ca;
	X509 *cert;
	X509_NAME *name;
	ASN1_OCTET_STRING *ski;
	AUTHORITY_KEYID *aki;
	BASIC_CONSTRAINTS *bc;
	struct stat st;
	int crit = -1, day, sec;

	assert_int_equal(ferry_ca_init(&o), 0);
	assert_int_equal(mode_of(f->ca), 0700);
	path(p, f->ca, "ca.key");
	assert_int_equal(mode_of(p), 0600);
	path(p, f->ca, "ca.pem");
	assert_int_equal(mode_of(p), 0644);
	path(p, f->ca, "index.tsv");
	assert_int_equal(count_lines(p), 0);
	path(p, f->ca, "certs");
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_no_temp(f->ca);

	ca = ca_open(f);
	cert = ferry_ca_cert(ca);
	assert_int_equal(X509_get_version(cert), X509_VERSION_3);
	assert_int_equal(X509_self_signed(cert, 1), 1);
	assert_true(X509_check_ca(cert) >= 1);
	name = X509_get_subject_name(cert);
	assert_int_equal(X509_NAME_entry_count(name), 1);
	assert_int_equal(X509_NAME_cmp(name, X509_get_issuer_name(cert)), 0);
	assert_int_equal(
	    X509_NAME_get_index_by_NID(name, NID_commonName, -1), 0);
	bc = X509_get_ext_d2i(cert, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(crit, 1);
	assert_true(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_not_equal(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN, 0);
	assert_int_not_equal(X509_get_key_usage(cert) & KU_CRL_SIGN, 0);
	assert_true(X509_get_extension_flags(cert) & EXFLAG_KUSAGE);
	ski = X509_get_ext_d2i(cert, NID_subject_key_identifier, NULL, NULL);
	aki = X509_get_ext_d2i(cert, NID_authority_key_identifier, NULL, NULL);
	assert_non_null(ski);
	assert_non_null(aki);
	assert_non_null(aki->keyid);
	assert_int_equal(ASN1_OCTET_STRING_cmp(ski, aki->keyid), 0);
	ASN1_OCTET_STRING_free(ski);
	AUTHORITY_KEYID_free(aki);
	assert_in_range(serial_bits(cert), 65, 128);
	/* Default validity: 3650 days, starting a little in the past. */
	assert_int_equal(X509_cmp_current_time(X509_get0_notBefore(cert)), -1);
	assert_int_equal(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(cert),
	                     X509_get0_notAfter(cert)),
	    1);
	assert_int_equal(day, 3650);
	assert_int_equal(sec, 0);
	ferry_ca_free(ca);

	/* A second init is refused and names what is in the way. */
	assert_int_equal(ferry_ca_init(&o), FERRY_E_EXIST);
	assert_detail(FERRY_E_EXIST, "ca.key");
}

static void
test_ca_init_refuses(void **state)
{
	struct fixture *f = *state;
	struct ferry_ca_init_opts o = {.dir = f->dir};
	char p[PATH_MAX];
	FILE *fp;

	/* Only a ca.pem: still a CA directory. */
	path(p, f->dir, "ca.pem");
	assert_non_null(fp = fopen(p, "w"));
	fclose(fp);
	assert_int_equal(ferry_ca_init(&o), FERRY_E_EXIST);
	assert_detail(FERRY_E_EXIST, "ca.pem");
	path(p, f->dir, "ca.key");
	assert_int_not_equal(access(p, F_OK), 0);

	/* The parent must exist. */
	path(p, f->dir, "no/such");
	o.dir = p;
	assert_int_equal(ferry_ca_init(&o), FERRY_E_NOENT);
	assert_detail(FERRY_E_NOENT, "no/such");

	/* Bad parameters leave nothing behind. */
	o.dir = f->ca;
	o.days = -1;
	assert_int_equal(ferry_ca_init(&o), FERRY_E_USAGE);
	o.days = 0;
	o.name = "";
	assert_int_equal(ferry_ca_init(&o), FERRY_E_USAGE);
	o.name = "\xc3(";
	assert_int_equal(ferry_ca_init(&o), FERRY_E_USAGE);
	o.name = NULL;
	o.key_type = (enum ferry_key_type)42;
	assert_int_equal(ferry_ca_init(&o), FERRY_E_USAGE);
	path(p, f->ca, "ca.key");
	assert_int_not_equal(access(p, F_OK), 0);
}

/* The checks every member certificate must pass. */
static void
check_member(X509 *cert, X509 *ca_cert, EVP_PKEY *key, const char *id)
{
	GENERAL_NAMES *gens;
	const GENERAL_NAME *gn;
	BASIC_CONSTRAINTS *bc;
	X509_NAME *name;
	char cn[FERRY_MAX_ID + 1], got[FERRY_MAX_ID + 1], uri[80];
	int crit = -1;

	assert_int_equal(X509_get_version(cert), X509_VERSION_3);
	assert_int_equal(verify(cert, ca_cert, X509_PURPOSE_SSL_SERVER), 1);
	assert_int_equal(verify(cert, ca_cert, X509_PURPOSE_SSL_CLIENT), 1);
	assert_int_equal(X509_check_private_key(cert, key), 1);

	/* Subject: CN=id and nothing else. */
	name = X509_get_subject_name(cert);
	assert_int_equal(X509_NAME_entry_count(name), 1);
	assert_true(X509_NAME_get_text_by_NID(
	                name, NID_commonName, cn, sizeof(cn)) > 0);
	assert_string_equal(cn, id);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(cert),
	                     X509_get_subject_name(ca_cert)),
	    0);

	/* SAN: the URI first. */
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	assert_non_null(gens);
	assert_int_equal(crit, 0);
	gn = sk_GENERAL_NAME_value(gens, 0);
	assert_int_equal(gn->type, GEN_URI);
	snprintf(uri, sizeof(uri), "ferry:%s", id);
	assert_int_equal(
	    gn->d.uniformResourceIdentifier->length, (int)strlen(uri));
	assert_memory_equal(
	    gn->d.uniformResourceIdentifier->data, uri, strlen(uri));
	GENERAL_NAMES_free(gens);
	assert_int_equal(ferry_cert_id(cert, got), 0);
	assert_string_equal(got, id);

	/* CA:FALSE, critical; TLS both ways; signing key usage. */
	bc = X509_get_ext_d2i(cert, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(crit, 1);
	assert_false(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(X509_check_ca(cert), 0);
	assert_int_equal(
	    X509_get_extended_key_usage(cert), XKU_SSL_SERVER | XKU_SSL_CLIENT);
	assert_int_not_equal(
	    X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE, 0);
	assert_int_equal(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN, 0);
	if (EVP_PKEY_is_a(key, "RSA"))
		assert_int_not_equal(
		    X509_get_key_usage(cert) & KU_KEY_ENCIPHERMENT, 0);
	assert_non_null(X509_get0_subject_key_id(cert));
	assert_non_null(X509_get0_authority_key_id(cert));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(cert),
	                     X509_get0_subject_key_id(ca_cert)),
	    0);
	assert_in_range(serial_bits(cert), 65, 128);
}

static void
sign_with(
    void **state, enum ferry_key_type ca_type, enum ferry_key_type member_type)
{
	struct fixture *f = *state;
	struct ferry_ca *ca;
	EVP_PKEY *key;
	X509 *cert;

	ca_make(f, ca_type, 0);
	ca = ca_open(f);
	key = key_make(member_type);
	cert = issue(ca, key, "alice");
	check_member(cert, ferry_ca_cert(ca), key, "alice");
	X509_free(cert);
	EVP_PKEY_free(key);
	ferry_ca_free(ca);
}

static void
test_sign_p256(void **state)
{
	sign_with(state, FERRY_KEY_P256, FERRY_KEY_P256);
}

static void
test_sign_ed25519(void **state)
{
	sign_with(state, FERRY_KEY_ED25519, FERRY_KEY_ED25519);
}

static void
test_sign_rsa3072(void **state)
{
	sign_with(state, FERRY_KEY_RSA3072, FERRY_KEY_RSA3072);
}

static void
test_sign_mixed(void **state)
{
	sign_with(state, FERRY_KEY_P256, FERRY_KEY_ED25519);
}

static void
test_sign_sans_and_record(void **state)
{
	struct fixture *f = *state;
	static const char *const dns[] = {"bob.example.com", "localhost"};
	static const char *const ips[] = {"127.0.0.1", "::1"};
	static const unsigned char v4[] = {127, 0, 0, 1};
	static const unsigned char v6[16] = {[15] = 1};
	struct ferry_cert_req req = {
	    .id = "bob", .dns = dns, .n_dns = 2, .ips = ips, .n_ips = 2};
	struct ferry_ca *ca;
	EVP_PKEY *key;
	X509 *c1 = NULL, *c2, *rec;
	GENERAL_NAMES *gens;
	const GENERAL_NAME *gn;
	char p[PATH_MAX], certs[PATH_MAX], line[512], nb[32], na[32];
	char hex1[64], *hex;
	struct tm tm;
	BIGNUM *bn;
	FILE *fp;

	ca_make(f, FERRY_KEY_P256, 0);
	ca = ca_open(f);
	key = key_make(FERRY_KEY_P256);
	assert_int_equal(ferry_ca_sign(ca, key, &req, &c1), 0);
	check_member(c1, ferry_ca_cert(ca), key, "bob");
	gens = X509_get_ext_d2i(c1, NID_subject_alt_name, NULL, NULL);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 5);
	for (int i = 1; i < 3; i++) {
		gn = sk_GENERAL_NAME_value(gens, i);
		assert_int_equal(gn->type, GEN_DNS);
		assert_int_equal(
		    gn->d.dNSName->length, (int)strlen(dns[i - 1]));
		assert_memory_equal(
		    gn->d.dNSName->data, dns[i - 1], strlen(dns[i - 1]));
	}
	gn = sk_GENERAL_NAME_value(gens, 3);
	assert_int_equal(gn->type, GEN_IPADD);
	assert_int_equal(gn->d.iPAddress->length, 4);
	assert_memory_equal(gn->d.iPAddress->data, v4, 4);
	gn = sk_GENERAL_NAME_value(gens, 4);
	assert_int_equal(gn->type, GEN_IPADD);
	assert_int_equal(gn->d.iPAddress->length, 16);
	assert_memory_equal(gn->d.iPAddress->data, v6, 16);
	GENERAL_NAMES_free(gens);
	/* What OpenSSL's host checks (and so TLS peers) will accept. */
	assert_int_equal(X509_check_host(c1, "bob.example.com", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(c1, "::1", 0), 1);
	assert_int_equal(
	    X509_check_host(c1, "evil.example.com", 0, 0, NULL), 0);

	/* A second issuance: another serial, another record line. */
	c2 = issue(ca, key, "bob");
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(c1),
	                         X509_get0_serialNumber(c2)),
	    0);
	path(p, f->ca, "index.tsv");
	assert_int_equal(count_lines(p), 2);

	/* Line 1: SERIAL, notBefore, notAfter, ID, V. */
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c1), NULL);
	hex = BN_bn2hex(bn);
	snprintf(hex1, sizeof(hex1), "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
	assert_int_equal(ASN1_TIME_to_tm(X509_get0_notBefore(c1), &tm), 1);
	strftime(nb, sizeof(nb), "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_int_equal(ASN1_TIME_to_tm(X509_get0_notAfter(c1), &tm), 1);
	strftime(na, sizeof(na), "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_non_null(fp = fopen(p, "r"));
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	{
		char want[512];

		snprintf(
		    want, sizeof(want), "%s\t%s\t%s\tbob\tV\n", hex1, nb, na);
		assert_string_equal(line, want);
	}

	/* certs/<SERIAL>.pem holds the same certificate. */
	strcat(hex1, ".pem");
	path(certs, f->ca, "certs");
	path(p, certs, hex1);
	assert_int_equal(ferry_cert_load(p, &rec), 0);
	assert_int_equal(X509_cmp(rec, c1), 0);
	X509_free(rec);
	assert_no_temp(certs);
	assert_no_temp(f->ca);

	X509_free(c1);
	X509_free(c2);
	EVP_PKEY_free(key);
	ferry_ca_free(ca);
}

static void
test_sign_bad_names(void **state)
{
	struct fixture *f = *state;
	static const char *const bad_dns[] = {"", "a..b", ".a", "a.", "-a.com",
	    "a-.com", "*.example.com", "a_b.com", "a b", "a,b", "x/y",
	    "1.2.3.4", "::1", "a\nb",
	    ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     ".com")};
	static const char *const bad_ip[] = {"", "1.2.3", "1.2.3.4.5",
	    "256.1.1.1", "01.2.3.4", "::g", "1.2.3.4/24", "fe80::1%eth0",
	    "localhost", " 1.2.3.4"};
	char long_dns[300];
	struct ferry_cert_req req = {.id = "carol"};
	struct ferry_ca *ca;
	EVP_PKEY *key;
	X509 *cert = NULL;
	char p[PATH_MAX];

	ca_make(f, FERRY_KEY_P256, 0);
	ca = ca_open(f);
	key = key_make(FERRY_KEY_P256);
	for (size_t i = 0; i < sizeof(bad_dns) / sizeof(bad_dns[0]); i++) {
		req.dns = &bad_dns[i];
		req.n_dns = 1;
		if (ferry_ca_sign(ca, key, &req, &cert) != FERRY_E_USAGE)
			fail_msg("DNS name '%s' accepted", bad_dns[i]);
		assert_null(cert);
		if (*bad_dns[i] != '\0')
			assert_detail(FERRY_E_USAGE, bad_dns[i]);
	}
	/* 127 labels of "a." are 254 bytes: one too many. */
	for (size_t i = 0; i < 254; i += 2)
		memcpy(long_dns + i, "a.", 2);
	long_dns[253] = '\0';
	req.dns = (const char *const[]){long_dns};
	assert_int_equal(ferry_ca_sign(ca, key, &req, &cert), 0);
	X509_free(cert);
	cert = NULL;
	long_dns[253] = 'b';
	long_dns[254] = '\0';
	assert_int_equal(ferry_ca_sign(ca, key, &req, &cert), FERRY_E_USAGE);
	assert_detail(FERRY_E_USAGE, "253");

	req.dns = (const char *const[]){"*.example.com"};
	assert_int_equal(ferry_ca_sign(ca, key, &req, &cert), FERRY_E_USAGE);
	assert_detail(FERRY_E_USAGE, "wildcard");

	req.n_dns = 0;
	for (size_t i = 0; i < sizeof(bad_ip) / sizeof(bad_ip[0]); i++) {
		req.ips = &bad_ip[i];
		req.n_ips = 1;
		if (ferry_ca_sign(ca, key, &req, &cert) != FERRY_E_USAGE)
			fail_msg("IP '%s' accepted", bad_ip[i]);
		assert_null(cert);
		assert_detail(FERRY_E_USAGE, bad_ip[i]);
	}
	req.n_ips = 0;
	req.id = "../x";
	assert_int_equal(ferry_ca_sign(ca, key, &req, &cert), FERRY_E_USAGE);
	assert_null(cert);

	/* Only the one good issuance was recorded. */
	path(p, f->ca, "index.tsv");
	assert_int_equal(count_lines(p), 1);
	EVP_PKEY_free(key);
	ferry_ca_free(ca);
}

static void
test_sign_validity(void **state)
{
	struct fixture *f = *state;
	struct ferry_cert_req req = {.id = "dave"};
	struct ferry_ca *ca;
	EVP_PKEY *key;
	X509 *cert = NULL;
	time_t now = time(NULL);
	int day, sec;

	ca_make(f, FERRY_KEY_P256, 30);
	ca = ca_open(f);
	key = key_make(FERRY_KEY_P256);

	/* Defaults: from five minutes ago, for 365 days - beyond this CA. */
	assert_int_equal(ferry_ca_sign(ca, key, &req, &cert), FERRY_E_USAGE);
	assert_detail(FERRY_E_USAGE, "after the CA certificate expires");
	assert_null(cert);

	req.days = 10;
	assert_int_equal(ferry_ca_sign(ca, key, &req, &cert), 0);
	assert_int_equal(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(cert),
	                     X509_get0_notAfter(cert)),
	    1);
	assert_int_equal(day, 10);
	assert_int_equal(sec, 0);
	/* notBefore: five minutes before the call, for clock skew. */
	assert_true(
	    ASN1_TIME_cmp_time_t(X509_get0_notBefore(cert), now - 300) >= 0);
	assert_true(ASN1_TIME_cmp_time_t(
	                X509_get0_notBefore(cert), time(NULL) - 299) < 0);
	X509_free(cert);
	cert = NULL;

	/* An explicit window, already over. */
	req.not_before = 1577836800; /* 2020-01-01 */
	req.not_after = 1590969600; /* 2020-06-01 */
	assert_int_equal(ferry_ca_sign(ca, key, &req, &cert), 0);
	assert_int_equal(
	    ASN1_TIME_cmp_time_t(X509_get0_notBefore(cert), req.not_before), 0);
	assert_int_equal(
	    ASN1_TIME_cmp_time_t(X509_get0_notAfter(cert), req.not_after), 0);
	assert_int_equal(X509_cmp_current_time(X509_get0_notAfter(cert)), -1);
	X509_free(cert);
	cert = NULL;

	/* notAfter not after notBefore. */
	req.not_after = req.not_before;
	assert_int_equal(ferry_ca_sign(ca, key, &req, &cert), FERRY_E_USAGE);
	assert_detail(FERRY_E_USAGE, "not later than notBefore");
	req.not_after = req.not_before - 1;
	assert_int_equal(ferry_ca_sign(ca, key, &req, &cert), FERRY_E_USAGE);
	/* Only notAfter, in the past: before the default notBefore. */
	req.not_before = 0;
	req.not_after = 1590969600;
	assert_int_equal(ferry_ca_sign(ca, key, &req, &cert), FERRY_E_USAGE);
	/* Beyond the CA. */
	req.not_after = now + 40 * 86400;
	assert_int_equal(ferry_ca_sign(ca, key, &req, &cert), FERRY_E_USAGE);
	assert_detail(FERRY_E_USAGE, "after the CA certificate expires");
	req.not_after = 0;
	req.days = -5;
	assert_int_equal(ferry_ca_sign(ca, key, &req, &cert), FERRY_E_USAGE);
	assert_null(cert);

	EVP_PKEY_free(key);
	ferry_ca_free(ca);
}

/* A self-signed certificate carrying the SANs of conf ("URI:a,DNS:b"). */
static X509 *
cert_with_san(EVP_PKEY *key, const char *conf)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	if (conf != NULL) {
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		ext = X509V3_EXT_nconf_nid(
		    NULL, &ctx, NID_subject_alt_name, conf);
		assert_non_null(ext);
		assert_int_equal(X509_add_ext(x, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static void
test_cert_id(void **state)
{
	static const struct {
		const char *san; /* NULL: no SAN extension */
		const char *id; /* NULL: FERRY_E_IDENTITY */
	} cases[] = {
	    {"URI:ferry:alice", "alice"},
	    {"DNS:a.example,URI:https://x/,URI:ferry:b-1,IP:::1", "b-1"},
	    {NULL, NULL},
	    {"DNS:alice", NULL},
	    {"URI:ferry:a,URI:ferry:b", NULL},
	    {"URI:ferry:a,URI:ferry:a", NULL},
	    {"URI:ferry:", NULL},
	    {"URI:ferry:../x", NULL},
	    {"URI:ferry:a/b", NULL},
	    {"URI:ferry:.hidden", NULL},
	    {"URI:FERRY:alice", NULL},
	    {"URI:ferry:"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaa",
	        NULL},
	    {"URI:ferry", NULL},
	};
	EVP_PKEY *key = key_make(FERRY_KEY_P256);
	char id[FERRY_MAX_ID + 1];
	X509 *x;
	int r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		x = cert_with_san(key, cases[i].san);
		r = ferry_cert_id(x, id);
		if (cases[i].id != NULL) {
			if (r != 0)
				fail_msg(
				    "case %zu: %s", i, ferry_err_detail(r));
			assert_string_equal(id, cases[i].id);
		} else {
			if (r != FERRY_E_IDENTITY)
				fail_msg("case %zu accepted: '%s'", i, id);
			assert_string_equal(id, "");
		}
		X509_free(x);
	}
	x = cert_with_san(key, NULL);
	assert_int_equal(ferry_cert_id(x, id), FERRY_E_IDENTITY);
	assert_detail(FERRY_E_IDENTITY, "no ferry member ID");
	X509_free(x);
	EVP_PKEY_free(key);
}

/* Signs for carol with groups g[0..n); returns the result, *cert on 0. */
static int
sign_groups(struct ferry_ca *ca, EVP_PKEY *key, const char *const *g, size_t n,
    X509 **cert)
{
	struct ferry_cert_req req = {.id = "carol", .groups = g, .n_groups = n};

	*cert = NULL;
	return ferry_ca_sign(ca, key, &req, cert);
}

static void
test_sign_groups(void **state)
{
	struct fixture *f = *state;
	static const char *const two[] = {"finance", "ops.eu"};
	static const char *const twice[] = {"finance", "ops", "finance"};
	static const char *const bad[] = {"fin ance"};
	const char *many[FERRY_MAX_GROUPS + 1];
	char names[FERRY_MAX_GROUPS + 1][8], id[FERRY_MAX_ID + 1];
	struct ferry_cert_req srv = {
	    .id = "authd", .groups = two, .n_groups = 1, .server_only = 1};
	struct ferry_ca *ca;
	EVP_PKEY *key;
	X509 *cert = NULL;
	char **got = NULL;
	size_t n = 99;

	ca_make(f, FERRY_KEY_P256, 0);
	ca = ca_open(f);
	key = key_make(FERRY_KEY_P256);
	assert_int_equal(sign_groups(ca, key, two, 2, &cert), 0);
	assert_int_equal(ferry_cert_groups(cert, &got, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(got[0], "finance");
	assert_string_equal(got[1], "ops.eu");
	/* The member ID is still the one URI SAN ferry:<ID>. */
	assert_int_equal(ferry_cert_id(cert, id), 0);
	assert_string_equal(id, "carol");
	ferry_cert_groups_free(got, n);
	X509_free(cert);
	/* No groups: none read back. */
	assert_int_equal(sign_groups(ca, key, NULL, 0, &cert), 0);
	assert_int_equal(ferry_cert_groups(cert, &got, &n), 0);
	assert_int_equal(n, 0);
	assert_null(got);
	X509_free(cert);
	assert_int_equal(sign_groups(ca, key, twice, 3, &cert), FERRY_E_USAGE);
	assert_detail(FERRY_E_USAGE, "'finance' is given twice");
	assert_null(cert);
	assert_int_equal(sign_groups(ca, key, bad, 1, &cert), FERRY_E_USAGE);
	assert_detail(FERRY_E_USAGE, "group name 'fin ance'");
	assert_int_equal(sign_groups(ca, key, NULL, 1, &cert), FERRY_E_USAGE);
	for (size_t i = 0; i <= FERRY_MAX_GROUPS; i++) {
		snprintf(names[i], sizeof(names[i]), "g%zu", i);
		many[i] = names[i];
	}
	assert_int_equal(
	    sign_groups(ca, key, many, FERRY_MAX_GROUPS, &cert), 0);
	assert_int_equal(ferry_cert_groups(cert, &got, &n), 0);
	assert_int_equal(n, FERRY_MAX_GROUPS);
	ferry_cert_groups_free(got, n);
	X509_free(cert);
	assert_int_equal(
	    sign_groups(ca, key, many, FERRY_MAX_GROUPS + 1, &cert),
	    FERRY_E_USAGE);
	assert_detail(FERRY_E_USAGE, "at most 32");
	assert_int_equal(ferry_ca_sign(ca, key, &srv, &cert), FERRY_E_USAGE);
	assert_detail(FERRY_E_USAGE, "server-only");
	EVP_PKEY_free(key);
	ferry_ca_free(ca);
}

static void
test_cert_groups(void **state)
{
	static const struct {
		const char *san; /* NULL: no SAN extension */
		int n; /* -1: FERRY_E_IDENTITY */
		const char *first;
	} cases[] = {
	    {NULL, 0, NULL},
	    {"URI:ferry:alice", 0, NULL},
	    {"URI:ferry:a,URI:ferry-group:finance", 1, "finance"},
	    {"URI:ferry-group:b,DNS:x.example,URI:ferry-group:a", 2, "b"},
	    {"URI:FERRY-GROUP:a,URI:ferry-groupx", 0, NULL},
	    {"URI:ferry-group:", -1, NULL},
	    {"URI:ferry-group:../x", -1, NULL},
	    {"URI:ferry-group:a/b", -1, NULL},
	    {"URI:ferry-group:.a", -1, NULL},
	    {"URI:ferry-group:a,URI:ferry-group:a", -1, NULL},
	    {"URI:ferry-group:"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "a",
	        -1, NULL},
	};
	EVP_PKEY *key = key_make(FERRY_KEY_P256);
	char conf[2048], **got = NULL;
	size_t n = 0;
	X509 *x;
	int r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		x = cert_with_san(key, cases[i].san);
		r = ferry_cert_groups(x, &got, &n);
		if (cases[i].n < 0) {
			if (r != FERRY_E_IDENTITY)
				fail_msg("case %zu accepted", i);
			assert_null(got);
			assert_int_equal(n, 0);
		} else {
			if (r != 0)
				fail_msg(
				    "case %zu: %s", i, ferry_err_detail(r));
			assert_int_equal(n, (size_t)cases[i].n);
			if (cases[i].first != NULL)
				assert_string_equal(got[0], cases[i].first);
			ferry_cert_groups_free(got, n);
			got = NULL;
		}
		X509_free(x);
	}
	/* One more than the bound. */
	snprintf(conf, sizeof(conf), "URI:ferry:a");
	for (int i = 0; i <= FERRY_MAX_GROUPS; i++)
		snprintf(conf + strlen(conf), sizeof(conf) - strlen(conf),
		    ",URI:ferry-group:g%d", i);
	x = cert_with_san(key, conf);
	assert_int_equal(ferry_cert_groups(x, &got, &n), FERRY_E_IDENTITY);
	assert_detail(FERRY_E_IDENTITY, "more than 32 groups");
	assert_null(got);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void
test_identity_write(void **state)
{
	struct fixture *f = *state;
	struct ferry_ca *ca;
	EVP_PKEY *key, *other, *loaded = NULL;
	X509 *cert, *back = NULL;
	char dir[PATH_MAX], p[PATH_MAX], line[64];
	FILE *fp;

	ca_make(f, FERRY_KEY_P256, 0);
	ca = ca_open(f);
	key = key_make(FERRY_KEY_P256);
	other = key_make(FERRY_KEY_P256);
	cert = issue(ca, key, "erin");
	path(dir, f->dir, "erin");

	/* Refused before anything is written: the key is not the cert's. */
	assert_int_equal(
	    ferry_identity_write(dir, other, cert, ferry_ca_cert(ca)),
	    FERRY_E_USAGE);
	assert_int_not_equal(access(dir, F_OK), 0);

	assert_int_equal(
	    ferry_identity_write(dir, key, cert, ferry_ca_cert(ca)), 0);
	assert_int_equal(mode_of(dir), 0700);
	path(p, dir, "key.pem");
	assert_int_equal(mode_of(p), 0600);
	assert_non_null(fp = fopen(p, "r"));
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	assert_string_equal(line, "-----BEGIN PRIVATE KEY-----\n");
	assert_int_equal(ferry_key_load(p, &loaded), 0);
	assert_int_equal(EVP_PKEY_eq(loaded, key), 1);
	path(p, dir, "cert.pem");
	assert_int_equal(mode_of(p), 0644);
	assert_int_equal(ferry_cert_load(p, &back), 0);
	assert_int_equal(X509_cmp(back, cert), 0);
	X509_free(back);
	back = NULL;
	path(p, dir, "ca.pem");
	assert_int_equal(mode_of(p), 0644);
	assert_int_equal(ferry_cert_load(p, &back), 0);
	assert_int_equal(X509_cmp(back, ferry_ca_cert(ca)), 0);
	assert_no_temp(dir);

	/* Never over an existing key. */
	assert_int_equal(
	    ferry_identity_write(dir, key, cert, ferry_ca_cert(ca)),
	    FERRY_E_EXIST);
	assert_detail(FERRY_E_EXIST, "key.pem");
	assert_detail(FERRY_E_EXIST, "--out");
	path(p, dir, "key.pem");
	assert_int_equal(mode_of(p), 0600);

	/* A failure after key.pem was written takes key.pem away again. */
	path(dir, f->dir, "erin2");
	assert_int_equal(mkdir(dir, 0700), 0);
	path(p, dir, "cert.pem");
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_not_equal(
	    ferry_identity_write(dir, key, cert, ferry_ca_cert(ca)), 0);
	path(p, dir, "key.pem");
	assert_int_not_equal(access(p, F_OK), 0);
	assert_no_temp(dir);

	/* The parent must exist. */
	path(dir, f->dir, "no/such");
	assert_int_equal(
	    ferry_identity_write(dir, key, cert, ferry_ca_cert(ca)),
	    FERRY_E_NOENT);

	X509_free(back);
	X509_free(cert);
	EVP_PKEY_free(loaded);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	ferry_ca_free(ca);
}

static void
test_load_errors(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX], q[PATH_MAX];
	EVP_PKEY *key = NULL, *k2;
	X509 *cert = NULL;
	struct ferry_ca *ca = NULL;
	FILE *fp;

	path(p, f->dir, "missing.pem");
	assert_int_equal(ferry_cert_load(p, &cert), FERRY_E_NOENT);
	assert_detail(FERRY_E_NOENT, p);
	assert_int_equal(ferry_key_load(p, &key), FERRY_E_NOENT);
	assert_detail(FERRY_E_NOENT, p);
	assert_int_equal(ferry_ca_load(f->dir, &ca), FERRY_E_NOENT);
	assert_null(ca);

	path(p, f->dir, "junk.pem");
	assert_non_null(fp = fopen(p, "w"));
	fputs("-----BEGIN CERTIFICATE-----\nnot base64\n", fp);
	fclose(fp);
	/* A key open to others is refused before it is read. */
	assert_int_equal(chmod(p, 0640), 0);
	assert_int_equal(ferry_key_load(p, &key), FERRY_E_ACCESS);
	assert_detail(FERRY_E_ACCESS, "readable by its group (mode 0640); "
	                              "fix with: chmod 600");
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(ferry_cert_load(p, &cert), FERRY_E_CERT);
	assert_detail(FERRY_E_CERT, p);
	assert_null(cert);
	assert_int_equal(ferry_key_load(p, &key), FERRY_E_CERT);
	assert_null(key);
	assert_int_equal(ferry_cert_load(f->dir, &cert), FERRY_E_NOTREG);

	/* An encrypted key is refused without prompting. */
	k2 = key_make(FERRY_KEY_P256);
	path(p, f->dir, "enc.pem");
	assert_non_null(fp = fopen(p, "w"));
	assert_int_equal(PEM_write_PKCS8PrivateKey(fp, k2, EVP_aes_256_cbc(),
	                     "secret", 6, NULL, NULL),
	    1);
	fclose(fp);
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(ferry_key_load(p, &key), FERRY_E_CERT);
	assert_detail(FERRY_E_CERT, "encrypted");

	/* A CA whose key is not its certificate's. */
	ca_make(f, FERRY_KEY_P256, 0);
	path(q, f->ca, "ca.key");
	assert_int_equal(unlink(q), 0);
	assert_non_null(fp = fopen(q, "w"));
	assert_int_equal(
	    PEM_write_PrivateKey(fp, k2, NULL, NULL, 0, NULL, NULL), 1);
	fclose(fp);
	/* The CA's key readable by others: refused, with the fix. */
	assert_int_equal(chmod(q, 0644), 0);
	assert_int_equal(ferry_ca_load(f->ca, &ca), FERRY_E_ACCESS);
	assert_detail(FERRY_E_ACCESS, "readable by others (mode 0644)");
	assert_null(ca);
	assert_int_equal(chmod(q, 0600), 0);
	assert_int_equal(ferry_ca_load(f->ca, &ca), FERRY_E_CERT);
	assert_detail(FERRY_E_CERT, "does not belong");
	assert_null(ca);
	EVP_PKEY_free(k2);
	ERR_clear_error();
}

static void
test_ca_load_not_ca(void **state)
{
	struct fixture *f = *state;
	struct ferry_ca *ca = NULL, *member;
	EVP_PKEY *key;
	X509 *cert;
	char dir[PATH_MAX], from[PATH_MAX], to[PATH_MAX];

	/* A member identity directory has the same file names: not a CA. */
	ca_make(f, FERRY_KEY_P256, 0);
	ca = ca_open(f);
	key = key_make(FERRY_KEY_P256);
	cert = issue(ca, key, "frank");
	path(dir, f->dir, "frank");
	assert_int_equal(
	    ferry_identity_write(dir, key, cert, ferry_ca_cert(ca)), 0);
	path(from, dir, "key.pem");
	path(to, dir, "ca.key");
	assert_int_equal(rename(from, to), 0);
	path(from, dir, "cert.pem");
	path(to, dir, "ca.pem");
	assert_int_equal(rename(from, to), 0);
	member = NULL;
	assert_int_equal(ferry_ca_load(dir, &member), FERRY_E_CERT);
	assert_null(member);
	X509_free(cert);
	EVP_PKEY_free(key);
	ferry_ca_free(ca);
}

static void
test_fingerprint(void **state)
{
	struct fixture *f = *state;
	unsigned char md[32];
	unsigned int n = 0;
	char fp[72], small[71], want[72];
	struct ferry_ca *ca;

	ca_make(f, FERRY_KEY_ED25519, 0);
	ca = ca_open(f);
	assert_int_equal(
	    ferry_cert_fingerprint(ferry_ca_cert(ca), fp, sizeof(fp)), 0);
	assert_int_equal(strlen(fp), 71);
	assert_memory_equal(fp, "SHA256:", 7);
	for (size_t i = 7; i < 71; i++)
		assert_non_null(strchr("0123456789abcdef", fp[i]));
	assert_int_equal(
	    X509_digest(ferry_ca_cert(ca), EVP_sha256(), md, &n), 1);
	memcpy(want, "SHA256:", 7);
	for (unsigned i = 0; i < n; i++)
		snprintf(want + 7 + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(fp, want);
	assert_int_not_equal(
	    ferry_cert_fingerprint(ferry_ca_cert(ca), small, sizeof(small)), 0);
	ferry_ca_free(ca);
}

/* The one form of a host name: what binds, compares and is issued. */
static void
test_host_normalize(void **state)
{
	static const struct {
		const char *in, *out;
		enum ferry_host_kind kind;
	} good[] = {
	    {"Bob-Laptop.Example.Internal", "bob-laptop.example.internal",
	        FERRY_HOST_DNS},
	    {"bob-laptop.example.internal.", "bob-laptop.example.internal",
	        FERRY_HOST_DNS},
	    {"localhost", "localhost", FERRY_HOST_DNS},
	    {"10.0.0.1", "10.0.0.1", FERRY_HOST_IP},
	    {"2001:DB8:0:0::1", "2001:db8::1", FERRY_HOST_IP},
	};
	static const char *const bad[] = {"", "*.example.internal",
	    "a.*.example", ".example.internal", "a..example", "a.example..",
	    "xn--80ak6aa92e.com", "bob.xn--p1ai", "b\xc3\xb6\x62.example",
	    "bob laptop", "bob\tlaptop", "-bob.example", "bob-.example",
	    "10.0.0.1.", "1.2.3.04", "a.123", "bob_laptop.example", "[::1]"};
	char out[FERRY_MAX_HOSTNAME + 1], longname[400];
	enum ferry_host_kind kind;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(
		    ferry_host_normalize(good[i].in, out, &kind), 0);
		assert_string_equal(out, good[i].out);
		assert_int_equal(kind, good[i].kind);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ferry_host_normalize(bad[i], out, &kind) != FERRY_E_USAGE)
			fail_msg("'%s' was accepted as '%s'", bad[i], out);
		assert_string_equal(out, "");
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	for (size_t i = 60; i < sizeof(longname) - 1; i += 61)
		longname[i] = '.';
	assert_int_equal(
	    ferry_host_normalize(longname, out, &kind), FERRY_E_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_normalize),
	    cmocka_unit_test(test_key_type_parse),
	    cmocka_unit_test(test_id_check),
	    cmocka_unit_test(test_group_check),
	    cmocka_unit_test_setup_teardown(test_ca_init, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ca_init_refuses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sign_p256, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sign_ed25519, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sign_rsa3072, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sign_mixed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sign_sans_and_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sign_bad_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sign_validity, setup, teardown),
	    cmocka_unit_test(test_cert_id),
	    cmocka_unit_test(test_cert_groups),
	    cmocka_unit_test_setup_teardown(test_sign_groups, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_identity_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ca_load_not_ca, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fingerprint, setup, teardown),
	};

	/* Failures are asserted here, not read from the log. */
	ferry_log_set(NULL, FERRY_LOG_ERROR, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
