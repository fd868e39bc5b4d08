/* test_sink.c - the hashing/writing worker: bytes, digest, errors, reuse,
 * resumed files (a prefix already on disk), SHA-256 of a file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "ferry/sink.h"

/* Pushes n frames of sizes derived from seed into a temp file. */
static void
push_file(struct ferry_sink *s, FILE *f, size_t nframes, unsigned seed,
    uint8_t want[FERRY_SHA256_LEN], size_t *total)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t *frame = ferry_frame_alloc();
	unsigned int dlen = 0;

	assert_non_null(ctx);
	assert_non_null(frame);
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
	*total = 0;
	ferry_sink_begin(s, fileno(f));
	for (size_t i = 0; i < nframes; i++) {
		size_t len = (seed * 7919u + i * 104729u) % FERRY_MAX_DATA;

		for (size_t k = 0; k < len; k++)
			frame[FERRY_FRAME_HDR + k] = (uint8_t)(seed + i + k);
		assert_int_equal(
		    EVP_DigestUpdate(ctx, frame + FERRY_FRAME_HDR, len), 1);
		*total += len;
		/* The sink hands back a different buffer to fill next. */
		assert_int_equal(ferry_sink_push(s, &frame, len), 0);
		assert_non_null(frame);
	}
	assert_int_equal(EVP_DigestFinal_ex(ctx, want, &dlen), 1);
	ferry_frame_free(frame);
	EVP_MD_CTX_free(ctx);
}

static void
test_digest_and_bytes(void **state)
{
	struct ferry_sink *s = NULL;
	uint8_t want[FERRY_SHA256_LEN], got[FERRY_SHA256_LEN];
	size_t total;

	(void)state;
	assert_int_equal(ferry_sink_new(&s), 0);
	/* Several files through one sink: each hash starts afresh. */
	for (unsigned seed = 1; seed <= 3; seed++) {
		FILE *f = tmpfile();
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		uint8_t back[FERRY_SHA256_LEN], buf[65536];
		unsigned int dlen = 0;
		size_t n, seen = 0;

		assert_non_null(f);
		push_file(s, f, 20 + seed, seed, want, &total);
		assert_int_equal(ferry_sink_end(s, got), 0);
		assert_memory_equal(got, want, FERRY_SHA256_LEN);
		/* What reached the file is exactly what was pushed. */
		assert_int_equal(fflush(f), 0);
		assert_int_equal(fseek(f, 0, SEEK_SET), 0);
		assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			assert_int_equal(EVP_DigestUpdate(ctx, buf, n), 1);
			seen += n;
		}
		assert_int_equal(EVP_DigestFinal_ex(ctx, back, &dlen), 1);
		assert_int_equal(seen, total);
		assert_memory_equal(back, want, FERRY_SHA256_LEN);
		EVP_MD_CTX_free(ctx);
		fclose(f);
	}
	ferry_sink_free(s);
}

static void
test_empty_file(void **state)
{
	static const uint8_t empty[FERRY_SHA256_LEN] = {0xe3, 0xb0, 0xc4, 0x42,
	    0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9,
	    0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95,
	    0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
	struct ferry_sink *s = NULL;
	uint8_t got[FERRY_SHA256_LEN];
	FILE *f = tmpfile();

	(void)state;
	assert_non_null(f);
	assert_int_equal(ferry_sink_new(&s), 0);
	ferry_sink_begin(s, fileno(f));
	assert_int_equal(ferry_sink_end(s, got), 0);
	assert_memory_equal(got, empty, FERRY_SHA256_LEN);
	ferry_sink_free(s);
	fclose(f);
}

static void
test_write_error(void **state)
{
	struct ferry_sink *s = NULL;
	uint8_t got[FERRY_SHA256_LEN], *frame = ferry_frame_alloc();
	int fds[2], r = 0;

	(void)state;
	assert_non_null(frame);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(ferry_sink_new(&s), 0);
	/* The read end of a pipe cannot be written: EBADF. */
	ferry_sink_begin(s, fds[0]);
	memset(frame, 'x', FERRY_FRAME_HDR + 100);
	for (int i = 0; i < 8 && r == 0; i++)
		r = ferry_sink_push(s, &frame, 100);
	/* Reported early by a later push, or at the end at the latest. */
	if (r == 0)
		r = ferry_sink_end(s, got);
	else
		ferry_sink_abandon(s);
	assert_int_not_equal(r, 0);
	/* The next file through the same sink is unaffected. */
	{
		FILE *f = tmpfile();
		uint8_t want[FERRY_SHA256_LEN];
		size_t total;

		assert_non_null(f);
		push_file(s, f, 3, 9, want, &total);
		assert_int_equal(ferry_sink_end(s, got), 0);
		assert_memory_equal(got, want, FERRY_SHA256_LEN);
		fclose(f);
	}
	ferry_frame_free(frame);
	ferry_sink_free(s);
	close(fds[0]);
	close(fds[1]);
}

static void
test_abandon_then_free(void **state)
{
	struct ferry_sink *s = NULL;
	uint8_t want[FERRY_SHA256_LEN];
	size_t total;
	FILE *f = tmpfile();

	(void)state;
	assert_non_null(f);
	assert_int_equal(ferry_sink_new(&s), 0);
	push_file(s, f, 10, 4, want, &total);
	ferry_sink_abandon(s);
	ferry_sink_free(s);
	ferry_sink_free(NULL);
	fclose(f);
}

static void
sha256_of(const uint8_t *p, size_t n, uint8_t out[FERRY_SHA256_LEN])
{
	unsigned int dlen = 0;

	assert_int_equal(EVP_Digest(p, n, out, &dlen, EVP_sha256(), NULL), 1);
	assert_int_equal(dlen, FERRY_SHA256_LEN);
}

/*
 * A resumed file: its first part already in the file (as a kept partial),
 * hashed by begin_prefix, the rest pushed after it. The prefix spans
 * several read chunks and ends at an odd offset.
 */
static void
test_prefix(void **state)
{
	static const size_t sizes[] = {0, 1, 100000, 1234567};
	const size_t total = 1500000;
	struct ferry_sink *s = NULL;
	uint8_t *data = malloc(total), *frame = ferry_frame_alloc();
	uint8_t want[FERRY_SHA256_LEN], got[FERRY_SHA256_LEN];
	uint8_t prefix[FERRY_SHA256_LEN], pwant[FERRY_SHA256_LEN];

	(void)state;
	assert_non_null(data);
	assert_non_null(frame);
	for (size_t i = 0; i < total; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	sha256_of(data, total, want);
	assert_int_equal(ferry_sink_new(&s), 0);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t len = sizes[k], off;
		FILE *f = tmpfile();
		int fd;

		assert_non_null(f);
		fd = fileno(f);
		/* The partial holds the prefix and some stale bytes after. */
		assert_int_equal(write(fd, data, len), (ssize_t)len);
		assert_int_equal(write(fd, "stale", 5), 5);
		assert_int_equal(ftruncate(fd, (off_t)len), 0);
		assert_int_equal(lseek(fd, (off_t)len, SEEK_SET), (off_t)len);

		assert_int_equal(
		    ferry_sink_begin_prefix(s, fd, fd, len, prefix), 0);
		sha256_of(data, len, pwant);
		assert_memory_equal(prefix, pwant, FERRY_SHA256_LEN);
		for (off = len; off < total;) {
			size_t n = total - off < FERRY_MAX_DATA
			               ? total - off
			               : FERRY_MAX_DATA;

			/* Small and large frames: inline and on the worker. */
			if (n > 1000 + k * 7000)
				n = 1000 + k * 7000 +
				    (off % 3) * FERRY_MAX_DATA / 4;
			if (n > total - off)
				n = total - off;
			memcpy(frame + FERRY_FRAME_HDR, data + off, n);
			assert_int_equal(ferry_sink_push(s, &frame, n), 0);
			off += n;
		}
		assert_int_equal(ferry_sink_end(s, got), 0);
		assert_memory_equal(got, want, FERRY_SHA256_LEN);
		/* The file is the whole of it. */
		assert_int_equal(ferry_sha256_fd(fd, total, got), 0);
		assert_memory_equal(got, want, FERRY_SHA256_LEN);
		assert_int_equal(lseek(fd, 0, SEEK_END), (off_t)total);
		fclose(f);
	}
	ferry_frame_free(frame);
	ferry_sink_free(s);
	free(data);
}

/* A source shorter than the claimed prefix: FERRY_E_IO, sink unharmed. */
static void
test_prefix_short(void **state)
{
	static const uint8_t empty[FERRY_SHA256_LEN] = {0xe3, 0xb0, 0xc4, 0x42,
	    0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9,
	    0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95,
	    0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
	struct ferry_sink *s = NULL;
	uint8_t prefix[FERRY_SHA256_LEN], got[FERRY_SHA256_LEN];
	uint8_t want[FERRY_SHA256_LEN];
	FILE *f = tmpfile(), *g = tmpfile();
	size_t total;
	int fds[2];

	(void)state;
	assert_non_null(f);
	assert_non_null(g);
	assert_int_equal(write(fileno(f), "abcdef", 6), 6);
	assert_int_equal(ferry_sink_new(&s), 0);
	assert_int_equal(
	    ferry_sink_begin_prefix(s, fileno(f), fileno(f), 7, prefix),
	    FERRY_E_IO);
	/* Much shorter than one read chunk, and empty. */
	assert_int_equal(
	    ferry_sink_begin_prefix(s, fileno(g), fileno(g), 1u << 20, prefix),
	    FERRY_E_IO);
	/* Unreadable: a pipe cannot be pread. */
	assert_int_equal(pipe(fds), 0);
	assert_true(ferry_sink_begin_prefix(s, -1, fds[0], 1, prefix) < 0);
	close(fds[0]);
	close(fds[1]);
	/* The next file through the sink starts afresh. */
	ferry_sink_begin(s, fileno(g));
	assert_int_equal(ferry_sink_end(s, got), 0);
	assert_memory_equal(got, empty, FERRY_SHA256_LEN);
	push_file(s, g, 5, 3, want, &total);
	assert_int_equal(ferry_sink_end(s, got), 0);
	assert_memory_equal(got, want, FERRY_SHA256_LEN);

	/* ferry_sha256_fd: exact, short, empty. */
	assert_int_equal(ferry_sha256_fd(fileno(f), 6, got), 0);
	sha256_of((const uint8_t *)"abcdef", 6, want);
	assert_memory_equal(got, want, FERRY_SHA256_LEN);
	assert_int_equal(ferry_sha256_fd(fileno(f), 3, got), 0);
	sha256_of((const uint8_t *)"abc", 3, want);
	assert_memory_equal(got, want, FERRY_SHA256_LEN);
	assert_int_equal(ferry_sha256_fd(fileno(f), 7, got), FERRY_E_IO);
	assert_int_equal(ferry_sha256_fd(fileno(f), 0, got), 0);
	assert_memory_equal(got, empty, FERRY_SHA256_LEN);
	ferry_sink_free(s);
	fclose(f);
	fclose(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_digest_and_bytes),
	    cmocka_unit_test(test_empty_file),
	    cmocka_unit_test(test_write_error),
	    cmocka_unit_test(test_abandon_then_free),
	    cmocka_unit_test(test_prefix),
	    cmocka_unit_test(test_prefix_short),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
