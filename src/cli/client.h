/* client.h - what send, get, ls and echo share: opening a verified
 * connection to a peer and turning Ctrl-C into a clean stop. */
#ifndef FERRY_CLI_CLIENT_H
#define FERRY_CLI_CLIENT_H

#include "ferry/conn.h"
#include "ferry/net.h"
#include "ferry/tls.h"

/* Catches SIGINT/SIGTERM so transfers stop cleanly (temp files removed). */
void client_catch_signals(void);
/* 1 once SIGINT/SIGTERM arrived. */
int client_interrupted(void);

/*
 * Loads the identity in idopt (or the default), connects to a, verifies it
 * and, for role FERRY_TLS_CLIENT, exchanges HELLO. Prints the one-line error
 * itself and returns the exit code; 0 on success.
 */
int client_open(const char *cmd, const char *idopt, enum ferry_tls_role role,
    const struct ferry_addr *a, int timeout_ms, struct ferry_tls **tls,
    struct ferry_conn **conn);

#include <stdio.h>

#include "ferry/config.h"
#include "ferry/xfer.h"

/*
 * A peer's address from the command line: "ALIAS:" (send; want_path 0)
 * or "ALIAS:PATH" (ls: want_path 1, the path may be empty; get: 2) where
 * ALIAS is a [peer] of $FERRY_HOME/config, else arg as ferry_addr_parse
 * reads it (a path required with 2). *cfg caches the configuration
 * (NULL at first; caller frees); *identity is the alias's identity dir or
 * left alone. Prints the one-line error and returns its exit code.
 */
int client_addr(const char *cmd, const char *arg, int want_path,
    struct ferry_config **cfg, struct ferry_addr *a, const char **identity);

/*
 * Refuses a batch in which two files would get the same name at the
 * destination (one would replace the other under --force, and a printed
 * checksum line would lie): one line, EXIT_USAGE; 0 when all differ.
 */
int client_unique_names(const char *cmd, const char **names, size_t n);

/*
 * Counts a batch's outcomes and prints them like sha256sum / one-line
 * errors; draws the progress line and the summary on a terminal.
 */
struct batch {
	const char *cmd;
	unsigned ok, failed; /* items: files, and with -r directories, links */
	unsigned files_ok, files_failed;
	int first_err;
	int quiet; /* -q: no progress, no summary */
	int json; /* --json: one object per file and a summary on stdout */
	const char *peer; /* the connected peer's ID, for --json; borrowed */
	unsigned total; /* files asked for */
	int total_unknown; /* get -r: a tree's size is known as it arrives */
	uint64_t limit; /* --limit-rate, bytes/s; 0 for none */
	uint64_t moved; /* bytes through progress, all files */
	double rate_t0; /* when the first of them moved */
	int tty; /* stderr is a terminal: progress and summary */
	uint64_t bytes; /* verified bytes */
	uint64_t sent; /* of them, bytes that crossed the network now */
	/* Already there; entries left out (links without --links, and what
	 * the walk of send -r could not send). Any skipped: exit 9. */
	unsigned uptodate, skipped;
	/* --json's summary: files in the batch (0: those with an outcome),
	 * and the directories and links that had one. */
	unsigned nfiles, dirs, links;
	double t0; /* when the batch started */
	/* The progress line: the file it shows (borrowed from the items). */
	const char *cur;
	uint64_t cur_done, cur_total, cur_from;
	double cur_start, last_draw, last_report;
	/* The file shown before cur (pipelined push: answered after it). */
	const char *prev;
	uint64_t prev_done;
	double prev_start;
	int drawn; /* a line for cur is on the terminal, unfinished */
	/* -r: one line for the whole batch: bytes moved, of all_total if known. */
	int overall;
	uint64_t all_done, all_total, all_gone; /* gone: had already */
};
/* Fills in b for command cmd: start time, whether stderr is a terminal. */
void client_batch_init(struct batch *b, const char *cmd, int quiet);
void client_progress(const struct ferry_xfer_progress *p, void *arg);
void client_report(const struct ferry_xfer_result *res, void *arg);
/*
 * The summary line (files, bytes, time, rate) on a terminal, unless -q;
 * with --json the summary object, with the exit code.
 */
void client_summary(struct batch *b, int code);

/*
 * s as a JSON string, quotes included: '"' and '\\' escaped, control
 * bytes as \u00XX, bytes that are not UTF-8 replaced by \ufffd.
 */
void json_str(FILE *f, const char *s);
/* The exit code for a batch; conn_err is what broke the connection, if anything. */
int client_batch_exit(struct batch *b, int conn_err, unsigned total);
#endif
