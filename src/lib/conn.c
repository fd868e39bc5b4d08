/* conn.c - a TLS connection carrying frames: handshake, waits with timeouts,
 * batched writes, frame reassembly, and one place that explains TLS failures. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ferry/conn.h"
#include "ferry/log.h"
#include "ferry/pki.h"

#include "internal.h"

/* Small frames are gathered up to one TLS record before they are written. */
#define WBUF_FLUSH_AT 16384
/* Encrypted records gathered before a write(2). */
#define WBIO_SIZE (256 * 1024)

struct ferry_conn {
	SSL *ssl;
	int fd;
	int timeout_ms;
	int broken; /* no close_notify after a failure */
	int64_t deadline_ms; /* CLOCK_MONOTONIC; 0 outside the handshake */
	struct ferry__verify verify;
	char peer_addr[FERRY_MAX_HOST + 16];
	char peer_subject[160];
	/* frame reassembly: rbuf holds header + payload of the frame in progress */
	uint8_t *rbuf;
	size_t rhave;
	size_t rneed;
	struct ferry_buf wbuf;
	uint64_t features; /* in use on this session: both HELLOs' bits */
};

static volatile sig_atomic_t *interrupt_flag;

void
ferry_conn_set_interrupt(volatile sig_atomic_t *flag)
{
	interrupt_flag = flag;
}

void
ferry_conn_set_timeout(struct ferry_conn *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
	/* The kernel finds a dead peer in about the same time (net.md). */
	ferry_net_keepalive(c->fd, timeout_ms);
}

void
ferry_conn_set_features(struct ferry_conn *c, uint64_t features)
{
	c->features = features;
}

uint64_t
ferry_conn_features(const struct ferry_conn *c)
{
	return c->features;
}

static int
interrupted(void)
{
	return interrupt_flag != NULL && *interrupt_flag;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
conn_wait(struct ferry_conn *c, short events)
{
	struct pollfd pfd = {.fd = c->fd, .events = events};
	int n, ms;

	for (;;) {
		if (interrupted())
			return ferry_errf(FERRY_E_INTR, "interrupted");
		ms = c->timeout_ms;
		/* A handshake has one deadline, however slowly bytes trickle. */
		if (c->deadline_ms != 0) {
			int64_t left = c->deadline_ms - now_ms();

			ms = left <= 0 ? 0 : left < ms ? (int)left : ms;
		}
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;
		if (n == 0)
			return c->deadline_ms != 0 && now_ms() >= c->deadline_ms
			           ? ferry_errf(FERRY_E_TIMEOUT,
			                 "%s: TLS handshake not finished "
			                 "within %d s",
			                 c->peer_addr, c->timeout_ms / 1000)
			           : ferry_errf(FERRY_E_TIMEOUT,
			                 "%s: no answer for %d s", c->peer_addr,
			                 c->timeout_ms / 1000);
		if (errno != EINTR)
			return ferry_errf_errno(FERRY_E_IO, errno, "poll");
	}
}

/* Alerts that mean "the peer did not accept our certificate". */
static int
alert_is_cert(int alert)
{
	switch (alert) {
	case SSL_AD_BAD_CERTIFICATE:
	case SSL_AD_UNSUPPORTED_CERTIFICATE:
	case SSL_AD_CERTIFICATE_REVOKED:
	case SSL_AD_CERTIFICATE_EXPIRED:
	case SSL_AD_CERTIFICATE_UNKNOWN:
	case SSL_AD_UNKNOWN_CA:
	case SSL_AD_ACCESS_DENIED:
	case SSL_AD_CERTIFICATE_REQUIRED:
		return 1;
	}
	return 0;
}

/*
 * The peer's alert says only "bad certificate" or "handshake failure"
 * (OpenSSL sends that for a certificate not yet valid, and for one a
 * callback refused). What our own certificate says may tell why: "" if
 * nothing is wrong with it that we can see.
 */
static void
own_cert_problem(struct ferry_conn *c, char *out, size_t n)
{
	X509 *me = SSL_get_certificate(c->ssl);
	char id[FERRY_MAX_ID + 1], when[64] = "?";
	int early, late;
	BIO *b;

	out[0] = '\0';
	if (me == NULL)
		return;
	early = X509_cmp_current_time(X509_get0_notBefore(me)) > 0;
	late = X509_cmp_current_time(X509_get0_notAfter(me)) < 0;
	if ((early || late) && (b = BIO_new(BIO_s_mem())) != NULL) {
		if (ASN1_TIME_print(b, early ? X509_get0_notBefore(me)
		                             : X509_get0_notAfter(me)) == 1) {
			int k = BIO_read(b, when, sizeof(when) - 1);

			when[k > 0 ? k : 0] = '\0';
		}
		BIO_free(b);
	}
	if (early)
		snprintf(out, n,
		    "ours is not valid before %s; check this machine's clock "
		    "and the peer's",
		    when);
	else if (late)
		snprintf(out, n, "ours expired on %s; run 'ferry renew'", when);
	else if (c->verify.role == FERRY_TLS_CLIENT &&
	         ferry_cert_id(me, id) != 0)
		snprintf(out, n,
		    "ours names no ferry member (URI SAN ferry:<ID>); get one "
		    "with 'ferry enroll' or 'ferry ca issue'");
	ferry_err_clear();
}

/* Closed mid-handshake, as a server does that drops us before TLS. */
static int
closed_in_handshake(struct ferry_conn *c)
{
	return ferry_errf(FERRY_E_CLOSED,
	    "%s closed the connection during the TLS handshake%s", c->peer_addr,
	    c->verify.role == FERRY_TLS_CLIENT ||
	            c->verify.role == FERRY_TLS_ECHO_CLIENT
	        ? " (it may be too busy to start one; try again later)"
	        : "");
}

/* Turns a failed SSL_* call into one FERRY_E_* with a line a user can act on. */
static int
ssl_failure(struct ferry_conn *c, int ret, const char *doing)
{
	int e = SSL_get_error(c->ssl, ret), saved = errno;
	unsigned long err = ERR_peek_last_error();
	int reason = ERR_GET_REASON(err);

	c->broken = 1;
	ferry_log_openssl();
	if (c->verify.failed != 0)
		return ferry_errf(c->verify.failed, "%s", c->verify.detail);
	if (e == SSL_ERROR_ZERO_RETURN)
		return ferry_errf(
		    FERRY_E_CLOSED, "%s closed the connection", c->peer_addr);
	if (e == SSL_ERROR_SYSCALL && err == 0) {
		if ((saved == 0 || saved == ECONNRESET || saved == EPIPE) &&
		    strcmp(doing, "handshake") == 0)
			return closed_in_handshake(c);
		if (saved == 0 || saved == ECONNRESET || saved == EPIPE)
			return ferry_errf(FERRY_E_CLOSED,
			    "%s closed the connection while %s", c->peer_addr,
			    doing);
		return ferry_errf_errno(ferry_err_from_errno(saved), saved,
		    "%s: %s", c->peer_addr, doing);
	}
	if (reason >= SSL_AD_REASON_OFFSET &&
	    reason < SSL_AD_REASON_OFFSET + 256) {
		int alert = reason - SSL_AD_REASON_OFFSET;
		const char *desc = SSL_alert_desc_string_long(alert);

		if (alert == SSL_AD_CERTIFICATE_REQUIRED)
			return ferry_errf(FERRY_E_NOCERT,
			    "%s requires a client certificate; pass an "
			    "identity with -i",
			    c->peer_addr);
		if (alert_is_cert(alert) || alert == SSL_AD_HANDSHAKE_FAILURE) {
			char why[256];

			own_cert_problem(c, why, sizeof(why));
			if (why[0] != '\0')
				return ferry_errf(FERRY_E_CERT,
				    "%s rejected our certificate (%s): %s",
				    c->peer_addr, desc, why);
		}
		if (alert_is_cert(alert))
			return ferry_errf(FERRY_E_CERT,
			    "%s rejected our certificate (%s)", c->peer_addr,
			    desc);
		if (alert == SSL_AD_NO_APPLICATION_PROTOCOL)
			return ferry_errf(FERRY_E_PROTO, "%s does not speak %s",
			    c->peer_addr, FERRY_ALPN);
		if (alert == SSL_AD_PROTOCOL_VERSION)
			return ferry_errf(FERRY_E_TLS,
			    "%s does not accept TLS 1.3", c->peer_addr);
		return ferry_errf(
		    FERRY_E_TLS, "%s sent TLS alert: %s", c->peer_addr, desc);
	}
	/* A TCP close (FIN) with no close_notify before it: cut, or killed. */
	if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING &&
	    strcmp(doing, "handshake") == 0)
		return closed_in_handshake(c);
	if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		return ferry_errf(FERRY_E_CLOSED,
		    "%s closed the connection while %s, without ending TLS "
		    "(cut off or killed)",
		    c->peer_addr, doing);
	if (reason == SSL_R_WRONG_VERSION_NUMBER ||
	    reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
	    reason == SSL_R_RECORD_LENGTH_MISMATCH ||
	    reason == SSL_R_HTTP_REQUEST)
		return ferry_errf(
		    FERRY_E_TLS, "%s is not speaking TLS", c->peer_addr);
	if (reason == SSL_R_UNSUPPORTED_PROTOCOL ||
	    reason == SSL_R_NO_SHARED_CIPHER ||
	    reason == SSL_R_NO_SHARED_GROUPS)
		return ferry_errf(FERRY_E_TLS,
		    "%s: no TLS 1.3 parameters in common (%s)", c->peer_addr,
		    ERR_reason_error_string(err));
	return ferry_errf(FERRY_E_TLS, "%s: TLS %s failed: %s", c->peer_addr,
	    doing,
	    err != 0 && ERR_reason_error_string(err) != NULL
	        ? ERR_reason_error_string(err)
	        : "unknown error");
}

/* Retries an SSL call through WANT_READ/WANT_WRITE with waits. */
static int
ssl_retry(struct ferry_conn *c, int ret, const char *doing)
{
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return conn_wait(c, POLLIN);
	case SSL_ERROR_WANT_WRITE:
		return conn_wait(c, POLLOUT);
	}
	return ssl_failure(c, ret, doing);
}

/*
 * Reads come straight from the socket (with read-ahead); writes go through a
 * buffer BIO so the 16 KiB records of one SSL_write leave in a few large
 * write(2)s. ferry_conn_flush() pushes it out before every wait.
 */
static int
set_bios(struct ferry_conn *c)
{
	BIO *sock = BIO_new_socket(c->fd, BIO_NOCLOSE), *buf = NULL;

	if (sock == NULL || (buf = BIO_new(BIO_f_buffer())) == NULL ||
	    BIO_set_write_buffer_size(buf, WBIO_SIZE) != 1 ||
	    BIO_up_ref(sock) != 1) {
		BIO_free(buf);
		BIO_free(sock);
		return -1;
	}
	BIO_push(buf, sock);
	SSL_set_bio(c->ssl, sock, buf);
	return 0;
}

/* A write(2) to the peer failed with errno e: one line saying what it means. */
static int
write_failed(struct ferry_conn *c, int e)
{
	c->broken = 1;
	if (e == 0 || e == EPIPE || e == ECONNRESET)
		return ferry_errf(FERRY_E_CLOSED,
		    "%s closed the connection while writing", c->peer_addr);
	/* TCP_USER_TIMEOUT or keepalive (net.md): the peer is gone. */
	if (e == ETIMEDOUT)
		return ferry_errf(FERRY_E_TIMEOUT,
		    "%s: no answer for %d s (connection timed out)",
		    c->peer_addr, c->timeout_ms / 1000);
	return ferry_errf_errno(FERRY_E_CLOSED, e, "%s: writing", c->peer_addr);
}

/* Writes out what the buffer BIO holds. */
static int
flush_wbio(struct ferry_conn *c)
{
	BIO *wbio = SSL_get_wbio(c->ssl);
	int r;

	while (BIO_flush(wbio) != 1) {
		if (!BIO_should_retry(wbio))
			return write_failed(c, errno);
		if ((r = conn_wait(c, POLLOUT)) != 0)
			return r;
	}
	return 0;
}

static int
conn_new(struct ferry_tls *tls, int fd, struct ferry_conn **out)
{
	struct ferry_conn *c;

	int fl = fcntl(fd, F_GETFL);

	/* Waits are ours (poll with a timeout), never the socket's. */
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return ferry_errf_errno(FERRY_E_IO, errno, "socket");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return FERRY_E_NOMEM;
	c->fd = fd;
	c->timeout_ms = 30000;
	c->verify.role = tls->role;
	c->rneed = FERRY_FRAME_HDR;
	ferry_buf_init_public(
	    &c->wbuf, WBUF_FLUSH_AT + FERRY_MAX_DATA + FERRY_FRAME_HDR);
	ferry_net_peername(fd, c->peer_addr, sizeof(c->peer_addr));
	if ((c->rbuf = ferry_frame_alloc()) == NULL ||
	    (c->ssl = SSL_new(tls->ctx)) == NULL || set_bios(c) != 0 ||
	    SSL_set_ex_data(c->ssl, ferry__tls_verify_index(), &c->verify) !=
	        1) {
		c->broken = 1;
		ferry_log_openssl();
		ferry_conn_free(c);
		return FERRY_E_NOMEM;
	}
	*out = c;
	return 0;
}

static int
handshake(struct ferry_conn *c, int server)
{
	X509 *peer;
	int ret, r;

	c->deadline_ms = now_ms() + c->timeout_ms;
	for (;;) {
		ERR_clear_error();
		ret = server ? SSL_accept(c->ssl) : SSL_connect(c->ssl);
		if (ret == 1)
			break;
		if ((r = ssl_retry(c, ret, "handshake")) != 0)
			return r;
	}
	c->deadline_ms = 0;
	peer = SSL_get0_peer_certificate(c->ssl);
	if (peer != NULL) {
		X509_NAME_oneline(X509_get_subject_name(peer), c->peer_subject,
		    sizeof(c->peer_subject));
		for (char *p = c->peer_subject; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	/* Both ends of the peer protocol must have agreed on ferry/1. */
	if ((c->verify.role == FERRY_TLS_SERVER ||
	        c->verify.role == FERRY_TLS_CLIENT) &&
	    strcmp(ferry_conn_alpn(c), FERRY_ALPN) != 0) {
		c->broken = 1;
		return ferry_errf(FERRY_E_PROTO,
		    "%s did not negotiate ALPN %s: not a ferry peer",
		    c->peer_addr, FERRY_ALPN);
	}
	/*
	 * SSL_get_verify_result() is X509_V_OK when no certificate was sent
	 * at all, so presence is checked on its own.
	 */
	if (c->verify.role != FERRY_TLS_ECHO_SERVER ||
	    (SSL_get_verify_mode(c->ssl) & SSL_VERIFY_PEER) != 0) {
		if (peer == NULL) {
			c->broken = 1;
			return ferry_errf(FERRY_E_NOCERT,
			    "%s presented no certificate", c->peer_addr);
		}
		if (SSL_get_verify_result(c->ssl) != X509_V_OK) {
			c->broken = 1;
			return ferry_errf(FERRY_E_CERT,
			    "%s: certificate not verified", c->peer_addr);
		}
	}
	return 0;
}

int
ferry_conn_connect(struct ferry_tls *tls, const struct ferry_addr *a,
    int timeout_ms, struct ferry_conn **out)
{
	struct ferry_conn *c = NULL;
	int fd = -1, r;

	if (a->host[0] == '\0')
		return ferry_errf(FERRY_E_USAGE, "empty host name");
	if ((r = ferry_net_connect(a->host, a->port, timeout_ms, &fd)) != 0)
		return r;
	if ((r = conn_new(tls, fd, &c)) != 0) {
		close(fd);
		return r;
	}
	ferry_conn_set_timeout(c, timeout_ms);
	ferry_addr_format(a->host, a->port, c->peer_addr, sizeof(c->peer_addr));
	r = FERRY_E_CRYPTO;
	if (!ferry_host_is_ip(a->host) &&
	    SSL_set_tlsext_host_name(c->ssl, a->host) != 1)
		goto out;
	if (a->id[0] != '\0') {
		/* ID@HOST: the server must prove it is that member. */
		snprintf(c->verify.expect_id, sizeof(c->verify.expect_id), "%s",
		    a->id);
	} else if (ferry_host_is_ip(a->host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(
		        SSL_get0_param(c->ssl), a->host) != 1)
			goto out;
	} else {
		/* A non-empty name: SSL_set1_host("") would check nothing. */
		/* Never the CN: it holds a member ID, not a host name. */
		SSL_set_hostflags(
		    c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
		                X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
		if (SSL_set1_host(c->ssl, a->host) != 1)
			goto out;
	}
	if ((r = handshake(c, 0)) != 0)
		goto out;
	*out = c;
	c = NULL;
	r = 0;
out:
	if (r == FERRY_E_CRYPTO) {
		ferry_log_openssl();
		r = ferry_errf(r, "cannot set up TLS for %s", a->host);
	}
	if (c != NULL)
		c->broken = 1;
	ferry_conn_free(c);
	return r;
}

int
ferry_conn_accept(
    struct ferry_tls *tls, int fd, int timeout_ms, struct ferry_conn **out)
{
	struct ferry_conn *c = NULL;
	int r;

	if ((r = conn_new(tls, fd, &c)) != 0) {
		close(fd);
		return r;
	}
	ferry_conn_set_timeout(c, timeout_ms);
	if ((r = handshake(c, 1)) != 0) {
		c->broken = 1;
		ferry_conn_free(c);
		return r;
	}
	*out = c;
	return 0;
}

static int
write_all(struct ferry_conn *c, const void *p, size_t n)
{
	int ret, r;

	while (n > 0) {
		/* A stop request wins even while the socket keeps up. */
		if (interrupted())
			return ferry_errf(FERRY_E_INTR, "interrupted");
		ERR_clear_error();
		ret = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		if (ret > 0) {
			p = (const uint8_t *)p + ret;
			n -= (size_t)ret;
			continue;
		}
		if ((r = ssl_retry(c, ret, "writing")) != 0)
			return r;
	}
	return 0;
}

int
ferry_conn_flush(struct ferry_conn *c)
{
	int r;

	if (c->wbuf.len > 0) {
		r = write_all(c, c->wbuf.data, c->wbuf.len);
		ferry_buf_reset(&c->wbuf);
		if (r != 0)
			return r;
	}
	return flush_wbio(c);
}

int
ferry_conn_send(struct ferry_conn *c, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_msg_encode(m, &c->wbuf)) != 0)
		return r;
	return c->wbuf.len >= WBUF_FLUSH_AT ? ferry_conn_flush(c) : 0;
}

int
ferry_conn_send_data(struct ferry_conn *c, uint8_t *frame, size_t len)
{
	int r;

	if (len > FERRY_MAX_DATA)
		return FERRY_E_INTERNAL;
	ferry_frame_header_put(frame, FERRY_F_DATA, (uint32_t)len);
	if (c->wbuf.len + FERRY_FRAME_HDR + len <= WBUF_FLUSH_AT) {
		if ((r = ferry_buf_put(
		         &c->wbuf, frame, FERRY_FRAME_HDR + len)) != 0)
			return r;
		return 0;
	}
	if ((r = ferry_conn_flush(c)) != 0)
		return r;
	return write_all(c, frame, FERRY_FRAME_HDR + len);
}

/*
 * Reads at most n bytes. *got == 0 on a clean close; returns 1 (not an
 * error) when !wait and nothing is available.
 */
static int
read_some(struct ferry_conn *c, void *p, size_t n, size_t *got, int wait)
{
	int ret, e, r;

	for (;;) {
		if (interrupted())
			return ferry_errf(FERRY_E_INTR, "interrupted");
		ERR_clear_error();
		ret = SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		if (ret > 0) {
			*got = (size_t)ret;
			return 0;
		}
		e = SSL_get_error(c->ssl, ret);
		if (e == SSL_ERROR_ZERO_RETURN) {
			*got = 0;
			return 0;
		}
		if (e == SSL_ERROR_WANT_READ) {
			if (!wait)
				return 1;
			/* Whatever we queued may be what the peer waits for. */
			if ((r = ferry_conn_flush(c)) != 0 ||
			    (r = conn_wait(c, POLLIN)) != 0)
				return r;
		} else if (e == SSL_ERROR_WANT_WRITE) {
			if ((r = conn_wait(c, POLLOUT)) != 0)
				return r;
		} else
			return ssl_failure(c, ret, "reading");
	}
}

int
ferry_conn_read(struct ferry_conn *c, struct ferry_msg *m, int wait)
{
	uint8_t type;
	uint32_t len;
	size_t got;
	int r;

	memset(m, 0, sizeof(*m));
	for (;;) {
		if (c->rhave == c->rneed) {
			if (c->rneed == FERRY_FRAME_HDR) {
				if ((r = ferry_frame_header(c->rbuf,
				         FERRY_FRAME_HDR, &type, &len)) != 0) {
					c->broken = 1;
					return r;
				}
				c->rneed += len;
				if (len > 0)
					continue;
			}
			/* A whole frame: decode it, reset for the next one. */
			type = c->rbuf[0];
			len = (uint32_t)(c->rneed - FERRY_FRAME_HDR);
			c->rhave = 0;
			c->rneed = FERRY_FRAME_HDR;
			if ((r = ferry_msg_decode(
			         type, c->rbuf + FERRY_FRAME_HDR, len, m)) != 0)
				c->broken = 1;
			return r;
		}
		r = read_some(
		    c, c->rbuf + c->rhave, c->rneed - c->rhave, &got, wait);
		if (r == 1) {
			m->type = FERRY_F_NONE;
			return 0;
		}
		if (r != 0)
			return r;
		if (got == 0) {
			if (c->rhave == 0) {
				m->type = FERRY_F_EOF;
				return 0;
			}
			c->broken = 1;
			return ferry_errf(FERRY_E_CLOSED,
			    "%s closed the connection in the middle of a frame",
			    c->peer_addr);
		}
		c->rhave += got;
	}
}

void
ferry_conn_swap_frame(struct ferry_conn *c, uint8_t **frame)
{
	uint8_t *mine = c->rbuf;

	/* Only between frames: the buffer holds exactly the one returned. */
	if (c->rhave != 0)
		abort();
	c->rbuf = *frame;
	*frame = mine;
}

int
ferry_conn_read_raw(struct ferry_conn *c, void *buf, size_t cap, size_t *n)
{
	return read_some(c, buf, cap, n, 1);
}

int
ferry_conn_write_raw(struct ferry_conn *c, const void *buf, size_t n)
{
	return write_all(c, buf, n);
}

int
ferry_conn_close(struct ferry_conn *c)
{
	int ret, r;

	if ((r = ferry_conn_flush(c)) != 0)
		return r;
	for (int tries = 0; tries < 4; tries++) {
		ERR_clear_error();
		if ((ret = SSL_shutdown(c->ssl)) >= 0)
			break;
		if ((r = ssl_retry(c, ret, "closing")) != 0)
			return r;
	}
	c->broken = 1; /* done: ferry_conn_free must not try again */
	return 0;
}

void
ferry_conn_free(struct ferry_conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		/* Best effort: deliver a final ERR frame, then close_notify. */
		if (!c->broken && ferry_conn_flush(c) == 0)
			(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	ferry_buf_free(&c->wbuf);
	ferry_frame_free(c->rbuf);
	free(c);
}

const char *
ferry_conn_peer_id(const struct ferry_conn *c)
{
	return c->verify.peer_id;
}

const char *
ferry_conn_peer_addr(const struct ferry_conn *c)
{
	return c->peer_addr;
}

const char *
ferry_conn_peer_subject(const struct ferry_conn *c)
{
	return c->peer_subject;
}

X509 *
ferry_conn_peer_cert(const struct ferry_conn *c)
{
	return c->ssl != NULL ? SSL_get0_peer_certificate(c->ssl) : NULL;
}

const char *
ferry_conn_protocol(const struct ferry_conn *c)
{
	return SSL_get_version(c->ssl);
}

const char *
ferry_conn_cipher(const struct ferry_conn *c)
{
	return SSL_get_cipher_name(c->ssl);
}

const char *
ferry_conn_alpn(const struct ferry_conn *c)
{
	static _Thread_local char alpn[32];
	const unsigned char *p;
	unsigned int n;

	SSL_get0_alpn_selected(c->ssl, &p, &n);
	snprintf(alpn, sizeof(alpn), "%.*s", (int)n,
	    p == NULL ? "" : (const char *)p);
	return alpn;
}
