/* estc.c - HTTPS requests to authd on libcurl, ferry's TLS policy applied to
 * curl's SSL_CTX; https_proxy/no_proxy honoured. docs/internals/est.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/http.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ferry/buf.h"
#include "ferry/est.h"
#include "ferry/estc.h"
#include "ferry/log.h"
#include "ferry/net.h"
#include "ferry/pki.h"
#include "ferry/rd.h"
#include "ferry/tls.h"

#define CIPHERSUITES                                     \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
	"TLS_CHACHA20_POLY1305_SHA256"
/* One answer's body: a CRL is the largest thing authd sends. */
#define MAX_ANSWER FERRY_EST_MAX_CRL
/* What we quote of a server's text/plain explanation. */
#define MAX_QUOTE 300
/* A proxy URL from the environment, credentials included. */
#define MAX_PROXY 1024

struct ferry_estc {
	char host[FERRY_MAX_HOST + 1];
	int port;
	char where[FERRY_MAX_HOST + 16];
	char base[FERRY_MAX_HOST + 24]; /* https://HOST:PORT */
	int timeout_s;
	X509 *ca; /* NULL: trust nothing, verify nothing (/cacerts) */
	EVP_PKEY *key; /* the TLS client identity, for simplereenroll */
	X509 *cert;
	char *proxy; /* the proxy URL as given (may hold credentials) */
	char proxy_shown[FERRY_MAX_HOST + 40]; /* scheme://host:port only */
	const char *proxy_env; /* the variable it came from */
	int proxy_tls; /* an https:// proxy: a TLS connection of its own */
};

/* What one request brought back. */
struct answer {
	struct ferry_estc *c;
	long status; /* 0: no HTTP answer */
	struct ferry_buf body;
	int too_big;
	int origin_tls; /* the TLS set-up for authd (not the proxy) ran */
	char retry_after[16];
	char verify[256]; /* why the server's certificate was refused */
	char errbuf[CURL_ERROR_SIZE];
};

static int verify_index = -1;

/*
 * curl would open SSLKEYLOGFILE itself at its own initialization (0644,
 * through symbolic links): hidden from it, ferry's keylog (tls.c) writes.
 */
int
ferry_estc_global_init(void)
{
	const char *v = getenv("SSLKEYLOGFILE");
	char *keylog = v != NULL ? strdup(v) : NULL;
	CURLcode cc;

	if (v != NULL && keylog == NULL)
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	if (keylog != NULL)
		unsetenv("SSLKEYLOGFILE");
	cc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (keylog != NULL && setenv("SSLKEYLOGFILE", keylog, 1) != 0)
		cc = CURLE_OUT_OF_MEMORY;
	free(keylog);
	if (cc != CURLE_OK)
		return ferry_errf(
		    FERRY_E_INTERNAL, "cannot initialize libcurl");
	return 0;
}

void
ferry_estc_global_cleanup(void)
{
	curl_global_cleanup();
}

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
	    ssl != NULL
	        ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), verify_index)
	        : NULL;
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

/* host (no brackets) against one no_proxy entry: a name, IP or CIDR. */
static int
noproxy_entry(const char *host, const char *tok, size_t n)
{
	unsigned char a[16], b[16];
	char t[FERRY_MAX_HOST + 8], *slash, *end;
	size_t hl = strlen(host);
	long bits;
	int fam;

	if (n == 0 || n >= sizeof(t))
		return 0;
	memcpy(t, tok, n);
	t[n] = '\0';
	if (t[0] == '[' && (slash = strchr(t, ']')) != NULL) {
		memmove(slash, slash + 1, strlen(slash + 1) + 1);
		memmove(t, t + 1, strlen(t));
	}
	fam = strchr(host, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(fam, host, a) == 1) {
		bits = fam == AF_INET ? 32 : 128;
		if ((slash = strchr(t, '/')) != NULL) {
			*slash = '\0';
			if (slash[1] < '0' || slash[1] > '9' ||
			    (bits = strtol(slash + 1, &end, 10)) < 0 ||
			    *end != '\0')
				return 0;
		}
		if (inet_pton(fam, t, b) != 1 || bits < 0 ||
		    bits > (fam == AF_INET ? 32 : 128))
			return 0;
		for (long i = 0; i < bits; i++)
			if (((a[i / 8] ^ b[i / 8]) >> (7 - i % 8)) & 1)
				return 0;
		return 1;
	}
	while (t[0] == '.')
		memmove(t, t + 1, strlen(t));
	n = strlen(t);
	if (n > 0 && t[n - 1] == '.')
		t[--n] = '\0';
	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (n == 0 || n > hl)
		return 0;
	return strncasecmp(host + hl - n, t, n) == 0 &&
	       (n == hl || host[hl - n - 1] == '.');
}

/* As curl: "*" bypasses every proxy; else entries separated by , or space. */
static int
noproxy_match(const char *host, const char *list)
{
	const char *p = list;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strcmp(p, "*") == 0)
		return 1;
	while (*p != '\0') {
		size_t n = strcspn(p, ", \t");

		if (noproxy_entry(host, p, n))
			return 1;
		p += n;
		p += strspn(p, ", \t");
	}
	return 0;
}

static const char *
env_first(const char *const *names, const char **which)
{
	for (size_t i = 0; names[i] != NULL; i++) {
		const char *v = getenv(names[i]);

		if (v != NULL && *v != '\0') {
			*which = names[i];
			return v;
		}
	}
	return NULL;
}

/* c->proxy_shown: the proxy's scheme, host and port, never its userinfo. */
static int
proxy_parse(struct ferry_estc *c, const char *raw)
{
	static const char *const schemes[] = {
	    "http", "https", "socks4", "socks4a", "socks5", "socks5h", NULL};
	char *scheme = NULL, *host = NULL, *port = NULL;
	CURLU *u = NULL;
	size_t i;
	int r = FERRY_E_NOMEM;

	if (strlen(raw) > MAX_PROXY)
		return ferry_errf(FERRY_E_USAGE,
		    "%s: the proxy URL is too long", c->proxy_env);
	/* curl takes a proxy without a scheme as http://. */
	if ((c->proxy = malloc(strlen(raw) + 8)) == NULL)
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	snprintf(c->proxy, strlen(raw) + 8, "%s%s",
	    strstr(raw, "://") != NULL ? "" : "http://", raw);
	if ((u = curl_url()) == NULL)
		goto out;
	r = FERRY_E_USAGE;
	if (curl_url_set(u, CURLUPART_URL, c->proxy,
	        CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		r = ferry_errf(FERRY_E_USAGE,
		    "%s: not a proxy URL (give http://HOST:PORT)",
		    c->proxy_env);
		goto out;
	}
	for (i = 0; schemes[i] != NULL && strcmp(schemes[i], scheme) != 0;)
		i++;
	if (schemes[i] == NULL) {
		r = ferry_errf(FERRY_E_USAGE,
		    "%s: a proxy URL starts with http://, https:// or "
		    "socks5://",
		    c->proxy_env);
		goto out;
	}
	c->proxy_tls = strcmp(scheme, "https") == 0;
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL; /* curl's default: 1080, or 443 for https:// */
	snprintf(c->proxy_shown, sizeof(c->proxy_shown), "%s://%.*s:%s", scheme,
	    FERRY_MAX_HOST, host,
	    port != NULL   ? port
	    : c->proxy_tls ? "443"
	                   : "1080");
	ferry_sanitize(c->proxy_shown);
	r = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return r;
}

/*
 * The proxy for authd's host as curl would choose it: https_proxy, then
 * HTTPS_PROXY, all_proxy, ALL_PROXY; none if no_proxy (or NO_PROXY) names
 * the host. Chosen here, not by curl, so that errors can name it.
 */
static int
proxy_pick(struct ferry_estc *c)
{
	static const char *const proxies[] = {
	    "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", NULL};
	static const char *const noproxies[] = {"no_proxy", "NO_PROXY", NULL};
	const char *raw, *list, *which = NULL;
	int r;

	if ((raw = env_first(proxies, &c->proxy_env)) == NULL)
		return 0;
	if ((list = env_first(noproxies, &which)) != NULL &&
	    noproxy_match(c->host, list)) {
		ferry_debug("%s: no proxy (%s names it)", c->where, which);
		return 0;
	}
	if ((r = proxy_parse(c, raw)) != 0)
		return r; /* ferry_estc_free wipes c->proxy */
	ferry_debug("%s: through the proxy %s (from %s)", c->where,
	    c->proxy_shown, c->proxy_env);
	return 0;
}

/* RFC 3986 pieces we accept: scheme https, host, optional port, path "/". */
static int
url_parse(struct ferry_estc *c, const char *url)
{
	struct evhttp_uri *u;
	const char *host, *path;
	char portstr[8];
	int r;

	if ((u = evhttp_uri_parse_with_flags(url, 0)) == NULL)
		return ferry_errf(FERRY_E_USAGE, "'%s' is not a URL", url);
	host = evhttp_uri_get_host(u);
	path = evhttp_uri_get_path(u);
	r = FERRY_E_USAGE;
	if (evhttp_uri_get_scheme(u) == NULL ||
	    strcasecmp(evhttp_uri_get_scheme(u), "https") != 0) {
		r = ferry_errf(FERRY_E_USAGE,
		    "'%s': authd speaks https://HOST:PORT only", url);
	} else if (host == NULL || *host == '\0' ||
	           strlen(host) > FERRY_MAX_HOST ||
	           evhttp_uri_get_userinfo(u) != NULL ||
	           evhttp_uri_get_query(u) != NULL ||
	           evhttp_uri_get_fragment(u) != NULL ||
	           (path != NULL && *path != '\0' && strcmp(path, "/") != 0)) {
		r = ferry_errf(FERRY_E_USAGE,
		    "'%s': give https://HOST[:PORT] and nothing more", url);
	} else {
		/* evhttp keeps an IPv6 literal's brackets in the host. */
		if (host[0] == '[' && host[strlen(host) - 1] == ']')
			snprintf(c->host, sizeof(c->host), "%.*s",
			    (int)strlen(host) - 2, host + 1);
		else
			snprintf(c->host, sizeof(c->host), "%s", host);
		c->port =
		    evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 443;
		snprintf(portstr, sizeof(portstr), "%d", c->port);
		ferry_addr_format(c->host, portstr, c->where, sizeof(c->where));
		snprintf(c->base, sizeof(c->base), "https://%s%s%s:%d",
		    strchr(c->host, ':') != NULL ? "[" : "", c->host,
		    strchr(c->host, ':') != NULL ? "]" : "", c->port);
		r = 0;
	}
	evhttp_uri_free(u);
	return r;
}

int
ferry_estc_new(const char *url, int timeout_s, struct ferry_estc **out)
{
	const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
	struct ferry_estc *c;
	int r;

	*out = NULL;
	/* Our TLS policy goes into curl's SSL_CTX: it must be OpenSSL's. */
	if (vi == NULL || vi->ssl_version == NULL ||
	    strncmp(vi->ssl_version, "OpenSSL/", 8) != 0)
		return ferry_errf(FERRY_E_INTERNAL,
		    "libcurl is not built on OpenSSL (%s); ferry needs "
		    "Debian's libcurl4 (libcurl4-openssl-dev)",
		    vi != NULL && vi->ssl_version != NULL ? vi->ssl_version
		                                          : "no TLS");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	c->timeout_s = timeout_s > 0 ? timeout_s : 30;
	if ((r = url_parse(c, url)) != 0 || (r = proxy_pick(c)) != 0) {
		ferry_estc_free(c);
		return r;
	}
	if (verify_index < 0 && (verify_index = SSL_CTX_get_ex_new_index(
	                             0, "ferry estc", NULL, NULL, NULL)) < 0) {
		ferry_estc_free(c);
		return ferry_errf(FERRY_E_CRYPTO, "cannot set up TLS");
	}
	*out = c;
	return 0;
}

void
ferry_estc_free(struct ferry_estc *c)
{
	if (c == NULL)
		return;
	if (c->proxy != NULL)
		OPENSSL_clear_free(c->proxy, strlen(c->proxy));
	X509_free(c->ca);
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
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
	if (X509_up_ref(ca) != 1)
		return ferry_errf(FERRY_E_CRYPTO, "cannot set up TLS");
	X509_free(c->ca);
	c->ca = ca;
	return 0;
}

int
ferry_estc_identity(struct ferry_estc *c, EVP_PKEY *key, X509 *cert)
{
	if (X509_check_private_key(cert, key) != 1) {
		ferry_log_openssl();
		return ferry_errf(FERRY_E_CERT,
		    "the identity's key does not belong to its certificate");
	}
	if (X509_up_ref(cert) != 1 || EVP_PKEY_up_ref(key) != 1)
		return ferry_errf(FERRY_E_CRYPTO, "cannot set up TLS");
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
	c->cert = cert;
	c->key = key;
	return 0;
}

/* Only the pinned CA (never the system's), the URL's host, authd's EKU. */
static int
ctx_trust(SSL_CTX *ctx, const struct ferry_estc *c)
{
	X509_VERIFY_PARAM *pm = SSL_CTX_get0_param(ctx);
	X509_STORE *store;

	if ((store = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(store, c->ca) != 1) {
		X509_STORE_free(store);
		return -1;
	}
	SSL_CTX_set_cert_store(ctx, store);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_verify_depth(ctx, 4);
	if (SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) != 1)
		return -1;
	if (ferry_host_is_ip(c->host))
		return X509_VERIFY_PARAM_set1_ip_asc(pm, c->host) == 1 ? 0 : -1;
	return X509_VERIFY_PARAM_set1_host(pm, c->host, 0) == 1 ? 0 : -1;
}

/*
 * curl's SSL_CTX, before each TLS connection. An https:// proxy's own
 * connection (TLS 1.2 allowed, see request) keeps curl's defaults: the
 * system's CAs and the proxy's name. authd's (TLS 1.3 only) gets ours.
 */
static CURLcode
ssl_ctx_cb(CURL *curl, void *sslctx, void *arg)
{
	struct answer *ans = arg;
	const struct ferry_estc *c = ans->c;
	SSL_CTX *ctx = sslctx;

	(void)curl;
	if (SSL_CTX_get_min_proto_version(ctx) != TLS1_3_VERSION)
		return CURLE_OK;
	ans->origin_tls = 1;
	if (SSL_CTX_set_ciphersuites(ctx, CIPHERSUITES) != 1 ||
	    SSL_CTX_set_ex_data(ctx, verify_index, ans) != 1)
		goto fail;
	SSL_CTX_set_options(ctx,
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
	if (c->ca == NULL)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	else if (ctx_trust(ctx, c) != 0)
		goto fail;
	if (c->key != NULL && (SSL_CTX_use_certificate(ctx, c->cert) != 1 ||
	                          SSL_CTX_use_PrivateKey(ctx, c->key) != 1))
		goto fail;
	ferry_tls_keylog(ctx);
	return CURLE_OK;
fail:
	ferry_log_openssl();
	return CURLE_SSL_CERTPROBLEM;
}

/* The body, refused past MAX_ANSWER (curl then stops: CURLE_WRITE_ERROR). */
static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct answer *ans = arg;

	(void)size; /* always 1 */
	if (ferry_buf_put(&ans->body, p, n) != 0) {
		ans->too_big = 1;
		return 0;
	}
	return n;
}

/* Each header line of the answer: only Retry-After is kept (est.c). */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct answer *ans = arg;
	char delay[FERRY_EST_MAX_RETRY + 1];

	(void)size; /* always 1 */
	if (ferry_est_retry_after(p, n, delay) == 0)
		snprintf(
		    ans->retry_after, sizeof(ans->retry_after), "%s", delay);
	ferry_err_clear();
	return n;
}

/* The OpenSSL reason in curl's error text ("error:0A000415:..."), or NULL. */
static const char *
tls_reason(const char *errbuf)
{
	const char *e = strstr(errbuf, "error:");
	unsigned long code;
	char *end;

	if (e == NULL)
		return NULL;
	code = strtoul(e + 6, &end, 16);
	if (end != e + 14 || *end != ':')
		return NULL;
	return ERR_reason_error_string(code);
}

/* The proxy could not give us a tunnel to authd. */
static int
proxy_fail(struct ferry_estc *c, CURLcode cc, long connect_code)
{
	if (cc == CURLE_COULDNT_RESOLVE_PROXY)
		return ferry_errf(FERRY_E_RESOLVE,
		    "%s: cannot resolve the proxy %s (from %s)", c->where,
		    c->proxy_shown, c->proxy_env);
	if (connect_code == 407)
		return ferry_errf(FERRY_E_CONNECT,
		    "%s: the proxy %s (from %s) wants credentials: give them "
		    "as http://USER:PASSWORD@HOST:PORT",
		    c->where, c->proxy_shown, c->proxy_env);
	if (connect_code >= 300)
		return ferry_errf(FERRY_E_CONNECT,
		    "%s: the proxy %s (from %s) refused the tunnel: HTTP %ld",
		    c->where, c->proxy_shown, c->proxy_env, connect_code);
	return ferry_errf(FERRY_E_CONNECT,
	    "%s: cannot connect to the proxy %s (from %s)", c->where,
	    c->proxy_shown, c->proxy_env);
}

/* Why a request got no HTTP answer, as one FERRY_E_* with a detail. */
static int
no_answer(struct ferry_estc *c, struct answer *ans, CURL *h, CURLcode cc)
{
	const char *reason = tls_reason(ans->errbuf);
	long connect_code = 0;

	if (ans->verify[0] != '\0')
		return ferry_errf(
		    FERRY_E_CERT, "%s: %s", c->where, ans->verify);
	curl_easy_getinfo(h, CURLINFO_HTTP_CONNECTCODE, &connect_code);
	if (c->proxy != NULL && !ans->origin_tls &&
	    (cc == CURLE_COULDNT_RESOLVE_PROXY || cc == CURLE_COULDNT_CONNECT ||
	        connect_code >= 300))
		return proxy_fail(c, cc, connect_code);
	if (c->proxy_tls && !ans->origin_tls &&
	    cc != CURLE_OPERATION_TIMEDOUT) {
		ferry_sanitize(ans->errbuf);
		return ferry_errf(FERRY_E_TLS, "%s: the proxy %s (from %s): %s",
		    c->where, c->proxy_shown, c->proxy_env, ans->errbuf);
	}
	if (reason != NULL)
		return ferry_errf(FERRY_E_TLS, "%s: TLS handshake failed: %s",
		    c->where, reason);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return ferry_errf(FERRY_E_TIMEOUT, "%s: no answer within %d s",
		    c->where, c->timeout_s);
	if (ans->too_big)
		return ferry_errf(
		    FERRY_E_PROTO, "%s: the answer is too large", c->where);
	if (cc == CURLE_COULDNT_RESOLVE_HOST)
		return ferry_errf(FERRY_E_RESOLVE, "%s: cannot resolve %s",
		    c->where, c->host);
	if (c->proxy != NULL)
		return ferry_errf(FERRY_E_CONNECT,
		    "%s: cannot connect through the proxy %s (from %s), or "
		    "the connection was closed",
		    c->where, c->proxy_shown, c->proxy_env);
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

/* Every option but the request itself: transport, TLS, proxy, bounds. */
static int
setup(CURL *h, struct ferry_estc *c, struct answer *ans)
{
	long t_ms = (long)c->timeout_s * 1000;
	int bad = 0;

#define SET(opt, val) bad |= curl_easy_setopt(h, opt, val) != CURLE_OK
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, ans->errbuf);
	/* https only, one connection per request, never a redirect. */
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
	/* Connect, then no byte for timeout_s, or three times that in all. */
	SET(CURLOPT_CONNECTTIMEOUT_MS, t_ms);
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, (long)c->timeout_s);
	SET(CURLOPT_TIMEOUT_MS, 3 * t_ms);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, ans);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, ans);
	/*
	 * TLS for authd is ours (ssl_ctx_cb): curl's checks off, TLS 1.3.
	 * The proxy's TLS (https://) is curl's, against the system's CAs.
	 */
	SET(CURLOPT_SSL_VERIFYPEER, 0L);
	SET(CURLOPT_SSL_VERIFYHOST, 0L);
	SET(CURLOPT_SSLVERSION,
	    (long)(CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_TLSv1_3));
	SET(CURLOPT_PROXY_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_SESSIONID_CACHE, 0L);
	SET(CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	SET(CURLOPT_SSL_CTX_DATA, ans);
	/*
	 * Our choice of proxy, or explicitly none. Always a CONNECT tunnel:
	 * our headers (Authorization) go to authd only, inside TLS.
	 */
	SET(CURLOPT_PROXY, c->proxy != NULL ? c->proxy : "");
	SET(CURLOPT_NOPROXY, "");
	SET(CURLOPT_HTTPPROXYTUNNEL, 1L);
	SET(CURLOPT_HEADEROPT, (long)CURLHEADER_SEPARATE);
	SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
#undef SET
	return bad ? ferry_errf(FERRY_E_INTERNAL, "cannot set up libcurl") : 0;
}

/* Appends "Authorization: <auth>" to *hs, through a wiped copy. */
static int
auth_header(struct curl_slist **hs, const char *auth)
{
	size_t n = strlen(auth) + sizeof("Authorization: ");
	struct curl_slist *t;
	char *line;

	if ((line = malloc(n)) == NULL)
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	snprintf(line, n, "Authorization: %s", auth);
	t = curl_slist_append(*hs, line);
	OPENSSL_clear_free(line, n);
	if (t == NULL)
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	*hs = t;
	return 0;
}

static int
request(struct ferry_estc *c, int post, const char *path, const char *auth,
    const char *ctype, const void *body, size_t len, struct answer *ans)
{
	char url[sizeof(c->base) + 64], hdr[128];
	struct curl_slist *hs = NULL, *t;
	CURL *h;
	CURLcode cc;
	int r;

	ans->c = c;
	ERR_clear_error();
	snprintf(url, sizeof(url), "%s%s", c->base, path);
	if ((h = curl_easy_init()) == NULL)
		return ferry_errf(FERRY_E_NOMEM, "cannot set up a connection");
	if ((r = setup(h, c, ans)) != 0)
		goto out;
	r = ferry_errf(FERRY_E_NOMEM, "cannot set up a request");
	/* No "Expect: 100-continue" wait: authd answers the whole request. */
	if ((t = curl_slist_append(hs, "Expect:")) == NULL)
		goto out;
	hs = t;
	if (ctype != NULL) {
		snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype);
		if ((t = curl_slist_append(hs, hdr)) == NULL)
			goto out;
		hs = t;
	}
	if (auth != NULL && (r = auth_header(&hs, auth)) != 0)
		goto out;
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs) != CURLE_OK ||
	    (post &&
	        (curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
	             (curl_off_t)len) != CURLE_OK ||
	            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) != CURLE_OK)))
		goto out;
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ans->status);
	r = ans->status != 0 ? 0 : no_answer(c, ans, h, cc);
out:
	curl_easy_cleanup(h);
	/* The Authorization line holds the password: wiped before freeing. */
	for (t = hs; t != NULL; t = t->next)
		OPENSSL_cleanse(t->data, strlen(t->data));
	curl_slist_free_all(hs);
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
		    "%s: HTTP %ld%s%s", c->where, ans->status,
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
	if ((r = request(c, 0, "/.well-known/est/cacerts", NULL, NULL, NULL, 0,
	         &ans)) != 0)
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
	if (c->ca == NULL) {
		r = ferry_errf(FERRY_E_INTERNAL, "no CA pinned");
		goto out;
	}
	if (user != NULL &&
	    (r = ferry_est_basic_make(user, pw, pwlen, &auth)) != 0)
		goto out;
	if ((r = request(c, 1,
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
	if (c->ca == NULL) {
		r = ferry_errf(FERRY_E_INTERNAL, "no CA pinned");
		goto out;
	}
	if ((r = request(c, 0, "/crl", NULL, NULL, NULL, 0, &ans)) != 0)
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
	if (c->ca == NULL) {
		r = ferry_errf(FERRY_E_INTERNAL, "no CA pinned");
		goto out;
	}
	if ((r = request(c, 0, "/crl.pem", NULL, NULL, NULL, 0, &ans)) != 0)
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
