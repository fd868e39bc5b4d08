/* xfer_serve.c - the server side of a ferry session: HELLO, then PUT, GET and
 * LIST requests dispatched through a table, each answered exactly once. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ferry/access.h"
#include "ferry/fsafe.h"
#include "ferry/log.h"
#include "ferry/pki.h"
#include "ferry/sink.h"
#include "ferry/xfer.h"

#include "internal.h"

struct session {
	struct ferry_conn *c;
	const struct ferry_serve_cfg *cfg;
	struct ferry_serve_stats *stats;
	const char *who; /* "alice@127.0.0.1:5555", for logs */
	char req[FERRY_MAX_PATH + 1]; /* the request's path, for log fields */
	int sender_fd; /* INBOX/<peer id>, opened on the first PUT */
	uint8_t *frame; /* GET reads the file into it */
	struct ferry_sink *sink; /* hashes (and for PUT writes) file data */
	uint8_t *spare; /* a frame buffer to trade for a DATA frame */
	mode_t umask;
	struct ferry_member member; /* the peer as access rules see it */
	char **groups; /* from its certificate; member.groups */
	char root[PATH_MAX]; /* the share's real path, with read rules */
	unsigned denied; /* access and quota refusals, for the log limit */
	struct blocked *blocked; /* PROBEs that found a link, directory, ... */
	size_t n_blocked;
};

/*
 * A path a PROBE found taken by something a push does not replace without
 * FORCE (a symbolic link, a directory, another kind, a file of another
 * size): the client refuses
 * that push itself (PROTOCOL.md 5.11) unless it pushes with FORCE, so a
 * PUT or PUTAT for it that never comes is a refusal this server logs and
 * counts when the session ends cleanly.
 */
struct blocked {
	char *path;
	uint8_t kind;
};

/* Paths a session remembers that way; more are not tracked. */
#define BLOCKED_MAX 256

/* Access and quota refusals one session logs; later ones are counted. */
#define DENY_LOG_MAX 10
/*
 * A partial locked by another session that has written nothing to it for
 * this long is taken over (PROTOCOL.md 7.4): its sender has given up.
 */
#define PARTIAL_IDLE_MS 2000

/*
 * The journal fields of a transfer line (log.md): who, which file, how
 * big, its SHA-256 and how it ended. size < 0 and hex NULL leave those
 * out; f holds 6, sz 24 bytes.
 */
static void
xfer_fields(const struct session *s, struct ferry_log_field *f, char *sz,
    const char *file, int64_t size, const char *hex, const char *result)
{
	if (size >= 0)
		snprintf(sz, 24, "%lld", (long long)size);
	f[0] = (struct ferry_log_field){"MEMBER", s->member.id};
	f[1] = (struct ferry_log_field){"PEER", ferry_conn_peer_addr(s->c)};
	f[2] = (struct ferry_log_field){
	    "FILE", file != NULL && *file != '\0' ? file : NULL};
	f[3] = (struct ferry_log_field){"SIZE", size >= 0 ? sz : NULL};
	f[4] = (struct ferry_log_field){"SHA256", hex};
	f[5] = (struct ferry_log_field){"RESULT", result};
}

/* A transfer line with its fields; the text is what every log shows. */
#define XFER_LOG(lvl, s, file, size, hex, result, ...)            \
	do {                                                      \
		struct ferry_log_field f_[6];                     \
		char sz_[24];                                     \
		xfer_fields(s, f_, sz_, file, size, hex, result); \
		ferry_log_event(lvl, f_, 6, __VA_ARGS__);         \
	} while (0)

static int
send_err(struct session *s, uint32_t id, int r, const char *text)
{
	struct ferry_msg m = {.type = FERRY_F_ERR,
	    .id = id,
	    .code = (uint16_t)-r,
	    .text = text,
	    .text_len = strlen(text)};

	if (m.text_len > FERRY_MAX_TEXT)
		m.text_len = FERRY_MAX_TEXT;
	s->stats->refused++;
	return ferry_conn_send(s->c, &m);
}

/* Refuses request id with r's detail, logging it once. */
static int
refuse(struct session *s, uint32_t id, const char *what, int r)
{
	const char *detail = ferry_err_detail(r);

	XFER_LOG(FERRY_LOG_INFO, s, s->req, -1, NULL, "refused",
	    "%s: %s refused: %s", s->who, what, detail);
	return send_err(s, id, r, detail);
}

/*
 * Refuses request id for an access rule or a quota (r's detail says which),
 * logging the first DENY_LOG_MAX of the session: a member hammering at a
 * closed door must not flood the log.
 */
static int
deny(struct session *s, uint32_t id, const char *what, int r)
{
	const char *detail = ferry_err_detail(r);

	if (++s->denied <= DENY_LOG_MAX)
		XFER_LOG(FERRY_LOG_INFO, s, s->req, -1, NULL, "refused",
		    "%s: %s refused: %s%s", s->who, what, detail,
		    s->denied == DENY_LOG_MAX
		        ? " (further refusals of this session not logged)"
		        : "");
	return send_err(s, id, r, detail);
}

/* 0 if the peer may push; FERRY_E_ACCESS with the reason otherwise. */
static int
push_check(struct session *s)
{
	if (ferry_access_may_push(s->cfg->access, &s->member))
		return 0;
	return ferry_errf(FERRY_E_ACCESS, "%s may not push to %s", s->member.id,
	    s->cfg->self_id != NULL ? s->cfg->self_id : "here");
}

/*
 * The path below the share that fd really is, when read rules exist (a
 * request may have reached it through a link; no rule is to be walked
 * around): "" for the top. FERRY_E_ACCESS if that cannot be told.
 */
static int
real_path(struct session *s, int fd, char out[FERRY_MAX_PATH + 1])
{
	char proc[32], buf[PATH_MAX];
	size_t rl = strlen(s->root);
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, sizeof(buf) - 1);
	if (n > 0 && s->root[0] != '\0') {
		buf[n] = '\0';
		if (strcmp(buf, s->root) == 0) {
			out[0] = '\0';
			return 0;
		}
		if (rl == 1)
			rl = 0; /* the share is "/" */
		if (strncmp(buf, s->root, rl) == 0 && buf[rl] == '/' &&
		    strlen(buf + rl + 1) <= FERRY_MAX_PATH) {
			snprintf(out, FERRY_MAX_PATH + 1, "%s", buf + rl + 1);
			return 0;
		}
	}
	return ferry_errf(FERRY_E_ACCESS,
	    "cannot tell where this leads in the share; refused because read "
	    "rules apply");
}

/* The share's real path into s->root, for real_path. */
static int
real_root(struct session *s)
{
	char proc[32];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", s->cfg->share_fd);
	n = readlink(proc, s->root, sizeof(s->root) - 1);
	if (n <= 0 || s->root[0] != '/') {
		s->root[0] = '\0';
		return ferry_errf(FERRY_E_ACCESS, "cannot read %s", proc);
	}
	s->root[n] = '\0';
	return 0;
}

/*
 * 0 if the peer may read path as asked and, with read rules, what fd
 * (opened for it; -1: none) really is; real gets that path ("" without
 * rules). FERRY_E_ACCESS naming the path otherwise.
 */
static int
read_check(
    struct session *s, const char *path, int fd, char real[FERRY_MAX_PATH + 1])
{
	const struct ferry_access *a = s->cfg->access;
	int r;

	real[0] = '\0';
	if (ferry_access_may_read(a, &s->member, path) &&
	    (!ferry_access_has_read_rules(a) || fd < 0 ||
	        ((r = real_path(s, fd, real)) == 0 &&
	            ferry_access_may_read(a, &s->member, real))))
		return 0;
	return ferry_errf(FERRY_E_ACCESS, "%s may not read '%s%s'",
	    s->member.id, path, path[0] == '\0' ? "/" : "");
}

/* 1 if the entry name of directory dir (as asked, and really) may be shown. */
static int
entry_readable(
    struct session *s, const char *dir, const char *real, const char *name)
{
	char p[2 * FERRY_MAX_PATH + 2];

	if (!ferry_access_has_read_rules(s->cfg->access))
		return 1;
	snprintf(p, sizeof(p), "%s%s%s", dir, dir[0] ? "/" : "", name);
	if (!ferry_access_may_read(s->cfg->access, &s->member, p))
		return 0;
	snprintf(p, sizeof(p), "%s%s%s", real, real[0] ? "/" : "", name);
	return ferry_access_may_read(s->cfg->access, &s->member, p);
}

/* After refusing a PUT, skips its DATA up to END or ABORT. */
static int
skip_upload(struct session *s, uint64_t left)
{
	struct ferry_msg m;
	int r;

	for (;;) {
		if ((r = ferry_conn_read(s->c, &m, 1)) != 0)
			return r;
		if (m.type == FERRY_F_END || m.type == FERRY_F_ABORT)
			return 0;
		if (m.type != FERRY_F_DATA)
			return ferry_errf(FERRY_E_PROTO,
			    "%s frame inside an upload",
			    ferry_frame_name(m.type));
		/* PROTOCOL.md 5.3 holds for discarded data too. */
		if (m.data_len > left)
			return ferry_errf(FERRY_E_PROTO,
			    "more data than the refused PUT announced");
		left -= m.data_len;
	}
}

/*
 * Copies a request's path out of the frame and checks it; root ("share",
 * "inbox") is what the path is relative to, for the refusal.
 */
static int
request_path(
    const struct ferry_msg *m, char *path, int allow_empty, const char *root)
{
	int r;

	if (m->text_len > 0 && m->text[0] == '/')
		return ferry_errf(FERRY_E_BADNAME,
		    "absolute path refused; paths are relative to the %s",
		    root);
	if ((r = ferry_fsafe_check_path(m->text, m->text_len)) != 0)
		return r;
	if (m->text_len == 0 && !allow_empty)
		return ferry_errf(FERRY_E_BADNAME, "empty path");
	memcpy(path, m->text, m->text_len);
	path[m->text_len] = '\0';
	return 0;
}

/* Opens INBOX/<peer id>, creating it, the first time a request needs it. */
static int
sender_dir(struct session *s)
{
	int r;

	if (s->sender_fd >= 0)
		return 0;
	if ((r = ferry_fsafe_subdir(s->cfg->inbox_fd, ferry_conn_peer_id(s->c),
	         &s->sender_fd)) != 0)
		return ferry_errf(r, "inbox for %s: %s",
		    ferry_conn_peer_id(s->c), ferry_err_detail(r));
	return 0;
}

/*
 * The directory that holds path in the member's inbox (PROTOCOL.md 5.10:
 * no symbolic link followed), and path's last component in it.
 */
static int
inbox_parent(struct session *s, const char *path, int *dirfd, const char **leaf)
{
	int r;

	if ((r = sender_dir(s)) != 0)
		return r;
	/* Its details name the path already. */
	if ((r = ferry_fsafe_parent(s->sender_fd, path, dirfd, leaf)) != 0)
		return r;
	/* PROTOCOL.md 7.4: the names of partial files are ours alone. */
	if (ferry_fsafe_reserved(*leaf, strlen(*leaf))) {
		close(*dirfd);
		*dirfd = -1;
		return ferry_errf(FERRY_E_BADNAME,
		    "%s: names .ferry-*.part are reserved for files being "
		    "received",
		    path);
	}
	return 0;
}

/*
 * A stream cut by the network keeps its partial file (PROTOCOL.md 7.4):
 * the connection ended, timed out, was interrupted, or TLS broke (a killed
 * peer is an unexpected EOF). The prefix is checked by hash on resume.
 */
int
ferry__stream_cut(int r)
{
	return ferry_errgroup(r) == FERRY_G_NET ||
	       ferry_errgroup(r) == FERRY_G_TLS;
}

/*
 * 0 if a file of size bytes fits the sender's quota beside what else their
 * inbox holds (tmp, the file being received, not counted);
 * FERRY_E_NOSPACE saying how full it is otherwise. Other sessions of the
 * same sender may be writing at the same time: the caller checks again
 * while the data comes and before the commit (SECURITY.md, quotas).
 */
static int
quota_check(struct session *s, const struct ferry_tmpfile *tmp,
    const char *name, uint64_t size)
{
	uint64_t qb, qf;
	struct ferry_usage u;
	struct stat st;
	char used[24], quota[24], need[24];
	const char *self = s->cfg->self_id != NULL ? s->cfg->self_id : "here";
	int r;

	ferry_access_quota(s->cfg->access, &qb, &qf);
	if (qb == 0 && qf == 0)
		return 0;
	if ((r = ferry_inbox_usage(s->sender_fd,
	         tmp->fd >= 0 && fstat(tmp->fd, &st) == 0 ? st.st_ino : 0,
	         &u)) != 0)
		return r;
	if (qb != 0 && (u.bytes > qb || size > qb - u.bytes)) {
		ferry_size_format(u.bytes, used);
		ferry_size_format(qb, quota);
		ferry_size_format(size, need);
		return ferry_errf(FERRY_E_NOSPACE,
		    "%s's inbox on %s is full: %s of %s used, %s needs %s",
		    s->member.id, self, used, quota, name, need);
	}
	if (qf != 0 && u.files >= qf)
		return ferry_errf(FERRY_E_NOSPACE,
		    "%s's inbox on %s is full: %llu of %llu files",
		    s->member.id, self, (unsigned long long)u.files,
		    (unsigned long long)qf);
	return 0;
}

static void
blocked_add(struct session *s, const char *path, uint8_t kind)
{
	struct blocked *grown;
	char *copy;

	if (s->n_blocked >= BLOCKED_MAX || (copy = strdup(path)) == NULL)
		return;
	if ((grown = realloc(s->blocked,
	         (s->n_blocked + 1) * sizeof(*s->blocked))) == NULL) {
		free(copy);
		return;
	}
	s->blocked = grown;
	s->blocked[s->n_blocked].path = copy;
	s->blocked[s->n_blocked++].kind = kind;
}

/* A push for path came: whatever it finds there decides, not the PROBE. */
static void
blocked_drop(struct session *s, const char *path)
{
	for (size_t i = 0; i < s->n_blocked; i++)
		if (strcmp(s->blocked[i].path, path) == 0) {
			free(s->blocked[i].path);
			s->blocked[i] = s->blocked[--s->n_blocked];
			return;
		}
}

/* At a clean end: the pushes the sender gave up on because of a PROBE. */
static void
blocked_report(struct session *s)
{
	for (size_t i = 0; i < s->n_blocked; i++) {
		uint8_t k = s->blocked[i].kind;

		s->stats->refused++;
		if (++s->denied <= DENY_LOG_MAX)
			XFER_LOG(FERRY_LOG_INFO, s, s->blocked[i].path, -1,
			    NULL, "refused",
			    "%s: push refused: %s in the inbox is %s "
			    "(not replaced without --force)",
			    s->who, s->blocked[i].path,
			    k == FERRY_KIND_LINK   ? "a symbolic link"
			    : k == FERRY_KIND_DIR  ? "a directory"
			    : k == FERRY_KIND_FILE ? "another file"
			                           : "not a regular file");
	}
}

static void
blocked_free(struct session *s)
{
	for (size_t i = 0; i < s->n_blocked; i++)
		free(s->blocked[i].path);
	free(s->blocked);
}

/*
 * r, or for a full file system "bob's disk is full: report.pdf not
 * stored": whose disk, and which file, for the sender's one line.
 */
static int
disk_full(struct session *s, const char *name, int r)
{
	if (r != FERRY_E_NOSPACE)
		return r;
	if (s->cfg->self_id != NULL)
		return ferry_errf(r, "%s's disk is full: %s not stored",
		    s->cfg->self_id, name);
	return ferry_errf(r, "the server's disk is full: %s not stored", name);
}

/* What a PUT or PUTAT asks for, copied out of the frame. */
struct upload {
	uint32_t id;
	const char *path; /* a name for PUT */
	uint64_t size, offset;
	uint32_t mode, flags;
	int64_t mtime;
	const uint8_t *prefix; /* PUTAT */
};

/*
 * The end of a verified upload: the quota's last word, PRESERVE's time,
 * the rename to leaf, OK. Every refusal here is answered; r is what ends
 * the session, if anything.
 */
static int
commit_file(struct session *s, const struct upload *u,
    struct ferry_tmpfile *tmp, const char *leaf, uint64_t size,
    const uint8_t digest[FERRY_SHA256_LEN])
{
	int replace = (u->flags & FERRY_PUT_FORCE) != 0;
	int preserve = (u->flags & FERRY_PUT_PRESERVE) != 0;
	mode_t mode = u->mode & 0777;
	const char *name = u->path;
	struct ferry_msg ok = {.type = FERRY_F_OK, .id = u->id, .size = size};
	char hex[65];
	int r;

	/* The last word on the quota: nothing over it gets a final name. */
	if ((r = quota_check(s, tmp, name, size)) != 0) {
		ferry_tmpfile_keep(tmp, size);
		return deny(s, u->id, "push", r);
	}
	/* PROTOCOL.md 5.3: PRESERVE gives exactly mode & 0777 and mtime. */
	if (preserve) {
		struct timespec ts[2] = {
		    {.tv_sec = (time_t)u->mtime, .tv_nsec = 0},
		    {.tv_sec = (time_t)u->mtime, .tv_nsec = 0}};

		if (futimens(tmp->fd, ts) != 0)
			return refuse(s, u->id, "push",
			    ferry_errf_errno(FERRY_E_IO, errno,
			        "%s: cannot set its modification time", name));
	}
	if ((r = ferry_tmpfile_commit(tmp, leaf,
	         preserve ? mode : mode & ~s->umask, replace)) != 0) {
		/* The detail names the last component; say where it is. */
		if (strcmp(leaf, name) != 0)
			r = ferry_errf(r, "%s: %s", name, ferry_err_detail(r));
		return refuse(s, u->id, "push", disk_full(s, name, r));
	}
	/* A partial of an older try at this name is superseded now. */
	ferry_partial_remove(tmp->dirfd, leaf);
	memcpy(ok.sha256, digest, FERRY_SHA256_LEN);
	ferry_sha256_hex(digest, hex);
	XFER_LOG(FERRY_LOG_INFO, s, name, (int64_t)size, hex, "ok",
	    "%s: received %s (%llu bytes, sha256 %s)", s->who, name,
	    (unsigned long long)size, hex);
	s->stats->files_in++;
	s->stats->bytes_in += size - u->offset;
	return ferry_conn_send(s->c, &ok);
}

/*
 * 1 if a finished file took leaf's name while we received (it was not
 * there, or was another file, when we began: was, *before): what we hold
 * of leaf is superseded, not worth keeping (PROTOCOL.md 7.4).
 */
static int
superseded(int dirfd, const char *leaf, int was, const struct stat *before)
{
	struct stat now;

	if (fstatat(dirfd, leaf, &now, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(now.st_mode))
		return 0;
	return !was || now.st_ino != before->st_ino ||
	       now.st_dev != before->st_dev ||
	       now.st_mtim.tv_sec != before->st_mtim.tv_sec ||
	       now.st_mtim.tv_nsec != before->st_mtim.tv_nsec;
}

/* Opens where a pushed file goes: a partial with SYNC, else a temp file. */
static int
open_target(struct session *s, const struct upload *u, int dirfd,
    const char *leaf, struct ferry_tmpfile *tmp, uint64_t *have)
{
	int r;

	/* With SYNC a big file goes to a partial that survives a cut. */
	if ((ferry_conn_features(s->c) & FERRY_FEATURE_SYNC) == 0 ||
	    u->size < FERRY_RESUME_MIN)
		return ferry_tmpfile_open(dirfd, tmp);
	/* A session stuck on a dead network must not keep it locked. */
	if ((r = ferry_partial_claim(
	         dirfd, leaf, PARTIAL_IDLE_MS, tmp, have)) == 0 &&
	    tmp->taken_from > 0)
		ferry_info("%s: %s: took its partial file over from an idle "
		           "session (process %ld, told to end)",
		    s->who, u->path, (long)tmp->taken_from);
	return r;
}

/*
 * PUTAT with SAME (PROTOCOL.md 5.12): the client says the inbox's file at
 * leaf is already its own. Its empty stream is read (END with the same
 * digest), the file is checked by size and SHA-256, and with PRESERVE
 * given the mode and time; nothing is written.
 */
static int
receive_same(
    struct session *s, const struct upload *u, int dirfd, const char *leaf)
{
	struct ferry_msg m, ok = {.type = FERRY_F_OK, .id = u->id};
	uint8_t digest[FERRY_SHA256_LEN];
	struct timespec ts[2] = {{.tv_sec = (time_t)u->mtime, .tv_nsec = 0},
	    {.tv_sec = (time_t)u->mtime, .tv_nsec = 0}};
	struct stat st;
	char hex[65];
	int fd, r;

	if ((r = ferry_conn_read(s->c, &m, 1)) != 0)
		return r;
	if (m.type == FERRY_F_ABORT)
		return send_err(s, u->id, FERRY_E_REFUSED, "aborted by sender");
	/* PROTOCOL.md 5.12: offset = size, so any DATA is an excess. */
	if (m.type != FERRY_F_END)
		return ferry_errf(FERRY_E_PROTO, "%s frame inside an upload",
		    ferry_frame_name(m.type));
	fd =
	    openat(dirfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	r = fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	            (uint64_t)st.st_size != u->size ||
	            CRYPTO_memcmp(m.sha256, u->prefix, FERRY_SHA256_LEN) != 0 ||
	            ferry_sha256_fd(fd, u->size, digest) != 0 ||
	            CRYPTO_memcmp(digest, u->prefix, FERRY_SHA256_LEN) != 0
	        ? ferry_errf(FERRY_E_MISMATCH,
	              "%s: the inbox's file is not the sender's", u->path)
	        : 0;
	if (r == 0 && (u->flags & FERRY_PUT_PRESERVE) != 0 &&
	    (fchmod(fd, u->mode & 0777) != 0 || futimens(fd, ts) != 0))
		r = ferry_errf_errno(FERRY_E_IO, errno,
		    "%s: cannot set its mode or time", u->path);
	if (fd >= 0)
		close(fd);
	if (r != 0)
		return refuse(s, u->id, "push", r);
	ok.size = u->size;
	memcpy(ok.sha256, digest, FERRY_SHA256_LEN);
	ferry_sha256_hex(digest, hex);
	XFER_LOG(FERRY_LOG_INFO, s, u->path, (int64_t)u->size, hex, "uptodate",
	    "%s: %s is up to date in the inbox (sha256 %s)", s->who, u->path,
	    hex);
	return ferry_conn_send(s->c, &ok);
}

/* One upload on its way in: what receive_file's steps share. */
struct recv_file {
	const struct upload *u;
	const char *name, *leaf; /* as the peer named it; the name in dirfd */
	struct ferry_tmpfile tmp;
	struct ferry_msg m; /* the last frame read */
	struct stat st; /* the final name before (was) */
	uint64_t size, done, have, checked;
	int dirfd, was, sinking;
	int over; /* answered already: nothing more to do */
	int refuse; /* r is to be answered as a refusal (recv_refuse) */
	int denied; /* ... by a rule or a quota, not by the disk */
	int keep; /* what arrived is kept for a resume */
};

/* The refusal's r, "NAME: detail". */
static int
recv_refusing(struct recv_file *f, int r)
{
	f->refuse = r != 0;
	return r == 0 ? 0
	              : ferry_errf(r, "%s: %s", f->name, ferry_err_detail(r));
}

/* What PUT/PUTAT said, the rules, and the name it gets in the inbox. */
static int
recv_start(struct session *s, struct recv_file *f)
{
	const struct upload *u = f->u;
	/* SAME: in a PUTAT (it has a prefix), when both announced it. */
	uint32_t known = FERRY_PUT_FLAGS_KNOWN |
	                 (u->prefix != NULL && (ferry_conn_features(s->c) &
	                                           FERRY_FEATURE_SAME) != 0
	                         ? FERRY_PUT_SAME
	                         : 0);
	int r;

	f->refuse = 1;
	if ((u->flags & ~known) != 0 || u->size > FERRY_MAX_FILE_SIZE ||
	    u->offset > u->size ||
	    ((u->flags & FERRY_PUT_SAME) != 0 && u->offset != u->size))
		return ferry_errf(FERRY_E_USAGE,
		    "%s: unknown flags, bad size or offset", f->name);
	f->done = u->offset;
	if ((r = push_check(s)) != 0) {
		f->denied = 1;
		return r;
	}
	if ((r = inbox_parent(s, f->name, &f->dirfd, &f->leaf)) != 0)
		return r;
	f->was = fstatat(f->dirfd, f->leaf, &f->st, AT_SYMLINK_NOFOLLOW) == 0;
	if ((u->flags & FERRY_PUT_SAME) != 0) {
		f->refuse = 0;
		f->over = 1;
		return receive_same(s, u, f->dirfd, f->leaf);
	}
	/* Say so now, not after the whole file has crossed the network. */
	if ((u->flags & FERRY_PUT_FORCE) == 0 && f->was)
		return ferry_errf(FERRY_E_EXIST,
		    "%s already exists in the inbox (use --force to replace "
		    "it)",
		    f->name);
	f->refuse = 0;
	return 0;
}

/*
 * The file it is written to: a new temporary one, or the kept partial a
 * PUTAT resumes once its prefix is checked, handed to the sink.
 */
static int
recv_target(struct session *s, struct recv_file *f)
{
	const struct upload *u = f->u;
	uint8_t pre[FERRY_SHA256_LEN];
	int r = open_target(s, u, f->dirfd, f->leaf, &f->tmp, &f->have);

	if (f->tmp.note[0] != '\0')
		ferry_warn("%s: %s: %s", s->who, f->name, f->tmp.note);
	if (r != 0)
		return recv_refusing(f, r);
	/* Refused early if it cannot fit; a kept partial stays kept. */
	if ((r = quota_check(s, &f->tmp, f->name, f->size)) != 0) {
		f->refuse = f->denied = 1;
		f->keep = f->have > 0;
		return r;
	}
	if (u->offset > 0) {
		/* PROTOCOL.md 5.12: the claimed prefix is checked, not trusted. */
		f->refuse = 1;
		if (!f->tmp.resumable || f->have < u->offset)
			return ferry_errf(FERRY_E_MISMATCH,
			    "%s: no partial file of %llu bytes to resume",
			    f->name, (unsigned long long)u->offset);
		if ((r = ferry_sink_begin_prefix(
		         s->sink, f->tmp.fd, f->tmp.fd, u->offset, pre)) != 0)
			return recv_refusing(f, r);
		f->sinking = 1;
		if (CRYPTO_memcmp(pre, u->prefix, FERRY_SHA256_LEN) != 0)
			return ferry_errf(FERRY_E_MISMATCH,
			    "%s: the partial file differs from the sender's "
			    "first %llu bytes",
			    f->name, (unsigned long long)u->offset);
		f->refuse = 0;
	} else
		ferry_sink_begin(s->sink, f->tmp.fd);
	f->sinking = 1;
	if (ftruncate(f->tmp.fd, (off_t)u->offset) != 0 ||
	    lseek(f->tmp.fd, (off_t)u->offset, SEEK_SET) < 0) {
		f->refuse = 1;
		return ferry_errf_errno(FERRY_E_IO, errno, "%s", f->name);
	}
	if (u->offset > 0)
		ferry_info("%s: resuming %s at byte %llu", s->who, f->name,
		    (unsigned long long)u->offset);
	return 0;
}

/* The stream was cut: what arrived is kept for a resume (PROTOCOL.md 7.4). */
static void
recv_cut(struct session *s, struct recv_file *f)
{
	/* Whatever arrived is on disk before we keep it. */
	ferry_sink_abandon(s->sink);
	f->sinking = 0;
	if (superseded(f->dirfd, f->leaf, f->was, &f->st))
		ferry_info("%s: %s arrived meanwhile; its partial file is "
		           "removed",
		    s->who, f->name);
	else
		ferry_tmpfile_keep(&f->tmp, f->size);
}

/* One DATA frame to the sink; the quota looked at again now and then. */
static int
recv_data(struct session *s, struct recv_file *f)
{
	int r;

	/* PROTOCOL.md 5.3: never more bytes than the PUT announced. */
	if (f->m.data_len > f->size - f->done)
		return ferry_errf(FERRY_E_PROTO,
		    "%s: more data than the announced %llu bytes", f->name,
		    (unsigned long long)f->size);
	/* The payload goes to the hashing/writing thread, uncopied. */
	ferry_conn_swap_frame(s->c, &s->spare);
	f->done += f->m.data_len;
	if ((r = ferry_sink_push(s->sink, &s->spare, f->m.data_len)) != 0)
		return recv_refusing(f, r);
	/* Other sessions of this sender may have filled the inbox. */
	if (f->done - f->checked >= FERRY_QUOTA_RECHECK) {
		f->checked = f->done;
		if ((r = quota_check(s, &f->tmp, f->name, f->size)) != 0) {
			f->refuse = f->denied = f->keep = 1;
			return r;
		}
	}
	return 0;
}

/* DATA frames up to END: 0 at END, else what ends or refuses the upload. */
static int
recv_stream(struct session *s, struct recv_file *f)
{
	int r;

	for (;;) {
		r = ferry_conn_read(s->c, &f->m, 1);
		/* A sender that closes mid-stream stopped, like one cut off. */
		if (r == 0 && f->m.type == FERRY_F_EOF)
			r = ferry_errf(FERRY_E_CLOSED,
			    "the sender closed the connection in the middle of "
			    "%s",
			    f->name);
		if (r != 0) {
			if (ferry__stream_cut(r))
				recv_cut(s, f);
			return r;
		}
		if (f->m.type == FERRY_F_END)
			return 0;
		if (f->m.type == FERRY_F_ABORT) {
			XFER_LOG(FERRY_LOG_INFO, s, f->name, (int64_t)f->size,
			    NULL, "aborted",
			    "%s: push of %s aborted by the sender", s->who,
			    f->name);
			f->over = 1;
			return send_err(
			    s, f->u->id, FERRY_E_REFUSED, "aborted by sender");
		}
		if (f->m.type != FERRY_F_DATA)
			return ferry_errf(FERRY_E_PROTO,
			    "%s frame inside an upload",
			    ferry_frame_name(f->m.type));
		if ((r = recv_data(s, f)) != 0)
			return r;
	}
}

/* After END: size and SHA-256 must both match before the file is kept. */
static int
recv_verify(struct session *s, struct recv_file *f)
{
	uint8_t digest[FERRY_SHA256_LEN];
	int r;

	f->sinking = 0;
	if ((r = ferry_sink_end(s->sink, digest)) != 0)
		return recv_refusing(f, r);
	/* PROTOCOL.md 5.4: commit only when size and SHA-256 both match. */
	if (f->done != f->size ||
	    CRYPTO_memcmp(digest, f->m.sha256, FERRY_SHA256_LEN) != 0) {
		r = ferry_errf(FERRY_E_INTEGRITY,
		    f->done != f->size
		        ? "%s: %llu bytes received, %llu announced; not saved"
		        : "%s: SHA-256 mismatch; not saved",
		    f->name, (unsigned long long)f->done,
		    (unsigned long long)f->size);
		XFER_LOG(FERRY_LOG_WARN, s, f->name, (int64_t)f->size, NULL,
		    "error", "%s: %s", s->who, ferry_err_detail(r));
		return send_err(s, f->u->id, r, ferry_err_detail(r));
	}
	return commit_file(s, f->u, &f->tmp, f->leaf, f->size, digest);
}

/*
 * The upload is refused for r: answered (deny or refuse), and the DATA
 * already in flight for it read and dropped, so the session goes on.
 */
static int
recv_refuse(struct session *s, struct recv_file *f, int r)
{
	char why[FERRY_MAX_TEXT + 1];

	/* The disk, not a quota (denied): say whose and which file. */
	if (!f->denied)
		r = disk_full(s, f->name, r);
	/* abandon clears the error detail; r's must survive it. */
	snprintf(why, sizeof(why), "%s", ferry_err_detail(r));
	if (f->sinking)
		ferry_sink_abandon(s->sink);
	f->sinking = 0;
	r = ferry_errf(r, "%s", why);
	/* Over the quota: what arrived is kept for a resume (PROTOCOL.md 7.4). */
	if (f->keep)
		ferry_tmpfile_keep(&f->tmp, f->size);
	ferry_tmpfile_discard(&f->tmp);
	if ((r = (f->denied ? deny : refuse)(s, f->u->id, "push", r)) != 0)
		return r;
	return f->done == f->u->offset || f->m.type == FERRY_F_DATA
	           ? skip_upload(s, f->size - f->done)
	           : 0;
}

/*
 * Receives one file: the stream of a PUT or PUTAT, into a temporary or
 * kept partial file beside the final name, committed only once verified
 * (PROTOCOL.md 5.3, 5.4, 5.12, 7).
 */
static int
receive_file(struct session *s, const struct upload *u)
{
	struct recv_file f = {.u = u,
	    .name = u->path,
	    .tmp = {.fd = -1},
	    .m = {.type = FERRY_F_NONE},
	    /* A bigger one is refused; this bounds what is skipped. */
	    .size =
	        u->size > FERRY_MAX_FILE_SIZE ? FERRY_MAX_FILE_SIZE : u->size,
	    .dirfd = -1};
	int r;

	blocked_drop(s, f.name);
	r = recv_start(s, &f);
	if (r == 0 && !f.over)
		r = recv_target(s, &f);
	if (r == 0 && !f.over)
		r = recv_stream(s, &f);
	if (r == 0 && !f.over)
		r = recv_verify(s, &f);
	if (f.refuse)
		r = recv_refuse(s, &f, r);
	/* The worker must be done with tmp.fd before it is closed. */
	if (f.sinking)
		ferry_sink_abandon(s->sink);
	ferry_tmpfile_discard(&f.tmp);
	if (f.dirfd >= 0)
		close(f.dirfd);
	return r;
}

static int
serve_put(struct session *s, const struct ferry_msg *put)
{
	char name[FERRY_MAX_NAME + 1];
	struct upload u = {.id = put->id,
	    .path = name,
	    .size = put->size,
	    .mode = put->mode,
	    .mtime = put->mtime,
	    .flags = put->flags};
	int r;

	/* The name is borrowed from the frame: check and keep it first. */
	if ((r = ferry_fsafe_check_name(put->text, put->text_len)) != 0) {
		if ((r = refuse(s, put->id, "push", r)) != 0)
			return r;
		return skip_upload(s, put->size > FERRY_MAX_FILE_SIZE
		                          ? FERRY_MAX_FILE_SIZE
		                          : put->size);
	}
	memcpy(name, put->text, put->text_len);
	name[put->text_len] = '\0';
	return receive_file(s, &u);
}

static int
serve_putat(struct session *s, const struct ferry_msg *put)
{
	char path[FERRY_MAX_PATH + 1];
	uint8_t prefix[FERRY_SHA256_LEN];
	struct upload u = {.id = put->id,
	    .path = path,
	    .size = put->size,
	    .offset = put->offset,
	    .mode = put->mode,
	    .mtime = put->mtime,
	    .flags = put->flags,
	    .prefix = prefix};
	uint64_t left =
	    put->size > FERRY_MAX_FILE_SIZE ? FERRY_MAX_FILE_SIZE : put->size;
	int r;

	memcpy(prefix, put->prefix, sizeof(prefix));
	if ((r = request_path(put, path, 0, "inbox")) != 0) {
		if ((r = refuse(s, put->id, "push", r)) != 0)
			return r;
		return skip_upload(
		    s, put->offset < left ? left - put->offset : 0);
	}
	return receive_file(s, &u);
}

/* SHA-256 of a regular file leaf in dirfd, if it is size bytes long. */
static int
hash_entry(int dirfd, const char *leaf, int fd, uint64_t size,
    uint8_t out[FERRY_SHA256_LEN])
{
	int r, own = fd < 0;

	if (own && (fd = openat(dirfd, leaf,
	                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		return ferry_errf_errno(FERRY_E_IO, errno, "%s", leaf);
	r = ferry_sha256_fd(fd, size, out);
	if (own)
		close(fd);
	return r;
}

/* PROTOCOL.md 5.11: what the inbox holds under a path. */
static int
serve_probe(struct session *s, const struct ferry_msg *probe)
{
	char path[FERRY_MAX_PATH + 1];
	struct ferry_msg have = {.type = FERRY_F_HAVE, .id = probe->id};
	const char *leaf;
	struct stat st;
	int dirfd = -1, fd = -1, r;

	if ((r = request_path(probe, path, 0, "inbox")) != 0)
		return refuse(s, probe->id, "probe", r);
	if ((r = push_check(s)) != 0)
		return deny(s, probe->id, "probe", r);
	if ((r = inbox_parent(s, path, &dirfd, &leaf)) != 0) {
		/* A missing parent means nothing is there yet. */
		if (r == FERRY_E_NOENT)
			goto answer;
		return refuse(s, probe->id, "probe", r);
	}
	if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		have.kind = S_ISREG(st.st_mode)   ? FERRY_KIND_FILE
		            : S_ISDIR(st.st_mode) ? FERRY_KIND_DIR
		            : S_ISLNK(st.st_mode) ? FERRY_KIND_LINK
		                                  : FERRY_KIND_OTHER;
		/* Equal sizes may be the same file: up to date, not refused. */
		if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != probe->size)
			blocked_add(s, path, have.kind);
		if (S_ISREG(st.st_mode)) {
			have.size = (uint64_t)st.st_size;
			if (have.size == probe->size &&
			    (r = hash_entry(dirfd, leaf, -1, have.size,
			         have.sha256)) != 0) {
				close(dirfd);
				return refuse(s, probe->id, "probe", r);
			}
		}
	}
	if (ferry_partial_peek(dirfd, leaf, &fd) == 0) {
		if (fstat(fd, &st) == 0 &&
		    (uint64_t)st.st_size <= probe->size &&
		    hash_entry(dirfd, leaf, fd, (uint64_t)st.st_size,
		        have.prefix) == 0)
			have.offset = (uint64_t)st.st_size;
		close(fd);
	}
answer:
	if (have.offset == 0)
		memcpy(have.prefix, ferry__sha256_empty, FERRY_SHA256_LEN);
	if (dirfd >= 0)
		close(dirfd);
	return ferry_conn_send(s->c, &have);
}

static int
send_ok_empty(struct session *s, uint32_t id)
{
	struct ferry_msg ok = {.type = FERRY_F_OK, .id = id};

	return ferry_conn_send(s->c, &ok);
}

/* PROTOCOL.md 5.13: a directory in the inbox, made or accepted. */
static int
serve_mkdir(struct session *s, const struct ferry_msg *mk)
{
	char path[FERRY_MAX_PATH + 1];
	int preserve = (mk->flags & FERRY_PUT_PRESERVE) != 0;
	mode_t mode = mk->mode & 0777;
	const char *leaf;
	int created, dirfd = -1, fd, r;

	if ((r = request_path(mk, path, 0, "inbox")) != 0)
		return refuse(s, mk->id, "mkdir", r);
	if ((r = push_check(s)) != 0)
		return deny(s, mk->id, "mkdir", r);
	if ((mk->flags & ~FERRY_PUT_PRESERVE) != 0)
		return refuse(s, mk->id, "mkdir",
		    ferry_errf(FERRY_E_USAGE, "%s: unknown flags", path));
	leaf = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	if (ferry_fsafe_reserved(leaf, strlen(leaf)))
		return refuse(s, mk->id, "mkdir",
		    ferry_errf(FERRY_E_BADNAME,
		        "%s: names .ferry-*.part are reserved for files being "
		        "received",
		        path));
	if ((r = sender_dir(s)) != 0 ||
	    (r = ferry_fsafe_mkdir(s->sender_fd, path,
	         preserve ? mode : mode & ~s->umask, &created)) != 0)
		return refuse(s, mk->id, "mkdir", r);
	if (preserve) {
		struct timespec ts[2] = {
		    {.tv_sec = (time_t)mk->mtime, .tv_nsec = 0},
		    {.tv_sec = (time_t)mk->mtime, .tv_nsec = 0}};

		if ((r = inbox_parent(s, path, &dirfd, &leaf)) != 0)
			return refuse(s, mk->id, "mkdir", r);
		fd = openat(dirfd, leaf,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dirfd);
		if (fd < 0 || fchmod(fd, mode | 0700) != 0 ||
		    futimens(fd, ts) != 0) {
			r = ferry_errf_errno(FERRY_E_IO, errno,
			    "%s: cannot set its mode or time", path);
			if (fd >= 0)
				close(fd);
			return refuse(s, mk->id, "mkdir", r);
		}
		close(fd);
	}
	if (created)
		ferry_info("%s: made directory %s", s->who, path);
	return send_ok_empty(s, mk->id);
}

/* PROTOCOL.md 5.14: a symbolic link that cannot lead out of the inbox. */
static int
serve_link(struct session *s, const struct ferry_msg *ln)
{
	char path[FERRY_MAX_PATH + 1], target[FERRY_MAX_LINK + 1];
	const char *leaf;
	struct stat st;
	int dirfd = -1, r;

	if ((r = request_path(ln, path, 0, "inbox")) != 0)
		return refuse(s, ln->id, "link", r);
	if ((r = push_check(s)) != 0)
		return deny(s, ln->id, "link", r);
	if ((ln->flags & ~FERRY_PUT_FORCE) != 0)
		return refuse(s, ln->id, "link",
		    ferry_errf(FERRY_E_USAGE, "%s: unknown flags", path));
	if ((r = ferry_fsafe_check_link(path, ln->target, ln->target_len)) != 0)
		return refuse(s, ln->id, "link", r);
	memcpy(target, ln->target, ln->target_len);
	target[ln->target_len] = '\0';
	if ((r = inbox_parent(s, path, &dirfd, &leaf)) != 0)
		return refuse(s, ln->id, "link", r);
	if ((ln->flags & FERRY_PUT_FORCE) != 0 &&
	    fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		(void)unlinkat(dirfd, leaf, 0);
	if (symlinkat(target, dirfd, leaf) != 0) {
		int e = errno;
		char have[FERRY_MAX_LINK + 1];
		ssize_t n = e == EEXIST ? readlinkat(dirfd, leaf, have,
		                              sizeof(have) - 1)
		                        : -1;

		/* The same link again: there already, like MKDIR of a directory. */
		if (n >= 0 && (size_t)n == ln->target_len &&
		    memcmp(have, target, (size_t)n) == 0) {
			close(dirfd);
			return send_ok_empty(s, ln->id);
		}
		r = e == EEXIST ? ferry_errf(FERRY_E_EXIST,
		                      "%s already exists in the inbox", path)
		                : ferry_errf_errno(
		                      ferry_err_from_errno(e), e, "%s", path);
		close(dirfd);
		return refuse(s, ln->id, "link", r);
	}
	close(dirfd);
	ferry_info("%s: made link %s", s->who, path);
	return send_ok_empty(s, ln->id);
}

/*
 * Answers a GET (at NULL) or GETAT: FILE or FILEAT and the file's stream,
 * from the client's offset when its prefix matches (PROTOCOL.md 5.5, 5.15).
 */
static int
send_file(struct session *s, const struct ferry_msg *get, int at)
{
	char path[FERRY_MAX_PATH + 1], real[FERRY_MAX_PATH + 1];
	uint8_t pre[FERRY_SHA256_LEN];
	struct ferry_msg file = {
	    .type = at ? FERRY_F_FILEAT : FERRY_F_FILE, .id = get->id};
	struct ferry_msg end = {.type = FERRY_F_END};
	uint32_t known = at ? FERRY_GETAT_SAME : 0;
	int same = at && (get->flags & FERRY_GETAT_SAME) != 0, match = 0;
	struct stat st;
	uint64_t done = 0;
	int fd = -1, hashing = 0, r;

	if ((r = request_path(get, path, 0, "share")) != 0)
		return refuse(s, get->id, "get", r);
	if ((get->flags & ~known) != 0)
		return refuse(s, get->id, "get",
		    ferry_errf(FERRY_E_USAGE, "%s: unknown flags", path));
	/* Refused before the file is looked at: no hint whether it exists. */
	if ((r = read_check(s, path, -1, real)) != 0)
		return deny(s, get->id, "get", r);
	/* O_NONBLOCK: opening a FIFO someone left in the share must not hang. */
	if ((r = ferry_fsafe_open(
	         s->cfg->share_fd, path, O_RDONLY | O_NONBLOCK, &fd)) != 0)
		return refuse(s, get->id, "get", r);
	/* A link in the share must not lead around a read rule. */
	if ((r = read_check(s, path, fd, real)) != 0) {
		close(fd);
		return deny(s, get->id, "get", r);
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return refuse(s, get->id, "get",
		    ferry_errf(FERRY_E_NOTREG, "%s: not a regular file%s", path,
		        S_ISDIR(st.st_mode) ? " (a directory: use get -r)"
		                            : ""));
	}
	(void)fcntl(fd, F_SETFL, 0);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	file.size = (uint64_t)st.st_size;
	file.mode = st.st_mode & 07777;
	file.mtime = st.st_mtim.tv_sec;
	/* Hash-only: the worker hashes each frame while TLS encrypts it. */
	if (at && get->offset <= file.size) {
		/* PROTOCOL.md 5.15: the client's prefix is checked by hash. */
		if ((r = ferry_sink_begin_prefix(
		         s->sink, -1, fd, get->offset, pre)) != 0) {
			close(fd);
			return refuse(s, get->id, "get",
			    ferry_errf(r, "%s: %s", path, ferry_err_detail(r)));
		}
		hashing = 1;
		match = CRYPTO_memcmp(pre, get->prefix, FERRY_SHA256_LEN) == 0;
		if (match)
			file.offset = get->offset;
	}
	if (same && !(match && file.offset == file.size)) {
		if (hashing)
			ferry_sink_abandon(s->sink);
		close(fd);
		return send_err(
		    s, get->id, FERRY_E_MISMATCH, "the copies differ");
	}
	if (!match) {
		if (hashing)
			ferry_sink_abandon(s->sink);
		ferry_sink_begin(s->sink, -1);
		hashing = 1;
	}
	done = file.offset;
	if (lseek(fd, (off_t)done, SEEK_SET) < 0) {
		r = ferry_errf_errno(FERRY_E_IO, errno, "%s", path);
		ferry_sink_abandon(s->sink);
		close(fd);
		return refuse(s, get->id, "get", r);
	}
	if ((r = ferry_conn_send(s->c, &file)) != 0)
		goto out;
	while (done < file.size) {
		size_t want = file.size - done < FERRY_MAX_DATA
		                  ? (size_t)(file.size - done)
		                  : FERRY_MAX_DATA;
		ssize_t got = read(fd, s->frame + FERRY_FRAME_HDR, want);
		uint8_t *sending = s->frame;

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			/* PROTOCOL.md 5.6: FILE may end in ABORT instead of END. */
			struct ferry_msg ab = {.type = FERRY_F_ABORT,
			    .code = (uint16_t)-FERRY_E_IO,
			    .text =
			        "file changed on the server while being sent"};

			ab.text_len = strlen(ab.text);
			XFER_LOG(FERRY_LOG_WARN, s, path, (int64_t)file.size,
			    NULL, "error", "%s: get %s: %s", s->who, path,
			    ab.text);
			r = ferry_conn_send(s->c, &ab);
			goto out;
		}
		if ((r = ferry_sink_push(s->sink, &s->frame, (size_t)got)) !=
		        0 ||
		    (r = ferry_conn_send_data(s->c, sending, (size_t)got)) != 0)
			goto out;
		done += (uint64_t)got;
	}
	hashing = 0;
	if ((r = ferry_sink_end(s->sink, end.sha256)) != 0 ||
	    (r = ferry_conn_send(s->c, &end)) != 0)
		goto out;
	{
		char hex[65];

		ferry_sha256_hex(end.sha256, hex);
		if (same)
			XFER_LOG(FERRY_LOG_INFO, s, path, (int64_t)done, hex,
			    "uptodate", "%s: %s is up to date (sha256 %s)",
			    s->who, path, hex);
		/*
		 * Handed to TCP is all we know: GET has no receipt, and the
		 * client may yet fail to store it (its disk, its hash check).
		 */
		else if (file.offset == 0)
			XFER_LOG(FERRY_LOG_INFO, s, path, (int64_t)done, hex,
			    "ok",
			    "%s: sent %s (%llu bytes, sha256 %s) (not "
			    "confirmed: handed to TCP)",
			    s->who, path, (unsigned long long)done, hex);
		else
			XFER_LOG(FERRY_LOG_INFO, s, path, (int64_t)done, hex,
			    "ok",
			    "%s: sent %s (%llu bytes from byte %llu, "
			    "sha256 %s) (not confirmed: handed to TCP)",
			    s->who, path,
			    (unsigned long long)(done - file.offset),
			    (unsigned long long)file.offset, hex);
	}
	s->stats->files_out++;
	s->stats->bytes_out += done - file.offset;
out:
	if (hashing)
		ferry_sink_abandon(s->sink);
	close(fd);
	return r;
}

static int
serve_get(struct session *s, const struct ferry_msg *get)
{
	return send_file(s, get, 0);
}

static int
serve_getat(struct session *s, const struct ferry_msg *get)
{
	return send_file(s, get, 1);
}

static int
entry_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return FERRY_KIND_FILE;
	if (S_ISDIR(mode))
		return FERRY_KIND_DIR;
	if (S_ISLNK(mode))
		return FERRY_KIND_LINK;
	return FERRY_KIND_OTHER;
}

static int
serve_list(struct session *s, const struct ferry_msg *list)
{
	char path[FERRY_MAX_PATH + 1], real[FERRY_MAX_PATH + 1];
	struct ferry_msg end = {.type = FERRY_F_LISTEND, .id = list->id};
	struct dirent *d;
	DIR *dir = NULL;
	char first[FERRY_MAX_NAME + 1] = "";
	unsigned skipped = 0;
	int fd = -1, r;

	if ((r = request_path(list, path, 1, "share")) != 0)
		return refuse(s, list->id, "list", r);
	if ((r = read_check(s, path, -1, real)) != 0)
		return deny(s, list->id, "list", r);
	if ((r = ferry_fsafe_open(
	         s->cfg->share_fd, path, O_RDONLY | O_DIRECTORY, &fd)) != 0)
		return refuse(s, list->id, "list", r);
	if ((r = read_check(s, path, fd, real)) != 0) {
		close(fd);
		return deny(s, list->id, "list", r);
	}
	if ((dir = fdopendir(fd)) == NULL) {
		r = ferry_errf_errno(FERRY_E_IO, errno, "%s", path);
		close(fd);
		return refuse(s, list->id, "list", r);
	}
	for (;;) {
		struct ferry_msg e = {.type = FERRY_F_ENTRY};
		struct stat st;
		size_t n;

		errno = 0;
		if ((d = readdir(dir)) == NULL) {
			/* A listing cut short must not look complete. */
			if (errno != 0) {
				r = refuse(s, list->id, "list",
				    ferry_errf_errno(FERRY_E_IO, errno,
				        "%s: reading the directory", path));
				goto out;
			}
			break;
		}
		n = strlen(d->d_name);

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		/* A name no peer could ask for is not offered either. */
		if (ferry_fsafe_check_name(d->d_name, n) != 0) {
			if (skipped++ == 0)
				snprintf(first, sizeof(first), "%s", d->d_name);
			continue;
		}
		if (!entry_readable(s, path, real, d->d_name) ||
		    fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		        0)
			continue;
		e.kind = (uint8_t)entry_kind(st.st_mode);
		e.size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
		e.mode = st.st_mode & 07777;
		e.mtime = st.st_mtim.tv_sec;
		e.text = d->d_name;
		e.text_len = n;
		if ((r = ferry_conn_send(s->c, &e)) != 0)
			goto out;
		end.count++;
	}
	/* The owner of the share learns why a file is missing from ls. */
	if (skipped > 0)
		ferry_warn("%s: list %s: %u name%s not offered, as no peer "
		           "could ask for %s (control characters): '%s'%s; "
		           "rename %s to share %s",
		    s->who, path[0] != '\0' ? path : "/", skipped,
		    skipped == 1 ? "" : "s", skipped == 1 ? "it" : "them",
		    first, skipped == 1 ? "" : " and others",
		    skipped == 1 ? "it" : "them", skipped == 1 ? "it" : "them");
	r = ferry_conn_send(s->c, &end);
	ferry_info("%s: listed /%s (%lu entries)", s->who, path,
	    (unsigned long)end.count);
out:
	closedir(dir);
	return r;
}

/* Deepest directory nesting a WALK descends into (one open fd per level). */
#define WALK_MAX_DEPTH 256

struct walk {
	struct session *s;
	uint32_t count;
	char path[FERRY_MAX_PATH + 1];
	char real[FERRY_MAX_PATH + 1]; /* path as it really is in the share */
};

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One NODE for the entry name of dirfd, whose full path is w->path. */
static int
walk_node(struct walk *w, int dirfd, const char *name, const struct stat *st)
{
	struct ferry_msg node = {.type = FERRY_F_NODE,
	    .kind = (uint8_t)entry_kind(st->st_mode),
	    .mode = st->st_mode & 07777,
	    .mtime = st->st_mtim.tv_sec,
	    .text = w->path,
	    .text_len = strlen(w->path)};
	char target[FERRY_MAX_LINK + 1];

	if (S_ISREG(st->st_mode))
		node.size = (uint64_t)st->st_size;
	else if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target));

		/* PROTOCOL.md 5.16: links with longer targets are left out. */
		if (n <= 0 || (size_t)n > FERRY_MAX_LINK ||
		    memchr(target, '\0', (size_t)n) != NULL)
			return 0;
		node.target = target;
		node.target_len = (size_t)n;
	} else if (!S_ISDIR(st->st_mode))
		return 0;
	if (++w->count > FERRY_MAX_LIST_ENTRIES)
		return ferry_errf(FERRY_E_TOOBIG, "tree larger than %u entries",
		    FERRY_MAX_LIST_ENTRIES);
	return ferry_conn_send(w->s->c, &node);
}

/* The entries below directory fd (w->path), pre-order, sorted by name. */
static int
walk_dir(struct walk *w, int fd, int depth)
{
	size_t len = strlen(w->path), rlen = strlen(w->real), n = 0, cap = 0;
	char **names = NULL;
	struct dirent *d;
	DIR *dir;
	int dup_fd, r = 0;

	if (depth > WALK_MAX_DEPTH)
		return ferry_errf(FERRY_E_TOOBIG, "%s: deeper than %d levels",
		    w->path, WALK_MAX_DEPTH);
	if ((dup_fd = dup(fd)) < 0 || (dir = fdopendir(dup_fd)) == NULL) {
		r = ferry_errf_errno(FERRY_E_IO, errno, "%s", w->path);
		if (dup_fd >= 0)
			close(dup_fd);
		return r;
	}
	for (errno = 0; (d = readdir(dir)) != NULL; errno = 0) {
		char **grown;

		if (strcmp(d->d_name, ".") == 0 ||
		    strcmp(d->d_name, "..") == 0 ||
		    ferry_fsafe_check_name(d->d_name, strlen(d->d_name)) != 0 ||
		    ferry_fsafe_reserved(d->d_name, strlen(d->d_name)))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((grown = realloc(names, cap * sizeof(*names))) ==
			    NULL) {
				r = FERRY_E_NOMEM;
				break;
			}
			names = grown;
		}
		if ((names[n] = strdup(d->d_name)) == NULL) {
			r = FERRY_E_NOMEM;
			break;
		}
		n++;
	}
	/* A listing cut short must not look complete. */
	if (r == 0 && errno != 0)
		r = ferry_errf_errno(FERRY_E_IO, errno, "%s", w->path);
	closedir(dir);
	if (r == 0 && n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; r == 0 && i < n; i++) {
		size_t nl = strlen(names[i]);
		struct stat st;
		int sub;

		/* Below a path the member may not read nothing is shown. */
		if (len + (len > 0) + nl > FERRY_MAX_PATH ||
		    rlen + (rlen > 0) + nl > FERRY_MAX_PATH ||
		    !entry_readable(w->s, w->path, w->real, names[i]) ||
		    fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		snprintf(w->path + len, sizeof(w->path) - len, "%s%s",
		    len > 0 ? "/" : "", names[i]);
		snprintf(w->real + rlen, sizeof(w->real) - rlen, "%s%s",
		    rlen > 0 ? "/" : "", names[i]);
		if ((r = walk_node(w, fd, names[i], &st)) == 0 &&
		    S_ISDIR(st.st_mode)) {
			sub = openat(fd, names[i],
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				r = walk_dir(w, sub, depth + 1);
				close(sub);
			}
		}
		w->path[len] = '\0';
		w->real[rlen] = '\0';
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/*
 * With read rules, where the top of a WALK really is: fd when it was
 * reached through a link, else leaf in parent (whose path may hold a link).
 */
static int
walk_top_check(
    struct session *s, struct walk *w, int parent, const char *leaf, int fd)
{
	int probe = fd, r;

	if (!ferry_access_has_read_rules(s->cfg->access))
		return 0;
	if (probe < 0 &&
	    (probe = openat(parent, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return ferry_errf_errno(
		    ferry_err_from_errno(errno), errno, "%s", w->path);
	r = read_check(s, w->path, probe, w->real);
	if (probe != fd)
		close(probe);
	return r;
}

/* PROTOCOL.md 5.16: the whole tree under a path, for get -r. */
static int
serve_walk(struct session *s, const struct ferry_msg *req)
{
	struct ferry_msg end = {.type = FERRY_F_LISTEND, .id = req->id};
	struct walk w = {.s = s};
	struct stat st;
	const char *leaf;
	char *slash;
	int parent = -1, fd = -1, r;

	if ((r = request_path(req, w.path, 1, "share")) != 0)
		return refuse(s, req->id, "walk", r);
	if ((r = read_check(s, w.path, -1, w.real)) != 0)
		return deny(s, req->id, "walk", r);
	if (w.path[0] == '\0') {
		r = ferry_fsafe_open(
		    s->cfg->share_fd, "", O_RDONLY | O_DIRECTORY, &fd);
		if (r != 0)
			return refuse(s, req->id, "walk", r);
		if ((r = read_check(s, "", fd, w.real)) != 0) {
			close(fd);
			return deny(s, req->id, "walk", r);
		}
		r = walk_dir(&w, fd, 0);
		goto done;
	}
	/* The top is resolved like GET; below it no link is followed. */
	slash = strrchr(w.path, '/');
	if (slash != NULL) {
		*slash = '\0';
		r = ferry_fsafe_open(
		    s->cfg->share_fd, w.path, O_RDONLY | O_DIRECTORY, &parent);
		*slash = '/';
		leaf = slash + 1;
	} else {
		r = ferry_fsafe_open(
		    s->cfg->share_fd, "", O_RDONLY | O_DIRECTORY, &parent);
		leaf = w.path;
	}
	if (r != 0)
		return refuse(s, req->id, "walk", r);
	if (fstatat(parent, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		r = ferry_errf_errno(
		    ferry_err_from_errno(errno), errno, "%s", w.path);
		close(parent);
		return refuse(s, req->id, "walk", r);
	}
	/*
	 * The top is resolved as GET resolves a path: a link to a file or
	 * directory inside the share stands for it (as send -r follows the
	 * directory it is given). Below the top no link is followed.
	 */
	if (S_ISLNK(st.st_mode) &&
	    (r = ferry_fsafe_open(
	         s->cfg->share_fd, w.path, O_RDONLY | O_NONBLOCK, &fd)) == 0 &&
	    fstat(fd, &st) != 0) {
		r = ferry_errf_errno(FERRY_E_IO, errno, "%s", w.path);
	}
	if (r == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		r = ferry_errf(
		    FERRY_E_NOTREG, "%s: not a file or a directory", w.path);
	if (r == 0 && (r = walk_top_check(s, &w, parent, leaf, fd)) != 0) {
		close(parent);
		if (fd >= 0)
			close(fd);
		return deny(s, req->id, "walk", r);
	}
	if (r != 0) {
		close(parent);
		if (fd >= 0)
			close(fd);
		return refuse(s, req->id, "walk", r);
	}
	if ((r = walk_node(&w, parent, leaf, &st)) == 0 &&
	    S_ISDIR(st.st_mode)) {
		if (fd < 0)
			fd = openat(parent, leaf,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			r = ferry_errf_errno(
			    ferry_err_from_errno(errno), errno, "%s", w.path);
		else
			r = walk_dir(&w, fd, 0);
	}
	close(parent);
done:
	if (fd >= 0)
		close(fd);
	/* A failure mid-walk ends the answer with ERR instead of LISTEND. */
	if (r != 0)
		return ferry_errgroup(r) == FERRY_G_NET
		           ? r
		           : refuse(s, req->id, "walk", r);
	end.count = w.count;
	ferry_info("%s: walked /%s (%lu entries)", s->who,
	    req->text_len ? w.path : "", (unsigned long)end.count);
	return ferry_conn_send(s->c, &end);
}

/* PROTOCOL.md 6: the requests a client may send after HELLO. */
static const struct handler {
	uint8_t type;
	int (*run)(struct session *, const struct ferry_msg *);
	uint64_t feature; /* allowed only when this feature is in use */
} handlers[] = {
    {FERRY_F_PUT, serve_put, 0},
    {FERRY_F_GET, serve_get, 0},
    {FERRY_F_LIST, serve_list, 0},
    {FERRY_F_PROBE, serve_probe, FERRY_FEATURE_SYNC},
    {FERRY_F_PUTAT, serve_putat, FERRY_FEATURE_SYNC},
    {FERRY_F_MKDIR, serve_mkdir, FERRY_FEATURE_SYNC},
    {FERRY_F_LINK, serve_link, FERRY_FEATURE_SYNC},
    {FERRY_F_GETAT, serve_getat, FERRY_FEATURE_SYNC},
    {FERRY_F_WALK, serve_walk, FERRY_FEATURE_SYNC},
};

/*
 * Who the peer is to the rules: its ID and the groups its certificate
 * names. One not among the members is told so (ERR id 0) and let go.
 */
static int
admit(struct session *s)
{
	char why[512];
	int r;

	s->member.id = ferry_conn_peer_id(s->c);
	r = ferry_cert_groups(
	    ferry_conn_peer_cert(s->c), &s->groups, &s->member.n_groups);
	s->member.groups = s->groups;
	if (r != 0) {
		snprintf(why, sizeof(why), "%s", ferry_err_detail(r));
		r = ferry_errf(FERRY_E_ACCESS, "%s: %s", s->member.id, why);
	} else if (!ferry_access_may_connect(s->cfg->access, &s->member))
		r = ferry_errf(FERRY_E_ACCESS, "%s is not a member %s serves",
		    s->member.id,
		    s->cfg->self_id != NULL ? s->cfg->self_id : "this server");
	if (r == 0 && ferry_access_has_read_rules(s->cfg->access) &&
	    real_root(s) != 0)
		ferry_warn(
		    "%s: cannot tell the share's own path; reads through "
		    "it are refused while read rules apply",
		    s->who);
	if (r != 0) {
		XFER_LOG(FERRY_LOG_INFO, s, NULL, -1, NULL, "refused",
		    "%s: refused: %s", s->who, ferry_err_detail(r));
		if (send_err(s, 0, r, ferry_err_detail(r)) == 0 &&
		    ferry_conn_flush(s->c) != 0)
			ferry_debug("could not deliver the ERR frame");
	}
	return r;
}

static int
serve_hello(struct session *s)
{
	static const char software[] = "ferry/" FERRY_VERSION;
	struct ferry_msg m, reply = {.type = FERRY_F_HELLO,
	                        .version = FERRY_PROTOCOL_VERSION,
	                        .features = FERRY_FEATURES_KNOWN,
	                        .text = software,
	                        .text_len = sizeof(software) - 1};
	int r;

	if ((r = ferry_conn_read(s->c, &m, 1)) != 0)
		return r;
	if (m.type == FERRY_F_EOF)
		return ferry_errf(FERRY_E_CLOSED, "closed before HELLO");
	if (m.type != FERRY_F_HELLO) {
		r = ferry_errf(FERRY_E_PROTO, "expected HELLO, got %s",
		    ferry_frame_name(m.type));
		(void)send_err(s, 0, r, ferry_err_detail(r));
		return r;
	}
	if (m.version < 1) {
		r = ferry_errf(FERRY_E_VERSION,
		    "protocol version %u unsupported", m.version);
		(void)send_err(s, 0, r, ferry_err_detail(r));
		return r;
	}
	/* A peer not among the members gets ERR instead of HELLO. */
	if ((r = admit(s)) != 0)
		return r;
	/* PROTOCOL.md 9.2: a feature is in use when both peers announce it. */
	ferry_conn_set_features(s->c, m.features & FERRY_FEATURES_KNOWN);
	return ferry_conn_send(s->c, &reply);
}

int
ferry_xfer_serve(struct ferry_conn *c, const struct ferry_serve_cfg *cfg,
    struct ferry_serve_stats *stats)
{
	struct session s = {
	    .c = c, .cfg = cfg, .stats = stats, .sender_fd = -1};
	char who[FERRY_MAX_ID + FERRY_MAX_HOST + 24];
	struct ferry_msg m;
	int r;

	snprintf(who, sizeof(who), "%s@%s", ferry_conn_peer_id(c),
	    ferry_conn_peer_addr(c));
	s.who = who;
	s.umask = umask(0);
	umask(s.umask);
	if ((r = ferry_sink_new(&s.sink)) != 0)
		goto out;
	if ((s.frame = ferry_frame_alloc()) == NULL ||
	    (s.spare = ferry_frame_alloc()) == NULL) {
		r = FERRY_E_NOMEM;
		goto out;
	}
	if ((r = serve_hello(&s)) != 0)
		goto out;
	for (;;) {
		const struct handler *h = NULL;

		if ((r = ferry_conn_read(c, &m, 1)) != 0)
			goto out;
		if (m.type == FERRY_F_EOF)
			break;
		for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]);
		     i++)
			if (handlers[i].type == m.type &&
			    (handlers[i].feature & ~ferry_conn_features(c)) ==
			        0)
				h = &handlers[i];
		if (h == NULL) {
			/* PROTOCOL.md 6: any other frame here is fatal. */
			r = ferry_errf(FERRY_E_PROTO, "unexpected %s frame",
			    ferry_frame_name(m.type));
			if (send_err(&s, 0, r, ferry_err_detail(r)) == 0 &&
			    ferry_conn_flush(c) != 0)
				ferry_debug("could not deliver the ERR frame");
			goto out;
		}
		/* The path every request carries, for its log fields. */
		snprintf(s.req, sizeof(s.req), "%.*s",
		    (int)(m.text_len < FERRY_MAX_PATH ? m.text_len
		                                      : FERRY_MAX_PATH),
		    m.text != NULL ? m.text : "");
		if ((r = h->run(&s, &m)) != 0) {
			/* Tell a peer that broke the protocol why we hang up. */
			if (ferry_errgroup(r) == FERRY_G_PROTO &&
			    send_err(&s, 0, r, ferry_err_detail(r)) == 0 &&
			    ferry_conn_flush(c) != 0)
				ferry_debug("could not deliver the ERR frame");
			goto out;
		}
	}
	blocked_report(&s);
	r = ferry_conn_close(c);
out:
	blocked_free(&s);
	if (s.sender_fd >= 0)
		close(s.sender_fd);
	ferry_cert_groups_free(s.groups, s.member.n_groups);
	ferry_frame_free(s.frame);
	ferry_frame_free(s.spare);
	ferry_sink_free(s.sink);
	return r;
}
