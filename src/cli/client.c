/* client.c - connecting to a peer for the client subcommands. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ferry/log.h"
#include "ferry/show.h"
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

/*
 * A bare host name on the command line that is also a peer of the
 * configuration file ("ls bob" for "ls bob:"): named in the error when the
 * name does not resolve.
 */
static char alias_hint[FERRY_MAX_ID + 1];

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
		if (r == FERRY_E_RESOLVE && alias_hint[0] != '\0' &&
		    strcmp(alias_hint, a->host) == 0) {
			cli_error("%s: %s; did you mean '%s:' (a peer in your "
			          "configuration)?",
			    cmd, ferry_err_detail(r), alias_hint);
			code = cli_exit_code(r);
		} else
			code = cli_fail(r, "%s", cmd);
		ferry_conn_free(*conn);
		ferry_tls_free(*tls);
		*conn = NULL;
		*tls = NULL;
		return code;
	}
	return 0;
}

int
client_addr(const char *cmd, const char *arg, int want_path,
    struct ferry_config **cfg, struct ferry_addr *a, const char **identity)
{
	const struct ferry_config_peer *p = NULL;
	size_t n = strcspn(arg, ":@[");
	char alias[FERRY_MAX_ID + 1];
	int r;

	/* Only "WORD:..." can be an alias; "ID@HOST" and "[v6]" are not. */
	if ((arg[n] == ':' || arg[n] == '\0') && n > 0 && n < sizeof(alias)) {
		if (*cfg == NULL) {
			char *dir = cli_identity_dir(NULL), *path = NULL;

			if (dir == NULL ||
			    asprintf(&path, "%s/config", dir) < 0) {
				free(dir);
				return cli_fail(FERRY_E_NOMEM, "%s", cmd);
			}
			r = ferry_config_load(path, cfg);
			free(dir);
			free(path);
			/* A bare host needs no configuration file. */
			if (r != 0 && arg[n] == '\0')
				ferry_err_clear();
			else if (r != 0)
				return cli_fail(r, "%s: configuration", cmd);
		}
		memcpy(alias, arg, n);
		alias[n] = '\0';
		p = *cfg != NULL ? ferry_config_peer(*cfg, alias) : NULL;
		if (arg[n] == '\0') {
			/* "bob": a host name, unless it does not resolve. */
			if (p != NULL)
				memcpy(alias_hint, alias, n + 1);
			p = NULL;
		}
	}
	if (p == NULL) {
		if ((r = ferry_addr_parse(arg, want_path, a)) != 0)
			return cli_fail(r, "%s", cmd);
		if (want_path == 2 && !a->has_path)
			return cli_fail(
			    ferry_errf(FERRY_E_USAGE,
			        "%s: expected [ID@]HOST:PORT:PATH or "
			        "PEER:PATH",
			        arg),
			    "%s", cmd);
		return 0;
	}
	if (!want_path && arg[n + 1] != '\0') {
		cli_error("%s: '%s': %s is a peer of the configuration file; "
		          "name it as '%s:'",
		    cmd, arg, alias, alias);
		return EXIT_USAGE;
	}
	if ((r = ferry_config_addr(p, want_path ? arg + n + 1 : NULL, a)) != 0)
		return cli_fail(r, "%s", cmd);
	if (p->identity != NULL)
		*identity = p->identity;
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

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
client_batch_init(struct batch *b, const char *cmd, int quiet)
{
	memset(b, 0, sizeof(*b));
	b->cmd = cmd;
	b->quiet = quiet;
	b->tty = isatty(STDERR_FILENO);
	b->t0 = now_s();
	b->cur_start = b->t0;
	b->last_report = b->t0;
}

/* "123 B", "1.5 KiB", "12.3 MiB" into buf. */
static void
human(double v, char buf[24])
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, 24, "%.0f B", v);
	else
		snprintf(buf, 24, "%.1f %s", v, unit[u]);
}

/* "0:07", "12:34", "1:02:03" into buf. */
static void
clock_time(double secs, char buf[24])
{
	unsigned long s = secs < 0 ? 0 : (unsigned long)(secs + 0.5);

	if (s >= 3600)
		snprintf(
		    buf, 24, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, 24, "%lu:%02lu", s / 60, s % 60);
}

/* Columns of the terminal on stderr; 80 if it does not say. */
static size_t
columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/*
 * Redraws the one progress line of cur: "\r" first, clear to EOL last, and
 * never wider than the terminal (a wrapped line cannot be redrawn by \r).
 */
static void
draw(struct batch *b, double now)
{
	char name[64], stats[128], done[24], total[24], rate[24], eta[24];
	double secs = now - b->cur_start, bps;
	size_t len = strlen(b->cur), cols = columns(), room, slen;
	const char *tail = b->cur;

	bps = secs > 0.001 ? (double)(b->cur_done - b->cur_from) / secs : 0;
	human((double)b->cur_done, done);
	human((double)b->cur_total, total);
	human(bps, rate);
	if (bps > 0)
		clock_time((double)(b->cur_total - b->cur_done) / bps, eta);
	else
		snprintf(eta, sizeof(eta), "-:--");
	snprintf(stats, sizeof(stats), "%s / %s  %3u%%  %s/s  ETA %s", done,
	    total,
	    b->cur_total > 0 ? (unsigned)(b->cur_done * 100 / b->cur_total)
	                     : 100u,
	    rate, eta);
	if (b->overall) {
		/* A tree: one line for all of it, like rsync --info=progress2. */
		secs = now - b->t0;
		bps = secs > 0.001 ? (double)b->all_done / secs : 0;
		human((double)b->all_done, done);
		human(bps, rate);
		if (b->all_total > 0) {
			/* Of the whole, what the other side already had is not to move. */
			uint64_t all = b->all_total > b->all_gone
			                   ? b->all_total - b->all_gone
			                   : b->all_done;
			uint64_t left =
			    all > b->all_done ? all - b->all_done : 0;

			if (all < b->all_done)
				all = b->all_done;
			human((double)all, total);
			if (bps > 0)
				clock_time((double)left / bps, eta);
			snprintf(stats, sizeof(stats),
			    "%u files  %s / %s  %3u%%  %s/s  ETA %s",
			    b->files_ok + b->files_failed, done, total,
			    all > 0 ? (unsigned)(b->all_done * 100 / all)
			            : 100u,
			    rate, eta);
		} else
			snprintf(stats, sizeof(stats), "%u files  %s  %s/s",
			    b->files_ok + b->files_failed, done, rate);
	}
	slen = strlen(stats);
	if (slen > cols - 1)
		stats[slen = cols - 1] = '\0';
	/* The name gets what is left; its tail tells files apart. */
	room = cols - 1 - slen;
	room = room > 2 ? room - 2 : 0;
	if (room > sizeof(name) - 1)
		room = sizeof(name) - 1;
	name[0] = '\0';
	if (room >= 8) {
		if (len > room) {
			tail = b->cur + len - (room - 3);
			/* Start on a character, not inside one. */
			while ((*tail & 0xc0) == 0x80)
				tail++;
			snprintf(name, sizeof(name), "...%s", tail);
		} else
			snprintf(name, sizeof(name), "%s", b->cur);
		ferry_sanitize(name);
	}
	fprintf(stderr, "\r%s%s%s\033[K", name, name[0] ? "  " : "", stats);
	fflush(stderr);
	b->drawn = 1;
	b->last_draw = now;
}

/* Ends cur's line: drawn complete with a newline, or wiped (failed). */
static void
finish_line(struct batch *b, int ok)
{
	if (!b->drawn)
		return;
	/*
	 * A tree's line is wiped, not completed: the checksum line goes
	 * above it, and the next frame draws it again below.
	 */
	if (ok && !b->overall)
		draw(b, now_s());
	fputs(ok && !b->overall ? "\n" : "\r\033[K", stderr);
	fflush(stderr);
	b->drawn = 0;
}

/*
 * --limit-rate: after moved bytes, the transfer may go on no sooner than
 * moved / limit seconds after the first frame (a bucket of one frame).
 * Sleeping here holds the sender's loop, or the receiver's reads.
 */
static void
pace(struct batch *b, uint64_t delta, double now)
{
	double until;
	struct timespec ts;

	if (b->moved == 0)
		b->rate_t0 = now;
	b->moved += delta;
	until = b->rate_t0 + (double)b->moved / (double)b->limit;
	while (!client_interrupted() && (now = now_s()) < until) {
		double d = until - now;

		ts.tv_sec = (time_t)d;
		ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
		/* A signal ends the nap; the loop looks at the flag. */
		(void)nanosleep(&ts, NULL);
	}
}

void
client_progress(const struct ferry_xfer_progress *p, void *arg)
{
	struct batch *b = arg;
	double now = now_s();
	uint64_t delta = p->done - b->cur_done;

	/*
	 * Another file, or this one again from the start (a resume the peer
	 * turned down is sent whole): done must never go backwards here, or
	 * delta would wrap and --limit-rate sleep for ever.
	 */
	if (b->cur == NULL || strcmp(b->cur, p->name) != 0 ||
	    p->done < b->cur_done) {
		/* Pipelined: this file's data left before the last one's answer. */
		finish_line(b, 1);
		b->prev = b->cur;
		b->prev_done = b->cur_done - b->cur_from;
		b->prev_start = b->cur_start;
		b->cur = p->name;
		b->cur_start = now;
		b->cur_from = p->from;
		/* A resumed file's first bytes did not travel now. */
		delta = p->done - p->from;
		if (b->all_total == 0)
			b->all_total = p->tree_total;
		b->all_gone += p->from;
	}
	b->cur_done = p->done;
	b->cur_total = p->total;
	b->all_done += delta;
	/* At most ~10 redraws a second. */
	if (b->tty && !b->quiet && !b->json && now - b->last_draw >= 0.1)
		draw(b, now);
	if (b->limit > 0)
		pace(b, delta, now);
}

void
client_summary(struct batch *b, int code)
{
	char bytes[24], rate[24];
	double secs = now_s() - b->t0;

	if (b->json) {
		/* Files are files: a tree's directories and links apart. */
		unsigned files =
		    b->nfiles > 0 ? b->nfiles : b->files_ok + b->files_failed;

		printf("{\"type\":\"summary\",\"command\":\"%s\",\"files\":%u,"
		       "\"dirs\":%u,\"links\":%u,"
		       "\"ok\":%u,\"uptodate\":%u,\"skipped\":%u,"
		       "\"failed\":%u,\"bytes\":%llu,\"bytes_sent\":%llu,"
		       "\"seconds\":%.3f,\"exit\":%d}\n",
		    b->cmd, files, b->dirs, b->links, b->ok, b->uptodate,
		    b->skipped, b->failed, (unsigned long long)b->bytes,
		    (unsigned long long)b->sent, secs, code);
		fflush(stdout);
		return;
	}
	if (!b->tty || b->quiet)
		return;
	human((double)b->sent, bytes);
	human(secs > 0.001 ? (double)b->sent / secs : 0, rate);
	fprintf(stderr, "ferry: %s: %u file%s, %s in %.1f s (%s/s)", b->cmd,
	    b->files_ok, b->files_ok == 1 ? "" : "s", bytes, secs, rate);
	if (b->uptodate > 0)
		fprintf(stderr, "; %u up to date", b->uptodate);
	if (b->failed > 0)
		fprintf(stderr, "; %u failed", b->failed);
	fputc('\n', stderr);
}

/* The bytes of res's file that crossed the network in this run. */
static uint64_t
moved_bytes(const struct batch *b, const struct ferry_xfer_result *res)
{
	if (res->r == 0)
		return res->sent;
	if (b->cur != NULL && strcmp(b->cur, res->name) == 0)
		return b->cur_done - b->cur_from;
	if (b->prev != NULL && strcmp(b->prev, res->name) == 0)
		return b->prev_done;
	return 0;
}

/* One file's outcome as a JSON object on a line of its own. */
static void
report_json(struct batch *b, const struct ferry_xfer_result *res)
{
	int cur = b->cur != NULL && strcmp(b->cur, res->name) == 0;
	int prev = !cur && b->prev != NULL && strcmp(b->prev, res->name) == 0;
	double now = now_s();
	/* From its first data to its outcome, as near as we know it. */
	double secs = now - (cur       ? b->cur_start
	                        : prev ? b->prev_start
	                               : b->last_report);
	uint64_t moved = moved_bytes(b, res);
	const char *type = res->kind == FERRY_KIND_DIR    ? "dir"
	                   : res->kind == FERRY_KIND_LINK ? "link"
	                                                  : "file";
	char hex[65];

	if (res->uptodate || res->skipped || res->kind != FERRY_KIND_FILE)
		secs = 0;
	printf("{\"type\":\"%s\",\"name\":", type);
	json_str(stdout, res->name);
	printf(",\"size\":%llu,\"sha256\":", (unsigned long long)res->size);
	if (res->r == 0 && res->kind == FERRY_KIND_FILE) {
		ferry_sha256_hex(res->sha256, hex);
		printf("\"%s\"", hex);
	} else
		fputs("null", stdout);
	fputs(",\"peer\":", stdout);
	json_str(stdout, b->peer != NULL ? b->peer : "");
	printf(",\"bytes_sent\":%llu,\"seconds\":%.3f,\"resumed_from\":%llu,"
	       "\"result\":",
	    (unsigned long long)moved, secs < 0 ? 0 : secs,
	    (unsigned long long)res->resumed_from);
	if (res->r == 0)
		fputs(res->uptodate  ? "\"uptodate\""
		      : res->skipped ? "\"skipped\""
		                     : "\"ok\"",
		    stdout);
	else {
		const char *e = ferry_errname(res->r);

		/* "NOENT" for FERRY_E_NOENT. */
		if (strncmp(e, "FERRY_E_", 8) == 0)
			e += 8;
		json_str(stdout, e);
		fputs(",\"detail\":", stdout);
		json_str(stdout, res->detail != NULL ? res->detail : "");
	}
	fputs("}\n", stdout);
	fflush(stdout);
}

/*
 * The checksum line of a received or sent file. Into a pipe or a file,
 * exactly sha256sum's line, escapes included, so that sha256sum -c agrees;
 * on a terminal, the name quoted as ls --quoting-style=shell-escape does,
 * so that no byte of it (a CSI, a bidi override) acts on the terminal.
 */
static void
print_sum(const char *hex, const char *name)
{
	char *q = NULL;

	if (isatty(STDOUT_FILENO)) {
		if (ferry_show_quote(name, &q) == 0)
			printf("%s  %s\n", hex, q);
		else
			printf("%s  (name not shown: out of memory)\n", hex);
		free(q);
		return;
	}
	if (strpbrk(name, "\\\n\r") == NULL) {
		printf("%s  %s\n", hex, name);
		return;
	}
	printf("\\%s  ", hex);
	for (const char *p = name; *p != '\0'; p++)
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

void
client_report(const struct ferry_xfer_result *res, void *arg)
{
	struct batch *b = arg;
	char hex[65];

	if (b->cur != NULL && strcmp(b->cur, res->name) == 0)
		finish_line(b, res->r == 0);
	else
		finish_line(b, 1); /* another file's line: keep it, end it */
	if (b->json)
		report_json(b, res);
	b->last_report = now_s();
	b->dirs += res->kind == FERRY_KIND_DIR;
	b->links += res->kind == FERRY_KIND_LINK;
	if (res->skipped) {
		cli_warn("%s: skipping symbolic link %s (use --links)", b->cmd,
		    res->name);
		b->skipped++;
		return;
	}
	if (res->r != 0) {
		cli_error("%s: %s", b->cmd, res->detail);
		if (b->first_err == 0)
			b->first_err = res->r;
		b->failed++;
		b->files_failed += res->kind == FERRY_KIND_FILE;
		/* What crossed the network in vain still crossed it. */
		b->sent += moved_bytes(b, res);
		return;
	}
	b->ok++;
	b->files_ok += res->kind == FERRY_KIND_FILE;
	b->bytes += res->size;
	b->sent += res->sent;
	b->uptodate += res->uptodate != 0;
	/* What the other side had already is not still to come. */
	if (res->uptodate)
		b->all_gone += res->size;
	/* Only files have a checksum line; directories and links are quiet. */
	if (b->json || res->kind != FERRY_KIND_FILE)
		return;
	ferry_sha256_hex(res->sha256, hex);
	print_sum(hex, res->name);
	fflush(stdout);
}

int
client_batch_exit(struct batch *b, int conn_err, unsigned total)
{
	finish_line(b, 0);
	if (client_interrupted()) {
		if (b->overall)
			cli_error("%s: interrupted; %u files done, nothing "
			          "half-written under a final name (run it "
			          "again to resume)",
			    b->cmd, b->files_ok);
		else
			cli_error("%s: interrupted; %u of %u done, nothing "
			          "half-written under a final name (run it "
			          "again to resume)",
			    b->cmd, b->ok, total);
		return EXIT_INTERRUPTED;
	}
	if (conn_err != 0 && !b->total_unknown &&
	    b->ok + b->failed + b->skipped == total) {
		/* Every file has its verified answer; only the goodbye failed. */
		cli_warn("%s: %s", b->cmd, ferry_err_detail(conn_err));
		conn_err = 0;
	}
	if (conn_err != 0) {
		int code = cli_fail(conn_err, "%s", b->cmd);

		/* One item: the line above said it all. */
		if (!b->total_unknown && total > 1 &&
		    b->ok + b->failed + b->skipped < total)
			cli_error("%s: %u of %u items not transferred", b->cmd,
			    total - b->ok - b->failed - b->skipped, total);
		return b->ok > 0 ? EXIT_PARTIAL : code;
	}
	/* Like rsync's 23: a tree with entries left out did not all arrive. */
	if (b->failed == 0)
		return b->skipped > 0 ? EXIT_PARTIAL : EXIT_OK;
	if (b->ok > 0)
		return EXIT_PARTIAL;
	return cli_exit_code(b->first_err);
}
