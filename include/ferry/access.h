/* access.h - who may do what on `ferry serve`: who may connect, which paths
 * of the share a member may read, who may push, and each sender's inbox
 * quota. Decisions use only the peer's verified certificate (its member ID
 * and its ferry-group: SANs), so serve asks nobody. docs/SECURITY.md. */
#ifndef FERRY_ACCESS_H
#define FERRY_ACCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ferry/err.h"
#include "ferry/limits.h"

/* Rules and quotas. Opaque; the default (no rule) lets every member in. */
struct ferry_access;

/* A peer as the rules see it. Borrowed: the caller keeps the strings. */
struct ferry_member {
	const char *id;
	char *const *groups; /* from ferry_cert_groups */
	size_t n_groups;
};

int ferry_access_new(struct ferry_access **out) FERRY_MUST_CHECK;
void ferry_access_free(struct ferry_access *a);

enum ferry_access_list {
	FERRY_ACCESS_MEMBERS, /* who may connect at all */
	FERRY_ACCESS_PUSH, /* who may push into their inbox */
};
/*
 * Sets a list from text: comma-separated member IDs, "group:NAME" and "*"
 * (everyone who may connect), blanks around entries ignored, at most
 * FERRY_ACCESS_MAX_ENTRIES. Replaces an earlier list of the same kind, so
 * the command line can override a file. FERRY_E_USAGE with a one-line
 * detail naming the bad entry.
 */
int ferry_access_set(struct ferry_access *a, enum ferry_access_list which,
    const char *list) FERRY_MUST_CHECK;
/*
 * Who may read path of the share and everything below it ("" or "/": the
 * whole share; a trailing '/' is dropped, and the rest must be a path as
 * requests carry it, ferry_fsafe_check_path). Replaces an earlier rule for
 * the same path. At most FERRY_ACCESS_MAX_RULES paths.
 */
int ferry_access_read(struct ferry_access *a, const char *path,
    const char *list) FERRY_MUST_CHECK;
/*
 * A rule path as requests spell it: "payroll/" -> "payroll", "/" -> "".
 * FERRY_E_USAGE if it is no path below the share.
 */
int ferry_access_rule_path(
    const char *path, char out[FERRY_MAX_PATH + 1]) FERRY_MUST_CHECK;
/* "[PATH=]LIST", the argument of --allow-read: PATH defaults to "/". */
int ferry_access_read_spec(
    struct ferry_access *a, const char *spec) FERRY_MUST_CHECK;
/* Inbox quota per sender; 0 is no limit. Replaces an earlier one. */
void ferry_access_set_quota(
    struct ferry_access *a, uint64_t bytes, uint64_t files);
void ferry_access_quota(
    const struct ferry_access *a, uint64_t *bytes, uint64_t *files);

/*
 * Decisions: 1 allowed, 0 not. A NULL a allows everything. may_read takes
 * a request path (already checked with ferry_fsafe_check_path; "" is the
 * share's top): the longest rule path that is path or a directory above it
 * decides; with none, everyone who may connect may read.
 */
int ferry_access_may_connect(
    const struct ferry_access *a, const struct ferry_member *m);
int ferry_access_may_push(
    const struct ferry_access *a, const struct ferry_member *m);
int ferry_access_may_read(const struct ferry_access *a,
    const struct ferry_member *m, const char *path);
/* 1 if some rule restricts reading: paths reached by a link need checking. */
int ferry_access_has_read_rules(const struct ferry_access *a);

/*
 * "10G", "500M", "4096": a byte count with an optional K, M, G or T
 * (binary: 1024^n), at most FERRY_MAX_FILE_SIZE. FERRY_E_USAGE otherwise.
 */
int ferry_size_parse(const char *s, uint64_t *out) FERRY_MUST_CHECK;
/* "9.8 GiB", "512 bytes": for messages. */
void ferry_size_format(uint64_t n, char out[24]);

/* What a sender's inbox holds. */
struct ferry_usage {
	uint64_t bytes; /* of regular files, kept partials included */
	uint64_t files; /* regular files, partials and temporaries excluded */
};
/*
 * Adds up the tree below dirfd without following any link, skipping the
 * file with inode skip_ino (0: none) - the one being received. Bounded in
 * depth (directories deeper than FERRY_ACCESS_MAX_DEPTH are not counted).
 */
int ferry_inbox_usage(
    int dirfd, ino_t skip_ino, struct ferry_usage *u) FERRY_MUST_CHECK;

#endif
