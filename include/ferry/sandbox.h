/* sandbox.h - least privilege for the daemons: switching to an unprivileged
 * user, Landlock file confinement, and the seccomp allow-list of serve's child. */
#ifndef FERRY_SANDBOX_H
#define FERRY_SANDBOX_H

#include <stddef.h>

/* What a Landlock rule lets the process do beneath its path. */
enum ferry_fs_access {
	FERRY_FS_READ = 1, /* open files for reading, list directories */
	FERRY_FS_WRITE = 2, /* also create, write, rename, remove, truncate */
};

struct ferry_fs_rule {
	const char *path; /* a directory (or a file: read only) */
	enum ferry_fs_access access;
	/* Given with FERRY_FS_WRITE: said in the error when path is not writable. */
	const char *what;
};

/*
 * 0 if a daemon may go on: not root, or root with a user to switch to, or
 * root with allow_root. Otherwise FERRY_E_USAGE saying what to do. A user
 * given must exist and not be root, and when not root be the current one.
 */
int ferry_priv_check(const char *user, int allow_root);

/*
 * Switches to user: its supplementary groups, its group, its user ID (real,
 * effective and saved), then checks root cannot be regained and sets
 * no_new_privs. A no-op when already running as user. FERRY_E_* on failure.
 */
int ferry_priv_drop(const char *user);

/*
 * Restricts this process (and what it forks) to rules for file access,
 * with the Landlock ABI the kernel offers; rights that ABI lacks are left
 * out. When the kernel has no Landlock, or it is disabled, this says so
 * once in the log and returns 0: file access is then not confined.
 */
int ferry_landlock_apply(const struct ferry_fs_rule *rules, size_t n);

/*
 * The whole sequence a daemon runs once it listens and has its keys:
 * builds the Landlock rule set while it can still open every path,
 * switches to user (NULL: stays who it is), checks each FERRY_FS_WRITE
 * path is writable by that user (one line naming it and the fix), then
 * enforces the rule set.
 */
int ferry_sandbox_enter(
    const char *user, const struct ferry_fs_rule *rules, size_t n);

/* The Landlock ABI the kernel offers: 0 for none. */
int ferry_landlock_abi(void);

/*
 * serve's child past its handshake: a seccomp filter allowing only the
 * system calls a session makes (files beneath fds it holds, the TLS
 * socket, memory without PROT_EXEC, its sink thread, time, signals);
 * anything else kills the process. Also sets no_new_privs.
 */
int ferry_seccomp_apply_child(void);

#endif
