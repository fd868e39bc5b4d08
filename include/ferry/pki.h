/* pki.h - keys, certificates and the offline CA: what `ferry ca` and authd sign with.
 * A CA directory holds ca.key (0600), ca.pem and a record of every issued
 * certificate: index.tsv and certs/<SERIAL>.pem (docs/internals/pki.md). */
#ifndef FERRY_PKI_H
#define FERRY_PKI_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ferry/err.h"
#include "ferry/limits.h"

enum ferry_key_type {
	FERRY_KEY_P256 = 0, /* the default: fast, small, everywhere */
	FERRY_KEY_ED25519,
	FERRY_KEY_RSA3072,
};

/* "p256" | "ed25519" | "rsa3072" -> type. FERRY_E_USAGE otherwise. */
int ferry_key_type_parse(
    const char *name, enum ferry_key_type *out) FERRY_MUST_CHECK;
/* A fresh private key. Caller frees with EVP_PKEY_free. */
int ferry_key_generate(
    enum ferry_key_type type, EVP_PKEY **out) FERRY_MUST_CHECK;

/*
 * A member ID: 1..FERRY_MAX_ID bytes of [A-Za-z0-9._-], starting with a
 * letter or digit. It becomes a directory name on peers, so nothing else.
 */
int ferry_id_check(const char *id) FERRY_MUST_CHECK;
/*
 * The member ID a certificate names: its URI SAN "ferry:<ID>", which must be
 * unique and valid. FERRY_E_IDENTITY if absent or malformed; id is then "".
 */
int ferry_cert_id(X509 *cert, char id[FERRY_MAX_ID + 1]) FERRY_MUST_CHECK;
/*
 * A group name: the syntax of a member ID (1..FERRY_MAX_GROUP bytes of
 * [A-Za-z0-9._-], starting with a letter or digit), errors worded for a
 * group. FERRY_E_USAGE otherwise.
 */
int ferry_group_check(const char *name) FERRY_MUST_CHECK;
/*
 * The groups a certificate names: its URI SANs "ferry-group:<NAME>", in
 * order. None is *n == 0 and *out == NULL. FERRY_E_IDENTITY if one is
 * malformed, repeated, or there are more than FERRY_MAX_GROUPS. Caller frees
 * with ferry_cert_groups_free.
 */
int ferry_cert_groups(X509 *cert, char ***out, size_t *n) FERRY_MUST_CHECK;
void ferry_cert_groups_free(char **groups, size_t n);

/* What a host name in a certificate is: a DNS name or an IP address. */
enum ferry_host_kind {
	FERRY_HOST_DNS,
	FERRY_HOST_IP,
};
/*
 * The one form in which ferry binds, compares and issues a host name: an
 * IPv4/IPv6 address as inet_ntop writes it; a DNS name lower-cased, one
 * trailing dot dropped. FERRY_E_USAGE, naming the rule, for a wildcard, a
 * leading dot, an xn-- (IDN) label, non-ASCII bytes, a numeric last label
 * or a name that RFC 1123 refuses.
 */
int ferry_host_normalize(const char *in, char out[FERRY_MAX_HOSTNAME + 1],
    enum ferry_host_kind *kind) FERRY_MUST_CHECK;

/*
 * The extended key usage that marks authd's own server certificate, and
 * that no member certificate ever carries: a UUID OID (ITU-T X.667, arc
 * 2.25), UUID 70855301-f68d-479b-befb-59afefe88567.
 */
#define FERRY_OID_AUTHD "2.25.149565794605625084560374328466845762919"
/* 1 if cert's extendedKeyUsage lists FERRY_OID_AUTHD, else 0. */
int ferry_cert_is_authd(X509 *cert);

struct ferry_ca_init_opts {
	const char *dir; /* created 0700 if missing; must not hold a CA */
	const char *name; /* subject CN (1..64 chars); NULL: "ferry Root CA" */
	enum ferry_key_type key_type;
	int days; /* 0: 3650 */
};
/*
 * Creates ca.key (0600), a self-signed ca.pem, an empty index.tsv and certs/
 * in dir. FERRY_E_EXIST (detail names the file) if a CA is there; on any
 * failure nothing of the CA is left behind.
 */
int ferry_ca_init(const struct ferry_ca_init_opts *opts) FERRY_MUST_CHECK;

/* A loaded CA: key, certificate, directory. Opaque. */
struct ferry_ca;
int ferry_ca_load(const char *dir, struct ferry_ca **out) FERRY_MUST_CHECK;
void ferry_ca_free(struct ferry_ca *ca);
/* Borrowed; valid until ferry_ca_free. */
X509 *ferry_ca_cert(const struct ferry_ca *ca);

struct ferry_cert_req {
	const char *id; /* subject CN and URI SAN ferry:<id> */
	const char *const *dns; /* extra DNS SANs */
	size_t n_dns;
	const char *const *ips; /* extra IP SANs, textual IPv4/IPv6 */
	size_t n_ips;
	/*
	 * URI SANs ferry-group:<NAME>, each ferry_group_check-valid, no
	 * repeats, at most FERRY_MAX_GROUPS; none for a server_only one.
	 */
	const char *const *groups;
	size_t n_groups;
	time_t not_before; /* 0: now - 5 minutes (clock skew) */
	time_t not_after; /* 0: not_before + days */
	int days; /* used when not_after is 0; default 365 */
	/*
	 * authd's own TLS server certificate: EKU serverAuth and
	 * FERRY_OID_AUTHD, no ferry:<id> URI, so no peer ever takes it for a
	 * member, nor a member's for it. id is the CN.
	 */
	int server_only;
};
/*
 * Signs a member certificate for key's public half: CN and URI SAN name the
 * ID, serverAuth+clientAuth, CA:FALSE, random 128-bit serial, SKI/AKI. The
 * certificate is recorded in the CA directory (certs/<SERIAL>.pem and a line
 * of index.tsv) before it is returned. FERRY_E_USAGE, with a detail naming
 * the value, for a bad ID, DNS name or IP, for notAfter <= notBefore and for
 * a notAfter past the CA's own, and for a bad or repeated group name.
 * Caller frees *out.
 */
int ferry_ca_sign(struct ferry_ca *ca, EVP_PKEY *key,
    const struct ferry_cert_req *req, X509 **out) FERRY_MUST_CHECK;

/*
 * Writes an identity directory: key.pem (0600, created exclusively, PKCS#8),
 * cert.pem, ca.pem. dir is created 0700 if missing. FERRY_E_EXIST if
 * key.pem already exists there; FERRY_E_USAGE if cert is not key's.
 */
int ferry_identity_write(
    const char *dir, EVP_PKEY *key, X509 *cert, X509 *ca_cert) FERRY_MUST_CHECK;

/*
 * PEM loaders. Caller frees what *out returns. FERRY_E_CERT if the file is
 * not a PEM certificate / private key (an encrypted key counts: ferry never
 * prompts); the detail names the path.
 */
int ferry_cert_load(const char *path, X509 **out) FERRY_MUST_CHECK;
int ferry_key_load(const char *path, EVP_PKEY **out) FERRY_MUST_CHECK;
/*
 * A private key's permissions, as ssh checks them: FERRY_E_ACCESS when
 * path is readable, writable or executable by its group or others, the
 * detail naming the mode and the fix ("chmod 600 PATH"). 0 otherwise, also
 * when path cannot be looked at (the read that follows says why).
 * ferry_key_load checks this first.
 */
int ferry_key_check_mode(const char *path) FERRY_MUST_CHECK;
/* "SHA256:<64 hex>" of the DER certificate, into out (at least 72 bytes). */
int ferry_cert_fingerprint(
    X509 *cert, char *out, size_t outlen) FERRY_MUST_CHECK;

/* Upper-case hex of a certificate's serial, like index.tsv. Caller OPENSSL_free()s. */
int ferry_cert_serial_hex(X509 *cert, char **out) FERRY_MUST_CHECK;

/*
 * Revocation. index.tsv lines turn from status V to R and gain a sixth
 * field, the revocation time (docs/internals/pki.md), under the CA
 * directory's lock.
 */
struct ferry_ca_entry {
	const char *serial; /* upper-case hex */
	const char *id;
	const char *not_after; /* as in the index */
	char status; /* 'V' or 'R' */
};
typedef void ferry_ca_entry_fn(const struct ferry_ca_entry *e, void *arg);
/*
 * Revokes the certificate with serial (hex, any case) or, when serial is
 * NULL, every valid certificate naming id; calls fn for each one revoked.
 * FERRY_E_NOENT if nothing matched, FERRY_E_EXIST if everything that
 * matched was already revoked. when 0: now.
 */
int ferry_ca_revoke(struct ferry_ca *ca, const char *serial, const char *id,
    time_t when, ferry_ca_entry_fn *fn, void *arg) FERRY_MUST_CHECK;
/*
 * The status of cert in this CA's record: 0 if it is there and valid,
 * FERRY_E_REVOKED if revoked, FERRY_E_CERT if this CA never recorded it.
 */
int ferry_ca_check(struct ferry_ca *ca, X509 *cert) FERRY_MUST_CHECK;
/*
 * A fresh CRL (v2: AKI, CRL number one above the last, nextUpdate now +
 * days, default 7) listing every revoked certificate, also written to
 * DIR/crl.pem. Caller frees *out.
 */
int ferry_ca_crl(
    struct ferry_ca *ca, int days, X509_CRL **out) FERRY_MUST_CHECK;
/* Changes whenever index.tsv or crlnumber does: when a served CRL is stale. */
int ferry_ca_index_stamp(
    struct ferry_ca *ca, long long *stamp) FERRY_MUST_CHECK;

/* A PEM CRL from path; FERRY_E_CERT if it is not one. Caller frees. */
int ferry_crl_load(const char *path, X509_CRL **out) FERRY_MUST_CHECK;
/*
 * 0 if crl is signed by ca_cert's key and names it as issuer; FERRY_E_CERT
 * with a detail otherwise.
 */
int ferry_crl_check(X509_CRL *crl, X509 *ca_cert) FERRY_MUST_CHECK;
/* PEM text of a CRL. Caller frees *out. */
int ferry_crl_pem(X509_CRL *crl, char **out, size_t *outlen) FERRY_MUST_CHECK;

/*
 * Replaces one file of an identity directory atomically (temporary file,
 * fsync, rename): on any failure the old file is untouched. leaf is
 * "cert.pem", "crl.pem", "ca.pem" or another plain name; mode e.g. 0644.
 */
int ferry_identity_replace(const char *dir, const char *leaf, const void *data,
    size_t len, unsigned mode) FERRY_MUST_CHECK;
/*
 * Writes key to path as PKCS#8 PEM, created exclusively with mode 0600
 * (FERRY_E_EXIST if path exists) and fsynced: enroll keeps its key on
 * disk before it asks for a certificate.
 */
int ferry_key_write(const char *path, EVP_PKEY *key) FERRY_MUST_CHECK;
/* PEM text of a certificate. Caller frees *out. */
int ferry_cert_pem(X509 *cert, char **out, size_t *outlen) FERRY_MUST_CHECK;

/*
 * Two levels: an offline root and an online issuing CA (docs/internals/pki.md).
 * An issuing CA directory (ISSUERDIR) is a CA directory that also holds the
 * root's certificate, root.pem, and the root's latest CRL, root-crl.pem.
 * ferry_ca_load checks that ca.pem there is signed by root.pem.
 */
/* The root an issuing CA chains to; NULL for a root CA. Borrowed. */
X509 *ferry_ca_root(const struct ferry_ca *ca);

struct ferry_ca_intermediate_opts {
	const char *dir; /* ISSUERDIR: made 0700 if missing; must hold no CA */
	const char *name; /* subject CN (1..64 chars), required */
	enum ferry_key_type key_type;
	int days; /* 0: 1825, or up to the root's own notAfter if sooner */
	int crl_days; /* validity of the root CRL written there; 0: 30 */
};
/*
 * Makes an issuing CA signed by root (which must be a root CA: an issuing CA
 * cannot sign another CA, FERRY_E_REFUSED): critical CA:TRUE pathlen:0,
 * critical keyUsage keyCertSign+cRLSign, SKI/AKI, within the root's
 * lifetime. Writes ISSUERDIR (ca.key 0600, ca.pem, root.pem, index.tsv,
 * certs/, root-crl.pem: a fresh CRL of the root) and records the issuing CA
 * in the root's index.tsv as "ca:<name>", so it can be revoked by serial.
 * FERRY_E_EXIST if a CA is there; on failure no CA is left there. *out (may
 * be NULL) gets the certificate; caller frees.
 */
int ferry_ca_intermediate(struct ferry_ca *root,
    const struct ferry_ca_intermediate_opts *opts, X509 **out) FERRY_MUST_CHECK;
/*
 * An issuing CA's copy of its root's CRL (DIR/root-crl.pem): signed by the
 * root and not past its nextUpdate, else an error whose detail says what
 * to do. *out is NULL for a root CA. Caller frees.
 */
int ferry_ca_root_crl(struct ferry_ca *ca, X509_CRL **out) FERRY_MUST_CHECK;
/*
 * May ca issue? Always for a root CA; an issuing CA needs a good
 * root-crl.pem (ferry_ca_root_crl's errors) that does not list it
 * (FERRY_E_REVOKED: whatever it issued, every peer would refuse).
 */
int ferry_ca_usable(struct ferry_ca *ca) FERRY_MUST_CHECK;

/*
 * Writes an identity directory like ferry_identity_write, but cert.pem
 * holds cert followed by issuer (the issuing CA) when issuer is not NULL,
 * and ca.pem holds anchor (the root: the only certificate members trust).
 */
int ferry_identity_write_chain(const char *dir, EVP_PKEY *key, X509 *cert,
    X509 *issuer, X509 *anchor) FERRY_MUST_CHECK;
/* Every PEM certificate of path (cert.pem: leaf, then its chain), 1..8. */
int ferry_chain_load(const char *path, STACK_OF(X509) * *out) FERRY_MUST_CHECK;

/* CRLs one crl.pem may hold: one per level, and room to spare. */
#define FERRY_MAX_CRLS 4
/*
 * The PEM CRLs of a buffer or file (1..FERRY_MAX_CRLS, concatenated).
 * FERRY_E_CERT if there is none, too many or a malformed one. Caller frees
 * with sk_X509_CRL_pop_free(*out, X509_CRL_free).
 */
int ferry_crls_parse(const void *pem, size_t len, const char *what,
    STACK_OF(X509_CRL) * *out) FERRY_MUST_CHECK;
int ferry_crls_load(
    const char *path, STACK_OF(X509_CRL) * *out) FERRY_MUST_CHECK;
/* Refuse a CRL past its nextUpdate (what a fetched CRL must not be). */
#define FERRY_CRLS_FRESH 1
/*
 * Every CRL in crls is signed by root or by issuer (an issuing CA that
 * root signed; NULL in a single-level organization), at most one per CA,
 * and each of them has one: the root's CRL lists revoked issuing CAs, the
 * issuer's its revoked members. FERRY_E_CERT with a one-line detail
 * otherwise.
 */
int ferry_crls_check(STACK_OF(X509_CRL) * crls, X509 *root, X509 *issuer,
    int flags) FERRY_MUST_CHECK;
/* The CRL in crls whose issuer is ca's subject, or NULL. Borrowed. */
X509_CRL *ferry_crls_find(STACK_OF(X509_CRL) * crls, X509 *ca);
/* PEM text of every CRL of crls, concatenated. Caller frees *out. */
int ferry_crls_pem(
    STACK_OF(X509_CRL) * crls, char **out, size_t *outlen) FERRY_MUST_CHECK;

/*
 * Writes key, cert and cas (may be NULL) as a PKCS#12 file protected by
 * pw: AES-256-CBC with PBKDF2-HMAC-SHA-256, a SHA-256 MAC; name is the
 * friendly name. Mode 0600, through a temporary file: FERRY_E_EXIST if
 * path exists, unless replace (then renamed over it). Nothing is left
 * behind on failure.
 */
int ferry_p12_write(const char *path, EVP_PKEY *key, X509 *cert,
    STACK_OF(X509) * cas, const char *name, const char *pw,
    int replace) FERRY_MUST_CHECK;

#endif
