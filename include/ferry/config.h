/* config.h - the configuration files ($FERRY_HOME/config, serve.conf,
 * authd.conf): INI-style [peer NAME] sections giving a peer's address,
 * expected ID, port and the identity to use, so that `ferry send f NAME:`
 * needs no more; for `ferry serve` a [serve] section and [read PATH] rules
 * (access.h); for `ferry authd` an [authd] section. */
#ifndef FERRY_CONFIG_H
#define FERRY_CONFIG_H

#include <stddef.h>

#include "ferry/err.h"
#include "ferry/net.h"

/* One [peer NAME] section. Strings are NULL when not set. */
struct ferry_config_peer {
	char *name; /* the alias */
	char *address; /* host[:port], IPv6 in brackets */
	char *id; /* the member ID the peer must prove */
	char *port; /* 1-65535, when address has none */
	char *identity; /* identity directory to use for this peer */
	unsigned line; /* of the section header */
};

/*
 * One "key = value" of a daemon's section ([serve] or [authd]) that the
 * parser leaves to the command: the key is an option's long name (1-32 of
 * [a-z0-9-]), the value is not empty. Which keys exist is the command's
 * option table's to say.
 */
struct ferry_config_opt {
	char *key, *value;
	unsigned line;
};

struct ferry_config;
struct ferry_access;

/*
 * Parses len bytes of text (need not be NUL-terminated). file names the
 * source in errors, which are FERRY_E_USAGE with "file:line: what" as
 * detail. Bounded by the FERRY_CONFIG_MAX_* limits. Caller frees *out.
 */
int ferry_config_parse(const char *text, size_t len, const char *file,
    struct ferry_config **out) FERRY_MUST_CHECK;
/* Reads and parses path; a missing file is an empty configuration. */
int ferry_config_load(
    const char *path, struct ferry_config **out) FERRY_MUST_CHECK;
/* The section for alias name, or NULL. Borrowed; valid until the free. */
const struct ferry_config_peer *ferry_config_peer(
    const struct ferry_config *c, const char *name);
/*
 * The address of p, with path (for get and ls; NULL for none) into a, as
 * ferry_addr_parse would have made it from "[id@]address[:port][:path]".
 */
int ferry_config_addr(const struct ferry_config_peer *p, const char *path,
    struct ferry_addr *a) FERRY_MUST_CHECK;
/*
 * The rules of [serve] and [read PATH] sections, or NULL when the file has
 * none. Borrowed, valid until the free; the caller may change them (serve
 * lays its command line over them).
 */
struct ferry_access *ferry_config_serve(struct ferry_config *c);
/*
 * The i-th setting of [section] ("serve" or "authd") in file order, NULL
 * past the last (or for c NULL). [serve]'s access keys (members,
 * allow-push, allow-read, inbox-quota, inbox-files) are not among them:
 * they are in ferry_config_serve(). Borrowed; valid until the free.
 */
const struct ferry_config_opt *ferry_config_opt(
    const struct ferry_config *c, const char *section, size_t i);
void ferry_config_free(struct ferry_config *c);

#endif
