/* log.h - libferry's logging: the library never prints, it calls a handler.
 * Programs install a handler and a level; calls below the level cost a compare. */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/err.h"

enum ferry_log_level {
	FERRY_LOG_ERROR = 0,
	FERRY_LOG_WARN,
	FERRY_LOG_INFO,
	FERRY_LOG_DEBUG,
};

/*
 * A structured field riding along with a line: key is upper-case letters,
 * digits and '_' (a journal field name), value is text (sanitized by the
 * logger, bounded to FERRY_LOG_FIELD_MAX bytes).
 */
struct ferry_log_field {
	const char *key;
	const char *value;
};
#define FERRY_LOG_FIELDS_MAX 8
#define FERRY_LOG_FIELD_MAX 512

/* fields: n (at most FERRY_LOG_FIELDS_MAX) fields of the line, or none. */
typedef void ferry_log_fn(enum ferry_log_level level, const char *file,
    int line, const char *func, const char *msg,
    const struct ferry_log_field *fields, size_t n, void *arg);

/* Installs fn (NULL: discard) and the most verbose level to pass to it. */
void ferry_log_set(ferry_log_fn *fn, enum ferry_log_level max, void *arg);
/*
 * A handler writing "TIME ferry[pid] level: msg" lines (UTC) to stderr;
 * fields are not shown (the message says it all in words).
 */
void ferry_log_stderr(enum ferry_log_level level, const char *file, int line,
    const char *func, const char *msg, const struct ferry_log_field *fields,
    size_t n, void *arg);

/* Where a daemon's lines go (--log). */
enum ferry_log_dest {
	FERRY_LOG_TO_AUTO =
	    0, /* journal if stderr is journald's, else stderr */
	FERRY_LOG_TO_STDERR,
	FERRY_LOG_TO_JOURNAL,
	FERRY_LOG_TO_SYSLOG,
};
/* "auto", "stderr", "journal", "syslog"; FERRY_E_USAGE for anything else. */
int ferry_log_dest_parse(const char *s, enum ferry_log_dest *out);
/* AUTO resolved: JOURNAL when ferry_log_journal_stream(2), else STDERR. */
enum ferry_log_dest ferry_log_dest_resolve(enum ferry_log_dest d);
/* The syslog(3)/sd-daemon(3) priority of a level: 3, 4, 6 or 7. */
int ferry_log_priority(enum ferry_log_level level);
/*
 * Parses $JOURNAL_STREAM's "DEV:INO" (decimal, systemd.exec(5)); 0 or
 * FERRY_E_USAGE for anything else.
 */
int ferry_log_stream_parse(const char *s, uint64_t *dev, uint64_t *ino);
/* 1 if fd is the stream $JOURNAL_STREAM names (journald's), else 0. */
int ferry_log_journal_stream(int fd);
/*
 * Journal handler: plain lines go to stderr as "<N>msg" (journald adds
 * time and pid); a line with fields goes to journald's native socket with
 * MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=ferry, CODE_* and the fields, or,
 * if that socket cannot take it (or ferry_log_journal_open was not
 * called), to stderr as a plain line.
 */
void ferry_log_journal(enum ferry_log_level level, const char *file, int line,
    const char *func, const char *msg, const struct ferry_log_field *fields,
    size_t n, void *arg);
/*
 * Makes the socket ferry_log_journal sends entries on (a datagram socket,
 * not connected: each entry names /run/systemd/journal/socket, so a
 * restarted journald is found again). Call it before forking and before
 * any sandbox: children inherit it and need no socket() of their own.
 * 0, or FERRY_E_IO.
 */
int ferry_log_journal_open(void);
/*
 * The native entry of a line: "KEY=value\n" for MESSAGE, PRIORITY,
 * SYSLOG_IDENTIFIER, CODE_FILE, CODE_LINE, CODE_FUNC and the fields (a
 * newline in a value becomes '?'), into out; its length, 0 if it does not
 * fit in size bytes.
 */
size_t ferry_log_journal_entry(char *out, size_t size,
    enum ferry_log_level level, const char *file, int line, const char *func,
    const char *msg, const struct ferry_log_field *fields, size_t n);
/*
 * Syslog handler: one syslog(3) call per line, facility LOG_DAEMON, the
 * fields appended as " key=value" (lower-case keys, values with a space,
 * quote or '=' in double quotes). Call ferry_log_syslog_open() first.
 */
void ferry_log_syslog(enum ferry_log_level level, const char *file, int line,
    const char *func, const char *msg, const struct ferry_log_field *fields,
    size_t n, void *arg);
/* openlog("ferry", LOG_PID | LOG_NDELAY, LOG_DAEMON): connects now. */
void ferry_log_syslog_open(void);
/*
 * The line ferry_log_syslog hands to syslog(3), into out (size bytes,
 * truncated); values must be sanitized already.
 */
void ferry_log_syslog_line(char *out, size_t size, enum ferry_log_level level,
    const char *msg, const struct ferry_log_field *fields, size_t n);

/*
 * Makes text from a peer or a file system safe for a terminal or a log, in
 * place: ferry_show_sanitize() (show.h): control characters (C0, DEL, C1),
 * bidirectional controls and bytes that are not valid UTF-8 become '?'.
 * Valid UTF-8 text is left as it is.
 */
void ferry_sanitize(char *s);

extern enum ferry_log_level ferry__log_max;
void ferry__log(enum ferry_log_level level, const char *file, int line,
    const char *func, int r, const char *fmt, ...) FERRY_PRINTF(6, 7);
void ferry__log_event(enum ferry_log_level level, const char *file, int line,
    const char *func, const struct ferry_log_field *fields, size_t n,
    const char *fmt, ...) FERRY_PRINTF(7, 8);
/* Drains OpenSSL's error queue into DEBUG lines; returns the last reason. */
unsigned long ferry__log_openssl(const char *file, int line, const char *func);

#define FERRY__LOG(lvl, r, ...)                                          \
	do {                                                             \
		if ((lvl) <= ferry__log_max)                             \
			ferry__log(lvl, __FILE__, __LINE__, __func__, r, \
			    __VA_ARGS__);                                \
	} while (0)
#define ferry_error(...) FERRY__LOG(FERRY_LOG_ERROR, 0, __VA_ARGS__)
#define ferry_warn(...) FERRY__LOG(FERRY_LOG_WARN, 0, __VA_ARGS__)
#define ferry_info(...) FERRY__LOG(FERRY_LOG_INFO, 0, __VA_ARGS__)
#define ferry_debug(...) FERRY__LOG(FERRY_LOG_DEBUG, 0, __VA_ARGS__)
/* _r variants append ": " and ferry_err_detail(r). */
#define ferry_error_r(r, ...) FERRY__LOG(FERRY_LOG_ERROR, r, __VA_ARGS__)
#define ferry_warn_r(r, ...) FERRY__LOG(FERRY_LOG_WARN, r, __VA_ARGS__)
#define ferry_info_r(r, ...) FERRY__LOG(FERRY_LOG_INFO, r, __VA_ARGS__)
#define ferry_debug_r(r, ...) FERRY__LOG(FERRY_LOG_DEBUG, r, __VA_ARGS__)
/*
 * A line with structured fields (a transfer: MEMBER, PEER, FILE, SIZE,
 * SHA256, RESULT): the text is the line every handler shows, the fields
 * ride along where the handler can carry them (journal, syslog).
 */
#define ferry_log_event(lvl, fields, n, ...)                                \
	do {                                                                \
		if ((lvl) <= ferry__log_max)                                \
			ferry__log_event(lvl, __FILE__, __LINE__, __func__, \
			    fields, n, __VA_ARGS__);                        \
	} while (0)
#define ferry_log_openssl() ferry__log_openssl(__FILE__, __LINE__, __func__)

#endif
