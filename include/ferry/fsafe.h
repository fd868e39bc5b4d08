/* fsafe.h - file names and paths from the network, confined beneath a directory.
 * Name rules, openat2(RESOLVE_BENEATH) opens, and temp files that only a verified commit renames. */
#ifndef FERRY_FSAFE_H
#define FERRY_FSAFE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ferry/err.h"

/*
 * One path component (PROTOCOL.md 4.1): 1..FERRY_MAX_NAME bytes, no '/', no
 * NUL, no control characters (so no newline), not "." or "..".
 * FERRY_E_BADNAME with a detail saying which rule failed.
 */
int ferry_fsafe_check_name(const char *name, size_t len) FERRY_MUST_CHECK;
/*
 * A relative path (PROTOCOL.md 4.1): components that each pass check_name,
 * joined by single '/', at most FERRY_MAX_PATH bytes; no leading '/'.
 * The empty path means the directory itself.
 */
int ferry_fsafe_check_path(const char *path, size_t len) FERRY_MUST_CHECK;

/*
 * 1 if name is one a receiver uses for its own temporary and partial files
 * (".ferry-*.part", PROTOCOL.md 7.3, 7.4): no peer may send it.
 */
int ferry_fsafe_reserved(const char *name, size_t len);

/*
 * Opens path beneath dirfd: never above it (no "..", no absolute path, no
 * symlink leading out). Uses openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
 * where the kernel lacks it, walks components refusing every symlink.
 * flags are open(2) flags; O_CLOEXEC and O_NOCTTY are added. path "" opens
 * dirfd's directory itself.
 */
int ferry_fsafe_open(
    int dirfd, const char *path, int flags, int *fd) FERRY_MUST_CHECK;
/* Opens the subdirectory name of dirfd, creating it 0700 if missing. */
int ferry_fsafe_subdir(int dirfd, const char *name, int *fd) FERRY_MUST_CHECK;

/*
 * Opens the directory that holds path's last component, beneath rootfd,
 * following no symbolic link at all (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS, or a component walk with O_NOFOLLOW). path must pass
 * check_path and not be empty; *leaf points into path at its last
 * component. FERRY_E_BADNAME when a link is on the way, FERRY_E_NOENT or
 * FERRY_E_NOTDIR for a missing or non-directory parent.
 */
int ferry_fsafe_parent(int rootfd, const char *path, int *dirfd,
    const char **leaf) FERRY_MUST_CHECK;
/*
 * Creates directory path beneath rootfd (parent must exist; no link
 * followed), or accepts one that is there: *created says which.
 * FERRY_E_EXIST when path is something else, symbolic link included.
 * mode is masked with 0777 and always keeps 0700.
 */
int ferry_fsafe_mkdir(
    int rootfd, const char *path, mode_t mode, int *created) FERRY_MUST_CHECK;
/*
 * A symbolic link target that cannot lead above the root when the link at
 * path (relative to that root) is followed: relative, not empty, at most
 * FERRY_MAX_LINK bytes, components that are names or "..", single '/', and
 * never more ".." than the directories above the link (PROTOCOL.md 5.14).
 */
int ferry_fsafe_check_link(
    const char *path, const char *target, size_t len) FERRY_MUST_CHECK;

/* A file being received: written under a temporary name, renamed once verified. */
struct ferry_tmpfile {
	int dirfd; /* borrowed */
	int fd;
	char name[48];
	int resumable; /* a kept partial (PROTOCOL.md 7.4), flock held */
	pid_t taken_from; /* ferry_partial_claim: the idle holder it ended */
	/* ferry_partial_open: why a partial found there was not adopted. */
	char note[192];
};

/* Creates a new temporary file (0600) in dirfd. */
int ferry_tmpfile_open(int dirfd, struct ferry_tmpfile *t) FERRY_MUST_CHECK;
/*
 * Sets the mode (masked to 0777), fsyncs, renames to final (never replacing
 * an existing name unless replace), then fsyncs the directory (best effort:
 * the file is in place by then). FERRY_E_EXIST if final exists and !replace.
 * On failure the temp file is still there.
 */
int ferry_tmpfile_commit(struct ferry_tmpfile *t, const char *final,
    mode_t mode, int replace) FERRY_MUST_CHECK;
/* Removes the temporary file, if any. Safe to call twice. */
void ferry_tmpfile_discard(struct ferry_tmpfile *t);

/*
 * The partial file kept for final in dirfd (PROTOCOL.md 7.4):
 * ".ferry-resume-<16 hex of SHA-256(final)>.part". Opens it read-write
 * (O_NOFOLLOW), creating it (O_EXCL, exactly 0600) if missing, and takes an
 * exclusive non-blocking flock; t->resumable is then 1 and *have its size.
 * An existing one is adopted only if it is a regular file with one link,
 * owned by our effective uid, mode 0600; any other is never opened for
 * writing: its name is unlinked and made afresh (*have 0), or where that is
 * not allowed a temporary file is used, and t->note says why in one line
 * (empty otherwise). If another process holds the lock, falls back to
 * ferry_tmpfile_open (t->resumable 0, *have 0). ferry_tmpfile_commit and
 * _discard work on it as on any temp file.
 */
int ferry_partial_open(int dirfd, const char *final, struct ferry_tmpfile *t,
    uint64_t *have) FERRY_MUST_CHECK;
/*
 * ferry_partial_open for a server whose connections are processes of one
 * process group: when another holds the lock and has written nothing to
 * the partial for idle_ms, that process is sent SIGTERM (it keeps what it
 * received and lets go) and the partial is taken over, within idle_ms + 2 s
 * at most; t->taken_from is then its pid. A holder still writing, or not of
 * our process group, is left alone (an ordinary temporary file, as above).
 */
int ferry_partial_claim(int dirfd, const char *final, int idle_ms,
    struct ferry_tmpfile *t, uint64_t *have) FERRY_MUST_CHECK;
/*
 * Removes the partial kept for final, if there is one and nobody holds its
 * lock: a finished file superseded it.
 */
void ferry_partial_remove(int dirfd, const char *final);
/*
 * Opens the partial kept for final read-only without creating it (no lock):
 * FERRY_E_NOENT when there is none, FERRY_E_NOTREG when the one there would
 * not be adopted (the rule of ferry_partial_open). For answering PROBE.
 */
int ferry_partial_peek(int dirfd, const char *final, int *fd) FERRY_MUST_CHECK;
/*
 * Leaves t's file in place for a later resume when it is a resumable partial
 * of at least FERRY_RESUME_MIN bytes announced (size), else discards it.
 */
void ferry_tmpfile_keep(struct ferry_tmpfile *t, uint64_t size);

#endif
