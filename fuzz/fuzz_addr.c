/* fuzz_addr.c - ferry_addr_parse on arbitrary strings, with and without a
 * path. What parses must satisfy the address rules and survive a
 * format/parse round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/net.h"
#include "ferry/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':' ||
	       c == '_' || c == '%';
}

static void
check(const char *s, int want_path, const struct ferry_addr *a)
{
	struct ferry_addr b;
	char again[FERRY_MAX_ID + FERRY_MAX_HOST + 16], hp[FERRY_MAX_HOST + 16];
	size_t hl = strnlen(a->host, sizeof(a->host));
	unsigned long port;
	char *end;

	(void)s;
	if (hl == 0 || hl > FERRY_MAX_HOST)
		abort();
	for (size_t i = 0; i < hl; i++)
		if (!host_char((unsigned char)a->host[i]))
			abort();
	port = strtoul(a->port, &end, 10);
	if (a->port[0] < '1' || a->port[0] > '9' || *end != '\0' || port == 0 ||
	    port > 65535)
		abort();
	if (strnlen(a->id, sizeof(a->id)) > FERRY_MAX_ID ||
	    (a->id[0] != '\0' && ferry_id_check(a->id) != 0))
		abort();
	if (!want_path && (a->has_path || a->path[0] != '\0'))
		abort();
	if (strnlen(a->path, sizeof(a->path)) > FERRY_MAX_PATH)
		abort();

	/* Formatting host and port (and the ID) reads back the same. */
	ferry_addr_format(a->host, a->port, hp, sizeof(hp));
	if (a->id[0] != '\0')
		strcat(strcat(strcpy(again, a->id), "@"), hp);
	else
		strcpy(again, hp);
	if (ferry_addr_parse(again, 0, &b) != 0 ||
	    strcmp(a->host, b.host) != 0 || strcmp(a->port, b.port) != 0 ||
	    strcmp(a->id, b.id) != 0 || b.has_path)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ferry_addr a, p;
	int r0, r1;
	char *s;

	if (size > 2 * FERRY_MAX_PATH)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if ((r0 = ferry_addr_parse(s, 0, &a)) == 0)
		check(s, 0, &a);
	if ((r1 = ferry_addr_parse(s, 1, &p)) == 0)
		check(s, 1, &p);
	/* Allowing a path changes nothing for an address without one. */
	if (r0 == 0 &&
	    (r1 != 0 || p.has_path || strcmp(a.id, p.id) != 0 ||
	        strcmp(a.host, p.host) != 0 || strcmp(a.port, p.port) != 0))
		abort();
	if (r1 == 0 && !p.has_path && r0 != 0)
		abort();
	free(s);
	return 0;
}
