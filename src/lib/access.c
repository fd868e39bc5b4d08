/* access.c - serve's access rules and inbox quotas: lists of members and
 * groups, per-path read rules (longest prefix wins), and the usage scan a
 * quota is checked against. Rule text is read through struct ferry_rd. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/access.h"
#include "ferry/fsafe.h"
#include "ferry/limits.h"
#include "ferry/pki.h"
#include "ferry/rd.h"

/* One list: who it names. set == 0: no list given (everyone). */
struct who {
	int set, everyone;
	char **ids, **groups;
	size_t n_ids, n_groups;
};

struct read_rule {
	char *path; /* "" for the whole share */
	struct who who;
};

struct ferry_access {
	struct who members, push;
	struct read_rule *rules;
	size_t n_rules;
	uint64_t quota_bytes, quota_files;
};

static void
who_free(struct who *w)
{
	for (size_t i = 0; i < w->n_ids; i++)
		free(w->ids[i]);
	for (size_t i = 0; i < w->n_groups; i++)
		free(w->groups[i]);
	free(w->ids);
	free(w->groups);
	memset(w, 0, sizeof(*w));
}

int
ferry_access_new(struct ferry_access **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	return 0;
}

void
ferry_access_free(struct ferry_access *a)
{
	if (a == NULL)
		return;
	who_free(&a->members);
	who_free(&a->push);
	for (size_t i = 0; i < a->n_rules; i++) {
		free(a->rules[i].path);
		who_free(&a->rules[i].who);
	}
	free(a->rules);
	free(a);
}

/* One entry of a list, trimmed: "*", "group:NAME" or a member ID. */
static int
who_add(struct who *w, const uint8_t *p, size_t n)
{
	static const char gp[] = "group:";
	const size_t gl = sizeof(gp) - 1;
	char entry[FERRY_MAX_ID + sizeof(gp)], why[256];
	int group, r;

	if (n == 0)
		return ferry_errf(FERRY_E_USAGE, "an empty entry in a list");
	if (n >= sizeof(entry))
		return ferry_errf(FERRY_E_USAGE,
		    "'%.16s...' is too long for a "
		    "member ID or group:NAME",
		    (const char *)p);
	memcpy(entry, p, n);
	entry[n] = '\0';
	if (strcmp(entry, "*") == 0) {
		w->everyone = 1;
		return 0;
	}
	if (w->n_ids + w->n_groups >= FERRY_ACCESS_MAX_ENTRIES)
		return ferry_errf(FERRY_E_USAGE,
		    "more than %d entries in a list", FERRY_ACCESS_MAX_ENTRIES);
	group = n > gl && memcmp(entry, gp, gl) == 0;
	r = group ? ferry_group_check(entry + gl) : ferry_id_check(entry);
	if (r != 0) {
		snprintf(why, sizeof(why), "%s", ferry_err_detail(r));
		return ferry_errf(FERRY_E_USAGE,
		    "'%s': %s (an entry is a member ID, group:NAME or *)",
		    entry, why);
	}
	if (group) {
		char **g = realloc(w->groups, (w->n_groups + 1) * sizeof(*g));

		if (g == NULL)
			return ferry_errf(FERRY_E_NOMEM, "out of memory");
		w->groups = g;
		if ((g[w->n_groups] = strdup(entry + gl)) == NULL)
			return ferry_errf(FERRY_E_NOMEM, "out of memory");
		w->n_groups++;
	} else {
		char **d = realloc(w->ids, (w->n_ids + 1) * sizeof(*d));

		if (d == NULL)
			return ferry_errf(FERRY_E_NOMEM, "out of memory");
		w->ids = d;
		if ((d[w->n_ids] = strdup(entry)) == NULL)
			return ferry_errf(FERRY_E_NOMEM, "out of memory");
		w->n_ids++;
	}
	return 0;
}

static int
is_blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* The n bytes at p without leading and trailing blanks, as *p / *n. */
static void
trim(const uint8_t **p, size_t *n)
{
	struct ferry_rd rd;
	const uint8_t *skipped;
	size_t lead = 0, keep = 0, i = 0;
	uint8_t b;

	ferry_rd_init(&rd, *p, *n);
	while (ferry_rd_u8(&rd, &b) == 0) {
		i++;
		if (!is_blank(b))
			keep = i;
		else if (keep == 0)
			lead = i;
	}
	ferry_rd_init(&rd, *p, keep);
	if (ferry_rd_bytes(&rd, lead, &skipped) != 0)
		lead = 0; /* cannot happen: lead <= keep */
	ferry_rd_rest(&rd, p, n);
}

/* Parses "a, group:b, *" into a fresh w. */
static int
who_parse(const char *text, struct who *w)
{
	struct ferry_rd rd;
	const uint8_t *p;
	size_t n, len = strlen(text);
	int r;

	memset(w, 0, sizeof(*w));
	w->set = 1;
	if (len > FERRY_CONFIG_MAX_LINE)
		return ferry_errf(FERRY_E_USAGE, "a list longer than %d bytes",
		    FERRY_CONFIG_MAX_LINE);
	ferry_rd_init(&rd, text, len);
	for (;;) {
		int last = ferry_rd_until(&rd, ',', len, &p, &n) != 0;

		if (last)
			ferry_rd_rest(&rd, &p, &n);
		trim(&p, &n);
		if ((r = who_add(w, p, n)) != 0) {
			who_free(w);
			return r;
		}
		if (last)
			return 0;
	}
}

int
ferry_access_set(
    struct ferry_access *a, enum ferry_access_list which, const char *list)
{
	struct who w,
	    *slot = which == FERRY_ACCESS_MEMBERS ? &a->members : &a->push;
	int r;

	if ((r = who_parse(list, &w)) != 0)
		return r;
	who_free(slot);
	*slot = w;
	return 0;
}

int
ferry_access_rule_path(const char *path, char out[FERRY_MAX_PATH + 1])
{
	size_t n = strlen(path);
	int r;

	if (n > 0 && path[n - 1] == '/')
		n--;
	if (n > FERRY_MAX_PATH)
		return ferry_errf(
		    FERRY_E_USAGE, "path longer than %d bytes", FERRY_MAX_PATH);
	memcpy(out, path, n);
	out[n] = '\0';
	/* The server's own rule for request paths: no second parser. */
	if (n > 0 && (r = ferry_fsafe_check_path(out, n)) != 0)
		return ferry_errf(FERRY_E_USAGE,
		    "read rule path '%s': %s (a path relative to the share, "
		    "'/' for all of it)",
		    out, ferry_err_detail(r));
	return 0;
}

int
ferry_access_read(struct ferry_access *a, const char *path, const char *list)
{
	char norm[FERRY_MAX_PATH + 1];
	struct read_rule *rules;
	struct who w;
	int r;

	if ((r = ferry_access_rule_path(path, norm)) != 0 ||
	    (r = who_parse(list, &w)) != 0)
		return r;
	for (size_t i = 0; i < a->n_rules; i++)
		if (strcmp(a->rules[i].path, norm) == 0) {
			who_free(&a->rules[i].who);
			a->rules[i].who = w;
			return 0;
		}
	if (a->n_rules >= FERRY_ACCESS_MAX_RULES) {
		who_free(&w);
		return ferry_errf(FERRY_E_USAGE, "more than %d read rules",
		    FERRY_ACCESS_MAX_RULES);
	}
	if ((rules = realloc(a->rules, (a->n_rules + 1) * sizeof(*rules))) ==
	    NULL) {
		who_free(&w);
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	}
	a->rules = rules;
	if ((rules[a->n_rules].path = strdup(norm)) == NULL) {
		who_free(&w);
		return ferry_errf(FERRY_E_NOMEM, "out of memory");
	}
	rules[a->n_rules].who = w;
	a->n_rules++;
	return 0;
}

int
ferry_access_read_spec(struct ferry_access *a, const char *spec)
{
	const char *eq = strchr(spec, '=');
	char path[FERRY_MAX_PATH + 2];

	/* Member IDs and group names hold no '=': it can only end a path. */
	if (eq == NULL)
		return ferry_access_read(a, "/", spec);
	if ((size_t)(eq - spec) >= sizeof(path))
		return ferry_errf(
		    FERRY_E_USAGE, "path longer than %d bytes", FERRY_MAX_PATH);
	memcpy(path, spec, (size_t)(eq - spec));
	path[eq - spec] = '\0';
	return ferry_access_read(a, path, eq + 1);
}

void
ferry_access_set_quota(struct ferry_access *a, uint64_t bytes, uint64_t files)
{
	a->quota_bytes = bytes;
	a->quota_files = files;
}

void
ferry_access_quota(
    const struct ferry_access *a, uint64_t *bytes, uint64_t *files)
{
	*bytes = a != NULL ? a->quota_bytes : 0;
	*files = a != NULL ? a->quota_files : 0;
}

/* 1 if w names m: by ID, by one of its groups, or as everyone. */
static int
who_has(const struct who *w, const struct ferry_member *m)
{
	if (!w->set || w->everyone)
		return 1;
	for (size_t i = 0; i < w->n_ids; i++)
		if (strcmp(w->ids[i], m->id) == 0)
			return 1;
	for (size_t i = 0; i < w->n_groups; i++)
		for (size_t j = 0; j < m->n_groups; j++)
			if (strcmp(w->groups[i], m->groups[j]) == 0)
				return 1;
	return 0;
}

int
ferry_access_may_connect(
    const struct ferry_access *a, const struct ferry_member *m)
{
	return a == NULL || who_has(&a->members, m);
}

int
ferry_access_may_push(
    const struct ferry_access *a, const struct ferry_member *m)
{
	return a == NULL || who_has(&a->push, m);
}

/* 1 if rule path covers path: the same, or a directory above it. */
static int
covers(const char *rule, const char *path)
{
	size_t n = strlen(rule);

	return n == 0 || (strncmp(rule, path, n) == 0 &&
	                     (path[n] == '\0' || path[n] == '/'));
}

int
ferry_access_may_read(const struct ferry_access *a,
    const struct ferry_member *m, const char *path)
{
	const struct read_rule *best = NULL;

	if (a == NULL)
		return 1;
	for (size_t i = 0; i < a->n_rules; i++)
		if (covers(a->rules[i].path, path) &&
		    (best == NULL ||
		        strlen(a->rules[i].path) > strlen(best->path)))
			best = &a->rules[i];
	return best == NULL || who_has(&best->who, m);
}

int
ferry_access_has_read_rules(const struct ferry_access *a)
{
	return a != NULL && a->n_rules > 0;
}

int
ferry_size_parse(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	struct ferry_rd rd;
	uint64_t v = 0;
	unsigned shift = 0;
	size_t digits = 0;
	uint8_t c;

	ferry_rd_init(&rd, s, strlen(s));
	/* 19 digits cannot overflow; a 20th is too many anyway. */
	while (digits < 20 && ferry_rd_peek(&rd, &c) == 0 && c >= '0' &&
	       c <= '9' && ferry_rd_u8(&rd, &c) == 0)
		if (++digits <= 19)
			v = v * 10 + (uint64_t)(c - '0');
	if (ferry_rd_u8(&rd, &c) == 0) {
		const char *u = strchr(units, c >= 'a' ? c - 'a' + 'A' : c);

		if (c == '\0' || u == NULL || ferry_rd_left(&rd) != 0)
			digits = 0;
		else
			shift = 10 * (unsigned)(u - units + 1);
	}
	if (digits == 0 || digits > 19 || v > FERRY_MAX_FILE_SIZE >> shift)
		return ferry_errf(FERRY_E_USAGE,
		    "'%s' is not a size (a number with an optional K, M, G or "
		    "T, as in 10G, at most 4 EiB)",
		    s);
	*out = v << shift;
	return 0;
}

void
ferry_size_format(uint64_t n, char out[24])
{
	static const char *const unit[] = {
	    "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)n;
	int i = -1;

	if (n < 1024) {
		snprintf(out, 24, "%llu byte%s", (unsigned long long)n,
		    n == 1 ? "" : "s");
		return;
	}
	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	snprintf(out, 24, v < 10 ? "%.1f %s" : "%.0f %s", v, unit[i]);
}

static int
usage_dir(int fd, ino_t skip, int depth, struct ferry_usage *u)
{
	struct dirent *d;
	DIR *dir;
	int dup_fd, r = 0;

	if (depth > FERRY_ACCESS_MAX_DEPTH)
		return 0;
	if ((dup_fd = dup(fd)) < 0 || (dir = fdopendir(dup_fd)) == NULL) {
		r = ferry_errf_errno(FERRY_E_IO, errno, "inbox usage");
		if (dup_fd >= 0)
			close(dup_fd);
		return r;
	}
	rewinddir(dir);
	while (r == 0 && (d = readdir(dir)) != NULL) {
		struct stat st;
		int sub;

		if (strcmp(d->d_name, ".") == 0 ||
		    strcmp(d->d_name, "..") == 0 ||
		    fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode) && st.st_ino != skip) {
			u->bytes += (uint64_t)st.st_size;
			if (!ferry_fsafe_reserved(d->d_name, strlen(d->d_name)))
				u->files++;
		} else if (S_ISDIR(st.st_mode) &&
		           (sub = openat(fd, d->d_name,
		                O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		                    O_CLOEXEC)) >= 0) {
			r = usage_dir(sub, skip, depth + 1, u);
			close(sub);
		}
	}
	closedir(dir);
	return r;
}

int
ferry_inbox_usage(int dirfd, ino_t skip_ino, struct ferry_usage *u)
{
	memset(u, 0, sizeof(*u));
	return usage_dir(dirfd, skip_ino, 0, u);
}
