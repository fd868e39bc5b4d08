/* log.h - libferry's logging: the library never prints, it calls a handler.
 * Programs install a handler and a level; calls below the level cost a compare. */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include "ferry/err.h"

enum ferry_log_level {
	FERRY_LOG_ERROR = 0,
	FERRY_LOG_WARN,
	FERRY_LOG_INFO,
	FERRY_LOG_DEBUG,
};

typedef void ferry_log_fn(enum ferry_log_level level, const char *file,
    int line, const char *func, const char *msg, void *arg);

/* Installs fn (NULL: discard) and the most verbose level to pass to it. */
void ferry_log_set(ferry_log_fn *fn, enum ferry_log_level max, void *arg);
/* A handler writing "ferry[pid]: msg" lines with a UTC timestamp to stderr. */
void ferry_log_stderr(enum ferry_log_level level, const char *file, int line,
    const char *func, const char *msg, void *arg);

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
#define ferry_log_openssl() ferry__log_openssl(__FILE__, __LINE__, __func__)

#endif
