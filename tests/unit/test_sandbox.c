/* test_sandbox.c - least privilege: the root refusal, the user switch (as
 * root), Landlock rules (read, write, nothing else) and the seccomp filter of
 * serve's child (what it allows works, what it does not kills). Each
 * confinement runs in a forked child, so the test process stays free. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ferry/err.h"
#include "ferry/sandbox.h"

/* Runs fn in a child; its wait status. */
static int
in_child(int (*fn)(void *), void *arg)
{
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
test_priv_check(void **state)
{
	(void)state;
	assert_int_equal(ferry_priv_check(NULL, 1), 0);
	assert_int_equal(
	    ferry_priv_check("no-such-user-for-ferry", 0), FERRY_E_USAGE);
	assert_non_null(
	    strstr(ferry_err_detail(FERRY_E_USAGE), "no such user"));
	assert_int_equal(ferry_priv_check("root", 1), FERRY_E_USAGE);
	if (geteuid() != 0) {
		assert_int_equal(ferry_priv_check(NULL, 0), 0);
		return;
	}
	assert_int_equal(ferry_priv_check("nobody", 0), 0);
	assert_int_equal(ferry_priv_check(NULL, 0), FERRY_E_USAGE);
	assert_string_equal(ferry_err_detail(FERRY_E_USAGE),
	    "refusing to run as root; use --user NAME (e.g. --user ferry) or "
	    "--allow-root");
}

static void
test_priv_drop_refused(void **state)
{
	(void)state;
	assert_int_equal(
	    ferry_priv_drop("no-such-user-for-ferry"), FERRY_E_USAGE);
	assert_non_null(
	    strstr(ferry_err_detail(FERRY_E_USAGE), "no such user"));
	assert_int_equal(ferry_priv_drop("root"), FERRY_E_USAGE);
	assert_non_null(strstr(ferry_err_detail(FERRY_E_USAGE), "is root"));
}

static int
drop_to_nobody(void *arg)
{
	struct passwd *pw = getpwnam("nobody");

	(void)arg;
	if (pw == NULL || ferry_priv_drop("nobody") != 0)
		return 10;
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getgid() != pw->pw_gid)
		return 11;
	if (setuid(0) == 0 || setgid(0) == 0)
		return 12;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 13;
	return 0;
}

static void
test_priv_drop(void **state)
{
	int st;

	(void)state;
	if (geteuid() != 0 || getpwnam("nobody") == NULL)
		skip();
	st = in_child(drop_to_nobody, NULL);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* root/ro/f, root/rw/, root/out/f */
struct tree {
	char root[PATH_MAX], ro[PATH_MAX + 8], rw[PATH_MAX + 8],
	    out[PATH_MAX + 8];
};

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
put(const char *dir, const char *name)
{
	char p[PATH_MAX + 32];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_true((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
	assert_int_equal(write(fd, "x\n", 2), 2);
	close(fd);
}

static int
setup_tree(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->root, sizeof(t->root), "%s/ferry-sandbox-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(t->root) == NULL)
		return -1;
	snprintf(t->ro, sizeof(t->ro), "%s/ro", t->root);
	snprintf(t->rw, sizeof(t->rw), "%s/rw", t->root);
	snprintf(t->out, sizeof(t->out), "%s/out", t->root);
	if (mkdir(t->ro, 0755) != 0 || mkdir(t->rw, 0755) != 0 ||
	    mkdir(t->out, 0755) != 0)
		return -1;
	put(t->ro, "f");
	put(t->out, "f");
	*state = t;
	return 0;
}

static int
teardown_tree(void **state)
{
	struct tree *t = *state;

	nftw(t->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}

/* errno of opening dir/name with flags, 0 if it opened. */
static int
open_err(const char *dir, const char *name, int flags)
{
	char p[PATH_MAX + 32];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((fd = open(p, flags, 0600)) < 0)
		return errno;
	close(fd);
	return 0;
}

static int
confined(void *arg)
{
	const struct tree *t = arg;
	struct ferry_fs_rule rules[] = {
	    {t->ro, FERRY_FS_READ, "--share"},
	    {t->rw, FERRY_FS_WRITE, "--inbox"},
	};
	char p[PATH_MAX + 32], q[PATH_MAX + 32];

	if (ferry_landlock_apply(rules, 2) != 0)
		return 10;
	if (open_err(t->ro, "f", O_RDONLY) != 0)
		return 11; /* read where allowed */
	if (open_err(t->out, "f", O_RDONLY) != EACCES)
		return 12; /* read elsewhere */
	if (open_err(t->ro, "new", O_WRONLY | O_CREAT) != EACCES ||
	    open_err(t->ro, "f", O_WRONLY) != EACCES)
		return 13; /* write where only read is allowed */
	if (open_err(t->rw, "new", O_WRONLY | O_CREAT) != 0)
		return 14; /* write where allowed */
	snprintf(p, sizeof(p), "%s/new", t->rw);
	snprintf(q, sizeof(q), "%s/sub", t->rw);
	if (mkdir(q, 0700) != 0)
		return 15;
	snprintf(q, sizeof(q), "%s/sub/moved", t->rw);
	if (rename(p, q) != 0 || unlink(q) != 0)
		return 16; /* rename across directories (REFER), remove */
	snprintf(q, sizeof(q), "%s/leak", t->out);
	snprintf(p, sizeof(p), "%s/f", t->ro);
	if (link(p, q) == 0 || errno != EACCES)
		return 17;
	return 0;
}

static void
test_landlock(void **state)
{
	int st;

	if (ferry_landlock_abi() <= 0)
		skip();
	st = in_child(confined, *state);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
test_landlock_missing_path(void **state)
{
	struct ferry_fs_rule r = {
	    "/nonexistent/ferry/path", FERRY_FS_READ, NULL};

	(void)state;
	if (ferry_landlock_abi() <= 0)
		skip();
	assert_int_equal(ferry_landlock_apply(&r, 1), FERRY_E_NOENT);
}

static void *
thread_main(void *arg)
{
	*(int *)arg = 42;
	return NULL;
}

/* What a session does: all allowed. */
static int
filtered_ok(void *arg)
{
	const struct tree *t = arg;
	pthread_t th;
	int fds[2], v = 0;
	void *m;
	char b[2];

	if (ferry_seccomp_apply_child() != 0)
		return 10;
	if (pipe2(fds, O_CLOEXEC) != 0 || write(fds[1], "y", 1) != 1 ||
	    read(fds[0], b, 1) != 1)
		return 11;
	if (open_err(t->ro, "f", O_RDONLY) != 0 ||
	    open_err(t->rw, "g", O_WRONLY | O_CREAT) != 0)
		return 12;
	if ((m = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED ||
	    munmap(m, 65536) != 0)
		return 13;
	if (pthread_create(&th, NULL, thread_main, &v) != 0 ||
	    pthread_join(th, NULL) != 0 || v != 42)
		return 14;
	return 0;
}

static void
test_seccomp_allows(void **state)
{
	int st = in_child(filtered_ok, *state);

	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

enum bad { BAD_INET, BAD_EXEC_MAP, BAD_FORK, BAD_EXECVE };

/* 1 if /proc/self/status says a seccomp filter is in force. */
static int
under_filter(void)
{
	char buf[4096];
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 1; /* cannot tell: let the case decide */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, "\nSeccomp:\t2\n") != NULL;
}

static int
filtered_bad(void *arg)
{
	enum bad what = *(enum bad *)arg;
	char *argv[] = {"/bin/true", NULL};

	if (ferry_seccomp_apply_child() != 0)
		return 10;
	/* A kernel without seccomp (the filter was said, not loaded). */
	if (!under_filter())
		return 77;
	switch (what) {
	case BAD_INET:
		(void)socket(AF_INET, SOCK_STREAM, 0);
		break;
	case BAD_EXEC_MAP:
		(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case BAD_FORK:
		if (fork() == 0)
			_exit(0);
		break;
	case BAD_EXECVE:
		execv(argv[0], argv);
		break;
	}
	return 20; /* still alive: the filter let it through */
}

static void
test_seccomp_kills(void **state)
{
	enum bad all[] = {BAD_INET, BAD_EXEC_MAP, BAD_FORK, BAD_EXECVE};

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		int st = in_child(filtered_bad, &all[i]);

		if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
			skip();
		if (!WIFSIGNALED(st))
			fail_msg("case %zu: exited %d, not killed", i,
			    WEXITSTATUS(st));
		assert_int_equal(WTERMSIG(st), SIGSYS);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_priv_check),
	    cmocka_unit_test(test_priv_drop_refused),
	    cmocka_unit_test(test_priv_drop),
	    cmocka_unit_test_setup_teardown(
	        test_landlock, setup_tree, teardown_tree),
	    cmocka_unit_test(test_landlock_missing_path),
	    cmocka_unit_test_setup_teardown(
	        test_seccomp_allows, setup_tree, teardown_tree),
	    cmocka_unit_test(test_seccomp_kills),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
