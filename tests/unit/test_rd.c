/* test_rd.c - the bounds-checked reader: exact reads, failed reads that do
 * not move the cursor, delimited tokens, and inputs that end against a
 * guard page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "ferry/rd.h"

/* Two pages, the second PROT_NONE: input placed at the end of the first
 * page makes any read past its end fault (picohttpparser's trick). */
struct guard {
	uint8_t *map;
	size_t page;
};

static struct guard guard;

static int
guard_setup(void **state)
{
	long ps = sysconf(_SC_PAGESIZE);
	void *p;

	(void)state;
	if (ps <= 0)
		return -1;
	guard.page = (size_t)ps;
	p = mmap(NULL, 2 * guard.page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	guard.map = p;
	if (mprotect(guard.map + guard.page, guard.page, PROT_NONE) != 0)
		return -1;
	return 0;
}

static int
guard_teardown(void **state)
{
	(void)state;
	return munmap(guard.map, 2 * guard.page);
}

/* Copies n bytes so that the last one is the last readable byte. */
static const uint8_t *
guarded(const void *p, size_t n)
{
	uint8_t *dst;

	assert_true(n <= guard.page);
	dst = guard.map + guard.page - n;
	if (n > 0)
		memcpy(dst, p, n);
	return dst;
}

static const uint8_t seq[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};

static void
test_init_left(void **state)
{
	struct ferry_rd rd;

	(void)state;
	ferry_rd_init(&rd, seq, sizeof(seq));
	assert_int_equal(ferry_rd_left(&rd), sizeof(seq));
	assert_int_equal(rd.off, 0);

	/* A NULL range is an empty range whatever length comes with it. */
	ferry_rd_init(&rd, NULL, 1234);
	assert_int_equal(ferry_rd_left(&rd), 0);
	assert_int_equal(ferry_rd_end(&rd), 0);
	{
		const uint8_t *p = seq;
		size_t n = 99;
		uint8_t b;

		assert_int_equal(ferry_rd_u8(&rd, &b), FERRY_E_PROTO);
		assert_int_equal(ferry_rd_bytes(&rd, 1, &p), FERRY_E_PROTO);
		assert_int_equal(ferry_rd_bytes(&rd, 0, &p), 0);
		assert_int_equal(ferry_rd_copy(&rd, &b, 0), 0);
		assert_int_equal(ferry_rd_peek(&rd, &b), FERRY_E_PROTO);
		assert_int_equal(
		    ferry_rd_until(&rd, 0, SIZE_MAX, &p, &n), FERRY_E_PROTO);
		ferry_rd_rest(&rd, &p, &n);
		assert_int_equal(n, 0);
		assert_int_equal(ferry_rd_end(&rd), 0);
	}
}

static void
test_u8(void **state)
{
	struct ferry_rd rd;
	uint8_t v = 0;

	(void)state;
	ferry_rd_init(&rd, seq, 2);
	assert_int_equal(ferry_rd_u8(&rd, &v), 0);
	assert_int_equal(v, 0x01);
	assert_int_equal(rd.off, 1);
	assert_int_equal(ferry_rd_u8(&rd, &v), 0);
	assert_int_equal(v, 0x02);
	assert_int_equal(rd.off, 2);
	v = 0xaa;
	assert_int_equal(ferry_rd_u8(&rd, &v), FERRY_E_PROTO);
	assert_int_equal(rd.off, 2);
	assert_int_equal(v, 0xaa); /* untouched on failure */
	assert_int_equal(ferry_rd_end(&rd), 0);
}

static void
test_u16(void **state)
{
	static const uint8_t in[] = {0xfe, 0xdc, 0x00, 0x01, 0x7f};
	struct ferry_rd rd;
	uint16_t v = 0;

	(void)state;
	ferry_rd_init(&rd, in, sizeof(in));
	assert_int_equal(ferry_rd_u16(&rd, &v), 0);
	assert_int_equal(v, 0xfedc);
	assert_int_equal(ferry_rd_u16(&rd, &v), 0);
	assert_int_equal(v, 0x0001);
	assert_int_equal(rd.off, 4);
	v = 0x5555;
	assert_int_equal(ferry_rd_u16(&rd, &v), FERRY_E_PROTO);
	assert_int_equal(rd.off, 4);
	assert_int_equal(v, 0x5555);
	assert_int_equal(ferry_rd_left(&rd), 1);
}

static void
test_u32(void **state)
{
	static const uint8_t in[] = {
	    0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x2a, 0x01, 0x02, 0x03};
	struct ferry_rd rd;
	uint32_t v = 0;

	(void)state;
	ferry_rd_init(&rd, in, sizeof(in));
	assert_int_equal(ferry_rd_u32(&rd, &v), 0);
	assert_int_equal(v, 0xdeadbeefu);
	assert_int_equal(ferry_rd_u32(&rd, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(rd.off, 8);
	v = 7;
	assert_int_equal(ferry_rd_u32(&rd, &v), FERRY_E_PROTO);
	assert_int_equal(rd.off, 8);
	assert_int_equal(v, 7);
	assert_int_equal(ferry_rd_left(&rd), 3);
}

static void
test_u64(void **state)
{
	static const uint8_t in[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
	    0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
	struct ferry_rd rd;
	uint64_t v = 0;

	(void)state;
	ferry_rd_init(&rd, in, sizeof(in));
	assert_int_equal(ferry_rd_u64(&rd, &v), 0);
	assert_true(v == 0x0123456789abcdefULL);
	assert_int_equal(ferry_rd_u64(&rd, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(rd.off, 16);
	v = 9;
	assert_int_equal(ferry_rd_u64(&rd, &v), FERRY_E_PROTO);
	assert_int_equal(rd.off, 16);
	assert_true(v == 9);
	assert_int_equal(ferry_rd_end(&rd), FERRY_E_PROTO);
}

/* Every integer width, every shorter input, at every starting offset. */
static void
test_int_short_sweep(void **state)
{
	static const size_t widths[] = {1, 2, 4, 8};

	(void)state;
	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		for (size_t pre = 0; pre < 3; pre++) {
			for (size_t have = 0; have < widths[w]; have++) {
				struct ferry_rd rd;
				uint8_t u8 = 0x11;
				uint16_t u16 = 0x1111;
				uint32_t u32 = 0x11111111;
				uint64_t u64 = 0x1111111111111111ULL;
				size_t off;
				int r = 0;

				ferry_rd_init(
				    &rd, guarded(seq, pre + have), pre + have);
				for (size_t i = 0; i < pre; i++)
					assert_int_equal(
					    ferry_rd_u8(&rd, &u8), 0);
				u8 = 0x11;
				off = rd.off;
				assert_int_equal(off, pre);
				switch (widths[w]) {
				case 1:
					r = ferry_rd_u8(&rd, &u8);
					break;
				case 2:
					r = ferry_rd_u16(&rd, &u16);
					break;
				case 4:
					r = ferry_rd_u32(&rd, &u32);
					break;
				case 8:
					r = ferry_rd_u64(&rd, &u64);
					break;
				}
				assert_int_equal(r, FERRY_E_PROTO);
				assert_int_equal(rd.off, off);
				assert_int_equal(ferry_rd_left(&rd), have);
				assert_int_equal(u8, 0x11);
				assert_int_equal(u16, 0x1111);
				assert_int_equal(u32, 0x11111111);
				assert_true(u64 == 0x1111111111111111ULL);
			}
		}
	}
}

static void
test_bytes(void **state)
{
	struct ferry_rd rd;
	const uint8_t *p = NULL;

	(void)state;
	ferry_rd_init(&rd, seq, sizeof(seq));
	assert_int_equal(ferry_rd_bytes(&rd, 0, &p), 0);
	assert_ptr_equal(p, seq);
	assert_int_equal(rd.off, 0);
	assert_int_equal(ferry_rd_bytes(&rd, 3, &p), 0);
	assert_ptr_equal(p, seq); /* borrowed, not copied */
	assert_int_equal(rd.off, 3);
	assert_int_equal(ferry_rd_bytes(&rd, 5, &p), 0);
	assert_ptr_equal(p, seq + 3);
	assert_int_equal(rd.off, 8);

	p = NULL;
	assert_int_equal(ferry_rd_bytes(&rd, 9, &p), FERRY_E_PROTO);
	assert_null(p);
	assert_int_equal(rd.off, 8);
	/* A length that would wrap an unchecked off + n. */
	assert_int_equal(ferry_rd_bytes(&rd, SIZE_MAX, &p), FERRY_E_PROTO);
	assert_int_equal(ferry_rd_bytes(&rd, SIZE_MAX - 7, &p), FERRY_E_PROTO);
	assert_null(p);
	assert_int_equal(rd.off, 8);

	assert_int_equal(ferry_rd_bytes(&rd, 8, &p), 0);
	assert_ptr_equal(p, seq + 8);
	assert_int_equal(ferry_rd_left(&rd), 0);
	assert_int_equal(ferry_rd_bytes(&rd, 1, &p), FERRY_E_PROTO);
	assert_int_equal(ferry_rd_bytes(&rd, 0, &p), 0);
	assert_int_equal(ferry_rd_end(&rd), 0);
}

static void
test_copy(void **state)
{
	struct ferry_rd rd;
	uint8_t dst[16];

	(void)state;
	memset(dst, 0xee, sizeof(dst));
	ferry_rd_init(&rd, seq, 6);
	assert_int_equal(ferry_rd_copy(&rd, dst, 4), 0);
	assert_memory_equal(dst, seq, 4);
	assert_int_equal(dst[4], 0xee);
	assert_int_equal(rd.off, 4);

	memset(dst, 0xee, sizeof(dst));
	assert_int_equal(ferry_rd_copy(&rd, dst, 3), FERRY_E_PROTO);
	assert_int_equal(rd.off, 4);
	for (size_t i = 0; i < sizeof(dst); i++)
		assert_int_equal(dst[i], 0xee); /* nothing written */

	assert_int_equal(ferry_rd_copy(&rd, NULL, 0), 0);
	assert_int_equal(ferry_rd_copy(&rd, dst, 2), 0);
	assert_memory_equal(dst, seq + 4, 2);
	assert_int_equal(ferry_rd_end(&rd), 0);
}

static void
test_vec16(void **state)
{
	static const uint8_t in[] = {
	    0x00, 0x03, 'a', 'b', 'c', 0x00, 0x00, 0x00, 0x02, 'x', 'y'};
	struct ferry_rd rd;
	const uint8_t *p = NULL;
	size_t n = 99;

	(void)state;
	ferry_rd_init(&rd, in, sizeof(in));
	assert_int_equal(ferry_rd_vec16(&rd, 3, &p, &n), 0); /* len == max */
	assert_int_equal(n, 3);
	assert_ptr_equal(p, in + 2);
	assert_int_equal(rd.off, 5);
	/* A zero-length vector, even with max 0. */
	n = 99;
	assert_int_equal(ferry_rd_vec16(&rd, 0, &p, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rd.off, 7);
	/* len (2) > max (1): fails without moving, outputs untouched. */
	p = NULL;
	n = 99;
	assert_int_equal(ferry_rd_vec16(&rd, 1, &p, &n), FERRY_E_PROTO);
	assert_int_equal(rd.off, 7);
	assert_null(p);
	assert_int_equal(n, 99);
	assert_int_equal(ferry_rd_vec16(&rd, 2, &p, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(p, "xy", 2);
	assert_int_equal(ferry_rd_end(&rd), 0);
}

static void
test_vec16_truncated(void **state)
{
	static const uint8_t in[] = {0x00, 0x05, 'a', 'b', 'c', 'd', 'e'};
	static const uint8_t big[] = {0xff, 0xff, 'a'};

	(void)state;
	/* Every proper prefix of a 7-byte vector fails and does not move. */
	for (size_t len = 0; len < sizeof(in); len++) {
		struct ferry_rd rd;
		const uint8_t *p = NULL;
		size_t n = 99;

		ferry_rd_init(&rd, guarded(in, len), len);
		assert_int_equal(
		    ferry_rd_vec16(&rd, 0xffff, &p, &n), FERRY_E_PROTO);
		assert_int_equal(rd.off, 0);
		assert_int_equal(ferry_rd_left(&rd), len);
		assert_null(p);
		assert_int_equal(n, 99);
	}
	/* The same after a consumed prefix: the cursor stays at the prefix. */
	{
		uint8_t tmp[1 + sizeof(in)];
		struct ferry_rd rd;
		const uint8_t *p;
		size_t n;
		uint8_t b;

		tmp[0] = 0x42;
		memcpy(tmp + 1, in, sizeof(in));
		ferry_rd_init(
		    &rd, guarded(tmp, sizeof(tmp) - 1), sizeof(tmp) - 1);
		assert_int_equal(ferry_rd_u8(&rd, &b), 0);
		assert_int_equal(
		    ferry_rd_vec16(&rd, 100, &p, &n), FERRY_E_PROTO);
		assert_int_equal(rd.off, 1);
	}
	/* A 65535 length over 1 byte, with a maximum that allows it. */
	{
		struct ferry_rd rd;
		const uint8_t *p;
		size_t n;

		ferry_rd_init(&rd, guarded(big, sizeof(big)), sizeof(big));
		assert_int_equal(
		    ferry_rd_vec16(&rd, SIZE_MAX, &p, &n), FERRY_E_PROTO);
		assert_int_equal(rd.off, 0);
	}
}

static void
test_peek(void **state)
{
	struct ferry_rd rd;
	uint8_t v = 0, w = 0;

	(void)state;
	ferry_rd_init(&rd, seq, 2);
	assert_int_equal(ferry_rd_peek(&rd, &v), 0);
	assert_int_equal(v, 0x01);
	assert_int_equal(rd.off, 0); /* not consumed */
	assert_int_equal(ferry_rd_peek(&rd, &v), 0);
	assert_int_equal(v, 0x01);
	assert_int_equal(ferry_rd_u8(&rd, &w), 0);
	assert_int_equal(w, 0x01);
	assert_int_equal(ferry_rd_peek(&rd, &v), 0);
	assert_int_equal(v, 0x02);
	assert_int_equal(ferry_rd_u8(&rd, &w), 0);
	v = 0xaa;
	assert_int_equal(ferry_rd_peek(&rd, &v), FERRY_E_PROTO);
	assert_int_equal(v, 0xaa); /* untouched on failure */
	assert_int_equal(rd.off, 2);
	assert_int_equal(ferry_rd_end(&rd), 0);
}

static void
test_until(void **state)
{
	static const uint8_t in[] = "ab\n\ncde\nfg";
	struct ferry_rd rd;
	const uint8_t *p = NULL;
	size_t n = 99;
	uint8_t b;

	(void)state;
	ferry_rd_init(&rd, in, sizeof(in) - 1); /* without the NUL */
	assert_int_equal(ferry_rd_until(&rd, '\n', SIZE_MAX, &p, &n), 0);
	assert_ptr_equal(p, in); /* borrowed, not copied */
	assert_int_equal(n, 2);
	assert_int_equal(rd.off, 3); /* the delimiter is consumed */
	/* An empty token: the delimiter comes first. */
	n = 99;
	assert_int_equal(ferry_rd_until(&rd, '\n', 0, &p, &n), 0);
	assert_ptr_equal(p, in + 3);
	assert_int_equal(n, 0);
	assert_int_equal(rd.off, 4);
	/* "cde" is longer than max 2: fails without moving. */
	p = NULL;
	n = 99;
	assert_int_equal(ferry_rd_until(&rd, '\n', 2, &p, &n), FERRY_E_PROTO);
	assert_null(p);
	assert_int_equal(n, 99);
	assert_int_equal(rd.off, 4);
	/* max == the token's length is enough. */
	assert_int_equal(ferry_rd_until(&rd, '\n', 3, &p, &n), 0);
	assert_memory_equal(p, "cde", 3);
	assert_int_equal(n, 3);
	assert_int_equal(rd.off, 8);
	/* No delimiter left: fails, left() <= max, and rest takes the tail. */
	p = NULL;
	assert_int_equal(
	    ferry_rd_until(&rd, '\n', SIZE_MAX, &p, &n), FERRY_E_PROTO);
	assert_int_equal(ferry_rd_until(&rd, '\n', 2, &p, &n), FERRY_E_PROTO);
	assert_null(p);
	assert_int_equal(rd.off, 8);
	assert_true(ferry_rd_left(&rd) <= 2);
	/* Another delimiter still finds its byte. */
	assert_int_equal(ferry_rd_until(&rd, 'g', 1, &p, &n), 0);
	assert_memory_equal(p, "f", 1);
	assert_int_equal(ferry_rd_end(&rd), 0);
	assert_int_equal(ferry_rd_until(&rd, 'g', 1, &p, &n), FERRY_E_PROTO);

	/* A NUL delimiter, and a NUL inside a token for another one. */
	{
		static const uint8_t z[] = {'a', 0x00, 'b', 0x00, 0xff};

		ferry_rd_init(&rd, z, sizeof(z));
		assert_int_equal(ferry_rd_until(&rd, 0xff, 4, &p, &n), 0);
		assert_int_equal(n, 4);
		assert_ptr_equal(p, z);
		ferry_rd_init(&rd, z, sizeof(z));
		assert_int_equal(ferry_rd_until(&rd, 0x00, 1, &p, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(ferry_rd_u8(&rd, &b), 0);
		assert_int_equal(b, 'b');
	}
}

/* max against the distance to the delimiter, in a longer input. */
static void
test_until_max(void **state)
{
	uint8_t in[40];

	(void)state;
	memset(in, 'x', sizeof(in));
	for (size_t at = 0; at < sizeof(in); at++) {
		in[at] = ';';
		for (size_t max = 0; max < sizeof(in) + 2; max++) {
			struct ferry_rd rd;
			const uint8_t *p = NULL;
			size_t n = 99;
			int r;

			ferry_rd_init(&rd, in, sizeof(in));
			r = ferry_rd_until(&rd, ';', max, &p, &n);
			if (at <= max) {
				assert_int_equal(r, 0);
				assert_ptr_equal(p, in);
				assert_int_equal(n, at);
				assert_int_equal(rd.off, at + 1);
			} else {
				assert_int_equal(r, FERRY_E_PROTO);
				assert_null(p);
				assert_int_equal(n, 99);
				assert_int_equal(rd.off, 0);
				/* The token is too long, not missing. */
				assert_true(ferry_rd_left(&rd) > max);
			}
		}
		in[at] = 'x';
	}
}

/*
 * Inputs of 0..32 bytes ending at the guard page, a delimiter every few
 * bytes or none: until reads them token by token (under several maxima)
 * until it fails, never past the end; peek then sees the next byte, or
 * fails at the very end.
 */
static void
test_until_guard(void **state)
{
	uint8_t src[32];

	(void)state;
	for (size_t every = 1; every <= 33; every += 4) {
		for (size_t i = 0; i < sizeof(src); i++)
			src[i] = (i + 1) % every == 0 ? '\n' : 'a' + i % 26;
		for (size_t len = 0; len <= sizeof(src); len++) {
			for (size_t m = 0; m < 3; m++) {
				static const size_t maxes[] = {0, 3, SIZE_MAX};
				struct ferry_rd rd;
				const uint8_t *p, *in = guarded(src, len);
				size_t n = 0, before;
				uint8_t b = 0;
				int r;

				ferry_rd_init(&rd, in, len);
				for (;;) {
					before = rd.off;
					r = ferry_rd_until(
					    &rd, '\n', maxes[m], &p, &n);
					if (r != 0)
						break;
					assert_int_equal(
					    rd.off, before + n + 1);
					assert_int_equal(in[before + n], '\n');
					if (n > 0)
						assert_int_equal(p[n - 1],
						    src[before + n - 1]);
				}
				assert_int_equal(r, FERRY_E_PROTO);
				assert_int_equal(rd.off, before);
				if (maxes[m] == SIZE_MAX) /* none left */
					assert_null(memchr(
					    src + before, '\n', len - before));
				if (ferry_rd_peek(&rd, &b) == 0)
					assert_int_equal(b, src[before]);
				else
					assert_int_equal(before, len);
				ferry_rd_rest(&rd, &p, &n);
				assert_int_equal(before + n, len);
				if (n > 0)
					assert_int_equal(
					    p[n - 1], src[len - 1]);
				assert_int_equal(
				    ferry_rd_peek(&rd, &b), FERRY_E_PROTO);
				assert_int_equal(ferry_rd_end(&rd), 0);
			}
		}
	}
}

static void
test_rest(void **state)
{
	struct ferry_rd rd;
	const uint8_t *p = NULL;
	size_t n = 99;
	uint32_t v;

	(void)state;
	ferry_rd_init(&rd, seq, 10);
	assert_int_equal(ferry_rd_u32(&rd, &v), 0);
	ferry_rd_rest(&rd, &p, &n);
	assert_ptr_equal(p, seq + 4);
	assert_int_equal(n, 6);
	assert_int_equal(ferry_rd_left(&rd), 0);
	assert_int_equal(ferry_rd_end(&rd), 0);
	/* Again at the end: none. */
	ferry_rd_rest(&rd, &p, &n);
	assert_int_equal(n, 0);
	assert_int_equal(ferry_rd_end(&rd), 0);
}

static void
test_end(void **state)
{
	struct ferry_rd rd;
	uint8_t b;

	(void)state;
	ferry_rd_init(&rd, seq, 2);
	assert_int_equal(ferry_rd_end(&rd), FERRY_E_PROTO);
	assert_int_equal(ferry_rd_u8(&rd, &b), 0);
	assert_int_equal(ferry_rd_end(&rd), FERRY_E_PROTO); /* 1 trailing */
	assert_int_equal(rd.off, 1); /* end does not consume */
	assert_int_equal(ferry_rd_u8(&rd, &b), 0);
	assert_int_equal(ferry_rd_end(&rd), 0);
}

static void
test_empty_input(void **state)
{
	static const uint8_t none[1];
	struct ferry_rd rd;
	const uint8_t *p;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	size_t n;

	(void)state;
	ferry_rd_init(&rd, none, 0);
	assert_int_equal(ferry_rd_left(&rd), 0);
	assert_int_equal(ferry_rd_end(&rd), 0);
	assert_int_equal(ferry_rd_u8(&rd, &u8), FERRY_E_PROTO);
	assert_int_equal(ferry_rd_u16(&rd, &u16), FERRY_E_PROTO);
	assert_int_equal(ferry_rd_u32(&rd, &u32), FERRY_E_PROTO);
	assert_int_equal(ferry_rd_u64(&rd, &u64), FERRY_E_PROTO);
	assert_int_equal(ferry_rd_bytes(&rd, 1, &p), FERRY_E_PROTO);
	assert_int_equal(ferry_rd_copy(&rd, &u8, 1), FERRY_E_PROTO);
	assert_int_equal(ferry_rd_vec16(&rd, 10, &p, &n), FERRY_E_PROTO);
	assert_int_equal(ferry_rd_peek(&rd, &u8), FERRY_E_PROTO);
	assert_int_equal(ferry_rd_until(&rd, 0, 10, &p, &n), FERRY_E_PROTO);
	assert_int_equal(rd.off, 0);
	ferry_rd_rest(&rd, &p, &n);
	assert_int_equal(n, 0);
	assert_int_equal(ferry_rd_end(&rd), 0);
}

/*
 * One read of kind which (0 u8, 1 u16, 2 u32, 3 u64, 4 bytes(3), 5 copy(5),
 * 6 vec16) from rd over src; *n is the number of bytes it consumes.
 */
static int
read_one(struct ferry_rd *rd, int which, const uint8_t *src, size_t *n)
{
	size_t before = rd->off;
	const uint8_t *p;
	uint8_t u8, dst[5];
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int r;

	switch (which) {
	case 0:
		*n = 1;
		return ferry_rd_u8(rd, &u8);
	case 1:
		*n = 2;
		return ferry_rd_u16(rd, &u16);
	case 2:
		*n = 4;
		return ferry_rd_u32(rd, &u32);
	case 3:
		*n = 8;
		return ferry_rd_u64(rd, &u64);
	case 4:
		*n = 3;
		if ((r = ferry_rd_bytes(rd, 3, &p)) == 0)
			assert_int_equal(p[2], src[before + 2]);
		return r;
	case 5:
		*n = 5;
		if ((r = ferry_rd_copy(rd, dst, 5)) == 0)
			assert_int_equal(dst[4], src[before + 4]);
		return r;
	default:
		if ((r = ferry_rd_vec16(rd, SIZE_MAX, &p, n)) != 0)
			return r;
		if (*n > 0) /* the last byte, borrowed in place */
			assert_int_equal(p[*n - 1], src[before + 1 + *n]);
		*n += 2;
		return 0;
	}
}

/*
 * Inputs of 0..32 bytes ending at the guard page: every reader is driven
 * until it fails. A read past the end would fault instead of failing.
 */
static void
test_guard_page(void **state)
{
	uint8_t src[32];

	(void)state;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 37 + 1);
	for (size_t len = 0; len <= sizeof(src); len++) {
		for (int which = 0; which < 7; which++) {
			struct ferry_rd rd;
			const uint8_t *p;
			size_t n = 0, used = 0, before;
			int r;

			ferry_rd_init(&rd, guarded(src, len), len);
			for (;;) {
				before = rd.off;
				if ((r = read_one(&rd, which, src, &n)) != 0)
					break;
				used += n;
				assert_int_equal(rd.off, used);
			}
			assert_int_equal(r, FERRY_E_PROTO);
			assert_int_equal(rd.off, before);
			if (which < 6) /* fixed widths stop at the end */
				assert_true(ferry_rd_left(&rd) < n);
			ferry_rd_rest(&rd, &p, &n);
			assert_int_equal(used + n, len);
			if (n > 0)
				assert_int_equal(p[n - 1], src[len - 1]);
			assert_int_equal(ferry_rd_end(&rd), 0);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_left),
	    cmocka_unit_test(test_u8),
	    cmocka_unit_test(test_u16),
	    cmocka_unit_test(test_u32),
	    cmocka_unit_test(test_u64),
	    cmocka_unit_test(test_int_short_sweep),
	    cmocka_unit_test(test_bytes),
	    cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_vec16),
	    cmocka_unit_test(test_vec16_truncated),
	    cmocka_unit_test(test_peek),
	    cmocka_unit_test(test_until),
	    cmocka_unit_test(test_until_max),
	    cmocka_unit_test(test_until_guard),
	    cmocka_unit_test(test_rest),
	    cmocka_unit_test(test_end),
	    cmocka_unit_test(test_empty_input),
	    cmocka_unit_test(test_guard_page),
	};

	return cmocka_run_group_tests(tests, guard_setup, guard_teardown);
}
