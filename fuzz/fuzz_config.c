/* fuzz_config.c - ferry_config_parse on arbitrary bytes. What parses must
 * hold only sections with a valid address, valid ports and IDs, and every
 * peer must be found by its name and turn into an address; a daemon's
 * settings ([serve], [authd]) have a key of [a-z0-9-], a value without
 * control bytes, and lines in increasing order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/config.h"
#include "ferry/limits.h"
#include "ferry/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The settings of one daemon section: well-formed, in file order. */
static void
check_opts(const struct ferry_config *c, const char *section)
{
	const struct ferry_config_opt *o;
	unsigned last = 0;

	for (size_t i = 0; (o = ferry_config_opt(c, section, i)) != NULL; i++) {
		size_t k = strlen(o->key), v = strlen(o->value);

		if (k == 0 || k > FERRY_CONFIG_MAX_KEY || v == 0 ||
		    v > FERRY_CONFIG_MAX_LINE || o->line <= last ||
		    strspn(o->key, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		        k)
			abort();
		for (size_t j = 0; j < v; j++)
			if ((unsigned char)o->value[j] < 0x20 &&
			    o->value[j] != '\t')
				abort();
		last = o->line;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ferry_config *c = NULL;
	char name[FERRY_MAX_ID + 8];

	if (size > FERRY_CONFIG_MAX_SIZE + 1)
		return 0;
	if (ferry_config_parse((const char *)data, size, "fuzz", &c) != 0) {
		if (c != NULL)
			abort();
		return 0;
	}
	/* Names that could be peers: "p", "bob", and each line's tail. */
	for (size_t i = 0; i < size; i++) {
		const struct ferry_config_peer *p;
		struct ferry_addr a;
		size_t n = 0;

		while (i + n < size && n < sizeof(name) - 1 &&
		       data[i + n] != ']' && data[i + n] != '\n' &&
		       data[i + n] != ' ')
			n++;
		memcpy(name, data + i, n);
		name[n] = '\0';
		if ((p = ferry_config_peer(c, name)) == NULL)
			continue;
		if (strcmp(p->name, name) != 0 || p->address == NULL ||
		    (p->id != NULL && ferry_id_check(p->id) != 0) ||
		    strlen(p->address) > FERRY_CONFIG_MAX_LINE)
			abort();
		if (ferry_config_addr(p, "x", &a) != 0 || !a.has_path ||
		    strcmp(a.path, "x") != 0)
			abort();
		if (p->id != NULL && strcmp(a.id, p->id) != 0)
			abort();
		if (p->port != NULL && strcmp(a.port, p->port) != 0)
			abort();
	}
	check_opts(c, "serve");
	check_opts(c, "authd");
	ferry_config_free(c);
	return 0;
}
