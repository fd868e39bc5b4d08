/* fuzz_crls.c - a crl.pem / authd /crl.pem body on arbitrary bytes:
 * ferry_crls_parse. Invariants: an accepted bundle holds 1..FERRY_MAX_CRLS
 * CRLs, re-encodes (ferry_crls_pem) and re-parses to the same CRLs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "ferry/log.h"
#include "ferry/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509_CRL) *crls = NULL, *again = NULL;
	char *pem = NULL;
	size_t len = 0;

	ferry_log_set(NULL, FERRY_LOG_ERROR, NULL);
	if (size > 1024 * 1024)
		return 0;
	if (ferry_crls_parse(data, size, "fuzz", &crls) != 0) {
		if (crls != NULL)
			abort();
		return 0;
	}
	if (sk_X509_CRL_num(crls) < 1 ||
	    sk_X509_CRL_num(crls) > FERRY_MAX_CRLS ||
	    ferry_crls_pem(crls, &pem, &len) != 0 ||
	    ferry_crls_parse(pem, len, "again", &again) != 0 ||
	    sk_X509_CRL_num(again) != sk_X509_CRL_num(crls))
		abort();
	for (int i = 0; i < sk_X509_CRL_num(crls); i++)
		if (X509_CRL_cmp(sk_X509_CRL_value(crls, i),
		        sk_X509_CRL_value(again, i)) != 0)
			abort();
	free(pem);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	sk_X509_CRL_pop_free(again, X509_CRL_free);
	return 0;
}
