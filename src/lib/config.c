/* config.c - the client's configuration file: a bounded line parser for
 * [peer NAME] sections of "key = value" lines. The file is local, but a
 * parser still owes its caller limits and an exact file:line for a fault.
 * Every byte of the text is read through struct ferry_rd (rd.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/config.h"
#include "ferry/limits.h"
#include "ferry/pki.h"
#include "ferry/rd.h"

struct ferry_config {
	struct ferry_config_peer *peer;
	size_t n, cap;
};

static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Consumes spaces and tabs. */
static void
skip_space(struct ferry_rd *rd)
{
	uint8_t b;

	while (ferry_rd_peek(rd, &b) == 0 && is_space(b) &&
	       ferry_rd_u8(rd, &b) == 0)
		;
}

/* The length of the n bytes at p without their trailing spaces and tabs. */
static size_t
trimmed(const uint8_t *p, size_t n)
{
	struct ferry_rd rd;
	size_t i = 0, keep = 0;
	uint8_t b;

	ferry_rd_init(&rd, p, n);
	while (ferry_rd_u8(&rd, &b) == 0) {
		i++;
		if (!is_space(b))
			keep = i;
	}
	return keep;
}

/* A peer alias: 1-64 of [A-Za-z0-9._-], starting with a letter or digit. */
static int
valid_alias(const uint8_t *p, size_t n)
{
	struct ferry_rd rd;
	size_t i = 0;
	uint8_t c;

	if (n == 0 || n > FERRY_MAX_ID)
		return 0;
	ferry_rd_init(&rd, p, n);
	for (; ferry_rd_u8(&rd, &c) == 0; i++)
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') ||
		        (i > 0 && (c == '.' || c == '_' || c == '-'))))
			return 0;
	return 1;
}

static int
valid_port(const uint8_t *p, size_t n)
{
	struct ferry_rd rd;
	unsigned long v = 0;
	uint8_t c;

	if (n == 0 || n > 5)
		return 0;
	ferry_rd_init(&rd, p, n);
	while (ferry_rd_u8(&rd, &c) == 0) {
		if (c < '0' || c > '9')
			return 0;
		v = v * 10 + (unsigned long)(c - '0');
	}
	return v >= 1 && v <= 65535;
}

static void
peer_free(struct ferry_config_peer *p)
{
	free(p->name);
	free(p->address);
	free(p->id);
	free(p->port);
	free(p->identity);
}

void
ferry_config_free(struct ferry_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		peer_free(&c->peer[i]);
	free(c->peer);
	free(c);
}

const struct ferry_config_peer *
ferry_config_peer(const struct ferry_config *c, const char *name)
{
	for (size_t i = 0; c != NULL && i < c->n; i++)
		if (strcmp(c->peer[i].name, name) == 0)
			return &c->peer[i];
	return NULL;
}

/* A section header "[peer NAME]": the n bytes at s, trimmed, from '['. */
static int
section(struct ferry_config *c, const uint8_t *s, size_t n, const char *file,
    unsigned line)
{
	struct ferry_config_peer *p;
	struct ferry_rd rd;
	const uint8_t *in, *name;
	size_t nlen;
	uint8_t b;

	/* '[', the inside, and ']' as the last byte. */
	ferry_rd_init(&rd, s, n);
	if (n < 2 || ferry_rd_u8(&rd, &b) != 0 ||
	    ferry_rd_bytes(&rd, n - 2, &in) != 0 || ferry_rd_u8(&rd, &b) != 0 ||
	    b != ']')
		return ferry_errf(
		    FERRY_E_USAGE, "%s:%u: missing ']'", file, line);
	ferry_rd_init(&rd, in, n - 2);
	skip_space(&rd);
	if (ferry_rd_bytes(&rd, 4, &name) != 0 ||
	    memcmp(name, "peer", 4) != 0 || ferry_rd_peek(&rd, &b) != 0 ||
	    !is_space(b))
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: unknown section (only [peer NAME] is known)", file,
		    line);
	skip_space(&rd);
	ferry_rd_rest(&rd, &name, &nlen);
	nlen = trimmed(name, nlen);
	if (!valid_alias(name, nlen))
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: a peer name is 1-%d letters, digits, '.', '_' "
		    "or '-'",
		    file, line, FERRY_MAX_ID);
	for (size_t i = 0; i < c->n; i++)
		if (strlen(c->peer[i].name) == nlen &&
		    memcmp(c->peer[i].name, name, nlen) == 0)
			return ferry_errf(FERRY_E_USAGE,
			    "%s:%u: peer '%s' already defined on line %u", file,
			    line, c->peer[i].name, c->peer[i].line);
	if (c->n == FERRY_CONFIG_MAX_PEERS)
		return ferry_errf(FERRY_E_USAGE, "%s:%u: more than %d peers",
		    file, line, FERRY_CONFIG_MAX_PEERS);
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;

		if ((p = realloc(c->peer, cap * sizeof(*p))) == NULL)
			return FERRY_E_NOMEM;
		c->peer = p;
		c->cap = cap;
	}
	p = &c->peer[c->n];
	memset(p, 0, sizeof(*p));
	if ((p->name = strndup((const char *)name, nlen)) == NULL)
		return FERRY_E_NOMEM;
	p->line = line;
	c->n++;
	return 0;
}

/* "key = value" in the current peer's section: the n bytes at s, trimmed. */
static int
setting(struct ferry_config *c, const uint8_t *s, size_t n, const char *file,
    unsigned line)
{
	struct ferry_config_peer *p;
	struct ferry_rd rd;
	const uint8_t *key, *val;
	size_t klen, vlen;
	char **slot, *v;

	ferry_rd_init(&rd, s, n);
	if (ferry_rd_until(&rd, '=', n, &key, &klen) != 0)
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: expected 'key = value' or '[peer NAME]'", file,
		    line);
	if (c->n == 0)
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: a setting before any [peer NAME]", file, line);
	p = &c->peer[c->n - 1];
	klen = trimmed(key, klen);
	skip_space(&rd);
	ferry_rd_rest(&rd, &val, &vlen);
	vlen = trimmed(val, vlen);
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(key, k, klen) == 0)
	if (KEY("address"))
		slot = &p->address;
	else if (KEY("id"))
		slot = &p->id;
	else if (KEY("port"))
		slot = &p->port;
	else if (KEY("identity"))
		slot = &p->identity;
	else
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: unknown key '%.*s' (address, id, port, identity)",
		    file, line, (int)(klen > 32 ? 32 : klen),
		    (const char *)key);
#undef KEY
	if (*slot != NULL)
		return ferry_errf(FERRY_E_USAGE, "%s:%u: '%.*s' given twice",
		    file, line, (int)klen, (const char *)key);
	if (vlen == 0)
		return ferry_errf(FERRY_E_USAGE, "%s:%u: '%.*s' has no value",
		    file, line, (int)klen, (const char *)key);
	if ((v = strndup((const char *)val, vlen)) == NULL)
		return FERRY_E_NOMEM;
	*slot = v;
	if (slot == &p->port && !valid_port(val, vlen))
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: port '%s' is not a number from 1 to 65535", file,
		    line, v);
	if (slot == &p->id && ferry_id_check(v) != 0)
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: '%s' is not a valid member ID", file, line, v);
	if (slot == &p->address) {
		struct ferry_addr a;

		if (strchr(v, '@') != NULL)
			return ferry_errf(FERRY_E_USAGE,
			    "%s:%u: the peer's ID goes in 'id =', not in the "
			    "address",
			    file, line);
		if (ferry_addr_parse(v, 0, &a) != 0)
			return ferry_errf(FERRY_E_USAGE, "%s:%u: address: %s",
			    file, line, ferry_err_detail(FERRY_E_USAGE));
	}
	return 0;
}

/* The section just ended must say where the peer is. */
static int
check_peer(const struct ferry_config *c, const char *file)
{
	const struct ferry_config_peer *p;
	struct ferry_addr a;

	if (c->n == 0)
		return 0;
	p = &c->peer[c->n - 1];
	if (p->address == NULL)
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: peer '%s' has no 'address ='", file, p->line,
		    p->name);
	if (p->port != NULL && ferry_addr_parse(p->address, 0, &a) == 0 &&
	    a.has_port)
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: peer '%s' has a port in its address and in "
		    "'port ='",
		    file, p->line, p->name);
	return 0;
}

int
ferry_config_parse(
    const char *text, size_t len, const char *file, struct ferry_config **out)
{
	struct ferry_config *c;
	struct ferry_rd rd;
	unsigned line = 0;
	int r = 0;

	*out = NULL;
	if (len > FERRY_CONFIG_MAX_SIZE)
		return ferry_errf(FERRY_E_USAGE, "%s: larger than %d bytes",
		    file, FERRY_CONFIG_MAX_SIZE);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return FERRY_E_NOMEM;
	ferry_rd_init(&rd, text, len);
	while (ferry_rd_left(&rd) > 0 && r == 0) {
		struct ferry_rd ln;
		const uint8_t *s;
		size_t n;
		uint8_t b;

		if (++line > FERRY_CONFIG_MAX_LINES) {
			r = ferry_errf(FERRY_E_USAGE,
			    "%s:%u: more than %d lines", file, line,
			    FERRY_CONFIG_MAX_LINES);
			break;
		}
		/* No '\n' within the limit: a longer line, or the last. */
		if (ferry_rd_until(&rd, '\n', FERRY_CONFIG_MAX_LINE, &s, &n) !=
		    0) {
			if (ferry_rd_left(&rd) > FERRY_CONFIG_MAX_LINE) {
				r = ferry_errf(FERRY_E_USAGE,
				    "%s:%u: line longer than %d bytes", file,
				    line, FERRY_CONFIG_MAX_LINE);
				break;
			}
			ferry_rd_rest(&rd, &s, &n);
		}
		/* Control bytes, except a tab, and a CR as the last byte. */
		ferry_rd_init(&ln, s, n);
		while (r == 0 && ferry_rd_u8(&ln, &b) == 0)
			if (b == '\r' && ferry_rd_left(&ln) == 0)
				n--;
			else if (b < 0x20 && b != '\t')
				r = ferry_errf(FERRY_E_USAGE,
				    "%s:%u: control character 0x%02x", file,
				    line, (unsigned)b);
			else if (b == 0x7f)
				r = ferry_errf(FERRY_E_USAGE,
				    "%s:%u: control character 0x7f", file,
				    line);
		if (r != 0)
			break;
		ferry_rd_init(&ln, s, trimmed(s, n));
		skip_space(&ln);
		if (ferry_rd_peek(&ln, &b) != 0 || b == '#' || b == ';')
			continue;
		ferry_rd_rest(&ln, &s, &n);
		if (b == '[') {
			if ((r = check_peer(c, file)) == 0)
				r = section(c, s, n, file, line);
		} else
			r = setting(c, s, n, file, line);
	}
	if (r == 0)
		r = check_peer(c, file);
	if (r != 0) {
		ferry_config_free(c);
		return r;
	}
	*out = c;
	return 0;
}

int
ferry_config_load(const char *path, struct ferry_config **out)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	int fd, r;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		if (errno == ENOENT)
			return ferry_config_parse("", 0, path, out);
		return ferry_errf_errno(
		    ferry_err_from_errno(errno), errno, "%s", path);
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = ferry_errf(FERRY_E_USAGE, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > FERRY_CONFIG_MAX_SIZE) {
		r = ferry_errf(FERRY_E_USAGE, "%s: larger than %d bytes", path,
		    FERRY_CONFIG_MAX_SIZE);
		goto out;
	}
	/* One byte more than allowed: a file that grew is caught too. */
	if ((text = malloc(FERRY_CONFIG_MAX_SIZE + 1)) == NULL) {
		r = FERRY_E_NOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n =
		    read(fd, text + got, FERRY_CONFIG_MAX_SIZE + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = ferry_errf_errno(FERRY_E_IO, errno, "%s", path);
			goto out;
		}
		if (n == 0 || (got += (size_t)n) > FERRY_CONFIG_MAX_SIZE)
			break;
	}
	r = ferry_config_parse(text, got, path, out);
out:
	free(text);
	close(fd);
	return r;
}

int
ferry_config_addr(
    const struct ferry_config_peer *p, const char *path, struct ferry_addr *a)
{
	int r;

	if ((r = ferry_addr_parse(p->address, 0, a)) != 0)
		return r;
	if (p->port != NULL) {
		snprintf(a->port, sizeof(a->port), "%s", p->port);
		a->has_port = 1;
	}
	if (p->id != NULL)
		snprintf(a->id, sizeof(a->id), "%s", p->id);
	if (path != NULL) {
		if (strlen(path) > FERRY_MAX_PATH)
			return ferry_errf(FERRY_E_USAGE,
			    "%s:%s: path longer than %d bytes", p->name, path,
			    FERRY_MAX_PATH);
		snprintf(a->path, sizeof(a->path), "%s", path);
		a->has_path = 1;
	}
	return 0;
}
