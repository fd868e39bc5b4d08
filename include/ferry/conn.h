/* conn.h - one TLS connection carrying ferry frames (or raw bytes, for echo).
 * Non-blocking socket under blocking-style calls with timeouts; writes are batched. */
#ifndef FERRY_CONN_H
#define FERRY_CONN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "ferry/err.h"
#include "ferry/net.h"
#include "ferry/tls.h"
#include "ferry/wire.h"

struct ferry_conn;

/*
 * Dials a->host:a->port and completes the TLS handshake, verifying the
 * server as a->id when set, else as a->host (DNS name or IP). On failure the
 * detail says which check failed. Caller frees *out.
 */
int ferry_conn_connect(struct ferry_tls *tls, const struct ferry_addr *a,
    int timeout_ms, struct ferry_conn **out) FERRY_MUST_CHECK;
/*
 * Completes the server side of the handshake on an accepted socket (taken
 * over: closed by ferry_conn_free, or here on failure). For the SERVER role
 * the peer must present a certificate naming a member ID.
 */
int ferry_conn_accept(struct ferry_tls *tls, int fd, int timeout_ms,
    struct ferry_conn **out) FERRY_MUST_CHECK;
/* Sends close_notify (best effort) unless the connection failed, then frees. */
void ferry_conn_free(struct ferry_conn *c);
/* Flushes, sends close_notify. */
int ferry_conn_close(struct ferry_conn *c) FERRY_MUST_CHECK;

/* Borrowed strings, valid until ferry_conn_free. */
const char *ferry_conn_peer_id(const struct ferry_conn *c); /* "" if none */
const char *ferry_conn_peer_addr(const struct ferry_conn *c); /* host:port */
const char *ferry_conn_peer_subject(const struct ferry_conn *c);
const char *ferry_conn_protocol(const struct ferry_conn *c);
const char *ferry_conn_cipher(const struct ferry_conn *c);
const char *ferry_conn_alpn(const struct ferry_conn *c); /* "" if none */
/* The peer's verified certificate, NULL if none. Borrowed, like the strings. */
X509 *ferry_conn_peer_cert(const struct ferry_conn *c);

/* Timeout for each wait on the peer, in milliseconds. */
void ferry_conn_set_timeout(struct ferry_conn *c, int timeout_ms);
/* The HELLO feature bits in use (both peers announced them); 0 at first. */
void ferry_conn_set_features(struct ferry_conn *c, uint64_t features);
uint64_t ferry_conn_features(const struct ferry_conn *c);
/* A flag a signal handler sets: waits then fail with FERRY_E_INTR. */
void ferry_conn_set_interrupt(volatile sig_atomic_t *flag);

/*
 * Reads and decodes the next frame. With wait == 0 it returns 0 and
 * m->type == FERRY_F_NONE when no whole frame has arrived yet. A clean close
 * at a frame boundary gives m->type == FERRY_F_EOF. m's text and data are
 * borrowed until the next read. Pending writes are flushed before waiting.
 */
int ferry_conn_read(
    struct ferry_conn *c, struct ferry_msg *m, int wait) FERRY_MUST_CHECK;
/*
 * Right after ferry_conn_read returned a DATA frame: swaps the buffer that
 * frame lives in for *frame (from ferry_frame_alloc), so its payload can be
 * handed on without a copy. *frame then holds the DATA frame.
 */
void ferry_conn_swap_frame(struct ferry_conn *c, uint8_t **frame);
/* Queues a frame; the queue is flushed when it fills or before a wait. */
int ferry_conn_send(
    struct ferry_conn *c, const struct ferry_msg *m) FERRY_MUST_CHECK;
/*
 * Sends a DATA frame whose payload is frame[FERRY_FRAME_HDR..+len]; the
 * first FERRY_FRAME_HDR bytes are scratch for the header. Large payloads go
 * straight to TLS without another copy.
 */
int ferry_conn_send_data(
    struct ferry_conn *c, uint8_t *frame, size_t len) FERRY_MUST_CHECK;
int ferry_conn_flush(struct ferry_conn *c) FERRY_MUST_CHECK;

/* Raw application bytes (the echo service). *n == 0 means the peer closed. */
int ferry_conn_read_raw(
    struct ferry_conn *c, void *buf, size_t cap, size_t *n) FERRY_MUST_CHECK;
int ferry_conn_write_raw(
    struct ferry_conn *c, const void *buf, size_t n) FERRY_MUST_CHECK;

#endif
