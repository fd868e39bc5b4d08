/* estc.c - HTTPS requests to authd: libevent's evhttp client over
 * bufferevent_openssl. docs/internals/est.md: the bootstrap and pinning. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ferry/buf.h"
#include "ferry/est.h"
#include "ferry/estc.h"
#include "ferry/log.h"
#include "ferry/pki.h"
#include "ferry/tls.h"
#include "ferry/net.h"
#include "ferry/pki.h"
#include "ferry/rd.h"

#define CIPHERSUITES                                     \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
	"TLS_CHACHA20_POLY1305_SHA256"
/* One answer's body: a CRL is the largest thing authd sends. */
#define MAX_ANSWER FERRY_EST_MAX_CRL
/* What we quote of a server's text/plain explanation. */
#define MAX_QUOTE 300

struct ferry_estc {
	char host[FERRY_MAX_HOST + 1];
	int port;
	char where[FERRY_MAX_HOST + 16];
	int timeout_s;
	SSL_CTX *ctx; /* trusts nothing until ferry_estc_trust */
	int trusted;
};

/* What one request brought back. */
struct answer {
	struct event_base *base;
	int status; /* 0: no HTTP answer */
	enum evhttp_request_error why;
	int failed;
	struct ferry_buf body;
	char retry_after[16];
	char verify[256]; /* why the server's certificate was refused */
};

static int verify_index = -1;

/*
 * authd's certificate carries authd's extended key usage and names no
 * member: a member's certificate valid for authd's host name (DNS or ARP
 * redirected) is refused before the password is sent.
 */
static int
authd_marked(X509 *cert, struct answer *ans)
{
	char id[FERRY_MAX_ID + 1], what[160];

	if (ferry_cert_id(cert, id) == 0)
		snprintf(what, sizeof(what),
		    "it is member '%s''s certificate, not authd's", id);
	else if (!ferry_cert_is_authd(cert))
		snprintf(what, sizeof(what),
		    "its certificate lacks authd's extended key usage");
	else
		what[0] = '\0';
	ferry_err_clear();
	if (what[0] == '\0')
		return 1;
	if (ans != NULL && ans->verify[0] == '\0')
		snprintf(ans->verify, sizeof(ans->verify),
		    "the server is not this organization's authd: %s; nothing "
		    "was sent",
		    what);
	return 0;
}

static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
	    xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct answer *ans =
	    ssl != NULL ? SSL_get_ex_data(ssl, verify_index) : NULL;
	int err = X509_STORE_CTX_get_error(xs);

	if (ok && X509_STORE_CTX_get_error_depth(xs) == 0 &&
	    !authd_marked(X509_STORE_CTX_get_current_cert(xs), ans)) {
		X509_STORE_CTX_set_error(
		    xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (!ok && ans != NULL && ans->verify[0] == '\0')
		snprintf(ans->verify, sizeof(ans->verify),
		    "authd's certificate is not accepted: %s%s",
		    X509_verify_cert_error_string(err),
		    err == X509_V_ERR_HOSTNAME_MISMATCH ||
		            err == X509_V_ERR_IP_ADDRESS_MISMATCH
		        ? " (it is not issued for the host in the URL)"
		    : err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
		            err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
		        ? " (not issued by the organization's CA)"
		        : "");
	return ok;
}

/* RFC 3986 pieces we accept: scheme https, host, optional port, path "/". */
int
ferry_estc_new(const char *url, int timeout_s, struct ferry_estc **out)
{
	struct ferry_estc *c = NULL;
	struct evhttp_uri *u = NULL;
	const char *host, *path;
	char portstr[8];
	int r = FERRY_E_INTERNAL;

	*out = NULL;
	if ((u = evhttp_uri_parse_with_flags(url, 0)) == NULL) {
		r = ferry_errf(FERRY_E_USAGE, "'%s' is not a URL", url);
		goto out;
	}
	if (evhttp_uri_get_scheme(u) == NULL ||
	    strcasecmp(evhttp_uri_get_scheme(u), "https") != 0) {
		r = ferry_errf(FERRY_E_USAGE,
		    "'%s': authd speaks https://HOST:PORT only", url);
		goto out;
	}
	host = evhttp_uri_get_host(u);
	path = evhttp_uri_get_path(u);
	if (host == NULL || *host == '\0' || strlen(host) > FERRY_MAX_HOST ||
	    evhttp_uri_get_userinfo(u) != NULL ||
	    evhttp_uri_get_query(u) != NULL ||
	    evhttp_uri_get_fragment(u) != NULL ||
	    (path != NULL && *path != '\0' && strcmp(path, "/") != 0)) {
		r = ferry_errf(FERRY_E_USAGE,
		    "'%s': give https://HOST[:PORT] and nothing more", url);
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = ferry_errf(FERRY_E_NOMEM, "out of memory");
		goto out;
	}
	/* evhttp keeps an IPv6 literal's brackets in the host. */
	if (host[0] == '[' && host[strlen(host) - 1] == ']')
		snprintf(c->host, sizeof(c->host), "%.*s",
		    (int)strlen(host) - 2, host + 1);
	else
		snprintf(c->host, sizeof(c->host), "%s", host);
	c->port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 443;
	snprintf(portstr, sizeof(portstr), "%d", c->port);
	ferry_addr_format(c->host, portstr, c->where, sizeof(c->where));
	c->timeout_s = timeout_s > 0 ? timeout_s : 30;
	if (verify_index < 0 && (verify_index = SSL_get_ex_new_index(
	                             0, "ferry estc", NULL, NULL, NULL)) < 0) {
		r = ferry_errf(FERRY_E_CRYPTO, "cannot set up TLS");
		goto out;
	}
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(c->ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(c->ctx, CIPHERSUITES) != 1) {
		ferry_log_openssl();
		r = ferry_errf(FERRY_E_CRYPTO, "cannot set up TLS");
		goto out;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	ferry_tls_keylog(c->ctx);
	*out = c;
	c = NULL;
	r = 0;
out:
	if (u != NULL)
		evhttp_uri_free(u);
	ferry_estc_free(c);
	return r;
}

void
ferry_estc_free(struct ferry_estc *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

const char *
ferry_estc_where(const struct ferry_estc *c)
{
	return c->where;
}

int
ferry_estc_trust(struct ferry_estc *c, X509 *ca)
{
	X509_STORE *store;

	/* A fresh store: the pinned CA and nothing else, never the system's. */
	if ((store = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(store, ca) != 1) {
		X509_STORE_free(store);
		ferry_log_openssl();
		return ferry_errf(FERRY_E_CRYPTO, "cannot set up TLS");
	}
	SSL_CTX_set_cert_store(c->ctx, store);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_verify_depth(c->ctx, 4);
	if (SSL_CTX_set_purpose(c->ctx, X509_PURPOSE_SSL_SERVER) != 1) {
		ferry_log_openssl();
		return ferry_errf(FERRY_E_CRYPTO, "cannot set up TLS");
	}
	c->trusted = 1;
	return 0;
}

int
ferry_estc_identity(struct ferry_estc *c, EVP_PKEY *key, X509 *cert)
{
	if (SSL_CTX_use_certificate(c->ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(c->ctx, key) != 1 ||
	    SSL_CTX_check_private_key(c->ctx) != 1) {
		ferry_log_openssl();
		return ferry_errf(FERRY_E_CERT,
		    "the identity's key does not belong to its certificate");
	}
	return 0;
}

static void
on_error(enum evhttp_request_error why, void *arg)
{
	struct answer *ans = arg;

	ans->failed = 1;
	ans->why = why;
}

static void
on_done(struct evhttp_request *req, void *arg)
{
	struct answer *ans = arg;
	struct evbuffer *in;
	const char *ra;
	size_t n;

	event_base_loopexit(ans->base, NULL);
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		ans->failed = 1;
		return;
	}
	ans->status = evhttp_request_get_response_code(req);
	if ((ra = evhttp_find_header(
	         evhttp_request_get_input_headers(req), "Retry-After")) != NULL)
		snprintf(ans->retry_after, sizeof(ans->retry_after), "%s", ra);
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(in);
	if (ferry_buf_reserve(&ans->body, n) != 0) {
		ans->failed = 1;
		ans->status = 0;
		return;
	}
	if (n > 0 &&
	    evbuffer_remove(in, ans->body.data + ans->body.len, n) == (int)n)
		ans->body.len += n;
}

/* Why a request got no HTTP answer, as one FERRY_E_* with a detail. */
static int
no_answer(struct ferry_estc *c, struct answer *ans, struct bufferevent *bev)
{
	unsigned long e = bev != NULL ? bufferevent_get_openssl_error(bev) : 0;

	if (ans->verify[0] != '\0')
		return ferry_errf(
		    FERRY_E_CERT, "%s: %s", c->where, ans->verify);
	if (e == 0)
		e = ERR_peek_last_error();
	if (e != 0) {
		const char *reason = ERR_reason_error_string(e);

		ferry_log_openssl();
		return ferry_errf(FERRY_E_TLS, "%s: TLS handshake failed%s%s",
		    c->where, reason != NULL ? ": " : "",
		    reason != NULL ? reason : "");
	}
	if (ans->failed && ans->why == EVREQ_HTTP_TIMEOUT)
		return ferry_errf(FERRY_E_TIMEOUT, "%s: no answer within %d s",
		    c->where, c->timeout_s);
	if (ans->failed && ans->why == EVREQ_HTTP_DATA_TOO_LONG)
		return ferry_errf(
		    FERRY_E_PROTO, "%s: the answer is too large", c->where);
	return ferry_errf(FERRY_E_CONNECT,
	    "%s: cannot connect or the connection was closed (is authd "
	    "running there?)",
	    c->where);
}

/* The first line of a text answer, printable, for an error message. */
static void
quote(const struct ferry_buf *b, char *out, size_t outlen)
{
	struct ferry_rd rd;
	uint8_t ch;
	size_t n = 0;

	ferry_rd_init(&rd, b->data, b->len);
	while (n + 1 < outlen && n < MAX_QUOTE && ferry_rd_u8(&rd, &ch) == 0 &&
	       ch != '\n')
		out[n++] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
	out[n] = '\0';
}

static int
request(struct ferry_estc *c, enum evhttp_cmd_type method, const char *path,
    const char *auth, const char *ctype, const void *body, size_t len,
    struct answer *ans)
{
	struct evhttp_connection *evcon = NULL;
	struct evhttp_request *req = NULL;
	struct bufferevent *bev = NULL;
	struct evkeyvalq *h;
	SSL *ssl = NULL;
	int r = FERRY_E_INTERNAL;

	ERR_clear_error();
	if ((ans->base = event_base_new()) == NULL ||
	    (ssl = SSL_new(c->ctx)) == NULL) {
		r = ferry_errf(FERRY_E_NOMEM, "cannot set up a connection");
		goto out;
	}
	SSL_set_ex_data(ssl, verify_index, ans);
	if (ferry_host_is_ip(c->host)) {
		if (c->trusted && X509_VERIFY_PARAM_set1_ip_asc(
		                      SSL_get0_param(ssl), c->host) != 1)
			goto tls_fail;
	} else {
		if (SSL_set_tlsext_host_name(ssl, c->host) != 1 ||
		    (c->trusted && X509_VERIFY_PARAM_set1_host(
		                       SSL_get0_param(ssl), c->host, 0) != 1))
			goto tls_fail;
	}
	if ((bev = bufferevent_openssl_socket_new(ans->base, -1, ssl,
	         BUFFEREVENT_SSL_CONNECTING,
	         BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		r = ferry_errf(FERRY_E_NOMEM, "cannot set up a connection");
		goto out;
	}
	ssl = NULL; /* the bufferevent owns it */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	if ((evcon = evhttp_connection_base_bufferevent_new(ans->base, NULL,
	         bev, c->host, (ev_uint16_t)c->port)) == NULL) {
		bufferevent_free(bev);
		bev = NULL;
		r = ferry_errf(FERRY_E_NOMEM, "cannot set up a connection");
		goto out;
	}
	evhttp_connection_set_timeout(evcon, c->timeout_s);
	evhttp_connection_set_retries(evcon, 0);
	evhttp_connection_set_max_body_size(evcon, MAX_ANSWER);
	if ((req = evhttp_request_new(on_done, ans)) == NULL) {
		r = ferry_errf(FERRY_E_NOMEM, "cannot set up a request");
		goto out;
	}
	evhttp_request_set_error_cb(req, on_error);
	h = evhttp_request_get_output_headers(req);
	if (evhttp_add_header(h, "Host", c->where) != 0 ||
	    evhttp_add_header(h, "User-Agent", "ferry/" FERRY_VERSION) != 0 ||
	    evhttp_add_header(h, "Connection", "close") != 0 ||
	    (ctype != NULL &&
	        evhttp_add_header(h, "Content-Type", ctype) != 0) ||
	    (auth != NULL &&
	        evhttp_add_header(h, "Authorization", auth) != 0) ||
	    (len > 0 && evbuffer_add(evhttp_request_get_output_buffer(req),
	                    body, len) != 0)) {
		evhttp_request_free(req);
		r = ferry_errf(FERRY_E_NOMEM, "cannot set up a request");
		goto out;
	}
	/* evhttp owns req from here, even on failure. */
	if (evhttp_make_request(evcon, req, method, path) != 0) {
		r = ferry_errf(FERRY_E_CONNECT, "%s: cannot send", c->where);
		goto out;
	}
	event_base_dispatch(ans->base);
	r = ans->status != 0 ? 0 : no_answer(c, ans, bev);
	goto out;
tls_fail:
	ferry_log_openssl();
	r = ferry_errf(FERRY_E_CRYPTO, "cannot set up TLS");
out:
	/* Frees the bufferevent and its SSL with it. */
	if (evcon != NULL)
		evhttp_connection_free(evcon);
	SSL_free(ssl);
	if (ans->base != NULL)
		event_base_free(ans->base);
	ans->base = NULL;
	return r;
}

/* Maps a non-200 status to an error with the server's explanation. */
static int
status_fail(struct ferry_estc *c, struct answer *ans)
{
	char why[MAX_QUOTE + 1];

	quote(&ans->body, why, sizeof(why));
	switch (ans->status) {
	case 401:
		return ferry_errf(
		    FERRY_E_LOGIN, "%s: wrong user name or password", c->where);
	case 429:
		return ferry_errf(FERRY_E_THROTTLED,
		    "%s: too many failed logins; try again in %s seconds",
		    c->where,
		    ans->retry_after[0] != '\0' ? ans->retry_after : "a few");
	case 413:
		return ferry_errf(
		    FERRY_E_TOOBIG, "%s: request too large", c->where);
	case 400:
	case 403:
		return ferry_errf(FERRY_E_REFUSED, "%s: %s", c->where,
		    why[0] != '\0' ? why : "request refused");
	default:
		return ferry_errf(
		    ans->status >= 500 ? FERRY_E_BUSY : FERRY_E_PROTO,
		    "%s: HTTP %d%s%s", c->where, ans->status,
		    why[0] != '\0' ? ": " : "", why);
	}
}

int
ferry_estc_cacerts(struct ferry_estc *c, STACK_OF(X509) * *out)
{
	struct answer ans;
	int r;

	*out = NULL;
	memset(&ans, 0, sizeof(ans));
	ferry_buf_init_public(&ans.body, MAX_ANSWER);
	if ((r = request(c, EVHTTP_REQ_GET, "/.well-known/est/cacerts", NULL,
	         NULL, NULL, 0, &ans)) != 0)
		goto out;
	if (ans.status != 200) {
		r = status_fail(c, &ans);
		goto out;
	}
	if ((r = ferry_est_certs_parse(ans.body.data, ans.body.len, out)) != 0)
		r = ferry_errf(
		    r, "%s: /cacerts: %s", c->where, ferry_err_detail(r));
out:
	ferry_buf_free(&ans.body);
	return r;
}

int
ferry_estc_enroll(struct ferry_estc *c, const char *user, const void *pw,
    size_t pwlen, const char *csr, size_t csrlen, X509 **out)
{
	struct ferry_buf auth;
	struct answer ans;
	STACK_OF(X509) *certs = NULL;
	int r;

	*out = NULL;
	memset(&ans, 0, sizeof(ans));
	ferry_buf_init_public(&ans.body, MAX_ANSWER);
	ferry_buf_init(&auth, FERRY_EST_MAX_AUTH);
	/* Never a password to a server we have not verified. */
	if (!c->trusted) {
		r = ferry_errf(FERRY_E_INTERNAL, "no CA pinned");
		goto out;
	}
	if (user != NULL &&
	    (r = ferry_est_basic_make(user, pw, pwlen, &auth)) != 0)
		goto out;
	if ((r = request(c, EVHTTP_REQ_POST,
	         user != NULL ? "/.well-known/est/simpleenroll"
	                      : "/.well-known/est/simplereenroll",
	         user != NULL ? (const char *)auth.data : NULL,
	         "application/pkcs10", csr, csrlen, &ans)) != 0)
		goto out;
	if (ans.status != 200) {
		r = status_fail(c, &ans);
		goto out;
	}
	if ((r = ferry_est_certs_parse(ans.body.data, ans.body.len, &certs)) !=
	    0) {
		r = ferry_errf(
		    r, "%s: the answer: %s", c->where, ferry_err_detail(r));
		goto out;
	}
	/* The issued certificate comes first (RFC 7030 4.2.3: only one). */
	*out = sk_X509_shift(certs);
	r = 0;
out:
	sk_X509_pop_free(certs, X509_free);
	ferry_buf_free(&auth);
	ferry_buf_free(&ans.body);
	return r;
}

int
ferry_estc_crl(struct ferry_estc *c, X509_CRL **out)
{
	struct answer ans;
	struct ferry_rd rd;
	const uint8_t *p = NULL;
	const unsigned char *q;
	size_t n = 0;
	int r;

	*out = NULL;
	memset(&ans, 0, sizeof(ans));
	ferry_buf_init_public(&ans.body, MAX_ANSWER);
	if (!c->trusted) {
		r = ferry_errf(FERRY_E_INTERNAL, "no CA pinned");
		goto out;
	}
	if ((r = request(
	         c, EVHTTP_REQ_GET, "/crl", NULL, NULL, NULL, 0, &ans)) != 0)
		goto out;
	if (ans.status != 200) {
		r = status_fail(c, &ans);
		goto out;
	}
	ferry_rd_init(&rd, ans.body.data, ans.body.len);
	ferry_rd_rest(&rd, &p, &n);
	q = p;
	if (n == 0 || (*out = d2i_X509_CRL(NULL, &q, (long)n)) == NULL ||
	    (size_t)(q - p) != n) {
		ferry_log_openssl();
		X509_CRL_free(*out);
		*out = NULL;
		r = ferry_errf(
		    FERRY_E_PROTO, "%s: /crl: not a DER CRL", c->where);
		goto out;
	}
	r = 0;
out:
	ferry_buf_free(&ans.body);
	return r;
}

int
ferry_estc_crls(struct ferry_estc *c, STACK_OF(X509_CRL) * *out)
{
	struct answer ans;
	X509_CRL *one = NULL;
	int r;

	*out = NULL;
	memset(&ans, 0, sizeof(ans));
	ferry_buf_init_public(&ans.body, MAX_ANSWER);
	if (!c->trusted) {
		r = ferry_errf(FERRY_E_INTERNAL, "no CA pinned");
		goto out;
	}
	if ((r = request(c, EVHTTP_REQ_GET, "/crl.pem", NULL, NULL, NULL, 0,
	         &ans)) != 0)
		goto out;
	if (ans.status == 404) { /* an authd from before /crl.pem */
		if ((r = ferry_estc_crl(c, &one)) != 0)
			goto out;
		if ((*out = sk_X509_CRL_new_null()) == NULL ||
		    sk_X509_CRL_push(*out, one) <= 0) {
			sk_X509_CRL_free(*out);
			*out = NULL;
			r = ferry_errf(FERRY_E_NOMEM, "out of memory");
			goto out;
		}
		one = NULL;
		r = 0;
		goto out;
	}
	if (ans.status != 200) {
		r = status_fail(c, &ans);
		goto out;
	}
	if ((r = ferry_crls_parse(
	         ans.body.data, ans.body.len, "/crl.pem", out)) != 0)
		r = ferry_errf(r, "%s: %s", c->where, ferry_err_detail(r));
out:
	X509_CRL_free(one);
	ferry_buf_free(&ans.body);
	return r;
}
