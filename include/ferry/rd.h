/* rd.h - the bounds-checked reader every parser of untrusted bytes uses.
 * A non-owning cursor over a byte range; a failed read never moves it. */
#ifndef FERRY_RD_H
#define FERRY_RD_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/err.h"

/* Embedded by callers; treat the fields as private. */
struct ferry_rd {
	const uint8_t *base; /* borrowed; valid as long as the caller's bytes */
	size_t len;
	size_t off;
};

void ferry_rd_init(struct ferry_rd *rd, const void *p, size_t len);
size_t ferry_rd_left(const struct ferry_rd *rd);

/* Big-endian integers. FERRY_E_PROTO when fewer bytes remain. */
int ferry_rd_u8(struct ferry_rd *rd, uint8_t *v) FERRY_MUST_CHECK;
int ferry_rd_u16(struct ferry_rd *rd, uint16_t *v) FERRY_MUST_CHECK;
int ferry_rd_u32(struct ferry_rd *rd, uint32_t *v) FERRY_MUST_CHECK;
int ferry_rd_u64(struct ferry_rd *rd, uint64_t *v) FERRY_MUST_CHECK;

/* n bytes: *p is borrowed from the reader's range. */
int ferry_rd_bytes(
    struct ferry_rd *rd, size_t n, const uint8_t **p) FERRY_MUST_CHECK;
/* n bytes copied into dst (which holds at least n). */
int ferry_rd_copy(struct ferry_rd *rd, void *dst, size_t n) FERRY_MUST_CHECK;
/* A u16 length then that many bytes; FERRY_E_PROTO if the length > max. */
int ferry_rd_vec16(struct ferry_rd *rd, size_t max, const uint8_t **p,
    size_t *n) FERRY_MUST_CHECK;
/* The next byte, not consumed. FERRY_E_PROTO when none remains. */
int ferry_rd_peek(const struct ferry_rd *rd, uint8_t *v) FERRY_MUST_CHECK;
/*
 * The bytes before the first delim (possibly none), borrowed, and consumes
 * them and the delim. FERRY_E_PROTO if delim is not among the next max + 1
 * bytes: the token would be longer than max, or no delim remains (then
 * ferry_rd_left(rd) <= max tells the second case from the first).
 */
int ferry_rd_until(struct ferry_rd *rd, uint8_t delim, size_t max,
    const uint8_t **p, size_t *n) FERRY_MUST_CHECK;
/* All remaining bytes (possibly none), borrowed. */
void ferry_rd_rest(struct ferry_rd *rd, const uint8_t **p, size_t *n);
/* FERRY_E_PROTO unless every byte has been consumed. */
int ferry_rd_end(const struct ferry_rd *rd) FERRY_MUST_CHECK;

#endif
