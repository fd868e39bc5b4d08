/* tls.h - TLS contexts built from an identity directory, with ferry's policy:
 * TLS 1.3 only, the organization CA as the only trust anchor, ALPN ferry/1. */
#ifndef FERRY_TLS_H
#define FERRY_TLS_H

#include <openssl/ssl.h>

#include "ferry/err.h"
#include "ferry/limits.h"

enum ferry_tls_role {
	FERRY_TLS_SERVER, /* ferry serve: client certificate required */
	FERRY_TLS_CLIENT, /* send/get/ls: presents the member certificate */
	FERRY_TLS_ECHO_SERVER, /* echo-server: client certificate optional */
	FERRY_TLS_ECHO_CLIENT, /* echo: a certificate only if the directory has one */
};

struct ferry_tls_opts {
	enum ferry_tls_role role;
	const char *identity_dir; /* key.pem, cert.pem, ca.pem */
	int require_client_cert; /* ECHO_SERVER: demand one like SERVER does */
};

/* An SSL_CTX plus what we know of our own identity. Opaque. */
struct ferry_tls;

/*
 * Loads the identity (refusing a key.pem readable by others) and builds the
 * context for role. Caller frees with ferry_tls_free.
 */
int ferry_tls_new(
    const struct ferry_tls_opts *opts, struct ferry_tls **out) FERRY_MUST_CHECK;
void ferry_tls_free(struct ferry_tls *tls);
/*
 * For long-running servers: if key.pem, cert.pem, ca.pem or crl.pem changed
 * since *tls was built (a `ferry renew`, a `ferry crl update`), builds a new
 * context from them and replaces *tls (freeing the old one). Returns 0 when
 * nothing changed or the reload worked; on failure *tls stays as it was.
 */
int ferry_tls_reload(struct ferry_tls **tls) FERRY_MUST_CHECK;
/*
 * When $SSLKEYLOGFILE names a file, makes ctx append its TLS secrets there
 * in the NSS key log format (as curl and browsers do), so a capture can be
 * decrypted with Wireshark; the first time, warns on stderr. The file is
 * created 0600. Every ferry TLS endpoint calls this; a no-op otherwise.
 */
void ferry_tls_keylog(SSL_CTX *ctx);

/* Our own member ID ("" if our certificate has none). Borrowed. */
const char *ferry_tls_self_id(const struct ferry_tls *tls);

#endif
