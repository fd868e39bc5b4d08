/* tree.h - a local directory tree for send -r: walked without following
 * symbolic links, in pre-order, sorted by name. */
#ifndef FERRY_CLI_TREE_H
#define FERRY_CLI_TREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Nodes tree_scan accepts before it gives up with FERRY_E_TOOBIG. */
#define TREE_MAX_NODES 1000000

struct tree_node {
	char kind; /* 'f' regular file, 'd' directory, 'l' symbolic link */
	char *local; /* path to open locally: DIR/.../name */
	char *remote; /* path for the peer: basename(DIR)/.../name */
	char *target; /* 'l': the link's target, else NULL */
	const char *rel; /* path below the tree's fd ("" for the root) */
	dev_t dev; /* what was listed: the file opened later must be it */
	ino_t ino;
	mode_t mode; /* st_mode & 07777 */
	int64_t mtime;
	uint64_t size; /* 'f' */
};

struct tree {
	struct tree_node *v;
	size_t n, cap;
	unsigned skipped; /* entries left out, each with a note on stderr */
	int fd; /* the directory walked, open while n > 0 (-1 otherwise) */
};

/*
 * Walks dir (itself the first node, kind 'd'; dir itself may be reached
 * through a symbolic link, as named on the command line); links below it
 * become 'l' nodes when links is set, else are skipped with a one-line note
 * on stderr ("ferry: warning: send: skipping symbolic link P (use
 * --links)"); other kinds (fifo, socket, device) are skipped with a note.
 * Names that break PROTOCOL.md 4.1 (ferry_fsafe_check_name) are skipped with
 * a note; a remote path longer than FERRY_MAX_PATH and a link target longer
 * than FERRY_MAX_LINK too. The remote name of dir is its last component
 * (trailing slashes stripped; for "." or ".." that of its real path); "/"
 * itself is FERRY_E_USAGE. At most TREE_MAX_NODES nodes (FERRY_E_TOOBIG
 * beyond). Returns 0 or FERRY_E_* with the detail set (t is then empty).
 * t->fd stays open on dir: each file is to be opened later as its rel
 * beneath it, following no link, and checked to be the dev/ino listed
 * (ferry_push_item's dirfd, rel, dev, ino), so that nothing swapped in
 * after the walk is sent.
 */
int tree_scan(const char *dir, int links, struct tree *t);
/* Frees every node, closes t->fd; t is then empty (may be scanned again). */
void tree_free(struct tree *t);

#endif
