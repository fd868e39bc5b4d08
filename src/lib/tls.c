/* tls.c - SSL_CTX construction and peer verification policy. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ferry/log.h"
#include "ferry/pki.h"
#include "ferry/tls.h"
#include "ferry/wire.h"

#include "internal.h"

/* Mozilla "modern": TLS 1.3 with these suites and groups, nothing else. */
#define FERRY_CIPHERSUITES                               \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
	"TLS_CHACHA20_POLY1305_SHA256"
#define FERRY_GROUPS "X25519:P-256:P-384"

static int verify_index = -1;
static CRYPTO_ONCE verify_once = CRYPTO_ONCE_STATIC_INIT;

static void
verify_index_init(void)
{
	verify_index =
	    SSL_get_ex_new_index(0, "ferry verify", NULL, NULL, NULL);
}

int
ferry__tls_verify_index(void)
{
	if (!CRYPTO_THREAD_run_once(&verify_once, verify_index_init))
		return -1;
	return verify_index;
}

static void
describe_name(X509_NAME *name, char *out, size_t n)
{
	char cn[128] = "?";

	if (name == NULL ||
	    X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof(cn)) < 0)
		snprintf(cn, sizeof(cn), "?");
	/* A CA or peer chose it: no controls, no bidi overrides. */
	ferry_sanitize(cn);
	snprintf(out, n, "CN=%s", cn);
}

static void
describe_cert(X509 *cert, char *out, size_t n)
{
	describe_name(
	    cert == NULL ? NULL : X509_get_subject_name(cert), out, n);
}

/*
 * Revocation failures in the chain, said so that the fix is plain: which
 * level was revoked, which CRL is missing or stale. 0: not one of these.
 */
static int
crl_problem(int err, int depth, X509 *cert, const char *who, const char *subj,
    struct ferry__verify *v)
{
	char issuer[160];

	describe_name(X509_get_issuer_name(cert), issuer, sizeof(issuer));
	if (err == X509_V_ERR_CERT_REVOKED && depth > 0)
		snprintf(v->detail, sizeof(v->detail),
		    "%s certificate rejected: its issuing CA (%s) has been "
		    "revoked",
		    who, subj);
	else if (err == X509_V_ERR_UNABLE_TO_GET_CRL)
		snprintf(v->detail, sizeof(v->detail),
		    "%s certificate (%.100s%s) cannot be checked: crl.pem has "
		    "no CRL of %.100s; run 'ferry crl update'",
		    who, subj, depth > 0 ? ", in its chain" : "", issuer);
	else if (err == X509_V_ERR_CRL_HAS_EXPIRED ||
	         err == X509_V_ERR_CRL_NOT_YET_VALID)
		snprintf(v->detail, sizeof(v->detail),
		    "the CRL of %s in crl.pem %s; run 'ferry crl update'",
		    issuer,
		    err == X509_V_ERR_CRL_HAS_EXPIRED ? "has expired"
		                                      : "is not valid yet");
	else
		return 0;
	return 1;
}

static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
	    xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct ferry__verify *v =
	    ssl == NULL ? NULL
	                : SSL_get_ex_data(ssl, ferry__tls_verify_index());
	X509 *cert = X509_STORE_CTX_get_current_cert(xs);
	int depth = X509_STORE_CTX_get_error_depth(xs);
	const char *who;
	char subj[160];

	if (v == NULL)
		return 0; /* fail closed: every SSL we make carries its record */
	who = v->role == FERRY_TLS_SERVER || v->role == FERRY_TLS_ECHO_SERVER
	          ? "client"
	          : "server";
	describe_cert(cert, subj, sizeof(subj));
	if (!ok) {
		int err = X509_STORE_CTX_get_error(xs);

		if (v->failed != 0)
			return 0;
		if (err == X509_V_ERR_HOSTNAME_MISMATCH ||
		    err == X509_V_ERR_IP_ADDRESS_MISMATCH) {
			v->failed = FERRY_E_IDENTITY;
			snprintf(v->detail, sizeof(v->detail),
			    "%s certificate (%s) is not valid for the host "
			    "name or address dialled; name the member as "
			    "ID@HOST "
			    "or issue it with --dns/--ip",
			    who, subj);
		} else if (err == X509_V_ERR_CERT_HAS_EXPIRED ||
		           err == X509_V_ERR_CERT_NOT_YET_VALID) {
			const ASN1_TIME *t = err == X509_V_ERR_CERT_HAS_EXPIRED
			                         ? X509_get0_notAfter(cert)
			                         : X509_get0_notBefore(cert);
			char when[64] = "?";
			BIO *b = BIO_new(BIO_s_mem());

			if (b != NULL && ASN1_TIME_print(b, t) == 1) {
				int k = BIO_read(b, when, sizeof(when) - 1);
				when[k > 0 ? k : 0] = '\0';
			}
			BIO_free(b);
			v->failed = FERRY_E_CERT;
			snprintf(v->detail, sizeof(v->detail),
			    "%s certificate (%s%s) %s %s", who, subj,
			    depth > 0 ? ", in its chain" : "",
			    err == X509_V_ERR_CERT_HAS_EXPIRED
			        ? "expired on"
			        : "is not valid before",
			    when);
		} else if (crl_problem(err, depth, cert, who, subj, v)) {
			v->failed = err == X509_V_ERR_CERT_REVOKED
			                ? FERRY_E_REVOKED
			                : FERRY_E_CERT;
		} else {
			v->failed = FERRY_E_CERT;
			snprintf(v->detail, sizeof(v->detail),
			    "%s certificate (%s) rejected: %s%s", who, subj,
			    X509_verify_cert_error_string(err),
			    err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
			            err ==
			                X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
			            err ==
			                X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
			        ? " (not issued by this organization's CA)"
			        : "");
		}
		return 0;
	}
	if (depth != 0)
		return 1;
	/* authd's certificate is never a member's (pki.h, FERRY_OID_AUTHD). */
	if ((v->role == FERRY_TLS_SERVER || v->role == FERRY_TLS_CLIENT) &&
	    ferry_cert_is_authd(cert)) {
		v->failed = FERRY_E_IDENTITY;
		snprintf(v->detail, sizeof(v->detail),
		    "%s certificate (%s) is authd's server certificate, not a "
		    "member's",
		    who, subj);
		X509_STORE_CTX_set_error(
		    xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	/* The leaf: who is it? */
	if (ferry_cert_id(cert, v->peer_id) != 0)
		v->peer_id[0] = '\0';
	ferry_err_clear();
	if (v->role == FERRY_TLS_SERVER && v->peer_id[0] == '\0') {
		v->failed = FERRY_E_IDENTITY;
		snprintf(v->detail, sizeof(v->detail),
		    "client certificate (%s) names no ferry member "
		    "(URI SAN ferry:<ID>)",
		    subj);
		X509_STORE_CTX_set_error(
		    xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (v->expect_id[0] != '\0' && strcmp(v->expect_id, v->peer_id) != 0) {
		v->failed = FERRY_E_IDENTITY;
		if (v->peer_id[0] == '\0')
			snprintf(v->detail, sizeof(v->detail),
			    "server certificate (%s) names no ferry member, "
			    "expected '%s'",
			    subj, v->expect_id);
		else
			snprintf(v->detail, sizeof(v->detail),
			    "server is '%s', not '%s' as asked", v->peer_id,
			    v->expect_id);
		X509_STORE_CTX_set_error(
		    xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char ours[] = "\x07" FERRY_ALPN;
	unsigned char *sel = NULL;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, ours, sizeof(ours) - 1, in,
	        inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol */
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static int
path_in(const char *dir, const char *leaf, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s/%s", dir, leaf) >= n)
		return ferry_errf(FERRY_E_USAGE, "%s: path too long", dir);
	return 0;
}

static int
check_key_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return ferry_errf_errno(
		    ferry_err_from_errno(errno), errno, "%s", path);
	if (!S_ISREG(st.st_mode))
		return ferry_errf(
		    FERRY_E_NOTREG, "%s: not a regular file", path);
	if (access(path, R_OK) != 0)
		return ferry_errf_errno(
		    ferry_err_from_errno(errno), errno, "%s", path);
	/* Like ssh: a private key others can read is refused, not used. */
	return ferry_key_check_mode(path);
}

/*
 * A file OpenSSL opens by name must be a regular file: a FIFO in its place
 * would hang the open. Checked through an O_NONBLOCK open.
 */
static int
check_regular(const char *path, const char *what)
{
	struct stat st;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1)
		return ferry_errf_errno(
		    ferry_err_from_errno(errno), errno, "%s (%s)", path, what);
	if (fstat(fd, &st) != 0)
		r = ferry_errf_errno(FERRY_E_IO, errno, "%s", path);
	else if (!S_ISREG(st.st_mode))
		r = ferry_errf(FERRY_E_NOTREG,
		    "%s: not a regular file (%s must be one)", path, what);
	close(fd);
	return r;
}

static int
load_identity(
    SSL_CTX *ctx, const char *dir, int need, int warn_validity, char *self_id)
{
	char key[4096], cert[4096];
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	int r;

	if ((r = path_in(dir, "key.pem", key, sizeof(key))) != 0 ||
	    (r = path_in(dir, "cert.pem", cert, sizeof(cert))) != 0)
		return r;
	if (!need && access(key, F_OK) != 0 && access(cert, F_OK) != 0)
		return 0;
	if (access(cert, F_OK) != 0)
		return ferry_errf(FERRY_E_NOENT,
		    "%s: no identity here (missing cert.pem); create one with "
		    "'ferry ca issue' and pass it with -i",
		    dir);
	if ((r = check_key_mode(key)) != 0 ||
	    (r = check_regular(cert, "the certificate")) != 0)
		return r;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ferry_log_openssl();
		return ferry_errf(
		    FERRY_E_CERT, "%s: not a PEM certificate", cert);
	}
	/* Parse first, so "not a key" and "not this certificate's" differ. */
	if ((r = ferry_key_load(key, &pkey)) != 0)
		return r;
	if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ferry_log_openssl();
		EVP_PKEY_free(pkey);
		return ferry_errf(FERRY_E_CERT,
		    "%s does not belong to the certificate in %s", key, cert);
	}
	EVP_PKEY_free(pkey);
	x = SSL_CTX_get0_certificate(ctx);
	/* A daemon would start fine and then be refused by every peer. */
	if (warn_validity && x != NULL &&
	    X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		ferry_warn("%s has expired: peers will refuse it; renew it "
		           "(ferry renew) or issue a new one",
		    cert);
	else if (warn_validity && x != NULL &&
	         X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		ferry_warn("%s is not valid yet: peers will refuse it", cert);
	if (x == NULL || ferry_cert_id(x, self_id) != 0)
		self_id[0] = '\0';
	ferry_err_clear();
	return 0;
}

static int
load_trust(SSL_CTX *ctx, const char *dir)
{
	char ca[4096];
	int r;

	if ((r = path_in(dir, "ca.pem", ca, sizeof(ca))) != 0)
		return r;
	if (access(ca, R_OK) != 0)
		return ferry_errf_errno(ferry_err_from_errno(errno), errno,
		    "%s (the organization's CA certificate)", ca);
	if ((r = check_regular(ca, "the organization's CA certificate")) != 0)
		return r;
	/* Only the organization's CA; never the system store. */
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		ferry_log_openssl();
		return ferry_errf(
		    FERRY_E_CERT, "%s: no usable CA certificate", ca);
	}
	return 0;
}

/* Our issuing CA: the first chain certificate of cert.pem, or NULL. */
static X509 *
own_issuer(SSL_CTX *ctx)
{
	STACK_OF(X509) *chain = NULL;

	if (SSL_CTX_get0_chain_certs(ctx, &chain) != 1 ||
	    sk_X509_num(chain) < 1)
		return NULL;
	return sk_X509_value(chain, 0);
}

/*
 * IDDIR/crl.pem, when present: every peer certificate is checked against
 * it (X509_V_FLAG_CRL_CHECK | CRL_CHECK_ALL). Fails closed: a CRL that does
 * not parse or is not the CA's stops us here rather than being ignored.
 * Under an issuing CA it holds one CRL per level (pki.md): the root's, and
 * that of the issuing CA our cert.pem chains through; both must be there.
 */
static int
load_crl(SSL_CTX *ctx, const char *dir)
{
	char path[4096], ca_path[4096];
	STACK_OF(X509_CRL) *crls = NULL;
	X509 *ca = NULL;
	X509_STORE *store;
	int r;

	if ((r = path_in(dir, "crl.pem", path, sizeof(path))) != 0 ||
	    (r = path_in(dir, "ca.pem", ca_path, sizeof(ca_path))) != 0)
		return r;
	if (access(path, F_OK) != 0)
		return 0;
	if ((r = ferry_crls_load(path, &crls)) != 0 ||
	    (r = ferry_cert_load(ca_path, &ca)) != 0)
		goto out;
	if ((r = ferry_crls_check(crls, ca, own_issuer(ctx), 0)) != 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", ferry_err_detail(r));
		r = ferry_errf(r,
		    "%s: %s; fetch a good one with 'ferry crl "
		    "update' or remove it",
		    path, why);
		goto out;
	}
	store = SSL_CTX_get_cert_store(ctx);
	for (int i = 0; i < sk_X509_CRL_num(crls); i++)
		if (X509_STORE_add_crl(store, sk_X509_CRL_value(crls, i)) !=
		    1) {
			ferry_log_openssl();
			r = ferry_errf(
			    FERRY_E_CRYPTO, "%s: cannot use the CRL", path);
			goto out;
		}
	if (X509_STORE_set_flags(store,
	        X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL) != 1) {
		ferry_log_openssl();
		r = ferry_errf(FERRY_E_CRYPTO, "%s: cannot use the CRL", path);
		goto out;
	}
	r = 0;
out:
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	X509_free(ca);
	return r;
}

/* Size, mtime and inode of the identity's files, as one comparable string. */
static void
identity_stamp(const char *dir, char *out, size_t n)
{
	static const char *const files[] = {
	    "key.pem", "cert.pem", "ca.pem", "crl.pem"};
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[4096];
		struct stat st;
		int k;

		memset(&st, 0, sizeof(st));
		if (path_in(dir, files[i], path, sizeof(path)) != 0 ||
		    stat(path, &st) != 0)
			memset(&st, 0, sizeof(st));
		k = snprintf(out + used, n - used, "%llx.%llx.%lx.%llx;",
		    (unsigned long long)st.st_ino,
		    (unsigned long long)st.st_size, (long)st.st_mtim.tv_sec,
		    (unsigned long long)st.st_mtim.tv_nsec);
		if (k < 0 || (size_t)k >= n - used)
			break;
		used += (size_t)k;
	}
	ferry_err_clear();
}

int
ferry_tls_reload(struct ferry_tls **tls)
{
	struct ferry_tls_opts opts = {.role = (*tls)->role,
	    .identity_dir = (*tls)->identity_dir,
	    .require_client_cert = (*tls)->require_client_cert};
	struct ferry_tls *fresh = NULL;
	char stamp[sizeof((*tls)->stamp)];
	int r;

	identity_stamp((*tls)->identity_dir, stamp, sizeof(stamp));
	if (strcmp(stamp, (*tls)->stamp) == 0)
		return 0;
	if ((r = ferry_tls_new(&opts, &fresh)) != 0) {
		/* Not again for the same half-written state of the files. */
		memcpy((*tls)->stamp, stamp, sizeof(stamp));
		return r;
	}
	ferry_tls_free(*tls);
	*tls = fresh;
	return 0;
}

static int keylog_fd = -1;

static void
keylog_line(const SSL *ssl, const char *line)
{
	char buf[1024];
	int n;

	(void)ssl;
	/* One write per line: forked daemons share the descriptor. */
	n = snprintf(buf, sizeof(buf), "%s\n", line);
	if (keylog_fd >= 0 && n > 0 && (size_t)n < sizeof(buf) &&
	    write(keylog_fd, buf, (size_t)n) != n)
		ferry_debug("SSLKEYLOGFILE: short write");
	OPENSSL_cleanse(buf, sizeof(buf));
}

void
ferry_tls_keylog(SSL_CTX *ctx)
{
	static int tried;
	const char *path = getenv("SSLKEYLOGFILE");

	if (path == NULL || *path == '\0')
		return;
	if (!tried) {
		tried = 1;
		keylog_fd = open(path,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
		if (keylog_fd < 0)
			ferry_warn("SSLKEYLOGFILE=%s: %s; secrets not logged",
			    path, strerror(errno));
		else
			/* Anyone with this file can read the traffic. */
			fprintf(stderr,
			    "ferry: warning: SSLKEYLOGFILE is set: TLS secrets "
			    "are "
			    "being written to %s\n",
			    path);
	}
	if (keylog_fd >= 0)
		SSL_CTX_set_keylog_callback(ctx, keylog_line);
}

int
ferry_tls_new(const struct ferry_tls_opts *opts, struct ferry_tls **out)
{
	struct ferry_tls *tls = NULL;
	int server = opts->role == FERRY_TLS_SERVER ||
	             opts->role == FERRY_TLS_ECHO_SERVER;
	int need_cert = opts->role != FERRY_TLS_ECHO_CLIENT;
	int mode, r = FERRY_E_NOMEM;

	if (ferry__tls_verify_index() < 0)
		return FERRY_E_CRYPTO;
	if ((tls = calloc(1, sizeof(*tls))) == NULL ||
	    (tls->identity_dir = strdup(opts->identity_dir)) == NULL)
		goto out;
	tls->role = opts->role;
	tls->require_client_cert = opts->require_client_cert;
	/* Stamped before loading: a change during the load shows next time. */
	identity_stamp(opts->identity_dir, tls->stamp, sizeof(tls->stamp));
	tls->ctx =
	    SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (tls->ctx == NULL) {
		r = FERRY_E_CRYPTO;
		goto out;
	}
	r = FERRY_E_CRYPTO;
	if (SSL_CTX_set_min_proto_version(tls->ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(tls->ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(tls->ctx, FERRY_CIPHERSUITES) != 1 ||
	    SSL_CTX_set1_groups_list(tls->ctx, FERRY_GROUPS) != 1)
		goto out;
	SSL_CTX_set_options(
	    tls->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	                  SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(tls->ctx,
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_AUTO_RETRY);
	/* No resumption yet, so no tickets, no 0-RTT, no session cache. */
	SSL_CTX_set_session_cache_mode(tls->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_max_early_data(tls->ctx, 0);
	/* Fewer, larger reads: up to several records per read(2). */
	SSL_CTX_set_read_ahead(tls->ctx, 1);
	SSL_CTX_set_default_read_buffer_len(tls->ctx, 256 * 1024);
	if (server && SSL_CTX_set_num_tickets(tls->ctx, 0) != 1)
		goto out;
	if ((r = load_identity(tls->ctx, opts->identity_dir, need_cert, server,
	         tls->self_id)) != 0 ||
	    (r = load_trust(tls->ctx, opts->identity_dir)) != 0 ||
	    (r = load_crl(tls->ctx, opts->identity_dir)) != 0)
		goto out;
	r = FERRY_E_CRYPTO;
	switch (opts->role) {
	case FERRY_TLS_SERVER:
		mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
		SSL_CTX_set_alpn_select_cb(tls->ctx, alpn_select, NULL);
		if (SSL_CTX_set_purpose(tls->ctx, X509_PURPOSE_SSL_CLIENT) != 1)
			goto out;
		break;
	case FERRY_TLS_ECHO_SERVER:
		mode = opts->require_client_cert
		           ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
		           : SSL_VERIFY_NONE;
		if (SSL_CTX_set_purpose(tls->ctx, X509_PURPOSE_SSL_CLIENT) != 1)
			goto out;
		break;
	case FERRY_TLS_CLIENT:
		mode = SSL_VERIFY_PEER;
		if (SSL_CTX_set_alpn_protos(tls->ctx,
		        (const unsigned char *)"\x07" FERRY_ALPN, 8) != 0)
			goto out;
		if (SSL_CTX_set_purpose(tls->ctx, X509_PURPOSE_SSL_SERVER) != 1)
			goto out;
		break;
	case FERRY_TLS_ECHO_CLIENT:
	default:
		mode = SSL_VERIFY_PEER;
		if (SSL_CTX_set_purpose(tls->ctx, X509_PURPOSE_SSL_SERVER) != 1)
			goto out;
		break;
	}
	SSL_CTX_set_verify(tls->ctx, mode, verify_cb);
	ferry_tls_keylog(tls->ctx);
	SSL_CTX_set_verify_depth(tls->ctx, 4);
	*out = tls;
	tls = NULL;
	r = 0;
out:
	if (r == FERRY_E_CRYPTO) {
		ferry_log_openssl();
		r = ferry_errf(r, "cannot set up TLS");
	}
	ferry_tls_free(tls);
	return r;
}

void
ferry_tls_free(struct ferry_tls *tls)
{
	if (tls == NULL)
		return;
	SSL_CTX_free(tls->ctx);
	free(tls->identity_dir);
	free(tls);
}

const char *
ferry_tls_self_id(const struct ferry_tls *tls)
{
	return tls->self_id;
}
