/* buf.c - the bounded writer. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ferry/buf.h"

void
ferry_buf_init(struct ferry_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
	b->wipe = 1;
}

void
ferry_buf_init_public(struct ferry_buf *b, size_t max)
{
	ferry_buf_init(b, max);
	b->wipe = 0;
}

void
ferry_buf_reset(struct ferry_buf *b)
{
	if (b->wipe && b->data != NULL)
		OPENSSL_cleanse(b->data, b->len);
	b->len = 0;
}

void
ferry_buf_free(struct ferry_buf *b)
{
	if (b == NULL)
		return;
	ferry_buf_reset(b);
	free(b->data);
	b->data = NULL;
	b->cap = 0;
}

int
ferry_buf_reserve(struct ferry_buf *b, size_t n)
{
	size_t want, cap;
	uint8_t *p;

	if (n > b->max || b->len > b->max - n) {
		ferry_buf_reset(b);
		return FERRY_E_TOOBIG;
	}
	want = b->len + n;
	if (want <= b->cap)
		return 0;
	cap = b->cap < 256 ? 256 : b->cap;
	while (cap < want)
		cap = cap > b->max / 2 ? b->max : cap * 2;
	if (b->wipe) {
		/* Never leave a secret behind in memory realloc() frees. */
		if ((p = malloc(cap)) == NULL)
			return FERRY_E_NOMEM;
		if (b->len > 0)
			memcpy(p, b->data, b->len);
		if (b->data != NULL)
			OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	} else if ((p = realloc(b->data, cap)) == NULL)
		return FERRY_E_NOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
ferry_buf_put(struct ferry_buf *b, const void *p, size_t n)
{
	int r;

	if ((r = ferry_buf_reserve(b, n)) != 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int
put_be(struct ferry_buf *b, uint64_t v, size_t n)
{
	uint8_t tmp[8];

	for (size_t i = 0; i < n; i++)
		tmp[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return ferry_buf_put(b, tmp, n);
}

int
ferry_buf_put_u8(struct ferry_buf *b, uint8_t v)
{
	return put_be(b, v, 1);
}

int
ferry_buf_put_u16(struct ferry_buf *b, uint16_t v)
{
	return put_be(b, v, 2);
}

int
ferry_buf_put_u32(struct ferry_buf *b, uint32_t v)
{
	return put_be(b, v, 4);
}

int
ferry_buf_put_u64(struct ferry_buf *b, uint64_t v)
{
	return put_be(b, v, 8);
}

int
ferry_buf_put_vec16(struct ferry_buf *b, const void *p, size_t n, size_t max)
{
	int r;

	if (n > max || n > UINT16_MAX)
		return FERRY_E_TOOBIG;
	if ((r = ferry_buf_reserve(b, 2 + n)) != 0)
		return r;
	return put_be(b, n, 2) || ferry_buf_put(b, p, n) ? FERRY_E_INTERNAL : 0;
}

void
ferry_buf_set_u32(struct ferry_buf *b, size_t off, uint32_t v)
{
	if (off > b->len || b->len - off < 4)
		abort(); /* a programming error, never input-driven */
	for (size_t i = 0; i < 4; i++)
		b->data[off + i] = (uint8_t)(v >> (8 * (3 - i)));
}

void
ferry_buf_consume(struct ferry_buf *b, size_t n)
{
	if (n >= b->len) {
		ferry_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	/* The old copy of the tail must not outlive the move. */
	if (b->wipe)
		OPENSSL_cleanse(b->data + b->len, n);
}

void
ferry_buf_truncate(struct ferry_buf *b, size_t len)
{
	if (len >= b->len)
		return;
	if (b->wipe)
		OPENSSL_cleanse(b->data + len, b->len - len);
	b->len = len;
}
