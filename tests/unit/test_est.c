/* test_est.c - EST formats: base64 per RFC 8951, PKCS#10 in, certs-only
 * PKCS#7 out, Basic credentials; malformed inputs, truncation and bit-flip
 * sweeps over valid encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ferry/est.h"
#include "ferry/log.h"
#include "ferry/pki.h"

static int
decode(const char *in, struct ferry_buf *b)
{
	ferry_buf_reset(b);
	return ferry_est_b64_decode(in, strlen(in), b);
}

static void
test_b64(void **state)
{
	struct ferry_buf b;
	char *enc = NULL;
	size_t n = 0;

	(void)state;
	ferry_buf_init_public(&b, 64);
	assert_int_equal(decode("", &b), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(decode("Zm9vYmFy", &b), 0);
	assert_memory_equal(b.data, "foobar", 6);
	assert_int_equal(decode("Zm9vYg==", &b), 0);
	assert_int_equal(b.len, 4);
	assert_int_equal(decode("Zm9vYmE=", &b), 0);
	assert_int_equal(b.len, 5);
	/* RFC 8951: whitespace anywhere. */
	assert_int_equal(decode(" Zm9v\r\nYm\tFy \n", &b), 0);
	assert_memory_equal(b.data, "foobar", 6);
	/* Malformed. */
	assert_int_equal(decode("Zm9vYmF", &b), FERRY_E_PROTO);
	assert_int_equal(decode("Zm9v!mFy", &b), FERRY_E_PROTO);
	assert_int_equal(decode("Zm9vYg==Zm9v", &b), FERRY_E_PROTO);
	assert_int_equal(decode("Zm9vY===", &b), FERRY_E_PROTO);
	assert_int_equal(decode("Zm=vYmFy", &b), FERRY_E_PROTO);
	assert_int_equal(decode("====", &b), FERRY_E_PROTO);
	assert_int_equal(decode("Zm9vYh==", &b), FERRY_E_PROTO); /* bits */
	assert_int_equal(decode("Zm9v\0", &b), 0);
	ferry_buf_reset(&b);
	assert_int_equal(
	    ferry_est_b64_decode("Zm9v\0Zm9v", 9, &b), FERRY_E_PROTO);
	/* The maximum bounds the output. */
	ferry_buf_free(&b);
	ferry_buf_init_public(&b, 5);
	assert_int_equal(decode("Zm9vYmFy", &b), FERRY_E_TOOBIG);
	ferry_buf_free(&b);
	/* Round trip, with the encoder's line breaks. */
	ferry_buf_init_public(&b, 1024);
	{
		unsigned char raw[200];

		for (size_t i = 0; i < sizeof(raw); i++)
			raw[i] = (unsigned char)(i * 7 + 3);
		assert_int_equal(
		    ferry_est_b64_encode(raw, sizeof(raw), &enc, &n), 0);
		assert_non_null(strchr(enc, '\n'));
		assert_int_equal(ferry_est_b64_decode(enc, n, &b), 0);
		assert_int_equal(b.len, sizeof(raw));
		assert_memory_equal(b.data, raw, sizeof(raw));
	}
	free(enc);
	ferry_buf_free(&b);
}

static char *
make_csr(enum ferry_key_type t, const char *cn, size_t *len, EVP_PKEY **key)
{
	static const char *const dns[] = {"host.example.com", "localhost"};
	char *csr = NULL;

	assert_int_equal(ferry_key_generate(t, key), 0);
	assert_int_equal(ferry_est_csr_make(*key, cn, dns, 2, &csr, len), 0);
	return csr;
}

static void
test_csr(void **state)
{
	static const enum ferry_key_type types[] = {
	    FERRY_KEY_P256, FERRY_KEY_ED25519};
	struct ferry_est_names names;
	X509_REQ *req = NULL;
	EVP_PKEY *key = NULL;
	size_t len = 0;
	char *csr;

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		csr = make_csr(types[i], "alice", &len, &key);
		assert_int_equal(ferry_est_csr_parse(csr, len, &req), 0);
		assert_non_null(req);
		assert_int_equal(ferry_est_csr_names(req, &names), 0);
		assert_int_equal(names.n_dns, 2);
		assert_string_equal(names.dns[0], "host.example.com");
		assert_int_equal(names.n_ips, 0);
		ferry_est_names_free(&names);
		X509_REQ_free(req);
		req = NULL;
		EVP_PKEY_free(key);
		free(csr);
	}
	/* Empty, garbage, trailing bytes. */
	assert_int_equal(ferry_est_csr_parse("", 0, &req), FERRY_E_PROTO);
	assert_int_equal(ferry_est_csr_parse("AAAA", 4, &req), FERRY_E_PROTO);
	assert_null(req);
}

/* Every prefix and every single-bit flip of a valid CSR: refused cleanly
 * or (for flips the signature does not cover... none) accepted. */
static void
test_csr_sweeps(void **state)
{
	struct ferry_buf der;
	X509_REQ *req = NULL;
	EVP_PKEY *key = NULL;
	char *csr, *enc = NULL;
	size_t len = 0, n = 0;
	unsigned accepted = 0;

	(void)state;
	csr = make_csr(FERRY_KEY_P256, "alice", &len, &key);
	ferry_buf_init_public(&der, FERRY_EST_MAX_CSR);
	assert_int_equal(ferry_est_b64_decode(csr, len, &der), 0);
	for (size_t cut = 0; cut < der.len; cut++) {
		assert_int_equal(
		    ferry_est_b64_encode(der.data, cut, &enc, &n), 0);
		assert_int_not_equal(ferry_est_csr_parse(enc, n, &req), 0);
		assert_null(req);
		free(enc);
	}
	for (size_t i = 0; i < der.len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			der.data[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(
			    ferry_est_b64_encode(der.data, der.len, &enc, &n),
			    0);
			if (ferry_est_csr_parse(enc, n, &req) == 0)
				accepted++;
			X509_REQ_free(req);
			req = NULL;
			free(enc);
			der.data[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* A flip may only pass where DER has slack (none in what we make). */
	assert_true(accepted <= 2);
	ferry_buf_free(&der);
	EVP_PKEY_free(key);
	free(csr);
}

static void
test_key_policy(void **state)
{
	EVP_PKEY *k;

	(void)state;
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	assert_non_null(k);
	assert_int_equal(ferry_est_key_check(k), FERRY_E_REFUSED);
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_non_null(k);
	assert_int_equal(ferry_est_key_check(k), FERRY_E_REFUSED);
	EVP_PKEY_free(k);
	assert_int_equal(ferry_key_generate(FERRY_KEY_P256, &k), 0);
	assert_int_equal(ferry_est_key_check(k), 0);
	EVP_PKEY_free(k);
	assert_int_equal(ferry_est_key_check(NULL), FERRY_E_REFUSED);
}

static void
test_certs(void **state)
{
	STACK_OF(X509) *got = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL, *certs[2];
	char *b64 = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(ferry_key_generate(FERRY_KEY_P256, &key), 0);
	cert = X509_new();
	assert_non_null(cert);
	X509_set_version(cert, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_set_pubkey(cert, key);
	assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
	certs[0] = cert;
	certs[1] = cert;
	assert_int_equal(ferry_est_certs_encode(certs, 2, &b64, &n), 0);
	assert_int_equal(ferry_est_certs_parse(b64, n, &got), 0);
	assert_int_equal(sk_X509_num(got), 2);
	assert_int_equal(X509_cmp(sk_X509_value(got, 0), cert), 0);
	sk_X509_pop_free(got, X509_free);
	got = NULL;
	/* Truncations: never accepted. */
	for (size_t cut = 0; cut + 1 < n; cut += 3) {
		int r = ferry_est_certs_parse(b64, cut, &got);

		assert_int_not_equal(r, 0);
		assert_null(got);
	}
	/* A CSR is not a PKCS#7. */
	assert_int_equal(ferry_est_certs_parse("MAA=", 4, &got), FERRY_E_PROTO);
	free(b64);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static void
test_basic(void **state)
{
	char user[FERRY_EST_MAX_USER + 1];
	struct ferry_buf pw, hdr;

	(void)state;
	ferry_buf_init(&pw, FERRY_EST_MAX_AUTH);
	ferry_buf_init(&hdr, FERRY_EST_MAX_AUTH);
	assert_int_equal(ferry_est_basic_make("alice", "p:w\0x", 5, &hdr), 0);
	assert_string_equal((char *)hdr.data, "Basic YWxpY2U6cDp3AHg=");
	assert_int_equal(ferry_est_basic_parse((char *)hdr.data, user, &pw), 0);
	assert_string_equal(user, "alice");
	assert_int_equal(pw.len, 5);
	assert_memory_equal(pw.data, "p:w\0x", 5);
	ferry_buf_reset(&pw);
	assert_int_equal(ferry_est_basic_parse("bAsIc YWxpY2U6", user, &pw), 0);
	assert_string_equal(user, "alice");
	assert_int_equal(pw.len, 0);
	assert_int_equal(
	    ferry_est_basic_parse("Bearer abc", user, &pw), FERRY_E_PROTO);
	assert_string_equal(user, "");
	assert_int_equal(
	    ferry_est_basic_parse("Basic", user, &pw), FERRY_E_PROTO);
	assert_int_equal(ferry_est_basic_parse("Basic YWxpY2U=", user, &pw),
	    FERRY_E_PROTO); /* no ':' */
	assert_int_equal(
	    ferry_est_basic_parse("Basic !!!!", user, &pw), FERRY_E_PROTO);
	assert_int_equal(ferry_est_basic_parse("Basic CjpY", user, &pw),
	    FERRY_E_PROTO); /* "\n:X": control byte in the user */
	assert_int_equal(ferry_est_basic_parse(NULL, user, &pw), FERRY_E_PROTO);
	ferry_buf_free(&pw);
	ferry_buf_free(&hdr);
}

/* Retry-After header lines: delay-seconds only, every other line refused. */
static void
test_retry_after(void **state)
{
	static const char *const bad[] = {"Retry-After: Fri, 31 Dec 1999 "
	                                  "23:59:59 GMT\r\n",
	    "Retry-After:\r\n", "Retry-After: 12x\r\n",
	    "Retry-After: 1234567890\r\n", "Retry-Afte: 5\r\n",
	    "Content-Length: 5\r\n", "Retry-After", "", "Retry-After: -5\r\n",
	    "Retry-After: 5 6\r\n"};
	char out[FERRY_EST_MAX_RETRY + 1];

	(void)state;
	assert_int_equal(
	    ferry_est_retry_after("Retry-After: 30\r\n", 17, out), 0);
	assert_string_equal(out, "30");
	assert_int_equal(
	    ferry_est_retry_after("rEtRy-aFtEr:\t7  \r\n", 18, out), 0);
	assert_string_equal(out, "7");
	assert_int_equal(
	    ferry_est_retry_after("Retry-After:123456789", 21, out), 0);
	assert_string_equal(out, "123456789");
	/* Bounded by len, not by a NUL. */
	assert_int_equal(ferry_est_retry_after("Retry-After: 45", 14, out), 0);
	assert_string_equal(out, "4");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    ferry_est_retry_after(bad[i], strlen(bad[i]), out),
		    FERRY_E_PROTO);
		assert_string_equal(out, "");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_b64),
	    cmocka_unit_test(test_csr),
	    cmocka_unit_test(test_csr_sweeps),
	    cmocka_unit_test(test_key_policy),
	    cmocka_unit_test(test_certs),
	    cmocka_unit_test(test_basic),
	    cmocka_unit_test(test_retry_after),
	};

	ferry_log_set(NULL, FERRY_LOG_ERROR, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
