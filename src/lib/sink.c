/* sink.c - hashing and writing received data on a worker thread.
 * Buffers circulate: the connection reads into one, the worker drains others. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ferry/sink.h"

#include "internal.h"

/* Frames queued ahead of the worker; also the number of spare buffers. */
#define SINK_DEPTH 4
/* Frames up to this size are hashed and written by the caller itself. */
#define SINK_INLINE_MAX (64 * 1024)
/* Start writing received data back to disk every this many bytes. */
#define WRITEBACK_CHUNK (8u << 20)

struct sink_item {
	uint8_t *frame;
	size_t len;
};

struct ferry_sink {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* any change of queue, spares, busy or quit */
	EVP_MD_CTX *sha; /* the worker's while a file is open */
	int fd;
	struct sink_item queue[SINK_DEPTH];
	size_t head, count;
	uint8_t *spare[SINK_DEPTH + 1];
	size_t nspare;
	int busy; /* the worker holds an item outside the lock */
	int error; /* errno of this file's first failed write; -1: hash */
	int quit;
	uint64_t written, synced;
};

static EVP_MD *sha256_md;
static CRYPTO_ONCE sha256_once = CRYPTO_ONCE_STATIC_INIT;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static EVP_MD_CTX *
sha256_new(void)
{
	EVP_MD_CTX *ctx;

	if (!CRYPTO_THREAD_run_once(&sha256_once, sha256_fetch) ||
	    sha256_md == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (EVP_DigestInit_ex(ctx, sha256_md, NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int
sha256_final(EVP_MD_CTX *ctx, unsigned char out[32])
{
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != 32 ||
	    EVP_DigestInit_ex(ctx, sha256_md, NULL) != 1)
		return FERRY_E_CRYPTO;
	return 0;
}

static int
write_full(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Hashes and writes one frame's payload; 0, an errno, or -1 (hash). */
static int
consume(struct ferry_sink *s, const uint8_t *frame, size_t len)
{
	const uint8_t *p = frame + FERRY_FRAME_HDR;
	int e = 0;

	if (EVP_DigestUpdate(s->sha, p, len) != 1)
		return -1;
	if (s->fd >= 0)
		e = write_full(s->fd, p, len);
	s->written += len;
	if (e == 0 && s->fd >= 0 && s->written - s->synced >= WRITEBACK_CHUNK) {
		/* Start writeback now so the final fsync is short. */
		(void)sync_file_range(s->fd, (off_t)s->synced,
		    (off_t)(s->written - s->synced), SYNC_FILE_RANGE_WRITE);
		s->synced = s->written;
	}
	return e;
}

static void *
worker(void *arg)
{
	struct ferry_sink *s = arg;
	sigset_t all;

	/*
	 * Signals are the main thread's: a SIGTERM handled here would not
	 * interrupt its poll(2), and the stop would wait for the timeout.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct sink_item it;
		int failed, e = 0;

		while (s->count == 0 && !s->quit)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->count == 0)
			break;
		it = s->queue[s->head];
		s->head = (s->head + 1) % SINK_DEPTH;
		s->count--;
		s->busy = 1;
		failed = s->error != 0;
		pthread_mutex_unlock(&s->mu);

		/* After a failure the rest of the file is only drained. */
		if (!failed)
			e = consume(s, it.frame, it.len);

		pthread_mutex_lock(&s->mu);
		if (e != 0 && s->error == 0)
			s->error = e;
		s->spare[s->nspare++] = it.frame;
		s->busy = 0;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int
ferry_sink_new(struct ferry_sink **out)
{
	struct ferry_sink *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return FERRY_E_NOMEM;
	s->fd = -1;
	if ((s->sha = sha256_new()) == NULL) {
		free(s);
		return FERRY_E_CRYPTO;
	}
	for (; s->nspare < SINK_DEPTH; s->nspare++)
		if ((s->spare[s->nspare] = ferry_frame_alloc()) == NULL)
			break;
	if (s->nspare < SINK_DEPTH || pthread_mutex_init(&s->mu, NULL) != 0) {
		while (s->nspare > 0)
			ferry_frame_free(s->spare[--s->nspare]);
		EVP_MD_CTX_free(s->sha);
		free(s);
		return FERRY_E_NOMEM;
	}
	if (pthread_cond_init(&s->cv, NULL) != 0 ||
	    pthread_create(&s->thread, NULL, worker, s) != 0) {
		pthread_mutex_destroy(&s->mu);
		while (s->nspare > 0)
			ferry_frame_free(s->spare[--s->nspare]);
		EVP_MD_CTX_free(s->sha);
		free(s);
		return ferry_errf(
		    FERRY_E_NOMEM, "cannot start a worker thread");
	}
	*out = s;
	return 0;
}

void
ferry_sink_free(struct ferry_sink *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->quit = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	/* The worker drained the queue before it quit: all buffers are spare. */
	while (s->nspare > 0)
		ferry_frame_free(s->spare[--s->nspare]);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	EVP_MD_CTX_free(s->sha);
	free(s);
}

void
ferry_sink_begin(struct ferry_sink *s, int fd)
{
	pthread_mutex_lock(&s->mu);
	s->fd = fd;
	s->error = 0;
	s->written = s->synced = 0;
	pthread_mutex_unlock(&s->mu);
}

/* Bytes read per pread when hashing what a file already holds. */
#define HASH_CHUNK (256 * 1024)

/* Adds the first len bytes of fd (pread from 0) to ctx; FERRY_E_IO if short. */
static int
hash_fd(EVP_MD_CTX *ctx, int fd, uint64_t len)
{
	uint8_t *buf;
	uint64_t off = 0;
	int r = 0;

	if (len == 0)
		return 0;
	if ((buf = malloc(HASH_CHUNK)) == NULL)
		return FERRY_E_NOMEM;
	while (off < len) {
		size_t want =
		    len - off < HASH_CHUNK ? (size_t)(len - off) : HASH_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = ferry_errf_errno(ferry_err_from_errno(errno), errno,
			    "cannot read back the first %llu bytes",
			    (unsigned long long)len);
			break;
		}
		if (n == 0) {
			r = ferry_errf(FERRY_E_IO,
			    "the file holds %llu bytes, not %llu",
			    (unsigned long long)off, (unsigned long long)len);
			break;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			r = ferry_errf(FERRY_E_CRYPTO, "SHA-256 failed");
			break;
		}
		off += (uint64_t)n;
	}
	free(buf);
	return r;
}

int
ferry_sha256_fd(int fd, uint64_t len, uint8_t out[FERRY_SHA256_LEN])
{
	EVP_MD_CTX *ctx;
	int r;

	if ((ctx = sha256_new()) == NULL)
		return ferry_errf(FERRY_E_CRYPTO, "SHA-256 unavailable");
	if ((r = hash_fd(ctx, fd, len)) == 0)
		r = sha256_final(ctx, out);
	EVP_MD_CTX_free(ctx);
	return r;
}

int
ferry_sink_begin_prefix(struct ferry_sink *s, int fd, int src_fd, uint64_t len,
    uint8_t prefix[FERRY_SHA256_LEN])
{
	EVP_MD_CTX *copy;
	off_t at = fd >= 0 ? lseek(fd, 0, SEEK_CUR) : 0;
	int r;

	/*
	 * The worker is idle between files, so the context is the caller's
	 * until the first push: the prefix goes in here, on this thread.
	 */
	if (EVP_DigestInit_ex(s->sha, sha256_md, NULL) != 1)
		return ferry_errf(FERRY_E_CRYPTO, "SHA-256 failed");
	if ((r = hash_fd(s->sha, src_fd, len)) != 0) {
		(void)EVP_DigestInit_ex(s->sha, sha256_md, NULL);
		return r;
	}
	/* The prefix's digest from a copy; the file's hash goes on. */
	if ((copy = EVP_MD_CTX_new()) == NULL ||
	    EVP_MD_CTX_copy_ex(copy, s->sha) != 1 ||
	    (r = sha256_final(copy, prefix)) != 0) {
		EVP_MD_CTX_free(copy);
		(void)EVP_DigestInit_ex(s->sha, sha256_md, NULL);
		return ferry_errf(FERRY_E_CRYPTO, "SHA-256 failed");
	}
	EVP_MD_CTX_free(copy);
	pthread_mutex_lock(&s->mu);
	s->fd = fd;
	s->error = 0;
	/* Writeback ranges are file offsets: pushed bytes go after at. */
	s->written = s->synced = at < 0 ? 0 : (uint64_t)at;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static int
sink_error(int e)
{
	if (e < 0)
		return ferry_errf(FERRY_E_CRYPTO, "SHA-256 failed");
	return ferry_errf_errno(ferry_err_from_errno(e), e, "cannot write");
}

int
ferry_sink_push(struct ferry_sink *s, uint8_t **frame, size_t len)
{
	int e;

	pthread_mutex_lock(&s->mu);
	/*
	 * A small frame with the worker idle is done right here: handing it
	 * over would cost two thread wake-ups, more than hashing it (this is
	 * what makes a thousand small files fast). The worker only touches
	 * what is queued, so it stays out of the way.
	 */
	if (len <= SINK_INLINE_MAX && s->count == 0 && !s->busy) {
		if (s->error == 0 && (e = consume(s, *frame, len)) != 0)
			s->error = e;
		e = s->error;
		pthread_mutex_unlock(&s->mu);
		return e == 0 ? 0 : sink_error(e);
	}
	while (s->count == SINK_DEPTH)
		pthread_cond_wait(&s->cv, &s->mu);
	s->queue[(s->head + s->count) % SINK_DEPTH] =
	    (struct sink_item){.frame = *frame, .len = len};
	s->count++;
	pthread_cond_broadcast(&s->cv);
	while (s->nspare == 0)
		pthread_cond_wait(&s->cv, &s->mu);
	*frame = s->spare[--s->nspare];
	e = s->error;
	pthread_mutex_unlock(&s->mu);
	return e == 0 ? 0 : sink_error(e);
}

void
ferry_sink_abandon(struct ferry_sink *s)
{
	uint8_t sha[FERRY_SHA256_LEN];

	if (ferry_sink_end(s, sha) != 0)
		ferry_err_clear();
}

int
ferry_sink_end(struct ferry_sink *s, uint8_t sha[FERRY_SHA256_LEN])
{
	int e, r;

	pthread_mutex_lock(&s->mu);
	while (s->count > 0 || s->busy)
		pthread_cond_wait(&s->cv, &s->mu);
	e = s->error;
	s->error = 0;
	s->fd = -1;
	pthread_mutex_unlock(&s->mu);
	/* The worker is idle: the hash context is ours until the next push. */
	if (e != 0) {
		(void)EVP_DigestInit_ex(s->sha, NULL, NULL);
		return sink_error(e);
	}
	if ((r = sha256_final(s->sha, sha)) != 0)
		return r;
	return 0;
}
