/* json.c - JSON strings for --json: what a file name may hold, escaped. */
#include <stdio.h>
#include <string.h>

#include "ferry/show.h"

#include "client.h"

void
json_str(FILE *f, const char *str)
{
	struct ferry_rd rd;
	const uint8_t *p;
	uint32_t cp;
	size_t n;

	ferry_rd_init(&rd, str, strlen(str));
	fputc('"', f);
	while (ferry_rd_left(&rd) > 0) {
		if (ferry_show_utf8(&rd, &cp, &p, &n) != 0) {
			uint8_t skip;

			/* Not UTF-8: U+FFFD, as documented in ferry.1. */
			fputs("\\ufffd", f);
			if (ferry_rd_u8(&rd, &skip) != 0)
				break;
		} else if (cp == '"' || cp == '\\') {
			fputc('\\', f);
			fputc((int)cp, f);
		} else if (ferry_show_unsafe(cp)) {
			/* Controls, C1, bidi, U+2028/9 (line ends to JS). */
			fprintf(f, "\\u%04x", (unsigned)cp);
		} else
			fwrite(p, 1, n, f);
	}
	fputc('"', f);
}
