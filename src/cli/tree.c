/* tree.c - the local directory walk of send -r: openat/fdopendir/fstatat
 * beneath the named directory, never following a symbolic link below it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/err.h"
#include "ferry/fsafe.h"
#include "ferry/limits.h"
#include "ferry/wire.h"

#include "cli.h"
#include "tree.h"

static char *
join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 2);

	if (s == NULL)
		return NULL;
	memcpy(s, a, la);
	s[la] = '/';
	memcpy(s + la + 1, b, lb + 1);
	return s;
}

/* Appends a node; takes local, remote and target (freed on failure). */
static int
add(struct tree *t, char kind, char *local, char *remote, char *target,
    const struct stat *st)
{
	struct tree_node *nd;

	if (local == NULL || remote == NULL || (kind == 'l' && target == NULL))
		goto nomem;
	if (t->n >= TREE_MAX_NODES) {
		free(local);
		free(remote);
		free(target);
		return ferry_errf(FERRY_E_TOOBIG,
		    "more than %d files, directories and links",
		    TREE_MAX_NODES);
	}
	if (t->n == t->cap) {
		size_t cap = t->cap == 0 ? 64 : t->cap * 2;
		struct tree_node *v = realloc(t->v, cap * sizeof(*v));

		if (v == NULL)
			goto nomem;
		t->v = v;
		t->cap = cap;
	}
	nd = &t->v[t->n++];
	nd->kind = kind;
	nd->local = local;
	nd->remote = remote;
	nd->target = target;
	/* Below the top: the remote path less its first component. */
	nd->rel = strchr(remote, '/') != NULL ? strchr(remote, '/') + 1 : "";
	nd->dev = st->st_dev;
	nd->ino = st->st_ino;
	nd->mode = st->st_mode & 07777;
	nd->mtime = (int64_t)st->st_mtim.tv_sec;
	nd->size = kind == 'f' ? (uint64_t)st->st_size : 0;
	return 0;
nomem:
	free(local);
	free(remote);
	free(target);
	return ferry_errf(FERRY_E_NOMEM, "out of memory listing the tree");
}

static void
skip(struct tree *t, const char *local, const char *why)
{
	cli_warn("send: skipping %s%s", local, why);
	t->skipped++;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in d but "." and "..", sorted; *names freed by the caller. */
static int
read_names(DIR *d, const char *local, char ***names, size_t *n)
{
	struct dirent *de;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (*n >= TREE_MAX_NODES)
			return ferry_errf(FERRY_E_TOOBIG,
			    "%s: more than %d entries", local, TREE_MAX_NODES);
		if (*n == cap) {
			size_t c = cap == 0 ? 32 : cap * 2;
			char **v = realloc(*names, c * sizeof(*v));

			if (v == NULL)
				return ferry_errf(FERRY_E_NOMEM,
				    "out of memory listing %s", local);
			*names = v;
			cap = c;
		}
		if (((*names)[*n] = strdup(de->d_name)) == NULL)
			return ferry_errf(
			    FERRY_E_NOMEM, "out of memory listing %s", local);
		(*n)++;
	}
	if (errno != 0)
		return ferry_errf_errno(ferry_err_from_errno(errno), errno,
		    "cannot list %s", local);
	if (*n > 1)
		qsort(*names, *n, sizeof(**names), by_name);
	return 0;
}

static int scan_dir(
    struct tree *t, int fd, const char *local, const char *remote, int links);

/* One entry name of the directory dfd (local, remote): a node, or a note. */
static int
scan_entry(struct tree *t, int dfd, const char *local, const char *remote,
    const char *name, int links)
{
	char *l = NULL, *r = NULL, *target = NULL;
	struct stat st;
	int e, fd;

	if ((l = join(local, name)) == NULL)
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	if ((e = ferry_fsafe_check_name(name, strlen(name))) != 0) {
		/* PROTOCOL.md 4.1: the peer would refuse it. cli_warn escapes
		 * the control bytes such a name may hold. */
		cli_warn("send: skipping %s: %s", l, ferry_err_detail(e));
		t->skipped++;
		goto out;
	}
	/* A receiver's own partial file (an interrupted pull here). */
	if (ferry_fsafe_reserved(name, strlen(name))) {
		skip(t, l, ": a file being received (.ferry-*.part)");
		goto out;
	}
	if (strlen(remote) + 1 + strlen(name) > FERRY_MAX_PATH) {
		skip(t, l, ": its path would be longer than 4096 bytes");
		goto out;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		e = errno;
		if (e == ENOENT) {
			skip(t, l, ": it vanished during the walk");
			goto out;
		}
		e = ferry_errf_errno(ferry_err_from_errno(e), e, "%s", l);
		free(l);
		return e;
	}
	if (S_ISREG(st.st_mode)) {
		if ((r = join(remote, name)) == NULL)
			goto nomem;
		return add(t, 'f', l, r, NULL, &st);
	}
	if (S_ISDIR(st.st_mode)) {
		fd = openat(
		    dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			e = errno;
			if (e == ENOENT || e == ENOTDIR || e == ELOOP) {
				skip(t, l, ": it changed during the walk");
				goto out;
			}
			e = ferry_errf_errno(ferry_err_from_errno(e), e,
			    "cannot open directory %s", l);
			free(l);
			return e;
		}
		/* What was opened, not what was stat'ed a moment ago. */
		if (fstat(fd, &st) != 0) {
			e = errno;
			close(fd);
			e = ferry_errf_errno(
			    ferry_err_from_errno(e), e, "%s", l);
			free(l);
			return e;
		}
		if ((r = join(remote, name)) == NULL) {
			close(fd);
			goto nomem;
		}
		if ((e = add(t, 'd', l, r, NULL, &st)) != 0) {
			close(fd);
			return e;
		}
		/* Node strings now belong to t (and t->v may move). */
		return scan_dir(
		    t, fd, t->v[t->n - 1].local, t->v[t->n - 1].remote, links);
	}
	if (S_ISLNK(st.st_mode)) {
		ssize_t n;

		if (!links) {
			cli_warn(
			    "send: skipping symbolic link %s (use --links)", l);
			t->skipped++;
			goto out;
		}
		if ((target = malloc(FERRY_MAX_LINK + 1)) == NULL)
			goto nomem;
		n = readlinkat(dfd, name, target, FERRY_MAX_LINK + 1);
		if (n < 0) {
			e = errno;
			free(target);
			if (e == ENOENT || e == EINVAL) {
				skip(t, l, ": it changed during the walk");
				goto out;
			}
			e = ferry_errf_errno(ferry_err_from_errno(e), e,
			    "cannot read symbolic link %s", l);
			free(l);
			return e;
		}
		if (n > FERRY_MAX_LINK) {
			free(target);
			skip(t, l, ": its target is longer than 1024 bytes");
			goto out;
		}
		target[n] = '\0';
		if ((r = join(remote, name)) == NULL) {
			free(target);
			goto nomem;
		}
		return add(t, 'l', l, r, target, &st);
	}
	skip(t, l,
	    S_ISFIFO(st.st_mode)   ? ": a fifo is not sent"
	    : S_ISSOCK(st.st_mode) ? ": a socket is not sent"
	                           : ": a device is not sent");
out:
	free(l);
	return 0;
nomem:
	free(l);
	return ferry_errf(FERRY_E_NOMEM, "out of memory");
}

/* The entries of directory fd (taken), depth-first, in name order. */
static int
scan_dir(
    struct tree *t, int fd, const char *local, const char *remote, int links)
{
	char **names = NULL, *lcopy = NULL, *rcopy = NULL;
	size_t n = 0;
	DIR *d;
	int e;

	if ((d = fdopendir(fd)) == NULL) {
		e = errno;
		close(fd);
		return ferry_errf_errno(
		    ferry_err_from_errno(e), e, "cannot list %s", local);
	}
	/* local and remote live in t->v, which grows under us: copies. */
	if ((lcopy = strdup(local)) == NULL ||
	    (rcopy = strdup(remote)) == NULL) {
		e = ferry_errf(FERRY_E_NOMEM, "out of memory");
		goto out;
	}
	if ((e = read_names(d, lcopy, &names, &n)) != 0)
		goto out;
	for (size_t i = 0; i < n && e == 0; i++)
		e = scan_entry(t, dirfd(d), lcopy, rcopy, names[i], links);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(lcopy);
	free(rcopy);
	closedir(d);
	return e;
}

int
tree_scan(const char *dir, int links, struct tree *t)
{
	char *local = NULL, *remote = NULL, *real = NULL;
	const char *base;
	struct stat st;
	size_t len = strlen(dir);
	int fd, e;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (len == 0)
		return ferry_errf(FERRY_E_USAGE, "empty directory name");
	while (len > 1 && dir[len - 1] == '/')
		len--;
	if ((local = strndup(dir, len)) == NULL)
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	base = strrchr(local, '/') != NULL ? strrchr(local, '/') + 1 : local;
	if (strcmp(local, "/") == 0 || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		/* "." or "..": the peer gets the directory's real name. */
		if ((real = realpath(local, NULL)) == NULL) {
			e = errno;
			e = ferry_errf_errno(
			    ferry_err_from_errno(e), e, "%s", local);
			goto fail;
		}
		if (strcmp(real, "/") == 0) {
			e = ferry_errf(FERRY_E_USAGE,
			    "%s: refusing to send the root directory", local);
			goto fail;
		}
		base = strrchr(real, '/') + 1;
	}
	if (ferry_fsafe_check_name(base, strlen(base)) != 0) {
		e = ferry_errf(FERRY_E_BADNAME,
		    "%s: the directory's name is not allowed in ferry: %s",
		    local, ferry_err_detail(FERRY_E_BADNAME));
		goto fail;
	}
	if ((remote = strdup(base)) == NULL) {
		e = ferry_errf(FERRY_E_NOMEM, "out of memory");
		goto fail;
	}
	free(real);
	real = NULL;
	if ((fd = open(local, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		e = errno;
		if (e == ENOTDIR)
			e = ferry_errf(
			    FERRY_E_NOTDIR, "%s: not a directory", local);
		else
			e = ferry_errf_errno(
			    ferry_err_from_errno(e), e, "%s", local);
		goto fail;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		close(fd);
		e = ferry_errf_errno(ferry_err_from_errno(e), e, "%s", local);
		goto fail;
	}
	e = add(t, 'd', local, remote, NULL, &st);
	local = remote = NULL;
	if (e != 0) {
		close(fd);
		goto fail;
	}
	/* scan_dir takes fd; the tree keeps its own for the opens to come. */
	if ((t->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		e = errno;
		close(fd);
		e = ferry_errf_errno(ferry_err_from_errno(e), e, "%s", dir);
		goto fail;
	}
	if ((e = scan_dir(t, fd, t->v[0].local, t->v[0].remote, links)) != 0)
		goto fail;
	return 0;
fail:
	free(local);
	free(remote);
	free(real);
	tree_free(t);
	return e;
}

void
tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].local);
		free(t->v[i].remote);
		free(t->v[i].target);
	}
	free(t->v);
	if (t->n > 0 && t->fd >= 0)
		close(t->fd);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}
