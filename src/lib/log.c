/* log.c - level filter, the stderr, journal and syslog handlers, and the
 * OpenSSL error drain. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "ferry/log.h"
#include "ferry/rd.h"
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
    const char *func, const char *msg, const struct ferry_log_field *fields,
    size_t n, void *arg)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);

	(void)fields, (void)n, (void)arg;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (level == FERRY_LOG_DEBUG)
		fprintf(stderr, "%s ferry[%ld] debug: %s (%s:%d %s)\n", stamp,
		    (long)getpid(), msg, file, line, func);
	else
		fprintf(stderr, "%s ferry[%ld] %s: %s\n", stamp, (long)getpid(),
		    names[level], msg);
}

int
ferry_log_dest_parse(const char *s, enum ferry_log_dest *out)
{
	static const char *names[] = {"auto", "stderr", "journal", "syslog"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum ferry_log_dest)i;
			return 0;
		}
	return ferry_errf(FERRY_E_USAGE,
	    "'%s' is not a log destination (auto, stderr, journal, syslog)", s);
}

enum ferry_log_dest
ferry_log_dest_resolve(enum ferry_log_dest d)
{
	if (d != FERRY_LOG_TO_AUTO)
		return d;
	return ferry_log_journal_stream(STDERR_FILENO) ? FERRY_LOG_TO_JOURNAL
	                                               : FERRY_LOG_TO_STDERR;
}

int
ferry_log_priority(enum ferry_log_level level)
{
	switch (level) {
	case FERRY_LOG_ERROR:
		return LOG_ERR;
	case FERRY_LOG_WARN:
		return LOG_WARNING;
	case FERRY_LOG_INFO:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

/* A decimal of 1..20 digits that fits 64 bits. */
static int
stream_number(const uint8_t *p, size_t n, uint64_t *v)
{
	*v = 0;
	if (n == 0 || n > 20)
		return FERRY_E_USAGE;
	for (size_t i = 0; i < n; i++) {
		uint64_t d = (uint64_t)(p[i] - '0');

		if (p[i] < '0' || p[i] > '9' || *v > (UINT64_MAX - d) / 10)
			return FERRY_E_USAGE;
		*v = *v * 10 + d;
	}
	return 0;
}

int
ferry_log_stream_parse(const char *s, uint64_t *dev, uint64_t *ino)
{
	struct ferry_rd rd;
	const uint8_t *p;
	size_t n;

	ferry_rd_init(&rd, s, strlen(s));
	if (ferry_rd_until(&rd, ':', 20, &p, &n) != 0 ||
	    stream_number(p, n, dev) != 0)
		return FERRY_E_USAGE;
	ferry_rd_rest(&rd, &p, &n);
	return stream_number(p, n, ino);
}

int
ferry_log_journal_stream(int fd)
{
	const char *env = getenv("JOURNAL_STREAM");
	uint64_t dev, ino;
	struct stat st;

	if (env == NULL || ferry_log_stream_parse(env, &dev, &ino) != 0 ||
	    fstat(fd, &st) != 0)
		return 0;
	return (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
}

/* "<N>msg", the sd-daemon(3) prefix; journald adds time and pid. */
static void
journal_line(enum ferry_log_level level, const char *file, int line,
    const char *func, const char *msg)
{
	if (level == FERRY_LOG_DEBUG)
		fprintf(stderr, "<%d>%s (%s:%d %s)\n", LOG_DEBUG, msg, file,
		    line, func);
	else
		fprintf(stderr, "<%d>%s\n", ferry_log_priority(level), msg);
}

/* journald's native socket (systemd.journal-fields(7)). */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static int journal_fd = -1;

int
ferry_log_journal_open(void)
{
	if (journal_fd >= 0)
		return 0;
	journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (journal_fd < 0)
		return ferry_errf_errno(FERRY_E_IO, errno, "journal socket");
	return 0;
}

/* Appends "KEY=value\n" to out at *off; 0, or -1 if it does not fit. */
static int
entry_put(
    char *out, size_t size, size_t *off, const char *key, const char *value)
{
	size_t k = strlen(key), v = strlen(value);

	if (*off + k + v + 2 > size)
		return -1;
	memcpy(out + *off, key, k);
	out[*off + k] = '=';
	/* One field per line, whatever the caller passed. */
	for (size_t i = 0; i < v; i++)
		out[*off + k + 1 + i] = value[i] == '\n' ? '?' : value[i];
	out[*off + k + 1 + v] = '\n';
	*off += k + v + 2;
	return 0;
}

size_t
ferry_log_journal_entry(char *out, size_t size, enum ferry_log_level level,
    const char *file, int line, const char *func, const char *msg,
    const struct ferry_log_field *fields, size_t n)
{
	char prio[4], lineno[16];
	const struct ferry_log_field fixed[] = {{"MESSAGE", msg},
	    {"PRIORITY", prio}, {"SYSLOG_IDENTIFIER", "ferry"},
	    {"CODE_FILE", file}, {"CODE_LINE", lineno}, {"CODE_FUNC", func}};
	size_t off = 0;

	snprintf(prio, sizeof(prio), "%d", ferry_log_priority(level));
	snprintf(lineno, sizeof(lineno), "%d", line);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (entry_put(out, size, &off, fixed[i].key, fixed[i].value) !=
		    0)
			return 0;
	for (size_t i = 0; i < n; i++)
		if (entry_put(
		        out, size, &off, fields[i].key, fields[i].value) != 0)
			return 0;
	return off;
}

/*
 * One datagram to journald's native socket: 0, or -1 (no socket opened,
 * none bound there, journald not reading, too big).
 */
static int
journal_send(enum ferry_log_level level, const char *file, int line,
    const char *func, const char *msg, const struct ferry_log_field *fields,
    size_t n)
{
	char entry[1100 + FERRY_LOG_FIELDS_MAX * (FERRY_LOG_FIELD_MAX + 80) +
	           512];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct iovec iov;
	struct msghdr mh = {.msg_name = &sa,
	    .msg_namelen = sizeof(sa),
	    .msg_iov = &iov,
	    .msg_iovlen = 1};
	ssize_t sent;

	if (journal_fd < 0)
		return -1;
	iov.iov_base = entry;
	iov.iov_len = ferry_log_journal_entry(
	    entry, sizeof(entry), level, file, line, func, msg, fields, n);
	if (iov.iov_len == 0)
		return -1;
	memcpy(sa.sun_path, JOURNAL_SOCKET, sizeof(JOURNAL_SOCKET));
	do
		sent = sendmsg(journal_fd, &mh, MSG_NOSIGNAL);
	while (sent < 0 && errno == EINTR);
	return sent == (ssize_t)iov.iov_len ? 0 : -1;
}

void
ferry_log_journal(enum ferry_log_level level, const char *file, int line,
    const char *func, const char *msg, const struct ferry_log_field *fields,
    size_t n, void *arg)
{
	(void)arg;
	/* Never lose the line: the stream takes it if the socket does not. */
	if (n == 0 || journal_send(level, file, line, func, msg, fields, n) < 0)
		journal_line(level, file, line, func, msg);
}

void
ferry_log_syslog_open(void)
{
	openlog("ferry", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* Appends s to out at *off, bounded; out stays NUL-terminated. */
static void
put(char *out, size_t size, size_t *off, const char *s, size_t len)
{
	if (*off + 1 >= size)
		return;
	if (len > size - 1 - *off)
		len = size - 1 - *off;
	memcpy(out + *off, s, len);
	*off += len;
	out[*off] = '\0';
}

void
ferry_log_syslog_line(char *out, size_t size, enum ferry_log_level level,
    const char *msg, const struct ferry_log_field *fields, size_t n)
{
	size_t off = 0;

	(void)level;
	if (size == 0)
		return;
	out[0] = '\0';
	put(out, size, &off, msg, strlen(msg));
	for (size_t i = 0; i < n; i++) {
		const char *v = fields[i].value;
		int quote = strpbrk(v, " \"=\\") != NULL || *v == '\0';

		put(out, size, &off, " ", 1);
		for (const char *k = fields[i].key; *k != '\0'; k++) {
			char c = *k >= 'A' && *k <= 'Z' ? (char)(*k - 'A' + 'a')
			                                : *k;

			put(out, size, &off, &c, 1);
		}
		put(out, size, &off, quote ? "=\"" : "=", quote ? 2 : 1);
		for (; *v != '\0'; v++) {
			if (quote && (*v == '"' || *v == '\\'))
				put(out, size, &off, "\\", 1);
			put(out, size, &off, v, 1);
		}
		if (quote)
			put(out, size, &off, "\"", 1);
	}
}

void
ferry_log_syslog(enum ferry_log_level level, const char *file, int line,
    const char *func, const char *msg, const struct ferry_log_field *fields,
    size_t n, void *arg)
{
	char text[1024 + FERRY_LOG_FIELDS_MAX * (FERRY_LOG_FIELD_MAX + 32)];

	(void)arg;
	ferry_log_syslog_line(text, sizeof(text), level, msg, fields, n);
	if (level == FERRY_LOG_DEBUG)
		syslog(LOG_DEBUG, "%s (%s:%d %s)", text, file, line, func);
	else
		syslog(ferry_log_priority(level), "%s", text);
}

void
ferry_sanitize(char *s)
{
	ferry_show_sanitize(s);
}

/* A journal field name: A-Z, 0-9, '_', not starting with '_' or a digit. */
static int
field_key_ok(const char *k)
{
	size_t len = strlen(k);

	if (len == 0 || len > 64 || k[0] == '_' || (k[0] >= '0' && k[0] <= '9'))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((k[i] >= 'A' && k[i] <= 'Z') ||
		        (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return 0;
	return 1;
}

static void log_vemit(enum ferry_log_level level, const char *file, int line,
    const char *func, int r, const struct ferry_log_field *fields, size_t n,
    const char *fmt, va_list ap) FERRY_PRINTF(8, 0);

static void
log_vemit(enum ferry_log_level level, const char *file, int line,
    const char *func, int r, const struct ferry_log_field *fields, size_t n,
    const char *fmt, va_list ap)
{
	char msg[1024], vals[FERRY_LOG_FIELDS_MAX][FERRY_LOG_FIELD_MAX];
	struct ferry_log_field f[FERRY_LOG_FIELDS_MAX];
	size_t k = 0;
	int len;

	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (r != 0 && len >= 0 && (size_t)len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - (size_t)len, ": %s",
		    ferry_err_detail(r));
	/* One line per message, whatever the peer put in a name. */
	ferry_sanitize(msg);
	for (size_t i = 0; i < n && k < FERRY_LOG_FIELDS_MAX; i++) {
		if (fields[i].value == NULL || !field_key_ok(fields[i].key))
			continue;
		snprintf(vals[k], sizeof(vals[k]), "%s", fields[i].value);
		ferry_sanitize(vals[k]);
		f[k].key = fields[i].key;
		f[k].value = vals[k];
		k++;
	}
	log_fn(level, file, line, func, msg, f, k, log_arg);
}

void
ferry__log(enum ferry_log_level level, const char *file, int line,
    const char *func, int r, const char *fmt, ...)
{
	va_list ap;

	if (log_fn == NULL)
		return;
	va_start(ap, fmt);
	log_vemit(level, file, line, func, r, NULL, 0, fmt, ap);
	va_end(ap);
}

void
ferry__log_event(enum ferry_log_level level, const char *file, int line,
    const char *func, const struct ferry_log_field *fields, size_t n,
    const char *fmt, ...)
{
	va_list ap;

	if (log_fn == NULL)
		return;
	va_start(ap, fmt);
	log_vemit(level, file, line, func, 0, fields, n, fmt, ap);
	va_end(ap);
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
