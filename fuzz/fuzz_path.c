/* fuzz_path.c - ferry_fsafe_check_name, ferry_fsafe_check_path and
 * ferry_fsafe_check_link on arbitrary bytes. An accepted path never climbs
 * ("..") or starts at '/', has no empty component and no control byte; an
 * accepted name is a one-component path. For links the input is split at its
 * first NUL into the link's path and its target; the verdict must be that of
 * a second, independent reading of PROTOCOL.md 5.14 (leading ".." only, no
 * more of them than directories above the link). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/fsafe.h"
#include "ferry/limits.h"
#include "ferry/wire.h"

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

/* 1 if p[0..n) is one acceptable path component, else 0. */
static int
is_name(const uint8_t *p, size_t n)
{
	if (n == 0 || n > FERRY_MAX_NAME)
		return 0;
	if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '/')
			return 0;
	return 1;
}

/* The link rule, read again: 1 if path -> t[0..n) is acceptable. */
static int
link_ok(const char *path, const uint8_t *t, size_t n)
{
	size_t plen = strlen(path), i = 0, up = 0, depth = 0, start = 0;

	if (plen == 0 || plen > FERRY_MAX_PATH)
		return 0;
	for (size_t j = 0; j <= plen; j++) {
		if (j < plen && path[j] != '/')
			continue;
		if (!is_name((const uint8_t *)path + start, j - start))
			return 0;
		if (j < plen)
			depth++;
		start = j + 1;
	}
	if (n == 0 || n > FERRY_MAX_LINK)
		return 0;
	/* "../" * up, then names: count the leading "..". */
	while (i + 2 <= n && t[i] == '.' && t[i + 1] == '.' &&
	       (i + 2 == n || t[i + 2] == '/')) {
		up++;
		i += 3;
	}
	if (up > depth)
		return 0;
	if (i >= n) /* only "..": the last one had no '/' after it */
		return i == n + 1;
	start = i;
	for (size_t j = i; j <= n; j++) {
		if (j < n && t[j] != '/')
			continue;
		if (!is_name(t + start, j - start))
			return 0;
		start = j + 1;
	}
	return 1;
}

static void
fuzz_link(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	char path[FERRY_MAX_PATH + 2];
	size_t plen, tlen;
	int ok;

	if (nul == NULL)
		return;
	plen = (size_t)(nul - data);
	if (plen > FERRY_MAX_PATH + 1)
		plen = FERRY_MAX_PATH + 1;
	memcpy(path, data, plen);
	path[plen] = '\0';
	tlen = size - (size_t)(nul - data) - 1;
	ok = ferry_fsafe_check_link(path, (const char *)nul + 1, tlen) == 0;
	if (ok != link_ok(path, nul + 1, tlen))
		abort();
	/* Never above the root: no more ".." than the link's depth. */
	if (ok && (tlen == 0 || nul[1] == '/'))
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
	fuzz_link(data, size);
	return 0;
}
