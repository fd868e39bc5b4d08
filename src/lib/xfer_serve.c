/* xfer_serve.c - the server side of a ferry session: HELLO, then PUT, GET and
 * LIST requests dispatched through a table, each answered exactly once. */
#include <dirent.h>
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

struct session {
	struct ferry_conn *c;
	const struct ferry_serve_cfg *cfg;
	struct ferry_serve_stats *stats;
	const char *who; /* "alice@127.0.0.1:5555", for logs */
	int sender_fd; /* INBOX/<peer id>, opened on the first PUT */
	uint8_t *frame; /* GET reads the file into it */
	struct ferry_sink *sink; /* hashes (and for PUT writes) file data */
	uint8_t *spare; /* a frame buffer to trade for a DATA frame */
	mode_t umask;
};

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

	ferry_info("%s: %s refused: %s", s->who, what, detail);
	return send_err(s, id, r, detail);
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

static int
serve_put(struct session *s, const struct ferry_msg *put)
{
	char name[FERRY_MAX_NAME + 1];
	uint8_t digest[FERRY_SHA256_LEN];
	struct ferry_tmpfile tmp = {.fd = -1};
	struct ferry_msg m = {.type = FERRY_F_NONE};
	uint64_t done = 0;
	int sinking = 0;
	uint32_t id = put->id;
	uint64_t size = put->size;
	mode_t mode = put->mode & 0777;
	int replace = (put->flags & FERRY_PUT_FORCE) != 0;
	int preserve = (put->flags & FERRY_PUT_PRESERVE) != 0;
	struct stat st;
	int r;

	if (size > FERRY_MAX_FILE_SIZE)
		size = FERRY_MAX_FILE_SIZE; /* refused below; bounds the skip */
	/* The name is borrowed from the frame: check and keep it first. */
	if ((r = ferry_fsafe_check_name(put->text, put->text_len)) != 0)
		goto refused;
	memcpy(name, put->text, put->text_len);
	name[put->text_len] = '\0';
	if ((put->flags & ~FERRY_PUT_FLAGS_KNOWN) != 0 ||
	    put->size > FERRY_MAX_FILE_SIZE) {
		r = ferry_errf(
		    FERRY_E_USAGE, "%s: unknown flags or bad size", name);
		goto refused;
	}
	if (s->sender_fd < 0 &&
	    (r = ferry_fsafe_subdir(s->cfg->inbox_fd, ferry_conn_peer_id(s->c),
	         &s->sender_fd)) != 0) {
		r = ferry_errf(r, "inbox for %s: %s", ferry_conn_peer_id(s->c),
		    ferry_err_detail(r));
		goto refused;
	}
	/* Say so now, not after the whole file has crossed the network. */
	if (!replace &&
	    fstatat(s->sender_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		r = ferry_errf(FERRY_E_EXIST,
		    "%s already exists in the inbox (use --force to replace "
		    "it)",
		    name);
		goto refused;
	}
	if ((r = ferry_tmpfile_open(s->sender_fd, &tmp)) != 0) {
		r = ferry_errf(r, "%s: %s", name, ferry_err_detail(r));
		goto refused;
	}
	ferry_sink_begin(s->sink, tmp.fd);
	sinking = 1;
	for (;;) {
		if ((r = ferry_conn_read(s->c, &m, 1)) != 0)
			goto out;
		if (m.type == FERRY_F_END)
			break;
		if (m.type == FERRY_F_ABORT) {
			ferry_info("%s: push of %s aborted by the sender",
			    s->who, name);
			r = send_err(
			    s, id, FERRY_E_REFUSED, "aborted by sender");
			goto out;
		}
		if (m.type != FERRY_F_DATA) {
			r = ferry_errf(FERRY_E_PROTO,
			    "%s frame inside an upload",
			    ferry_frame_name(m.type));
			goto out;
		}
		/* PROTOCOL.md 5.3: never more bytes than the PUT announced. */
		if (m.data_len > size - done) {
			r = ferry_errf(FERRY_E_PROTO,
			    "%s: more data than the announced %llu bytes", name,
			    (unsigned long long)size);
			goto out;
		}
		/* The payload goes to the hashing/writing thread, uncopied. */
		ferry_conn_swap_frame(s->c, &s->spare);
		done += m.data_len;
		if ((r = ferry_sink_push(s->sink, &s->spare, m.data_len)) !=
		    0) {
			r = ferry_errf(r, "%s: %s", name, ferry_err_detail(r));
			goto refused;
		}
	}
	sinking = 0;
	if ((r = ferry_sink_end(s->sink, digest)) != 0) {
		r = ferry_errf(r, "%s: %s", name, ferry_err_detail(r));
		goto refused;
	}
	/* PROTOCOL.md 5.4: commit only when size and SHA-256 both match. */
	if (done != size ||
	    CRYPTO_memcmp(digest, m.sha256, FERRY_SHA256_LEN) != 0) {
		r = ferry_errf(FERRY_E_INTEGRITY,
		    done != size ? "%s: %llu bytes received, %llu announced; "
		                   "not saved"
		                 : "%s: SHA-256 mismatch; not saved",
		    name, (unsigned long long)done, (unsigned long long)size);
		ferry_warn("%s: %s", s->who, ferry_err_detail(r));
		r = send_err(s, id, r, ferry_err_detail(r));
		goto out;
	}
	/* PROTOCOL.md 5.3: PRESERVE gives exactly mode & 0777 and mtime. */
	if (preserve) {
		struct timespec ts[2] = {
		    {.tv_sec = (time_t)put->mtime, .tv_nsec = 0},
		    {.tv_sec = (time_t)put->mtime, .tv_nsec = 0}};

		if (futimens(tmp.fd, ts) != 0) {
			r = ferry_errf_errno(FERRY_E_IO, errno,
			    "%s: cannot set its modification time", name);
			r = refuse(s, id, "push", r);
			goto out;
		}
	}
	if ((r = ferry_tmpfile_commit(&tmp, name,
	         preserve ? mode : mode & ~s->umask, replace)) != 0) {
		r = refuse(s, id, "push", r);
		goto out;
	}
	{
		struct ferry_msg ok = {
		    .type = FERRY_F_OK, .id = id, .size = size};
		char hex[65];

		memcpy(ok.sha256, digest, FERRY_SHA256_LEN);
		ferry_sha256_hex(digest, hex);
		ferry_info("%s: received %s (%llu bytes, sha256 %s)", s->who,
		    name, (unsigned long long)size, hex);
		s->stats->files_in++;
		s->stats->bytes_in += size;
		r = ferry_conn_send(s->c, &ok);
	}
out:
	/* The worker must be done with tmp.fd before it is closed. */
	if (sinking)
		ferry_sink_abandon(s->sink);
	ferry_tmpfile_discard(&tmp);
	return r;
refused:
	if (sinking)
		ferry_sink_abandon(s->sink);
	sinking = 0;
	ferry_tmpfile_discard(&tmp);
	if ((r = refuse(s, id, "push", r)) != 0)
		return r;
	/* The DATA already in flight for this file is read and dropped. */
	return done == 0 || m.type == FERRY_F_DATA ? skip_upload(s, size - done)
	                                           : 0;
}

/* Copies a request's path out of the frame and checks it. */
static int
request_path(const struct ferry_msg *m, char *path, int allow_empty)
{
	int r;

	if ((r = ferry_fsafe_check_path(m->text, m->text_len)) != 0)
		return r;
	if (m->text_len == 0 && !allow_empty)
		return ferry_errf(FERRY_E_BADNAME, "empty path");
	memcpy(path, m->text, m->text_len);
	path[m->text_len] = '\0';
	return 0;
}

static int
serve_get(struct session *s, const struct ferry_msg *get)
{
	char path[FERRY_MAX_PATH + 1];
	struct ferry_msg file = {.type = FERRY_F_FILE, .id = get->id};
	struct ferry_msg end = {.type = FERRY_F_END};
	struct stat st;
	uint64_t done = 0;
	int fd = -1, hashing = 0, r;

	if ((r = request_path(get, path, 0)) != 0)
		return refuse(s, get->id, "get", r);
	if (get->flags != 0)
		return refuse(s, get->id, "get",
		    ferry_errf(FERRY_E_USAGE, "%s: unknown flags", path));
	/* O_NONBLOCK: opening a FIFO someone left in the share must not hang. */
	if ((r = ferry_fsafe_open(
	         s->cfg->share_fd, path, O_RDONLY | O_NONBLOCK, &fd)) != 0)
		return refuse(s, get->id, "get", r);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return refuse(s, get->id, "get",
		    ferry_errf(FERRY_E_NOTREG, "%s: not a regular file", path));
	}
	(void)fcntl(fd, F_SETFL, 0);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	file.size = (uint64_t)st.st_size;
	file.mode = st.st_mode & 07777;
	file.mtime = st.st_mtim.tv_sec;
	if ((r = ferry_conn_send(s->c, &file)) != 0)
		goto out;
	/* Hash-only: the worker hashes each frame while TLS encrypts it. */
	ferry_sink_begin(s->sink, -1);
	hashing = 1;
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
			ferry_warn("%s: get %s: %s", s->who, path, ab.text);
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
		ferry_info("%s: sent %s (%llu bytes, sha256 %s)", s->who, path,
		    (unsigned long long)done, hex);
	}
	s->stats->files_out++;
	s->stats->bytes_out += done;
out:
	if (hashing)
		ferry_sink_abandon(s->sink);
	close(fd);
	return r;
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
	char path[FERRY_MAX_PATH + 1];
	struct ferry_msg end = {.type = FERRY_F_LISTEND, .id = list->id};
	struct dirent *d;
	DIR *dir = NULL;
	int fd = -1, r;

	if ((r = request_path(list, path, 1)) != 0)
		return refuse(s, list->id, "list", r);
	if ((r = ferry_fsafe_open(
	         s->cfg->share_fd, path, O_RDONLY | O_DIRECTORY, &fd)) != 0)
		return refuse(s, list->id, "list", r);
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
		if (ferry_fsafe_check_name(d->d_name, n) != 0 ||
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
	r = ferry_conn_send(s->c, &end);
	ferry_info("%s: listed /%s (%lu entries)", s->who, path,
	    (unsigned long)end.count);
out:
	closedir(dir);
	return r;
}

/* PROTOCOL.md 6: the requests a client may send after HELLO. */
static const struct handler {
	uint8_t type;
	int (*run)(struct session *, const struct ferry_msg *);
} handlers[] = {
    {FERRY_F_PUT, serve_put},
    {FERRY_F_GET, serve_get},
    {FERRY_F_LIST, serve_list},
};

static int
serve_hello(struct session *s)
{
	static const char software[] = "ferry/" FERRY_VERSION;
	struct ferry_msg m, reply = {.type = FERRY_F_HELLO,
	                        .version = FERRY_PROTOCOL_VERSION,
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
			if (handlers[i].type == m.type)
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
		if ((r = h->run(&s, &m)) != 0) {
			/* Tell a peer that broke the protocol why we hang up. */
			if (ferry_errgroup(r) == FERRY_G_PROTO &&
			    send_err(&s, 0, r, ferry_err_detail(r)) == 0 &&
			    ferry_conn_flush(c) != 0)
				ferry_debug("could not deliver the ERR frame");
			goto out;
		}
	}
	r = ferry_conn_close(c);
out:
	if (s.sender_fd >= 0)
		close(s.sender_fd);
	ferry_frame_free(s.frame);
	ferry_frame_free(s.spare);
	ferry_sink_free(s.sink);
	return r;
}
