/* sink.h - where a received file's bytes go: SHA-256 and write(2) on a worker
 * thread, so decrypting the next frame overlaps hashing and writing this one. */
#ifndef FERRY_SINK_H
#define FERRY_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/err.h"
#include "ferry/wire.h"

/* A worker thread with a few frame buffers. Opaque; one file at a time. */
struct ferry_sink;

int ferry_sink_new(struct ferry_sink **out) FERRY_MUST_CHECK;
/* Stops the worker and frees every buffer it holds. NULL is a no-op. */
void ferry_sink_free(struct ferry_sink *s);

/*
 * Starts a file: its bytes go to fd (borrowed until ferry_sink_end), or,
 * with fd -1, are only hashed. A sender uses that: the worker hashes a frame
 * while the connection encrypts the same bytes; both only read them, so the
 * frame may still be sent after it was pushed, until the next push.
 */
void ferry_sink_begin(struct ferry_sink *s, int fd);
/*
 * Like ferry_sink_begin, for a file whose first len bytes are already in
 * src_fd (read with pread from offset 0, now, on the caller's thread):
 * prefix gets their SHA-256, and the file's hash goes on from there.
 * FERRY_E_IO when src_fd holds fewer than len bytes. Pushed bytes are
 * written to fd (may be src_fd) at its current offset.
 */
int ferry_sink_begin_prefix(struct ferry_sink *s, int fd, int src_fd,
    uint64_t len, uint8_t prefix[FERRY_SHA256_LEN]) FERRY_MUST_CHECK;
/* SHA-256 of the first len bytes of fd (pread); FERRY_E_IO if shorter. */
int ferry_sha256_fd(
    int fd, uint64_t len, uint8_t out[FERRY_SHA256_LEN]) FERRY_MUST_CHECK;

/*
 * Hands over *frame (from ferry_frame_alloc; its payload holds len bytes)
 * and replaces it with a free buffer for the next frame (the same one when
 * a small frame was done at once, the worker being idle). Waits only when the
 * worker is several frames behind. Returns the first write error of this
 * file so far (a FERRY_E_* with detail), so a refusal can be sent early.
 */
int ferry_sink_push(
    struct ferry_sink *s, uint8_t **frame, size_t len) FERRY_MUST_CHECK;
/*
 * Waits until every byte pushed is hashed and written. On success sha holds
 * the SHA-256 of the file's bytes. The sink is then ready for the next file.
 */
int ferry_sink_end(
    struct ferry_sink *s, uint8_t sha[FERRY_SHA256_LEN]) FERRY_MUST_CHECK;

/* Waits for the worker and forgets the file (its hash and any error). */
void ferry_sink_abandon(struct ferry_sink *s);

#endif
