/* sandbox.c - least privilege: user switch, Landlock rules on file access, and
 * the seccomp allow-list of serve's per-connection child. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <pwd.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sandbox.h"

/* Newer than Debian 12's headers: ABI 3 and 5. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

int
ferry_priv_check(const char *user, int allow_root)
{
	struct passwd *pw;

	if (user != NULL) {
		/* Said now, before the daemon binds or loads anything. */
		if ((pw = getpwnam(user)) == NULL)
			return ferry_errf(
			    FERRY_E_USAGE, "--user %s: no such user", user);
		if (pw->pw_uid == 0)
			return ferry_errf(FERRY_E_USAGE,
			    "--user %s is root; give an unprivileged user, or "
			    "--allow-root instead",
			    user);
		if (geteuid() != 0 && geteuid() != pw->pw_uid)
			return ferry_errf(FERRY_E_USAGE,
			    "--user %s: only root can switch to another user",
			    user);
		return 0;
	}
	if (geteuid() != 0 || allow_root)
		return 0;
	return ferry_errf(FERRY_E_USAGE,
	    "refusing to run as root; use --user NAME (e.g. --user ferry) "
	    "or --allow-root");
}

/* After the switch: none of the IDs may be root, nor become it again. */
static int
priv_verify(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid)
		return ferry_errf(
		    FERRY_E_INTERNAL, "user switch: IDs not all changed");
	if (setuid(0) != -1 || seteuid(0) != -1)
		return ferry_errf(
		    FERRY_E_INTERNAL, "user switch: root could be regained");
	return 0;
}

int
ferry_priv_drop(const char *user)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	errno = 0;
	/* getpwnam(3): these errno values also mean "not found". */
	if ((pw = getpwnam(user)) == NULL)
		return errno != 0 && errno != ENOENT && errno != ESRCH &&
		               errno != EBADF && errno != EPERM
		           ? ferry_errf_errno(FERRY_E_USAGE, errno,
		                 "--user %s: cannot look it up", user)
		           : ferry_errf(FERRY_E_USAGE,
		                 "--user %s: no such user", user);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0)
		return ferry_errf(FERRY_E_USAGE,
		    "--user %s is root; give an unprivileged user, or "
		    "--allow-root instead",
		    user);
	if (getuid() != uid || geteuid() != uid) {
		if (geteuid() != 0)
			return ferry_errf(FERRY_E_ACCESS,
			    "--user %s: only root can switch to another user",
			    user);
		if (initgroups(pw->pw_name, gid) != 0 ||
		    setresgid(gid, gid, gid) != 0 ||
		    setresuid(uid, uid, uid) != 0)
			return ferry_errf_errno(FERRY_E_ACCESS, errno,
			    "--user %s: cannot switch to it", user);
	}
	if (priv_verify(uid, gid) != 0)
		return FERRY_E_INTERNAL;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return ferry_errf_errno(
		    FERRY_E_INTERNAL, errno, "no_new_privs");
	return 0;
}

int
ferry_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

/* Every file right the running ABI knows: all of them are handled. */
static uint64_t
ll_handled(int abi)
{
	uint64_t a = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */

	if (abi >= 2)
		a |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		a |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		a |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return a;
}

/* What a rule grants, within handled; a file takes file rights only. */
static uint64_t
ll_rights(enum ferry_fs_access acc, int is_dir, uint64_t handled)
{
	uint64_t r = LANDLOCK_ACCESS_FS_READ_FILE;

	if (is_dir)
		r |= LANDLOCK_ACCESS_FS_READ_DIR;
	if (acc & FERRY_FS_WRITE) {
		r |=
		    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
		if (is_dir)
			r |= LANDLOCK_ACCESS_FS_REMOVE_DIR |
			     LANDLOCK_ACCESS_FS_REMOVE_FILE |
			     LANDLOCK_ACCESS_FS_MAKE_DIR |
			     LANDLOCK_ACCESS_FS_MAKE_REG |
			     LANDLOCK_ACCESS_FS_MAKE_SYM |
			     LANDLOCK_ACCESS_FS_REFER;
	}
	return r & handled;
}

/* Said once per process: the kernel does not confine file access. */
static void
ll_unavailable(const char *why)
{
	static int said;

	if (said++ == 0)
		ferry_warn("landlock: not available (%s); file access is not "
		           "confined by the kernel",
		    why);
}

/*
 * A Landlock rule set for rules: its fd in *out, or -1 (said in the log)
 * when the kernel has no Landlock. A path that cannot be opened is an error.
 */
static int
ll_build(const struct ferry_fs_rule *rules, size_t n, int *out)
{
	struct landlock_ruleset_attr attr = {0};
	int abi, fd;

	*out = -1;
#ifdef FERRY_TEST_UNCONFINED_PATHS
	/* Test builds only: the control run, with no check at all. */
	if (getenv("FERRY_TEST_NO_LANDLOCK") != NULL) {
		ll_unavailable("turned off for a test");
		return 0;
	}
#endif
	if ((abi = ferry_landlock_abi()) <= 0) {
		ll_unavailable(errno == EOPNOTSUPP ? "disabled at boot"
		               : errno == ENOSYS   ? "kernel without it"
		                                   : strerror(errno));
		return 0;
	}
	attr.handled_access_fs = ll_handled(abi);
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0) {
		ll_unavailable(strerror(errno));
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct landlock_path_beneath_attr pb = {0};
		struct stat st;
		int e;

		pb.parent_fd = open(rules[i].path, O_PATH | O_CLOEXEC);
		if (pb.parent_fd < 0 || fstat(pb.parent_fd, &st) != 0) {
			e = errno;
			if (pb.parent_fd >= 0)
				close(pb.parent_fd);
			close(fd);
			return ferry_errf_errno(ferry_err_from_errno(e), e,
			    "landlock: %s", rules[i].path);
		}
		pb.allowed_access = ll_rights(rules[i].access,
		    S_ISDIR(st.st_mode), attr.handled_access_fs);
		e = (int)syscall(SYS_landlock_add_rule, fd,
		        LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0
		        ? errno
		        : 0;
		close(pb.parent_fd);
		if (e != 0) {
			close(fd);
			return ferry_errf_errno(FERRY_E_INTERNAL, e,
			    "landlock: rule for %s", rules[i].path);
		}
	}
	ferry_debug("landlock: ABI %d, %zu rules", abi, n);
	*out = fd;
	return 0;
}

static int
ll_enforce(int fd)
{
	int e;

	if (fd < 0)
		return 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_landlock_restrict_self, fd, 0) != 0) {
		e = errno;
		close(fd);
		return ferry_errf_errno(FERRY_E_INTERNAL, e, "landlock");
	}
	close(fd);
	return 0;
}

int
ferry_landlock_apply(const struct ferry_fs_rule *rules, size_t n)
{
	int fd, r;

	if ((r = ll_build(rules, n, &fd)) != 0)
		return r;
	return ll_enforce(fd);
}

/*
 * The first file or directory directly in dir (a FERRY_FS_WRITE rule's)
 * this process may not write, into bad; 0 if none.
 */
static int
first_unwritable(const char *dir, char *bad, size_t len)
{
	struct dirent *d;
	DIR *dp;
	int dfd, found = 0;

	if ((dp = opendir(dir)) == NULL)
		return 0; /* a file: access() said enough */
	dfd = dirfd(dp);
	while (!found && (d = readdir(dp)) != NULL)
		if ((d->d_type == DT_DIR || d->d_type == DT_REG) &&
		    strcmp(d->d_name, ".") != 0 &&
		    strcmp(d->d_name, "..") != 0 &&
		    faccessat(dfd, d->d_name, R_OK | W_OK, 0) != 0) {
			snprintf(bad, len, "%s/%s", dir, d->d_name);
			found = 1;
		}
	closedir(dp);
	return found;
}

/*
 * Each path readable now; each FERRY_FS_WRITE path, and what lies directly
 * in it (an inbox's member directories, a CA's index and CRL number),
 * writable too.
 */
static int
check_writable(const char *user, const struct ferry_fs_rule *rules, size_t n)
{
	char bad[4096];

	for (size_t i = 0; i < n; i++) {
		const char *p = rules[i].path;
		const char *what = rules[i].what ? rules[i].what : p;

		if ((rules[i].access & FERRY_FS_WRITE) == 0) {
			if (access(p, R_OK) == 0)
				continue;
			if (user != NULL)
				return ferry_errf(FERRY_E_ACCESS,
				    "%s %s: not readable by user %s", what, p,
				    user);
			return ferry_errf_errno(ferry_err_from_errno(errno),
			    errno, "%s %s: not readable", what, p);
		}
		if (access(p, R_OK | W_OK) == 0 &&
		    !first_unwritable(p, bad, sizeof(bad)))
			continue;
		if (access(p, R_OK | W_OK) == 0 && user != NULL)
			return ferry_errf(FERRY_E_ACCESS,
			    "%s %s: %s is not writable by user %s; fix with: "
			    "chown -R %s: %s",
			    what, p, bad, user, user, p);
		if (access(p, R_OK | W_OK) == 0)
			return ferry_errf(FERRY_E_ACCESS,
			    "%s %s: %s is not writable", what, p, bad);
		if (user != NULL)
			return ferry_errf(FERRY_E_ACCESS,
			    "%s %s: not writable by user %s; fix with: "
			    "chown -R %s: %s",
			    what, p, user, user, p);
		return ferry_errf_errno(ferry_err_from_errno(errno), errno,
		    "%s %s: not writable", what, p);
	}
	return 0;
}

int
ferry_sandbox_enter(
    const char *user, const struct ferry_fs_rule *rules, size_t n)
{
	int fd, r;

	/* Built first: the paths may be open to root only. */
	if ((r = ll_build(rules, n, &fd)) != 0)
		return r;
	if ((user != NULL && (r = ferry_priv_drop(user)) != 0) ||
	    (r = check_writable(user, rules, n)) != 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	if ((r = ll_enforce(fd)) != 0)
		return r;
	ferry_info("sandbox: running as uid %ld gid %ld; file access %s",
	    (long)getuid(), (long)getgid(),
	    fd >= 0 ? "confined by Landlock" : "not confined");
	return 0;
}

/* Allowed whatever their arguments. */
static const int sc_allow[] = {
    /* I/O on descriptors it holds: the TLS socket, files, the sink's pipe */
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(lseek),
    SCMP_SYS(close),
    SCMP_SYS(dup),
    SCMP_SYS(dup2),
    SCMP_SYS(dup3),
    SCMP_SYS(fcntl),
    SCMP_SYS(shutdown),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockopt),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(pipe2),
    /* files beneath the share and the inbox (Landlock bounds where) */
    SCMP_SYS(openat),
    SCMP_SYS(openat2),
    SCMP_SYS(open),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(statx),
    SCMP_SYS(stat),
    SCMP_SYS(lstat),
    SCMP_SYS(fstatfs),
    SCMP_SYS(statfs),
    SCMP_SYS(getdents64),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(access),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(sync_file_range),
    SCMP_SYS(renameat),
    SCMP_SYS(renameat2),
    SCMP_SYS(rename),
    SCMP_SYS(unlinkat),
    SCMP_SYS(unlink),
    SCMP_SYS(mkdirat),
    SCMP_SYS(mkdir),
    SCMP_SYS(linkat),
    SCMP_SYS(symlinkat),
    SCMP_SYS(readlinkat),
    SCMP_SYS(readlink),
    SCMP_SYS(fchmod),
    SCMP_SYS(fchmodat),
    SCMP_SYS(utimensat),
    SCMP_SYS(ftruncate),
    SCMP_SYS(fallocate),
    SCMP_SYS(flock),
    SCMP_SYS(fadvise64),
    SCMP_SYS(sendfile),
    SCMP_SYS(copy_file_range),
    /* memory (mmap and mprotect below: never executable) */
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(brk),
    SCMP_SYS(madvise),
    /* the sink's worker thread and its synchronisation */
    SCMP_SYS(futex),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(sched_yield),
    SCMP_SYS(gettid),
    SCMP_SYS(sched_getaffinity),
    /* time, signals, identity, randomness, the end */
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(time),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(kill),
    SCMP_SYS(tgkill),
    SCMP_SYS(getpid),
    SCMP_SYS(getppid),
    SCMP_SYS(getpgid),
    SCMP_SYS(getpgrp),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(getrandom),
    SCMP_SYS(umask),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
};

#ifdef FERRY_SECCOMP_TRAP
/* A development build: names the system call the list lacks, then dies. */
#include <signal.h>

static void
on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "seccomp: system call %d denied\n",
	    si->si_syscall);

	(void)sig;
	(void)ctx;
	(void)!write(2, line, (size_t)n);
	_exit(99);
}
#endif

/* The rules that look at arguments. */
static int
sc_arg_rules(scmp_filter_ctx f)
{
	int r = 0;

	/* Memory never both mapped and executable (W^X for the parser). */
	r |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	r |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* Threads only, never a new process; clone3 hides its flags. */
	r |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	r |= seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* Local sockets only (a log daemon), no network. */
	r |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0));
	r |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(connect), 0);
	/* A terminal test on stderr says "not one" instead of dying. */
	r |= seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 0);
	return r;
}

int
ferry_seccomp_apply_child(void)
{
	uint32_t deny = SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx f;
	int r = 0;

#ifdef FERRY_SECCOMP_TRAP
	struct sigaction sa = {
	    .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};

	sigaction(SIGSYS, &sa, NULL);
	deny = SCMP_ACT_TRAP;
#endif
	/* As OpenSSH: a kernel (or emulator) without it is said, not fatal. */
	if ((f = seccomp_init(deny)) == NULL) {
		ferry_warn("seccomp: not available (cannot start a filter); "
		           "this connection's system calls are not filtered");
		return 0;
	}
	/* Every thread, including any the TLS library started. */
	r |= seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1);
	r |= seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 1);
	for (size_t i = 0; i < sizeof(sc_allow) / sizeof(sc_allow[0]); i++)
		if (sc_allow[i] >= 0)
			r |=
			    seccomp_rule_add(f, SCMP_ACT_ALLOW, sc_allow[i], 0);
	r |= sc_arg_rules(f);
	if (r != 0) {
		seccomp_release(f);
		return ferry_errf(
		    FERRY_E_INTERNAL, "seccomp: cannot build the filter");
	}
	r = seccomp_load(f);
	seccomp_release(f);
	/* Refused by a filter already in force (a unit's SystemCallFilter=). */
	if (r == -ENOSYS || r == -EINVAL || r == -EPERM) {
		ferry_warn("seccomp: not available (%s); this connection's "
		           "system calls are not filtered",
		    strerror(-r));
		return 0;
	}
	if (r != 0)
		return ferry_errf_errno(
		    FERRY_E_INTERNAL, -r, "seccomp: cannot load the filter");
	ferry_debug("seccomp: %zu system calls allowed, mmap/mprotect without "
	            "PROT_EXEC, clone for threads only, sockets AF_UNIX only; "
	            "anything else kills the process",
	    sizeof(sc_allow) / sizeof(sc_allow[0]));
	return 0;
}
