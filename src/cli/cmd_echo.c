/* cmd_echo.c - `ferry echo-server` and `ferry echo`: the TLS echo diagnostic. */
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
    "             [--require-client-cert] [--timeout SECS] [--max-conns N] "
    "[-v]";
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

int
cmd_echo_server(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"identity", required_argument, NULL, 'i'},
	    {"listen", required_argument, NULL, 'l'},
	    {"upper", no_argument, NULL, 'u'},
	    {"require-client-cert", no_argument, NULL, 'r'},
	    {"timeout", required_argument, NULL, 't'},
	    {"max-conns", required_argument, NULL, 'm'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ferry_tls_opts topts = {.role = FERRY_TLS_ECHO_SERVER};
	struct echo_cfg ecfg = {0};
	struct daemon_cfg dcfg = {.name = "echo-server",
	    .listen = "0.0.0.0:" FERRY_ECHO_PORT,
	    .timeout_ms = 60000,
	    .max_conns = 64,
	    .session = echo_session,
	    .arg = &ecfg};
	char *idopt = NULL, *dir;
	long v;
	int ch, verbose = 0, r;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:i:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			idopt = optarg;
			break;
		case 'l':
			dcfg.listen = optarg;
			break;
		case 'u':
			ecfg.upper = 1;
			break;
		case 'r':
			topts.require_client_cert = 1;
			break;
		case 't':
			if (cli_parse_int("--timeout", optarg, 1, 86400, &v) !=
			    0)
				return EXIT_USAGE;
			dcfg.timeout_ms = (int)v * 1000;
			break;
		case 'm':
			if (cli_parse_int(
			        "--max-conns", optarg, 1, 10000, &v) != 0)
				return EXIT_USAGE;
			dcfg.max_conns = (int)v;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			printf("usage: ferry %s\n", server_usage);
			return EXIT_OK;
		default:
			return cli_opt_error("echo-server", ch, argv);
		}
	}
	if (optind != argc) {
		cli_error(
		    "echo-server: unexpected argument '%s' (see 'ferry "
		    "echo-server --help')",
		    argv[optind]);
		return EXIT_USAGE;
	}
	cli_log_setup(verbose, 1);
	if ((dir = cli_identity_dir(idopt)) == NULL)
		return cli_fail(FERRY_E_NOMEM, "echo-server");
	topts.identity_dir = dir;
	r = ferry_tls_new(&topts, &dcfg.tls);
	free(dir);
	if (r != 0)
		return cli_fail(r, "echo-server: identity");
	r = daemon_run(&dcfg);
	ferry_tls_free(dcfg.tls);
	return r == 0 ? EXIT_OK : cli_fail(r, "echo-server");
}

int
cmd_echo(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"identity", required_argument, NULL, 'i'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ferry_tls *tls = NULL;
	struct ferry_conn *c = NULL;
	struct ferry_addr a;
	char *line = NULL, reply[4096];
	size_t cap = 0;
	ssize_t n;
	char *idopt = NULL;
	long v;
	int ch, timeout_ms = 30000, code, r;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:i:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			idopt = optarg;
			break;
		case 't':
			if (cli_parse_int("--timeout", optarg, 1, 86400, &v) !=
			    0)
				return EXIT_USAGE;
			timeout_ms = (int)v * 1000;
			break;
		case 'h':
			printf("usage: ferry %s\n", client_usage);
			return EXIT_OK;
		default:
			return cli_opt_error("echo", ch, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(client_usage);
	if ((r = ferry_addr_parse(argv[optind], 0, &a)) != 0)
		return cli_fail(r, "echo");
	if (!a.has_port) /* echo-server's default, not serve's */
		snprintf(a.port, sizeof(a.port), "%s", FERRY_ECHO_PORT);
	cli_log_setup(0, 0);
	client_catch_signals();
	if ((code = client_open("echo", idopt, FERRY_TLS_ECHO_CLIENT, &a,
	         timeout_ms, &tls, &c)) != 0)
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
