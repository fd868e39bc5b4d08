/* config.c - the client's configuration file: a bounded line parser for
 * [peer NAME] sections of "key = value" lines. The file is local, but a
 * parser still owes its caller limits and an exact file:line for a fault. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/config.h"
#include "ferry/limits.h"
#include "ferry/pki.h"

struct ferry_config {
	struct ferry_config_peer *peer;
	size_t n, cap;
};

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* A peer alias: 1-64 of [A-Za-z0-9._-], starting with a letter or digit. */
static int
valid_alias(const char *s, size_t n)
{
	if (n == 0 || n > FERRY_MAX_ID)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') ||
		        (i > 0 && (c == '.' || c == '_' || c == '-'))))
			return 0;
	}
	return 1;
}

static int
valid_port(const char *s)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return 0;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (unsigned long)(*p - '0');
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

/* A section header "[peer NAME]" (line without the brackets' outside). */
static int
section(struct ferry_config *c, const char *s, size_t n, const char *file,
    unsigned line)
{
	struct ferry_config_peer *p;
	size_t i = 0, start;

	if (n < 2 || s[n - 1] != ']')
		return ferry_errf(
		    FERRY_E_USAGE, "%s:%u: missing ']'", file, line);
	s++;
	n -= 2;
	while (i < n && is_space(s[i]))
		i++;
	if (n - i < 5 || memcmp(s + i, "peer", 4) != 0 || !is_space(s[i + 4]))
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: unknown section (only [peer NAME] is known)", file,
		    line);
	i += 4;
	while (i < n && is_space(s[i]))
		i++;
	start = i;
	while (n > start && is_space(s[n - 1]))
		n--;
	if (!valid_alias(s + start, n - start))
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: a peer name is 1-%d letters, digits, '.', '_' "
		    "or '-'",
		    file, line, FERRY_MAX_ID);
	for (i = 0; i < c->n; i++)
		if (strlen(c->peer[i].name) == n - start &&
		    memcmp(c->peer[i].name, s + start, n - start) == 0)
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
	if ((p->name = strndup(s + start, n - start)) == NULL)
		return FERRY_E_NOMEM;
	p->line = line;
	c->n++;
	return 0;
}

/* "key = value" in the current peer's section. */
static int
setting(struct ferry_config *c, const char *s, size_t n, const char *file,
    unsigned line)
{
	const char *eq = memchr(s, '=', n);
	struct ferry_config_peer *p;
	size_t klen, vstart, vend;
	char **slot, *v;

	if (eq == NULL)
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: expected 'key = value' or '[peer NAME]'", file,
		    line);
	if (c->n == 0)
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: a setting before any [peer NAME]", file, line);
	p = &c->peer[c->n - 1];
	klen = (size_t)(eq - s);
	while (klen > 0 && is_space(s[klen - 1]))
		klen--;
	vstart = (size_t)(eq - s) + 1;
	while (vstart < n && is_space(s[vstart]))
		vstart++;
	vend = n;
	while (vend > vstart && is_space(s[vend - 1]))
		vend--;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(s, k, klen) == 0)
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
		    file, line, (int)(klen > 32 ? 32 : klen), s);
#undef KEY
	if (*slot != NULL)
		return ferry_errf(FERRY_E_USAGE, "%s:%u: '%.*s' given twice",
		    file, line, (int)klen, s);
	if (vend == vstart)
		return ferry_errf(FERRY_E_USAGE, "%s:%u: '%.*s' has no value",
		    file, line, (int)klen, s);
	if ((v = strndup(s + vstart, vend - vstart)) == NULL)
		return FERRY_E_NOMEM;
	*slot = v;
	if (slot == &p->port && !valid_port(v))
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
	unsigned line = 0;
	size_t pos = 0;
	int r = 0;

	*out = NULL;
	if (len > FERRY_CONFIG_MAX_SIZE)
		return ferry_errf(FERRY_E_USAGE, "%s: larger than %d bytes",
		    file, FERRY_CONFIG_MAX_SIZE);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return FERRY_E_NOMEM;
	while (pos < len && r == 0) {
		const char *s = text + pos, *nl;
		size_t n, i = 0;

		nl = memchr(s, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - s) : len - pos;
		pos += n + (nl != NULL);
		if (++line > FERRY_CONFIG_MAX_LINES) {
			r = ferry_errf(FERRY_E_USAGE,
			    "%s:%u: more than %d lines", file, line,
			    FERRY_CONFIG_MAX_LINES);
			break;
		}
		if (n > FERRY_CONFIG_MAX_LINE) {
			r = ferry_errf(FERRY_E_USAGE,
			    "%s:%u: line longer than %d bytes", file, line,
			    FERRY_CONFIG_MAX_LINE);
			break;
		}
		if (n > 0 && s[n - 1] == '\r')
			n--;
		for (size_t k = 0; k < n && r == 0; k++)
			if ((unsigned char)s[k] < 0x20 && s[k] != '\t')
				r = ferry_errf(FERRY_E_USAGE,
				    "%s:%u: control character 0x%02x", file,
				    line, (unsigned char)s[k]);
			else if (s[k] == 0x7f)
				r = ferry_errf(FERRY_E_USAGE,
				    "%s:%u: control character 0x7f", file,
				    line);
		if (r != 0)
			break;
		while (i < n && is_space(s[i]))
			i++;
		while (n > i && is_space(s[n - 1]))
			n--;
		if (i == n || s[i] == '#' || s[i] == ';')
			continue;
		if (s[i] == '[') {
			if ((r = check_peer(c, file)) == 0)
				r = section(c, s + i, n - i, file, line);
		} else
			r = setting(c, s + i, n - i, file, line);
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
