/* est.h - the message formats of EST (RFC 7030, RFC 8951): base64 bodies,
 * PKCS#10 requests in, certs-only PKCS#7 out, HTTP Basic credentials. */
#ifndef FERRY_EST_H
#define FERRY_EST_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ferry/buf.h"
#include "ferry/err.h"

/* An HTTP request body authd reads at all (larger: 413). */
#define FERRY_EST_MAX_BODY (64 * 1024)
/* A decoded PKCS#10 request: an RSA-8192 CSR with names fits many times. */
#define FERRY_EST_MAX_CSR (16 * 1024)
/* A decoded certs-only PKCS#7 or a CRL a client accepts from authd. */
#define FERRY_EST_MAX_CERTS (64 * 1024)
#define FERRY_EST_MAX_CRL (4 * 1024 * 1024)
/* Certificates in one certs-only answer a client looks at. */
#define FERRY_EST_MAX_CHAIN 8
/* DNS and IP names one request may ask for. */
#define FERRY_EST_MAX_NAMES 64
/* An Authorization header's value, and the user name inside it. */
#define FERRY_EST_MAX_AUTH 2048
#define FERRY_EST_MAX_USER 255
/* Digits of a Retry-After delay we keep (about 31 years of seconds). */
#define FERRY_EST_MAX_RETRY 9

/*
 * Base64 (RFC 4648 alphabet) as RFC 8951 has EST use it: space, tab, CR and
 * LF may appear anywhere and are skipped; anything else outside the
 * alphabet, '=' other than as the final padding, a length (without
 * whitespace) not a multiple of 4, or non-zero padding bits is
 * FERRY_E_PROTO with a detail. Decoded bytes are appended to out (whose
 * maximum bounds them: FERRY_E_TOOBIG). Empty input decodes to nothing.
 */
int ferry_est_b64_decode(
    const void *in, size_t len, struct ferry_buf *out) FERRY_MUST_CHECK;
/* Base64 in lines of 64 characters, each ending in "\n". Caller frees *out. */
int ferry_est_b64_encode(
    const void *in, size_t len, char **out, size_t *outlen) FERRY_MUST_CHECK;

/*
 * The key policy: P-256, Ed25519 or RSA of 3072..8192 bits. FERRY_E_REFUSED
 * with a detail naming what the key is otherwise.
 */
int ferry_est_key_check(EVP_PKEY *key) FERRY_MUST_CHECK;

/*
 * An application/pkcs10 body: base64 of one DER CertificationRequest with
 * nothing after it, at most FERRY_EST_MAX_CSR bytes decoded. Checks the
 * key policy and the request's signature with its own key (proof of
 * possession). FERRY_E_PROTO (malformed), FERRY_E_TOOBIG,
 * FERRY_E_REFUSED (key policy), FERRY_E_CERT (bad signature); each with a
 * detail. Caller frees *out.
 */
int ferry_est_csr_parse(
    const void *body, size_t len, X509_REQ **out) FERRY_MUST_CHECK;

/* The DNS and IP names a request's subjectAltName extension asks for. */
struct ferry_est_names {
	char **dns; /* owned, NUL-free IA5 strings */
	size_t n_dns;
	char **ips; /* owned, textual (inet_ntop) */
	size_t n_ips;
};
/*
 * Reads them (other name types are ignored: ferry sets the member's name
 * itself). FERRY_E_PROTO if there are more than FERRY_EST_MAX_NAMES or one
 * is malformed. Free with ferry_est_names_free, also after a failure.
 */
int ferry_est_csr_names(
    X509_REQ *req, struct ferry_est_names *out) FERRY_MUST_CHECK;
void ferry_est_names_free(struct ferry_est_names *n);

/*
 * A request for key: subject CN=cn, a subjectAltName extension request
 * with the host names (none: no extension; an IPv4/IPv6 address becomes an
 * IP name, anything else a DNS name), signed by key. Base64 DER in *out
 * (caller frees).
 */
int ferry_est_csr_make(EVP_PKEY *key, const char *cn, const char *const *names,
    size_t n_names, char **out, size_t *outlen) FERRY_MUST_CHECK;

/* certs as a base64 certs-only (degenerate signed-data) PKCS#7. */
int ferry_est_certs_encode(
    X509 *const *certs, size_t n, char **out, size_t *outlen) FERRY_MUST_CHECK;
/*
 * The certificates of a base64 certs-only PKCS#7 body (1..FERRY_EST_MAX_CHAIN
 * of them). FERRY_E_PROTO if it is anything else. Caller frees *out with
 * sk_X509_pop_free(*out, X509_free).
 */
int ferry_est_certs_parse(
    const void *body, size_t len, STACK_OF(X509) * *out) FERRY_MUST_CHECK;

/*
 * An Authorization header value "Basic <base64 of user:password>"
 * (RFC 7617; the scheme is case-insensitive). user gets the part before the
 * first ':' (at most FERRY_EST_MAX_USER bytes, no NUL or control bytes),
 * pw (a wiping buffer the caller made) the rest. FERRY_E_PROTO otherwise.
 */
int ferry_est_basic_parse(const char *header, char user[FERRY_EST_MAX_USER + 1],
    struct ferry_buf *pw) FERRY_MUST_CHECK;
/* The header value for user and pw, base64 in a buffer that wipes. */
int ferry_est_basic_make(const char *user, const void *pw, size_t pwlen,
    struct ferry_buf *out) FERRY_MUST_CHECK;

/*
 * One response header line as it arrived ("Retry-After: 30\r\n"): the
 * delay's digits into out when it is Retry-After (any case) with a delay
 * in seconds (RFC 9110 10.2.3; 1..FERRY_EST_MAX_RETRY digits, spaces
 * around). FERRY_E_PROTO for any other line, an HTTP date included.
 */
int ferry_est_retry_after(const void *line, size_t len,
    char out[FERRY_EST_MAX_RETRY + 1]) FERRY_MUST_CHECK;

#endif
