/* echo.c - the echo service over a ferry_conn. */
#include <string.h>

#include "ferry/echo.h"

int
ferry_echo_serve(struct ferry_conn *c, int upper, uint64_t *lines)
{
	char buf[FERRY_MAX_ECHO_LINE];
	size_t n;
	int r;

	*lines = 0;
	for (;;) {
		if ((r = ferry_conn_read_raw(c, buf, sizeof(buf), &n)) != 0)
			return r;
		if (n == 0)
			break;
		/*
		 * Whatever arrived goes straight back: a line typed into
		 * s_client comes back whole, and a last line without a
		 * newline is not held hostage.
		 */
		for (size_t i = 0; i < n; i++) {
			if (upper && buf[i] >= 'a' && buf[i] <= 'z')
				buf[i] = (char)(buf[i] - 'a' + 'A');
			if (buf[i] == '\n')
				(*lines)++;
		}
		if ((r = ferry_conn_write_raw(c, buf, n)) != 0)
			return r;
	}
	return ferry_conn_close(c);
}
