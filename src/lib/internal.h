/* internal.h - what libferry's modules share and nobody else sees.
 * Names here are ferry__*; nothing here is stable. */
#ifndef FERRY_INTERNAL_H
#define FERRY_INTERNAL_H

#include <openssl/ssl.h>

#include "ferry/limits.h"
#include "ferry/tls.h"

struct ferry_tls {
	SSL_CTX *ctx;
	enum ferry_tls_role role;
	char self_id[FERRY_MAX_ID + 1];
	/* What it was built from, to rebuild it when those files change. */
	char *identity_dir;
	int require_client_cert;
	char stamp[256];
};

/* What the verify callback learned, kept with the SSL object. */
struct ferry__verify {
	enum ferry_tls_role role;
	char expect_id[FERRY_MAX_ID +
	               1]; /* client: the server must be this ID */
	char peer_id[FERRY_MAX_ID + 1];
	int failed; /* FERRY_E_* of the first failure, 0 if none */
	char detail[384];
};

/*
 * Drains OpenSSL's error queue into the debug log and records "what: reason"
 * as the detail of FERRY_E_CRYPTO, which it returns.
 */
int ferry__crypto_fail(const char *what);

/* The SSL ex_data slot holding a struct ferry__verify *. */
int ferry__tls_verify_index(void);

/* 1 if r broke a stream in a way that keeps its partial file (7.4). */
int ferry__stream_cut(int r);

/* SHA-256 of no bytes: the prefix of an empty file (PROTOCOL.md 5.11). */
extern const uint8_t ferry__sha256_empty[32];

#endif
