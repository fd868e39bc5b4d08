/* fsafe.c - confinement of network-supplied names beneath a directory. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "ferry/fsafe.h"
#include "ferry/limits.h"
#include "ferry/wire.h"

int
ferry_fsafe_check_name(const char *name, size_t len)
{
	if (len == 0)
		return ferry_errf(FERRY_E_BADNAME, "empty file name");
	if (len > FERRY_MAX_NAME)
		return ferry_errf(FERRY_E_BADNAME,
		    "file name of %zu bytes is longer than %d", len,
		    FERRY_MAX_NAME);
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return ferry_errf(FERRY_E_BADNAME, "file name '%.*s' refused",
		    (int)len, name);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		/* PROTOCOL.md 4.1: the receiver MUST reject these bytes. */
		if (c == '/')
			return ferry_errf(
			    FERRY_E_BADNAME, "file name contains '/'");
		if (c < 0x20 || c == 0x7f)
			return ferry_errf(FERRY_E_BADNAME,
			    "file name contains control character 0x%02x", c);
	}
	return 0;
}

int
ferry_fsafe_reserved(const char *name, size_t len)
{
	return len > 12 && memcmp(name, ".ferry-", 7) == 0 &&
	       memcmp(name + len - 5, ".part", 5) == 0;
}

int
ferry_fsafe_check_path(const char *path, size_t len)
{
	size_t start = 0;
	int r;

	if (len > FERRY_MAX_PATH)
		return ferry_errf(FERRY_E_BADNAME,
		    "path of %zu bytes is longer than %d", len, FERRY_MAX_PATH);
	if (len == 0)
		return 0;
	if (path[0] == '/')
		return ferry_errf(FERRY_E_BADNAME,
		    "absolute path refused; paths are relative to the share");
	for (size_t i = 0; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		if ((r = ferry_fsafe_check_name(path + start, i - start)) != 0)
			return r;
		start = i + 1;
	}
	return 0;
}

/* Cleared once the kernel said ENOSYS: then every open takes the walk. */
static int have_openat2 = 1;

static int
open_openat2(
    int dirfd, const char *path, int flags, unsigned long long resolve, int *fd)
{
	struct open_how how;
	long r;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)flags;
	if ((flags & O_CREAT) != 0)
		how.mode = 0600;
#ifdef FERRY_TEST_UNCONFINED_PATHS
	/* Test builds only (CMake option): the kernel's Landlock must refuse. */
	resolve = 0;
#endif
	how.resolve = resolve;
	r = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (r < 0)
		return -errno;
	*fd = (int)r;
	return 0;
}

/*
 * -errno of a failed O_NOFOLLOW open of comp in dirfd, ELOOP whenever comp
 * is a symbolic link: with O_DIRECTORY the kernel says ENOTDIR for one.
 */
static int
walk_errno(int dirfd, const char *comp)
{
	int e = errno;
	struct stat st;

	if ((e == ENOTDIR || e == ELOOP) &&
	    fstatat(dirfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return -ELOOP;
	return -e;
}

/* Fallback without openat2: component by component, refusing every symlink. */
static int
open_walk(int dirfd, const char *path, int flags, int *fd)
{
	char comp[FERRY_MAX_NAME + 1];
	const char *p = path, *slash;
	int cur = dirfd, next, e;

	for (;;) {
		size_t n;

		slash = strchr(p, '/');
		n = slash == NULL ? strlen(p) : (size_t)(slash - p);
		if (n > FERRY_MAX_NAME) {
			e = -ENAMETOOLONG;
			break;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (slash == NULL) {
			next = openat(cur, comp, flags | O_NOFOLLOW, 0600);
			e = next < 0 ? walk_errno(cur, comp) : 0;
			if (e == 0)
				*fd = next;
			break;
		}
		next = openat(
		    cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			e = walk_errno(cur, comp);
			break;
		}
		if (cur != dirfd)
			close(cur);
		cur = next;
		p = slash + 1;
	}
	if (cur != dirfd)
		close(cur);
	return e;
}

int
ferry_fsafe_open(int dirfd, const char *path, int flags, int *fd)
{
	int e;

	flags |= O_CLOEXEC | O_NOCTTY;
	if (path[0] == '\0')
		path = ".";
	if ((e = ferry_fsafe_check_path(path, strlen(path))) != 0 &&
	    strcmp(path, ".") != 0)
		return e;
	e = -ENOSYS;
	if (have_openat2 &&
	    (e = open_openat2(dirfd, path, flags,
	         RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, fd)) == -ENOSYS)
		have_openat2 = 0;
	if (e == -ENOSYS || e == -EPERM) /* no openat2, or a seccomp filter */
		e = strcmp(path, ".") == 0
		        ? ((*fd = openat(dirfd, ".", flags)) < 0 ? -errno : 0)
		        : open_walk(dirfd, path, flags, fd);
	if (e == 0)
		return 0;
	if (e == -EXDEV)
		return ferry_errf(FERRY_E_BADNAME,
		    "%s: leads outside the shared directory", path);
	if (e == -ELOOP)
		return ferry_errf(FERRY_E_BADNAME,
		    "%s: a symbolic link that is not followed here", path);
	return ferry_errf_errno(ferry_err_from_errno(-e), -e, "%s", path);
}

int
ferry_fsafe_subdir(int dirfd, const char *name, int *fd)
{
	int r;

	if ((r = ferry_fsafe_check_name(name, strlen(name))) != 0)
		return r;
	if (mkdirat(dirfd, name, 0700) != 0 && errno != EEXIST)
		return ferry_errf_errno(ferry_err_from_errno(errno), errno,
		    "cannot create directory %s", name);
	return ferry_fsafe_open(
	    dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, fd);
}

int
ferry_fsafe_parent(int rootfd, const char *path, int *dirfd, const char **leaf)
{
	char dir[FERRY_MAX_PATH + 1];
	const char *slash;
	size_t len = strlen(path);
	int e, fd = -1;

	if (len == 0)
		return ferry_errf(FERRY_E_BADNAME, "empty path");
	if ((e = ferry_fsafe_check_path(path, len)) != 0)
		return e;
	if ((slash = strrchr(path, '/')) == NULL) {
		/* One component: its directory is the root itself. */
		if ((fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0)) < 0)
			return ferry_errf_errno(
			    ferry_err_from_errno(errno), errno, "%s", path);
		*dirfd = fd;
		*leaf = path;
		return 0;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	e = -ENOSYS;
	if (have_openat2 &&
	    (e = open_openat2(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
	         RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	         &fd)) == -ENOSYS)
		have_openat2 = 0;
	if (e == -ENOSYS || e == -EPERM) /* no openat2, or a seccomp filter */
		e = open_walk(
		    rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, &fd);
	if (e == 0) {
		*dirfd = fd;
		*leaf = slash + 1;
		return 0;
	}
	if (e == -ELOOP || e == -EXDEV)
		return ferry_errf(
		    FERRY_E_BADNAME, "%s: symbolic link on the way", path);
	if (e == -ENOENT)
		return ferry_errf(FERRY_E_NOENT,
		    "%s: parent directory %s does not exist", path, dir);
	if (e == -ENOTDIR)
		return ferry_errf(
		    FERRY_E_NOTDIR, "%s: %s is not a directory", path, dir);
	return ferry_errf_errno(ferry_err_from_errno(-e), -e, "%s", dir);
}

int
ferry_fsafe_mkdir(int rootfd, const char *path, mode_t mode, int *created)
{
	const char *leaf;
	struct stat st;
	int dfd, e, r;

	*created = 0;
	if ((r = ferry_fsafe_parent(rootfd, path, &dfd, &leaf)) != 0)
		return r;
	if (mkdirat(dfd, leaf, (mode & 0777) | 0700) == 0) {
		close(dfd);
		*created = 1;
		return 0;
	}
	e = errno;
	if (e == EEXIST && fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		close(dfd);
		if (S_ISDIR(st.st_mode))
			return 0;
		return ferry_errf(FERRY_E_EXIST, "%s exists and is %s", path,
		    S_ISLNK(st.st_mode) ? "a symbolic link"
		                        : "not a directory");
	}
	close(dfd);
	return ferry_errf_errno(
	    ferry_err_from_errno(e), e, "cannot create directory %s", path);
}

int
ferry_fsafe_check_link(const char *path, const char *target, size_t len)
{
	size_t plen = strlen(path), start = 0;
	unsigned long depth = 0;
	int named = 0, r;

	if (plen == 0)
		return ferry_errf(FERRY_E_BADNAME, "empty link path");
	if ((r = ferry_fsafe_check_path(path, plen)) != 0)
		return r;
	/* The link lives in dirname(path): one level per '/'. */
	for (size_t i = 0; i < plen; i++)
		depth += path[i] == '/';
	if (len == 0)
		return ferry_errf(
		    FERRY_E_BADNAME, "%s: empty symbolic link target", path);
	if (len > FERRY_MAX_LINK)
		return ferry_errf(FERRY_E_BADNAME,
		    "%s: link target of %zu bytes is longer than %d", path, len,
		    FERRY_MAX_LINK);
	if (target[0] == '/')
		return ferry_errf(
		    FERRY_E_BADNAME, "%s: absolute link target refused", path);
	for (size_t i = 0; i <= len; i++) {
		const char *c = target + start;
		size_t n = i - start;

		if (i < len && target[i] != '/')
			continue;
		start = i + 1;
		if (n == 0)
			return ferry_errf(FERRY_E_BADNAME,
			    "%s: link target with an empty component", path);
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			/*
			 * Only leading "..": after a name, which may itself be
			 * a link to anywhere beneath the root (the root
			 * included), ".." would climb from there.
			 */
			if (named)
				return ferry_errf(FERRY_E_BADNAME,
				    "%s: link target with '..' after a name",
				    path);
			if (depth == 0)
				return ferry_errf(FERRY_E_BADNAME,
				    "%s: link target leads above the "
				    "directory",
				    path);
			depth--;
			continue;
		}
		if ((r = ferry_fsafe_check_name(c, n)) != 0)
			return ferry_errf(r, "%s: link target: %s", path,
			    ferry_err_detail(r));
		named = 1;
		depth++;
	}
	return 0;
}

int
ferry_tmpfile_open(int dirfd, struct ferry_tmpfile *t)
{
	unsigned char rnd[8];

	t->dirfd = dirfd;
	t->fd = -1;
	t->name[0] = '\0';
	t->resumable = 0;
	for (int tries = 0; tries < 8; tries++) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return FERRY_E_CRYPTO;
		snprintf(t->name, sizeof(t->name),
		    ".ferry-%02x%02x%02x%02x%02x%02x%02x%02x.part", rnd[0],
		    rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
		t->fd = openat(dirfd, t->name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (t->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	t->name[0] = '\0';
	return ferry_errf_errno(ferry_err_from_errno(errno), errno,
	    "cannot create a temporary file");
}

int
ferry_tmpfile_commit(
    struct ferry_tmpfile *t, const char *final, mode_t mode, int replace)
{
	int e;

	if (fchmod(t->fd, mode & 0777) != 0 || fsync(t->fd) != 0)
		return ferry_errf_errno(
		    ferry_err_from_errno(errno), errno, "%s", final);
	if (replace)
		e = renameat(t->dirfd, t->name, t->dirfd, final);
	else if ((e = renameat2(t->dirfd, t->name, t->dirfd, final,
	              RENAME_NOREPLACE)) != 0 &&
	         errno == EINVAL) {
		/* No RENAME_NOREPLACE here: link(2) never replaces either. */
		if ((e = linkat(t->dirfd, t->name, t->dirfd, final, 0)) == 0)
			(void)unlinkat(t->dirfd, t->name, 0);
	}
	if (e != 0) {
		e = errno;
		if (e == EEXIST)
			return ferry_errf(FERRY_E_EXIST,
			    "%s already exists (use --force to replace it)",
			    final);
		return ferry_errf_errno(
		    ferry_err_from_errno(e), e, "%s", final);
	}
	t->name[0] = '\0';
	close(t->fd);
	t->fd = -1;
	/*
	 * The rename is durable once the directory is. The file is in place
	 * and verified either way, so a failure here is not the transfer's.
	 */
	(void)fsync(t->dirfd);
	return 0;
}

void
ferry_tmpfile_discard(struct ferry_tmpfile *t)
{
	/* Unlinked before the close: the lock of a partial goes last. */
	if (t->name[0] != '\0') {
		unlinkat(t->dirfd, t->name, 0);
		t->name[0] = '\0';
	}
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	t->resumable = 0;
}

/* ".ferry-resume-<16 hex of SHA-256(final)>.part" (PROTOCOL.md 7.4). */
static void
partial_name(const char *final, char name[48])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	char digits[17];

	SHA256((const unsigned char *) final, strlen(final), md);
	for (int i = 0; i < 8; i++) {
		digits[2 * i] = hex[md[i] >> 4];
		digits[2 * i + 1] = hex[md[i] & 0xf];
	}
	digits[16] = '\0';
	snprintf(name, 48, ".ferry-resume-%s.part", digits);
}

/*
 * Why a kept partial is not to be adopted (PROTOCOL.md 7.4), into why: a
 * partial is ours only if it is a regular file with one link, owned by the
 * user we run as, mode 0600. Anyone who can write to the directory can put
 * a file under the predictable name: owned by them (they could change it
 * after we verified it), or a hard link to a file of ours (we would write
 * the peer's data into it). 0 when it may be adopted.
 */
static int
partial_distrust(const struct stat *st, char *why, size_t n)
{
	if (!S_ISREG(st->st_mode))
		snprintf(why, n, "it is not a regular file");
	else if (st->st_uid != geteuid())
		snprintf(why, n, "it belongs to uid %lu, not to uid %lu",
		    (unsigned long)st->st_uid, (unsigned long)geteuid());
	else if (st->st_nlink != 1)
		snprintf(why, n, "it has %lu hard links",
		    (unsigned long)st->st_nlink);
	else if ((st->st_mode & 07777) != 0600)
		snprintf(why, n, "its mode is %04o, not 0600",
		    (unsigned)(st->st_mode & 07777));
	else
		return 0;
	return 1;
}

/*
 * Opens the existing partial name in dirfd with flags, never following a
 * link and with O_NONBLOCK (a fifo or device put there cannot make the open
 * hang). 0 with *fd and *st when it may be adopted; 1 with why when it is
 * there but not ours (nothing is opened: a file of another user is not
 * even read); else -errno (-ENOENT: none).
 */
static int
partial_lookup(int dirfd, const char *name, int flags, int *fd, struct stat *st,
    char *why, size_t n)
{
	int f, e;

	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	if (partial_distrust(st, why, n))
		return 1;
	f = openat(dirfd, name,
	    flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (f < 0) {
		e = errno;
		/* A link, a directory, a socket or a fifo slipped in. */
		if (e == ELOOP || e == EISDIR || e == ENXIO) {
			snprintf(why, n, "it is not a regular file");
			return 1;
		}
		return -e;
	}
	/* What was opened, not what was looked at a moment ago. */
	if (fstat(f, st) != 0) {
		e = errno;
		close(f);
		return -e;
	}
	if (partial_distrust(st, why, n)) {
		close(f);
		return 1;
	}
	(void)fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK);
	*fd = f;
	return 0;
}

/*
 * Says who holds a partial: a one-byte POSIX lock beside the flock, whose
 * owner F_GETLK reports (flock does not tell). It dies with its process,
 * so it never names a pid that was reused. The mtime is set to now: a
 * newly taken partial is not idle.
 */
static void
partial_mark(int fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1};

	(void)fcntl(fd, F_SETLK, &fl);
	(void)futimens(fd, NULL);
}

static int64_t
ms_since(const struct timespec *then)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)(now.tv_sec - then->tv_sec) * 1000 +
	       (now.tv_nsec - then->tv_nsec) / 1000000;
}

/*
 * The flock of fd is held elsewhere. If the holder has written nothing to
 * it for idle_ms and is a process of our own process group (another
 * connection process of the same server), it is asked to stop (SIGTERM:
 * it keeps what it has and releases the lock) and the lock is taken;
 * 0 then, *pid the holder. -1 if the holder is alive and writing, is not
 * ours, or does not let go within a second.
 */
static int
partial_take(int fd, int idle_ms, pid_t *pid)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1};
	struct timespec first = {0}, wait = {.tv_nsec = 50 * 1000000};
	int polls = (idle_ms + 1000) / 50, asked = -1;
	struct stat st;

	for (int i = 0; i < polls; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (fstat(fd, &st) != 0)
			return -1;
		if (i == 0)
			first = st.st_mtim;
		/* Its data still arrives: a live transfer, not ours to end. */
		else if (asked < 0 && (st.st_mtim.tv_sec != first.tv_sec ||
		                          st.st_mtim.tv_nsec != first.tv_nsec))
			return -1;
		if (asked < 0 && ms_since(&st.st_mtim) >= idle_ms) {
			if (fcntl(fd, F_GETLK, &fl) != 0 ||
			    fl.l_type == F_UNLCK || fl.l_pid <= 0 ||
			    fl.l_pid == getpid() ||
			    getpgid(fl.l_pid) != getpgrp() ||
			    kill(fl.l_pid, SIGTERM) != 0)
				return -1;
			*pid = fl.l_pid;
			/* It has a second from now to keep its part and go. */
			asked = i;
			polls = i + 20;
		}
		nanosleep(&wait, NULL);
	}
	return -1;
}

/* Creates the partial name afresh: O_EXCL, exactly 0600 whatever the umask. */
static int
partial_create(int dirfd, const char *name, int *fd)
{
	int f, e;

	f = openat(dirfd, name,
	    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
	    0600);
	if (f < 0)
		return -errno;
	if (fchmod(f, 0600) != 0) {
		e = errno;
		(void)unlinkat(dirfd, name, 0);
		close(f);
		return -e;
	}
	*fd = f;
	return 0;
}

static int
partial_open(int dirfd, const char *final, int idle_ms, struct ferry_tmpfile *t,
    uint64_t *have)
{
	char name[sizeof(t->name)], why[96];
	int fd = -1, e;

	*have = 0;
	t->dirfd = dirfd;
	t->fd = -1;
	t->name[0] = '\0';
	t->note[0] = '\0';
	t->resumable = 0;
	t->taken_from = 0;
	partial_name(final, name);
	for (int tries = 0; tries < 8; tries++) {
		struct stat st, now;

		e = partial_lookup(
		    dirfd, name, O_RDWR, &fd, &st, why, sizeof(why));
		if (e == -ENOENT &&
		    (e = partial_create(dirfd, name, &fd)) == -EEXIST)
			continue; /* another transfer made it meanwhile */
		if (e == 1) {
			/*
			 * Not ours: never written through. Its name is removed
			 * (unlink follows nothing, and a hard-linked file keeps
			 * its content) and made afresh; where the directory
			 * does not let us remove it, a temporary file is used.
			 */
			snprintf(t->note, sizeof(t->note),
			    "not resuming from %s: %s; starting over", name,
			    why);
			if (unlinkat(dirfd, name, 0) == 0)
				continue;
			return ferry_tmpfile_open(dirfd, t);
		}
		if (e != 0)
			return ferry_errf_errno(ferry_err_from_errno(-e), -e,
			    "%s: cannot open %s", final, name);
		if (flock(fd, LOCK_EX | LOCK_NB) != 0 &&
		    (errno != EWOULDBLOCK || idle_ms <= 0 ||
		        partial_take(fd, idle_ms, &t->taken_from) != 0)) {
			/*
			 * Another transfer writes it (EWOULDBLOCK), or the file
			 * system has no flock: an ordinary temporary file.
			 */
			close(fd);
			t->taken_from = 0;
			return ferry_tmpfile_open(dirfd, t);
		}
		/*
		 * Between the open and the lock, the holder may have committed
		 * the file (renamed it to its final name) or discarded it: the
		 * lock must be on what the name is now.
		 */
		if (fstat(fd, &st) != 0) {
			e = errno;
			close(fd);
			return ferry_errf_errno(
			    ferry_err_from_errno(e), e, "%s: %s", final, name);
		}
		if (fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now.st_dev == st.st_dev && now.st_ino == st.st_ino) {
			partial_mark(fd);
			t->fd = fd;
			memcpy(t->name, name, sizeof(t->name));
			t->resumable = 1;
			*have = (uint64_t)st.st_size;
			return 0;
		}
		close(fd);
	}
	return ferry_tmpfile_open(dirfd, t);
}

int
ferry_partial_open(
    int dirfd, const char *final, struct ferry_tmpfile *t, uint64_t *have)
{
	return partial_open(dirfd, final, 0, t, have);
}

int
ferry_partial_claim(int dirfd, const char *final, int idle_ms,
    struct ferry_tmpfile *t, uint64_t *have)
{
	return partial_open(dirfd, final, idle_ms, t, have);
}

void
ferry_partial_remove(int dirfd, const char *final)
{
	char name[sizeof(((struct ferry_tmpfile *)0)->name)], why[96];
	struct stat st, now;
	int fd;

	partial_name(final, name);
	/* Only one of ours (PROTOCOL.md 7.4); a planted one is left alone. */
	if (partial_lookup(dirfd, name, O_RDONLY, &fd, &st, why, sizeof(why)) !=
	    0)
		return;
	/* One being written is left to its writer, which checks at its end. */
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 &&
	    fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    now.st_dev == st.st_dev && now.st_ino == st.st_ino)
		(void)unlinkat(dirfd, name, 0);
	close(fd);
}

int
ferry_partial_peek(int dirfd, const char *final, int *fd)
{
	char name[sizeof(((struct ferry_tmpfile *)0)->name)], why[96];
	struct stat st;
	int e;

	partial_name(final, name);
	e = partial_lookup(dirfd, name, O_RDONLY, fd, &st, why, sizeof(why));
	if (e == 0)
		return 0;
	if (e == 1)
		return ferry_errf(FERRY_E_NOTREG, "%s: %s is not resumed: %s",
		    final, name, why);
	if (e == -ENOENT)
		return ferry_errf(
		    FERRY_E_NOENT, "%s: no partial file kept", final);
	return ferry_errf_errno(
	    ferry_err_from_errno(-e), -e, "%s: cannot open %s", final, name);
}

void
ferry_tmpfile_keep(struct ferry_tmpfile *t, uint64_t size)
{
	if (!t->resumable || size < FERRY_RESUME_MIN || t->name[0] == '\0') {
		ferry_tmpfile_discard(t);
		return;
	}
	/* The close releases the lock; the name stays for the next try. */
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	t->name[0] = '\0';
	t->resumable = 0;
}
