/* client.c - connecting to a peer for the client subcommands. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/xfer.h"

#include "cli.h"
#include "client.h"

static volatile sig_atomic_t stop;

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

void
client_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	ferry_conn_set_interrupt(&stop);
}

int
client_interrupted(void)
{
	return stop != 0;
}

int
client_open(const char *cmd, const char *idopt, enum ferry_tls_role role,
    const struct ferry_addr *a, int timeout_ms, struct ferry_tls **tls,
    struct ferry_conn **conn)
{
	struct ferry_tls_opts opts = {.role = role};
	int code, r;

	*tls = NULL;
	*conn = NULL;
	if ((code = cli_tls(cmd, idopt, &opts, tls)) != 0)
		return code;
	if ((r = ferry_conn_connect(*tls, a, timeout_ms, conn)) != 0 ||
	    (role == FERRY_TLS_CLIENT && (r = ferry_xfer_hello(*conn)) != 0)) {
		code = cli_fail(r, "%s", cmd);
		ferry_conn_free(*conn);
		ferry_tls_free(*tls);
		*conn = NULL;
		*tls = NULL;
		return code;
	}
	return 0;
}

static int
by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
client_unique_names(const char *cmd, const char **names, size_t n)
{
	const char **sorted;
	int code = 0;

	if (n < 2)
		return 0;
	if ((sorted = malloc(n * sizeof(*sorted))) == NULL)
		return cli_fail(FERRY_E_NOMEM, "%s", cmd);
	memcpy(sorted, names, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), by_string);
	for (size_t i = 1; i < n && code == 0; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0) {
			cli_error("%s: two of the files would both be named "
			          "'%s' at the destination; transfer them "
			          "separately",
			    cmd, sorted[i]);
			code = EXIT_USAGE;
		}
	free(sorted);
	return code;
}

void
client_report(const struct ferry_xfer_result *res, void *arg)
{
	struct batch *b = arg;
	char hex[65];

	if (res->r != 0) {
		cli_error("%s: %s", b->cmd, res->detail);
		if (b->first_err == 0)
			b->first_err = res->r;
		b->failed++;
		return;
	}
	ferry_sha256_hex(res->sha256, hex);
	/* Exactly sha256sum's line, escapes included, so sha256sum -c agrees. */
	if (strpbrk(res->name, "\\\n\r") == NULL) {
		printf("%s  %s\n", hex, res->name);
	} else {
		printf("\\%s  ", hex);
		for (const char *p = res->name; *p != '\0'; p++)
			if (*p == '\\')
				fputs("\\\\", stdout);
			else if (*p == '\n')
				fputs("\\n", stdout);
			else if (*p == '\r')
				fputs("\\r", stdout);
			else
				putchar(*p);
		putchar('\n');
	}
	fflush(stdout);
	b->ok++;
}

int
client_batch_exit(struct batch *b, int conn_err, unsigned total)
{
	if (client_interrupted()) {
		cli_error("%s: interrupted; %u of %u files done, nothing "
		          "half-written left behind",
		    b->cmd, b->ok, total);
		return EXIT_INTERRUPTED;
	}
	if (conn_err != 0 && b->ok + b->failed == total) {
		/* Every file has its verified answer; only the goodbye failed. */
		cli_warn("%s: %s", b->cmd, ferry_err_detail(conn_err));
		conn_err = 0;
	}
	if (conn_err != 0) {
		int code = cli_fail(conn_err, "%s", b->cmd);

		if (b->ok + b->failed < total)
			cli_error("%s: %u of %u files not transferred", b->cmd,
			    total - b->ok - b->failed, total);
		return b->ok > 0 ? EXIT_PARTIAL : code;
	}
	if (b->failed == 0)
		return EXIT_OK;
	if (b->ok > 0)
		return EXIT_PARTIAL;
	return cli_exit_code(b->first_err);
}
