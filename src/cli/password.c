/* password.c - reading a password: from the terminal without echo, or one
 * line of stdin (--password-stdin). The buffer is the caller's to wipe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ferry/passwd.h"

#include "cli.h"

/* Reads up to a newline or EOF from fd into buf; 1 byte at a time so that
 * nothing after the line is consumed. */
static int
read_line(int fd, char *buf, size_t size, size_t *len)
{
	size_t n = 0;
	int too_long = 0;

	for (;;) {
		char c;
		ssize_t k = read(fd, &c, 1);

		if (k == -1 && errno == EINTR)
			return FERRY_E_INTR;
		if (k == -1)
			return ferry_errf_errno(
			    FERRY_E_IO, errno, "cannot read the password");
		if (k == 0 || c == '\n')
			break;
		if (n + 1 >= size)
			too_long = 1;
		else
			buf[n++] = c;
		c = 0;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	if (too_long)
		return ferry_errf(FERRY_E_USAGE,
		    "the password is longer than %d bytes", FERRY_PASSWD_MAX);
	return 0;
}

static int
tty_prompt(int fd, const char *prompt, char *buf, size_t size, size_t *len)
{
	struct termios old, quiet;
	int r;

	if (tcgetattr(fd, &old) == -1)
		return ferry_errf_errno(FERRY_E_IO, errno, "terminal");
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &quiet) == -1)
		return ferry_errf_errno(FERRY_E_IO, errno, "terminal");
	r = read_line(fd, buf, size, len);
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		r = r != 0 ? r : FERRY_E_IO;
	return r;
}

int
cli_read_password(const char *prompt, int from_stdin, int confirm, char *buf,
    size_t size, size_t *len)
{
	char again[FERRY_PASSWD_MAX + 2];
	size_t n2 = 0;
	int fd = -1, r;

	*len = 0;
	if (from_stdin) {
		r = read_line(STDIN_FILENO, buf, size, len);
		goto out;
	}
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1) {
		r = ferry_errf(FERRY_E_USAGE,
		    "no terminal to ask for the password; use "
		    "--password-stdin");
		goto out;
	}
	if ((r = tty_prompt(fd, prompt, buf, size, len)) != 0)
		goto out;
	if (confirm) {
		if ((r = tty_prompt(
		         fd, "Again: ", again, sizeof(again), &n2)) != 0)
			goto out;
		if (n2 != *len || CRYPTO_memcmp(again, buf, n2) != 0) {
			r = ferry_errf(
			    FERRY_E_USAGE, "the passwords do not match");
			goto out;
		}
	}
	r = 0;
out:
	if (r == 0 && *len == 0)
		r = ferry_errf(FERRY_E_USAGE, "empty password");
	if (r != 0) {
		OPENSSL_cleanse(buf, size);
		*len = 0;
	}
	OPENSSL_cleanse(again, sizeof(again));
	if (fd != -1)
		close(fd);
	return r;
}
