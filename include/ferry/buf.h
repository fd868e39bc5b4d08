/* buf.h - the bounded writer every encoder uses.
 * A growable byte buffer with a mandatory maximum; wiped on free unless public. */
#ifndef FERRY_BUF_H
#define FERRY_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/err.h"

/* Embedded by callers; treat the fields as private. */
struct ferry_buf {
	uint8_t *data; /* owned */
	size_t len;
	size_t cap;
	size_t max;
	int wipe; /* cleanse on reset/free: the default */
};

/* An empty buffer that will never hold more than max bytes. No allocation. */
void ferry_buf_init(struct ferry_buf *b, size_t max);
/* Same, for bytes that are not secret (not wiped: faster for file data). */
void ferry_buf_init_public(struct ferry_buf *b, size_t max);
void ferry_buf_free(struct ferry_buf *b);
/* Drops the contents, keeps the allocation. */
void ferry_buf_reset(struct ferry_buf *b);

/* Makes room for n more bytes. FERRY_E_TOOBIG past max (the buffer is reset). */
int ferry_buf_reserve(struct ferry_buf *b, size_t n) FERRY_MUST_CHECK;
int ferry_buf_put(
    struct ferry_buf *b, const void *p, size_t n) FERRY_MUST_CHECK;
int ferry_buf_put_u8(struct ferry_buf *b, uint8_t v) FERRY_MUST_CHECK;
int ferry_buf_put_u16(struct ferry_buf *b, uint16_t v) FERRY_MUST_CHECK;
int ferry_buf_put_u32(struct ferry_buf *b, uint32_t v) FERRY_MUST_CHECK;
int ferry_buf_put_u64(struct ferry_buf *b, uint64_t v) FERRY_MUST_CHECK;
/* A u16 length then the bytes; FERRY_E_TOOBIG if n > max or > 65535. */
int ferry_buf_put_vec16(
    struct ferry_buf *b, const void *p, size_t n, size_t max) FERRY_MUST_CHECK;
/* Overwrites 4 bytes at off (already written) with v, big-endian. */
void ferry_buf_set_u32(struct ferry_buf *b, size_t off, uint32_t v);
/* Drops everything after the first len bytes (wiped unless public). */
void ferry_buf_truncate(struct ferry_buf *b, size_t len);
/* Removes the first n bytes (n <= len). */
void ferry_buf_consume(struct ferry_buf *b, size_t n);

#endif
