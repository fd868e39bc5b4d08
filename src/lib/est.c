/* est.c - EST message formats: base64, PKCS#10 in, certs-only PKCS#7 out.
 * docs/internals/est.md: what RFC 7030/8951 ask and how strictly we read. */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ferry/est.h"
#include "ferry/log.h"
#include "ferry/rd.h"

#include "internal.h"

/* A malformed DER structure: OpenSSL's reason goes to the debug log only. */
static int
der_fail(const char *what)
{
	ferry_log_openssl();
	return ferry_errf(FERRY_E_PROTO, "%s", what);
}

static int
b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* RFC 8951 3.2: line breaks and whitespace may appear in base64 bodies. */
static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
ferry_est_b64_decode(const void *in, size_t len, struct ferry_buf *out)
{
	struct ferry_rd rd;
	uint8_t quad[4], bytes[3], c;
	size_t nq = 0, pad = 0, done = 0, at;
	int v, r;

	ferry_rd_init(&rd, in, len);
	while (ferry_rd_left(&rd) > 0) {
		at = len - ferry_rd_left(&rd);
		if ((r = ferry_rd_u8(&rd, &c)) != 0)
			return r;
		if (is_space(c))
			continue;
		if (done)
			return ferry_errf(FERRY_E_PROTO,
			    "base64: data after the padding (offset %zu)", at);
		if (c == '=') {
			/* "xx==" or "xxx=": never in the first two places. */
			if (nq < 2)
				return ferry_errf(FERRY_E_PROTO,
				    "base64: misplaced '=' (offset %zu)", at);
			pad++;
			quad[nq++] = 0;
		} else {
			if ((v = b64_value(c)) < 0)
				return ferry_errf(FERRY_E_PROTO,
				    "base64: invalid byte 0x%02x (offset %zu)",
				    c, at);
			if (pad > 0)
				return ferry_errf(FERRY_E_PROTO,
				    "base64: data after '=' (offset %zu)", at);
			quad[nq++] = (uint8_t)v;
		}
		if (nq < 4)
			continue;
		bytes[0] = (uint8_t)(quad[0] << 2 | quad[1] >> 4);
		bytes[1] = (uint8_t)(quad[1] << 4 | quad[2] >> 2);
		bytes[2] = (uint8_t)(quad[2] << 6 | quad[3]);
		/* Canonical encodings only: the bits padding drops are zero. */
		if ((pad == 2 && (quad[1] & 0x0f) != 0) ||
		    (pad == 1 && (quad[2] & 0x03) != 0))
			return ferry_errf(FERRY_E_PROTO,
			    "base64: non-zero padding bits (offset %zu)", at);
		if ((r = ferry_buf_put(out, bytes, 3 - pad)) != 0)
			return ferry_errf(r,
			    "base64: decodes to more than "
			    "%zu bytes",
			    out->max);
		nq = 0;
		done = pad > 0;
	}
	OPENSSL_cleanse(quad, sizeof(quad));
	OPENSSL_cleanse(bytes, sizeof(bytes));
	if (nq != 0)
		return ferry_errf(FERRY_E_PROTO,
		    "base64: truncated (%zu characters after the last full "
		    "group of 4)",
		    nq);
	return 0;
}

int
ferry_est_b64_encode(const void *in, size_t len, char **out, size_t *outlen)
{
	EVP_ENCODE_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	size_t cap;
	int n = 0, total = 0, r = FERRY_E_INTERNAL;

	*out = NULL;
	*outlen = 0;
	if (len > (size_t)INT32_MAX / 2)
		return ferry_errf(FERRY_E_TOOBIG, "base64: input too large");
	/* 4/3, a newline per 48 input bytes, slack for the last line + NUL. */
	cap = (len + 2) / 3 * 4 + len / 48 + 8;
	if ((buf = malloc(cap)) == NULL)
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	if ((ctx = EVP_ENCODE_CTX_new()) == NULL) {
		r = ferry__crypto_fail("base64");
		goto out;
	}
	EVP_EncodeInit(ctx);
	if (len > 0 && EVP_EncodeUpdate(ctx, buf, &n, in, (int)len) != 1) {
		r = ferry__crypto_fail("base64");
		goto out;
	}
	total = n;
	EVP_EncodeFinal(ctx, buf + total, &n);
	total += n;
	buf[total] = '\0';
	*out = (char *)buf;
	*outlen = (size_t)total;
	buf = NULL;
	r = 0;
out:
	EVP_ENCODE_CTX_free(ctx);
	free(buf);
	return r;
}

int
ferry_est_key_check(EVP_PKEY *key)
{
	char group[64];
	size_t glen = 0;
	int bits;

	if (key == NULL)
		return ferry_errf(FERRY_E_REFUSED, "no public key");
	if (EVP_PKEY_is_a(key, "ED25519"))
		return 0;
	if (EVP_PKEY_is_a(key, "EC")) {
		if (EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) !=
		    1) {
			ferry_log_openssl();
			return ferry_errf(FERRY_E_REFUSED,
			    "an EC key on an unnamed curve is not accepted "
			    "(use P-256)");
		}
		if (strcmp(group, "prime256v1") == 0 ||
		    strcmp(group, "P-256") == 0)
			return 0;
		return ferry_errf(FERRY_E_REFUSED,
		    "an EC key on %s is not accepted (use P-256)", group);
	}
	if (EVP_PKEY_is_a(key, "RSA")) {
		bits = EVP_PKEY_get_bits(key);
		if (bits >= 3072 && bits <= 8192)
			return 0;
		return ferry_errf(FERRY_E_REFUSED,
		    "an RSA key of %d bits is not accepted (use 3072 to "
		    "8192)",
		    bits);
	}
	return ferry_errf(FERRY_E_REFUSED,
	    "a %s key is not accepted (use P-256, Ed25519 or RSA >= 3072)",
	    EVP_PKEY_get0_type_name(key) != NULL ? EVP_PKEY_get0_type_name(key)
	                                         : "?");
}

int
ferry_est_csr_parse(const void *body, size_t len, X509_REQ **out)
{
	struct ferry_buf der;
	struct ferry_rd rd;
	const uint8_t *p = NULL;
	const unsigned char *q;
	X509_REQ *req = NULL;
	EVP_PKEY *key;
	size_t n = 0;
	int r = FERRY_E_INTERNAL;

	*out = NULL;
	ferry_buf_init_public(&der, FERRY_EST_MAX_CSR);
	if ((r = ferry_est_b64_decode(body, len, &der)) != 0)
		goto out;
	if (der.len == 0) {
		r = ferry_errf(FERRY_E_PROTO, "empty certification request");
		goto out;
	}
	ferry_rd_init(&rd, der.data, der.len);
	ferry_rd_rest(&rd, &p, &n);
	if (n > LONG_MAX) {
		r = ferry_errf(FERRY_E_TOOBIG, "certification request too big");
		goto out;
	}
	q = p;
	if ((req = d2i_X509_REQ(NULL, &q, (long)n)) == NULL) {
		r = der_fail("not a DER PKCS#10 certification request");
		goto out;
	}
	if ((size_t)(q - p) != n) {
		r = ferry_errf(FERRY_E_PROTO,
		    "%zu bytes after the certification request",
		    n - (size_t)(q - p));
		goto out;
	}
	if ((key = X509_REQ_get0_pubkey(req)) == NULL) {
		r = der_fail("the certification request's public key cannot "
		             "be read");
		goto out;
	}
	if ((r = ferry_est_key_check(key)) != 0)
		goto out;
	/* Proof of possession: the holder of the key signed the request. */
	if (X509_REQ_verify(req, key) != 1) {
		ferry_log_openssl();
		r = ferry_errf(FERRY_E_CERT,
		    "the certification request's signature does not verify "
		    "(no proof of possession of the key)");
		goto out;
	}
	*out = req;
	req = NULL;
	r = 0;
out:
	X509_REQ_free(req);
	ferry_buf_free(&der);
	return r;
}

static int
names_push(char ***list, size_t *n, const char *s, size_t len)
{
	char **grown, *copy;

	if ((copy = strndup(s, len)) == NULL)
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	if ((grown = realloc(*list, (*n + 1) * sizeof(**list))) == NULL) {
		free(copy);
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	}
	grown[(*n)++] = copy;
	*list = grown;
	return 0;
}

int
ferry_est_csr_names(X509_REQ *req, struct ferry_est_names *out)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	char ip[INET6_ADDRSTRLEN];
	int idx, r = FERRY_E_INTERNAL;

	memset(out, 0, sizeof(*out));
	if ((exts = X509_REQ_get_extensions(req)) == NULL) {
		/* No extension request (or an unreadable one). */
		ERR_clear_error();
		return 0;
	}
	idx = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
	if (idx < 0) {
		r = 0;
		goto out;
	}
	if (X509v3_get_ext_by_NID(exts, NID_subject_alt_name, idx) >= 0) {
		r = ferry_errf(FERRY_E_PROTO,
		    "the request has two subjectAltName extensions");
		goto out;
	}
	if ((gens = X509V3_EXT_d2i(X509v3_get_ext(exts, idx))) == NULL) {
		r = der_fail("the request's subjectAltName cannot be read");
		goto out;
	}
	if (sk_GENERAL_NAME_num(gens) > FERRY_EST_MAX_NAMES) {
		r = ferry_errf(FERRY_E_PROTO,
		    "the request asks for more than %d names",
		    FERRY_EST_MAX_NAMES);
		goto out;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s;
		int af;

		if (gn->type == GEN_DNS) {
			s = gn->d.dNSName;
			if (s->length <= 0 || s->length > 253 ||
			    memchr(s->data, '\0', (size_t)s->length) != NULL) {
				r = ferry_errf(FERRY_E_PROTO,
				    "the request has a malformed DNS name");
				goto out;
			}
			if ((r = names_push(&out->dns, &out->n_dns,
			         (const char *)s->data, (size_t)s->length)) !=
			    0)
				goto out;
		} else if (gn->type == GEN_IPADD) {
			s = gn->d.iPAddress;
			af = s->length == 4    ? AF_INET
			     : s->length == 16 ? AF_INET6
			                       : -1;
			if (af == -1 ||
			    inet_ntop(af, s->data, ip, sizeof(ip)) == NULL) {
				r = ferry_errf(FERRY_E_PROTO,
				    "the request has a malformed IP address");
				goto out;
			}
			if ((r = names_push(
			         &out->ips, &out->n_ips, ip, strlen(ip))) != 0)
				goto out;
		}
	}
	r = 0;
out:
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return r;
}

void
ferry_est_names_free(struct ferry_est_names *n)
{
	for (size_t i = 0; i < n->n_dns; i++)
		free(n->dns[i]);
	for (size_t i = 0; i < n->n_ips; i++)
		free(n->ips[i]);
	free(n->dns);
	free(n->ips);
	memset(n, 0, sizeof(*n));
}

static int
der_b64(unsigned char *der, int n, char **out, size_t *outlen)
{
	int r;

	if (n <= 0)
		return ferry__crypto_fail("cannot encode");
	r = ferry_est_b64_encode(der, (size_t)n, out, outlen);
	return r;
}

/* Appends name to gens: an IP SAN if it is an IPv4/IPv6 address, else DNS. */
static int
csr_name_add(GENERAL_NAMES *gens, const char *name)
{
	unsigned char ip[16];
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_STRING *s = NULL;
	int type = GEN_DNS, iplen = 0;

	if (inet_pton(AF_INET, name, ip) == 1)
		iplen = 4;
	else if (inet_pton(AF_INET6, name, ip) == 1)
		iplen = 16;
	if (iplen > 0) {
		type = GEN_IPADD;
		s = ASN1_OCTET_STRING_new();
		if (s != NULL && ASN1_OCTET_STRING_set(s, ip, iplen) != 1)
			goto fail;
	} else {
		s = ASN1_IA5STRING_new();
		if (s != NULL && ASN1_STRING_set(s, name, -1) != 1)
			goto fail;
	}
	if (gn == NULL || s == NULL)
		goto fail;
	GENERAL_NAME_set0_value(gn, type, s);
	s = NULL;
	if (sk_GENERAL_NAME_push(gens, gn) <= 0)
		goto fail;
	return 0;
fail:
	GENERAL_NAME_free(gn);
	ASN1_STRING_free(s);
	return -1;
}

int
ferry_est_csr_make(EVP_PKEY *key, const char *cn, const char *const *dns,
    size_t n_dns, char **out, size_t *outlen)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	GENERAL_NAMES *gens = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	unsigned char *der = NULL;
	const EVP_MD *md;
	int n, r = FERRY_E_CRYPTO;

	*out = NULL;
	*outlen = 0;
	if ((req = X509_REQ_new()) == NULL ||
	    (name = X509_NAME_new()) == NULL ||
	    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	        (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1) {
		r = ferry__crypto_fail(
		    "cannot build the certification request");
		goto out;
	}
	if (n_dns > 0) {
		if ((gens = sk_GENERAL_NAME_new_null()) == NULL)
			goto fail;
		for (size_t i = 0; i < n_dns; i++)
			if (csr_name_add(gens, dns[i]) != 0)
				goto fail;
		if ((exts = sk_X509_EXTENSION_new_null()) == NULL ||
		    (ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens)) ==
		        NULL ||
		    sk_X509_EXTENSION_push(exts, ext) <= 0)
			goto fail;
		ext = NULL;
		if (X509_REQ_add_extensions(req, exts) != 1)
			goto fail;
	}
	md = EVP_PKEY_is_a(key, "ED25519") ? NULL : EVP_sha256();
	if (X509_REQ_sign(req, key, md) <= 0)
		goto fail;
	n = i2d_X509_REQ(req, &der);
	r = der_b64(der, n, out, outlen);
	goto out;
fail:
	r = ferry__crypto_fail("cannot build the certification request");
out:
	OPENSSL_free(der);
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return r;
}

int
ferry_est_certs_encode(X509 *const *certs, size_t n, char **out, size_t *outlen)
{
	PKCS7 *p7 = NULL;
	unsigned char *der = NULL;
	int len, r = FERRY_E_CRYPTO;

	*out = NULL;
	*outlen = 0;
	/*
	 * RFC 7030 4.1.3: a "certs-only" CMC Simple PKI Response, i.e. a
	 * signed-data with no signers and no content, the certificates in
	 * its certificates field.
	 */
	if ((p7 = PKCS7_new()) == NULL ||
	    PKCS7_set_type(p7, NID_pkcs7_signed) != 1 ||
	    PKCS7_content_new(p7, NID_pkcs7_data) != 1 ||
	    PKCS7_set_detached(p7, 1) != 1) {
		r = ferry__crypto_fail("cannot build a PKCS#7 structure");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (PKCS7_add_certificate(p7, certs[i]) != 1) {
			r = ferry__crypto_fail(
			    "cannot build a PKCS#7 structure");
			goto out;
		}
	len = i2d_PKCS7(p7, &der);
	r = der_b64(der, len, out, outlen);
out:
	OPENSSL_free(der);
	PKCS7_free(p7);
	return r;
}

int
ferry_est_certs_parse(const void *body, size_t len, STACK_OF(X509) * *out)
{
	struct ferry_buf der;
	struct ferry_rd rd;
	const uint8_t *p = NULL;
	const unsigned char *q;
	PKCS7 *p7 = NULL;
	STACK_OF(X509) *certs = NULL, *in;
	size_t n = 0;
	int r = FERRY_E_INTERNAL;

	*out = NULL;
	ferry_buf_init_public(&der, FERRY_EST_MAX_CERTS);
	if ((r = ferry_est_b64_decode(body, len, &der)) != 0)
		goto out;
	ferry_rd_init(&rd, der.data, der.len);
	ferry_rd_rest(&rd, &p, &n);
	q = p;
	if (n == 0 || (p7 = d2i_PKCS7(NULL, &q, (long)n)) == NULL) {
		r = der_fail("not a DER PKCS#7 structure");
		goto out;
	}
	if ((size_t)(q - p) != n) {
		r = ferry_errf(FERRY_E_PROTO, "%zu bytes after the PKCS#7",
		    n - (size_t)(q - p));
		goto out;
	}
	if (!PKCS7_type_is_signed(p7) || p7->d.sign == NULL ||
	    (in = p7->d.sign->cert) == NULL || sk_X509_num(in) < 1) {
		r = ferry_errf(FERRY_E_PROTO,
		    "the PKCS#7 structure is not a certs-only response "
		    "with certificates");
		goto out;
	}
	if (sk_X509_num(in) > FERRY_EST_MAX_CHAIN) {
		r = ferry_errf(FERRY_E_PROTO,
		    "the PKCS#7 structure holds %d certificates, more than %d",
		    sk_X509_num(in), FERRY_EST_MAX_CHAIN);
		goto out;
	}
	if ((certs = sk_X509_new_null()) == NULL) {
		r = ferry_errf(FERRY_E_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(in); i++) {
		X509 *x = sk_X509_value(in, i);

		if (X509_up_ref(x) != 1 || sk_X509_push(certs, x) <= 0) {
			r = ferry_errf(FERRY_E_NOMEM, "out of memory");
			goto out;
		}
	}
	*out = certs;
	certs = NULL;
	r = 0;
out:
	sk_X509_pop_free(certs, X509_free);
	PKCS7_free(p7);
	ferry_buf_free(&der);
	return r;
}

int
ferry_est_basic_parse(
    const char *header, char user[FERRY_EST_MAX_USER + 1], struct ferry_buf *pw)
{
	static const char scheme[] = "basic";
	struct ferry_buf plain;
	struct ferry_rd rd;
	const uint8_t *tok = NULL, *rest = NULL;
	size_t hlen, ntok = 0, nrest = 0, ulen = 0;
	uint8_t c;
	int r = FERRY_E_INTERNAL;

	user[0] = '\0';
	ferry_buf_init(&plain, FERRY_EST_MAX_AUTH);
	if (header == NULL) {
		r = ferry_errf(FERRY_E_PROTO, "no Authorization header");
		goto out;
	}
	hlen = strnlen(header, FERRY_EST_MAX_AUTH + 1);
	if (hlen > FERRY_EST_MAX_AUTH) {
		r = ferry_errf(FERRY_E_PROTO, "Authorization header too long");
		goto out;
	}
	ferry_rd_init(&rd, header, hlen);
	/* RFC 7617 2: "Basic" (any case), one or more spaces, token68. */
	for (size_t i = 0; i < sizeof(scheme) - 1; i++) {
		if ((r = ferry_rd_u8(&rd, &c)) != 0 ||
		    (c | 0x20) != (uint8_t)scheme[i]) {
			r = ferry_errf(FERRY_E_PROTO,
			    "Authorization is not of the Basic scheme");
			goto out;
		}
	}
	if (ferry_rd_left(&rd) == 0 || ferry_rd_u8(&rd, &c) != 0 || c != ' ') {
		r = ferry_errf(
		    FERRY_E_PROTO, "Authorization is not of the Basic scheme");
		goto out;
	}
	ferry_rd_rest(&rd, &tok, &ntok);
	if ((r = ferry_est_b64_decode(tok, ntok, &plain)) != 0)
		goto out;
	ferry_rd_init(&rd, plain.data, plain.len);
	for (;;) {
		if (ferry_rd_u8(&rd, &c) != 0) {
			r = ferry_errf(
			    FERRY_E_PROTO, "Basic credentials lack a ':'");
			goto out;
		}
		if (c == ':')
			break;
		if (c < 0x20 || c == 0x7f || ulen >= FERRY_EST_MAX_USER) {
			r = ferry_errf(FERRY_E_PROTO,
			    "Basic credentials: malformed user name");
			goto out;
		}
		user[ulen++] = (char)c;
	}
	user[ulen] = '\0';
	ferry_rd_rest(&rd, &rest, &nrest);
	if ((r = ferry_buf_put(pw, rest, nrest)) != 0)
		goto out;
	r = 0;
out:
	if (r != 0)
		user[0] = '\0';
	ferry_buf_free(&plain);
	return r;
}

int
ferry_est_basic_make(
    const char *user, const void *pw, size_t pwlen, struct ferry_buf *out)
{
	static const char scheme[] = "Basic ";
	struct ferry_buf plain;
	char *b64 = NULL;
	size_t n = 0, k = 0;
	int r;

	ferry_buf_init(&plain, FERRY_EST_MAX_AUTH);
	if ((r = ferry_buf_put(&plain, user, strlen(user))) != 0 ||
	    (r = ferry_buf_put(&plain, ":", 1)) != 0 ||
	    (r = ferry_buf_put(&plain, pw, pwlen)) != 0 ||
	    (r = ferry_est_b64_encode(plain.data, plain.len, &b64, &n)) != 0 ||
	    (r = ferry_buf_put(out, scheme, sizeof(scheme) - 1)) != 0)
		goto out;
	/* One line: drop the encoder's newlines. */
	for (size_t i = 0; i < n; i++)
		if (b64[i] != '\n')
			b64[k++] = b64[i];
	if ((r = ferry_buf_put(out, b64, k)) != 0 ||
	    (r = ferry_buf_put(out, "", 1)) != 0)
		goto out;
	r = 0;
out:
	if (b64 != NULL) {
		OPENSSL_cleanse(b64, n);
		free(b64);
	}
	ferry_buf_free(&plain);
	return r;
}

int
ferry_est_retry_after(
    const void *line, size_t len, char out[FERRY_EST_MAX_RETRY + 1])
{
	static const char name[] = "retry-after:";
	struct ferry_rd rd;
	size_t n = 0;
	uint8_t ch = 0;

	out[0] = '\0';
	ferry_rd_init(&rd, line, len);
	for (size_t i = 0; i < sizeof(name) - 1; i++)
		if (ferry_rd_u8(&rd, &ch) != 0 || tolower(ch) != name[i])
			return FERRY_E_PROTO;
	while (ferry_rd_peek(&rd, &ch) == 0 && (ch == ' ' || ch == '\t') &&
	       ferry_rd_u8(&rd, &ch) == 0)
		;
	while (ferry_rd_peek(&rd, &ch) == 0 && ch >= '0' && ch <= '9' &&
	       n < FERRY_EST_MAX_RETRY && ferry_rd_u8(&rd, &ch) == 0)
		out[n++] = (char)ch;
	/* Then only white space and the line end. */
	while (n > 0 && ferry_rd_u8(&rd, &ch) == 0)
		if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n')
			n = 0;
	out[n] = '\0';
	return n > 0 ? 0 : FERRY_E_PROTO;
}
