/* rd.c - the bounds-checked reader. The only place that indexes wire bytes
 * or the bytes of a parsed text file. */
#include <string.h>

#include "ferry/rd.h"

void
ferry_rd_init(struct ferry_rd *rd, const void *p, size_t len)
{
	rd->base = p;
	rd->len = p == NULL ? 0 : len;
	rd->off = 0;
}

size_t
ferry_rd_left(const struct ferry_rd *rd)
{
	return rd->len - rd->off;
}

int
ferry_rd_bytes(struct ferry_rd *rd, size_t n, const uint8_t **p)
{
	if (n > ferry_rd_left(rd))
		return FERRY_E_PROTO;
	*p = rd->base == NULL ? NULL : rd->base + rd->off;
	rd->off += n;
	return 0;
}

int
ferry_rd_copy(struct ferry_rd *rd, void *dst, size_t n)
{
	const uint8_t *p;
	int r;

	if ((r = ferry_rd_bytes(rd, n, &p)) != 0)
		return r;
	if (n > 0)
		memcpy(dst, p, n);
	return 0;
}

static int
rd_be(struct ferry_rd *rd, size_t n, uint64_t *v)
{
	const uint8_t *p;
	uint64_t x = 0;
	int r;

	if ((r = ferry_rd_bytes(rd, n, &p)) != 0)
		return r;
	for (size_t i = 0; i < n; i++)
		x = (x << 8) | p[i];
	*v = x;
	return 0;
}

int
ferry_rd_u8(struct ferry_rd *rd, uint8_t *v)
{
	uint64_t x;
	int r;

	if ((r = rd_be(rd, 1, &x)) == 0)
		*v = (uint8_t)x;
	return r;
}

int
ferry_rd_u16(struct ferry_rd *rd, uint16_t *v)
{
	uint64_t x;
	int r;

	if ((r = rd_be(rd, 2, &x)) == 0)
		*v = (uint16_t)x;
	return r;
}

int
ferry_rd_u32(struct ferry_rd *rd, uint32_t *v)
{
	uint64_t x;
	int r;

	if ((r = rd_be(rd, 4, &x)) == 0)
		*v = (uint32_t)x;
	return r;
}

int
ferry_rd_u64(struct ferry_rd *rd, uint64_t *v)
{
	return rd_be(rd, 8, v);
}

int
ferry_rd_vec16(struct ferry_rd *rd, size_t max, const uint8_t **p, size_t *n)
{
	size_t start = rd->off;
	uint16_t len;
	int r;

	if ((r = ferry_rd_u16(rd, &len)) != 0)
		return r;
	if (len > max || (r = ferry_rd_bytes(rd, len, p)) != 0) {
		rd->off = start; /* a failed read does not move the cursor */
		return FERRY_E_PROTO;
	}
	*n = len;
	return 0;
}

int
ferry_rd_peek(const struct ferry_rd *rd, uint8_t *v)
{
	if (ferry_rd_left(rd) == 0)
		return FERRY_E_PROTO;
	*v = rd->base[rd->off];
	return 0;
}

int
ferry_rd_until(struct ferry_rd *rd, uint8_t delim, size_t max,
    const uint8_t **p, size_t *n)
{
	size_t w = ferry_rd_left(rd);
	const uint8_t *d;

	if (max < w) /* max + 1 <= w: cannot wrap */
		w = max + 1;
	if (w == 0 || (d = memchr(rd->base + rd->off, delim, w)) == NULL)
		return FERRY_E_PROTO;
	*n = (size_t)(d - (rd->base + rd->off));
	*p = rd->base + rd->off;
	rd->off += *n + 1;
	return 0;
}

void
ferry_rd_rest(struct ferry_rd *rd, const uint8_t **p, size_t *n)
{
	*n = ferry_rd_left(rd);
	*p = rd->base == NULL ? NULL : rd->base + rd->off;
	rd->off = rd->len;
}

int
ferry_rd_end(const struct ferry_rd *rd)
{
	return ferry_rd_left(rd) == 0 ? 0 : FERRY_E_PROTO;
}
