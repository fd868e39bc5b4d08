/* passwd.c - Argon2id password hashing and constant-time verification.
 * docs/internals/passwd.md: parameters, the dummy hash for unknown users. */
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ferry/log.h"
#include "ferry/passwd.h"

/*
 * A hash of a random password nobody knows, made once per process with the
 * same parameters as real hashes, so that "no such user" costs exactly what
 * "wrong password" does.
 */
static char dummy[FERRY_PASSWD_ENCODED_MAX];
static CRYPTO_ONCE dummy_once = CRYPTO_ONCE_STATIC_INIT;
static int dummy_ok;

static int
hash_raw(const void *pw, size_t len, char out[FERRY_PASSWD_ENCODED_MAX])
{
	unsigned char salt[FERRY_PASSWD_SALT];
	int a;

	if (RAND_bytes(salt, sizeof(salt)) != 1) {
		ferry_log_openssl();
		return ferry_errf(FERRY_E_CRYPTO, "cannot make a random salt");
	}
	a = argon2id_hash_encoded(FERRY_PASSWD_T, FERRY_PASSWD_M_KIB,
	    FERRY_PASSWD_P, pw, len, salt, sizeof(salt), FERRY_PASSWD_HASHLEN,
	    out, FERRY_PASSWD_ENCODED_MAX);
	OPENSSL_cleanse(salt, sizeof(salt));
	if (a != ARGON2_OK)
		return ferry_errf(a == ARGON2_MEMORY_ALLOCATION_ERROR
		                      ? FERRY_E_NOMEM
		                      : FERRY_E_CRYPTO,
		    "cannot hash the password: %s", argon2_error_message(a));
	return 0;
}

static void
dummy_init(void)
{
	unsigned char pw[32];

	if (RAND_bytes(pw, sizeof(pw)) == 1 &&
	    hash_raw(pw, sizeof(pw), dummy) == 0)
		dummy_ok = 1;
	OPENSSL_cleanse(pw, sizeof(pw));
}

int
ferry_passwd_hash(
    const void *pw, size_t len, char out[FERRY_PASSWD_ENCODED_MAX])
{
	out[0] = '\0';
	if (len < FERRY_PASSWD_MIN)
		return ferry_errf(FERRY_E_USAGE,
		    "the password is shorter than %d bytes", FERRY_PASSWD_MIN);
	if (len > FERRY_PASSWD_MAX)
		return ferry_errf(FERRY_E_USAGE,
		    "the password is longer than %d bytes", FERRY_PASSWD_MAX);
	return hash_raw(pw, len, out);
}

int
ferry_passwd_verify(const char *encoded, const void *pw, size_t len)
{
	const char *against = encoded;
	int a;

	if (!CRYPTO_THREAD_run_once(&dummy_once, dummy_init) || !dummy_ok)
		return ferry_errf(
		    FERRY_E_CRYPTO, "cannot prepare password verification");
	/* Too long to be ours: still pay the full price, then say no. */
	if (encoded == NULL || len > FERRY_PASSWD_MAX)
		against = dummy;
	a = argon2id_verify(against, pw, len > FERRY_PASSWD_MAX ? 0 : len);
	if (against == dummy)
		return FERRY_E_LOGIN;
	if (a == ARGON2_OK)
		return 0;
	if (a != ARGON2_VERIFY_MISMATCH)
		ferry_warn("a stored password hash cannot be used: %s",
		    argon2_error_message(a));
	return FERRY_E_LOGIN;
}
