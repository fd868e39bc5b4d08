/* fuzz_host.c - ferry_host_normalize on arbitrary bytes, as a CSR's names
 * reach authd. An accepted name is non-empty, at most FERRY_MAX_HOSTNAME
 * bytes of lower-case LDH labels or an IP, has no wildcard and no trailing
 * dot, and normalizing it again gives itself (one form per name). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/limits.h"
#include "ferry/log.h"
#include "ferry/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, out[FERRY_MAX_HOSTNAME + 1], again[FERRY_MAX_HOSTNAME + 1];
	enum ferry_host_kind kind, kind2;
	size_t n;

	ferry_log_set(NULL, FERRY_LOG_ERROR, NULL);
	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (ferry_host_normalize(in, out, &kind) != 0) {
		if (out[0] != '\0')
			abort();
		free(in);
		return 0;
	}
	n = strlen(out);
	if (n == 0 || n > FERRY_MAX_HOSTNAME || out[n - 1] == '.' ||
	    strchr(out, '*') != NULL)
		abort();
	for (size_t i = 0; kind == FERRY_HOST_DNS && i < n; i++)
		if (!((out[i] >= 'a' && out[i] <= 'z') ||
		        (out[i] >= '0' && out[i] <= '9') || out[i] == '-' ||
		        out[i] == '.'))
			abort();
	if (ferry_host_normalize(out, again, &kind2) != 0 ||
	    strcmp(out, again) != 0 || kind != kind2)
		abort();
	free(in);
	return 0;
}
