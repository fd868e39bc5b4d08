/* cmd_echo.c - `ferry echo-server` and `ferry echo`: the TLS echo diagnostic. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/echo.h"
#include "ferry/log.h"

#include "cli.h"
#include "client.h"
#include "daemon.h"

static const char server_usage[] =
    "echo-server [-i IDDIR] [--listen HOST:PORT] [--upper]\n"
    "             [--require-client-cert] [--timeout SECS] [--max-conns N]\n"
    "             [--log auto|stderr|journal|syslog] [-v]";
static const char client_usage[] = "echo [-i IDDIR] [--timeout SECS] "
                                   "[ID@]HOST[:PORT]";

struct echo_cfg {
	int upper;
};

static int
echo_session(struct ferry_conn *c, void *arg, char *summary, size_t len)
{
	const struct echo_cfg *cfg = arg;
	uint64_t lines = 0;
	int r = ferry_echo_serve(c, cfg->upper, &lines);

	snprintf(summary, len, "%llu line%s echoed", (unsigned long long)lines,
	    lines == 1 ? "" : "s");
	return r;
}

/* --max-conns sessions run already: one line says so, then the close. */
static void
echo_busy(struct ferry_conn *c, void *arg, int sessions)
{
	char line[128];
	int n;

	(void)arg;
	n = snprintf(line, sizeof(line),
	    "ferry echo-server: busy (%d sessions); try again later\n",
	    sessions);
	ferry_conn_set_timeout(c, 2000);
	if (ferry_conn_write_raw(c, line, (size_t)n) != 0 ||
	    ferry_conn_close(c) != 0)
		ferry_debug(
		    "%s: could not say it is busy", ferry_conn_peer_addr(c));
}

int
cmd_echo_server(int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_LONGOPTS_COMMON,
	    CLI_LONGOPTS_DAEMON,
	    {"upper", no_argument, NULL, 'u'},
	    {"require-client-cert", no_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	struct cli_common o = {.cmd = "echo-server",
	    .usage = server_usage,
	    .timeout_ms = 60000,
	    .listen = "0.0.0.0:" FERRY_ECHO_PORT,
	    .max_conns = 64};
	struct ferry_tls_opts topts = {.role = FERRY_TLS_ECHO_SERVER};
	struct echo_cfg ecfg = {0};
	struct daemon_cfg dcfg = {.name = "echo-server",
	    .session = echo_session,
	    .busy = echo_busy,
	    .arg = &ecfg};
	int ch, code, r;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:i:vh", opts, NULL)) != -1) {
		if (ch == 'u')
			ecfg.upper = 1;
		else if (ch == 'r')
			topts.require_client_cert = 1;
		else if ((code = cli_common_opt(&o, ch, argv)) != 0)
			return code;
	}
	if (optind != argc)
		return cli_extra_arg("echo-server", argv[optind]);
	cli_log_daemon(o.verbose, o.log);
	if ((code = cli_tls("echo-server", o.identity, &topts, &dcfg.tls)) != 0)
		return code;
	dcfg.listen = o.listen;
	dcfg.timeout_ms = o.timeout_ms;
	dcfg.max_conns = o.max_conns;
	dcfg.admit = o.admit;
	r = daemon_run(&dcfg);
	ferry_tls_free(dcfg.tls);
	return r == 0 ? EXIT_OK : cli_fail(r, "echo-server");
}

/* 1 if got is what was sent, up to the server's --upper. */
static int
echoed(const char *sent, const char *got, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (toupper((unsigned char)sent[i]) !=
		    toupper((unsigned char)got[i]))
			return 0;
	return 1;
}

/*
 * The server answered something else than the echo: a notice such as
 * "ferry echo-server: busy (64 sessions); try again later". Reads the rest
 * of it (until the close, at most a line's worth) and shows it as one line.
 */
static int
echo_notice(struct ferry_conn *c, const char *got, size_t n)
{
	char text[256];
	size_t len = n < sizeof(text) - 1 ? n : sizeof(text) - 1, more;

	memcpy(text, got, len);
	while (len < sizeof(text) - 1 && memchr(text, '\n', len) == NULL &&
	       ferry_conn_read_raw(
	           c, text + len, sizeof(text) - 1 - len, &more) == 0 &&
	       more > 0)
		len += more;
	text[len] = '\0';
	text[strcspn(text, "\r\n")] = '\0';
	for (char *p = text; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	cli_error("echo: %s did not echo; it said: %s", ferry_conn_peer_addr(c),
	    text);
	return strstr(text, "busy") != NULL ? EXIT_REFUSED : EXIT_NET;
}

int
cmd_echo(int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_LONGOPTS_COMMON,
	    {NULL, 0, NULL, 0},
	};
	struct cli_common o = {
	    .cmd = "echo", .usage = client_usage, .timeout_ms = 30000};
	struct ferry_tls *tls = NULL;
	struct ferry_conn *c = NULL;
	struct ferry_addr a;
	char *line = NULL, reply[4096];
	size_t cap = 0;
	ssize_t n;
	int ch, code, r;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:i:h", opts, NULL)) != -1) {
		if ((code = cli_common_opt(&o, ch, argv)) != 0)
			return code;
	}
	if (argc - optind != 1)
		return cli_usage(client_usage);
	if ((r = ferry_addr_parse(argv[optind], 0, &a)) != 0)
		return cli_fail(r, "echo");
	if (!a.has_port) /* echo-server's default, not serve's */
		snprintf(a.port, sizeof(a.port), "%s", FERRY_ECHO_PORT);
	cli_log_setup(0, 0);
	client_catch_signals();
	if ((code = client_open("echo", o.identity, FERRY_TLS_ECHO_CLIENT, &a,
	         o.timeout_ms, &tls, &c)) != 0)
		return code;
	fprintf(stderr, "ferry: connected to %s: %s, %s, peer %s%s%s\n",
	    ferry_conn_peer_addr(c), ferry_conn_protocol(c),
	    ferry_conn_cipher(c), ferry_conn_peer_subject(c),
	    *ferry_conn_peer_id(c) ? ", member " : "", ferry_conn_peer_id(c));
	code = EXIT_OK;
	/* One line out, its echo back: the server answers line by line. */
	while ((n = getline(&line, &cap, stdin)) > 0) {
		int newline = line[n - 1] == '\n';
		size_t want = (size_t)n, got;

		if ((r = ferry_conn_write_raw(c, line, (size_t)n)) != 0) {
			code = cli_fail(r, "echo");
			break;
		}
		while (want > 0) {
			if ((r = ferry_conn_read_raw(c, reply,
			         want < sizeof(reply) ? want : sizeof(reply),
			         &got)) != 0) {
				code = cli_fail(r, "echo");
				goto out;
			}
			if (got == 0) {
				cli_error("echo: %s closed the connection",
				    ferry_conn_peer_addr(c));
				code = EXIT_NET;
				goto out;
			}
			if (!echoed(line + ((size_t)n - want), reply, got)) {
				code = echo_notice(c, reply, got);
				goto out;
			}
			fwrite(reply, 1, got, stdout);
			want -= got;
		}
		if (!newline)
			break;
		fflush(stdout);
	}
	if (code == EXIT_OK && (r = ferry_conn_close(c)) != 0)
		code = cli_fail(r, "echo");
out:
	fflush(stdout);
	free(line);
	ferry_conn_free(c);
	ferry_tls_free(tls);
	return code;
}
