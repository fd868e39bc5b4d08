/* passwd.h - password hashing for authd's user accounts: Argon2id, PHC strings.
 * Hashes are self-describing ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"). */
#ifndef FERRY_PASSWD_H
#define FERRY_PASSWD_H

#include <stddef.h>

#include "ferry/err.h"

/* OWASP's Argon2id recommendation: 19 MiB, 2 passes, 1 lane. */
#define FERRY_PASSWD_M_KIB 19456
#define FERRY_PASSWD_T 2
#define FERRY_PASSWD_P 1
#define FERRY_PASSWD_SALT 16
#define FERRY_PASSWD_HASHLEN 32
/* Room for an encoded hash string with these parameters, NUL included. */
#define FERRY_PASSWD_ENCODED_MAX 128
/* Passwords ferry accepts: bytes, not characters. */
#define FERRY_PASSWD_MIN 8
#define FERRY_PASSWD_MAX 1024

/*
 * Hashes pw (len bytes, any bytes) with a fresh random salt into out, a
 * NUL-terminated PHC string of at most FERRY_PASSWD_ENCODED_MAX bytes.
 * FERRY_E_USAGE if len is outside FERRY_PASSWD_MIN..FERRY_PASSWD_MAX.
 */
int ferry_passwd_hash(const void *pw, size_t len,
    char out[FERRY_PASSWD_ENCODED_MAX]) FERRY_MUST_CHECK;

/*
 * 0 if pw matches encoded, FERRY_E_LOGIN if not. encoded NULL (no such
 * user) verifies against a fixed dummy hash with the same cost and returns
 * FERRY_E_LOGIN, so both failures take the same time. The comparison inside
 * libargon2 is constant-time. FERRY_E_LOGIN also for a malformed encoded
 * string (logged), never anything that tells the cases apart.
 */
int ferry_passwd_verify(
    const char *encoded, const void *pw, size_t len) FERRY_MUST_CHECK;

#endif
