/* fuzz_journal_stream.c - ferry_log_stream_parse ($JOURNAL_STREAM's
 * "DEV:INO") on arbitrary strings: what parses prints back the same. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t dev, ino;
	char *s, again[64];

	if (size > 256 || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ferry_log_stream_parse(s, &dev, &ino) == 0) {
		/* Decimal, no sign, no space: only leading zeros may differ. */
		snprintf(
		    again, sizeof(again), "%" PRIu64 ":%" PRIu64, dev, ino);
		if (strspn(s, "0123456789:") != strlen(s) ||
		    strchr(s, ':') != strrchr(s, ':') || strlen(again) > size)
			abort();
		if (ferry_log_stream_parse(again, &dev, &ino) != 0)
			abort();
	}
	free(s);
	return 0;
}
