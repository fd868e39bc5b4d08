/* xfer.h - the transfer engine: push, pull and list for clients, and the
 * server's session loop. Hashes while streaming; commits only verified files. */
#ifndef FERRY_XFER_H
#define FERRY_XFER_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/conn.h"
#include "ferry/err.h"
#include "ferry/wire.h"

/* The outcome of one file, handed to the caller's report function. */
struct ferry_xfer_result {
	const char *name; /* as the caller named it: borrowed for the call */
	uint8_t kind; /* FERRY_KIND_FILE, _DIR or _LINK */
	uint64_t size;
	uint8_t sha256[FERRY_SHA256_LEN]; /* valid when r == 0 (files) */
	uint64_t sent; /* bytes of the file that crossed the network now */
	uint64_t resumed_from; /* where this transfer started in the file */
	int uptodate; /* the other side already had it: nothing sent */
	int skipped; /* a link left out (no FERRY_PULL_LINKS) */
	int r; /* 0 or FERRY_E_* */
	const char *detail; /* one line when r != 0 */
};
typedef void ferry_xfer_report_fn(
    const struct ferry_xfer_result *res, void *arg);

/*
 * How far one file has got, handed to the caller's progress function at
 * most once per DATA frame sent or received (never for an empty file). The
 * caller may sleep in it to pace the transfer; it must not touch c.
 */
struct ferry_xfer_progress {
	const char *name; /* as report will name it: borrowed for the call */
	uint64_t done; /* bytes of this file sent or received so far */
	uint64_t total; /* the file's announced size */
	uint64_t from; /* where this transfer resumed (done starts there) */
	uint64_t tree_total; /* pull_tree: bytes of all the tree's files */
};
typedef void ferry_xfer_progress_fn(
    const struct ferry_xfer_progress *p, void *arg);

/* Client: sends HELLO and checks the server's. PROTOCOL.md 5.1. */
int ferry_xfer_hello(struct ferry_conn *c) FERRY_MUST_CHECK;

struct ferry_push_item {
	const char *path; /* local file to read */
	const char *name; /* on the server: one name, or with SYNC a path */
	uint8_t kind; /* 0 or FERRY_KIND_FILE; FERRY_KIND_DIR; _LINK */
	const char *target; /* FERRY_KIND_LINK: the link's target */
	uint32_t mode; /* FERRY_KIND_DIR: its mode and time */
	int64_t mtime;
	/*
	 * A file of a walked tree: rel non-NULL means the file is rel beneath
	 * dirfd, opened following no symbolic link at all (path is only for
	 * messages), and it must still be the inode (dev, ino) that the walk
	 * listed; anything else is reported as changed and not sent.
	 */
	int dirfd;
	const char *rel;
	uint64_t dev, ino;
};
/* Not sent: ferry_xfer_push's own flag, next to the PUT flags. */
#define FERRY_PUSH_NO_RESUME 0x80000000u
/*
 * Pushes items pipelined over c; directories and links need SYNC (their
 * parents first, as tree_scan gives them). With SYNC, files the server
 * already has are reported up to date, and a kept partial is resumed
 * (unless FERRY_PUSH_NO_RESUME). Each item's outcome goes to report (in
 * order), a file's progress to progress (may be NULL); both get arg.
 * Returns 0, or the error that broke the connection (items without an
 * outcome by then were not delivered).
 */
int ferry_xfer_push(struct ferry_conn *c, const struct ferry_push_item *items,
    size_t n, uint32_t put_flags, ferry_xfer_progress_fn *progress,
    ferry_xfer_report_fn *report, void *arg) FERRY_MUST_CHECK;

struct ferry_pull_item {
	const char *remote; /* path in the server's share */
	const char *local; /* path beneath dest_dirfd (no link followed) */
	const char *shown; /* what report calls it */
};
/* Pull flags. */
#define FERRY_PULL_REPLACE 0x1u /* replace existing local files */
#define FERRY_PULL_PRESERVE 0x2u /* FILE's mode & 0777 and mtime, no umask */
#define FERRY_PULL_NO_RESUME 0x4u /* start over; ignore kept partials */
#define FERRY_PULL_LINKS 0x8u /* pull_tree: make links (safe ones only) */
/*
 * Pulls items into dest_dirfd, pipelined; never replaces unless flags has
 * FERRY_PULL_REPLACE. progress (may be NULL) and report as for push.
 */
int ferry_xfer_pull(struct ferry_conn *c, const struct ferry_pull_item *items,
    size_t n, int dest_dirfd, unsigned flags, ferry_xfer_progress_fn *progress,
    ferry_xfer_report_fn *report, void *arg) FERRY_MUST_CHECK;

/*
 * Pulls the tree under remote (a file or directory of the share; with
 * SYNC) into dest_dirfd as local_root: directories, files, and with
 * FERRY_PULL_LINKS symbolic links whose targets stay beneath dest_dirfd.
 * Every path the server names is checked before anything is made
 * (PROTOCOL.md 5.16). Each item's outcome goes to report, named as
 * shown_root (what local_root is called for the user) and the path below.
 */
int ferry_xfer_pull_tree(struct ferry_conn *c, const char *remote,
    int dest_dirfd, const char *local_root, const char *shown_root,
    unsigned flags, ferry_xfer_progress_fn *progress,
    ferry_xfer_report_fn *report, void *arg) FERRY_MUST_CHECK;

struct ferry_dirent {
	uint8_t kind; /* FERRY_KIND_* */
	uint64_t size;
	uint32_t mode;
	int64_t mtime;
	const char *name; /* borrowed for the call; passed check_name */
};
typedef int ferry_list_fn(const struct ferry_dirent *e, void *arg);
/* Lists a directory of the server's share ("" for its top). */
int ferry_xfer_list(struct ferry_conn *c, const char *path, ferry_list_fn *each,
    void *arg) FERRY_MUST_CHECK;

/* Server side. */
struct ferry_access;
struct ferry_serve_cfg {
	int share_fd; /* borrowed directory fds */
	int inbox_fd;
	/* Who may connect, read, push; quotas. NULL: every member, no quota. */
	const struct ferry_access *access;
	const char *self_id; /* our member ID, for refusals ("bob") */
};
struct ferry_serve_stats {
	unsigned files_in, files_out, refused;
	uint64_t bytes_in, bytes_out;
};
/*
 * Runs one client's session until it closes: HELLO, then requests. Returns
 * 0 on a clean close, else the error that ended it (already answered with
 * an ERR frame where the protocol allows).
 */
int ferry_xfer_serve(struct ferry_conn *c, const struct ferry_serve_cfg *cfg,
    struct ferry_serve_stats *stats) FERRY_MUST_CHECK;

/* "<64 lowercase hex>" into out[65]. */
void ferry_sha256_hex(const uint8_t sha[FERRY_SHA256_LEN], char out[65]);

#endif
