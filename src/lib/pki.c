/* pki.c - keys, member IDs, the offline CA and identity directories.
 * docs/internals/pki.md: the CA directory and the invariants kept here. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ferry/buf.h"
#include "ferry/log.h"
#include "ferry/pki.h"

#include "internal.h"

#define CA_KEY "ca.key"
#define CA_CERT "ca.pem"
#define CA_INDEX "index.tsv"
#define CA_CERTS "certs"
#define ID_KEY "key.pem"
#define ID_CERT "cert.pem"
#define ID_CA "ca.pem"

#define CA_DEFAULT_NAME "ferry Root CA"
#define CA_DEFAULT_DAYS 3650
#define CERT_DEFAULT_DAYS 365
/* Longest validity either command accepts: a century. */
#define MAX_DAYS 36525
/* Clock skew allowance: certificates start this many seconds in the past. */
#define BACKDATE 300
/* Serial numbers: 128 random bits (RFC 5280 4.1.2.2 allows up to 20 octets). */
#define SERIAL_BYTES 16
/* DNS and IP SANs one certificate may carry beside the member ID. */
#define MAX_SANS 64
/* The URI SAN scheme of a group, as "ferry:" is of the member ID. */
#define GROUP_SCHEME "ferry-group:"
/* PEM files this module reads; keys and certificates are far smaller. */
#define MAX_PEM_FILE (256 * 1024)
/* index.tsv: about 100 bytes a line, so some 600,000 certificates. */
#define MAX_INDEX_FILE (64 * 1024 * 1024)
/* Next-update of a CRL when the caller does not say, days. */
#define CRL_DEFAULT_DAYS 7
#define CA_CRL "crl.pem"
#define CA_CRLNUMBER "crlnumber"
/* ub-common-name, RFC 5280 appendix A. */
#define MAX_CN_CHARS 64

struct ferry_ca {
	EVP_PKEY *key;
	X509 *cert;
	char *dir;
	X509 *root; /* an issuing CA's root (DIR/root.pem); NULL for a root */
};

static int ca_load_root(struct ferry_ca *ca);

static int
path_join(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= outlen)
		return ferry_errf(
		    FERRY_E_BADNAME, "%s/%s: path too long", dir, name);
	return 0;
}

/* The directory part of path, for fsyncing it after a rename. */
static void
path_dir(char *out, size_t outlen, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		snprintf(out, outlen, ".");
		return;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, path, n);
	out[n] = '\0';
}

static int
fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	int fd, r = 0;

	path_dir(dir, sizeof(dir), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return ferry_errf_errno(ferry_err_from_errno(errno), errno,
		    "%s: cannot open directory", dir);
	if (fsync(fd) == -1 && errno != EINVAL)
		r = ferry_errf_errno(ferry_err_from_errno(errno), errno,
		    "%s: cannot sync directory", dir);
	close(fd);
	return r;
}

/* Creates dir 0700 unless it is already a directory; its parent must exist. */
static int
ensure_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
		return fsync_dir_of(dir);
	if (errno == ENOENT)
		return ferry_errf_errno(FERRY_E_NOENT, errno,
		    "%s: cannot create directory (does its parent exist?)",
		    dir);
	if (errno != EEXIST)
		return ferry_errf_errno(ferry_err_from_errno(errno), errno,
		    "%s: cannot create directory", dir);
	if (stat(dir, &st) == -1)
		return ferry_errf_errno(
		    ferry_err_from_errno(errno), errno, "%s", dir);
	if (!S_ISDIR(st.st_mode))
		return ferry_errf(FERRY_E_NOTDIR, "%s: not a directory", dir);
	return 0;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Writes data to path with mode: first to a temporary file beside it
 * (created 0600, O_EXCL by mkstemp), synced, then moved into place. With
 * exclusive, link(2) moves it, so an existing path is never replaced
 * (FERRY_E_EXIST) and two writers cannot both win; otherwise rename(2)
 * replaces. Either way nothing half-written ever carries the final name.
 */
static int
write_file(
    const char *path, const void *data, size_t len, mode_t mode, int exclusive)
{
	char tmp[PATH_MAX];
	int fd = -1, r = FERRY_E_INTERNAL, e;

	tmp[0] = '\0';
	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >=
	    (int)sizeof(tmp)) {
		tmp[0] = '\0';
		r = ferry_errf(FERRY_E_BADNAME, "%s: path too long", path);
		goto out;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		e = errno;
		tmp[0] = '\0';
		r = ferry_errf_errno(ferry_err_from_errno(e), e,
		    "%s: cannot create temporary file", path);
		goto out;
	}
	if (fchmod(fd, mode) == -1 || write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1) {
		e = errno;
		r = ferry_errf_errno(
		    ferry_err_from_errno(e), e, "%s: cannot write", tmp);
		goto out;
	}
	e = close(fd);
	fd = -1;
	if (e == -1) {
		e = errno;
		r = ferry_errf_errno(
		    ferry_err_from_errno(e), e, "%s: cannot write", tmp);
		goto out;
	}
	if (exclusive) {
		if (link(tmp, path) == -1) {
			e = errno;
			if (e == EEXIST)
				r = ferry_errf(
				    FERRY_E_EXIST, "%s already exists", path);
			else
				r = ferry_errf_errno(ferry_err_from_errno(e), e,
				    "%s: cannot create", path);
			goto out;
		}
		/* The temporary name goes below, in the common cleanup. */
	} else {
		if (rename(tmp, path) == -1) {
			e = errno;
			r = ferry_errf_errno(ferry_err_from_errno(e), e,
			    "%s: cannot replace", path);
			goto out;
		}
		tmp[0] = '\0';
	}
	if (tmp[0] != '\0') {
		unlink(tmp);
		tmp[0] = '\0';
	}
	if ((r = fsync_dir_of(path)) != 0)
		goto out;
	r = 0;
out:
	if (fd != -1)
		close(fd);
	if (tmp[0] != '\0')
		unlink(tmp);
	return r;
}

/* Reads a whole (small) file into a buffer the caller wipes and frees. */
static int read_file_max(const char *path, const char *what, off_t max,
    unsigned char **out, size_t *outlen);

static int
read_file(
    const char *path, const char *what, unsigned char **out, size_t *outlen)
{
	return read_file_max(path, what, MAX_PEM_FILE, out, outlen);
}

static int
read_file_max(const char *path, const char *what, off_t max,
    unsigned char **out, size_t *outlen)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd = -1, r = FERRY_E_INTERNAL, e;

	/* O_NONBLOCK: a FIFO in its place must not hang every command. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1) {
		e = errno;
		r = ferry_errf_errno(ferry_err_from_errno(e), e,
		    "%s: cannot open %s", path, what);
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		e = errno;
		r = ferry_errf_errno(ferry_err_from_errno(e), e, "%s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = ferry_errf(FERRY_E_NOTREG,
		    "%s: not a regular file (a %s must be one)", path, what);
		goto out;
	}
	if (st.st_size > max) {
		r = ferry_errf(FERRY_E_TOOBIG,
		    "%s: larger than %lld bytes; not a %s", path,
		    (long long)max, what);
		goto out;
	}
	/* One spare byte tells a file that grew since fstat. */
	if ((buf = OPENSSL_malloc((size_t)st.st_size + 1)) == NULL) {
		r = ferry_errf(FERRY_E_NOMEM, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size + 1 - len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = errno;
			r = ferry_errf_errno(ferry_err_from_errno(e), e,
			    "%s: cannot read", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > (size_t)st.st_size) {
			r = ferry_errf(
			    FERRY_E_IO, "%s: changed while read", path);
			goto out;
		}
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
	r = 0;
out:
	if (buf != NULL)
		OPENSSL_clear_free(buf, (size_t)st.st_size + 1);
	if (fd != -1)
		close(fd);
	return r;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* "2025-01-31T12:00:00Z" */
static void
iso_time(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "@%lld", (long long)t);
}

/* Ed25519 and Ed448 sign the message itself; everything else SHA-256. */
static const EVP_MD *
sign_md(EVP_PKEY *key)
{
	if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448"))
		return NULL;
	return EVP_sha256();
}

int
ferry_key_type_parse(const char *name, enum ferry_key_type *out)
{
	if (strcmp(name, "p256") == 0)
		*out = FERRY_KEY_P256;
	else if (strcmp(name, "ed25519") == 0)
		*out = FERRY_KEY_ED25519;
	else if (strcmp(name, "rsa3072") == 0)
		*out = FERRY_KEY_RSA3072;
	else
		return ferry_errf(FERRY_E_USAGE,
		    "unknown key type '%s' (use p256, ed25519 or rsa3072)",
		    name);
	return 0;
}

int
ferry_key_generate(enum ferry_key_type type, EVP_PKEY **out)
{
	EVP_PKEY *key = NULL;

	*out = NULL;
	switch (type) {
	case FERRY_KEY_P256:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case FERRY_KEY_ED25519:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case FERRY_KEY_RSA3072:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	default:
		return ferry_errf(
		    FERRY_E_USAGE, "unknown key type %d", (int)type);
	}
	if (key == NULL)
		return ferry__crypto_fail("cannot generate a key");
	*out = key;
	return 0;
}

/* The syntax member IDs and group names share; what names it in errors. */
static int
name_check(const char *what, const char *s, size_t max)
{
	size_t len;

	if (s == NULL || *s == '\0')
		return ferry_errf(FERRY_E_USAGE, "%s is empty", what);
	len = strlen(s);
	if (len > max)
		return ferry_errf(FERRY_E_USAGE,
		    "%s '%.16s...' is %zu bytes, longer than %zu", what, s, len,
		    max);
	/* It becomes a directory name on peers: no '/', no dot files. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		            (c >= '0' && c <= '9');

		if (i == 0 && !alnum)
			return ferry_errf(FERRY_E_USAGE,
			    "%s '%s' must start with a letter or digit", what,
			    s);
		if (!alnum && c != '.' && c != '_' && c != '-')
			return ferry_errf(FERRY_E_USAGE,
			    "%s '%s': only letters, digits, '.', '_' and '-' "
			    "are allowed",
			    what, s);
	}
	return 0;
}

int
ferry_id_check(const char *id)
{
	return name_check("member ID", id, FERRY_MAX_ID);
}

int
ferry_group_check(const char *name)
{
	return name_check("group name", name, FERRY_MAX_GROUP);
}

/* RFC 1123 host name: labels of letters, digits and '-', no wildcards. */
static int
dns_check(const char *name)
{
	unsigned char a[16];
	size_t len, label = 0;

	if (*name == '\0')
		return ferry_errf(FERRY_E_USAGE, "empty DNS name");
	len = strlen(name);
	if (len > 253)
		return ferry_errf(FERRY_E_USAGE,
		    "DNS name '%.32s...' is longer than 253 bytes", name);
	if (name[0] == '*')
		return ferry_errf(FERRY_E_USAGE,
		    "DNS name '%s': wildcards are not allowed", name);
	if (inet_pton(AF_INET, name, a) == 1 ||
	    inet_pton(AF_INET6, name, a) == 1)
		return ferry_errf(FERRY_E_USAGE,
		    "DNS name '%s' is an IP address; give it as an IP", name);
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.' || c == '\0') {
			if (label == 0)
				return ferry_errf(FERRY_E_USAGE,
				    "DNS name '%s' has an empty label", name);
			if (label > 63)
				return ferry_errf(FERRY_E_USAGE,
				    "DNS name '%s' has a label longer than 63 "
				    "bytes",
				    name);
			if (name[i - 1] == '-')
				return ferry_errf(FERRY_E_USAGE,
				    "DNS name '%s': a label ends with '-'",
				    name);
			label = 0;
			continue;
		}
		if (c == '-' && label == 0)
			return ferry_errf(FERRY_E_USAGE,
			    "DNS name '%s': a label starts with '-'", name);
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '-'))
			return ferry_errf(FERRY_E_USAGE,
			    "DNS name '%s': only letters, digits, '-' and '.' "
			    "are allowed",
			    name);
		label++;
	}
	return 0;
}

/* An IP address in inet_ntop's canonical text; 1 if text is one. */
static int
ip_canonical(const char *text, char *out, size_t outlen)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, text, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)outlen) != NULL;
	if (inet_pton(AF_INET6, text, a) == 1)
		return inet_ntop(AF_INET6, a, out, (socklen_t)outlen) != NULL;
	return 0;
}

/* The DNS-only rules of ferry_host_normalize, on a lower-cased name. */
static int
dns_policy(const char *name)
{
	const char *last = strrchr(name, '.');
	int r;

	if (strchr(name, '*') != NULL)
		return ferry_errf(FERRY_E_USAGE,
		    "host name '%s': wildcards are not allowed", name);
	if ((r = dns_check(name)) != 0)
		return r;
	for (const char *l = name; l != NULL; l = strchr(l, '.')) {
		if (*l == '.')
			l++;
		if (strncmp(l, "xn--", 4) == 0)
			return ferry_errf(FERRY_E_USAGE,
			    "host name '%s': internationalized (xn--) labels "
			    "are not accepted, look-alikes cannot be told "
			    "apart",
			    name);
	}
	last = last != NULL ? last + 1 : name;
	if (strspn(last, "0123456789") == strlen(last))
		return ferry_errf(FERRY_E_USAGE,
		    "host name '%s' ends in a numeric label: give an IP "
		    "address as an IP",
		    name);
	return 0;
}

int
ferry_host_normalize(const char *in, char out[FERRY_MAX_HOSTNAME + 1],
    enum ferry_host_kind *kind)
{
	size_t len;
	int r;

	out[0] = '\0';
	if (in == NULL || *in == '\0')
		return ferry_errf(FERRY_E_USAGE, "empty host name");
	len = strnlen(in, FERRY_MAX_HOSTNAME + 2);
	if (len > FERRY_MAX_HOSTNAME + 1)
		return ferry_errf(FERRY_E_USAGE,
		    "host name '%.32s...' is longer than %d bytes", in,
		    FERRY_MAX_HOSTNAME);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x80)
			return ferry_errf(FERRY_E_USAGE,
			    "host name is not ASCII: internationalized names "
			    "are not accepted");
		if (c <= 0x20 || c == 0x7f)
			return ferry_errf(FERRY_E_USAGE,
			    "host name holds a space or control byte (0x%02x)",
			    c);
	}
	if (ip_canonical(in, out, FERRY_MAX_HOSTNAME + 1)) {
		*kind = FERRY_HOST_IP;
		return 0;
	}
	if (in[0] == '.')
		return ferry_errf(FERRY_E_USAGE,
		    "host name '%s' starts with a dot: bind whole host names, "
		    "not domains",
		    in);
	/* One trailing dot (the root) names the same host. */
	if (len > 1 && in[len - 1] == '.' && in[len - 2] != '.')
		len--;
	if (len > FERRY_MAX_HOSTNAME)
		return ferry_errf(FERRY_E_USAGE,
		    "host name '%.32s...' is longer than %d bytes", in,
		    FERRY_MAX_HOSTNAME);
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[len] = '\0';
	*kind = FERRY_HOST_DNS;
	if ((r = dns_policy(out)) != 0)
		out[0] = '\0';
	return r;
}

/* Appends an IA5String name (GEN_URI, GEN_DNS) to gens. */
static int
san_add_ia5(GENERAL_NAMES *gens, int type, const char *value)
{
	GENERAL_NAME *gn = NULL;
	ASN1_IA5STRING *s = NULL;
	int r = FERRY_E_CRYPTO;

	if ((gn = GENERAL_NAME_new()) == NULL ||
	    (s = ASN1_IA5STRING_new()) == NULL ||
	    ASN1_STRING_set(s, value, (int)strlen(value)) != 1) {
		r = ferry__crypto_fail("cannot build subjectAltName");
		goto out;
	}
	GENERAL_NAME_set0_value(gn, type, s);
	s = NULL;
	if (sk_GENERAL_NAME_push(gens, gn) <= 0) {
		r = ferry__crypto_fail("cannot build subjectAltName");
		goto out;
	}
	gn = NULL;
	r = 0;
out:
	ASN1_IA5STRING_free(s);
	GENERAL_NAME_free(gn);
	return r;
}

static int
san_add_ip(GENERAL_NAMES *gens, const char *text)
{
	unsigned char addr[16];
	GENERAL_NAME *gn = NULL;
	ASN1_OCTET_STRING *s = NULL;
	int len, r = FERRY_E_CRYPTO;

	if (inet_pton(AF_INET, text, addr) == 1)
		len = 4;
	else if (inet_pton(AF_INET6, text, addr) == 1)
		len = 16;
	else
		return ferry_errf(
		    FERRY_E_USAGE, "'%s' is not an IPv4 or IPv6 address", text);
	if ((gn = GENERAL_NAME_new()) == NULL ||
	    (s = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(s, addr, len) != 1) {
		r = ferry__crypto_fail("cannot build subjectAltName");
		goto out;
	}
	GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
	s = NULL;
	if (sk_GENERAL_NAME_push(gens, gn) <= 0) {
		r = ferry__crypto_fail("cannot build subjectAltName");
		goto out;
	}
	gn = NULL;
	r = 0;
out:
	ASN1_OCTET_STRING_free(s);
	GENERAL_NAME_free(gn);
	return r;
}

/* A member's groups: valid names, no repeats, bounded, never a server's. */
static int
groups_check(const struct ferry_cert_req *req)
{
	int r;

	if (req->n_groups == 0)
		return 0;
	if (req->groups == NULL)
		return ferry_errf(FERRY_E_USAGE, "missing group list");
	if (req->server_only)
		return ferry_errf(
		    FERRY_E_USAGE, "a server-only certificate names no groups");
	if (req->n_groups > FERRY_MAX_GROUPS)
		return ferry_errf(FERRY_E_USAGE, "%zu groups: at most %d",
		    req->n_groups, FERRY_MAX_GROUPS);
	for (size_t i = 0; i < req->n_groups; i++) {
		if ((r = ferry_group_check(req->groups[i])) != 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (strcmp(req->groups[i], req->groups[j]) == 0)
				return ferry_errf(FERRY_E_USAGE,
				    "group '%s' is given twice",
				    req->groups[i]);
	}
	return 0;
}

/*
 * The member's names: URI ferry:<id> first, then DNS names, then IPs, then
 * one URI ferry-group:<NAME> per group.
 */
static int
san_build(const struct ferry_cert_req *req, GENERAL_NAMES **out)
{
	GENERAL_NAMES *gens = NULL;
	char uri[sizeof("ferry:") + FERRY_MAX_ID];
	char group[sizeof(GROUP_SCHEME) + FERRY_MAX_GROUP];
	int r = FERRY_E_INTERNAL;

	*out = NULL;
	if (req->n_dns > MAX_SANS || req->n_ips > MAX_SANS ||
	    req->n_dns + req->n_ips > MAX_SANS)
		return ferry_errf(FERRY_E_USAGE,
		    "%zu DNS names and %zu IPs: at most %d in all", req->n_dns,
		    req->n_ips, MAX_SANS);
	if ((req->n_dns > 0 && req->dns == NULL) ||
	    (req->n_ips > 0 && req->ips == NULL))
		return ferry_errf(FERRY_E_USAGE, "missing DNS or IP list");
	for (size_t i = 0; i < req->n_dns; i++)
		if ((r = dns_check(req->dns[i])) != 0)
			return r;
	if ((r = groups_check(req)) != 0)
		return r;
	snprintf(uri, sizeof(uri), "ferry:%s", req->id);
	if ((gens = sk_GENERAL_NAME_new_null()) == NULL) {
		r = ferry__crypto_fail("cannot build subjectAltName");
		goto out;
	}
	/* A server-only certificate names hosts, never a member. */
	if (!req->server_only && (r = san_add_ia5(gens, GEN_URI, uri)) != 0)
		goto out;
	for (size_t i = 0; i < req->n_dns; i++)
		if ((r = san_add_ia5(gens, GEN_DNS, req->dns[i])) != 0)
			goto out;
	for (size_t i = 0; i < req->n_ips; i++)
		if ((r = san_add_ip(gens, req->ips[i])) != 0)
			goto out;
	for (size_t i = 0; i < req->n_groups; i++) {
		snprintf(
		    group, sizeof(group), "%s%s", GROUP_SCHEME, req->groups[i]);
		if ((r = san_add_ia5(gens, GEN_URI, group)) != 0)
			goto out;
	}
	*out = gens;
	gens = NULL;
	r = 0;
out:
	GENERAL_NAMES_free(gens);
	return r;
}

/*
 * Adds an extension from OpenSSL's configuration syntax. Only fixed strings
 * from this file go through here; names from users are built as ASN.1.
 */
static int
add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	if ((ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value)) == NULL)
		return ferry__crypto_fail("cannot build certificate extension");
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	if (ok != 1)
		return ferry__crypto_fail("cannot add certificate extension");
	return 0;
}

/* 128 random bits, never zero. */
static int
serial_random(ASN1_INTEGER **out)
{
	unsigned char b[SERIAL_BYTES];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial = NULL;
	int r = FERRY_E_CRYPTO;

	*out = NULL;
	do {
		if (RAND_bytes(b, sizeof(b)) != 1) {
			r = ferry__crypto_fail(
			    "cannot make a random serial number");
			goto out;
		}
		BN_free(bn);
		/* Unsigned big-endian bytes: the number is never negative. */
		if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL) {
			r = ferry__crypto_fail(
			    "cannot make a random serial number");
			goto out;
		}
	} while (BN_is_zero(bn));
	if ((serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
		r = ferry__crypto_fail("cannot make a random serial number");
		goto out;
	}
	*out = serial;
	serial = NULL;
	r = 0;
out:
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	return r;
}

/* Uppercase hex like `openssl x509 -serial`. Caller OPENSSL_free()s. */
static int
serial_hex(const ASN1_INTEGER *serial, char **out)
{
	BIGNUM *bn;

	*out = NULL;
	if ((bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL ||
	    (*out = BN_bn2hex(bn)) == NULL) {
		BN_free(bn);
		return ferry__crypto_fail("cannot format serial number");
	}
	BN_free(bn);
	return 0;
}

static int
set_times(X509 *cert, time_t not_before, time_t not_after)
{
	ASN1_TIME *nb = NULL, *na = NULL;
	int r = FERRY_E_CRYPTO;

	/* UTCTime until 2049, GeneralizedTime after: RFC 5280 4.1.2.5. */
	if ((nb = ASN1_TIME_set(NULL, not_before)) == NULL ||
	    (na = ASN1_TIME_set(NULL, not_after)) == NULL ||
	    X509_set1_notBefore(cert, nb) != 1 ||
	    X509_set1_notAfter(cert, na) != 1) {
		r = ferry__crypto_fail("cannot set certificate validity");
		goto out;
	}
	r = 0;
out:
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return r;
}

/* A CN of 1..64 characters without control bytes; OpenSSL checks the UTF-8. */
static int
cn_check(const char *what, const char *cn)
{
	size_t chars = 0;

	for (const unsigned char *p = (const unsigned char *)cn; *p != '\0';
	     p++) {
		if (*p < 0x20 || *p == 0x7f)
			return ferry_errf(FERRY_E_USAGE,
			    "%s contains a control character", what);
		if ((*p & 0xc0) != 0x80)
			chars++;
	}
	if (chars == 0 || chars > MAX_CN_CHARS)
		return ferry_errf(FERRY_E_USAGE,
		    "%s '%s' must be 1 to %d characters", what, cn,
		    MAX_CN_CHARS);
	return 0;
}

static int
name_cn(const char *cn, X509_NAME **out)
{
	X509_NAME *name;

	*out = NULL;
	if ((name = X509_NAME_new()) == NULL)
		return ferry__crypto_fail("cannot build a name");
	if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	        (const unsigned char *)cn, -1, -1, 0) != 1) {
		X509_NAME_free(name);
		ferry_log_openssl();
		return ferry_errf(FERRY_E_USAGE,
		    "'%s' is not valid UTF-8 text for a common name", cn);
	}
	*out = name;
	return 0;
}

/* ferry_ca_init: check what is there before creating anything. */
static int
ca_absent(const char *dir)
{
	static const char *const names[] = {CA_KEY, CA_CERT, CA_INDEX};
	char path[PATH_MAX];
	int r;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((r = path_join(path, sizeof(path), dir, names[i])) != 0)
			return r;
		if (exists(path))
			return ferry_errf(FERRY_E_EXIST,
			    "%s already exists; a CA is there (remove it or "
			    "choose another directory)",
			    path);
	}
	return 0;
}

static int
ca_cert_build(EVP_PKEY *key, const struct ferry_ca_init_opts *opts, X509 **out)
{
	X509 *cert = NULL;
	X509_NAME *name = NULL;
	ASN1_INTEGER *serial = NULL;
	X509V3_CTX ctx;
	const char *cn = opts->name != NULL ? opts->name : CA_DEFAULT_NAME;
	int days = opts->days != 0 ? opts->days : CA_DEFAULT_DAYS;
	time_t now = time(NULL);
	int r = FERRY_E_INTERNAL;

	*out = NULL;
	if (days < 1 || days > MAX_DAYS) {
		r = ferry_errf(FERRY_E_USAGE,
		    "CA validity of %d days: use 1 to %d", days, MAX_DAYS);
		goto out;
	}
	if ((r = cn_check("CA name", cn)) != 0 ||
	    (r = name_cn(cn, &name)) != 0 || (r = serial_random(&serial)) != 0)
		goto out;
	if ((cert = X509_new()) == NULL ||
	    X509_set_version(cert, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(cert, serial) != 1 ||
	    X509_set_subject_name(cert, name) != 1 ||
	    X509_set_issuer_name(cert, name) != 1 ||
	    X509_set_pubkey(cert, key) != 1) {
		r = ferry__crypto_fail("cannot build the CA certificate");
		goto out;
	}
	if ((r = set_times(cert, now - BACKDATE,
	         now - BACKDATE + (time_t)days * 86400)) != 0)
		goto out;
	/* Self-signed: issuer and subject are the same certificate. */
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	/* The SKI must be there before the AKI copies it. */
	if ((r = add_ext(
	         cert, &ctx, NID_basic_constraints, "critical,CA:TRUE")) != 0 ||
	    (r = add_ext(cert, &ctx, NID_key_usage,
	         "critical,keyCertSign,cRLSign,digitalSignature")) != 0 ||
	    (r = add_ext(cert, &ctx, NID_subject_key_identifier, "hash")) !=
	        0 ||
	    (r = add_ext(cert, &ctx, NID_authority_key_identifier,
	         "keyid:always")) != 0)
		goto out;
	if (X509_sign(cert, key, sign_md(key)) <= 0) {
		r = ferry__crypto_fail("cannot sign the CA certificate");
		goto out;
	}
	*out = cert;
	cert = NULL;
	r = 0;
out:
	X509_free(cert);
	X509_NAME_free(name);
	ASN1_INTEGER_free(serial);
	return r;
}

static int
key_pem(EVP_PKEY *key, BIO **out)
{
	BIO *bio;

	*out = NULL;
	/* Secure-heap memory: cleansed when freed. */
	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PKCS8PrivateKey(
	        bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(bio);
		return ferry__crypto_fail("cannot encode the private key");
	}
	*out = bio;
	return 0;
}

static int
cert_pem(X509 *cert, BIO **out)
{
	BIO *bio;

	*out = NULL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(bio, cert) != 1) {
		BIO_free(bio);
		return ferry__crypto_fail("cannot encode the certificate");
	}
	*out = bio;
	return 0;
}

static int
write_bio(const char *path, BIO *bio, mode_t mode, int exclusive)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);

	if (len <= 0)
		return ferry_errf(
		    FERRY_E_INTERNAL, "%s: nothing to write", path);
	return write_file(path, data, (size_t)len, mode, exclusive);
}

int
ferry_ca_init(const struct ferry_ca_init_opts *opts)
{
	char key_path[PATH_MAX], cert_path[PATH_MAX], index_path[PATH_MAX];
	char certs_path[PATH_MAX];
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	BIO *key_bio = NULL, *cert_bio = NULL;
	int made_key = 0, made_cert = 0, made_index = 0, fd = -1, e;
	int r = FERRY_E_INTERNAL;

	if (opts == NULL || opts->dir == NULL || *opts->dir == '\0')
		return ferry_errf(FERRY_E_USAGE, "no CA directory given");
	if ((r = path_join(key_path, sizeof(key_path), opts->dir, CA_KEY)) !=
	        0 ||
	    (r = path_join(cert_path, sizeof(cert_path), opts->dir, CA_CERT)) !=
	        0 ||
	    (r = path_join(
	         index_path, sizeof(index_path), opts->dir, CA_INDEX)) != 0 ||
	    (r = path_join(
	         certs_path, sizeof(certs_path), opts->dir, CA_CERTS)) != 0)
		goto out;
	/* Everything that can be refused is refused before a file appears. */
	if ((r = ca_absent(opts->dir)) != 0 ||
	    (r = ferry_key_generate(opts->key_type, &key)) != 0 ||
	    (r = ca_cert_build(key, opts, &cert)) != 0 ||
	    (r = key_pem(key, &key_bio)) != 0 ||
	    (r = cert_pem(cert, &cert_bio)) != 0 ||
	    (r = ensure_dir(opts->dir)) != 0)
		goto out;

	if ((r = write_bio(key_path, key_bio, 0600, 1)) != 0)
		goto out;
	made_key = 1;
	if ((r = write_bio(cert_path, cert_bio, 0644, 1)) != 0)
		goto out;
	made_cert = 1;
	if ((fd = open(index_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	         0600)) == -1) {
		e = errno;
		r = ferry_errf_errno(ferry_err_from_errno(e), e,
		    "%s: cannot create", index_path);
		goto out;
	}
	made_index = 1;
	if (fsync(fd) == -1) {
		e = errno;
		r = ferry_errf_errno(
		    ferry_err_from_errno(e), e, "%s: cannot sync", index_path);
		goto out;
	}
	if ((r = ensure_dir(certs_path)) != 0 ||
	    (r = fsync_dir_of(index_path)) != 0)
		goto out;
	r = 0;
out:
	if (fd != -1)
		close(fd);
	/* A failed init leaves no CA behind, so it can simply be re-run. */
	if (r != 0 && made_index)
		unlink(index_path);
	if (r != 0 && made_cert)
		unlink(cert_path);
	if (r != 0 && made_key)
		unlink(key_path);
	BIO_free(key_bio);
	BIO_free(cert_bio);
	X509_free(cert);
	EVP_PKEY_free(key);
	return r;
}

int
ferry_ca_load(const char *dir, struct ferry_ca **out)
{
	char key_path[PATH_MAX], cert_path[PATH_MAX];
	struct ferry_ca *ca = NULL;
	int r = FERRY_E_INTERNAL;

	*out = NULL;
	if (dir == NULL || *dir == '\0')
		return ferry_errf(FERRY_E_USAGE, "no CA directory given");
	if ((r = path_join(key_path, sizeof(key_path), dir, CA_KEY)) != 0 ||
	    (r = path_join(cert_path, sizeof(cert_path), dir, CA_CERT)) != 0)
		return r;
	if ((ca = calloc(1, sizeof(*ca))) == NULL ||
	    (ca->dir = strdup(dir)) == NULL) {
		r = ferry_errf(FERRY_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = ferry_cert_load(cert_path, &ca->cert)) != 0 ||
	    (r = ferry_key_load(key_path, &ca->key)) != 0)
		goto out;
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		ferry_log_openssl();
		r = ferry_errf(FERRY_E_CERT, "%s does not belong to %s",
		    key_path, cert_path);
		goto out;
	}
	if (X509_check_ca(ca->cert) < 1) {
		r = ferry_errf(
		    FERRY_E_CERT, "%s is not a CA certificate", cert_path);
		goto out;
	}
	if ((r = ca_load_root(ca)) != 0)
		goto out;
	*out = ca;
	ca = NULL;
	r = 0;
out:
	ferry_ca_free(ca);
	return r;
}

void
ferry_ca_free(struct ferry_ca *ca)
{
	if (ca == NULL)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	X509_free(ca->root);
	free(ca->dir);
	free(ca);
}

X509 *
ferry_ca_cert(const struct ferry_ca *ca)
{
	return ca->cert;
}

/* not_before/not_after from req, within the CA's own validity. */
static int
req_times(const struct ferry_ca *ca, const struct ferry_cert_req *req,
    time_t *nb, time_t *na)
{
	const ASN1_TIME *ca_na = X509_get0_notAfter(ca->cert);
	int days = req->days != 0 ? req->days : CERT_DEFAULT_DAYS;
	char a[32], b[32];
	struct tm tm;
	int cmp;

	*nb = req->not_before != 0 ? req->not_before : time(NULL) - BACKDATE;
	if (req->not_after != 0) {
		*na = req->not_after;
	} else {
		if (days < 1 || days > MAX_DAYS)
			return ferry_errf(FERRY_E_USAGE,
			    "validity of %d days: use 1 to %d", days, MAX_DAYS);
		*na = *nb + (time_t)days * 86400;
	}
	if (*na <= *nb) {
		iso_time(*nb, b);
		iso_time(*na, a);
		return ferry_errf(FERRY_E_USAGE,
		    "notAfter %s is not later than notBefore %s", a, b);
	}
	/* A certificate outliving its CA fails later, confusingly. */
	if ((cmp = ASN1_TIME_cmp_time_t(ca_na, *na)) == -2)
		return ferry__crypto_fail("cannot read the CA's notAfter");
	if (cmp < 0) {
		iso_time(*na, a);
		if (ASN1_TIME_to_tm(ca_na, &tm) != 1 ||
		    strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			snprintf(b, sizeof(b), "?");
		return ferry_errf(FERRY_E_USAGE,
		    "notAfter %s is after the CA certificate expires (%s); "
		    "ask for a shorter validity",
		    a, b);
	}
	return 0;
}

static int
member_cert_build(struct ferry_ca *ca, EVP_PKEY *key,
    const struct ferry_cert_req *req, X509 **out, time_t *nb, time_t *na)
{
	X509 *cert = NULL;
	X509_NAME *name = NULL;
	ASN1_INTEGER *serial = NULL;
	GENERAL_NAMES *sans = NULL;
	X509V3_CTX ctx;
	int r = FERRY_E_INTERNAL;

	*out = NULL;
	if ((r = ferry_id_check(req->id)) != 0 ||
	    (r = san_build(req, &sans)) != 0 ||
	    (r = req_times(ca, req, nb, na)) != 0 ||
	    (r = name_cn(req->id, &name)) != 0 ||
	    (r = serial_random(&serial)) != 0)
		goto out;
	if ((cert = X509_new()) == NULL ||
	    X509_set_version(cert, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(cert, serial) != 1 ||
	    X509_set_subject_name(cert, name) != 1 ||
	    X509_set_issuer_name(cert, X509_get_subject_name(ca->cert)) != 1 ||
	    X509_set_pubkey(cert, key) != 1) {
		r = ferry__crypto_fail("cannot build the certificate");
		goto out;
	}
	if ((r = set_times(cert, *nb, *na)) != 0)
		goto out;
	X509V3_set_ctx(&ctx, ca->cert, cert, NULL, NULL, 0);
	if ((r = add_ext(cert, &ctx, NID_basic_constraints,
	         "critical,CA:FALSE")) != 0 ||
	    (r = add_ext(cert, &ctx, NID_key_usage,
	         EVP_PKEY_is_a(key, "RSA")
	             ? "critical,digitalSignature,keyEncipherment"
	             : "critical,digitalSignature")) != 0 ||
	    (r = add_ext(cert, &ctx, NID_ext_key_usage,
	         req->server_only ? "serverAuth," FERRY_OID_AUTHD
	                          : "serverAuth,clientAuth")) != 0 ||
	    (r = add_ext(cert, &ctx, NID_subject_key_identifier, "hash")) !=
	        0 ||
	    (r = add_ext(cert, &ctx, NID_authority_key_identifier,
	         "keyid:always")) != 0)
		goto out;
	/* RFC 5280 4.2.1.6: not critical, the subject is not empty. */
	if (X509_add1_ext_i2d(
	        cert, NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT) != 1) {
		r = ferry__crypto_fail("cannot add subjectAltName");
		goto out;
	}
	if (X509_sign(cert, ca->key, sign_md(ca->key)) <= 0) {
		r = ferry__crypto_fail("cannot sign the certificate");
		goto out;
	}
	*out = cert;
	cert = NULL;
	r = 0;
out:
	X509_free(cert);
	X509_NAME_free(name);
	ASN1_INTEGER_free(serial);
	GENERAL_NAMES_free(sans);
	return r;
}

/*
 * Appends line to the index under an exclusive lock; on a failed write the
 * file is cut back so it never holds half a line.
 */
static int
index_append(const char *path, const char *line)
{
	struct stat st;
	int fd, r = FERRY_E_INTERNAL, e;

	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	         0600)) == -1) {
		e = errno;
		return ferry_errf_errno(
		    ferry_err_from_errno(e), e, "%s: cannot open", path);
	}
	if (fstat(fd, &st) == -1) {
		e = errno;
		r = ferry_errf_errno(ferry_err_from_errno(e), e, "%s", path);
		goto out;
	}
	if (write_all(fd, line, strlen(line)) == -1 || fsync(fd) == -1) {
		e = errno;
		if (ftruncate(fd, st.st_size) == -1)
			ferry_warn("%s: cannot remove a partial line", path);
		r = ferry_errf_errno(ferry_err_from_errno(e), e,
		    "%s: cannot record the certificate", path);
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}

/*
 * Records an issued certificate: certs/<SERIAL>.pem, then its index line,
 * which is the commit point. Holds an exclusive flock(2) on the CA
 * directory so concurrent issuers (and later revoke/crl) do not interleave.
 */
static int
ca_record(struct ferry_ca *ca, X509 *cert, const char *id, time_t nb, time_t na)
{
	char certs[PATH_MAX], name[80], path[PATH_MAX], index[PATH_MAX];
	char line[256], a[32], b[32];
	char *hex = NULL;
	BIO *bio = NULL;
	int dfd = -1, made = 0, r = FERRY_E_INTERNAL, e;

	if ((dfd = open(ca->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		e = errno;
		r = ferry_errf_errno(ferry_err_from_errno(e), e,
		    "%s: cannot open CA directory", ca->dir);
		goto out;
	}
	while (flock(dfd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		e = errno;
		r = ferry_errf_errno(ferry_err_from_errno(e), e,
		    "%s: cannot lock CA directory", ca->dir);
		goto out;
	}
	if ((r = serial_hex(X509_get0_serialNumber(cert), &hex)) != 0)
		goto out;
	snprintf(name, sizeof(name), "%s.pem", hex);
	if ((r = path_join(certs, sizeof(certs), ca->dir, CA_CERTS)) != 0 ||
	    (r = path_join(path, sizeof(path), certs, name)) != 0 ||
	    (r = path_join(index, sizeof(index), ca->dir, CA_INDEX)) != 0 ||
	    (r = ensure_dir(certs)) != 0 || (r = cert_pem(cert, &bio)) != 0)
		goto out;
	/* Exclusive: a repeated serial (p = 2^-128) fails, never overwrites. */
	if ((r = write_bio(path, bio, 0644, 1)) != 0)
		goto out;
	made = 1;
	iso_time(nb, b);
	iso_time(na, a);
	snprintf(line, sizeof(line), "%s\t%s\t%s\t%s\tV\n", hex, b, a, id);
	if ((r = index_append(index, line)) != 0)
		goto out;
	r = 0;
out:
	if (r != 0 && made)
		unlink(path);
	if (dfd != -1)
		close(dfd); /* releases the lock */
	BIO_free(bio);
	OPENSSL_free(hex);
	return r;
}

int
ferry_ca_sign(struct ferry_ca *ca, EVP_PKEY *key,
    const struct ferry_cert_req *req, X509 **out)
{
	X509 *cert = NULL;
	time_t nb = 0, na = 0;
	int r = FERRY_E_INTERNAL;

	*out = NULL;
	if (ca == NULL || key == NULL || req == NULL)
		return ferry_errf(FERRY_E_USAGE, "nothing to sign");
	if ((r = member_cert_build(ca, key, req, &cert, &nb, &na)) != 0 ||
	    (r = ca_record(ca, cert, req->id, nb, na)) != 0)
		goto out;
	*out = cert;
	cert = NULL;
	r = 0;
out:
	X509_free(cert);
	return r;
}

int
ferry_cert_is_authd(X509 *cert)
{
	EXTENDED_KEY_USAGE *eku;
	ASN1_OBJECT *mark;
	int found = 0;

	if (cert == NULL || (eku = X509_get_ext_d2i(cert, NID_ext_key_usage,
	                         NULL, NULL)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	if ((mark = OBJ_txt2obj(FERRY_OID_AUTHD, 1)) != NULL)
		for (int i = 0; i < sk_ASN1_OBJECT_num(eku) && !found; i++)
			found =
			    OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), mark) == 0;
	ASN1_OBJECT_free(mark);
	EXTENDED_KEY_USAGE_free(eku);
	ERR_clear_error();
	return found;
}

int
ferry_cert_id(X509 *cert, char id[FERRY_MAX_ID + 1])
{
	static const char scheme[] = "ferry:";
	const size_t slen = sizeof(scheme) - 1;
	GENERAL_NAMES *gens = NULL;
	const ASN1_IA5STRING *found = NULL;
	char why[256];
	int crit = -1, n = 0, r = FERRY_E_INTERNAL;

	id[0] = '\0';
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL) {
		ERR_clear_error();
		r = ferry_errf(FERRY_E_IDENTITY,
		    crit == -2 ? "certificate has more than one "
		                 "subjectAltName extension"
		               : "certificate has no ferry member ID (URI "
		                 "SAN ferry:<ID>)");
		goto out;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		const ASN1_IA5STRING *uri;

		if (gn->type != GEN_URI)
			continue;
		uri = gn->d.uniformResourceIdentifier;
		if ((size_t)uri->length < slen ||
		    memcmp(uri->data, scheme, slen) != 0)
			continue;
		found = uri;
		n++;
	}
	if (n == 0) {
		r = ferry_errf(FERRY_E_IDENTITY,
		    "certificate has no ferry member ID (URI SAN ferry:<ID>)");
		goto out;
	}
	if (n > 1) {
		r = ferry_errf(FERRY_E_IDENTITY,
		    "certificate names %d ferry member IDs; it must name one",
		    n);
		goto out;
	}
	if ((size_t)found->length - slen > FERRY_MAX_ID ||
	    memchr(found->data + slen, '\0', (size_t)found->length - slen) !=
	        NULL) {
		r = ferry_errf(FERRY_E_IDENTITY,
		    "certificate's ferry member ID is malformed");
		goto out;
	}
	memcpy(id, found->data + slen, (size_t)found->length - slen);
	id[found->length - slen] = '\0';
	if (ferry_id_check(id) != 0) {
		/* The detail lives in the buffer ferry_errf writes: copy it. */
		snprintf(
		    why, sizeof(why), "%s", ferry_err_detail(FERRY_E_USAGE));
		r = ferry_errf(FERRY_E_IDENTITY,
		    "certificate's ferry member ID is malformed: %s", why);
		id[0] = '\0';
		goto out;
	}
	r = 0;
out:
	GENERAL_NAMES_free(gens);
	return r;
}

void
ferry_cert_groups_free(char **groups, size_t n)
{
	if (groups == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(groups[i]);
	free(groups);
}

/* One URI SAN value after "ferry-group:", as a checked C string. */
static int
group_from_san(const ASN1_IA5STRING *uri, size_t skip, char **out)
{
	char name[FERRY_MAX_GROUP + 1], why[256];
	size_t len = (size_t)uri->length - skip;

	*out = NULL;
	if (len > FERRY_MAX_GROUP || memchr(uri->data + skip, '\0', len))
		return ferry_errf(
		    FERRY_E_IDENTITY, "certificate's group name is malformed");
	memcpy(name, uri->data + skip, len);
	name[len] = '\0';
	if (ferry_group_check(name) != 0) {
		/* The detail lives in the buffer ferry_errf writes: copy it. */
		snprintf(
		    why, sizeof(why), "%s", ferry_err_detail(FERRY_E_USAGE));
		return ferry_errf(FERRY_E_IDENTITY,
		    "certificate's group name is malformed: %s", why);
	}
	if ((*out = strdup(name)) == NULL)
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	return 0;
}

int
ferry_cert_groups(X509 *cert, char ***out, size_t *n)
{
	const size_t slen = sizeof(GROUP_SCHEME) - 1;
	GENERAL_NAMES *gens = NULL;
	char **g = NULL, *name = NULL;
	size_t k = 0;
	int crit = -1, r = FERRY_E_INTERNAL;

	*out = NULL;
	*n = 0;
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL) {
		ERR_clear_error();
		/* No SAN at all: no groups; ferry_cert_id refuses the cert. */
		return crit == -2 ? ferry_errf(FERRY_E_IDENTITY,
		                        "certificate has more than one "
		                        "subjectAltName extension")
		                  : 0;
	}
	if ((g = calloc(FERRY_MAX_GROUPS, sizeof(*g))) == NULL) {
		r = ferry_errf(FERRY_E_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		const ASN1_IA5STRING *uri = gn->d.uniformResourceIdentifier;

		if (gn->type != GEN_URI || (size_t)uri->length < slen ||
		    memcmp(uri->data, GROUP_SCHEME, slen) != 0)
			continue;
		if (k == FERRY_MAX_GROUPS) {
			r = ferry_errf(FERRY_E_IDENTITY,
			    "certificate names more than %d groups",
			    FERRY_MAX_GROUPS);
			goto out;
		}
		if ((r = group_from_san(uri, slen, &name)) != 0)
			goto out;
		for (size_t j = 0; j < k; j++)
			if (strcmp(g[j], name) == 0) {
				r = ferry_errf(FERRY_E_IDENTITY,
				    "certificate names group '%s' twice", name);
				goto out;
			}
		g[k++] = name;
		name = NULL;
	}
	if (k > 0) {
		*out = g;
		*n = k;
		g = NULL;
	}
	r = 0;
out:
	free(name);
	ferry_cert_groups_free(g, k);
	GENERAL_NAMES_free(gens);
	return r;
}

int
ferry_identity_write(const char *dir, EVP_PKEY *key, X509 *cert, X509 *ca_cert)
{
	return ferry_identity_write_chain(dir, key, cert, NULL, ca_cert);
}

int
ferry_identity_write_chain(
    const char *dir, EVP_PKEY *key, X509 *cert, X509 *issuer, X509 *ca_cert)
{
	char key_path[PATH_MAX], cert_path[PATH_MAX], ca_path[PATH_MAX];
	BIO *key_bio = NULL, *cert_bio = NULL, *ca_bio = NULL;
	int made_key = 0, r = FERRY_E_INTERNAL;

	if (dir == NULL || *dir == '\0' || key == NULL || cert == NULL ||
	    ca_cert == NULL)
		return ferry_errf(FERRY_E_USAGE, "incomplete identity");
	if ((r = path_join(key_path, sizeof(key_path), dir, ID_KEY)) != 0 ||
	    (r = path_join(cert_path, sizeof(cert_path), dir, ID_CERT)) != 0 ||
	    (r = path_join(ca_path, sizeof(ca_path), dir, ID_CA)) != 0)
		goto out;
	if (X509_check_private_key(cert, key) != 1) {
		ferry_log_openssl();
		r = ferry_errf(FERRY_E_USAGE,
		    "the certificate does not belong to the key");
		goto out;
	}
	if (exists(key_path)) {
		r = ferry_errf(FERRY_E_EXIST,
		    "%s already exists; choose another --out directory or "
		    "remove it",
		    key_path);
		goto out;
	}
	if ((r = key_pem(key, &key_bio)) != 0 ||
	    (r = cert_pem(cert, &cert_bio)) != 0 ||
	    (r = cert_pem(ca_cert, &ca_bio)) != 0 || (r = ensure_dir(dir)) != 0)
		goto out;
	/* cert.pem = leaf + issuing CA: TLS sends the chain (tls.c). */
	if (issuer != NULL && PEM_write_bio_X509(cert_bio, issuer) != 1) {
		r = ferry__crypto_fail("cannot encode the certificate chain");
		goto out;
	}
	if ((r = write_bio(key_path, key_bio, 0600, 1)) != 0) {
		if (r == FERRY_E_EXIST) /* created since the check above */
			r = ferry_errf(FERRY_E_EXIST,
			    "%s already exists; choose another --out "
			    "directory or remove it",
			    key_path);
		goto out;
	}
	made_key = 1;
	if ((r = write_bio(cert_path, cert_bio, 0644, 0)) != 0 ||
	    (r = write_bio(ca_path, ca_bio, 0644, 0)) != 0)
		goto out;
	r = 0;
out:
	/* A key without its certificate is no identity; let a retry succeed. */
	if (r != 0 && made_key)
		unlink(key_path);
	BIO_free(key_bio);
	BIO_free(cert_bio);
	BIO_free(ca_bio);
	return r;
}

int
ferry_key_write(const char *path, EVP_PKEY *key)
{
	BIO *bio = NULL;
	int r;

	if ((r = key_pem(key, &bio)) == 0)
		r = write_bio(path, bio, 0600, 1);
	BIO_free(bio);
	return r;
}

int
ferry_cert_load(const char *path, X509 **out)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	X509 *cert = NULL;
	int r = FERRY_E_INTERNAL;

	*out = NULL;
	if ((r = read_file(path, "certificate", &buf, &len)) != 0)
		goto out;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		r = ferry__crypto_fail("cannot read a certificate");
		goto out;
	}
	if ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		ferry_log_openssl();
		r = ferry_errf(FERRY_E_CERT, "%s: not a PEM certificate", path);
		goto out;
	}
	*out = cert;
	r = 0;
out:
	BIO_free(bio);
	OPENSSL_free(buf);
	return r;
}

/* Keys are stored unencrypted (mode 0600); never prompt for a passphrase. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(int *)arg = 1;
	return -1;
}

int
ferry_key_check_mode(const char *path)
{
	struct stat st;
	mode_t m;
	const char *how;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) == 0)
		return 0;
	m = st.st_mode;
	how = (m & 004)   ? "readable by others"
	      : (m & 040) ? "readable by its group"
	      : (m & 002) ? "writable by others"
	      : (m & 020) ? "writable by its group"
	                  : "open to its group or others";
	return ferry_errf(FERRY_E_ACCESS,
	    "%s: %s (mode %04o); fix with: chmod 600 %s", path, how,
	    (unsigned)(m & 07777), path);
}

int
ferry_key_load(const char *path, EVP_PKEY **out)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;
	int asked = 0, r = FERRY_E_INTERNAL;

	*out = NULL;
	if ((r = ferry_key_check_mode(path)) != 0 ||
	    (r = read_file(path, "private key", &buf, &len)) != 0)
		goto out;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		r = ferry__crypto_fail("cannot read a private key");
		goto out;
	}
	if ((key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, &asked)) ==
	    NULL) {
		ferry_log_openssl();
		r = ferry_errf(FERRY_E_CERT,
		    asked ? "%s: the private key is encrypted; ferry needs it "
		            "unencrypted (mode 0600)"
		          : "%s: not a PEM private key",
		    path);
		goto out;
	}
	*out = key;
	r = 0;
out:
	BIO_free(bio);
	if (buf != NULL)
		OPENSSL_clear_free(buf, len);
	return r;
}

int
ferry_cert_fingerprint(X509 *cert, char *out, size_t outlen)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char *p;

	if (outlen > 0)
		out[0] = '\0';
	if (outlen < sizeof("SHA256:") + 2 * 32)
		return ferry_errf(FERRY_E_INTERNAL,
		    "fingerprint buffer of %zu bytes is too small", outlen);
	if (X509_digest(cert, EVP_sha256(), md, &n) != 1 || n != 32)
		return ferry__crypto_fail("cannot hash the certificate");
	memcpy(out, "SHA256:", 7);
	p = out + 7;
	for (unsigned int i = 0; i < n; i++) {
		*p++ = hexd[md[i] >> 4];
		*p++ = hexd[md[i] & 0xf];
	}
	*p = '\0';
	return 0;
}

int
ferry_cert_serial_hex(X509 *cert, char **out)
{
	return serial_hex(X509_get0_serialNumber(cert), out);
}

/* A memory BIO's contents as a NUL-terminated string (caller frees); frees bio. */
static int
bio_string(BIO *bio, char **out, size_t *outlen)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);

	if (len <= 0 || (*out = malloc((size_t)len + 1)) == NULL) {
		BIO_free(bio);
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	}
	memcpy(*out, data, (size_t)len);
	(*out)[len] = '\0';
	*outlen = (size_t)len;
	BIO_free(bio);
	return 0;
}

int
ferry_cert_pem(X509 *cert, char **out, size_t *outlen)
{
	BIO *bio = NULL;
	int r;

	*out = NULL;
	*outlen = 0;
	if ((r = cert_pem(cert, &bio)) != 0)
		return r;
	return bio_string(bio, out, outlen);
}

int
ferry_identity_replace(const char *dir, const char *leaf, const void *data,
    size_t len, unsigned mode)
{
	char path[PATH_MAX];
	int r;

	if (strchr(leaf, '/') != NULL || *leaf == '\0' || *leaf == '.')
		return ferry_errf(
		    FERRY_E_BADNAME, "%s: not a plain name", leaf);
	if ((r = path_join(path, sizeof(path), dir, leaf)) != 0)
		return r;
	return write_file(path, data, len, (mode_t)(mode & 0777), 0);
}

/* Takes the CA directory's lock (see ca_record); *dfd releases it. */
static int
ca_lock(struct ferry_ca *ca, int *dfd)
{
	int e;

	if ((*dfd = open(ca->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		e = errno;
		return ferry_errf_errno(ferry_err_from_errno(e), e,
		    "%s: cannot open CA directory", ca->dir);
	}
	while (flock(*dfd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		e = errno;
		close(*dfd);
		*dfd = -1;
		return ferry_errf_errno(ferry_err_from_errno(e), e,
		    "%s: cannot lock CA directory", ca->dir);
	}
	return 0;
}

/* One index.tsv line, split in place. */
struct index_line {
	char *serial, *nb, *na, *id, *status, *revoked;
};

/* Splits line (without its newline) at tabs: 5 fields, or 6 for status R. */
static int
index_split(char *line, struct index_line *l)
{
	char *f[7];
	int n = 0;

	memset(l, 0, sizeof(*l));
	for (char *p = line; n < 7;) {
		f[n++] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p++ = '\0';
	}
	if (n < 5 || n > 6 || strlen(f[4]) != 1 ||
	    (f[4][0] != 'V' && f[4][0] != 'R') ||
	    (f[4][0] == 'R') != (n == 6) || *f[0] == '\0')
		return -1;
	l->serial = f[0];
	l->nb = f[1];
	l->na = f[2];
	l->id = f[3];
	l->status = f[4];
	l->revoked = n == 6 ? f[5] : NULL;
	return 0;
}

/* Appends l as an index line. */
static int
index_put(struct ferry_buf *out, const struct index_line *l)
{
	const char *f[] = {
	    l->serial, l->nb, l->na, l->id, l->status, l->revoked};
	int r;

	for (size_t i = 0; i < 6 && f[i] != NULL; i++)
		if ((i > 0 && (r = ferry_buf_put(out, "\t", 1)) != 0) ||
		    (r = ferry_buf_put(out, f[i], strlen(f[i]))) != 0)
			return r;
	return ferry_buf_put(out, "\n", 1);
}

/* Reads index.tsv (caller holds the lock): NUL-terminated, caller frees. */
static int
index_read(
    struct ferry_ca *ca, char *path, size_t pathlen, char **out, size_t *outlen)
{
	unsigned char *buf = NULL, *grown;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = path_join(path, pathlen, ca->dir, CA_INDEX)) != 0 ||
	    (r = read_file_max(path, "CA index", MAX_INDEX_FILE, &buf, &len)) !=
	        0)
		return r;
	if ((grown = OPENSSL_realloc(buf, len + 1)) == NULL) {
		OPENSSL_free(buf);
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	}
	grown[len] = '\0';
	if (memchr(grown, '\0', len) != NULL) {
		OPENSSL_free(grown);
		return ferry_errf(FERRY_E_IO, "%s: holds a NUL byte", path);
	}
	*out = (char *)grown;
	*outlen = len;
	return 0;
}

/* Hex serials compare as numbers: case and leading zeros do not matter. */
static int
serial_equal(const char *a, const char *b)
{
	while (*a == '0' && a[1] != '\0')
		a++;
	while (*b == '0' && b[1] != '\0')
		b++;
	return strcasecmp(a, b) == 0;
}

static int
serial_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 2 * 20 + 2)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f') ||
		        (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

int
ferry_ca_revoke(struct ferry_ca *ca, const char *serial, const char *id,
    time_t when, ferry_ca_entry_fn *fn, void *arg)
{
	char path[PATH_MAX], stamp[32];
	char *text = NULL, *next, *line;
	struct ferry_buf out;
	struct index_line l;
	size_t len = 0, lineno = 0;
	unsigned matched = 0, revoked = 0;
	int dfd = -1, r = FERRY_E_INTERNAL;

	ferry_buf_init_public(&out, (size_t)MAX_INDEX_FILE + 4096);
	if ((serial == NULL) == (id == NULL)) {
		r = ferry_errf(FERRY_E_USAGE, "give a serial or an ID");
		goto out;
	}
	if (serial != NULL && !serial_ok(serial)) {
		r = ferry_errf(FERRY_E_USAGE,
		    "'%s' is not a hexadecimal serial number", serial);
		goto out;
	}
	if (id != NULL && (r = ferry_id_check(id)) != 0)
		goto out;
	iso_time(when != 0 ? when : time(NULL), stamp);
	if ((r = ca_lock(ca, &dfd)) != 0 ||
	    (r = index_read(ca, path, sizeof(path), &text, &len)) != 0)
		goto out;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		int match;

		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (index_split(line, &l) != 0) {
			r = ferry_errf(FERRY_E_IO,
			    "%s: line %zu is malformed; fix it by hand", path,
			    lineno);
			goto out;
		}
		match = serial != NULL ? serial_equal(l.serial, serial)
		                       : strcmp(l.id, id) == 0;
		if (match)
			matched++;
		if (match && l.status[0] == 'V') {
			struct ferry_ca_entry e = {.serial = l.serial,
			    .id = l.id,
			    .not_after = l.na,
			    .status = 'R'};

			revoked++;
			l.status = "R";
			l.revoked = stamp;
			if (fn != NULL)
				fn(&e, arg);
		}
		if ((r = index_put(&out, &l)) != 0)
			goto out;
	}
	if (matched == 0) {
		r = serial != NULL
		        ? ferry_errf(FERRY_E_NOENT,
		              "no certificate with serial %s in %s", serial,
		              path)
		        : ferry_errf(FERRY_E_NOENT,
		              "no certificate for '%s' in %s", id, path);
		goto out;
	}
	if (revoked == 0) {
		r = ferry_errf(FERRY_E_EXIST, "%s already revoked",
		    serial != NULL ? serial
		                   : "every certificate of that ID is");
		goto out;
	}
	if ((r = write_file(path, out.data, out.len, 0600, 0)) != 0)
		goto out;
	r = 0;
out:
	if (dfd != -1)
		close(dfd);
	OPENSSL_free(text);
	ferry_buf_free(&out);
	return r;
}

int
ferry_ca_check(struct ferry_ca *ca, X509 *cert)
{
	char path[PATH_MAX];
	char *hex = NULL, *text = NULL, *next, *line;
	struct index_line l;
	size_t len = 0;
	int dfd = -1, r = FERRY_E_INTERNAL;

	if (X509_check_issued(ca->cert, cert) != X509_V_OK) {
		r = ferry_errf(FERRY_E_CERT, "not issued by this CA");
		goto out;
	}
	if ((r = ferry_cert_serial_hex(cert, &hex)) != 0 ||
	    (r = ca_lock(ca, &dfd)) != 0 ||
	    (r = index_read(ca, path, sizeof(path), &text, &len)) != 0)
		goto out;
	r = ferry_errf(
	    FERRY_E_CERT, "serial %s is not in this CA's record", hex);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (index_split(line, &l) != 0 || !serial_equal(l.serial, hex))
			continue;
		r = l.status[0] == 'V' ? 0
		                       : ferry_errf(FERRY_E_REVOKED,
		                             "certificate %s was revoked on %s",
		                             hex, l.revoked);
		break;
	}
out:
	if (dfd != -1)
		close(dfd);
	OPENSSL_free(text);
	OPENSSL_free(hex);
	return r;
}

int
ferry_ca_index_stamp(struct ferry_ca *ca, long long *stamp)
{
	char path[PATH_MAX];
	struct stat st;
	uint64_t h;
	int r;

	*stamp = 0;
	if ((r = path_join(path, sizeof(path), ca->dir, CA_INDEX)) != 0)
		return r;
	if (stat(path, &st) == -1)
		return ferry_errf_errno(
		    ferry_err_from_errno(errno), errno, "%s", path);
	/* Unsigned: the mix wraps by design (signed overflow would be UB). */
	h = (uint64_t)st.st_mtim.tv_sec * 1000000000u +
	    (uint64_t)st.st_mtim.tv_nsec + (uint64_t)st.st_size * 7919u;
	/*
	 * A CRL signed elsewhere (ferry ca crl) moves crlnumber on: whoever
	 * serves CRLs must then sign a newer one, or clients holding that
	 * CRL would refuse ours as older.
	 */
	if (path_join(path, sizeof(path), ca->dir, CA_CRLNUMBER) == 0 &&
	    stat(path, &st) == 0)
		h = h * 31u + (uint64_t)st.st_mtim.tv_sec * 1000000000u +
		    (uint64_t)st.st_mtim.tv_nsec;
	*stamp = (long long)(h & (uint64_t)LLONG_MAX);
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ" back to time_t. */
static int
iso_parse(const char *s, time_t *out)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *end != '\0')
		return -1;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

/* DIR/crlnumber: the last CRL number issued, decimal. Caller holds the lock. */
static int
crl_number_next(struct ferry_ca *ca, long long *out)
{
	char path[PATH_MAX], text[32];
	unsigned char *buf = NULL;
	size_t len = 0;
	long long n = 0;
	int r;

	if ((r = path_join(path, sizeof(path), ca->dir, CA_CRLNUMBER)) != 0)
		return r;
	if (exists(path)) {
		char *end;

		if ((r = read_file(path, "CRL number", &buf, &len)) != 0)
			return r;
		snprintf(text, sizeof(text), "%.*s",
		    (int)(len < sizeof(text) ? len : sizeof(text) - 1),
		    (char *)buf);
		OPENSSL_free(buf);
		errno = 0;
		n = strtoll(text, &end, 10);
		if (errno != 0 || end == text ||
		    (*end != '\n' && *end != '\0') || n < 0 || n >= LLONG_MAX)
			return ferry_errf(FERRY_E_IO,
			    "%s: not a CRL number; fix it by hand", path);
	}
	n++;
	snprintf(text, sizeof(text), "%lld\n", n);
	if ((r = write_file(path, text, strlen(text), 0600, 0)) != 0)
		return r;
	*out = n;
	return 0;
}

static int
crl_add_revoked(X509_CRL *crl, const struct index_line *l)
{
	X509_REVOKED *rev = NULL;
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *t = NULL;
	BIGNUM *bn = NULL;
	time_t when;
	int r = FERRY_E_CRYPTO;

	if (iso_parse(l->revoked, &when) != 0)
		return ferry_errf(FERRY_E_IO,
		    "index: serial %s: bad revocation time '%s'", l->serial,
		    l->revoked);
	if (BN_hex2bn(&bn, l->serial) == 0 ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    (t = ASN1_TIME_set(NULL, when)) == NULL ||
	    (rev = X509_REVOKED_new()) == NULL ||
	    X509_REVOKED_set_serialNumber(rev, serial) != 1 ||
	    X509_REVOKED_set_revocationDate(rev, t) != 1 ||
	    X509_CRL_add0_revoked(crl, rev) != 1) {
		X509_REVOKED_free(rev);
		r = ferry__crypto_fail("cannot add to the CRL");
		goto out;
	}
	r = 0;
out:
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(t);
	return r;
}

static int
crl_pem_bio(X509_CRL *crl, BIO **out)
{
	BIO *bio;

	*out = NULL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_CRL(bio, crl) != 1) {
		BIO_free(bio);
		return ferry__crypto_fail("cannot encode the CRL");
	}
	*out = bio;
	return 0;
}

int
ferry_ca_crl(struct ferry_ca *ca, int days, X509_CRL **out)
{
	char path[PATH_MAX], crl_path[PATH_MAX];
	char *text = NULL, *next, *line;
	struct index_line l;
	X509_CRL *crl = NULL;
	X509_EXTENSION *ext = NULL;
	ASN1_INTEGER *num = NULL;
	ASN1_TIME *t = NULL;
	X509V3_CTX ctx;
	BIO *bio = NULL;
	time_t now = time(NULL);
	long long number = 0;
	size_t len = 0;
	int dfd = -1, r = FERRY_E_INTERNAL;

	*out = NULL;
	if (days == 0)
		days = CRL_DEFAULT_DAYS;
	if (days < 1 || days > MAX_DAYS)
		return ferry_errf(FERRY_E_USAGE,
		    "CRL validity of %d days: use 1 to %d", days, MAX_DAYS);
	if ((r = path_join(crl_path, sizeof(crl_path), ca->dir, CA_CRL)) != 0 ||
	    (r = ca_lock(ca, &dfd)) != 0 ||
	    (r = index_read(ca, path, sizeof(path), &text, &len)) != 0)
		goto out;
	if ((crl = X509_CRL_new()) == NULL ||
	    X509_CRL_set_version(crl, 1) != 1 || /* v2 */
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) !=
	        1 ||
	    (t = ASN1_TIME_set(NULL, now)) == NULL ||
	    X509_CRL_set1_lastUpdate(crl, t) != 1 ||
	    ASN1_TIME_set(t, now + (time_t)days * 86400) == NULL ||
	    X509_CRL_set1_nextUpdate(crl, t) != 1) {
		r = ferry__crypto_fail("cannot build the CRL");
		goto out;
	}
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (index_split(line, &l) != 0) {
			r = ferry_errf(FERRY_E_IO,
			    "%s: a line is malformed; fix it by hand", path);
			goto out;
		}
		if (l.status[0] == 'R' && (r = crl_add_revoked(crl, &l)) != 0)
			goto out;
	}
	if (X509_CRL_sort(crl) != 1) {
		r = ferry__crypto_fail("cannot build the CRL");
		goto out;
	}
	/* RFC 5280 5.2.1 and 5.2.3: AKI and CRL number are MUSTs. */
	X509V3_set_ctx(&ctx, ca->cert, NULL, NULL, crl, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &ctx,
	         NID_authority_key_identifier, "keyid:always")) == NULL ||
	    X509_CRL_add_ext(crl, ext, -1) != 1) {
		r = ferry__crypto_fail("cannot add the CRL's authority key ID");
		goto out;
	}
	if ((r = crl_number_next(ca, &number)) != 0)
		goto out;
	if ((num = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_int64(num, number) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1) {
		r = ferry__crypto_fail("cannot add the CRL number");
		goto out;
	}
	if (X509_CRL_sign(crl, ca->key, sign_md(ca->key)) <= 0) {
		r = ferry__crypto_fail("cannot sign the CRL");
		goto out;
	}
	if ((r = crl_pem_bio(crl, &bio)) != 0 ||
	    (r = write_bio(crl_path, bio, 0644, 0)) != 0)
		goto out;
	*out = crl;
	crl = NULL;
	r = 0;
out:
	if (dfd != -1)
		close(dfd);
	BIO_free(bio);
	OPENSSL_free(text);
	X509_EXTENSION_free(ext);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return r;
}

int
ferry_crl_load(const char *path, X509_CRL **out)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	X509_CRL *crl = NULL;
	int r;

	*out = NULL;
	if ((r = read_file_max(path, "CRL", 16 * 1024 * 1024, &buf, &len)) != 0)
		goto out;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		r = ferry__crypto_fail("cannot read a CRL");
		goto out;
	}
	if ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) == NULL) {
		ferry_log_openssl();
		r = ferry_errf(FERRY_E_CERT, "%s: not a PEM CRL", path);
		goto out;
	}
	*out = crl;
	r = 0;
out:
	BIO_free(bio);
	OPENSSL_free(buf);
	return r;
}

int
ferry_crl_check(X509_CRL *crl, X509 *ca_cert)
{
	EVP_PKEY *pub = X509_get0_pubkey(ca_cert);

	if (X509_NAME_cmp(
	        X509_CRL_get_issuer(crl), X509_get_subject_name(ca_cert)) != 0)
		return ferry_errf(FERRY_E_CERT,
		    "the CRL is not issued by the organization's CA");
	if (pub == NULL || X509_CRL_verify(crl, pub) != 1) {
		ferry_log_openssl();
		return ferry_errf(
		    FERRY_E_CERT, "the CRL's signature is not the CA's");
	}
	return 0;
}

int
ferry_crl_pem(X509_CRL *crl, char **out, size_t *outlen)
{
	BIO *bio = NULL;
	int r;

	*out = NULL;
	*outlen = 0;
	if ((r = crl_pem_bio(crl, &bio)) != 0)
		return r;
	return bio_string(bio, out, outlen);
}

/*
 * Two levels: an offline root and an online issuing CA. ISSUERDIR is a CA
 * directory plus root.pem and root-crl.pem (docs/internals/pki.md).
 */
#define CA_ROOT "root.pem"
#define CA_ROOT_CRL "root-crl.pem"
#define ISSUER_DEFAULT_DAYS 1825
#define ROOT_CRL_DEFAULT_DAYS 30
/* The ID column of an issuing CA's line in the root's index.tsv. */
#define ISSUER_ID_PREFIX "ca:"
/* Certificates one cert.pem may hold: leaf and chain. */
#define MAX_CHAIN 8

/* "CN=..." of a name, printable, for messages. */
static void
name_cn_text(X509_NAME *name, char *out, size_t n)
{
	char cn[128];

	if (name == NULL ||
	    X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof(cn)) < 0)
		snprintf(cn, sizeof(cn), "?");
	/* A CA or peer chose it: no controls, no bidi overrides. */
	ferry_sanitize(cn);
	snprintf(out, n, "CN=%s", cn);
	ERR_clear_error();
}

/* 0 if cert is issued and signed by ca. */
static int
signed_by(X509 *cert, X509 *ca)
{
	EVP_PKEY *pub = X509_get0_pubkey(ca);
	int ok = X509_check_issued(ca, cert) == X509_V_OK && pub != NULL &&
	         X509_verify(cert, pub) == 1;

	ERR_clear_error();
	return ok ? 0 : -1;
}

static int
ca_load_root(struct ferry_ca *ca)
{
	char path[PATH_MAX];
	int r;

	if ((r = path_join(path, sizeof(path), ca->dir, CA_ROOT)) != 0)
		return r;
	/* A CA that is not self-signed needs its root beside it. */
	if (!exists(path))
		return signed_by(ca->cert, ca->cert) == 0
		           ? 0
		           : ferry_errf(FERRY_E_CERT,
		                 "%s/%s is not self-signed and %s is missing; "
		                 "copy the root's ca.pem there",
		                 ca->dir, CA_CERT, path);
	if ((r = ferry_cert_load(path, &ca->root)) != 0)
		return r;
	if (X509_check_ca(ca->root) < 1 || signed_by(ca->root, ca->root) != 0)
		return ferry_errf(FERRY_E_CERT,
		    "%s is not a self-signed root CA certificate", path);
	if (signed_by(ca->cert, ca->root) != 0)
		return ferry_errf(FERRY_E_CERT,
		    "%s/%s is not signed by the root CA in %s", ca->dir,
		    CA_CERT, path);
	return 0;
}

X509 *
ferry_ca_root(const struct ferry_ca *ca)
{
	return ca->root;
}

/* Only a root (self-signed, no pathlen 0, no root.pem) signs CAs. */
static int
ca_may_sign_ca(const struct ferry_ca *ca)
{
	if (ca->root != NULL || X509_get_pathlen(ca->cert) == 0 ||
	    signed_by(ca->cert, ca->cert) != 0)
		return ferry_errf(FERRY_E_REFUSED,
		    "%s holds an issuing CA: an issuing CA cannot sign another "
		    "CA; give the root CA's directory",
		    ca->dir);
	return 0;
}

/* Days from now to the root's notAfter, for the default validity. */
static int
issuer_days(const struct ferry_ca *root, int days)
{
	int left = 0, secs = 0;

	if (days != 0)
		return days;
	if (ASN1_TIME_diff(
	        &left, &secs, NULL, X509_get0_notAfter(root->cert)) != 1)
		return ISSUER_DEFAULT_DAYS;
	return left < ISSUER_DEFAULT_DAYS ? left : ISSUER_DEFAULT_DAYS;
}

static int
issuer_cert_build(struct ferry_ca *root, EVP_PKEY *key,
    const struct ferry_ca_intermediate_opts *opts, X509 **out, time_t *nb,
    time_t *na)
{
	struct ferry_cert_req req = {.days = issuer_days(root, opts->days)};
	X509 *cert = NULL;
	X509_NAME *name = NULL;
	ASN1_INTEGER *serial = NULL;
	X509V3_CTX ctx;
	int r = FERRY_E_INTERNAL;

	*out = NULL;
	if (req.days < 1)
		return ferry_errf(FERRY_E_USAGE,
		    "the root CA expires within a day; it cannot sign an "
		    "issuing CA");
	if ((r = req_times(root, &req, nb, na)) != 0 ||
	    (r = name_cn(opts->name, &name)) != 0 ||
	    (r = serial_random(&serial)) != 0)
		goto out;
	if ((cert = X509_new()) == NULL ||
	    X509_set_version(cert, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(cert, serial) != 1 ||
	    X509_set_subject_name(cert, name) != 1 ||
	    X509_set_issuer_name(cert, X509_get_subject_name(root->cert)) !=
	        1 ||
	    X509_set_pubkey(cert, key) != 1) {
		r = ferry__crypto_fail("cannot build the issuing CA");
		goto out;
	}
	if ((r = set_times(cert, *nb, *na)) != 0)
		goto out;
	X509V3_set_ctx(&ctx, root->cert, cert, NULL, NULL, 0);
	/* pathlen:0 — it signs members, never another CA. */
	if ((r = add_ext(cert, &ctx, NID_basic_constraints,
	         "critical,CA:TRUE,pathlen:0")) != 0 ||
	    (r = add_ext(cert, &ctx, NID_key_usage,
	         "critical,keyCertSign,cRLSign")) != 0 ||
	    (r = add_ext(cert, &ctx, NID_subject_key_identifier, "hash")) !=
	        0 ||
	    (r = add_ext(cert, &ctx, NID_authority_key_identifier,
	         "keyid:always")) != 0)
		goto out;
	if (X509_sign(cert, root->key, sign_md(root->key)) <= 0) {
		r = ferry__crypto_fail("cannot sign the issuing CA");
		goto out;
	}
	*out = cert;
	cert = NULL;
	r = 0;
out:
	X509_free(cert);
	X509_NAME_free(name);
	ASN1_INTEGER_free(serial);
	return r;
}

/* The files of a new ISSUERDIR, in the order they are written. */
enum { IF_KEY, IF_CERT, IF_ROOT, IF_CRL, IF_INDEX, IF_N };

/* Writes ISSUERDIR's files exclusively; on failure removes what it made. */
static int
issuer_dir_write(const char *dir, BIO *const bios[IF_INDEX])
{
	static const char *const names[IF_N] = {
	    CA_KEY, CA_CERT, CA_ROOT, CA_ROOT_CRL, CA_INDEX};
	static const mode_t modes[IF_INDEX] = {0600, 0644, 0644, 0644};
	char paths[IF_N][PATH_MAX], certs[PATH_MAX];
	int made = 0, fd = -1, e, r = FERRY_E_INTERNAL;

	for (int i = 0; i < IF_N; i++)
		if ((r = path_join(paths[i], PATH_MAX, dir, names[i])) != 0)
			return r;
	if ((r = path_join(certs, sizeof(certs), dir, CA_CERTS)) != 0 ||
	    (r = ensure_dir(dir)) != 0)
		return r;
	for (; made < IF_INDEX; made++)
		if ((r = write_bio(paths[made], bios[made], modes[made], 1)) !=
		    0)
			goto out;
	if ((fd = open(paths[IF_INDEX], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	         0600)) == -1) {
		e = errno;
		r = ferry_errf_errno(ferry_err_from_errno(e), e,
		    "%s: cannot create", paths[IF_INDEX]);
		goto out;
	}
	made++;
	if (fsync(fd) == -1) {
		e = errno;
		r = ferry_errf_errno(ferry_err_from_errno(e), e,
		    "%s: cannot sync", paths[IF_INDEX]);
		goto out;
	}
	if ((r = ensure_dir(certs)) != 0 ||
	    (r = fsync_dir_of(paths[IF_INDEX])) != 0)
		goto out;
	r = 0;
out:
	if (fd != -1)
		close(fd);
	while (r != 0 && made > 0)
		unlink(paths[--made]);
	return r;
}

/* ferry_ca_intermediate: nothing of a CA may be in dir already. */
static int
issuer_absent(const char *dir)
{
	static const char *const names[] = {CA_ROOT, CA_ROOT_CRL};
	char path[PATH_MAX];
	int r;

	if ((r = ca_absent(dir)) != 0)
		return r;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((r = path_join(path, sizeof(path), dir, names[i])) != 0)
			return r;
		if (exists(path))
			return ferry_errf(FERRY_E_EXIST,
			    "%s already exists; a CA is there (remove it or "
			    "choose another directory)",
			    path);
	}
	return 0;
}

static int
intermediate_opts_check(const struct ferry_ca_intermediate_opts *opts)
{
	if (opts == NULL || opts->dir == NULL || *opts->dir == '\0')
		return ferry_errf(FERRY_E_USAGE, "no CA directory given");
	if (opts->name == NULL)
		return ferry_errf(FERRY_E_USAGE, "no name for the issuing CA");
	if (opts->days < 0 || opts->days > MAX_DAYS || opts->crl_days < 0 ||
	    opts->crl_days > MAX_DAYS)
		return ferry_errf(FERRY_E_USAGE,
		    "validity out of range: use 1 to %d days", MAX_DAYS);
	return cn_check("CA name", opts->name);
}

int
ferry_ca_intermediate(struct ferry_ca *root,
    const struct ferry_ca_intermediate_opts *opts, X509 **out)
{
	char id[sizeof(ISSUER_ID_PREFIX) + 4 * MAX_CN_CHARS + 1];
	BIO *bios[IF_INDEX] = {NULL, NULL, NULL, NULL};
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	X509_CRL *crl = NULL;
	time_t nb = 0, na = 0;
	int r = FERRY_E_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if ((r = intermediate_opts_check(opts)) != 0 ||
	    (r = ca_may_sign_ca(root)) != 0 ||
	    (r = issuer_absent(opts->dir)) != 0)
		goto out;
	snprintf(id, sizeof(id), "%s%s", ISSUER_ID_PREFIX, opts->name);
	/* Everything in memory first: the root's CRL, the key, the cert. */
	if ((r = ferry_key_generate(opts->key_type, &key)) != 0 ||
	    (r = issuer_cert_build(root, key, opts, &cert, &nb, &na)) != 0 ||
	    (r = ferry_ca_crl(root,
	         opts->crl_days != 0 ? opts->crl_days : ROOT_CRL_DEFAULT_DAYS,
	         &crl)) != 0 ||
	    (r = key_pem(key, &bios[IF_KEY])) != 0 ||
	    (r = cert_pem(cert, &bios[IF_CERT])) != 0 ||
	    (r = cert_pem(root->cert, &bios[IF_ROOT])) != 0 ||
	    (r = crl_pem_bio(crl, &bios[IF_CRL])) != 0 ||
	    (r = issuer_dir_write(opts->dir, bios)) != 0)
		goto out;
	/* The root's record is the commit point, as for every issuance. */
	if ((r = ca_record(root, cert, id, nb, na)) != 0) {
		static const char *const names[] = {
		    CA_KEY, CA_CERT, CA_ROOT, CA_ROOT_CRL, CA_INDEX};
		char path[PATH_MAX];

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (path_join(
			        path, sizeof(path), opts->dir, names[i]) == 0)
				unlink(path);
		goto out;
	}
	if (out != NULL) {
		*out = cert;
		cert = NULL;
	}
	r = 0;
out:
	for (int i = 0; i < IF_INDEX; i++)
		BIO_free(bios[i]);
	X509_CRL_free(crl);
	X509_free(cert);
	EVP_PKEY_free(key);
	return r;
}

/* FERRY_E_CERT if crl is past its nextUpdate (or has none). */
static int
crl_fresh(X509_CRL *crl, const char *what)
{
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	char who[160];
	struct tm tm;
	char when[32] = "?";

	if (next != NULL && X509_cmp_current_time(next) > 0)
		return 0;
	name_cn_text(X509_CRL_get_issuer(crl), who, sizeof(who));
	if (next != NULL && ASN1_TIME_to_tm(next, &tm) == 1)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return ferry_errf(
	    FERRY_E_CERT, "%s: the CRL of %s expired on %s", what, who, when);
}

int
ferry_ca_root_crl(struct ferry_ca *ca, X509_CRL **out)
{
	char path[PATH_MAX], why[256];
	X509_CRL *crl = NULL;
	int r;

	*out = NULL;
	if (ca->root == NULL)
		return 0;
	if ((r = path_join(path, sizeof(path), ca->dir, CA_ROOT_CRL)) != 0)
		return r;
	if ((r = ferry_crl_load(path, &crl)) != 0 ||
	    (r = ferry_crl_check(crl, ca->root)) != 0 ||
	    (r = crl_fresh(crl, path)) != 0) {
		snprintf(why, sizeof(why), "%s", ferry_err_detail(r));
		X509_CRL_free(crl);
		return ferry_errf(r,
		    "%s; the admin must copy a fresh CRL of the root there "
		    "('ferry ca crl --dir ROOTDIR --out %s')",
		    why, path);
	}
	*out = crl;
	return 0;
}

int
ferry_ca_usable(struct ferry_ca *ca)
{
	X509_CRL *crl = NULL;
	X509_REVOKED *rev = NULL;
	char who[160];
	int r;

	if ((r = ferry_ca_root_crl(ca, &crl)) != 0 || crl == NULL)
		return r;
	r = X509_CRL_get0_by_cert(crl, &rev, ca->cert) == 1;
	X509_CRL_free(crl);
	if (!r)
		return 0;
	name_cn_text(X509_get_subject_name(ca->cert), who, sizeof(who));
	return ferry_errf(FERRY_E_REVOKED,
	    "the issuing CA in %s (%s) has been revoked by the root; make a "
	    "new one with 'ferry ca intermediate'",
	    ca->dir, who);
}

int
ferry_chain_load(const char *path, STACK_OF(X509) * *out)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	STACK_OF(X509) *sk = NULL;
	X509 *x;
	int r;

	*out = NULL;
	if ((r = read_file(path, "certificate", &buf, &len)) != 0)
		goto out;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (sk = sk_X509_new_null()) == NULL) {
		r = ferry__crypto_fail("cannot read certificates");
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (sk_X509_num(sk) >= MAX_CHAIN || sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			r = ferry_errf(FERRY_E_CERT,
			    "%s: more than %d certificates", path, MAX_CHAIN);
			goto out;
		}
	if (sk_X509_num(sk) == 0 ||
	    ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		ferry_log_openssl();
		r = ferry_errf(FERRY_E_CERT, "%s: not a PEM certificate", path);
		goto out;
	}
	ERR_clear_error();
	*out = sk;
	sk = NULL;
	r = 0;
out:
	sk_X509_pop_free(sk, X509_free);
	BIO_free(bio);
	OPENSSL_free(buf);
	return r;
}

int
ferry_crls_parse(
    const void *pem, size_t len, const char *what, STACK_OF(X509_CRL) * *out)
{
	STACK_OF(X509_CRL) *sk = NULL;
	X509_CRL *crl;
	BIO *bio = NULL;
	int r;

	*out = NULL;
	ERR_clear_error();
	if (len > INT_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (sk = sk_X509_CRL_new_null()) == NULL) {
		r = ferry__crypto_fail("cannot read CRLs");
		goto out;
	}
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL)
		if (sk_X509_CRL_num(sk) >= FERRY_MAX_CRLS ||
		    sk_X509_CRL_push(sk, crl) <= 0) {
			X509_CRL_free(crl);
			r = ferry_errf(FERRY_E_CERT, "%s: more than %d CRLs",
			    what, FERRY_MAX_CRLS);
			goto out;
		}
	/* The loop ends at the end of the text, or at a broken CRL. */
	if (sk_X509_CRL_num(sk) == 0 ||
	    ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		ferry_log_openssl();
		r = ferry_errf(FERRY_E_CERT, "%s: not a PEM CRL", what);
		goto out;
	}
	ERR_clear_error();
	*out = sk;
	sk = NULL;
	r = 0;
out:
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	BIO_free(bio);
	return r;
}

int
ferry_crls_load(const char *path, STACK_OF(X509_CRL) * *out)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = read_file_max(path, "CRL", 16 * 1024 * 1024, &buf, &len)) != 0)
		return r;
	r = ferry_crls_parse(buf, len, path, out);
	OPENSSL_free(buf);
	return r;
}

X509_CRL *
ferry_crls_find(STACK_OF(X509_CRL) * crls, X509 *ca)
{
	for (int i = 0; ca != NULL && i < sk_X509_CRL_num(crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);

		if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
		        X509_get_subject_name(ca)) == 0)
			return crl;
	}
	return NULL;
}

/* One CA's CRL in crls: there once, signed by ca, fresh if asked. */
static int
crls_check_one(
    STACK_OF(X509_CRL) * crls, X509 *ca, const char *level, int flags)
{
	X509_CRL *crl = ferry_crls_find(crls, ca);
	EVP_PKEY *pub = X509_get0_pubkey(ca);
	char who[160];
	int n = 0;

	name_cn_text(X509_get_subject_name(ca), who, sizeof(who));
	for (int i = 0; i < sk_X509_CRL_num(crls); i++)
		n += X509_NAME_cmp(
		         X509_CRL_get_issuer(sk_X509_CRL_value(crls, i)),
		         X509_get_subject_name(ca)) == 0;
	if (crl == NULL)
		return ferry_errf(
		    FERRY_E_CERT, "no CRL of the %s (%s)", level, who);
	if (n > 1)
		return ferry_errf(
		    FERRY_E_CERT, "%d CRLs of the %s (%s)", n, level, who);
	if (pub == NULL || X509_CRL_verify(crl, pub) != 1) {
		ERR_clear_error();
		return ferry_errf(FERRY_E_CERT,
		    "the CRL of the %s (%s) is not signed by its key", level,
		    who);
	}
	if ((flags & FERRY_CRLS_FRESH) != 0)
		return crl_fresh(crl, level);
	return 0;
}

int
ferry_crls_check(STACK_OF(X509_CRL) * crls, X509 *root, X509 *issuer, int flags)
{
	char who[160];
	int r, known = issuer != NULL ? 2 : 1;

	if (issuer != NULL && signed_by(issuer, root) != 0) {
		name_cn_text(X509_get_subject_name(issuer), who, sizeof(who));
		return ferry_errf(FERRY_E_CERT,
		    "the issuing CA (%s) is not signed by the root CA", who);
	}
	for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
		X509_NAME *in = X509_CRL_get_issuer(sk_X509_CRL_value(crls, i));

		if (X509_NAME_cmp(in, X509_get_subject_name(root)) == 0 ||
		    (issuer != NULL &&
		        X509_NAME_cmp(in, X509_get_subject_name(issuer)) == 0))
			continue;
		name_cn_text(in, who, sizeof(who));
		return ferry_errf(FERRY_E_CERT,
		    "a CRL of %s: not issued by the organization's root CA%s",
		    who, issuer != NULL ? " nor its issuing CA" : "");
	}
	if ((r = crls_check_one(crls, root, "root CA", flags)) != 0 ||
	    (issuer != NULL &&
	        (r = crls_check_one(crls, issuer, "issuing CA", flags)) != 0))
		return r;
	return sk_X509_CRL_num(crls) == known
	           ? 0
	           : ferry_errf(FERRY_E_CERT, "unexpected CRLs");
}

int
ferry_crls_pem(STACK_OF(X509_CRL) * crls, char **out, size_t *outlen)
{
	BIO *bio;

	*out = NULL;
	*outlen = 0;
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return ferry__crypto_fail("cannot encode the CRLs");
	for (int i = 0; i < sk_X509_CRL_num(crls); i++)
		if (PEM_write_bio_X509_CRL(bio, sk_X509_CRL_value(crls, i)) !=
		    1) {
			BIO_free(bio);
			return ferry__crypto_fail("cannot encode the CRLs");
		}
	return bio_string(bio, out, outlen);
}

/*
 * PBKDF2 rounds for the key and certificate bags, and the MAC's: some
 * 0.1 s each here, a cost paid once per export and once per import.
 */
#define P12_ITER 200000

int
ferry_p12_write(const char *path, EVP_PKEY *key, X509 *cert,
    STACK_OF(X509) * cas, const char *name, const char *pw, int replace)
{
	unsigned char *der = NULL;
	PKCS12 *p12 = NULL;
	int len = 0, r;

	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		return ferry_errf(
		    FERRY_E_CERT, "the key does not belong to the certificate");
	}
	/* AES-256-CBC with PBKDF2 (HMAC-SHA-256) for both bags; MAC below. */
	p12 = PKCS12_create_ex((char *)pw, name, key, cert, cas,
	    NID_aes_256_cbc, NID_aes_256_cbc, P12_ITER, -1, 0, NULL, NULL);
	if (p12 == NULL ||
	    PKCS12_set_mac(p12, pw, -1, NULL, 0, P12_ITER, EVP_sha256()) != 1 ||
	    (len = i2d_PKCS12(p12, &der)) <= 0) {
		PKCS12_free(p12);
		return ferry__crypto_fail("cannot make the PKCS#12 file");
	}
	r = write_file(path, der, (size_t)len, 0600, !replace);
	OPENSSL_clear_free(der, (size_t)len);
	PKCS12_free(p12);
	return r;
}
