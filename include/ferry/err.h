/* err.h - libferry's error codes and the per-thread detail line behind them.
 * Functions return 0 or a negative FERRY_E_*; each code belongs to a group
 * that callers map to exit codes or to "send an ERR frame" vs "hang up". */
#ifndef FERRY_ERR_H
#define FERRY_ERR_H

#if defined(__GNUC__)
#define FERRY_MUST_CHECK __attribute__((warn_unused_result))
#define FERRY_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FERRY_MUST_CHECK
#define FERRY_PRINTF(f, a)
#endif

enum ferry_err_group {
	FERRY_G_OK = 0,
	FERRY_G_INTERNAL, /* a bug or resource exhaustion */
	FERRY_G_USAGE, /* the caller asked for something malformed */
	FERRY_G_IO, /* local file system */
	FERRY_G_NOTFOUND, /* the named file does not exist */
	FERRY_G_REFUSED, /* the request is understood and declined */
	FERRY_G_NET, /* connecting, timeouts, the peer went away */
	FERRY_G_PROTO, /* the peer broke the wire protocol */
	FERRY_G_TLS, /* handshake failed for a reason other than identity */
	FERRY_G_AUTH, /* certificates or identities did not check out */
	FERRY_G_INTEGRITY, /* a SHA-256 did not match */
};

/*
 * X(NAME, value, group, message). Values are stable: they travel in ERR
 * frames (docs/PROTOCOL.md 5.9) and must never be renumbered.
 */
#define FERRY_ERR_MAP(X)                                        \
	X(INTERNAL, 1, INTERNAL, "internal error")              \
	X(NOMEM, 2, INTERNAL, "out of memory")                  \
	X(CRYPTO, 3, INTERNAL, "cryptographic library failure") \
	X(USAGE, 10, USAGE, "invalid argument")                 \
	X(IO, 20, IO, "input/output error")                     \
	X(NOSPACE, 21, IO, "no space left on device")           \
	X(NOENT, 30, NOTFOUND, "no such file or directory")     \
	X(EXIST, 40, REFUSED, "file exists")                    \
	X(ACCESS, 41, REFUSED, "permission denied")             \
	X(BADNAME, 42, REFUSED, "unsafe or invalid file name")  \
	X(NOTREG, 43, REFUSED, "not a regular file")            \
	X(NOTDIR, 44, REFUSED, "not a directory")               \
	X(TOOBIG, 45, REFUSED, "too large")                     \
	X(REFUSED, 46, REFUSED, "refused")                      \
	X(BUSY, 47, REFUSED, "server busy")                     \
	X(CONNECT, 50, NET, "connection failed")                \
	X(TIMEOUT, 51, NET, "timed out")                        \
	X(CLOSED, 52, NET, "connection closed by peer")         \
	X(RESOLVE, 53, NET, "cannot resolve host")              \
	X(INTR, 54, NET, "interrupted")                         \
	X(PROTO, 60, PROTO, "protocol error")                   \
	X(VERSION, 61, PROTO, "unsupported protocol version")   \
	X(TLS, 70, TLS, "TLS failure")                          \
	X(CERT, 80, AUTH, "certificate verification failed")    \
	X(IDENTITY, 81, AUTH, "peer identity mismatch")         \
	X(NOCERT, 82, AUTH, "no certificate presented")         \
	X(INTEGRITY, 90, INTEGRITY, "SHA-256 mismatch")         \
	X(MISMATCH, 91, REFUSED, "copies differ")               \
	X(LOGIN, 83, AUTH, "wrong user name or password")       \
	X(REVOKED, 84, AUTH, "certificate revoked")             \
	X(PEERFULL, 49, REFUSED, "no room on the peer")         \
	X(THROTTLED, 48, REFUSED, "too many failed attempts; wait")

enum ferry_err {
#define FERRY__ERR_ENUM(name, val, group, msg) FERRY_E_##name = -(val),
	FERRY_ERR_MAP(FERRY__ERR_ENUM)
#undef FERRY__ERR_ENUM
};

/* Static text for r ("unknown error" for values outside the map). */
const char *ferry_strerror(int r);
/* "FERRY_E_NOENT" style name, for logs and tests. */
const char *ferry_errname(int r);
enum ferry_err_group ferry_errgroup(int r);
/* Maps a positive wire code to FERRY_E_*, FERRY_E_PROTO if unknown. */
int ferry_err_from_wire(unsigned code);

/*
 * Records a one-line detail ("report.pdf: no such file") for the calling
 * thread and returns r, so code can say: return ferry_errf(FERRY_E_NOENT, ...).
 */
int ferry_errf(int r, const char *fmt, ...) FERRY_PRINTF(2, 3);
/* Like ferry_errf, appending ": strerror(errno_value)". */
int ferry_errf_errno(int r, int errno_value, const char *fmt, ...)
    FERRY_PRINTF(3, 4);
/* Converts errno to the closest FERRY_E_* code. */
int ferry_err_from_errno(int errno_value);
/* The detail recorded for r on this thread, or ferry_strerror(r). Borrowed. */
const char *ferry_err_detail(int r);
void ferry_err_clear(void);

#endif
