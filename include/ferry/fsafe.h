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

/* A file being received: written under a temporary name, renamed once verified. */
struct ferry_tmpfile {
	int dirfd; /* borrowed */
	int fd;
	char name[40];
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

#endif
