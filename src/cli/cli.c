/* cli.c - one-line errors, exit codes and default directories. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/config.h"
#include "ferry/log.h"
#include "ferry/net.h"
#include "ferry/tls.h"

#include "cli.h"

/* "FILE:N: " while a configuration file's setting is handled. */
static char where[FERRY_CONFIG_MAX_LINE];
/* cli_capture's buffer: the first error goes there instead of stderr. */
static char *captured;
static size_t captured_len;

/*
 * "<N>", the sd-daemon(3) priority of a line, when stderr is journald's
 * stream (a command run by a systemd service, such as the renew timer's
 * `ferry renew`), else "": what journalctl -p warning selects.
 */
static const char *
prio(enum ferry_log_level level)
{
	static const char *p[] = {"<3>", "<4>", "<6>", "<7>"};
	static int journal = -1;

	if (journal < 0)
		journal = ferry_log_journal_stream(STDERR_FILENO);
	return journal ? p[level] : "";
}

static void vline(enum ferry_log_level level, const char *kind, const char *fmt,
    va_list ap, const char *tail) FERRY_PRINTF(3, 0);

static void
vline(enum ferry_log_level level, const char *kind, const char *fmt, va_list ap,
    const char *tail)
{
	char msg[1024], why[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Names from the command line or a peer may hold control bytes. */
	ferry_sanitize(msg);
	why[0] = '\0';
	if (tail != NULL) {
		/* So may the detail, which often quotes them. */
		snprintf(why, sizeof(why), "%s", tail);
		ferry_sanitize(why);
	}
	if (captured != NULL) {
		if (captured[0] == '\0')
			snprintf(captured, captured_len, "%s%s%s%s%s", where,
			    kind, msg, tail != NULL ? ": " : "", why);
		return;
	}
	fprintf(stderr, "%sferry: %s%s%s%s%s\n", prio(level), where, kind, msg,
	    tail != NULL ? ": " : "", why);
}

void
cli_capture(char *buf, size_t len)
{
	captured = buf;
	captured_len = len;
	if (buf != NULL && len > 0)
		buf[0] = '\0';
}

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(FERRY_LOG_ERROR, "", fmt, ap, NULL);
	va_end(ap);
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(FERRY_LOG_WARN, "warning: ", fmt, ap, NULL);
	va_end(ap);
}

int
cli_exit_code(int r)
{
	if (r == FERRY_E_INTR)
		return EXIT_INTERRUPTED;
	switch (ferry_errgroup(r)) {
	case FERRY_G_OK:
		return EXIT_OK;
	case FERRY_G_USAGE:
		return EXIT_USAGE;
	case FERRY_G_IO:
		return EXIT_IO;
	case FERRY_G_NOTFOUND:
		return EXIT_NOTFOUND;
	case FERRY_G_REFUSED:
		return EXIT_REFUSED;
	case FERRY_G_NET:
	case FERRY_G_PROTO:
	case FERRY_G_TLS:
		return EXIT_NET;
	case FERRY_G_AUTH:
		return EXIT_AUTH;
	case FERRY_G_INTEGRITY:
		return EXIT_INTEGRITY;
	case FERRY_G_INTERNAL:
		break;
	}
	return EXIT_FAIL;
}

int
cli_fail(int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(FERRY_LOG_ERROR, "", fmt, ap, ferry_err_detail(r));
	va_end(ap);
	return cli_exit_code(r);
}

int
cli_usage(const char *usage)
{
	/* One line, however the usage text is wrapped for --help. */
	fputs("ferry: usage: ferry ", stderr);
	for (const char *p = usage; *p != '\0'; p++) {
		if (*p == '\n') {
			fputc(' ', stderr);
			while (p[1] == ' ')
				p++;
		} else
			fputc(*p, stderr);
	}
	fputc('\n', stderr);
	return EXIT_USAGE;
}

int
cli_opt_error(const char *cmd, int c, char **argv)
{
	const char *arg = argv != NULL && optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		cli_error("%s: option '%s' needs a value (see 'ferry %s "
		          "--help')",
		    cmd, arg, cmd);
	else if (optopt != 0)
		cli_error("%s: unknown option '-%c' (see 'ferry %s --help')",
		    cmd, optopt, cmd);
	else
		cli_error("%s: unknown option '%s' (see 'ferry %s --help')",
		    cmd, arg, cmd);
	return EXIT_USAGE;
}

int
cli_xfer_opt(struct cli_xfer *x, int ch)
{
	switch (ch) {
	case 'f':
		x->force = 1;
		return 0;
	case 'p':
		x->preserve = 1;
		return 0;
	case 'q':
		x->quiet = 1;
		return 0;
	case 'r':
		x->recursive = 1;
		return 0;
	case CLI_OPT_JSON:
		x->json = 1;
		return 0;
	case CLI_OPT_LINKS:
		x->links = 1;
		return 0;
	case CLI_OPT_NO_RESUME:
		x->no_resume = 1;
		return 0;
	case CLI_OPT_LIMIT_RATE:
		/* Below this a frame takes longer than a peer waits. */
		return cli_parse_rate(
		           "--limit-rate", optarg, 32 * 1024, &x->limit) != 0
		           ? EXIT_USAGE
		           : 0;
	default:
		return -1;
	}
}

/* "send: --timeout": an option named with its command, for messages. */
static const char *
cmd_opt(const struct cli_common *o, const char *opt, char label[64])
{
	snprintf(label, 64, "%s: %s", o->cmd, opt);
	return label;
}

int
cli_common_opt(struct cli_common *o, int ch, char **argv)
{
	char label[64];
	long v;

	switch (ch) {
	case 'i':
		o->identity = optarg;
		return 0;
	case 'v':
		o->verbose = 1;
		return 0;
	case CLI_OPT_TIMEOUT:
		if (cli_parse_int(cmd_opt(o, "--timeout", label), optarg, 1,
		        86400, &v) != 0)
			return EXIT_USAGE;
		o->timeout_ms = (int)v * 1000;
		return 0;
	case CLI_OPT_LISTEN: {
		struct ferry_addr a;
		int r;

		if ((r = ferry_net_listen_parse(optarg, &a)) != 0)
			return cli_fail(r, "%s", o->cmd);
		o->listen = optarg;
		return 0;
	}
	case CLI_OPT_MAX_CONNS:
		if (cli_parse_int(cmd_opt(o, "--max-conns", label), optarg, 1,
		        10000, &v) != 0)
			return EXIT_USAGE;
		o->max_conns = (int)v;
		return 0;
	case CLI_OPT_MAX_STARTUPS: {
		int r;

		if ((r = ferry_admit_parse(optarg, &o->admit)) != 0) {
			cli_fail(r, "%s: --max-startups", o->cmd);
			return EXIT_USAGE;
		}
		return 0;
	}
	case CLI_OPT_PER_SOURCE:
		if (cli_parse_int(cmd_opt(o, "--per-source", label), optarg, 1,
		        FERRY_ADMIT_MAX_FULL, &v) != 0)
			return EXIT_USAGE;
		o->admit.per_source = (int)v;
		return 0;
	case CLI_OPT_LOGIN_GRACE:
		if (cli_parse_int(cmd_opt(o, "--login-grace", label), optarg, 1,
		        FERRY_ADMIT_MAX_GRACE_S, &v) != 0)
			return EXIT_USAGE;
		o->admit.grace_s = (int)v;
		return 0;
	case CLI_OPT_LOG:
		return cli_log_opt(o->cmd, optarg, &o->log);
	case 'h':
		printf("usage: ferry %s\n", o->usage);
		exit(EXIT_OK);
	}
	return cli_opt_error(o->cmd, ch, argv);
}

/* The value of a flag's key: 1 for yes, 0 for no, -1 for neither. */
static int
yes_no(const char *v)
{
	static const char *const yes[] = {"yes", "true", "1", "on"};
	static const char *const no[] = {"no", "false", "0", "off"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(v, yes[i]) == 0)
			return 1;
		if (strcmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

static const struct option *
find_opt(const struct option *opts, const char *key)
{
	if (strcmp(key, "config") == 0 || strcmp(key, "help") == 0)
		return NULL;
	for (; opts->name != NULL; opts++)
		if (strcmp(opts->name, key) == 0)
			return opts;
	return NULL;
}

/* 1 if key is in the NULL-terminated list. */
static int
listed(const char *const *list, const char *key)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, key) == 0)
			return 1;
	return 0;
}

/* One setting, at where: looked up, then handled as getopt would. */
static int
apply_one(
    const struct cli_config_apply *ap, const struct ferry_config *cfg, size_t i)
{
	const struct ferry_config_opt *o =
	    ferry_config_opt(cfg, ap->section, i);
	const struct option *opt = find_opt(ap->opts, o->key);
	int flag;

	if (opt == NULL) {
		cli_error("unknown key '%s' in [%s] (the keys are the long "
		          "options of 'ferry %s --help')",
		    o->key, ap->section, ap->section);
		return EXIT_USAGE;
	}
	for (size_t j = 0; j < i; j++)
		if (strcmp(ferry_config_opt(cfg, ap->section, j)->key,
		        o->key) == 0 &&
		    !listed(ap->repeatable, o->key)) {
			cli_error("'%s' given twice (first on line %u)", o->key,
			    ferry_config_opt(cfg, ap->section, j)->line);
			return EXIT_USAGE;
		}
	if (opt->has_arg == no_argument) {
		if ((flag = yes_no(o->value)) < 0) {
			cli_error(
			    "%s: '%s' is not yes or no", o->key, o->value);
			return EXIT_USAGE;
		}
		optarg = NULL;
		return flag ? ap->handle(ap->arg, opt->val) : 0;
	}
	optarg = o->value;
	return ap->handle(ap->arg, opt->val);
}

int
cli_config_apply(const struct cli_config_apply *ap,
    const struct ferry_config *cfg, const char *file)
{
	int code = 0;

	for (size_t i = 0; code == 0 && ferry_config_opt(cfg, ap->section, i);
	     i++) {
		snprintf(where, sizeof(where), "%s:%u: ", file,
		    ferry_config_opt(cfg, ap->section, i)->line);
		code = apply_one(ap, cfg, i);
	}
	where[0] = '\0';
	return code;
}

int
cli_extra_arg(const char *cmd, const char *arg)
{
	cli_error("%s: unexpected argument '%s' (see 'ferry %s --help')", cmd,
	    arg, cmd);
	return EXIT_USAGE;
}

int
cli_tls(const char *cmd, const char *identity, struct ferry_tls_opts *t,
    struct ferry_tls **out)
{
	char *dir = cli_identity_dir(identity);
	int r;

	if (dir == NULL)
		return cli_fail(FERRY_E_NOMEM, "%s", cmd);
	t->identity_dir = dir;
	r = ferry_tls_new(t, out);
	t->identity_dir = NULL;
	free(dir);
	return r == 0 ? 0 : cli_fail(r, "%s: identity", cmd);
}

int
cli_parse_int(const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		cli_error("%s: '%s' is not a number from %ld to %ld", opt, s,
		    min, max);
		return EXIT_USAGE;
	}
	*out = v;
	return 0;
}

int
cli_parse_rate(const char *opt, const char *s, uint64_t min, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end != s && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'k':
		case 'K':
			shift = 10;
			end++;
			break;
		case 'm':
		case 'M':
			shift = 20;
			end++;
			break;
		case 'g':
		case 'G':
			shift = 30;
			end++;
			break;
		}
	}
	/* Digits only (strtoull would take "-1" and " 5"), at most 1 TiB/s. */
	if (errno != 0 || end == s || *end != '\0' || *s < '0' || *s > '9' ||
	    v > (1ull << 40) >> shift || (v << shift) < min) {
		cli_error("%s: '%s' is not a rate of %llu bytes/s or more (a "
		          "number with an optional K, M or G, as in 500K)",
		    opt, s, (unsigned long long)min);
		return EXIT_USAGE;
	}
	*out = (uint64_t)v << shift;
	return 0;
}

static char *
join(const char *a, const char *b)
{
	char *s;

	if (asprintf(&s, "%s/%s", a, b) < 0)
		return NULL;
	return s;
}

char *
cli_identity_dir(const char *opt)
{
	const char *v;

	if (opt != NULL)
		return strdup(opt);
	if ((v = getenv("FERRY_HOME")) != NULL && *v != '\0')
		return strdup(v);
	if ((v = getenv("XDG_CONFIG_HOME")) != NULL && *v == '/')
		return join(v, "ferry");
	if ((v = getenv("HOME")) != NULL && *v != '\0')
		return join(v, ".config/ferry");
	return strdup(".ferry");
}

char *
cli_data_dir(const char *leaf)
{
	const char *v;
	char *base, *s;

	if ((v = getenv("XDG_DATA_HOME")) != NULL && *v == '/')
		base = join(v, "ferry");
	else if ((v = getenv("HOME")) != NULL && *v != '\0')
		base = join(v, ".local/share/ferry");
	else
		base = strdup(".ferry");
	if (base == NULL)
		return NULL;
	s = join(base, leaf);
	free(base);
	return s;
}

static void
cli_log(enum ferry_log_level level, const char *file, int line,
    const char *func, const char *msg, const struct ferry_log_field *fields,
    size_t n, void *arg)
{
	(void)func, (void)fields, (void)n, (void)arg;
	if (level == FERRY_LOG_DEBUG)
		fprintf(stderr, "%sferry: debug: %s (%s:%d)\n", prio(level),
		    msg, file, line);
	else if (level == FERRY_LOG_INFO)
		fprintf(stderr, "%sferry: %s\n", prio(level), msg);
	else
		fprintf(stderr, "%sferry: %s: %s\n", prio(level),
		    level == FERRY_LOG_ERROR ? "error" : "warning", msg);
}

void
cli_log_setup(int verbose, int daemon)
{
	if (daemon)
		cli_log_daemon(verbose, FERRY_LOG_TO_AUTO);
	else
		ferry_log_set(
		    cli_log, verbose ? FERRY_LOG_DEBUG : FERRY_LOG_WARN, NULL);
}

void
cli_log_daemon(int verbose, enum ferry_log_dest dest)
{
	enum ferry_log_level max = verbose ? FERRY_LOG_DEBUG : FERRY_LOG_INFO;

	switch (ferry_log_dest_resolve(dest)) {
	case FERRY_LOG_TO_JOURNAL:
		/* Without it, lines with fields go to stderr like the rest. */
		(void)ferry_log_journal_open();
		ferry_log_set(ferry_log_journal, max, NULL);
		break;
	case FERRY_LOG_TO_SYSLOG:
		ferry_log_syslog_open();
		ferry_log_set(ferry_log_syslog, max, NULL);
		break;
	default:
		ferry_log_set(ferry_log_stderr, max, NULL);
	}
}

int
cli_log_opt(const char *cmd, const char *arg, enum ferry_log_dest *out)
{
	int r = ferry_log_dest_parse(arg, out);

	if (r != 0) {
		cli_fail(r, "%s: --log", cmd);
		return EXIT_USAGE;
	}
	return 0;
}

void
cli_iso_time(time_t t, char out[32])
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "-");
}

time_t
cli_renew_at(time_t not_before, time_t not_after)
{
	return not_after - (not_after - not_before) / 3;
}
