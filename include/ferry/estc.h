/* estc.h - the EST client: one HTTPS request at a time to authd (libcurl),
 * trusting nothing until a CA is pinned, then only that CA. */
#ifndef FERRY_ESTC_H
#define FERRY_ESTC_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ferry/err.h"

/* libcurl's global set-up: once, at program start, before any thread. */
int ferry_estc_global_init(void) FERRY_MUST_CHECK;
void ferry_estc_global_cleanup(void);

/* An authd URL and the TLS state to talk to it. Opaque. */
struct ferry_estc;

/*
 * Parses url ("https://HOST[:PORT][/]"; the port defaults to 443) and
 * prepares a client whose requests time out after timeout_s seconds
 * without progress (3 * timeout_s in all). The proxy comes from the
 * environment as curl reads it (https_proxy, HTTPS_PROXY, all_proxy,
 * ALL_PROXY; no_proxy, NO_PROXY). FERRY_E_USAGE for anything else, a bad
 * proxy URL too. Caller frees with ferry_estc_free.
 */
int ferry_estc_new(
    const char *url, int timeout_s, struct ferry_estc **out) FERRY_MUST_CHECK;
void ferry_estc_free(struct ferry_estc *c);
/* "host:port" for messages. Borrowed. */
const char *ferry_estc_where(const struct ferry_estc *c);

/*
 * GET /.well-known/est/cacerts WITHOUT verifying the server: the answer is
 * only a candidate, to be pinned by fingerprint before anything secret is
 * sent. Caller frees *out with sk_X509_pop_free(*out, X509_free).
 */
int ferry_estc_cacerts(
    struct ferry_estc *c, STACK_OF(X509) * *out) FERRY_MUST_CHECK;
/*
 * From now on the server must chain to ca (and nothing else) and name the
 * URL's host (DNS name or IP address).
 */
int ferry_estc_trust(struct ferry_estc *c, X509 *ca) FERRY_MUST_CHECK;
/* A TLS client certificate for simplereenroll. */
int ferry_estc_identity(
    struct ferry_estc *c, EVP_PKEY *key, X509 *cert) FERRY_MUST_CHECK;

/*
 * POSTs the base64 PKCS#10 csr to simpleenroll with Basic credentials, or
 * to simplereenroll (user NULL: the TLS client certificate authenticates),
 * and returns the issued certificate (caller frees). Needs ferry_estc_trust.
 * FERRY_E_LOGIN on 401, FERRY_E_THROTTLED on 429, FERRY_E_REFUSED with the
 * server's explanation on 400/403, FERRY_E_TOOBIG on 413.
 */
int ferry_estc_enroll(struct ferry_estc *c, const char *user, const void *pw,
    size_t pwlen, const char *csr, size_t csrlen, X509 **out) FERRY_MUST_CHECK;
/* GET /crl (DER), unchecked: verify with ferry_crl_check. Caller frees. */
int ferry_estc_crl(struct ferry_estc *c, X509_CRL **out) FERRY_MUST_CHECK;
/*
 * GET /crl.pem: every level's CRL (the issuing CA's and the root's), or,
 * from an authd without it (404), /crl's one CRL. Unchecked: verify with
 * ferry_crls_check. Caller frees with sk_X509_CRL_pop_free.
 */
int ferry_estc_crls(
    struct ferry_estc *c, STACK_OF(X509_CRL) * *out) FERRY_MUST_CHECK;

#endif
