/* err.c - error names, messages and the per-thread detail line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ferry/err.h"

static _Thread_local struct {
	int code;
	char text[512];
} detail;

const char *
ferry_strerror(int r)
{
	switch (r) {
	case 0:
		return "success";
#define FERRY__ERR_STR(name, val, group, msg) \
	case FERRY_E_##name:                  \
		return msg;
		FERRY_ERR_MAP(FERRY__ERR_STR)
#undef FERRY__ERR_STR
	}
	return "unknown error";
}

const char *
ferry_errname(int r)
{
	switch (r) {
	case 0:
		return "OK";
#define FERRY__ERR_NAME(name, val, group, msg) \
	case FERRY_E_##name:                   \
		return "FERRY_E_" #name;
		FERRY_ERR_MAP(FERRY__ERR_NAME)
#undef FERRY__ERR_NAME
	}
	return "FERRY_E_UNKNOWN";
}

enum ferry_err_group
ferry_errgroup(int r)
{
	switch (r) {
	case 0:
		return FERRY_G_OK;
#define FERRY__ERR_GROUP(name, val, group, msg) \
	case FERRY_E_##name:                    \
		return FERRY_G_##group;
		FERRY_ERR_MAP(FERRY__ERR_GROUP)
#undef FERRY__ERR_GROUP
	}
	return FERRY_G_INTERNAL;
}

int
ferry_err_from_wire(unsigned code)
{
	switch (code) {
#define FERRY__ERR_WIRE(name, val, group, msg) \
	case val:                              \
		return FERRY_E_##name;
		FERRY_ERR_MAP(FERRY__ERR_WIRE)
#undef FERRY__ERR_WIRE
	}
	return FERRY_E_PROTO;
}

static int vset(int r, int errno_value, const char *fmt, va_list ap)
    FERRY_PRINTF(3, 0);

static int
vset(int r, int errno_value, const char *fmt, va_list ap)
{
	/* Format aside first: an argument may be ferry_err_detail() itself. */
	char text[sizeof(detail.text)];
	int n = vsnprintf(text, sizeof(text), fmt, ap);

	if (n < 0)
		text[0] = '\0';
	else if (errno_value != 0 && (size_t)n < sizeof(text))
		snprintf(text + n, sizeof(text) - (size_t)n, ": %s",
		    strerror(errno_value));
	memcpy(detail.text, text, sizeof(text));
	detail.code = r;
	return r;
}

int
ferry_errf(int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(r, 0, fmt, ap);
	va_end(ap);
	return r;
}

int
ferry_errf_errno(int r, int errno_value, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(r, errno_value, fmt, ap);
	va_end(ap);
	return r;
}

int
ferry_err_from_errno(int e)
{
	switch (e) {
	case 0:
		return 0;
	case ENOMEM:
		return FERRY_E_NOMEM;
	case ENOENT:
		return FERRY_E_NOENT;
	case EEXIST:
	case ENOTEMPTY:
		return FERRY_E_EXIST;
	case EACCES:
	case EPERM:
	case EROFS:
		return FERRY_E_ACCESS;
	case ENOTDIR:
		return FERRY_E_NOTDIR;
	case EISDIR:
		return FERRY_E_NOTREG;
	case ELOOP:
	case EXDEV:
	case ENAMETOOLONG:
		return FERRY_E_BADNAME;
	case ENOSPC:
	case EDQUOT:
		return FERRY_E_NOSPACE;
	case EFBIG:
		return FERRY_E_TOOBIG;
	case ETIMEDOUT:
		return FERRY_E_TIMEOUT;
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return FERRY_E_CONNECT;
	case ECONNRESET:
	case EPIPE:
		return FERRY_E_CLOSED;
	case EINTR:
		return FERRY_E_INTR;
	}
	return FERRY_E_IO;
}

const char *
ferry_err_detail(int r)
{
	if (detail.code == r && detail.text[0] != '\0')
		return detail.text;
	return ferry_strerror(r);
}

void
ferry_err_clear(void)
{
	detail.code = 0;
	detail.text[0] = '\0';
}
