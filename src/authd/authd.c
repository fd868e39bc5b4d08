/* authd.c - EST over HTTPS: libevent's evhttp on bufferevent_openssl.
 * Handlers are thin: credentials, CSR and certificate work are libferry's. */
#include <arpa/inet.h>
#include <netdb.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ferry/admit.h"
#include "ferry/buf.h"
#include "ferry/est.h"
#include "ferry/log.h"
#include "ferry/notify.h"
#include "ferry/net.h"
#include "ferry/passwd.h"
#include "ferry/pki.h"
#include "ferry/store.h"
#include "ferry/tls.h"

#include "authd.h"

/* TLS as everywhere in ferry; TLS 1.2 only when asked, ECDHE + AEAD only. */
#define CIPHERSUITES                                     \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
	"TLS_CHACHA20_POLY1305_SHA256"
#define TLS12_CIPHERS                                                  \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"   \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"
#define GROUPS "X25519:P-256:P-384"
/* authd's own certificate: CN, and its validity in days. */
#define SERVER_CN "authd"
#define SERVER_DAYS 90
/* Re-issued when less than this is left; checked twice a day. */
#define SERVER_RENEW_DAYS 30
#define SERVER_CHECK_SECS (12 * 3600)
/* Warn this long before an issuing CA's copy of the root CRL expires. */
#define ROOT_CRL_WARN_DAYS 7
/* Failures before back-off: per user, and per address (NAT: many users). */
#define USER_THRESHOLD 5
#define ADDR_THRESHOLD 10
#define RATE_ENTRIES 8192
#define MAX_HEADERS (16 * 1024)
#define MAX_SERVER_NAMES 32

#define EST_PREFIX "/.well-known/est/"
#define CT_CERTS "application/pkcs7-mime; smime-type=certs-only"
/* Connections one client address may hold open at once. */
#define PER_ADDR_CONNS 16
/* A connection lives at most this many --timeout periods, trickle or not. */
#define CONN_LIFETIME_FACTOR 3

struct authd {
	const struct authd_cfg *cfg; /* &in_force */
	struct authd_cfg in_force; /* a SIGHUP changes some of it */
	char **allow_dns; /* in_force.allow_dns once a reload set it; owned */
	char bound[FERRY_MAX_HOST + 16]; /* the listening address */
	struct event_base *base;
	struct evhttp *http;
	struct evconnlistener *listener;
	SSL_CTX *ctx;
	struct ferry_ca *ca;
	struct ferry_store *st;
	struct ratelimit *rl_user, *rl_addr;
	char *cacerts; /* base64 certs-only PKCS#7 of the CA */
	size_t cacerts_len;
	unsigned char *crl; /* DER, regenerated when the index changes */
	int crl_len;
	char *crl_pem; /* the same CRL as PEM, for /crl.pem */
	size_t crl_pem_len;
	long long crl_stamp;
	time_t crl_made;
	unsigned live; /* open connections */
	unsigned sessions; /* of them, past the TLS handshake */
	struct ferry_admit *pool; /* those still in it (admit.md) */
	int paused; /* the listener is disabled: max_conns + pool full */
	time_t server_until; /* our certificate's notAfter */
	struct {
		char name[FERRY_MAX_HOSTNAME + 1]; /* normalized */
		enum ferry_host_kind kind;
	} own[MAX_SERVER_NAMES]; /* in our certificate, reserved */
	size_t n_own;
};

/* One request's context, for the log line and the audit record. */
struct call {
	struct authd *a;
	struct evhttp_request *req;
	char addr[INET6_ADDRSTRLEN + 8];
	const char *path;
	char user[FERRY_EST_MAX_USER + 1];
};

static int conn_index = -1;

/*
 * One connection, from the bufferevent authd makes for it to the SSL's
 * free (conn_gone). Its timer first learns the peer's address (not known
 * yet when evhttp asks for the bufferevent) to enforce PER_ADDR_CONNS and
 * admit it to the handshake pool, then ends it if the handshake is not
 * done within --login-grace, then at its deadline however slowly it
 * trickles: evhttp's own timeout is an idle timeout only.
 */
struct conn {
	struct authd *a;
	struct bufferevent *bev;
	struct event *timer;
	char addr[INET6_ADDRSTRLEN];
	time_t since;
	int counted; /* holds a slot in per_addr */
	int pooled; /* in a->pool: handshake under way */
	int session; /* handshake done; counted in a->sessions */
	int busy; /* done while max_conns sessions ran: answered 503 */
};

/* Open connections per client address (a small table; most recent wins). */
#define PER_ADDR_SLOTS 256
static struct {
	char addr[INET6_ADDRSTRLEN];
	unsigned open;
} per_addr[PER_ADDR_SLOTS];

static unsigned *
addr_slot(const char *addr, int create)
{
	int free_slot = -1;

	for (int i = 0; i < PER_ADDR_SLOTS; i++) {
		if (per_addr[i].open > 0 && strcmp(per_addr[i].addr, addr) == 0)
			return &per_addr[i].open;
		if (per_addr[i].open == 0 && free_slot < 0)
			free_slot = i;
	}
	if (!create || free_slot < 0)
		return NULL;
	snprintf(per_addr[free_slot].addr, sizeof(per_addr[free_slot].addr),
	    "%s", addr);
	return &per_addr[free_slot].open;
}

/* Ends a connection from underneath evhttp: it sees EOF and frees it. */
static void
conn_cut(struct conn *k)
{
	evutil_socket_t fd = bufferevent_getfd(k->bev);

	if (fd >= 0)
		(void)shutdown(fd, SHUT_RDWR);
}

/* 1 if k may start its handshake: the pool's say (admit.md). */
static int
pool_enter(struct conn *k)
{
	struct authd *a = k->a;
	enum ferry_admit_verdict v;
	uint64_t victim;

	v = ferry_admit_decide(a->pool, k->addr, ferry_admit_random(), &victim);
	if (v == FERRY_ADMIT_EVICT) {
		struct conn *old = (struct conn *)(uintptr_t)victim;

		(void)ferry_admit_remove(a->pool, victim);
		old->pooled = 0;
		conn_cut(old);
	}
	if (v != FERRY_ADMIT_YES)
		ferry_admit_log(a->pool, v, "authd", k->addr);
	if (v != FERRY_ADMIT_YES && v != FERRY_ADMIT_EVICT)
		return 0;
	if (ferry_admit_add(a->pool, (uint64_t)(uintptr_t)k, k->addr,
	        (double)time(NULL)) == 0)
		k->pooled = 1;
	return 1;
}

/* The first run: who the peer is, and whether it may go on. */
static void
conn_admit(struct conn *k)
{
	struct authd *a = k->a;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	unsigned *open;
	int grace = ferry_admit_policy(a->pool)->grace_s;
	int life = CONN_LIFETIME_FACTOR * a->cfg->timeout_s;

	if (getpeername(
	        bufferevent_getfd(k->bev), (struct sockaddr *)&ss, &len) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, len, k->addr, sizeof(k->addr),
	        NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(k->addr, sizeof(k->addr), "?");
	if ((open = addr_slot(k->addr, 1)) != NULL && *open >= PER_ADDR_CONNS) {
		static time_t said;

		/* One line a second is enough to say one address is greedy. */
		if (said != time(NULL)) {
			said = time(NULL);
			ferry_warn("authd: %s: more than %d connections open "
			           "from one address: refused",
			    k->addr, PER_ADDR_CONNS);
		}
		conn_cut(k);
		return;
	}
	if (open != NULL) {
		(*open)++;
		k->counted = 1;
	}
	if (!k->session && !pool_enter(k)) {
		conn_cut(k);
		return;
	}
	{
		struct timeval tv = {
		    k->session || life < grace ? life : grace, 0};

		evtimer_add(k->timer, &tv);
	}
}

static void
conn_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *k = arg;
	struct authd *a = k->a;

	(void)fd;
	(void)what;
	if (k->addr[0] == '\0') {
		conn_admit(k);
		return;
	}
	if (!k->session) { /* --login-grace */
		ferry_info("authd: %s: TLS handshake not done within %d s: "
		           "closed",
		    k->addr, ferry_admit_policy(a->pool)->grace_s);
		if (k->pooled)
			(void)ferry_admit_remove(
			    a->pool, (uint64_t)(uintptr_t)k);
		k->pooled = 0;
		conn_cut(k);
		return;
	}
	ferry_info("authd: %s: connection open for %d s: closed", k->addr,
	    CONN_LIFETIME_FACTOR * a->cfg->timeout_s);
	conn_cut(k);
}

/*
 * SSL_CB_HANDSHAKE_DONE: k leaves the handshake pool and becomes a
 * session; its timer now runs to the connection's deadline. Over
 * max_conns sessions it is marked busy, and its request gets a 503.
 */
static void
on_tls_info(const SSL *ssl, int where, int ret)
{
	struct conn *k = SSL_get_ex_data(ssl, conn_index);
	struct authd *a;
	long left;

	(void)ret;
	if ((where & SSL_CB_HANDSHAKE_DONE) == 0 || k == NULL || k->session)
		return;
	a = k->a;
	k->session = 1;
	a->sessions++;
	k->busy = a->sessions > (unsigned)a->cfg->max_conns;
	if (k->pooled)
		(void)ferry_admit_remove(a->pool, (uint64_t)(uintptr_t)k);
	k->pooled = 0;
	if (k->addr[0] == '\0')
		return; /* conn_admit sets the deadline */
	left = (long)(k->since + CONN_LIFETIME_FACTOR * a->cfg->timeout_s -
	              time(NULL));
	{
		struct timeval tv = {left > 0 ? left : 0, 0};

		evtimer_add(k->timer, &tv);
	}
}

/* Connections open at most: sessions, and the handshake pool. */
static unsigned
conn_cap(const struct authd *a)
{
	return (unsigned)a->cfg->max_conns +
	       (unsigned)ferry_admit_policy(a->pool)->full;
}

static void
conn_gone(
    void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct conn *k = ptr;
	struct authd *a;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (k == NULL)
		return;
	a = k->a;
	if (k->counted) {
		unsigned *open = addr_slot(k->addr, 0);

		if (open != NULL && *open > 0)
			(*open)--;
	}
	if (k->pooled && a->pool != NULL)
		(void)ferry_admit_remove(a->pool, (uint64_t)(uintptr_t)k);
	if (k->session)
		a->sessions--;
	if (k->timer != NULL)
		event_free(k->timer);
	free(k);
	a->live--;
	if (a->paused && a->live < conn_cap(a) && a->listener != NULL) {
		evconnlistener_enable(a->listener);
		a->paused = 0;
	}
}

/* Every connection gets its own SSL; the connection cap is counted here. */
static struct bufferevent *
new_conn(struct event_base *base, void *arg)
{
	struct authd *a = arg;
	struct timeval now = {0, 0};
	struct conn *k = calloc(1, sizeof(*k));
	SSL *ssl = SSL_new(a->ctx);

	if (ssl == NULL || k == NULL ||
	    (k->timer = evtimer_new(base, conn_timer, k)) == NULL) {
		ferry_log_openssl();
		SSL_free(ssl);
		free(k);
		return NULL;
	}
	k->a = a;
	k->since = time(NULL);
	/* From here on conn_gone, at the SSL's free, releases k. */
	SSL_set_ex_data(ssl, conn_index, k);
	a->live++;
	if (a->live >= conn_cap(a) && !a->paused && a->listener != NULL) {
		evconnlistener_disable(a->listener);
		a->paused = 1;
		ferry_warn("authd: %u connections open; accepting no more "
		           "until one closes",
		    a->live);
	}
	k->bev = bufferevent_openssl_socket_new(
	    base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (k->bev == NULL) {
		SSL_free(ssl); /* conn_gone releases k */
		return NULL;
	}
	/* Runs once evhttp has given the bufferevent its socket. */
	evtimer_add(k->timer, &now);
	return k->bev;
}

/* Any client certificate gets through the handshake; simplereenroll looks
 * at the verification result and says what was wrong, in HTTP. */
static int
verify_later(int ok, X509_STORE_CTX *xs)
{
	(void)ok;
	(void)xs;
	return 1;
}

static void
sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/*
 * One line per request, with journal fields (log.md): USER is the account
 * the request names, MEMBER the same once it answered 2xx, as in serve's
 * transfer lines.
 */
static void
reply_log(const struct call *c, int code, const char *note)
{
	const char *user = c->user[0] != '\0' ? c->user : NULL;
	char status[16];
	struct ferry_log_field f[] = {{"USER", user},
	    {"MEMBER", code / 100 == 2 ? user : NULL}, {"PEER", c->addr},
	    {"REQUEST", c->path}, {"STATUS", status},
	    {"RESULT", code / 100 == 2   ? "ok"
	               : code / 100 == 4 ? "refused"
	                                 : "error"}};

	snprintf(status, sizeof(status), "%d", code);
	ferry_log_event(FERRY_LOG_INFO, f, sizeof(f) / sizeof(f[0]),
	    "authd: %s: %s %s -> %d%s%s%s%s", c->addr,
	    evhttp_request_get_command(c->req) == EVHTTP_REQ_POST ? "POST"
	                                                          : "GET",
	    c->path, code, user != NULL ? " user=" : "", c->user,
	    note != NULL ? ": " : "", note != NULL ? note : "");
}

static void
reply(struct call *c, int code, const char *reason, const char *ctype,
    const void *body, size_t len, const char *note)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	struct evbuffer *out = evhttp_request_get_output_buffer(c->req);

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (strncmp(ctype, "application/pkcs7", 17) == 0)
		evhttp_add_header(h, "Content-Transfer-Encoding", "base64");
	if (len > 0)
		evbuffer_add(out, body, len);
	evhttp_send_reply(c->req, code, reason, NULL);
	reply_log(c, code, note);
}

/* A text/plain error: one line saying what was wrong. */
static void
fail(struct call *c, int code, const char *reason, const char *msg)
{
	char line[512];

	snprintf(line, sizeof(line), "%s\n", msg);
	sanitize(line);
	line[strlen(line) > 0 ? strlen(line) - 1 : 0] = '\n';
	reply(c, code, reason, "text/plain; charset=utf-8", line, strlen(line),
	    msg);
}

static void
audit(struct call *c, const char *kind, const char *user, const char *serial,
    const char *detail)
{
	struct ferry_store_event ev = {.kind = kind,
	    .user = user,
	    .addr = c->addr,
	    .serial = serial,
	    .detail = detail};
	int r;

	if ((r = ferry_store_event_add(c->a->st, &ev)) != 0)
		ferry_error_r(r, "authd: cannot record a %s event", kind);
}

static time_t
asn1_time_t(const ASN1_TIME *t)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

/*
 * The names csr asks for that user may hold (grant.c). An enrollment asking
 * for one it may not is refused whole (403) and recorded; a renewal leaves
 * such names out and records that.
 */
static int
issue_names(
    struct call *c, X509_REQ *csr, const char *user, int renew, struct grant *g)
{
	struct ferry_est_names names;
	int r;

	memset(g, 0, sizeof(*g));
	memset(&names, 0, sizeof(names));
	if ((r = ferry_est_csr_names(csr, &names)) != 0) {
		fail(c, 400, "Bad Request", ferry_err_detail(r));
		goto out;
	}
	r = grant_names(c->a->st, c->a->cfg, user, &names, renew, g);
	if (r == FERRY_E_ACCESS || r == FERRY_E_USAGE) {
		audit(c, FERRY_EV_REFUSED, user, NULL, g->why);
		fail(c, r == FERRY_E_ACCESS ? 403 : 400,
		    r == FERRY_E_ACCESS ? "Forbidden" : "Bad Request", g->why);
	} else if (r != 0) {
		ferry_error_r(r, "authd: cannot check %s's names", user);
		fail(c, 500, "Internal Server Error",
		    "account database unavailable");
	} else if (g->why[0] != '\0') {
		audit(c, FERRY_EV_REFUSED, user, NULL, g->why);
	}
out:
	ferry_est_names_free(&names);
	return r;
}

/*
 * Under an issuing CA: its copy of the root's CRL must be good and must
 * not list it. Otherwise answers (503/403) and returns -1: members would
 * get certificates every peer refuses.
 */
static int
issuer_usable(struct call *c)
{
	int r;

	if ((r = ferry_ca_usable(c->a->ca)) == 0)
		return 0;
	ferry_error_r(r, "authd: not issuing");
	if (r == FERRY_E_REVOKED)
		fail(c, 403, "Forbidden",
		    "authd's issuing CA has been revoked; ask the admin for a "
		    "new one");
	else
		fail(c, 503, "Service Unavailable",
		    "authd's copy of the root CA's CRL is missing or stale; "
		    "ask the admin to refresh it");
	return -1;
}

/* An issuing CA's copy of the root's CRL: said well before it expires. */
static void
root_crl_watch(struct authd *a)
{
	X509_CRL *crl = NULL;
	int days = 0, secs = 0, r;

	if ((r = ferry_ca_root_crl(a->ca, &crl)) != 0) {
		ferry_error_r(r, "authd: not issuing");
		return;
	}
	if (crl != NULL &&
	    ASN1_TIME_diff(&days, &secs, NULL, X509_CRL_get0_nextUpdate(crl)) ==
	        1 &&
	    days < ROOT_CRL_WARN_DAYS)
		ferry_warn("authd: %s/root-crl.pem expires in %d days; the "
		           "admin must copy a fresh CRL of the root there",
		    a->cfg->ca_dir, days);
	X509_CRL_free(crl);
}

/* Signs csr's key for user and answers with the certificate. */
static void
issue(struct call *c, X509_REQ *csr, const char *user, const char *kind)
{
	struct authd *a = c->a;
	struct ferry_cert_req req;
	struct grant g;
	X509 *cert = NULL;
	char *serial = NULL, *body = NULL, msg[600];
	size_t len = 0;
	int r;

	memset(&req, 0, sizeof(req));
	memset(&g, 0, sizeof(g));
	if (issuer_usable(c) != 0 ||
	    issue_names(c, csr, user, strcmp(kind, FERRY_EV_RENEW) == 0, &g) !=
	        0)
		goto out;
	/* The subject is never the CSR's: it is the authenticated user. */
	req.id = user;
	req.dns = (const char *const *)g.dns;
	req.n_dns = g.n_dns;
	req.ips = (const char *const *)g.ips;
	req.n_ips = g.n_ips;
	req.groups = (const char *const *)g.groups;
	req.n_groups = g.n_groups;
	req.days = a->cfg->cert_days;
	if ((r = ferry_ca_sign(
	         a->ca, X509_REQ_get0_pubkey(csr), &req, &cert)) != 0) {
		if (ferry_errgroup(r) == FERRY_G_USAGE)
			fail(c, 400, "Bad Request", ferry_err_detail(r));
		else {
			ferry_error_r(r, "authd: cannot issue for %s", user);
			fail(c, 500, "Internal Server Error",
			    "cannot issue the certificate");
		}
		goto out;
	}
	if ((r = ferry_cert_serial_hex(cert, &serial)) != 0 ||
	    (r = ferry_est_certs_encode(&cert, 1, &body, &len)) != 0) {
		ferry_error_r(r, "authd: cannot encode for %s", user);
		fail(c, 500, "Internal Server Error",
		    "cannot encode the certificate");
		goto out;
	}
	if ((r = ferry_store_cert_add(a->st, kind, serial, user,
	         asn1_time_t(X509_get0_notBefore(cert)),
	         asn1_time_t(X509_get0_notAfter(cert)), c->addr)) != 0)
		ferry_error_r(r,
		    "authd: issued %s serial %s but cannot record it in the "
		    "database (it is in the CA's index.tsv)",
		    user, serial);
	snprintf(msg, sizeof(msg), "%s serial %s, %d days", kind, serial,
	    a->cfg->cert_days);
	reply(c, 200, "OK", CT_CERTS, body, len, msg);
out:
	free(body);
	OPENSSL_free(serial);
	X509_free(cert);
	grant_free(&g);
}

/*
 * 0 if user's account may get a certificate; a disabled account (a lost
 * laptop: 'ferry ca revoke --name', 'ferry user disable') is answered 403
 * and recorded.
 */
static int
account_enabled(struct call *c, const char *user, const char *serial)
{
	time_t when = 0;
	char msg[200];
	int r;

	if ((r = ferry_store_user_disabled(c->a->st, user, &when)) != 0 &&
	    r != FERRY_E_NOENT) {
		ferry_error_r(r, "authd: cannot look up %s", user);
		fail(c, 500, "Internal Server Error",
		    "account database unavailable");
		return r;
	}
	if (r == FERRY_E_NOENT)
		snprintf(msg, sizeof(msg), "the account no longer exists");
	else if (when != 0)
		snprintf(msg, sizeof(msg),
		    "the account '%s' is disabled; ask the admin to enable it",
		    user);
	else
		return 0;
	audit(c, FERRY_EV_REFUSED, user, serial, msg);
	fail(c, 403, "Forbidden", msg);
	return FERRY_E_ACCESS;
}

static int
body_csr(struct call *c, X509_REQ **csr)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(c->req);
	size_t len = evbuffer_get_length(in);
	const unsigned char *p;
	int r;

	*csr = NULL;
	if (len > FERRY_EST_MAX_BODY) { /* evhttp has stopped it before */
		fail(c, 413, "Payload Too Large", "request body too large");
		return -1;
	}
	if ((p = evbuffer_pullup(in, -1)) == NULL && len > 0) {
		fail(c, 500, "Internal Server Error", "out of memory");
		return -1;
	}
	if ((r = ferry_est_csr_parse(p, len, csr)) != 0) {
		char msg[400];

		snprintf(msg, sizeof(msg), "bad certification request: %s",
		    ferry_err_detail(r));
		fail(c, r == FERRY_E_TOOBIG ? 413 : 400,
		    r == FERRY_E_TOOBIG ? "Payload Too Large" : "Bad Request",
		    msg);
		return -1;
	}
	return 0;
}

static void
unauthorized(struct call *c, const char *note)
{
	static const char msg[] = "wrong user name or password\n";
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);

	evhttp_add_header(
	    h, "WWW-Authenticate", "Basic realm=\"ferry\", charset=\"UTF-8\"");
	reply(c, 401, "Unauthorized", "text/plain; charset=utf-8", msg,
	    sizeof(msg) - 1, note);
}

static void
throttled(struct call *c, unsigned wait)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	char secs[16], msg[128];

	snprintf(secs, sizeof(secs), "%u", wait);
	snprintf(msg, sizeof(msg),
	    "too many failed logins; try again in %u seconds\n", wait);
	evhttp_add_header(h, "Retry-After", secs);
	reply(c, 429, "Too Many Requests", "text/plain; charset=utf-8", msg,
	    strlen(msg), "throttled");
}

static void
h_enroll(struct call *c)
{
	struct authd *a = c->a;
	const char *hdr = evhttp_find_header(
	    evhttp_request_get_input_headers(c->req), "Authorization");
	char hash[FERRY_PASSWD_ENCODED_MAX], ukey[FERRY_EST_MAX_USER + 3];
	char akey[sizeof(c->addr) + 2], note[160];
	struct ferry_buf pw;
	X509_REQ *csr = NULL;
	time_t now = time(NULL);
	unsigned wu, wa;
	int r, known;

	ferry_buf_init(&pw, FERRY_EST_MAX_AUTH);
	hash[0] = '\0';
	if (hdr == NULL) {
		unauthorized(c, "no credentials");
		goto out;
	}
	snprintf(akey, sizeof(akey), "a:%s", c->addr);
	if (ferry_est_basic_parse(hdr, c->user, &pw) != 0)
		c->user[0] = '\0';
	snprintf(ukey, sizeof(ukey), "u:%s", c->user);
	wu = ratelimit_wait(a->rl_user, ukey, now);
	wa = ratelimit_wait(a->rl_addr, akey, now);
	if (wu > 0 || wa > 0) {
		throttled(c, wu > wa ? wu : wa);
		goto out;
	}
	/*
	 * Unknown, malformed and wrong all cost one Argon2id verification
	 * and get the same answer.
	 */
	known = c->user[0] != '\0' && ferry_id_check(c->user) == 0;
	ferry_err_clear();
	if (known && (r = ferry_store_user_hash(a->st, c->user, hash)) != 0) {
		if (r != FERRY_E_NOENT) {
			ferry_error_r(r, "authd: cannot look up a user");
			fail(c, 500, "Internal Server Error",
			    "account database unavailable");
			goto out;
		}
		known = 0;
	}
	if (ferry_passwd_verify(known ? hash : NULL, pw.data, pw.len) != 0) {
		wu = ratelimit_fail(a->rl_user, ukey, now);
		wa = ratelimit_fail(a->rl_addr, akey, now);
		snprintf(note, sizeof(note), "login failed%s",
		    wu > 0 || wa > 0 ? "; now throttled" : "");
		ferry_warn(
		    "authd: %s: failed login for '%s'", c->addr, c->user);
		audit(c, FERRY_EV_LOGIN_FAILED, c->user, NULL,
		    known ? "wrong password" : "no such user");
		unauthorized(c, note);
		goto out;
	}
	ratelimit_clear(a->rl_user, ukey);
	if (account_enabled(c, c->user, NULL) != 0 || body_csr(c, &csr) != 0)
		goto out;
	issue(c, csr, c->user, FERRY_EV_ENROLL);
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	ferry_buf_free(&pw);
	X509_REQ_free(csr);
}

static void
h_reenroll(struct call *c)
{
	struct authd *a = c->a;
	struct evhttp_connection *evcon = evhttp_request_get_connection(c->req);
	struct bufferevent *bev =
	    evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
	SSL *ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;
	char id[FERRY_MAX_ID + 1], hash[FERRY_PASSWD_ENCODED_MAX], msg[400];
	char *serial = NULL;
	X509 *cert = NULL;
	X509_REQ *csr = NULL;
	long v;
	int r;

	hash[0] = '\0';
	if (ssl == NULL || (cert = SSL_get1_peer_certificate(ssl)) == NULL) {
		fail(c, 403, "Forbidden",
		    "simplereenroll needs your current certificate as TLS "
		    "client certificate");
		goto out;
	}
	if (ferry_cert_serial_hex(cert, &serial) != 0)
		serial = NULL;
	if ((v = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(msg, sizeof(msg),
		    "your certificate is not accepted: %s%s",
		    X509_verify_cert_error_string(v),
		    v == X509_V_ERR_CERT_HAS_EXPIRED
		        ? " (enroll again with your password)"
		        : "");
		audit(c, FERRY_EV_REFUSED, NULL, serial, msg);
		fail(c, 403, "Forbidden", msg);
		goto out;
	}
	if ((r = ferry_cert_id(cert, id)) != 0) {
		fail(c, 403, "Forbidden",
		    "your certificate names no ferry member");
		goto out;
	}
	snprintf(c->user, sizeof(c->user), "%s", id);
	if ((r = ferry_ca_check(a->ca, cert)) != 0) {
		snprintf(msg, sizeof(msg), "renewal refused: %s",
		    ferry_err_detail(r));
		audit(c, FERRY_EV_REFUSED, id, serial, msg);
		fail(c, 403, "Forbidden", msg);
		goto out;
	}
	if ((r = ferry_store_user_hash(a->st, id, hash)) != 0) {
		snprintf(msg, sizeof(msg), "renewal refused: %s",
		    r == FERRY_E_NOENT ? "the account no longer exists"
		                       : "account database unavailable");
		audit(c, FERRY_EV_REFUSED, id, serial, msg);
		fail(c, r == FERRY_E_NOENT ? 403 : 500,
		    r == FERRY_E_NOENT ? "Forbidden" : "Internal Server Error",
		    msg);
		goto out;
	}
	if (account_enabled(c, id, serial) != 0 || body_csr(c, &csr) != 0)
		goto out;
	issue(c, csr, id, FERRY_EV_RENEW);
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	OPENSSL_free(serial);
	X509_free(cert);
	X509_REQ_free(csr);
}

static void
h_cacerts(struct call *c)
{
	reply(c, 200, "OK", CT_CERTS, c->a->cacerts, c->a->cacerts_len, NULL);
}

/* RFC 7030 4.5.2: 204, no CSR attributes are asked for. */
static void
h_csrattrs(struct call *c)
{
	reply(c, 204, "No Content", "application/csrattrs", NULL, 0, NULL);
}

/* The CRL, re-signed when the index changed or half its life is gone. */
static int
crl_refresh(struct authd *a)
{
	X509_CRL *crl = NULL;
	unsigned char *der = NULL;
	char *pem = NULL;
	size_t pem_len = 0;
	long long stamp = 0;
	time_t now = time(NULL);
	int n, r;

	if ((r = ferry_ca_index_stamp(a->ca, &stamp)) != 0)
		return r;
	if (a->crl != NULL && stamp == a->crl_stamp &&
	    now - a->crl_made < (time_t)a->cfg->crl_days * 86400 / 2)
		return 0;
	if ((r = ferry_ca_crl(a->ca, a->cfg->crl_days, &crl)) != 0)
		return r;
	n = i2d_X509_CRL(crl, &der);
	r = ferry_crl_pem(crl, &pem, &pem_len);
	X509_CRL_free(crl);
	if (n <= 0 || r != 0) {
		ferry_log_openssl();
		OPENSSL_free(der);
		free(pem);
		return ferry_errf(FERRY_E_CRYPTO, "cannot encode the CRL");
	}
	OPENSSL_free(a->crl);
	a->crl = der;
	a->crl_len = n;
	free(a->crl_pem);
	a->crl_pem = pem;
	a->crl_pem_len = pem_len;
	a->crl_made = now;
	/* Signing moved crlnumber on: remember the state after our own write. */
	if (ferry_ca_index_stamp(a->ca, &stamp) != 0)
		stamp = 0;
	ferry_err_clear();
	a->crl_stamp = stamp;
	return 0;
}

static void
h_crl(struct call *c)
{
	int r;

	if ((r = crl_refresh(c->a)) != 0) {
		ferry_error_r(r, "authd: cannot make the CRL");
		fail(c, 500, "Internal Server Error", "cannot make the CRL");
		return;
	}
	reply(c, 200, "OK", "application/pkix-crl", c->a->crl,
	    (size_t)c->a->crl_len, NULL);
}

/*
 * Every level's CRL as PEM, ours first, then (under an issuing CA) the
 * root's, from DIR/root-crl.pem and checked each time: `ferry crl update`
 * installs this as crl.pem, and so can `curl -o crl.pem`.
 */
static void
h_crl_pem(struct call *c)
{
	struct authd *a = c->a;
	struct ferry_buf out;
	X509_CRL *root = NULL;
	char *pem = NULL;
	size_t len = 0;
	int r;

	ferry_buf_init_public(&out, FERRY_EST_MAX_CRL);
	if ((r = crl_refresh(a)) != 0) {
		ferry_error_r(r, "authd: cannot make the CRL");
		fail(c, 500, "Internal Server Error", "cannot make the CRL");
		goto out;
	}
	if ((r = ferry_ca_root_crl(a->ca, &root)) != 0) {
		ferry_error_r(r, "authd: cannot serve the root's CRL");
		fail(c, 503, "Service Unavailable",
		    "authd's copy of the root CA's CRL is missing, stale or "
		    "forged; ask the admin to refresh it");
		goto out;
	}
	if ((root != NULL && (r = ferry_crl_pem(root, &pem, &len)) != 0) ||
	    (r = ferry_buf_put(&out, a->crl_pem, a->crl_pem_len)) != 0 ||
	    (r = ferry_buf_put(&out, pem, len)) != 0) {
		ferry_error_r(r, "authd: cannot encode the CRLs");
		fail(c, 500, "Internal Server Error", "cannot encode the CRLs");
		goto out;
	}
	reply(c, 200, "OK", "application/x-pem-file", out.data, out.len, NULL);
out:
	free(pem);
	X509_CRL_free(root);
	ferry_buf_free(&out);
}

static const struct route {
	const char *path;
	enum evhttp_cmd_type method;
	void (*handle)(struct call *c);
} routes[] = {
    {EST_PREFIX "cacerts", EVHTTP_REQ_GET, h_cacerts},
    {EST_PREFIX "simpleenroll", EVHTTP_REQ_POST, h_enroll},
    {EST_PREFIX "simplereenroll", EVHTTP_REQ_POST, h_reenroll},
    {EST_PREFIX "csrattrs", EVHTTP_REQ_GET, h_csrattrs},
    {"/crl", EVHTTP_REQ_GET, h_crl},
    {"/crl.pem", EVHTTP_REQ_GET, h_crl_pem},
};

/* The connection a request came on, NULL if that cannot be told. */
static struct conn *
req_conn(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev =
	    evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
	SSL *ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;

	return ssl != NULL ? SSL_get_ex_data(ssl, conn_index) : NULL;
}

static void
dispatch(struct evhttp_request *req, void *arg)
{
	struct call c;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *host = NULL;
	ev_uint16_t port = 0;
	int found = 0;

	memset(&c, 0, sizeof(c));
	c.a = arg;
	c.req = req;
	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &host, &port);
	snprintf(c.addr, sizeof(c.addr), "%s", host != NULL ? host : "?");
	c.path = uri != NULL && evhttp_uri_get_path(uri) != NULL
	             ? evhttp_uri_get_path(uri)
	             : "?";
	/* Its handshake ended while --max-conns sessions ran. */
	if (req_conn(req) != NULL && req_conn(req)->busy) {
		char msg[128];

		snprintf(msg, sizeof(msg),
		    "authd is busy (%d connections); try again later",
		    c.a->cfg->max_conns);
		evhttp_add_header(
		    evhttp_request_get_output_headers(req), "Retry-After", "5");
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		fail(&c, 503, "Service Unavailable", msg);
		return;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(c.path, routes[i].path) != 0)
			continue;
		found = 1;
		if (evhttp_request_get_command(req) != routes[i].method)
			continue;
		routes[i].handle(&c);
		return;
	}
	c.path = found ? c.path : "(unknown)";
	if (found) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, POST");
		fail(&c, 405, "Method Not Allowed", "method not allowed");
	} else {
		fail(&c, 404, "Not Found",
		    "no such resource; EST is under /.well-known/est/");
	}
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct authd *a = arg;

	(void)what;
	ferry_notify_stopping();
	ferry_info("authd: signal %d, stopping", (int)sig);
	event_base_loopexit(a->base, NULL);
}

static void
say_ready(const struct authd *a)
{
	char status[sizeof(a->bound) + 32];

	snprintf(status, sizeof(status), "listening on %s", a->bound);
	ferry_notify_ready(status);
}

/* 1 if the lists a (na) and b (nb) hold the same strings in order. */
static int
same_list(const char *const *x, size_t nx, const char *const *y, size_t ny)
{
	if (nx != ny)
		return 0;
	for (size_t i = 0; i < nx; i++)
		if (strcmp(x[i], y[i]) != 0)
			return 0;
	return 1;
}

/* What only a restart can change: said, and the value in use stays. */
static void
fixed_changed(const struct authd_cfg *now, const struct authd_cfg *next)
{
	const char *what[6];
	int n = 0;

	if (strcmp(now->ca_dir, next->ca_dir) != 0)
		what[n++] = "ca-dir";
	if (strcmp(now->db_path, next->db_path) != 0)
		what[n++] = "db";
	if (strcmp(now->listen, next->listen) != 0)
		what[n++] = "listen";
	if (!same_list(now->names, now->n_names, next->names, next->n_names))
		what[n++] = "name";
	if (now->allow_tls12 != next->allow_tls12)
		what[n++] = "allow-tls12";
	if (memcmp(&now->admit, &next->admit, sizeof(now->admit)) != 0)
		what[n++] = "max-startups, per-source or login-grace";
	for (int i = 0; i < n; i++)
		ferry_warn("authd: reload: %s changed: restart ferry-authd to "
		           "apply it; keeping the value in use",
		    what[i]);
}

/* The live settings of next: kept, with a copy of the --allow-dns list. */
static void
apply_live(struct authd *a, const struct authd_cfg *next)
{
	char **copy = calloc(next->n_allow_dns + 1, sizeof(*copy));
	size_t i;

	for (i = 0; copy != NULL && i < next->n_allow_dns; i++)
		if ((copy[i] = strdup(next->allow_dns[i])) == NULL)
			break;
	if (copy == NULL || i < next->n_allow_dns) {
		for (size_t j = 0; copy != NULL && j < i; j++)
			free(copy[j]);
		free(copy);
		ferry_warn("authd: reload: out of memory; keeping the "
		           "configuration in use");
		return;
	}
	for (i = 0; a->allow_dns != NULL && a->allow_dns[i] != NULL; i++)
		free(a->allow_dns[i]);
	free(a->allow_dns);
	a->allow_dns = copy;
	a->in_force.allow_dns = (const char *const *)copy;
	a->in_force.n_allow_dns = next->n_allow_dns;
	a->in_force.cert_days = next->cert_days;
	a->in_force.crl_days = next->crl_days;
	a->in_force.max_conns = next->max_conns;
	a->in_force.timeout_s = next->timeout_s;
	evhttp_set_timeout(a->http, next->timeout_s);
	/* A higher --max-conns may make room at once. */
	if (a->paused && a->live < conn_cap(a) && a->listener != NULL) {
		evconnlistener_enable(a->listener);
		a->paused = 0;
	}
}

/* SIGHUP: the configuration file again; RELOADING=1, then READY=1. */
static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct authd *a = arg;
	struct authd_cfg next;
	char why[1024] = "";

	(void)sig;
	(void)what;
	ferry_notify_reloading();
	if (a->cfg->reload == NULL || a->cfg->config == NULL)
		ferry_info("authd: SIGHUP: no --config file to read again");
	else if (a->cfg->reload(&next, why, sizeof(why)) != 0)
		ferry_warn(
		    "authd: reload: %s; keeping the configuration in use", why);
	else {
		fixed_changed(a->cfg, &next);
		apply_live(a, &next);
		ferry_info("authd: reload: %s applied: certificates for %d "
		           "days, CRL for %d days",
		    a->cfg->config, a->cfg->cert_days, a->cfg->crl_days);
	}
	say_ready(a);
}

/* Adds name, normalized, to authd's own names unless it is there already. */
static void
own_name_add(struct authd *a, const char *name)
{
	char norm[FERRY_MAX_HOSTNAME + 1];
	enum ferry_host_kind kind;

	if (ferry_host_normalize(name, norm, &kind) != 0) {
		ferry_err_clear();
		return;
	}
	/* The unspecified address is nobody's name. */
	if (strcmp(norm, "0.0.0.0") == 0 || strcmp(norm, "::") == 0)
		return;
	for (size_t i = 0; i < a->n_own; i++)
		if (strcmp(a->own[i].name, norm) == 0)
			return;
	if (a->n_own < MAX_SERVER_NAMES) {
		memcpy(a->own[a->n_own].name, norm, sizeof(norm));
		a->own[a->n_own++].kind = kind;
	}
}

/*
 * authd's own names: --name, the listen address and, listening on every
 * address, this machine's host name. They go in its certificate and are
 * reserved in the account database, so no member can ever hold one.
 */
static int
own_names(struct authd *a)
{
	const char *host = a->cfg->listen_host;
	char hostname[256];
	int r;

	for (size_t i = 0; i < a->cfg->n_names; i++)
		own_name_add(a, a->cfg->names[i]);
	own_name_add(a, host);
	if ((strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
	        *host == '\0') &&
	    gethostname(hostname, sizeof(hostname)) == 0) {
		hostname[sizeof(hostname) - 1] = '\0';
		own_name_add(a, hostname);
	}
	for (size_t i = 0; i < a->n_own; i++)
		if ((r = ferry_store_name_reserve(
		         a->st, a->own[i].name, "authd")) != 0)
			return ferry_errf(
			    r, "authd's own name %s", ferry_err_detail(r));
	return 0;
}

/* A fresh key and certificate for authd itself, in memory only. */
static int
server_identity(struct authd *a)
{
	const char *dns[MAX_SERVER_NAMES], *ips[MAX_SERVER_NAMES];
	struct ferry_cert_req req;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char *serial = NULL;
	int r;

	memset(&req, 0, sizeof(req));
	req.dns = dns;
	req.ips = ips;
	for (size_t i = 0; i < a->n_own; i++) {
		if (a->own[i].kind == FERRY_HOST_IP)
			ips[req.n_ips++] = a->own[i].name;
		else
			dns[req.n_dns++] = a->own[i].name;
	}
	req.id = SERVER_CN;
	req.server_only = 1;
	req.days = SERVER_DAYS;
	if ((r = ferry_key_generate(FERRY_KEY_P256, &key)) != 0 ||
	    (r = ferry_ca_sign(a->ca, key, &req, &cert)) != 0)
		goto out;
	/* Under an issuing CA the chain goes with it: clients trust the root. */
	if (SSL_CTX_use_certificate(a->ctx, cert) != 1 ||
	    SSL_CTX_clear_chain_certs(a->ctx) != 1 ||
	    (ferry_ca_root(a->ca) != NULL &&
	        SSL_CTX_add1_chain_cert(a->ctx, ferry_ca_cert(a->ca)) != 1) ||
	    SSL_CTX_use_PrivateKey(a->ctx, key) != 1 ||
	    SSL_CTX_check_private_key(a->ctx) != 1) {
		ferry_log_openssl();
		r = ferry_errf(
		    FERRY_E_CRYPTO, "cannot use authd's certificate");
		goto out;
	}
	a->server_until = asn1_time_t(X509_get0_notAfter(cert));
	if (ferry_cert_serial_hex(cert, &serial) == 0)
		ferry_info("authd: server certificate serial %s for %zu DNS "
		           "names and %zu addresses, valid %d days",
		    serial, req.n_dns, req.n_ips, SERVER_DAYS);
	r = 0;
out:
	OPENSSL_free(serial);
	X509_free(cert);
	EVP_PKEY_free(key);
	return r;
}

/* A long-running authd re-issues its own certificate before it expires. */
static void
on_server_check(evutil_socket_t fd, short what, void *arg)
{
	struct authd *a = arg;
	int r;

	(void)fd;
	(void)what;
	root_crl_watch(a);
	if (a->server_until - time(NULL) > (time_t)SERVER_RENEW_DAYS * 86400)
		return;
	if ((r = server_identity(a)) != 0)
		ferry_error_r(r, "authd: cannot renew the server certificate");
}

static int
tls_setup(struct authd *a)
{
	X509 *ca = ferry_ca_cert(a->ca);

	if ((a->ctx = SSL_CTX_new(TLS_server_method())) != NULL)
		ferry_tls_keylog(a->ctx);
	if (a->ctx == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(a->ctx,
	        a->cfg->allow_tls12 ? TLS1_2_VERSION : TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(a->ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(a->ctx, CIPHERSUITES) != 1 ||
	    SSL_CTX_set_cipher_list(a->ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set1_groups_list(a->ctx, GROUPS) != 1)
		goto fail;
	SSL_CTX_set_options(
	    a->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	                SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(a->ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_set_num_tickets(a->ctx, 0) != 1)
		goto fail;
	/* Client certificates (simplereenroll): asked for, not required. */
	if ((ferry_ca_root(a->ca) != NULL &&
	        X509_STORE_add_cert(SSL_CTX_get_cert_store(a->ctx),
	            ferry_ca_root(a->ca)) != 1) ||
	    X509_STORE_add_cert(SSL_CTX_get_cert_store(a->ctx), ca) != 1 ||
	    SSL_CTX_add_client_CA(a->ctx, ca) != 1 ||
	    SSL_CTX_set_purpose(a->ctx, X509_PURPOSE_SSL_CLIENT) != 1)
		goto fail;
	SSL_CTX_set_verify(a->ctx, SSL_VERIFY_PEER, verify_later);
	/* A connection leaves the handshake pool when this says done. */
	SSL_CTX_set_info_callback(a->ctx, on_tls_info);
	SSL_CTX_set_verify_depth(a->ctx, 4);
	return 0;
fail:
	ferry_log_openssl();
	return ferry_errf(FERRY_E_CRYPTO, "cannot set up TLS");
}

static void
authd_free(struct authd *a)
{
	/* Connections closing now must not re-enable a freed listener. */
	a->listener = NULL;
	a->paused = 0;
	if (a->http != NULL)
		evhttp_free(a->http);
	if (a->base != NULL)
		event_base_free(a->base);
	SSL_CTX_free(a->ctx);
	ferry_ca_free(a->ca);
	ferry_store_close(a->st);
	ratelimit_free(a->rl_user);
	ratelimit_free(a->rl_addr);
	ferry_admit_free(a->pool);
	a->pool = NULL;
	for (size_t i = 0; a->allow_dns != NULL && a->allow_dns[i] != NULL; i++)
		free(a->allow_dns[i]);
	free(a->allow_dns);
	a->allow_dns = NULL;
	free(a->cacerts);
	OPENSSL_free(a->crl);
	free(a->crl_pem);
}

int
authd_run(const struct authd_cfg *cfg)
{
	struct authd a;
	struct evhttp_bound_socket *bound_sock;
	struct event *sigterm = NULL, *sigint = NULL, *sighup = NULL;
	struct event *check = NULL;
	struct timeval every = {SERVER_CHECK_SECS, 0};
	char bound[FERRY_MAX_HOST + 16];
	X509 *ca_certs[2];
	X509_CRL *root_crl = NULL;
	int fd = -1, r;

	memset(&a, 0, sizeof(a));
	a.in_force = *cfg;
	a.cfg = &a.in_force;
	cfg = a.cfg;
	if (conn_index < 0 && (conn_index = SSL_get_ex_new_index(
	                           0, NULL, NULL, NULL, conn_gone)) < 0) {
		r = ferry_errf(FERRY_E_CRYPTO, "cannot set up TLS");
		goto out;
	}
	/*
	 * Root's part: the CA's key and the socket. Then the user switch and
	 * Landlock, before anything is written (authd_confine).
	 */
	if ((r = ferry_ca_load(cfg->ca_dir, &a.ca)) != 0 ||
	    (r = ferry_ca_root_crl(a.ca, &root_crl)) != 0 ||
	    (r = ferry_net_listen(cfg->listen, &fd, bound, sizeof(bound))) !=
	        0 ||
	    (r = authd_confine(cfg)) != 0 ||
	    (r = ferry_store_open(cfg->db_path, 1, &a.st)) != 0)
		goto out;
	/* RFC 7030 4.1.3: the issuing CA and the root it chains to. */
	ca_certs[0] = ferry_ca_cert(a.ca);
	ca_certs[1] = ferry_ca_root(a.ca);
	if ((r = ferry_est_certs_encode(ca_certs, ca_certs[1] != NULL ? 2 : 1,
	         &a.cacerts, &a.cacerts_len)) != 0 ||
	    (r = tls_setup(&a)) != 0 || (r = own_names(&a)) != 0 ||
	    (r = server_identity(&a)) != 0 || (r = crl_refresh(&a)) != 0)
		goto out;
	if ((r = ferry_admit_new(&cfg->admit, &a.pool)) != 0)
		goto out;
	if ((a.rl_user = ratelimit_new(USER_THRESHOLD, RATE_ENTRIES)) == NULL ||
	    (a.rl_addr = ratelimit_new(ADDR_THRESHOLD, RATE_ENTRIES)) == NULL) {
		r = ferry_errf(FERRY_E_NOMEM, "out of memory");
		goto out;
	}
	if ((a.base = event_base_new()) == NULL ||
	    (a.http = evhttp_new(a.base)) == NULL) {
		r = ferry_errf(FERRY_E_NOMEM, "cannot set up the event loop");
		goto out;
	}
	evhttp_set_bevcb(a.http, new_conn, &a);
	evhttp_set_gencb(a.http, dispatch, &a);
	evhttp_set_max_body_size(a.http, FERRY_EST_MAX_BODY);
	evhttp_set_max_headers_size(a.http, MAX_HEADERS);
	evhttp_set_timeout(a.http, cfg->timeout_s);
	evhttp_set_allowed_methods(a.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_default_content_type(a.http, "text/plain; charset=utf-8");
	if (evutil_make_socket_nonblocking(fd) != 0 ||
	    (bound_sock = evhttp_accept_socket_with_handle(a.http, fd)) ==
	        NULL) {
		r = ferry_errf(FERRY_E_IO, "%s: cannot serve HTTP", bound);
		goto out;
	}
	fd = -1; /* evhttp's now */
	a.listener = evhttp_bound_socket_get_listener(bound_sock);
	if ((sigterm = evsignal_new(a.base, SIGTERM, on_signal, &a)) == NULL ||
	    (sigint = evsignal_new(a.base, SIGINT, on_signal, &a)) == NULL ||
	    evsignal_add(sigterm, NULL) != 0 ||
	    evsignal_add(sigint, NULL) != 0 ||
	    (sighup = evsignal_new(a.base, SIGHUP, on_hup, &a)) == NULL ||
	    evsignal_add(sighup, NULL) != 0 ||
	    (check = event_new(a.base, -1, EV_PERSIST, on_server_check, &a)) ==
	        NULL ||
	    event_add(check, &every) != 0) {
		r = ferry_errf(FERRY_E_INTERNAL, "cannot catch signals");
		goto out;
	}
	ferry_info("authd: CA %s, accounts %s, certificates for %d days",
	    cfg->ca_dir, cfg->db_path, cfg->cert_days);
	ferry_info("authd: listening on %s", bound);
	snprintf(a.bound, sizeof(a.bound), "%s", bound);
	root_crl_watch(&a);
	say_ready(&a);
	if (event_base_dispatch(a.base) != 0) {
		r = ferry_errf(FERRY_E_INTERNAL, "the event loop failed");
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	if (sighup != NULL)
		event_free(sighup);
	if (check != NULL)
		event_free(check);
	X509_CRL_free(root_crl);
	authd_free(&a);
	return r;
}
