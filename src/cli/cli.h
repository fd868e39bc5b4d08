/* cli.h - what every ferry subcommand shares: exit codes, one-line errors,
 * default directories. Subcommands are int cmd_<name>(int argc, char **argv). */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ferry/admit.h"
#include "ferry/err.h"
#include "ferry/log.h"

/* Exit codes, documented in docs/ferry.1 (EXIT STATUS). */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_FAIL = 1, /* internal error */
	EXIT_USAGE = 2, /* bad command line */
	EXIT_NET = 3, /* connection, TLS handshake or protocol failure */
	EXIT_AUTH = 4, /* certificate or identity not accepted */
	EXIT_REFUSED = 5, /* the peer refused the request */
	EXIT_NOTFOUND = 6, /* a named file does not exist */
	EXIT_INTEGRITY = 7, /* SHA-256 mismatch */
	EXIT_IO = 8, /* local file system error */
	EXIT_PARTIAL = 9, /* some files of a batch failed, others succeeded */
	EXIT_INTERRUPTED =
	    130, /* SIGINT/SIGTERM: stopped, nothing half-written */
};

/* "ferry: <message>" on stderr, one line. */
void cli_error(const char *fmt, ...) FERRY_PRINTF(1, 2);
void cli_warn(const char *fmt, ...) FERRY_PRINTF(1, 2);
/* "ferry: <message>: <detail of r>", returns the exit code for r. */
int cli_fail(int r, const char *fmt, ...) FERRY_PRINTF(2, 3);
/* The exit code for a FERRY_E_* value. */
int cli_exit_code(int r);
/*
 * getopt_long's complaint (c is '?' or ':', with an optstring starting ':'
 * and opterr = 0) as one line naming the subcommand; returns EXIT_USAGE.
 */
int cli_opt_error(const char *cmd, int c, char **argv);
/* Prints "ferry: usage: ferry <usage>" as one line; returns EXIT_USAGE. */
int cli_usage(const char *usage);
/* Parses a decimal in [min, max]; prints the error and returns EXIT_USAGE. */
int cli_parse_int(
    const char *opt, const char *s, long min, long max, long *out);

/*
 * Parses a rate in bytes per second: a decimal with an optional suffix K,
 * M or G (powers of 1024), at least min; prints the error and returns
 * EXIT_USAGE.
 */
int cli_parse_rate(const char *opt, const char *s, uint64_t min, uint64_t *out);

/* Long options several commands share: {"timeout", ..., CLI_OPT_TIMEOUT}. */
enum cli_opt {
	CLI_OPT_TIMEOUT = 0x100,
	CLI_OPT_LISTEN,
	CLI_OPT_MAX_CONNS,
	CLI_OPT_MAX_STARTUPS,
	CLI_OPT_PER_SOURCE,
	CLI_OPT_LOGIN_GRACE,
	CLI_OPT_JSON,
	CLI_OPT_LIMIT_RATE,
	CLI_OPT_NO_RESUME,
	CLI_OPT_LINKS,
	CLI_OPT_LOG,
};
/* clang-format off */
#define CLI_LONGOPTS_COMMON                                                    \
	{"identity", required_argument, NULL, 'i'},                            \
	{"timeout", required_argument, NULL, CLI_OPT_TIMEOUT},                 \
	{"help", no_argument, NULL, 'h'}
#define CLI_LONGOPTS_DAEMON                                                    \
	{"listen", required_argument, NULL, CLI_OPT_LISTEN},                   \
	{"max-conns", required_argument, NULL, CLI_OPT_MAX_CONNS},             \
	{"max-startups", required_argument, NULL, CLI_OPT_MAX_STARTUPS},       \
	{"per-source", required_argument, NULL, CLI_OPT_PER_SOURCE},           \
	{"login-grace", required_argument, NULL, CLI_OPT_LOGIN_GRACE},         \
	{"log", required_argument, NULL, CLI_OPT_LOG},                         \
	{"verbose", no_argument, NULL, 'v'}
#define CLI_LONGOPTS_XFER                                                      \
	{"force", no_argument, NULL, 'f'},                                     \
	{"quiet", no_argument, NULL, 'q'},                                     \
	{"preserve", no_argument, NULL, 'p'},                                  \
	{"recursive", no_argument, NULL, 'r'},                                 \
	{"json", no_argument, NULL, CLI_OPT_JSON},                             \
	{"limit-rate", required_argument, NULL, CLI_OPT_LIMIT_RATE},           \
	{"links", no_argument, NULL, CLI_OPT_LINKS},                           \
	{"no-resume", no_argument, NULL, CLI_OPT_NO_RESUME}
/* The short options among them, for getopt_long's string. */
#define CLI_SHORTOPTS_XFER "fpqr"
/* clang-format on */

/* What send and get share: the options of CLI_LONGOPTS_XFER. */
struct cli_xfer {
	int force, preserve, quiet, json, recursive, links, no_resume;
	uint64_t limit; /* --limit-rate, bytes/s; 0 for none */
};
/*
 * Takes ch if it is one of CLI_LONGOPTS_XFER: 0 when taken, -1 when ch is
 * not one of them, EXIT_USAGE (one line printed) for a bad value.
 */
int cli_xfer_opt(struct cli_xfer *x, int ch);

/* What those options set, with each command's defaults filled in first. */
struct cli_common {
	const char *cmd; /* "send": for messages */
	const char *usage; /* printed by --help */
	const char *identity; /* -i, NULL for the default */
	int timeout_ms;
	int verbose;
	const char *listen; /* daemons */
	int max_conns;
	/* --max-startups, --per-source, --login-grace; 0: admit.h defaults */
	struct ferry_admit_policy admit;
	enum ferry_log_dest log; /* --log; daemons */
};

/*
 * Handles one option of getopt_long (optstring starting with ':') that is
 * common to commands: returns 0 if it took it, else prints one line and
 * returns EXIT_USAGE. --help prints the usage and exits 0.
 */
int cli_common_opt(struct cli_common *o, int ch, char **argv);
struct option;
struct ferry_config;
/*
 * How a daemon's section of a configuration file becomes options: each
 * "key = value" of [section] is the long option named key in opts ("config"
 * and "help" are not keys) and is given to handle(arg, val) with optarg set
 * to the value, as getopt_long would. A flag's value is yes/no (true/false,
 * 1/0, on/off); no leaves it out. A key given twice is refused unless it is
 * in repeatable (NULL-terminated). handle returns 0, or prints one line and
 * returns an exit code.
 */
struct cli_config_apply {
	const char *section; /* "serve": also the command's name */
	const struct option *opts;
	const char *const *repeatable;
	int (*handle)(void *arg, int val);
	void *arg;
};
/*
 * Feeds the section's settings of cfg (read from file) to the handler in
 * file order; every error line starts with "file:line: ". Returns 0 or the
 * first handler's (or EXIT_USAGE for an unknown key or a bad flag value).
 */
int cli_config_apply(const struct cli_config_apply *ap,
    const struct ferry_config *cfg, const char *file);
/*
 * While buf is set, cli_error, cli_warn and cli_fail write nothing: the
 * first line (without "ferry: ") goes into buf. A daemon reloading its
 * configuration logs it instead. cli_capture(NULL, 0) ends it.
 */
void cli_capture(char *buf, size_t len);

/* An extra operand where none belongs: one line, EXIT_USAGE. */
int cli_extra_arg(const char *cmd, const char *arg);

struct ferry_tls;
struct ferry_tls_opts;
/*
 * Builds the TLS context of role t->role from identity dir -i (or the
 * default); prints the one-line error and returns its exit code on failure.
 */
int cli_tls(const char *cmd, const char *identity, struct ferry_tls_opts *t,
    struct ferry_tls **out);

/* -i DIR, or $FERRY_HOME, $XDG_CONFIG_HOME/ferry, ~/.config/ferry. Caller frees. */
char *cli_identity_dir(const char *opt);
/* $XDG_DATA_HOME/ferry/<leaf>, or ~/.local/share/ferry/<leaf>. Caller frees. */
char *cli_data_dir(const char *leaf);
/* t as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into out, "-" for 0. */
void cli_iso_time(time_t t, char out[32]);
/*
 * When a certificate valid from not_before to not_after is due for renewal:
 * once at most a third of its lifetime is left. 'ferry id' warns from then
 * on and 'ferry renew --if-due' renews from then on.
 */
time_t cli_renew_at(time_t not_before, time_t not_after);

/*
 * Installs the stderr log handler; verbose raises the level to debug. A
 * daemon logs at info, as cli_log_daemon(verbose, FERRY_LOG_TO_AUTO).
 */
void cli_log_setup(int verbose, int daemon);
/*
 * A daemon's logging (--log): timestamped lines on stderr, "<N>" lines and
 * native journal entries under journald, or syslog(3).
 */
void cli_log_daemon(int verbose, enum ferry_log_dest dest);
/* Parses --log's value for cmd; prints one line and returns EXIT_USAGE. */
int cli_log_opt(const char *cmd, const char *arg, enum ferry_log_dest *out);

/*
 * Reads a password: from the terminal without echo (asking twice when
 * confirm is set), or a line of stdin when from_stdin. buf (size bytes,
 * at least FERRY_PASSWD_MAX + 2) is NUL-terminated; the caller wipes it.
 */
int cli_read_password(const char *prompt, int from_stdin, int confirm,
    char *buf, size_t size, size_t *len);

int cmd_ca(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_echo_server(int argc, char **argv);
int cmd_echo(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_authd(int argc, char **argv);
int cmd_enroll(int argc, char **argv);
int cmd_renew(int argc, char **argv);
int cmd_crl(int argc, char **argv);
int cmd_id(int argc, char **argv);
/* ferry id export (argv[0] is "export"). */
int cmd_id_export(int argc, char **argv);

#endif
