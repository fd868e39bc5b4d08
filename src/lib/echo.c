/* echo.c - the echo service over a ferry_conn. */
#include <string.h>

#include "ferry/echo.h"

int
ferry_echo_serve(struct ferry_conn *c, int upper, uint64_t *lines)
{
	static char line[FERRY_MAX_ECHO_LINE];
	char in[4096];
	size_t have = 0, n;
	int r;

	*lines = 0;
	for (;;) {
		if ((r = ferry_conn_read_raw(c, in, sizeof(in), &n)) != 0)
			return r;
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			char ch = in[i];

			if (upper && ch >= 'a' && ch <= 'z')
				ch = (char)(ch - 'a' + 'A');
			line[have++] = ch;
			if (ch != '\n' && have < sizeof(line))
				continue;
			if ((r = ferry_conn_write_raw(c, line, have)) != 0)
				return r;
			if (ch == '\n')
				(*lines)++;
			have = 0;
		}
	}
	/* A last line without newline still goes back. */
	if (have > 0 && (r = ferry_conn_write_raw(c, line, have)) != 0)
		return r;
	return ferry_conn_close(c);
}
