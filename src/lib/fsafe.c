/* fsafe.c - confinement of network-supplied names beneath a directory. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "ferry/fsafe.h"
#include "ferry/limits.h"

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

static int
open_openat2(int dirfd, const char *path, int flags, int *fd)
{
	struct open_how how;
	long r;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)flags;
	if ((flags & O_CREAT) != 0)
		how.mode = 0600;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	r = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (r < 0)
		return -errno;
	*fd = (int)r;
	return 0;
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
			e = next < 0 ? -errno : 0;
			if (e == 0)
				*fd = next;
			break;
		}
		next = openat(
		    cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			e = -errno;
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
	static int have_openat2 = 1;
	int e;

	flags |= O_CLOEXEC | O_NOCTTY;
	if (path[0] == '\0')
		path = ".";
	if ((e = ferry_fsafe_check_path(path, strlen(path))) != 0 &&
	    strcmp(path, ".") != 0)
		return e;
	e = -ENOSYS;
	if (have_openat2 &&
	    (e = open_openat2(dirfd, path, flags, fd)) == -ENOSYS)
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
ferry_tmpfile_open(int dirfd, struct ferry_tmpfile *t)
{
	unsigned char rnd[8];

	t->dirfd = dirfd;
	t->fd = -1;
	t->name[0] = '\0';
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
	if (t->name[0] != '\0') {
		unlinkat(t->dirfd, t->name, 0);
		t->name[0] = '\0';
	}
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
}
