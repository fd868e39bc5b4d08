/* config.c - the configuration files: a bounded line parser for [peer NAME],
 * [serve], [read PATH] and [authd] sections of "key = value" lines. The file
 * is local, but a parser still owes its caller limits and an exact file:line
 * for a fault. Every byte of the text is read through struct ferry_rd. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/access.h"
#include "ferry/config.h"
#include "ferry/limits.h"
#include "ferry/pki.h"
#include "ferry/rd.h"

/* The section the next setting belongs to. */
enum section_kind { SEC_NONE, SEC_PEER, SEC_SERVE, SEC_READ, SEC_AUTHD };

/* A daemon's settings left to its command, in file order. */
struct opt_list {
	struct ferry_config_opt *v;
	size_t n, cap;
};

struct ferry_config {
	struct ferry_config_peer *peer;
	size_t n, cap;
	struct ferry_access *access; /* [serve] and [read PATH]; NULL: none */
	enum section_kind sec;
	unsigned sec_line, serve_line, authd_line;
	struct opt_list serve_opts, authd_opts; /* [serve], [authd] */
	unsigned seen; /* keys given in the current [serve] or [read] */
	char read_path[FERRY_MAX_PATH + 2]; /* of the current [read PATH] */
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

static void
opts_free(struct opt_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
}

void
ferry_config_free(struct ferry_config *c)
{
	if (c == NULL)
		return;
	opts_free(&c->serve_opts);
	opts_free(&c->authd_opts);
	for (size_t i = 0; i < c->n; i++)
		peer_free(&c->peer[i]);
	free(c->peer);
	ferry_access_free(c->access);
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

/* The rest of "[peer NAME]": rd is at NAME. */
static int
section_peer(struct ferry_config *c, struct ferry_rd *rd, const char *file,
    unsigned line)
{
	struct ferry_config_peer *p;
	const uint8_t *name;
	size_t nlen;

	skip_space(rd);
	ferry_rd_rest(rd, &name, &nlen);
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
	c->sec = SEC_PEER;
	return 0;
}

/* The rest of "[serve]" or "[read PATH]": rd is after the word. */
static int
section_serve(struct ferry_config *c, struct ferry_rd *rd, int read,
    const char *file, unsigned line)
{
	const uint8_t *path;
	size_t plen;

	skip_space(rd);
	ferry_rd_rest(rd, &path, &plen);
	plen = trimmed(path, plen);
	if (!read && plen > 0)
		return ferry_errf(
		    FERRY_E_USAGE, "%s:%u: [serve] takes no name", file, line);
	if (!read && c->serve_line != 0)
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: [serve] already given on line %u", file, line,
		    c->serve_line);
	if (read && plen == 0)
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: [read PATH] needs a path ('/' for the whole share)",
		    file, line);
	if (read && plen >= sizeof(c->read_path))
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: path longer than %d bytes", file, line,
		    FERRY_MAX_PATH);
	if (c->access == NULL && ferry_access_new(&c->access) != 0)
		return FERRY_E_NOMEM;
	if (read) {
		char norm[FERRY_MAX_PATH + 1], why[512];

		memcpy(c->read_path, path, plen);
		c->read_path[plen] = '\0';
		if (ferry_access_rule_path(c->read_path, norm) != 0) {
			snprintf(why, sizeof(why), "%s",
			    ferry_err_detail(FERRY_E_USAGE));
			return ferry_errf(
			    FERRY_E_USAGE, "%s:%u: %s", file, line, why);
		}
	} else
		c->serve_line = line;
	c->sec = read ? SEC_READ : SEC_SERVE;
	c->sec_line = line;
	c->seen = 0;
	return 0;
}

/* The rest of "[authd]": rd is after the word. */
static int
section_authd(struct ferry_config *c, struct ferry_rd *rd, const char *file,
    unsigned line)
{
	skip_space(rd);
	if (ferry_rd_left(rd) > 0)
		return ferry_errf(
		    FERRY_E_USAGE, "%s:%u: [authd] takes no name", file, line);
	if (c->authd_line != 0)
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: [authd] already given on line %u", file, line,
		    c->authd_line);
	c->authd_line = line;
	c->sec = SEC_AUTHD;
	c->sec_line = line;
	return 0;
}

/* 1 if the n bytes at p are word followed by a blank or their end. */
static int
word_is(struct ferry_rd *rd, const char *word)
{
	struct ferry_rd peek = *rd;
	size_t n = strlen(word);
	const uint8_t *w;
	uint8_t b;

	if (ferry_rd_bytes(&peek, n, &w) != 0 || memcmp(w, word, n) != 0 ||
	    (ferry_rd_peek(&peek, &b) == 0 && !is_space(b)))
		return 0;
	*rd = peek;
	return 1;
}

/* A section header: the n bytes at s, trimmed, from '['. */
static int
section(struct ferry_config *c, const uint8_t *s, size_t n, const char *file,
    unsigned line)
{
	struct ferry_rd rd;
	const uint8_t *in;
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
	if (word_is(&rd, "peer") && ferry_rd_left(&rd) > 0)
		return section_peer(c, &rd, file, line);
	if (word_is(&rd, "serve"))
		return section_serve(c, &rd, 0, file, line);
	if (word_is(&rd, "read"))
		return section_serve(c, &rd, 1, file, line);
	if (word_is(&rd, "authd"))
		return section_authd(c, &rd, file, line);
	return ferry_errf(FERRY_E_USAGE,
	    "%s:%u: unknown section (known: [peer NAME], [serve], "
	    "[read PATH], [authd])",
	    file, line);
}

/* The keys of [serve] and [read PATH], as bits of c->seen. */
static const char *const serve_keys[] = {
    "members", "allow-push", "allow-read", "inbox-quota", "inbox-files"};
#define READ_KEY_ALLOW 0x100u

/* A number of files: decimal digits, up to 10^9. */
static int
files_parse(const char *v, uint64_t *out)
{
	struct ferry_rd rd;
	uint64_t n = 0;
	size_t len = strlen(v);
	uint8_t c = 0;

	ferry_rd_init(&rd, v, len);
	while (ferry_rd_u8(&rd, &c) == 0 && c >= '0' && c <= '9' &&
	       n <= 1000000000u)
		n = n * 10 + (uint64_t)(c - '0');
	if (len == 0 || len > 10 || c < '0' || c > '9' || n > 1000000000u)
		return ferry_errf(FERRY_E_USAGE,
		    "'%s' is not a number of files from 0 to 1000000000", v);
	*out = n;
	return 0;
}

/* One "key = value" of [serve] or [read PATH]; v is the value. */
static int
serve_value(struct ferry_config *c, const char *k, const char *v)
{
	uint64_t bytes, files, x;
	int r;

	ferry_access_quota(c->access, &bytes, &files);
	if (c->sec == SEC_READ)
		return ferry_access_read(c->access, c->read_path, v);
	if (strcmp(k, "members") == 0)
		return ferry_access_set(c->access, FERRY_ACCESS_MEMBERS, v);
	if (strcmp(k, "allow-push") == 0)
		return ferry_access_set(c->access, FERRY_ACCESS_PUSH, v);
	if (strcmp(k, "allow-read") == 0)
		return ferry_access_read(c->access, "/", v);
	if (strcmp(k, "inbox-quota") == 0) {
		if ((r = ferry_size_parse(v, &x)) == 0)
			ferry_access_set_quota(c->access, x, files);
		return r;
	}
	if ((r = files_parse(v, &x)) == 0)
		ferry_access_set_quota(c->access, bytes, x);
	return r;
}

/*
 * A daemon option's name: 1-32 of [a-z0-9-], starting with a letter. Which
 * names are options is for the command to say (its option table).
 */
static int
valid_opt_key(const uint8_t *p, size_t n)
{
	struct ferry_rd rd;
	size_t i = 0;
	uint8_t c;

	if (n == 0 || n > FERRY_CONFIG_MAX_KEY)
		return 0;
	ferry_rd_init(&rd, p, n);
	for (; ferry_rd_u8(&rd, &c) == 0; i++)
		if (!((c >= 'a' && c <= 'z') ||
		        (i > 0 && ((c >= '0' && c <= '9') || c == '-'))))
			return 0;
	return 1;
}

/* Keeps "key = value" of [serve] or [authd] for the command, in order. */
static int
record_opt(struct ferry_config *c, const uint8_t *key, size_t klen,
    const uint8_t *val, size_t vlen, const char *file, unsigned line)
{
	struct opt_list *l =
	    c->sec == SEC_AUTHD ? &c->authd_opts : &c->serve_opts;
	struct ferry_config_opt *o;

	if (!valid_opt_key(key, klen))
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: '%.*s' is not a key (an option's name without "
		    "'--', as in 'listen')",
		    file, line, (int)(klen > 32 ? 32 : klen),
		    (const char *)key);
	if (vlen == 0)
		return ferry_errf(FERRY_E_USAGE, "%s:%u: '%.*s' has no value",
		    file, line, (int)klen, (const char *)key);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;

		if ((o = realloc(l->v, cap * sizeof(*o))) == NULL)
			return FERRY_E_NOMEM;
		l->v = o;
		l->cap = cap;
	}
	o = &l->v[l->n];
	o->key = strndup((const char *)key, klen);
	o->value = strndup((const char *)val, vlen);
	o->line = line;
	l->n++;
	return o->key != NULL && o->value != NULL ? 0 : FERRY_E_NOMEM;
}

const struct ferry_config_opt *
ferry_config_opt(const struct ferry_config *c, const char *section, size_t i)
{
	const struct opt_list *l;

	if (c == NULL)
		return NULL;
	if (strcmp(section, "serve") == 0)
		l = &c->serve_opts;
	else if (strcmp(section, "authd") == 0)
		l = &c->authd_opts;
	else
		return NULL;
	return i < l->n ? &l->v[i] : NULL;
}

/* "key = value" in [serve] or [read PATH]: key and value trimmed. */
static int
serve_setting(struct ferry_config *c, const uint8_t *key, size_t klen,
    const uint8_t *val, size_t vlen, const char *file, unsigned line)
{
	char k[16], why[512], *v;
	unsigned bit = 0;
	int r;

	snprintf(k, sizeof(k), "%.*s", (int)(klen < 15 ? klen : 15),
	    (const char *)key);
	if (c->sec == SEC_READ) {
		if (klen != 5 || memcmp(key, "allow", 5) != 0)
			return ferry_errf(FERRY_E_USAGE,
			    "%s:%u: unknown key '%s' in [read PATH] (allow)",
			    file, line, k);
		bit = READ_KEY_ALLOW;
	}
	for (unsigned i = 0; bit == 0 && i < 5; i++)
		if (strlen(serve_keys[i]) == klen &&
		    memcmp(serve_keys[i], key, klen) == 0)
			bit = 1u << i;
	/* Not an access key: an option of serve's, for serve to check. */
	if (bit == 0)
		return record_opt(c, key, klen, val, vlen, file, line);
	if ((c->seen & bit) != 0)
		return ferry_errf(
		    FERRY_E_USAGE, "%s:%u: '%s' given twice", file, line, k);
	c->seen |= bit;
	if (vlen == 0)
		return ferry_errf(
		    FERRY_E_USAGE, "%s:%u: '%s' has no value", file, line, k);
	if ((v = strndup((const char *)val, vlen)) == NULL)
		return FERRY_E_NOMEM;
	if ((r = serve_value(c, k, v)) != 0 && r != FERRY_E_NOMEM) {
		snprintf(why, sizeof(why), "%s", ferry_err_detail(r));
		r = ferry_errf(r, "%s:%u: %s: %s", file, line, k, why);
	}
	free(v);
	return r;
}

/* "key = value" in the current section: the n bytes at s, trimmed. */
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
	if (c->sec == SEC_NONE)
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: a setting before any [peer NAME], [serve] or "
		    "[authd]",
		    file, line);
	klen = trimmed(key, klen);
	skip_space(&rd);
	ferry_rd_rest(&rd, &val, &vlen);
	vlen = trimmed(val, vlen);
	if (c->sec == SEC_AUTHD)
		return record_opt(c, key, klen, val, vlen, file, line);
	if (c->sec != SEC_PEER)
		return serve_setting(c, key, klen, val, vlen, file, line);
	p = &c->peer[c->n - 1];
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

/* The section just ended must be complete: a peer's address, a rule's allow. */
static int
check_section(const struct ferry_config *c, const char *file)
{
	const struct ferry_config_peer *p;
	struct ferry_addr a;

	if (c->sec == SEC_READ && (c->seen & READ_KEY_ALLOW) == 0)
		return ferry_errf(FERRY_E_USAGE,
		    "%s:%u: [read %s] has no 'allow ='", file, c->sec_line,
		    c->read_path);
	if (c->sec != SEC_PEER)
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

/* A UTF-8 byte order mark, as some Windows editors write, is skipped. */
static void
skip_bom(struct ferry_rd *rd)
{
	struct ferry_rd t = *rd;
	const uint8_t *p;

	if (ferry_rd_bytes(&t, 3, &p) == 0 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		*rd = t;
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
	skip_bom(&rd);
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
			if ((r = check_section(c, file)) == 0)
				r = section(c, s, n, file, line);
		} else
			r = setting(c, s, n, file, line);
	}
	if (r == 0)
		r = check_section(c, file);
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
	/* O_NONBLOCK: a FIFO here must not hang every command. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) <
	    0) {
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

struct ferry_access *
ferry_config_serve(struct ferry_config *c)
{
	return c != NULL ? c->access : NULL;
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
