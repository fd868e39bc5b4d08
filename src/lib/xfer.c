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
	    .features = 0,
	    .text = software,
	    .text_len = sizeof(software) - 1};

	return ferry_conn_send(c, &m);
}

int
ferry_xfer_hello(struct ferry_conn *c)
{
	struct ferry_msg m;
	int r;

	if ((r = send_hello(c)) != 0 || (r = ferry_conn_read(c, &m, 1)) != 0)
		return r;
	if (m.type == FERRY_F_ERR)
		return ferry_errf(ferry_err_from_wire(m.code), "%s: %.*s",
		    ferry_conn_peer_addr(c), (int)m.text_len, m.text);
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
	return 0;
}

static void
report_one(ferry_xfer_report_fn *report, void *arg, const char *name,
    uint64_t size, const uint8_t *sha, int r, const char *detail)
{
	struct ferry_xfer_result res = {
	    .name = name, .size = size, .r = r, .detail = detail};

	if (sha != NULL)
		memcpy(res.sha256, sha, FERRY_SHA256_LEN);
	if (report != NULL)
		report(&res, arg);
}

/* An ERR frame as a FERRY_E_* with the peer's message as detail. */
static int
peer_error(struct ferry_conn *c, const struct ferry_msg *m)
{
	int r = ferry_err_from_wire(m->code);

	return ferry_errf(
	    r, "%s: %.*s", ferry_conn_peer_addr(c), (int)m->text_len, m->text);
}

/* Push state: which PUTs are still waiting for their OK or ERR. */
struct push {
	struct ferry_conn *c;
	const struct ferry_push_item *items;
	ferry_xfer_progress_fn *progress;
	ferry_xfer_report_fn *report;
	void *arg;
	size_t *pending; /* item index per outstanding PUT, in order */
	uint8_t (*sha)[FERRY_SHA256_LEN];
	uint64_t *size;
	char **why; /* our own reason a file failed, if it was ours */
	size_t head, tail; /* pending[head..tail) are outstanding */
	int refused_current; /* the PUT being streamed got an early ERR */
	size_t current;
};

/* Handles one response to the oldest outstanding PUT. */
static int
push_response(struct push *p, const struct ferry_msg *m)
{
	size_t idx;
	int r;

	if (m->type == FERRY_F_EOF)
		return ferry_errf(FERRY_E_CLOSED,
		    "%s closed the connection with files unanswered",
		    ferry_conn_peer_addr(p->c));
	if (m->type != FERRY_F_OK && m->type != FERRY_F_ERR)
		return ferry_errf(FERRY_E_PROTO, "%s: unexpected %s frame",
		    ferry_conn_peer_addr(p->c), ferry_frame_name(m->type));
	/* PROTOCOL.md 5.9: id 0 answers no request: the session is over. */
	if (m->type == FERRY_F_ERR && m->id == 0)
		return peer_error(p->c, m);
	if (p->head == p->tail)
		return ferry_errf(FERRY_E_PROTO, "%s: answer to no request",
		    ferry_conn_peer_addr(p->c));
	idx = p->pending[p->head];
	/* PROTOCOL.md 6: answers come in request order; ids are 1 + index. */
	if (m->id != idx + 1)
		return ferry_errf(FERRY_E_PROTO,
		    "%s: answer for request %lu, expected %zu",
		    ferry_conn_peer_addr(p->c), (unsigned long)m->id, idx + 1);
	p->head++;
	if (m->type == FERRY_F_ERR) {
		r = peer_error(p->c, m);
		if (p->why[idx] != NULL) {
			report_one(p->report, p->arg, p->items[idx].path, 0,
			    NULL, FERRY_E_IO, p->why[idx]);
			return 0;
		}
		if (idx == p->current)
			p->refused_current = 1;
		report_one(p->report, p->arg, p->items[idx].path, 0, NULL, r,
		    ferry_err_detail(r));
		return 0;
	}
	/* The receiver's own hash must be the one we computed while sending. */
	if (m->size != p->size[idx] ||
	    CRYPTO_memcmp(m->sha256, p->sha[idx], FERRY_SHA256_LEN) != 0) {
		r = ferry_errf(FERRY_E_INTEGRITY,
		    "%s: receiver's SHA-256 or size differs from ours",
		    p->items[idx].path);
		report_one(p->report, p->arg, p->items[idx].path, 0, NULL, r,
		    ferry_err_detail(r));
		return 0;
	}
	report_one(
	    p->report, p->arg, p->items[idx].path, m->size, m->sha256, 0, NULL);
	return 0;
}

/* Reads answers: all that have arrived (wait == 0) or exactly one. */
static int
push_drain(struct push *p, int wait)
{
	struct ferry_msg m;
	int r;

	while (p->head < p->tail) {
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

/* Streams one opened file after its PUT; stops early if the server refused. */
static int
push_stream(struct push *p, int fd, uint64_t size, uint8_t **frame,
    struct ferry_sink *sha, uint8_t out[FERRY_SHA256_LEN], int *local_err)
{
	uint64_t done = 0;
	struct ferry_msg end = {.type = FERRY_F_END};
	int r;

	*local_err = 0;
	/* Hash-only sink: the worker hashes a frame while TLS encrypts it. */
	ferry_sink_begin(sha, -1);
	while (done < size) {
		size_t want = size - done < FERRY_MAX_DATA
		                  ? (size_t)(size - done)
		                  : FERRY_MAX_DATA;
		ssize_t got = read(fd, *frame + FERRY_FRAME_HDR, want);
		uint8_t *sending = *frame;

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			*local_err =
			    got < 0 ? ferry_errf_errno(FERRY_E_IO, errno, "%s",
			                  p->items[p->current].path)
			            : ferry_errf(FERRY_E_IO,
			                  "%s: file shrank while being sent",
			                  p->items[p->current].path);
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
			struct ferry_xfer_progress pr = {
			    .name = p->items[p->current].path,
			    .done = done,
			    .total = size};

			p->progress(&pr, p->arg);
		}
		/* An early ERR means the server discards the rest: stop. */
		if (done % PUSH_DRAIN_EVERY < (uint64_t)got &&
		    (r = push_drain(p, 0)) != 0)
			goto stop;
		if (p->refused_current) {
			r = send_abort(p->c, FERRY_E_REFUSED,
			    "sender stopped after refusal");
			goto stop;
		}
	}
	if ((r = ferry_sink_end(sha, out)) != 0)
		return r;
	memcpy(end.sha256, out, FERRY_SHA256_LEN);
	return ferry_conn_send(p->c, &end);
stop:
	ferry_sink_abandon(sha);
	return r;
}

int
ferry_xfer_push(struct ferry_conn *c, const struct ferry_push_item *items,
    size_t n, uint32_t put_flags, ferry_xfer_progress_fn *progress,
    ferry_xfer_report_fn *report, void *arg)
{
	struct push p = {.c = c,
	    .items = items,
	    .progress = progress,
	    .report = report,
	    .arg = arg};
	struct ferry_sink *sha = NULL;
	uint8_t *frame = NULL;
	int r = FERRY_E_NOMEM;

	if ((p.pending = calloc(n + 1, sizeof(*p.pending))) == NULL ||
	    (p.sha = calloc(n + 1, sizeof(*p.sha))) == NULL ||
	    (p.size = calloc(n + 1, sizeof(*p.size))) == NULL ||
	    (p.why = calloc(n + 1, sizeof(*p.why))) == NULL ||
	    (frame = ferry_frame_alloc()) == NULL)
		goto out;
	if ((r = ferry_sink_new(&sha)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct ferry_msg put = {.type = FERRY_F_PUT};
		struct stat st;
		int fd, local_err;

		while (p.tail - p.head >= FERRY_MAX_INFLIGHT)
			if ((r = push_drain(&p, 1)) != 0)
				goto out;
		if ((r = ferry_fsafe_check_name(
		         items[i].name, strlen(items[i].name))) != 0) {
			report_one(report, arg, items[i].path, 0, NULL, r,
			    ferry_err_detail(r));
			continue;
		}
		fd = open(items[i].path,
		    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			r = fd < 0
			        ? ferry_errf_errno(ferry_err_from_errno(errno),
			              errno, "%s", items[i].path)
			        : ferry_errf(FERRY_E_NOTREG,
			              "%s: not a regular file%s", items[i].path,
			              S_ISDIR(st.st_mode)
			                  ? " (it is a directory)"
			                  : "");
			if (fd >= 0)
				close(fd);
			report_one(report, arg, items[i].path, 0, NULL, r,
			    ferry_err_detail(r));
			continue;
		}
		(void)fcntl(fd, F_SETFL, 0);
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		put.id = (uint32_t)(i + 1);
		put.size = (uint64_t)st.st_size;
		put.mode = st.st_mode & 07777;
		put.mtime = st.st_mtim.tv_sec;
		put.flags = put_flags;
		put.text = items[i].name;
		put.text_len = strlen(items[i].name);
		p.current = i;
		p.refused_current = 0;
		p.size[i] = put.size;
		if ((r = ferry_conn_send(c, &put)) != 0) {
			close(fd);
			goto out;
		}
		p.pending[p.tail++] = i;
		r = push_stream(
		    &p, fd, put.size, &frame, sha, p.sha[i], &local_err);
		close(fd);
		if (r != 0)
			goto out;
		/* The server answers the ABORT with ERR; report our reason. */
		if (local_err != 0 &&
		    (p.why[i] = strdup(ferry_err_detail(local_err))) == NULL) {
			r = FERRY_E_NOMEM;
			goto out;
		}
		if ((r = push_drain(&p, 0)) != 0)
			goto out;
	}
	while (p.head < p.tail)
		if ((r = push_drain(&p, 1)) != 0)
			goto out;
	r = 0;
out:
	ferry_sink_free(sha);
	ferry_frame_free(frame);
	free(p.pending);
	free(p.sha);
	free(p.size);
	for (size_t i = 0; p.why != NULL && i < n; i++)
		free(p.why[i]);
	free(p.why);
	return r;
}

/* Receives one file's DATA* END (or ABORT) after FILE into a temp file. */
static int
pull_one(struct ferry_conn *c, const struct ferry_pull_item *it,
    const struct ferry_msg *file, int dirfd, unsigned flags,
    struct ferry_sink *sink, uint8_t **spare, ferry_xfer_progress_fn *progress,
    ferry_xfer_report_fn *report, void *arg)
{
	struct ferry_tmpfile tmp = {.fd = -1};
	uint8_t digest[FERRY_SHA256_LEN];
	uint64_t size = file->size, done = 0;
	mode_t mode = file->mode & 0777, mask;
	int local = 0, sinking = 0, r;

	mask = umask(0);
	umask(mask);
	if (size > FERRY_MAX_FILE_SIZE)
		return ferry_errf(FERRY_E_PROTO, "%s: absurd file size",
		    ferry_conn_peer_addr(c));
	if ((local = ferry_tmpfile_open(dirfd, &tmp)) != 0)
		local = ferry_errf(
		    local, "%s: %s", it->shown, ferry_err_detail(local));
	else {
		ferry_sink_begin(sink, tmp.fd);
		sinking = 1;
	}
	for (;;) {
		struct ferry_msg m;

		if ((r = ferry_conn_read(c, &m, 1)) != 0)
			goto out;
		if (m.type == FERRY_F_DATA) {
			if (m.data_len > size - done) {
				r = ferry_errf(FERRY_E_PROTO,
				    "%s: more data than announced for %s",
				    ferry_conn_peer_addr(c), it->remote);
				goto out;
			}
			done += m.data_len;
			if (progress != NULL) {
				struct ferry_xfer_progress pr = {
				    .name = it->shown,
				    .done = done,
				    .total = size};

				progress(&pr, arg);
			}
			if (local != 0)
				continue; /* keep the connection in step */
			/* Hashing and writing happen on the sink's thread. */
			ferry_conn_swap_frame(c, spare);
			if ((local = ferry_sink_push(
			         sink, spare, m.data_len)) != 0)
				local = ferry_errf(local, "%s: %s", it->shown,
				    ferry_err_detail(local));
			continue;
		}
		if (m.type == FERRY_F_ABORT) {
			r = ferry_err_from_wire(m.code);
			ferry_errf(r, "%s: sender aborted %s: %.*s",
			    ferry_conn_peer_addr(c), it->remote,
			    (int)m.text_len, m.text);
			report_one(report, arg, it->shown, 0, NULL, r,
			    ferry_err_detail(r));
			r = 0;
			goto out;
		}
		if (m.type != FERRY_F_END) {
			r = ferry_errf(FERRY_E_PROTO,
			    "%s: unexpected %s frame inside a file",
			    ferry_conn_peer_addr(c), ferry_frame_name(m.type));
			goto out;
		}
		if (done != size) {
			r = ferry_errf(FERRY_E_PROTO,
			    "%s: %s ended after %llu of %llu bytes",
			    ferry_conn_peer_addr(c), it->remote,
			    (unsigned long long)done, (unsigned long long)size);
			goto out;
		}
		if (local == 0) {
			sinking = 0;
			if ((local = ferry_sink_end(sink, digest)) != 0)
				local = ferry_errf(local, "%s: %s", it->shown,
				    ferry_err_detail(local));
		}
		if (local != 0) {
			report_one(report, arg, it->shown, 0, NULL, local,
			    ferry_err_detail(local));
			r = 0;
			goto out;
		}
		if (CRYPTO_memcmp(digest, m.sha256, FERRY_SHA256_LEN) != 0) {
			r = ferry_errf(FERRY_E_INTEGRITY,
			    "%s: SHA-256 mismatch; the file was not saved",
			    it->shown);
			report_one(report, arg, it->shown, 0, NULL, r,
			    ferry_err_detail(r));
			r = 0;
			goto out;
		}
		if ((flags & FERRY_PULL_PRESERVE) != 0) {
			struct timespec ts[2] = {
			    {.tv_sec = (time_t)file->mtime, .tv_nsec = 0},
			    {.tv_sec = (time_t)file->mtime, .tv_nsec = 0}};

			/* Like scp -p: the peer's bits, not less our umask. */
			mask = 0;
			if (futimens(tmp.fd, ts) != 0)
				local = ferry_errf_errno(FERRY_E_IO, errno,
				    "cannot set the modification time");
		}
		if (local == 0)
			local = ferry_tmpfile_commit(&tmp, it->local,
			    mode & ~mask, (flags & FERRY_PULL_REPLACE) != 0);
		if (local != 0) {
			local = ferry_errf(local, "%s: %s", it->shown,
			    ferry_err_detail(local));
			report_one(report, arg, it->shown, 0, NULL, local,
			    ferry_err_detail(local));
			r = 0;
			goto out;
		}
		report_one(report, arg, it->shown, size, digest, 0, NULL);
		r = 0;
		goto out;
	}
out:
	/* The worker lets go of tmp.fd before it is closed. */
	if (sinking)
		ferry_sink_abandon(sink);
	/* Whatever did not commit never appears under its final name. */
	ferry_tmpfile_discard(&tmp);
	return r;
}

int
ferry_xfer_pull(struct ferry_conn *c, const struct ferry_pull_item *items,
    size_t n, int dirfd, unsigned flags, ferry_xfer_progress_fn *progress,
    ferry_xfer_report_fn *report, void *arg)
{
	struct ferry_sink *sink = NULL;
	uint8_t *spare = NULL;
	size_t sent = 0, done = 0, inflight_bytes = 0;
	size_t *req_bytes = NULL;
	int r;

	if ((r = ferry_sink_new(&sink)) != 0)
		return r;
	if ((req_bytes = calloc(n + 1, sizeof(*req_bytes))) == NULL ||
	    (spare = ferry_frame_alloc()) == NULL) {
		r = FERRY_E_NOMEM;
		goto out;
	}
	while (done < n) {
		struct ferry_msg m;

		/* Keep a bounded window of GETs in flight (PROTOCOL.md 6). */
		while (sent < n && sent - done < FERRY_MAX_INFLIGHT &&
		       inflight_bytes < FERRY_MAX_INFLIGHT_BYTES) {
			struct ferry_msg get = {.type = FERRY_F_GET,
			    .id = (uint32_t)(sent + 1),
			    .text = items[sent].remote,
			    .text_len = strlen(items[sent].remote)};

			if ((r = ferry_conn_send(c, &get)) != 0)
				goto out;
			req_bytes[sent] = get.text_len + 16;
			inflight_bytes += req_bytes[sent];
			sent++;
		}
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
		if ((m.type != FERRY_F_FILE && m.type != FERRY_F_ERR) ||
		    m.id != done + 1) {
			r = ferry_errf(FERRY_E_PROTO,
			    "%s: unexpected %s frame (id %lu) for request %zu",
			    ferry_conn_peer_addr(c), ferry_frame_name(m.type),
			    (unsigned long)m.id, done + 1);
			goto out;
		}
		if (m.type == FERRY_F_ERR) {
			r = peer_error(c, &m);
			report_one(report, arg, items[done].shown, 0, NULL, r,
			    ferry_err_detail(r));
		} else if ((r = pull_one(c, &items[done], &m, dirfd, flags,
		                sink, &spare, progress, report, arg)) != 0)
			goto out;
		inflight_bytes -= req_bytes[done];
		done++;
	}
	r = 0;
out:
	free(req_bytes);
	ferry_frame_free(spare);
	ferry_sink_free(sink);
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
