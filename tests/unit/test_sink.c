/* test_sink.c - the hashing/writing worker: bytes, digest, errors, reuse. */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_digest_and_bytes),
	    cmocka_unit_test(test_empty_file),
	    cmocka_unit_test(test_write_error),
	    cmocka_unit_test(test_abandon_then_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
