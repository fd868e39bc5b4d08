/* show.c - names ferry does not control, made safe to show: a UTF-8
 * decoder over the bounded reader, the list of characters a terminal must
 * not see raw, '?' for logs and error lines, shell-escape quoting for the
 * checksum lines on a terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/show.h"

int
ferry_show_utf8(struct ferry_rd *rd, uint32_t *cp, const uint8_t **p, size_t *n)
{
	struct ferry_rd t = *rd; /* a copy: rd moves only on success */
	uint32_t c, min;
	uint8_t b;
	size_t len;

	if (ferry_rd_u8(&t, &b) != 0)
		return FERRY_E_PROTO;
	if (b < 0x80)
		len = 1, c = b, min = 0;
	else if (b >= 0xc2 && b <= 0xdf)
		len = 2, c = b & 0x1f, min = 0x80;
	else if (b >= 0xe0 && b <= 0xef)
		len = 3, c = b & 0x0f, min = 0x800;
	else if (b >= 0xf0 && b <= 0xf4)
		len = 4, c = b & 0x07, min = 0x10000;
	else
		return FERRY_E_PROTO; /* a continuation byte, 0xc0, 0xc1, 0xf5.. */
	for (size_t i = 1; i < len; i++) {
		if (ferry_rd_u8(&t, &b) != 0 || (b & 0xc0) != 0x80)
			return FERRY_E_PROTO;
		c = c << 6 | (b & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates, beyond U+10FFFF. */
	if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return FERRY_E_PROTO;
	if (ferry_rd_bytes(rd, len, p) != 0)
		return FERRY_E_PROTO;
	*cp = c;
	*n = len;
	return 0;
}

int
ferry_show_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c ||
	       cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * The next character of rd: 0 and its bytes when it is valid and safe,
 * FERRY_E_PROTO and its bytes (one byte of invalid UTF-8, or an unsafe
 * character's) when it must not be shown. rd must not be empty.
 */
static int
next_char(struct ferry_rd *rd, uint32_t *cp, const uint8_t **p, size_t *n)
{
	if (ferry_show_utf8(rd, cp, p, n) == 0)
		return ferry_show_unsafe(*cp) ? FERRY_E_PROTO : 0;
	*cp = 0xfffd;
	*n = 1;
	if (ferry_rd_bytes(rd, 1, p) != 0)
		*n = 0; /* not reached: the caller checked ferry_rd_left() */
	return FERRY_E_PROTO;
}

void
ferry_show_sanitize(char *s)
{
	struct ferry_rd rd;
	size_t len = strlen(s), n;
	const uint8_t *p;
	uint32_t cp;

	ferry_rd_init(&rd, s, len);
	while (ferry_rd_left(&rd) > 0) {
		size_t at = len - ferry_rd_left(&rd);

		if (next_char(&rd, &cp, &p, &n) != 0)
			memset(s + at, '?', n); /* behind the cursor */
		if (n == 0)
			break;
	}
}

/* Bytes of out, written only below cap (sized by the caller's bound). */
struct out {
	char *s;
	size_t len, cap;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (n > o->cap - o->len)
		n = o->cap - o->len; /* not reached: see ferry_show_quote */
	memcpy(o->s + o->len, s, n);
	o->len += n;
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* One byte inside $'...': a C escape where bash has one, else octal. */
static void
put_escape(struct out *o, uint8_t b)
{
	static const char cesc[] = "abtnvfr"; /* 7..13 */
	char e[8];

	if (b >= 7 && b <= 13)
		snprintf(e, sizeof(e), "\\%c", cesc[b - 7]);
	else
		snprintf(e, sizeof(e), "\\%03o", b);
	puts_(o, e);
}

/* What quoting s needs, as ls's shell-escape style decides it. */
struct need {
	int quote; /* a shell would read it otherwise */
	int escape; /* bytes that only $'...' can show */
	int squote; /* holds a ' */
	int dq_ok; /* every character is the same inside "..." */
};

static void
classify(const char *s, size_t len, struct need *k)
{
	struct ferry_rd rd;
	const uint8_t *p;
	uint32_t cp;
	size_t n;

	*k = (struct need){.quote = len == 0, .dq_ok = 1};
	ferry_rd_init(&rd, s, len);
	while (ferry_rd_left(&rd) > 0) {
		int first = ferry_rd_left(&rd) == len;

		if (next_char(&rd, &cp, &p, &n) != 0) {
			k->escape = 1;
			if (n == 0)
				break;
			continue;
		}
		if (cp >= 0x80 || (cp >= '0' && cp <= '9') ||
		    (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		    strchr("%+,-./:]_", (int)cp) != NULL)
			continue;
		if (cp == '@' || ((cp == '#' || cp == '~') && !first) ||
		    ((cp == '{' || cp == '}') && len > 1)) {
			k->dq_ok = 0; /* left alone by ls, but not "-safe */
			continue;
		}
		k->quote = 1;
		if (cp == '\'')
			k->squote = 1;
		else if (cp != ' ' && cp != '#' && cp != '~' && cp != '{' &&
		         cp != '}')
			k->dq_ok = 0;
	}
}

int
ferry_show_quote(const char *s, char **out)
{
	size_t len = strlen(s), n;
	struct out o = {0};
	struct need k;
	struct ferry_rd rd;
	const uint8_t *p;
	uint32_t cp;
	int in_dollar = 0;

	/* Each byte: at most "'$'\ooo" or "'\''" + "''" around it. */
	if (len > (SIZE_MAX - 8) / 10)
		return FERRY_E_TOOBIG;
	o.cap = len * 10 + 8;
	if ((o.s = malloc(o.cap + 1)) == NULL)
		return FERRY_E_NOMEM;
	classify(s, len, &k);
	if (!k.quote && !k.escape)
		put(&o, s, len);
	else if (!k.escape && k.squote && k.dq_ok) {
		puts_(&o, "\"");
		put(&o, s, len);
		puts_(&o, "\"");
	} else {
		puts_(&o, "'");
		ferry_rd_init(&rd, s, len);
		while (ferry_rd_left(&rd) > 0) {
			if (next_char(&rd, &cp, &p, &n) != 0) {
				if (!in_dollar)
					puts_(&o, "'$'");
				in_dollar = 1;
				for (size_t i = 0; i < n; i++)
					put_escape(&o, p[i]);
				if (n == 0)
					break;
				continue;
			}
			if (in_dollar)
				puts_(&o, "''");
			in_dollar = 0;
			if (cp == '\'')
				puts_(&o, "'\\''");
			else
				put(&o, (const char *)p, n);
		}
		puts_(&o, "'");
	}
	o.s[o.len] = '\0';
	*out = o.s;
	return 0;
}
