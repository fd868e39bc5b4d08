/* xfer.c - the client side of the transfer engine: HELLO, pipelined push and
 * pull, listing. The server side is xfer_serve.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ferry/fsafe.h"
#include "ferry/log.h"
#include "ferry/sink.h"
#include "ferry/xfer.h"

#include "internal.h"

/* While streaming a file, look for an early refusal every this many bytes. */
#define PUSH_DRAIN_EVERY (1u << 20)

const uint8_t ferry__sha256_empty[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc,
    0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae,
    0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
    0xb8, 0x55};

void
ferry_sha256_hex(const uint8_t sha[FERRY_SHA256_LEN], char out[65])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < FERRY_SHA256_LEN; i++) {
		out[2 * i] = hex[sha[i] >> 4];
		out[2 * i + 1] = hex[sha[i] & 15];
	}
	out[64] = '\0';
}

static int
send_hello(struct ferry_conn *c)
{
	static const char software[] = "ferry/" FERRY_VERSION;
	struct ferry_msg m = {.type = FERRY_F_HELLO,
	    .version = FERRY_PROTOCOL_VERSION,
	    .features = FERRY_FEATURES_KNOWN,
	    .text = software,
	    .text_len = sizeof(software) - 1};

	return ferry_conn_send(c, &m);
}

/*
 * An ERR frame as a FERRY_E_* with the peer's message as detail. A refusal
 * by the peer's access rules or quota names the peer as the member it is
 * ("bob refuses: carol may not read 'payroll'"), unless the message starts
 * with that very name already ("bob's disk is full: x not stored"); the
 * CLI sanitizes it. The peer's disk or quota being full is the peer's
 * refusal (PEERFULL, exit 5), not a local I/O error.
 */
static int
peer_error(struct ferry_conn *c, const struct ferry_msg *m)
{
	int r = ferry_err_from_wire(m->code);
	const char *id = ferry_conn_peer_id(c);
	size_t n = strlen(id);
	char text[FERRY_MAX_TEXT + 1];

	if (r == FERRY_E_NOSPACE)
		r = FERRY_E_PEERFULL;
	/* A copy, NUL-terminated: compared as a string, never past its end. */
	snprintf(text, sizeof(text), "%.*s", (int)m->text_len, m->text);
	if ((r == FERRY_E_ACCESS || r == FERRY_E_PEERFULL) && n > 0 &&
	    strncmp(text, id, n) == 0 && strncmp(text + n, "'s ", 3) == 0)
		return ferry_errf(r, "%s", text);
	if ((r == FERRY_E_ACCESS || r == FERRY_E_PEERFULL) && n > 0)
		return ferry_errf(
		    r, "%s refuses: %.*s", id, (int)m->text_len, m->text);
	/* PROTOCOL.md 5.1: "bob is busy (64 sessions); try again later". */
	if (r == FERRY_E_BUSY && id[0] != '\0')
		return ferry_errf(
		    r, "%s is %.*s", id, (int)m->text_len, m->text);
	return ferry_errf(
	    r, "%s: %.*s", ferry_conn_peer_addr(c), (int)m->text_len, m->text);
}

int
ferry_xfer_hello(struct ferry_conn *c)
{
	struct ferry_msg m;
	int r;

	if ((r = send_hello(c)) != 0 || (r = ferry_conn_read(c, &m, 1)) != 0)
		return r;
	if (m.type == FERRY_F_ERR)
		return peer_error(c, &m);
	if (m.type == FERRY_F_EOF)
		return ferry_errf(FERRY_E_CLOSED, "%s closed the connection",
		    ferry_conn_peer_addr(c));
	if (m.type != FERRY_F_HELLO)
		return ferry_errf(FERRY_E_PROTO, "%s: expected HELLO, got %s",
		    ferry_conn_peer_addr(c), ferry_frame_name(m.type));
	/* PROTOCOL.md 5.1: the server answers with a version <= ours. */
	if (m.version == 0 || m.version > FERRY_PROTOCOL_VERSION)
		return ferry_errf(FERRY_E_VERSION,
		    "%s speaks protocol version %u, we speak %u",
		    ferry_conn_peer_addr(c), m.version, FERRY_PROTOCOL_VERSION);
	/* PROTOCOL.md 9.2: a feature is in use when both peers announce it. */
	ferry_conn_set_features(c, m.features & FERRY_FEATURES_KNOWN);
	return 0;
}

static void
report_res(
    ferry_xfer_report_fn *report, void *arg, struct ferry_xfer_result *res)
{
	if (res->kind == 0)
		res->kind = FERRY_KIND_FILE;
	if (report != NULL)
		report(res, arg);
}

/* A failure of one item: r's detail says why. */
static void
report_fail(ferry_xfer_report_fn *report, void *arg, const char *name,
    uint8_t kind, int r)
{
	struct ferry_xfer_result res = {
	    .name = name, .kind = kind, .r = r, .detail = ferry_err_detail(r)};

	report_res(report, arg, &res);
}

/* What the server said it holds for one file (HAVE, PROTOCOL.md 5.11). */
struct remote_state {
	int probed, done; /* answered; already reported */
	uint8_t kind;
	uint64_t probe_size, size, part;
	uint8_t sha[FERRY_SHA256_LEN], part_sha[FERRY_SHA256_LEN];
};

/* One request of a push; its id is its index + 1. */
enum push_op_kind { OP_MKDIR, OP_LINK, OP_PROBE, OP_PUT, OP_ATTR };
struct push_op {
	uint8_t kind;
	uint8_t fresh; /* OP_PUT: from byte 0, whatever the server holds */
	uint8_t same; /* OP_PUT: PUTAT SAME, -p on a file the server has */
	size_t item;
	uint64_t offset; /* OP_PUT: where its stream started */
};

/* Push state: the requests, and which are still waiting for an answer. */
struct push {
	struct ferry_conn *c;
	const struct ferry_push_item *items;
	uint32_t flags;
	int sync;
	ferry_xfer_progress_fn *progress;
	ferry_xfer_report_fn *report;
	void *arg;
	struct push_op *ops;
	size_t nops, cap;
	struct remote_state *st; /* per item */
	uint8_t (*sha)[FERRY_SHA256_LEN]; /* per item: what we sent */
	uint64_t *size;
	char **why; /* per item: our own reason a file failed, if it was ours */
	size_t *pend; /* ops sent and unanswered: pend[qh..qt) */
	size_t qh, qt;
	int refused_current; /* the PUT being streamed got an early ERR */
	size_t current; /* op being streamed */
};

static int
push_add(struct push *p, uint8_t kind, size_t item, int fresh)
{
	if (p->nops == p->cap)
		return ferry_errf(FERRY_E_INTERNAL, "too many requests");
	p->ops[p->nops++] = (struct push_op){
	    .kind = kind, .item = item, .fresh = (uint8_t)fresh};
	return 0;
}

/* The answer to a PUT or PUTAT. */
static int
put_answer(struct push *p, size_t k, const struct ferry_msg *m)
{
	const struct push_op *op = &p->ops[k];
	size_t i = op->item;
	struct ferry_xfer_result res = {.name = p->items[i].path,
	    .kind = FERRY_KIND_FILE,
	    .uptodate = op->same,
	    .resumed_from = op->same ? 0 : op->offset};
	int r;

	if (m->type == FERRY_F_ERR) {
		r = peer_error(p->c, m);
		if (p->why[i] != NULL) {
			res.r = FERRY_E_IO;
			res.detail = p->why[i];
			report_res(p->report, p->arg, &res);
			return 0;
		}
		if (k == p->current)
			p->refused_current = 1;
		/* The server's partial changed since it was probed: redo. */
		if (m->code == (uint16_t)-FERRY_E_MISMATCH && !op->fresh &&
		    push_add(p, OP_PUT, i, 1) == 0)
			return 0;
		report_fail(
		    p->report, p->arg, p->items[i].path, FERRY_KIND_FILE, r);
		return 0;
	}
	if (m->type != FERRY_F_OK)
		return ferry_errf(FERRY_E_PROTO, "%s: unexpected %s frame",
		    ferry_conn_peer_addr(p->c), ferry_frame_name(m->type));
	/* The receiver's own hash must be the one we computed while sending. */
	if (m->size != p->size[i] ||
	    CRYPTO_memcmp(m->sha256, p->sha[i], FERRY_SHA256_LEN) != 0) {
		r = ferry_errf(FERRY_E_INTEGRITY,
		    "%s: receiver's SHA-256 or size differs from ours",
		    p->items[i].path);
		report_fail(
		    p->report, p->arg, p->items[i].path, FERRY_KIND_FILE, r);
		return 0;
	}
	res.size = m->size;
	res.sent = m->size - op->offset;
	memcpy(res.sha256, m->sha256, FERRY_SHA256_LEN);
	report_res(p->report, p->arg, &res);
	return 0;
}

/* Handles one answer, to the oldest outstanding request. */
static int
push_response(struct push *p, const struct ferry_msg *m)
{
	const struct push_op *op;
	struct remote_state *st;
	size_t k;

	if (m->type == FERRY_F_EOF)
		return ferry_errf(FERRY_E_CLOSED,
		    "%s closed the connection with files unanswered",
		    ferry_conn_peer_addr(p->c));
	if (m->type != FERRY_F_OK && m->type != FERRY_F_ERR &&
	    m->type != FERRY_F_HAVE)
		return ferry_errf(FERRY_E_PROTO, "%s: unexpected %s frame",
		    ferry_conn_peer_addr(p->c), ferry_frame_name(m->type));
	/* PROTOCOL.md 5.9: id 0 answers no request: the session is over. */
	if (m->type == FERRY_F_ERR && m->id == 0)
		return peer_error(p->c, m);
	if (p->qh == p->qt)
		return ferry_errf(FERRY_E_PROTO, "%s: answer to no request",
		    ferry_conn_peer_addr(p->c));
	k = p->pend[p->qh];
	op = &p->ops[k];
	st = &p->st[op->item];
	/* PROTOCOL.md 6: answers come in request order; ids are 1 + index. */
	if (m->id != k + 1)
		return ferry_errf(FERRY_E_PROTO,
		    "%s: answer for request %lu, expected %zu",
		    ferry_conn_peer_addr(p->c), (unsigned long)m->id, k + 1);
	p->qh++;
	/* PROTOCOL.md 6.1: HAVE answers PROBE only, and PROBE gets no OK. */
	if ((m->type == FERRY_F_HAVE) != (op->kind == OP_PROBE) &&
	    m->type != FERRY_F_ERR)
		return ferry_errf(FERRY_E_PROTO,
		    "%s: %s answers no such request",
		    ferry_conn_peer_addr(p->c), ferry_frame_name(m->type));
	switch (op->kind) {
	case OP_PUT:
		return put_answer(p, k, m);
	case OP_PROBE:
		st->probed = 1;
		if (m->type == FERRY_F_ERR) {
			st->done = 1;
			report_fail(p->report, p->arg, p->items[op->item].path,
			    FERRY_KIND_FILE, peer_error(p->c, m));
			return 0;
		}
		st->kind = m->kind;
		st->size = m->size;
		st->part = m->offset;
		memcpy(st->sha, m->sha256, FERRY_SHA256_LEN);
		memcpy(st->part_sha, m->prefix, FERRY_SHA256_LEN);
		return 0;
	default:
		/* MKDIR, LINK: a directory is reported once, not for its time. */
		if (m->type == FERRY_F_ERR)
			report_fail(p->report, p->arg, p->items[op->item].path,
			    p->items[op->item].kind, peer_error(p->c, m));
		else if (op->kind != OP_ATTR) {
			struct ferry_xfer_result res = {
			    .name = p->items[op->item].path,
			    .kind = p->items[op->item].kind};

			report_res(p->report, p->arg, &res);
		}
		return 0;
	}
}

/* Reads answers: all that have arrived (wait == 0) or exactly one. */
static int
push_drain(struct push *p, int wait)
{
	struct ferry_msg m;
	int r;

	while (p->qh < p->qt) {
		if ((r = ferry_conn_read(p->c, &m, wait)) != 0)
			return r;
		if (m.type == FERRY_F_NONE)
			return 0;
		if ((r = push_response(p, &m)) != 0)
			return r;
		if (wait)
			return 0;
	}
	return 0;
}

static int
send_abort(struct ferry_conn *c, int code, const char *why)
{
	struct ferry_msg m = {.type = FERRY_F_ABORT,
	    .code = (uint16_t)-code,
	    .text = why,
	    .text_len = strlen(why)};

	return ferry_conn_send(c, &m);
}

/*
 * 0 if the file open on fd still has the size and modification time it had
 * when it was opened (st0), else FERRY_E_IO: what was read may be half old,
 * half new (tar's "file changed as we read it").
 */
static int
push_unchanged(int fd, const struct stat *st0, const char *path)
{
	struct stat now;

	if (fstat(fd, &now) != 0)
		return ferry_errf_errno(FERRY_E_IO, errno, "%s", path);
	if (now.st_size != st0->st_size ||
	    now.st_mtim.tv_sec != st0->st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != st0->st_mtim.tv_nsec)
		return ferry_errf(FERRY_E_IO,
		    "%s: file changed as we read it (%s); not sent, send it "
		    "again once it is still",
		    path,
		    now.st_size != st0->st_size ? "its size" : "its time");
	return 0;
}

/*
 * Streams one opened file (st0: its fstat at open) from offset after its
 * PUT; stops early if the server refused. sha, begun by the caller,
 * already holds the prefix.
 */
static int
push_stream(struct push *p, size_t i, int fd, const struct stat *st0,
    uint64_t offset, uint8_t **frame, struct ferry_sink *sha, int *local_err)
{
	uint64_t size = (uint64_t)st0->st_size, done = offset;
	struct ferry_msg end = {.type = FERRY_F_END};
	const char *path = p->items[i].path;
	int r;

	*local_err = 0;
	/* The hash-only sink was begun by push_file, the prefix in it. */
	if (offset > 0 && lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		*local_err = ferry_errf_errno(FERRY_E_IO, errno, "%s", path);
		r = send_abort(
		    p->c, *local_err, "sender could not read the file");
		goto stop;
	}
	while (done < size) {
		size_t want = size - done < FERRY_MAX_DATA
		                  ? (size_t)(size - done)
		                  : FERRY_MAX_DATA;
		ssize_t got = read(fd, *frame + FERRY_FRAME_HDR, want);
		uint8_t *sending = *frame;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			*local_err =
			    ferry_errf_errno(FERRY_E_IO, errno, "%s", path);
		else if (got == 0)
			*local_err = ferry_errf(FERRY_E_IO,
			    "%s: file changed as we read it (it shrank); not "
			    "sent, send it again once it is still",
			    path);
		if (got <= 0) {
			r = send_abort(
			    p->c, *local_err, "sender could not read the file");
			goto stop;
		}
		/*
		 * The sink only reads the payload, TLS only reads it too (and
		 * writes the header in front): both may hold it at once.
		 */
		if ((r = ferry_sink_push(sha, frame, (size_t)got)) != 0 ||
		    (r = ferry_conn_send_data(p->c, sending, (size_t)got)) != 0)
			goto stop;
		done += (uint64_t)got;
		if (p->progress != NULL) {
			struct ferry_xfer_progress pr = {.name = path,
			    .done = done,
			    .total = size,
			    .from = offset};

			p->progress(&pr, p->arg);
		}
		/* An early ERR means the server discards the rest: stop. */
		if ((done - offset) % PUSH_DRAIN_EVERY < (uint64_t)got &&
		    (r = push_drain(p, 0)) != 0)
			goto stop;
		if (p->refused_current) {
			r = send_abort(p->c, FERRY_E_REFUSED,
			    "sender stopped after refusal");
			goto stop;
		}
	}
	/* Grown, shrunk or rewritten meanwhile: ABORT, nothing is stored. */
	if ((*local_err = push_unchanged(fd, st0, path)) != 0) {
		r = send_abort(
		    p->c, *local_err, "the file changed as it was read");
		goto stop;
	}
	if ((r = ferry_sink_end(sha, p->sha[i])) != 0)
		return r;
	memcpy(end.sha256, p->sha[i], FERRY_SHA256_LEN);
	return ferry_conn_send(p->c, &end);
stop:
	ferry_sink_abandon(sha);
	return r;
}

/*
 * Opens a walked tree's file: rel beneath dirfd, no link followed on the
 * way (ferry_fsafe_parent) nor at the end (O_NOFOLLOW). 0 or -errno.
 */
static int
open_beneath(const struct ferry_push_item *it, int *fd)
{
	const char *leaf;
	int pfd, f, e;

	if ((e = ferry_fsafe_parent(it->dirfd, it->rel, &pfd, &leaf)) != 0) {
		ferry_err_clear();
		return e == FERRY_E_NOENT ? -ENOENT : -ELOOP;
	}
	f = openat(pfd, leaf,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	e = errno;
	close(pfd);
	if (f < 0)
		return -e;
	*fd = f;
	return 0;
}

/*
 * Opens item it to read and fstats it: a regular file, and for a tree's
 * file the very one the walk listed. 0, or FERRY_E_* with the detail.
 */
static int
open_item(const struct ferry_push_item *it, int *fd, struct stat *st)
{
	int f = -1, e;

	if (it->rel == NULL)
		e = (f = open(it->path,
		         O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0
		        ? -errno
		        : 0;
	else
		e = open_beneath(it, &f);
	/* A link swapped in after the walk, on the way or at the end. */
	if (it->rel != NULL && (e == -ELOOP || e == -ENOTDIR))
		return ferry_errf(FERRY_E_BADNAME,
		    "%s: changed during the send (a symbolic link is there "
		    "now); not sent",
		    it->path);
	if (e != 0)
		return ferry_errf_errno(
		    ferry_err_from_errno(-e), -e, "%s", it->path);
	if (fstat(f, st) != 0) {
		e = errno;
		close(f);
		return ferry_errf_errno(
		    ferry_err_from_errno(e), e, "%s", it->path);
	}
	if (it->rel != NULL &&
	    (!S_ISREG(st->st_mode) || (uint64_t)st->st_dev != it->dev ||
	        (uint64_t)st->st_ino != it->ino)) {
		close(f);
		return ferry_errf(FERRY_E_BADNAME,
		    "%s: changed during the send (not the file that was "
		    "listed); not sent",
		    it->path);
	}
	if (!S_ISREG(st->st_mode)) {
		close(f);
		return ferry_errf(FERRY_E_NOTREG, "%s: not a regular file%s",
		    it->path,
		    S_ISDIR(st->st_mode) ? " (a directory: use -r)" : "");
	}
	(void)fcntl(f, F_SETFL, 0);
	*fd = f;
	return 0;
}

/* Opens a local file to push; reports and returns -1 if it cannot. */
static int
push_open(struct push *p, size_t i, struct stat *st)
{
	int fd, r;

	if ((r = open_item(&p->items[i], &fd, st)) != 0) {
		report_fail(
		    p->report, p->arg, p->items[i].path, FERRY_KIND_FILE, r);
		return -1;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return fd;
}

/*
 * With the server's HAVE for a file in hand: 1 if nothing is to be sent
 * (reported up to date, or refused as existing), else 0 with *offset where
 * to resume. Hashes our file (or its prefix) to compare. With -p an up to
 * date file still needs its mode and time: 0 with op->same set, *offset
 * the size and p->sha[i] its digest (PUTAT SAME, PROTOCOL.md 5.12).
 */
static int
push_decide(struct push *p, size_t i, int fd, uint64_t size, struct push_op *op,
    uint64_t *offset)
{
	const struct remote_state *st = &p->st[i];
	const char *path = p->items[i].path;
	uint8_t mine[FERRY_SHA256_LEN];
	int force = (p->flags & FERRY_PUT_FORCE) != 0, r;

	*offset = 0;
	if (!p->sync || op->fresh || size != st->probe_size)
		return 0;
	if (st->kind == FERRY_KIND_FILE && st->size == size) {
		if ((r = ferry_sha256_fd(fd, size, mine)) != 0) {
			report_fail(p->report, p->arg, path, FERRY_KIND_FILE,
			    ferry_errf(r, "%s: %s", path, ferry_err_detail(r)));
			return 1;
		}
		if (CRYPTO_memcmp(mine, st->sha, FERRY_SHA256_LEN) == 0 &&
		    (p->flags & FERRY_PUT_PRESERVE) != 0 &&
		    (ferry_conn_features(p->c) & FERRY_FEATURE_SAME) != 0) {
			op->same = 1;
			*offset = size;
			memcpy(p->sha[i], mine, FERRY_SHA256_LEN);
			return 0;
		}
		if (CRYPTO_memcmp(mine, st->sha, FERRY_SHA256_LEN) == 0) {
			struct ferry_xfer_result res = {.name = path,
			    .kind = FERRY_KIND_FILE,
			    .size = size,
			    .uptodate = 1};

			memcpy(res.sha256, mine, FERRY_SHA256_LEN);
			if ((p->flags & FERRY_PUT_PRESERVE) != 0)
				ferry_warn(
				    "%s: up to date, but the peer cannot "
				    "give it this mode and time (it lacks "
				    "the SAME feature)",
				    path);
			report_res(p->report, p->arg, &res);
			return 1;
		}
	}
	if (st->kind != 0 && !force) {
		report_fail(p->report, p->arg, path, FERRY_KIND_FILE,
		    ferry_errf(FERRY_E_EXIST,
		        "%s: %s already exists on the peer%s (use --force to "
		        "replace it)",
		        path, p->items[i].name,
		        st->kind == FERRY_KIND_FILE ? ", with other content"
		                                    : ", not as a file"));
		return 1;
	}
	/* A candidate: push_file compares the prefix's digest. */
	if ((p->flags & FERRY_PUSH_NO_RESUME) == 0 && st->part > 0 &&
	    st->part <= size)
		*offset = st->part;
	return 0;
}

/* Sends op k, a request without a stream: MKDIR, LINK or PROBE. */
static int
push_request(struct push *p, size_t k)
{
	const struct push_op *op = &p->ops[k];
	const struct ferry_push_item *it = &p->items[op->item];
	struct ferry_msg m = {.id = (uint32_t)(k + 1),
	    .text = it->name,
	    .text_len = strlen(it->name)};
	struct stat st;
	int fd;

	switch (op->kind) {
	case OP_MKDIR:
	case OP_ATTR:
		m.type = FERRY_F_MKDIR;
		m.mode = it->mode;
		m.mtime = it->mtime;
		m.flags = op->kind == OP_ATTR ? FERRY_PUT_PRESERVE : 0;
		break;
	case OP_LINK:
		m.type = FERRY_F_LINK;
		m.flags = p->flags & FERRY_PUT_FORCE;
		m.target = it->target;
		m.target_len = strlen(it->target);
		break;
	default:
		if (open_item(it, &fd, &st) != 0) {
			/* push_open says why when the file's turn comes. */
			ferry_err_clear();
			p->st[op->item].probed = 1;
			return 0;
		}
		close(fd);
		m.type = FERRY_F_PROBE;
		m.size = (uint64_t)st.st_size;
		p->st[op->item].probe_size = m.size;
		break;
	}
	p->pend[p->qt++] = k;
	return ferry_conn_send(p->c, &m);
}

/*
 * -p on a file the server already has (op k, op->same): PUTAT SAME with
 * the whole file's digest and an empty stream; the answer is reported as
 * up to date (PROTOCOL.md 5.12).
 */
static int
push_same(struct push *p, size_t k, struct ferry_msg *put)
{
	struct push_op *op = &p->ops[k];
	struct ferry_msg end = {.type = FERRY_F_END};
	int r;

	put->flags |= FERRY_PUT_SAME;
	put->offset = put->size;
	memcpy(put->prefix, p->sha[op->item], FERRY_SHA256_LEN);
	memcpy(end.sha256, p->sha[op->item], FERRY_SHA256_LEN);
	op->offset = put->size;
	p->size[op->item] = put->size;
	p->current = k;
	p->refused_current = 0;
	if ((r = ferry_conn_send(p->c, put)) != 0)
		return r;
	p->pend[p->qt++] = k;
	if ((r = ferry_conn_send(p->c, &end)) != 0)
		return r;
	return push_drain(p, 0);
}

/* Sends op k, a PUT or PUTAT, and streams its file. */
static int
push_file(struct push *p, size_t k, uint8_t **frame, struct ferry_sink *sha)
{
	struct push_op *op = &p->ops[k];
	size_t i = op->item;
	const struct ferry_push_item *it = &p->items[i];
	struct ferry_msg put = {.id = (uint32_t)(k + 1),
	    .flags = p->flags & FERRY_PUT_FLAGS_KNOWN,
	    .text = it->name,
	    .text_len = strlen(it->name)};
	struct stat st;
	uint64_t offset = 0;
	int fd, local_err, r;

	/* The file's PROBE answer decides what to send. */
	while (p->sync && !op->fresh && !p->st[i].probed)
		if ((r = push_drain(p, 1)) != 0)
			return r;
	if (p->st[i].done && !op->fresh)
		return 0;
	if ((fd = push_open(p, i, &st)) < 0)
		return 0;
	if (push_decide(p, i, fd, (uint64_t)st.st_size, op, &offset)) {
		close(fd);
		return 0;
	}
	put.type = p->sync ? FERRY_F_PUTAT : FERRY_F_PUT;
	put.size = (uint64_t)st.st_size;
	put.mode = st.st_mode & 07777;
	put.mtime = st.st_mtim.tv_sec;
	if (op->same) {
		close(fd);
		return push_same(p, k, &put);
	}
	/*
	 * Our prefix is read and hashed once: its digest is compared with the
	 * server's partial, goes in PUTAT, and the file's hash goes on from it.
	 */
	if (offset > 0) {
		if (ferry_sink_begin_prefix(sha, -1, fd, offset, put.prefix) !=
		    0)
			offset = 0;
		else if (CRYPTO_memcmp(put.prefix, p->st[i].part_sha,
		             FERRY_SHA256_LEN) != 0) {
			ferry_sink_abandon(sha);
			offset = 0;
		}
	}
	if (offset == 0) {
		ferry_sink_begin(sha, -1);
		memcpy(put.prefix, ferry__sha256_empty, FERRY_SHA256_LEN);
	}
	put.offset = offset;
	op->offset = offset;
	p->current = k;
	p->refused_current = 0;
	p->size[i] = put.size;
	if ((r = ferry_conn_send(p->c, &put)) != 0) {
		ferry_sink_abandon(sha);
		close(fd);
		return r;
	}
	p->pend[p->qt++] = k;
	r = push_stream(p, i, fd, &st, offset, frame, sha, &local_err);
	close(fd);
	if (r != 0)
		return r;
	/* The server answers the ABORT with ERR; report our reason. */
	if (local_err != 0) {
		free(p->why[i]);
		if ((p->why[i] = strdup(ferry_err_detail(local_err))) == NULL)
			return FERRY_E_NOMEM;
	}
	return push_drain(p, 0);
}

int
ferry_xfer_push(struct ferry_conn *c, const struct ferry_push_item *items,
    size_t n, uint32_t flags, ferry_xfer_progress_fn *progress,
    ferry_xfer_report_fn *report, void *arg)
{
	struct push p = {.c = c,
	    .items = items,
	    .flags = flags,
	    .sync = (ferry_conn_features(c) & FERRY_FEATURE_SYNC) != 0,
	    .progress = progress,
	    .report = report,
	    .arg = arg};
	struct ferry_sink *sha = NULL;
	uint8_t *frame = NULL;
	int r = FERRY_E_NOMEM;

	/* At most: a request per item, a PUT and a retry per file, a time per dir. */
	p.cap = 4 * n + 1;
	if ((p.ops = calloc(p.cap, sizeof(*p.ops))) == NULL ||
	    (p.pend = calloc(p.cap, sizeof(*p.pend))) == NULL ||
	    (p.st = calloc(n + 1, sizeof(*p.st))) == NULL ||
	    (p.sha = calloc(n + 1, sizeof(*p.sha))) == NULL ||
	    (p.size = calloc(n + 1, sizeof(*p.size))) == NULL ||
	    (p.why = calloc(n + 1, sizeof(*p.why))) == NULL ||
	    (frame = ferry_frame_alloc()) == NULL)
		goto out;
	if ((r = ferry_sink_new(&sha)) != 0)
		goto out;
	/* Directories and links first (parents before children), then files. */
	for (size_t i = 0; i < n; i++) {
		uint8_t kind = items[i].kind;
		int bad = p.sync ? ferry_fsafe_check_path(
		                       items[i].name, strlen(items[i].name))
		                 : ferry_fsafe_check_name(
		                       items[i].name, strlen(items[i].name));

		if (bad == 0 && !p.sync && kind != 0 && kind != FERRY_KIND_FILE)
			bad = ferry_errf(FERRY_E_USAGE,
			    "%s: the peer cannot receive directories or links "
			    "(it lacks the SYNC feature)",
			    items[i].name);
		if (bad != 0) {
			p.st[i].done = p.st[i].probed = 1;
			report_fail(report, arg, items[i].path,
			    kind ? kind : FERRY_KIND_FILE, bad);
			continue;
		}
		if (kind == FERRY_KIND_DIR)
			r = push_add(&p, OP_MKDIR, i, 0);
		else if (kind == FERRY_KIND_LINK)
			r = push_add(&p, OP_LINK, i, 0);
		else
			r = p.sync ? push_add(&p, OP_PROBE, i, 0) : 0;
		if (r != 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((items[i].kind == 0 || items[i].kind == FERRY_KIND_FILE) &&
		    !p.st[i].done && (r = push_add(&p, OP_PUT, i, 0)) != 0)
			goto out;
	/* Adding entries changed the directories' times: set them last. */
	for (size_t i = n; i-- > 0;)
		if (items[i].kind == FERRY_KIND_DIR && !p.st[i].done &&
		    (flags & FERRY_PUT_PRESERVE) != 0 &&
		    (r = push_add(&p, OP_ATTR, i, 0)) != 0)
			goto out;
	/* Answers may add retries: go on until every request is answered. */
	for (size_t k = 0;;) {
		if (k < p.nops && p.qt - p.qh < FERRY_MAX_INFLIGHT) {
			r = p.ops[k].kind == OP_PUT
			        ? push_file(&p, k, &frame, sha)
			        : push_request(&p, k);
			k++;
		} else if (p.qh < p.qt)
			r = push_drain(&p, 1);
		else if (k == p.nops)
			break;
		if (r != 0)
			goto out;
	}
	r = 0;
out:
	ferry_sink_free(sha);
	ferry_frame_free(frame);
	free(p.ops);
	free(p.pend);
	free(p.st);
	free(p.sha);
	free(p.size);
	for (size_t i = 0; p.why != NULL && i < n; i++)
		free(p.why[i]);
	free(p.why);
	return r;
}

/* One request of a pull; its id is its index + 1. */
enum pull_mode { PULL_GET, PULL_RESUME, PULL_SAME };
struct pull_req {
	size_t item;
	uint8_t mode;
	uint64_t offset; /* RESUME, SAME: bytes we hold */
	uint8_t sha[FERRY_SHA256_LEN]; /* SAME: of our whole copy */
	size_t bytes; /* counted against FERRY_MAX_INFLIGHT_BYTES */
};

struct pull {
	struct ferry_conn *c;
	const struct ferry_pull_item *items;
	int dirfd;
	unsigned flags;
	int sync;
	struct ferry_sink *sink;
	uint8_t *spare;
	ferry_xfer_progress_fn *progress;
	ferry_xfer_report_fn *report;
	void *arg;
	struct pull_req *reqs;
	size_t nreqs, cap;
	uint64_t tree_total; /* for progress: a tree's files, all together */
};

/* The directory holding item's local path, and the name in it. */
static int
pull_parent(const struct pull *p, const struct ferry_pull_item *it, int *fd,
    const char **leaf)
{
	/* fsafe's details name the path already. */
	return ferry_fsafe_parent(p->dirfd, it->local, fd, leaf);
}

/*
 * -p for a file that is up to date (SAME): it gets FILEAT's mode & 0777 and
 * time all the same, as a new one would. The file that was hashed must
 * still be there as a regular file; no link is followed.
 */
static int
pull_same_attrs(struct pull *p, const struct ferry_pull_item *it,
    const struct ferry_msg *file)
{
	struct timespec ts[2] = {{.tv_sec = (time_t)file->mtime, .tv_nsec = 0},
	    {.tv_sec = (time_t)file->mtime, .tv_nsec = 0}};
	const char *leaf;
	struct stat st;
	int dirfd, fd, r;

	if ((r = pull_parent(p, it, &dirfd, &leaf)) != 0)
		return r;
	fd =
	    openat(dirfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dirfd);
	if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		return ferry_errf(FERRY_E_NOTREG,
		    "%s: changed meanwhile: not a regular file", it->shown);
	}
	if (fd < 0 || fchmod(fd, file->mode & 0777) != 0 ||
	    futimens(fd, ts) != 0)
		r = ferry_errf_errno(FERRY_E_IO, errno,
		    "%s: cannot set its mode or time", it->shown);
	if (fd >= 0)
		close(fd);
	return r;
}

/* One file of a pull on its way in: what pull_one's steps share. */
struct pull_file {
	const struct ferry_pull_item *it;
	const struct pull_req *q;
	const struct ferry_msg *file; /* its FILE or FILEAT */
	struct ferry_tmpfile tmp;
	struct ferry_xfer_result res;
	uint64_t done; /* bytes of the file we hold, the resumed prefix too */
	const char *leaf; /* the name in dirfd it gets */
	int dirfd;
	int local; /* a local failure: the stream is read on, then reported */
	int sinking; /* the sink's worker holds tmp.fd */
};

/* Names a local failure after the file: "NAME: detail". */
static int
pull_local_err(const struct pull_file *f, int r)
{
	return r == 0
	           ? 0
	           : ferry_errf(r, "%s: %s", f->it->shown, ferry_err_detail(r));
}

/*
 * Where a file that is not up to date goes: a temporary file, or the kept
 * partial it resumes (PROTOCOL.md 7.4), handed to the sink. A failure here
 * is f->local: the file fails, the connection goes on.
 */
static void
pull_file_open(struct pull *p, struct pull_file *f)
{
	uint64_t offset = f->file->offset, have = 0;
	uint8_t pre[FERRY_SHA256_LEN];
	int local;

	if ((local = pull_parent(p, f->it, &f->dirfd, &f->leaf)) != 0) {
		f->local = pull_local_err(f, local);
		return;
	}
	if (p->sync && f->file->size >= FERRY_RESUME_MIN)
		local = ferry_partial_open(f->dirfd, f->leaf, &f->tmp, &have);
	else
		local = ferry_tmpfile_open(f->dirfd, &f->tmp);
	/* A partial someone else put there: one line, then anew. */
	if (f->tmp.note[0] != '\0')
		ferry_warn("%s: %s", f->it->shown, f->tmp.note);
	if (local == 0 && offset > 0 && (!f->tmp.resumable || have < offset))
		local = ferry_errf(
		    FERRY_E_IO, "the partial file changed meanwhile");
	if (local == 0 && offset > 0)
		local = ferry_sink_begin_prefix(
		    p->sink, f->tmp.fd, f->tmp.fd, offset, pre);
	else if (local == 0)
		ferry_sink_begin(p->sink, f->tmp.fd);
	f->sinking = local == 0;
	if (local == 0 && (ftruncate(f->tmp.fd, (off_t)offset) != 0 ||
	                      lseek(f->tmp.fd, (off_t)offset, SEEK_SET) < 0))
		local = ferry_errf_errno(FERRY_E_IO, errno, "write");
	f->local = pull_local_err(f, local);
}

/* A DATA frame: counted, shown, and handed to the sink's thread. */
static int
pull_file_data(struct pull *p, struct pull_file *f, const struct ferry_msg *m)
{
	uint64_t size = f->file->size;

	if (m->data_len > size - f->done)
		return ferry_errf(FERRY_E_PROTO,
		    "%s: more data than announced for %s",
		    ferry_conn_peer_addr(p->c), f->it->remote);
	f->done += m->data_len;
	if (p->progress != NULL) {
		struct ferry_xfer_progress pr = {.name = f->it->shown,
		    .done = f->done,
		    .total = size,
		    .from = f->file->offset,
		    .tree_total = p->tree_total};

		p->progress(&pr, p->arg);
	}
	if (f->local != 0)
		return 0; /* keep the connection in step */
	/* Hashing and writing happen on the sink's thread. */
	ferry_conn_swap_frame(p->c, &p->spare);
	f->local =
	    pull_local_err(f, ferry_sink_push(p->sink, &p->spare, m->data_len));
	return 0;
}

/* END of a file asked for as SAME: the server's digest must be ours. */
static int
pull_file_same(struct pull *p, struct pull_file *f, const struct ferry_msg *m)
{
	int r;

	if (CRYPTO_memcmp(f->q->sha, m->sha256, FERRY_SHA256_LEN) != 0)
		return ferry_errf(FERRY_E_PROTO,
		    "%s: %s: the server's digest is not the one it said "
		    "matched",
		    ferry_conn_peer_addr(p->c), f->it->remote);
	/* -p: the mode and time, as for a new file. */
	if ((p->flags & FERRY_PULL_PRESERVE) != 0 &&
	    (r = pull_same_attrs(p, f->it, f->file)) != 0) {
		report_fail(
		    p->report, p->arg, f->it->shown, FERRY_KIND_FILE, r);
		return 0;
	}
	f->res.size = f->file->size;
	f->res.uptodate = 1;
	f->res.resumed_from = 0;
	memcpy(f->res.sha256, f->q->sha, FERRY_SHA256_LEN);
	report_res(p->report, p->arg, &f->res);
	return 0;
}

/*
 * END of a file that streamed: its digest checked against the sender's,
 * then the file under its final name, or a failure reported for it. Only a
 * failure of the connection itself is returned.
 */
static int
pull_file_end(struct pull *p, struct pull_file *f, const struct ferry_msg *m)
{
	uint8_t digest[FERRY_SHA256_LEN];
	mode_t mask = umask(0), mode = f->file->mode & 0777;
	int local = f->local;

	umask(mask);
	if (local == 0) {
		f->sinking = 0;
		local = pull_local_err(f, ferry_sink_end(p->sink, digest));
	}
	if (local == 0 &&
	    CRYPTO_memcmp(digest, m->sha256, FERRY_SHA256_LEN) != 0)
		local = ferry_errf(FERRY_E_INTEGRITY,
		    "%s: SHA-256 mismatch; the file was not saved",
		    f->it->shown);
	else if (local == 0 && (p->flags & FERRY_PULL_PRESERVE) != 0) {
		struct timespec ts[2] = {
		    {.tv_sec = (time_t)f->file->mtime, .tv_nsec = 0},
		    {.tv_sec = (time_t)f->file->mtime, .tv_nsec = 0}};

		/* Like scp -p: the peer's bits, not less our umask. */
		mask = 0;
		if (futimens(f->tmp.fd, ts) != 0)
			local = pull_local_err(
			    f, ferry_errf_errno(FERRY_E_IO, errno,
			           "cannot set the modification time"));
	}
	if (local == 0)
		local = pull_local_err(
		    f, ferry_tmpfile_commit(&f->tmp, f->leaf, mode & ~mask,
		           (p->flags & FERRY_PULL_REPLACE) != 0));
	if (local != 0) {
		report_fail(
		    p->report, p->arg, f->it->shown, FERRY_KIND_FILE, local);
		return 0;
	}
	f->res.size = f->file->size;
	f->res.sent = f->file->size - f->file->offset;
	memcpy(f->res.sha256, digest, FERRY_SHA256_LEN);
	report_res(p->report, p->arg, &f->res);
	return 0;
}

/*
 * The frames of one file after its FILE/FILEAT, up to END or ABORT: 0
 * with the outcome reported, or the error that ends the connection.
 */
static int
pull_file_frames(struct pull *p, struct pull_file *f)
{
	struct ferry_msg m;
	int r;

	for (;;) {
		if ((r = ferry_conn_read(p->c, &m, 1)) == 0 &&
		    m.type == FERRY_F_EOF)
			r = ferry_errf(FERRY_E_CLOSED,
			    "%s closed the connection in the middle of %s",
			    ferry_conn_peer_addr(p->c), f->it->remote);
		if (r != 0) {
			/* Cut by the network: keep what arrived (PROTOCOL.md 7.4). */
			if (ferry__stream_cut(r) && f->local == 0 &&
			    f->sinking) {
				ferry_sink_abandon(p->sink);
				f->sinking = 0;
				ferry_tmpfile_keep(&f->tmp, f->file->size);
			}
			return r;
		}
		if (m.type != FERRY_F_DATA)
			break;
		if ((r = pull_file_data(p, f, &m)) != 0)
			return r;
	}
	if (m.type == FERRY_F_ABORT) {
		r = ferry_err_from_wire(m.code);
		ferry_errf(r, "%s: sender aborted %s: %.*s",
		    ferry_conn_peer_addr(p->c), f->it->remote, (int)m.text_len,
		    m.text);
		report_fail(
		    p->report, p->arg, f->it->shown, FERRY_KIND_FILE, r);
		return 0;
	}
	if (m.type != FERRY_F_END)
		return ferry_errf(FERRY_E_PROTO,
		    "%s: unexpected %s frame inside a file",
		    ferry_conn_peer_addr(p->c), ferry_frame_name(m.type));
	if (f->done != f->file->size)
		return ferry_errf(FERRY_E_PROTO,
		    "%s: %s ended after %llu of %llu bytes",
		    ferry_conn_peer_addr(p->c), f->it->remote,
		    (unsigned long long)f->done,
		    (unsigned long long)f->file->size);
	if (f->q->mode == PULL_SAME)
		return pull_file_same(p, f, &m);
	return pull_file_end(p, f, &m);
}

/*
 * Receives one file's DATA* END (or ABORT) after FILE or FILEAT into a
 * temporary or kept partial file; commits it once verified.
 */
static int
pull_one(struct pull *p, const struct pull_req *q, const struct ferry_msg *file)
{
	struct pull_file f = {.it = &p->items[q->item],
	    .q = q,
	    .file = file,
	    .tmp = {.fd = -1},
	    .res = {.name = p->items[q->item].shown,
	        .kind = FERRY_KIND_FILE,
	        .resumed_from = file->offset},
	    .done = file->offset,
	    .dirfd = -1};
	int r;

	if (file->size > FERRY_MAX_FILE_SIZE || file->offset > file->size)
		return ferry_errf(FERRY_E_PROTO, "%s: absurd file size",
		    ferry_conn_peer_addr(p->c));
	/* PROTOCOL.md 5.15: from our offset, or from 0; SAME: nothing. */
	if (file->offset != 0 && file->offset != q->offset)
		return ferry_errf(FERRY_E_PROTO,
		    "%s: %s resumes at a byte we did not offer",
		    ferry_conn_peer_addr(p->c), f.it->remote);
	if (q->mode == PULL_SAME && file->offset != file->size)
		return ferry_errf(FERRY_E_PROTO,
		    "%s: %s: a stream where none was asked for",
		    ferry_conn_peer_addr(p->c), f.it->remote);
	if (q->mode != PULL_SAME)
		pull_file_open(p, &f);
	r = pull_file_frames(p, &f);
	/* The worker lets go of tmp.fd before it is closed. */
	if (f.sinking)
		ferry_sink_abandon(p->sink);
	/* Whatever did not commit never appears under its final name. */
	ferry_tmpfile_discard(&f.tmp);
	if (f.dirfd >= 0)
		close(f.dirfd);
	return r;
}

/*
 * Decides how to ask for item i, from what we hold: a copy (SAME), a kept
 * partial (RESUME) or nothing (GET). 1 when the item is done (reported).
 */
static int
pull_plan(struct pull *p, size_t i, int fresh, struct pull_req *q)
{
	const struct ferry_pull_item *it = &p->items[i];
	const char *leaf;
	struct stat st;
	int dirfd, fd, r;

	*q = (struct pull_req){.item = i, .mode = PULL_GET};
	q->bytes = strlen(it->remote) + 16;
	if ((r = pull_parent(p, it, &dirfd, &leaf)) != 0) {
		report_fail(p->report, p->arg, it->shown, FERRY_KIND_FILE, r);
		return 1;
	}
	if (fresh) {
		close(dirfd);
		return 0;
	}
	if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode) || !p->sync) {
			close(dirfd);
			if ((p->flags & FERRY_PULL_REPLACE) != 0 &&
			    !S_ISDIR(st.st_mode))
				return 0;
			report_fail(p->report, p->arg, it->shown,
			    FERRY_KIND_FILE,
			    ferry_errf(FERRY_E_EXIST,
			        "%s already exists%s (use --force to replace "
			        "it)",
			        it->shown,
			        S_ISREG(st.st_mode) ? "" : ", not as a file"));
			return 1;
		}
		/* Ask whether the server's file is this one (up to date). */
		fd = openat(dirfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		r = fd < 0
		        ? ferry_errf_errno(FERRY_E_IO, errno, "%s", it->shown)
		        : ferry_sha256_fd(fd, (uint64_t)st.st_size, q->sha);
		if (fd >= 0)
			close(fd);
		close(dirfd);
		if (r != 0) {
			report_fail(
			    p->report, p->arg, it->shown, FERRY_KIND_FILE, r);
			return 1;
		}
		q->mode = PULL_SAME;
		q->offset = (uint64_t)st.st_size;
		return 0;
	}
	if (p->sync && (p->flags & FERRY_PULL_NO_RESUME) == 0 &&
	    ferry_partial_peek(dirfd, leaf, &fd) == 0) {
		if (fstat(fd, &st) == 0 && st.st_size > 0 &&
		    ferry_sha256_fd(fd, (uint64_t)st.st_size, q->sha) == 0) {
			q->mode = PULL_RESUME;
			q->offset = (uint64_t)st.st_size;
		}
		close(fd);
	}
	close(dirfd);
	return 0;
}

static int
pull_send(struct pull *p, size_t k)
{
	const struct pull_req *q = &p->reqs[k];
	const struct ferry_pull_item *it = &p->items[q->item];
	struct ferry_msg m = {.type = FERRY_F_GET,
	    .id = (uint32_t)(k + 1),
	    .text = it->remote,
	    .text_len = strlen(it->remote)};

	if (q->mode != PULL_GET) {
		m.type = FERRY_F_GETAT;
		m.flags = q->mode == PULL_SAME ? FERRY_GETAT_SAME : 0;
		m.offset = q->offset;
		memcpy(m.prefix, q->sha, FERRY_SHA256_LEN);
	}
	return ferry_conn_send(p->c, &m);
}

/* Handles the answer to request k. */
static int
pull_answer(struct pull *p, size_t k, const struct ferry_msg *m)
{
	const struct pull_req *q = &p->reqs[k];
	const struct ferry_pull_item *it = &p->items[q->item];
	uint8_t want = q->mode == PULL_GET ? FERRY_F_FILE : FERRY_F_FILEAT;
	int r;

	if ((m->type != want && m->type != FERRY_F_ERR) || m->id != k + 1)
		return ferry_errf(FERRY_E_PROTO,
		    "%s: unexpected %s frame (id %lu) for request %zu",
		    ferry_conn_peer_addr(p->c), ferry_frame_name(m->type),
		    (unsigned long)m->id, k + 1);
	if (m->type != FERRY_F_ERR)
		return pull_one(p, q, m);
	if (q->mode == PULL_SAME && m->code == (uint16_t)-FERRY_E_MISMATCH) {
		/* Ours differs from the server's: replace it, or say so. */
		if ((p->flags & FERRY_PULL_REPLACE) != 0 && p->nreqs < p->cap) {
			pull_plan(p, q->item, 1, &p->reqs[p->nreqs]);
			p->nreqs++;
			return 0;
		}
		report_fail(p->report, p->arg, it->shown, FERRY_KIND_FILE,
		    ferry_errf(FERRY_E_EXIST,
		        "%s already exists and differs from the peer's (use "
		        "--force to replace it)",
		        it->shown));
		return 0;
	}
	r = peer_error(p->c, m);
	report_fail(p->report, p->arg, it->shown, FERRY_KIND_FILE, r);
	return 0;
}

static int pull_items(struct ferry_conn *c, const struct ferry_pull_item *items,
    size_t n, int dirfd, unsigned flags, uint64_t tree_total,
    ferry_xfer_progress_fn *progress, ferry_xfer_report_fn *report, void *arg);

int
ferry_xfer_pull(struct ferry_conn *c, const struct ferry_pull_item *items,
    size_t n, int dirfd, unsigned flags, ferry_xfer_progress_fn *progress,
    ferry_xfer_report_fn *report, void *arg)
{
	return pull_items(c, items, n, dirfd, flags, 0, progress, report, arg);
}

static int
pull_items(struct ferry_conn *c, const struct ferry_pull_item *items, size_t n,
    int dirfd, unsigned flags, uint64_t tree_total,
    ferry_xfer_progress_fn *progress, ferry_xfer_report_fn *report, void *arg)
{
	struct pull p = {.c = c,
	    .items = items,
	    .dirfd = dirfd,
	    .flags = flags,
	    .sync = (ferry_conn_features(c) & FERRY_FEATURE_SYNC) != 0,
	    .progress = progress,
	    .report = report,
	    .arg = arg,
	    .cap = 2 * n + 1,
	    .tree_total = tree_total};
	size_t next = 0, sent = 0, done = 0, inflight_bytes = 0;
	int r;

	if ((r = ferry_sink_new(&p.sink)) != 0)
		return r;
	if ((p.reqs = calloc(p.cap, sizeof(*p.reqs))) == NULL ||
	    (p.spare = ferry_frame_alloc()) == NULL) {
		r = FERRY_E_NOMEM;
		goto out;
	}
	for (;;) {
		struct ferry_msg m;

		/* Keep a bounded window of requests in flight (PROTOCOL.md 6). */
		while (sent - done < FERRY_MAX_INFLIGHT &&
		       inflight_bytes < FERRY_MAX_INFLIGHT_BYTES) {
			if (sent == p.nreqs) {
				if (next == n)
					break;
				if (pull_plan(&p, next++, 0, &p.reqs[p.nreqs]))
					continue;
				p.nreqs++;
			}
			if ((r = pull_send(&p, sent)) != 0)
				goto out;
			inflight_bytes += p.reqs[sent].bytes;
			sent++;
		}
		if (done == sent)
			break;
		if ((r = ferry_conn_read(c, &m, 1)) != 0)
			goto out;
		if (m.type == FERRY_F_EOF) {
			r = ferry_errf(FERRY_E_CLOSED,
			    "%s closed the connection with files pending",
			    ferry_conn_peer_addr(c));
			goto out;
		}
		if (m.type == FERRY_F_ERR && m.id == 0) {
			r = peer_error(c, &m);
			goto out;
		}
		if ((r = pull_answer(&p, done, &m)) != 0)
			goto out;
		inflight_bytes -= p.reqs[done].bytes;
		done++;
	}
	r = 0;
out:
	free(p.reqs);
	ferry_frame_free(p.spare);
	ferry_sink_free(p.sink);
	return r;
}

/* The paths a WALK answer named so far: a set, to refuse repeats and orphans. */
struct pathset {
	char **slot; /* open addressing; NULL is free */
	uint8_t *kind;
	size_t cap, n, bytes;
};

static uint64_t
path_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
	return h;
}

/* The slot of s[0..n) in the set: where it is, or where it would go. */
static size_t
pathset_find(const struct pathset *ps, const char *s, size_t n)
{
	size_t i = (size_t)path_hash(s, n) & (ps->cap - 1);

	while (ps->slot[i] != NULL &&
	       (strlen(ps->slot[i]) != n || memcmp(ps->slot[i], s, n) != 0))
		i = (i + 1) & (ps->cap - 1);
	return i;
}

static int
pathset_add(struct pathset *ps, const char *s, size_t n, uint8_t kind)
{
	size_t i;

	if (2 * (ps->n + 1) > ps->cap) {
		struct pathset bigger = {.cap = ps->cap ? 2 * ps->cap : 1024,
		    .n = ps->n,
		    .bytes = ps->bytes};

		if ((bigger.slot = calloc(bigger.cap, sizeof(char *))) ==
		        NULL ||
		    (bigger.kind = calloc(bigger.cap, 1)) == NULL) {
			free(bigger.slot);
			return FERRY_E_NOMEM;
		}
		for (size_t j = 0; j < ps->cap; j++)
			if (ps->slot[j] != NULL) {
				i = pathset_find(
				    &bigger, ps->slot[j], strlen(ps->slot[j]));
				bigger.slot[i] = ps->slot[j];
				bigger.kind[i] = ps->kind[j];
			}
		free(ps->slot);
		free(ps->kind);
		*ps = bigger;
	}
	i = pathset_find(ps, s, n);
	if ((ps->slot[i] = strndup(s, n)) == NULL)
		return FERRY_E_NOMEM;
	ps->kind[i] = kind;
	ps->n++;
	ps->bytes += n + 1;
	return 0;
}

static void
pathset_free(struct pathset *ps)
{
	for (size_t i = 0; i < ps->cap; i++)
		free(ps->slot[i]);
	free(ps->slot);
	free(ps->kind);
}

/* The length of the last component of a NODE's path. */
static size_t
leaf_len(const struct ferry_msg *m)
{
	size_t n = 0;

	while (n < m->text_len && m->text[m->text_len - 1 - n] != '/')
		n++;
	return n;
}

/* All the paths of one WALK answer together stay below this. */
#define WALK_MAX_BYTES (64u << 20)

/*
 * Checks one NODE against PROTOCOL.md 5.16 before anything is made for it:
 * a valid path, under what was asked for, new, its parent a directory
 * already named.
 */
static int
walk_check(struct ferry_conn *c, const char *top, size_t toplen,
    const struct ferry_msg *m, struct pathset *ps)
{
	const char *why = NULL;
	size_t i;

	if (ferry_fsafe_check_path(m->text, m->text_len) != 0 ||
	    m->text_len == 0)
		why = "an invalid path";
	else if (toplen > 0 &&
	         !(m->text_len == toplen &&
	             memcmp(m->text, top, toplen) == 0) &&
	         !(m->text_len > toplen && memcmp(m->text, top, toplen) == 0 &&
	             m->text[toplen] == '/'))
		why = "a path outside what was asked for";
	else if (ps->n == 0 && toplen > 0 && m->text_len != toplen)
		why = "a first entry that is not the path asked for";
	else if (ferry_fsafe_reserved(
	             m->text + (m->text_len - leaf_len(m)), leaf_len(m)))
		why = "a name reserved for files being received";
	else if (m->kind != FERRY_KIND_FILE && m->kind != FERRY_KIND_DIR &&
	         m->kind != FERRY_KIND_LINK)
		why = "an unknown kind of entry";
	else if (m->size > FERRY_MAX_FILE_SIZE)
		why = "an absurd file size";
	else if (ps->cap > 0 &&
	         ps->slot[pathset_find(ps, m->text, m->text_len)] != NULL)
		why = "the same path twice";
	else if (ps->bytes + m->text_len > WALK_MAX_BYTES ||
	         ps->n >= FERRY_MAX_LIST_ENTRIES)
		why = "more paths than a tree may have";
	if (why == NULL && m->text_len > toplen) {
		/* Not the top: its parent must be a directory already named. */
		size_t leaf = leaf_len(m);

		if (leaf == m->text_len) {
			if (toplen > 0)
				why = "an entry whose directory was not sent";
		} else {
			i = ps->cap > 0 ? pathset_find(ps, m->text,
			                      m->text_len - leaf - 1)
			                : 0;
			if (ps->cap == 0 || ps->slot[i] == NULL ||
			    ps->kind[i] != FERRY_KIND_DIR)
				why = "an entry whose directory was not sent";
		}
	}
	if (why != NULL)
		return ferry_errf(FERRY_E_PROTO,
		    "%s: the tree it sent holds %s ('%.*s'); nothing was "
		    "written for it",
		    ferry_conn_peer_addr(c), why,
		    (int)(m->text_len > 200 ? 200 : m->text_len), m->text);
	return pathset_add(ps, m->text, m->text_len, m->kind);
}

/* One entry of a pulled tree, as the server described it. */
struct tree_node {
	uint8_t kind;
	uint32_t mode;
	int64_t mtime;
	uint64_t size;
	char *remote, *local, *target;
	char *shown; /* local for the user: the caller's name for the root */
};

static void
nodes_free(struct tree_node *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].remote);
		free(v[i].local);
		free(v[i].target);
		free(v[i].shown);
	}
	free(v);
}

/*
 * Sends WALK and reads the whole answer into *out, every path checked;
 * local is local_root followed by the path below remote.
 */
static int
walk_read(struct ferry_conn *c, const char *remote, const char *local_root,
    const char *shown_root, struct tree_node **out, size_t *count)
{
	size_t toplen = strlen(remote), n = 0, cap = 0;
	struct ferry_msg m = {
	    .type = FERRY_F_WALK, .id = 1, .text = remote, .text_len = toplen};
	struct pathset ps = {0};
	struct tree_node *v = NULL;
	int r;

	if ((r = ferry_conn_send(c, &m)) != 0)
		return r;
	for (;;) {
		struct tree_node *nd;
		const char *below;

		if ((r = ferry_conn_read(c, &m, 1)) != 0)
			goto fail;
		if (m.type == FERRY_F_ERR) {
			r = peer_error(c, &m);
			goto fail;
		}
		if (m.type == FERRY_F_LISTEND) {
			if (m.id != 1 || m.count != n) {
				r = ferry_errf(FERRY_E_PROTO,
				    "%s: the tree ended with a wrong count",
				    ferry_conn_peer_addr(c));
				goto fail;
			}
			break;
		}
		if (m.type != FERRY_F_NODE) {
			r = ferry_errf(FERRY_E_PROTO,
			    "%s: unexpected %s frame in a tree",
			    ferry_conn_peer_addr(c), ferry_frame_name(m.type));
			goto fail;
		}
		if ((r = walk_check(c, remote, toplen, &m, &ps)) != 0)
			goto fail;
		if (n == cap) {
			struct tree_node *grown;

			cap = cap ? 2 * cap : 256;
			if ((grown = realloc(v, cap * sizeof(*v))) == NULL) {
				r = FERRY_E_NOMEM;
				goto fail;
			}
			v = grown;
		}
		nd = &v[n++];
		*nd = (struct tree_node){.kind = m.kind,
		    .mode = m.mode,
		    .mtime = m.mtime,
		    .size = m.size};
		below = m.text + toplen + (toplen > 0);
		if ((nd->remote = strndup(m.text, m.text_len)) == NULL ||
		    asprintf(&nd->local, "%s%s%.*s", local_root,
		        m.text_len > toplen ? "/" : "",
		        (int)(m.text_len > toplen
		                  ? m.text_len - (size_t)(below - m.text)
		                  : 0),
		        below) < 0 ||
		    asprintf(&nd->shown, "%s%s", shown_root,
		        nd->local + strlen(local_root)) < 0 ||
		    (m.kind == FERRY_KIND_LINK &&
		        (nd->target = strndup(m.target, m.target_len)) ==
		            NULL)) {
			r = FERRY_E_NOMEM;
			goto fail;
		}
	}
	pathset_free(&ps);
	*out = v;
	*count = n;
	return 0;
fail:
	pathset_free(&ps);
	nodes_free(v, n);
	return r;
}

/* Makes a pulled link, if its target cannot lead out of dest_dirfd. */
static int
pull_link(int dirfd, const struct tree_node *nd, unsigned flags)
{
	const char *leaf;
	struct stat st;
	int pfd, r;

	if ((r = ferry_fsafe_check_link(
	         nd->local, nd->target, strlen(nd->target))) != 0 ||
	    (r = ferry_fsafe_parent(dirfd, nd->local, &pfd, &leaf)) != 0)
		return r;
	if ((flags & FERRY_PULL_REPLACE) != 0 &&
	    fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		(void)unlinkat(pfd, leaf, 0);
	if (symlinkat(nd->target, pfd, leaf) != 0) {
		int e = errno;

		close(pfd);
		/* An identical link is up to date. */
		if (e == EEXIST) {
			char have[FERRY_MAX_LINK + 1];
			ssize_t len;

			if ((r = ferry_fsafe_parent(
			         dirfd, nd->local, &pfd, &leaf)) != 0)
				return r;
			len = readlinkat(pfd, leaf, have, sizeof(have) - 1);
			close(pfd);
			if (len >= 0 && (size_t)len == strlen(nd->target) &&
			    memcmp(have, nd->target, (size_t)len) == 0)
				return 0;
			return ferry_errf(FERRY_E_EXIST,
			    "%s already exists (use --force to replace a link)",
			    nd->local);
		}
		return ferry_errf_errno(
		    ferry_err_from_errno(e), e, "%s", nd->local);
	}
	close(pfd);
	return 0;
}

/* Gives a pulled directory the server's mode and time (-p), after its contents. */
static int
pull_dir_attrs(int dirfd, const struct tree_node *nd)
{
	struct timespec ts[2] = {{.tv_sec = (time_t)nd->mtime, .tv_nsec = 0},
	    {.tv_sec = (time_t)nd->mtime, .tv_nsec = 0}};
	const char *leaf;
	int pfd, fd, r;

	if ((r = ferry_fsafe_parent(dirfd, nd->local, &pfd, &leaf)) != 0)
		return r;
	fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(pfd);
	if (fd < 0 || fchmod(fd, (nd->mode & 0777) | 0700) != 0 ||
	    futimens(fd, ts) != 0)
		r = ferry_errf_errno(FERRY_E_IO, errno,
		    "%s: cannot set its mode or time", nd->local);
	if (fd >= 0)
		close(fd);
	return r;
}

int
ferry_xfer_pull_tree(struct ferry_conn *c, const char *remote, int dirfd,
    const char *local_root, const char *shown_root, unsigned flags,
    ferry_xfer_progress_fn *progress, ferry_xfer_report_fn *report, void *arg)
{
	struct ferry_pull_item *items = NULL;
	struct tree_node *v = NULL;
	size_t n = 0, nfiles = 0;
	uint64_t total = 0;
	mode_t mask = umask(0);
	int r;

	umask(mask);
	if ((ferry_conn_features(c) & FERRY_FEATURE_SYNC) == 0)
		return ferry_errf(FERRY_E_USAGE,
		    "%s cannot send directories (it lacks the SYNC feature)",
		    ferry_conn_peer_addr(c));
	if ((r = walk_read(c, remote, local_root, shown_root, &v, &n)) != 0)
		return r;
	if ((items = calloc(n + 1, sizeof(*items))) == NULL) {
		r = FERRY_E_NOMEM;
		goto out;
	}
	/* A local root below a new directory (get -r -o NEW): make that. */
	for (char *slash = strchr(v[0].local, '/');
	     n > 0 && slash != NULL && slash < v[0].local + strlen(local_root);
	     slash = strchr(slash + 1, '/')) {
		int created;

		*slash = '\0';
		r = ferry_fsafe_mkdir(
		    dirfd, v[0].local, 0777 & ~mask, &created);
		*slash = '/';
		if (r != 0) {
			report_fail(report, arg, shown_root, FERRY_KIND_DIR, r);
			r = 0;
			goto out;
		}
	}
	/* The whole share: the WALK does not name its top; make it here. */
	if (remote[0] == '\0') {
		struct ferry_xfer_result res = {
		    .name = shown_root, .kind = FERRY_KIND_DIR};
		int created;

		if ((res.r = ferry_fsafe_mkdir(
		         dirfd, local_root, 0777 & ~mask, &created)) != 0) {
			res.detail = ferry_err_detail(res.r);
			report_res(report, arg, &res);
			r = 0;
			goto out;
		}
		report_res(report, arg, &res);
	}
	for (size_t i = 0; i < n; i++) {
		struct ferry_xfer_result res = {
		    .name = v[i].shown, .kind = v[i].kind};
		int created;

		if (v[i].kind == FERRY_KIND_FILE) {
			items[nfiles].remote = v[i].remote;
			items[nfiles].local = v[i].local;
			items[nfiles].shown = v[i].shown;
			nfiles++;
			total += v[i].size;
			continue;
		}
		if (v[i].kind == FERRY_KIND_DIR)
			res.r = ferry_fsafe_mkdir(dirfd, v[i].local,
			    (v[i].mode & 0777) & ~mask, &created);
		else if ((flags & FERRY_PULL_LINKS) == 0)
			res.skipped = 1;
		else
			res.r = pull_link(dirfd, &v[i], flags);
		/* fsafe's details name the path already. */
		if (res.r != 0)
			res.detail = ferry_err_detail(res.r);
		report_res(report, arg, &res);
	}
	r = pull_items(
	    c, items, nfiles, dirfd, flags, total, progress, report, arg);
	/* Entries were added to the directories: their times come last. */
	for (size_t i = n;
	     r == 0 && (flags & FERRY_PULL_PRESERVE) != 0 && i-- > 0;)
		if (v[i].kind == FERRY_KIND_DIR &&
		    pull_dir_attrs(dirfd, &v[i]) != 0)
			ferry_warn("%s", ferry_err_detail(FERRY_E_IO));
out:
	free(items);
	nodes_free(v, n);
	return r;
}

int
ferry_xfer_list(
    struct ferry_conn *c, const char *path, ferry_list_fn *each, void *arg)
{
	struct ferry_msg m = {.type = FERRY_F_LIST,
	    .id = 1,
	    .text = path,
	    .text_len = strlen(path)};
	uint32_t count = 0;
	int r;

	if ((r = ferry_conn_send(c, &m)) != 0)
		return r;
	for (;;) {
		char name[FERRY_MAX_NAME + 1];
		struct ferry_dirent e;

		if ((r = ferry_conn_read(c, &m, 1)) != 0)
			return r;
		if (m.type == FERRY_F_ERR)
			return peer_error(c, &m);
		if (m.type == FERRY_F_LISTEND) {
			if (m.id != 1 || m.count != count)
				return ferry_errf(FERRY_E_PROTO,
				    "%s: listing ended with a wrong count",
				    ferry_conn_peer_addr(c));
			return 0;
		}
		if (m.type != FERRY_F_ENTRY)
			return ferry_errf(FERRY_E_PROTO,
			    "%s: unexpected %s frame in a listing",
			    ferry_conn_peer_addr(c), ferry_frame_name(m.type));
		/* A name from the server is validated like any other input. */
		if (ferry_fsafe_check_name(m.text, m.text_len) != 0)
			return ferry_errf(FERRY_E_PROTO,
			    "%s: listing holds an invalid name",
			    ferry_conn_peer_addr(c));
		memcpy(name, m.text, m.text_len);
		name[m.text_len] = '\0';
		e.kind = m.kind;
		e.size = m.size;
		e.mode = m.mode;
		e.mtime = m.mtime;
		e.name = name;
		/* A listing is bounded like everything a peer sends. */
		if (++count > FERRY_MAX_LIST_ENTRIES)
			return ferry_errf(FERRY_E_PROTO,
			    "%s: listing longer than %u entries",
			    ferry_conn_peer_addr(c), FERRY_MAX_LIST_ENTRIES);
		if ((r = each(&e, arg)) != 0)
			return r;
	}
}
