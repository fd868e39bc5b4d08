/* log.c - level filter, the stderr handler and the OpenSSL error drain. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "ferry/log.h"
#include "ferry/show.h"

#include "internal.h"

enum ferry_log_level ferry__log_max = FERRY_LOG_WARN;
static ferry_log_fn *log_fn = ferry_log_stderr;
static void *log_arg;

void
ferry_log_set(ferry_log_fn *fn, enum ferry_log_level max, void *arg)
{
	log_fn = fn;
	log_arg = arg;
	ferry__log_max = max;
}

void
ferry_log_stderr(enum ferry_log_level level, const char *file, int line,
    const char *func, const char *msg, void *arg)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);

	(void)arg;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (level == FERRY_LOG_DEBUG)
		fprintf(stderr, "%s ferry[%ld] debug: %s (%s:%d %s)\n", stamp,
		    (long)getpid(), msg, file, line, func);
	else
		fprintf(stderr, "%s ferry[%ld] %s: %s\n", stamp, (long)getpid(),
		    names[level], msg);
}

void
ferry_sanitize(char *s)
{
	ferry_show_sanitize(s);
}

void
ferry__log(enum ferry_log_level level, const char *file, int line,
    const char *func, int r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	if (log_fn == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r != 0 && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
		    ferry_err_detail(r));
	/* One line per message, whatever the peer put in a name. */
	ferry_sanitize(msg);
	log_fn(level, file, line, func, msg, log_arg);
}

int
ferry__crypto_fail(const char *what)
{
	unsigned long e = ferry__log_openssl(__FILE__, __LINE__, __func__);
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

	if (reason != NULL)
		return ferry_errf(FERRY_E_CRYPTO, "%s: %s", what, reason);
	return ferry_errf(FERRY_E_CRYPTO, "%s", what);
}

unsigned long
ferry__log_openssl(const char *file, int line, const char *func)
{
	unsigned long e, last = 0;
	char text[256];

	while ((e = ERR_get_error()) != 0) {
		last = e;
		if (FERRY_LOG_DEBUG <= ferry__log_max) {
			ERR_error_string_n(e, text, sizeof(text));
			ferry__log(FERRY_LOG_DEBUG, file, line, func, 0,
			    "openssl: %s", text);
		}
	}
	return last;
}
