/* fuzz_path.c - ferry_fsafe_check_name and ferry_fsafe_check_path on
 * arbitrary bytes. An accepted path never climbs ("..") or starts at '/',
 * has no empty component and no control byte; an accepted name is a
 * one-component path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/fsafe.h"
#include "ferry/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless p[0..n) is one acceptable path component. */
static void
check_component(const uint8_t *p, size_t n)
{
	if (n == 0 || n > FERRY_MAX_NAME)
		abort();
	if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
		abort();
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '/')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	int name_ok, path_ok;

	name_ok = ferry_fsafe_check_name(s, size) == 0;
	path_ok = ferry_fsafe_check_path(s, size) == 0;
	if (name_ok) {
		check_component(data, size);
		if (!path_ok) /* a name is a path of one component */
			abort();
	}
	if (path_ok && size > 0) {
		size_t start = 0;

		if (size > FERRY_MAX_PATH || data[0] == '/')
			abort();
		for (size_t i = 0; i <= size; i++) {
			if (i < size && data[i] != '/')
				continue;
			check_component(data + start, i - start);
			start = i + 1;
		}
	}
	/* Whatever was refused was refused for a reason these rules give. */
	if (!path_ok && size <= FERRY_MAX_PATH && size > 0 && data[0] != '/') {
		size_t start = 0;
		int bad = 0;

		for (size_t i = 0; i <= size && !bad; i++) {
			if (i < size && data[i] != '/')
				continue;
			if (i - start == 0 || i - start > FERRY_MAX_NAME ||
			    (i - start == 1 && data[start] == '.') ||
			    (i - start == 2 && data[start] == '.' &&
			        data[start + 1] == '.'))
				bad = 1;
			for (size_t j = start; j < i && !bad; j++)
				if (data[j] < 0x20 || data[j] == 0x7f)
					bad = 1;
			start = i + 1;
		}
		if (!bad)
			abort();
	}
	return 0;
}
