/* cmd_serve.c - `ferry serve`: the peer daemon's command line. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/log.h"
#include "ferry/xfer.h"

#include "cli.h"
#include "daemon.h"

static const char usage[] =
    "serve [-i IDDIR] [--listen HOST:PORT] [--share DIR] [--inbox DIR]\n"
    "             [--timeout SECS] [--max-conns N] [-v]";

/* mkdir -p with 0700 for what it creates. */
static int
make_dirs(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return ferry_errf(FERRY_E_USAGE, "bad directory name");
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return ferry_errf_errno(
			    ferry_err_from_errno(errno), errno, "%s", tmp);
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return ferry_errf_errno(
		    ferry_err_from_errno(errno), errno, "%s", tmp);
	return 0;
}

static int
open_dir(const char *what, const char *path, int *fd)
{
	int r;

	if ((r = make_dirs(path)) != 0)
		return cli_fail(r, "serve: %s", what);
	if ((*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return cli_fail(ferry_errf_errno(ferry_err_from_errno(errno),
		                    errno, "%s", path),
		    "serve: %s", what);
	return 0;
}

static int
session(struct ferry_conn *c, void *arg, char *summary, size_t len)
{
	struct ferry_serve_stats st = {0};
	int r = ferry_xfer_serve(c, arg, &st);

	snprintf(summary, len,
	    "%u file%s received (%llu bytes), %u sent (%llu bytes), "
	    "%u refused",
	    st.files_in, st.files_in == 1 ? "" : "s",
	    (unsigned long long)st.bytes_in, st.files_out,
	    (unsigned long long)st.bytes_out, st.refused);
	return r;
}

int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_LONGOPTS_COMMON,
	    CLI_LONGOPTS_DAEMON,
	    {"share", required_argument, NULL, 's'},
	    {"inbox", required_argument, NULL, 'b'},
	    {NULL, 0, NULL, 0},
	};
	struct cli_common o = {.cmd = "serve",
	    .usage = usage,
	    .timeout_ms = 60000,
	    .listen = "0.0.0.0:" FERRY_DEFAULT_PORT,
	    .max_conns = 64};
	struct ferry_tls_opts topts = {.role = FERRY_TLS_SERVER};
	struct ferry_serve_cfg scfg = {.share_fd = -1, .inbox_fd = -1};
	struct daemon_cfg dcfg = {
	    .name = "serve", .session = session, .arg = &scfg};
	char *share = NULL, *inbox = NULL;
	int ch, code = EXIT_FAIL, r;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:i:vh", opts, NULL)) != -1) {
		if (ch == 's')
			share = optarg;
		else if (ch == 'b')
			inbox = optarg;
		else if ((code = cli_common_opt(&o, ch, argv)) != 0)
			return code;
	}
	if (optind != argc)
		return cli_extra_arg("serve", argv[optind]);
	cli_log_setup(o.verbose, 1);
	share = share != NULL ? strdup(share) : cli_data_dir("share");
	inbox = inbox != NULL ? strdup(inbox) : cli_data_dir("inbox");
	code = EXIT_FAIL;
	if (share == NULL || inbox == NULL)
		goto out;
	if ((code = open_dir("--share", share, &scfg.share_fd)) != 0 ||
	    (code = open_dir("--inbox", inbox, &scfg.inbox_fd)) != 0 ||
	    (code = cli_tls("serve", o.identity, &topts, &dcfg.tls)) != 0)
		goto out;
	ferry_info("serve: member '%s', sharing %s, receiving into %s",
	    ferry_tls_self_id(dcfg.tls), share, inbox);
	dcfg.listen = o.listen;
	dcfg.timeout_ms = o.timeout_ms;
	dcfg.max_conns = o.max_conns;
	if ((r = daemon_run(&dcfg)) != 0) {
		code = cli_fail(r, "serve");
		goto out;
	}
	code = EXIT_OK;
out:
	ferry_tls_free(dcfg.tls);
	if (scfg.share_fd >= 0)
		close(scfg.share_fd);
	if (scfg.inbox_fd >= 0)
		close(scfg.inbox_fd);
	free(share);
	free(inbox);
	return code;
}
