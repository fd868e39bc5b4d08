/* test_buf.c - the bounded writer: big-endian layout, the mandatory maximum,
 * reset on overflow, consume, set_u32, and wiping of secret buffers. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ferry/buf.h"

static void
assert_all(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			fail_msg(
			    "byte %zu is 0x%02x, expected 0x%02x", i, p[i], v);
}

static void
test_init(void **state)
{
	struct ferry_buf b, pb;

	(void)state;
	ferry_buf_init(&b, 100);
	assert_null(b.data); /* no allocation */
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 100);
	assert_true(b.wipe);
	ferry_buf_init_public(&pb, 200);
	assert_null(pb.data);
	assert_int_equal(pb.len, 0);
	assert_int_equal(pb.max, 200);
	assert_false(pb.wipe);
	ferry_buf_free(&b);
	ferry_buf_free(&pb);
	ferry_buf_free(NULL); /* a no-op */
}

static void
test_put_layout(void **state)
{
	static const uint8_t want[] = {0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
	    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 'h', 'i', 0x00,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct ferry_buf b;

	(void)state;
	ferry_buf_init(&b, 64);
	assert_int_equal(ferry_buf_put_u8(&b, 0xab), 0);
	assert_int_equal(ferry_buf_put_u16(&b, 0x1234), 0);
	assert_int_equal(ferry_buf_put_u32(&b, 0xdeadbeef), 0);
	assert_int_equal(ferry_buf_put_u64(&b, 0x0123456789abcdefULL), 0);
	assert_int_equal(ferry_buf_put(&b, "hi", 2), 0);
	assert_int_equal(ferry_buf_put(&b, NULL, 0), 0);
	assert_int_equal(ferry_buf_put_u8(&b, 0), 0);
	assert_int_equal(ferry_buf_put_u64(&b, UINT64_MAX), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	ferry_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	ferry_buf_free(&b); /* twice is harmless */
}

static void
test_put_grow(void **state)
{
	(void)state;
	for (int pub = 0; pub < 2; pub++) {
		struct ferry_buf b;

		if (pub)
			ferry_buf_init_public(&b, 100000);
		else
			ferry_buf_init(&b, 100000);
		/* Many reallocations; contents survive each. */
		for (uint32_t i = 0; i < 25000; i++)
			assert_int_equal(ferry_buf_put_u32(&b, i), 0);
		assert_int_equal(b.len, 100000);
		assert_true(b.cap >= b.len);
		assert_true(b.cap <= b.max);
		for (uint32_t i = 0; i < 25000; i++) {
			const uint8_t *p = b.data + 4 * i;
			uint32_t v = (uint32_t)p[0] << 24 |
			             (uint32_t)p[1] << 16 |
			             (uint32_t)p[2] << 8 | p[3];

			assert_int_equal(v, i);
		}
		/* Full: one more byte is too much, and resets. */
		assert_int_equal(ferry_buf_put_u8(&b, 1), FERRY_E_TOOBIG);
		assert_int_equal(b.len, 0);
		ferry_buf_free(&b);
	}
}

static void
test_reserve_max(void **state)
{
	struct ferry_buf b;

	(void)state;
	ferry_buf_init(&b, 16);
	assert_int_equal(ferry_buf_reserve(&b, 0), 0);
	assert_int_equal(ferry_buf_reserve(&b, 16), 0);
	assert_int_equal(b.len, 0); /* reserve does not write */
	assert_int_equal(ferry_buf_put(&b, "0123456789", 10), 0);
	assert_int_equal(ferry_buf_reserve(&b, 6), 0);
	assert_int_equal(b.len, 10);
	/* One past the maximum: FERRY_E_TOOBIG and the buffer is reset. */
	assert_int_equal(ferry_buf_reserve(&b, 7), FERRY_E_TOOBIG);
	assert_int_equal(b.len, 0);
	/* Sizes that would overflow len + n. */
	assert_int_equal(ferry_buf_put(&b, "ab", 2), 0);
	assert_int_equal(ferry_buf_reserve(&b, SIZE_MAX), FERRY_E_TOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(ferry_buf_put(&b, "ab", 2), 0);
	assert_int_equal(ferry_buf_reserve(&b, SIZE_MAX - 1), FERRY_E_TOOBIG);
	assert_int_equal(b.len, 0);
	/* Exactly full, then each put kind fails and resets. */
	assert_int_equal(ferry_buf_put(&b, "0123456789abcdef", 16), 0);
	assert_int_equal(ferry_buf_put(&b, "x", 1), FERRY_E_TOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(ferry_buf_put(&b, "0123456789abcde", 15), 0);
	assert_int_equal(ferry_buf_put_u16(&b, 1), FERRY_E_TOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(ferry_buf_put(&b, "0123456789abc", 13), 0);
	assert_int_equal(ferry_buf_put_u32(&b, 1), FERRY_E_TOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(ferry_buf_put(&b, "012345678", 9), 0);
	assert_int_equal(ferry_buf_put_u64(&b, 1), FERRY_E_TOOBIG);
	assert_int_equal(b.len, 0);
	/* Usable again after the reset. */
	assert_int_equal(ferry_buf_put_u64(&b, 1), 0);
	assert_int_equal(b.len, 8);
	ferry_buf_free(&b);

	/* A zero maximum holds nothing at all. */
	ferry_buf_init_public(&b, 0);
	assert_int_equal(ferry_buf_reserve(&b, 0), 0);
	assert_int_equal(ferry_buf_put_u8(&b, 0), FERRY_E_TOOBIG);
	assert_int_equal(b.len, 0);
	ferry_buf_free(&b);
}

static void
test_vec16(void **state)
{
	static const uint8_t want[] = {0x00, 0x03, 'a', 'b', 'c', 0x00, 0x00};
	static const uint8_t full[] = {
	    0x00, 0x06, 'a', 'b', 'c', 'd', 'e', 'f'};
	struct ferry_buf b;
	uint8_t *big;

	(void)state;
	ferry_buf_init(&b, 70000);
	assert_int_equal(ferry_buf_put_vec16(&b, "abc", 3, 3), 0); /* n==max */
	assert_int_equal(ferry_buf_put_vec16(&b, NULL, 0, 0), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	/* n > the caller's maximum. */
	assert_int_equal(ferry_buf_put_vec16(&b, "abcd", 4, 3), FERRY_E_TOOBIG);
	/* n > 65535 even when the caller's maximum allows it. */
	assert_non_null(big = calloc(1, 65536));
	assert_int_equal(
	    ferry_buf_put_vec16(&b, big, 65536, SIZE_MAX), FERRY_E_TOOBIG);
	ferry_buf_reset(&b);
	assert_int_equal(ferry_buf_put_vec16(&b, big, 65535, 65535), 0);
	assert_int_equal(b.len, 65537);
	assert_int_equal(b.data[0], 0xff);
	assert_int_equal(b.data[1], 0xff);
	ferry_buf_free(&b);

	/* The vector fits its maximum but not the buffer: reset. */
	ferry_buf_init(&b, 8);
	assert_int_equal(ferry_buf_put_u16(&b, 7), 0);
	assert_int_equal(
	    ferry_buf_put_vec16(&b, "abcde", 5, 100), FERRY_E_TOOBIG);
	assert_int_equal(b.len, 0);
	/* Length prefix + bytes exactly fill it. */
	assert_int_equal(ferry_buf_put_vec16(&b, "abcdef", 6, 100), 0);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, full, sizeof(full));
	ferry_buf_free(&b);
	free(big);
}

static void
test_consume(void **state)
{
	struct ferry_buf b;

	(void)state;
	ferry_buf_init_public(&b, 64);
	assert_int_equal(ferry_buf_put(&b, "0123456789", 10), 0);
	ferry_buf_consume(&b, 0);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "0123456789", 10);
	ferry_buf_consume(&b, 3);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.data, "3456789", 7);
	assert_int_equal(ferry_buf_put(&b, "ab", 2), 0);
	assert_memory_equal(b.data, "3456789ab", 9);
	ferry_buf_consume(&b, 8);
	assert_int_equal(b.len, 1);
	assert_int_equal(b.data[0], 'b');
	ferry_buf_consume(&b, 1);
	assert_int_equal(b.len, 0);
	ferry_buf_consume(&b, 0);
	assert_int_equal(b.len, 0);
	ferry_buf_free(&b);
}

static void
test_set_u32(void **state)
{
	static const uint8_t want[] = {
	    0xaa, 0x12, 0x34, 0x56, 0x78, 0xbb, 0xca, 0xfe, 0xba, 0xbe};
	struct ferry_buf b;

	(void)state;
	ferry_buf_init(&b, 64);
	assert_int_equal(ferry_buf_put_u8(&b, 0xaa), 0);
	assert_int_equal(ferry_buf_put_u32(&b, 0), 0);
	assert_int_equal(ferry_buf_put_u8(&b, 0xbb), 0);
	assert_int_equal(ferry_buf_put_u32(&b, 0), 0);
	ferry_buf_set_u32(&b, 1, 0x12345678);
	ferry_buf_set_u32(&b, 6, 0xcafebabe); /* the last 4 bytes */
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	ferry_buf_free(&b);
}

/* Runs set_u32 at off on a buffer of len bytes in a child; 1 if it aborted. */
static int
set_u32_aborts(size_t len, size_t off)
{
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ferry_buf b;

		ferry_buf_init(&b, 64);
		for (size_t i = 0; i < len; i++)
			if (ferry_buf_put_u8(&b, 0) != 0)
				_exit(2);
		ferry_buf_set_u32(&b, off, 1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

static void
test_set_u32_out_of_range(void **state)
{
	(void)state;
	/* A programming error: abort rather than write out of bounds. */
	assert_false(set_u32_aborts(8, 4));
	assert_true(set_u32_aborts(8, 5));
	assert_true(set_u32_aborts(8, 8));
	assert_true(set_u32_aborts(8, SIZE_MAX - 1));
	assert_true(set_u32_aborts(3, 0));
	assert_true(set_u32_aborts(0, 0));
}

static void
test_wipe_on_reset(void **state)
{
	static const uint8_t secret[] = "correct horse battery staple";
	struct ferry_buf b;
	uint8_t *p;

	(void)state;
	/* reset keeps the allocation, so its bytes can be inspected. */
	ferry_buf_init(&b, 256);
	assert_int_equal(ferry_buf_put(&b, secret, sizeof(secret)), 0);
	p = b.data;
	ferry_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, p);
	assert_all(p, sizeof(secret), 0);

	/* An overflow resets, so it wipes too. */
	assert_int_equal(ferry_buf_put(&b, secret, sizeof(secret)), 0);
	assert_int_equal(ferry_buf_reserve(&b, 257), FERRY_E_TOOBIG);
	assert_ptr_equal(b.data, p);
	assert_all(p, sizeof(secret), 0);

	/* consume of everything resets. */
	assert_int_equal(ferry_buf_put(&b, secret, sizeof(secret)), 0);
	ferry_buf_consume(&b, sizeof(secret));
	assert_int_equal(b.len, 0);
	assert_all(p, sizeof(secret), 0);
	ferry_buf_free(&b);
	assert_null(b.data);

	/* A public buffer is not wiped: that is its point. */
	ferry_buf_init_public(&b, 256);
	assert_int_equal(ferry_buf_put(&b, secret, sizeof(secret)), 0);
	p = b.data;
	ferry_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_memory_equal(p, secret, sizeof(secret));
	ferry_buf_free(&b);
}

/*
 * A partial consume moves the tail down but leaves the old copy of the last
 * n bytes beyond len, where a later reset or free (which cleanse only len
 * bytes) never reaches. buf.h promises a secret buffer is wiped on reset.
 */
static void
test_wipe_after_partial_consume(void **state)
{
	static const uint8_t secret[] = "0123456789ABCDEF";
	struct ferry_buf b;
	size_t left = 0;
	uint8_t *p;

	(void)state;
	ferry_buf_init(&b, 256);
	assert_int_equal(ferry_buf_put(&b, secret, 16), 0);
	p = b.data;
	ferry_buf_consume(&b, 8);
	assert_int_equal(b.len, 8);
	assert_memory_equal(p, "89ABCDEF", 8);
	ferry_buf_reset(&b);
	assert_ptr_equal(b.data, p);
	for (size_t i = 0; i < 16; i++)
		left += p[i] != 0;
	ferry_buf_free(&b);
	/* BUG (src/lib/buf.c ferry_buf_consume): bytes 8..15 still hold
	 * "89ABCDEF" after the reset of a secret buffer. */
	assert_int_equal(left, 0);
}

/* Growing a secret buffer must not leave the old block behind: exercise
 * the copy-then-cleanse path across several reallocations. */
static void
test_wipe_grow(void **state)
{
	struct ferry_buf b;

	(void)state;
	ferry_buf_init(&b, 4096);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(ferry_buf_put_u8(&b, (uint8_t)i), 0);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(b.data[i], (uint8_t)i);
	ferry_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init),
	    cmocka_unit_test(test_put_layout),
	    cmocka_unit_test(test_put_grow),
	    cmocka_unit_test(test_reserve_max),
	    cmocka_unit_test(test_vec16),
	    cmocka_unit_test(test_consume),
	    cmocka_unit_test(test_set_u32),
	    cmocka_unit_test(test_set_u32_out_of_range),
	    cmocka_unit_test(test_wipe_on_reset),
	    cmocka_unit_test(test_wipe_after_partial_consume),
	    cmocka_unit_test(test_wipe_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
