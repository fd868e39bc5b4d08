/* fuzz_show.c - show.c on arbitrary bytes, as names reach a terminal from a
 * peer or a file system. ferry_show_sanitize keeps the length and leaves
 * valid UTF-8 with no unsafe character (and is then the identity);
 * ferry_show_quote leaves printable valid UTF-8 with no unsafe character,
 * and a shell reading it back (the small unquoter below: '...', "...",
 * $'...' with ferry's escapes, bare words) gets the input bytes again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/show.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every character of s valid and safe. */
static int
all_safe(const char *s)
{
	struct ferry_rd rd;
	const uint8_t *p;
	uint32_t cp;
	size_t n;

	ferry_rd_init(&rd, s, strlen(s));
	while (ferry_rd_left(&rd) > 0)
		if (ferry_show_utf8(&rd, &cp, &p, &n) != 0 ||
		    ferry_show_unsafe(cp))
			return 0;
	return 1;
}

static int
octal(const char *s, size_t *i)
{
	int v = 0;

	for (int k = 0; k < 3; k++, (*i)++) {
		if (s[*i] < '0' || s[*i] > '7')
			abort();
		v = v * 8 + (s[*i] - '0');
	}
	return v;
}

/* What bash makes of q as one word; out has room for strlen(q) bytes. */
static size_t
unquote(const char *q, char *out)
{
	static const char cesc[] = "abtnvfr";
	size_t i = 0, o = 0;

	while (q[i] != '\0') {
		if (q[i] == '\'') {
			for (i++; q[i] != '\''; i++) {
				if (q[i] == '\0')
					abort();
				out[o++] = q[i];
			}
			i++;
		} else if (q[i] == '"') {
			for (i++; q[i] != '"'; i++) {
				if (q[i] == '\0' || strchr("$`\\!", q[i]))
					abort();
				out[o++] = q[i];
			}
			i++;
		} else if (q[i] == '$' && q[i + 1] == '\'') {
			for (i += 2; q[i] != '\'';) {
				const char *e;

				if (q[i] != '\\' || q[i + 1] == '\0')
					abort();
				i++;
				if ((e = strchr(cesc, q[i])) != NULL) {
					out[o++] = (char)(7 + (e - cesc));
					i++;
				} else
					out[o++] = (char)octal(q, &i);
			}
			i++;
		} else if (q[i] == '\\' && q[i + 1] == '\'') {
			out[o++] = '\'';
			i += 2;
		} else {
			if (strchr(" \t\n!\"$&'()*;<=>?[\\^`|", q[i]))
				abort(); /* unquoted shell syntax */
			out[o++] = q[i++];
		}
	}
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *clean, *q = NULL, *back;
	size_t n;

	if (size > 4096 || (in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	n = strlen(in); /* names are C strings: up to the first NUL */
	if ((clean = strdup(in)) == NULL) {
		free(in);
		return 0;
	}
	ferry_show_sanitize(clean);
	if (strlen(clean) != n || !all_safe(clean))
		abort();
	if (all_safe(in) && strcmp(in, clean) != 0)
		abort();
	if (ferry_show_quote(in, &q) != 0)
		abort();
	if (!all_safe(q) || (back = malloc(strlen(q) + 1)) == NULL)
		abort();
	if (unquote(q, back) != n || memcmp(back, in, n) != 0)
		abort();
	free(back);
	free(q);
	free(clean);
	free(in);
	return 0;
}
