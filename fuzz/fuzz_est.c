/* fuzz_est.c - the EST parsers on arbitrary bytes: base64 (RFC 8951),
 * PKCS#10 requests and their names, certs-only PKCS#7, Basic credentials,
 * a Retry-After header line (only digits come out).
 * Invariants: a decoded base64 re-encodes to the same bytes (whitespace
 * aside); an accepted CSR has a policy key and a verifying signature. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "ferry/est.h"
#include "ferry/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_b64(const uint8_t *data, size_t size)
{
	struct ferry_buf a, b;
	char *enc = NULL;
	size_t n = 0;

	ferry_buf_init_public(&a, FERRY_EST_MAX_BODY);
	ferry_buf_init_public(&b, FERRY_EST_MAX_BODY);
	if (ferry_est_b64_decode(data, size, &a) == 0) {
		if (ferry_est_b64_encode(a.data, a.len, &enc, &n) != 0 ||
		    ferry_est_b64_decode(enc, n, &b) != 0 || a.len != b.len ||
		    (a.len > 0 && memcmp(a.data, b.data, a.len) != 0))
			abort();
		free(enc);
	}
	ferry_buf_free(&a);
	ferry_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ferry_est_names names;
	char user[FERRY_EST_MAX_USER + 1], *hdr;
	char delay[FERRY_EST_MAX_RETRY + 1];
	struct ferry_buf pw;
	STACK_OF(X509) *certs = NULL;
	X509_REQ *req = NULL;

	ferry_log_set(NULL, FERRY_LOG_ERROR, NULL);
	if (size > FERRY_EST_MAX_BODY)
		return 0;
	check_b64(data, size);
	if (ferry_est_csr_parse(data, size, &req) == 0) {
		if (req == NULL ||
		    ferry_est_key_check(X509_REQ_get0_pubkey(req)) != 0 ||
		    X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) != 1)
			abort();
		if (ferry_est_csr_names(req, &names) == 0 &&
		    (names.n_dns + names.n_ips > FERRY_EST_MAX_NAMES))
			abort();
		ferry_est_names_free(&names);
	} else if (req != NULL) {
		abort();
	}
	X509_REQ_free(req);
	if (ferry_est_certs_parse(data, size, &certs) == 0 &&
	    (certs == NULL || sk_X509_num(certs) < 1 ||
	        sk_X509_num(certs) > FERRY_EST_MAX_CHAIN))
		abort();
	sk_X509_pop_free(certs, X509_free);
	if (ferry_est_retry_after(data, size, delay) == 0 &&
	    (delay[0] == '\0' || strlen(delay) > FERRY_EST_MAX_RETRY ||
	        strspn(delay, "0123456789") != strlen(delay)))
		abort();
	if ((hdr = malloc(size + 1)) != NULL) {
		memcpy(hdr, data, size);
		hdr[size] = '\0';
		ferry_buf_init(&pw, FERRY_EST_MAX_AUTH);
		if (ferry_est_basic_parse(hdr, user, &pw) == 0 &&
		    strlen(user) > FERRY_EST_MAX_USER)
			abort();
		ferry_buf_free(&pw);
		free(hdr);
	}
	return 0;
}
