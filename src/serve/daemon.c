/* daemon.c - accept loop, one forked child per connection, clean shutdown.
 * The parent never reads peer bytes; a child's crash cannot take others down. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ferry/log.h"
#include "ferry/net.h"

#include "daemon.h"

static volatile sig_atomic_t got_stop, got_child, got_hup;

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_child = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
}

static void
set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: waits must see the signal */
	sigaction(sig, &sa, NULL);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The child: handshake, session, one summary line. Never returns. */
static void
child(const struct daemon_cfg *cfg, int fd, const char *peer)
{
	struct ferry_conn *c = NULL;
	char summary[256] = "";
	double t0 = now_s();
	sigset_t none;
	int r;

	set_handler(SIGTERM, on_signal);
	set_handler(SIGINT, on_signal);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	ferry_conn_set_interrupt(&got_stop);
	if ((r = ferry_conn_accept(cfg->tls, fd, cfg->timeout_ms, &c)) != 0) {
		const char *why = ferry_err_detail(r);
		size_t n = strlen(peer);

		/* The detail often starts with the peer already: say it once. */
		if (strncmp(why, peer, n) == 0 && why[n] == ':' &&
		    why[n + 1] == ' ')
			why += n + 2;
		ferry_info("%s: TLS handshake failed: %s", peer, why);
		_exit(1);
	}
	r = cfg->session(c, cfg->arg, summary, sizeof(summary));
	if (r == 0)
		ferry_info("%s%s%s: %s, %s: closed after %.2f s: %s",
		    ferry_conn_peer_id(c), *ferry_conn_peer_id(c) ? "@" : "",
		    peer, ferry_conn_protocol(c), ferry_conn_cipher(c),
		    now_s() - t0, summary);
	else
		ferry_info("%s%s%s: %s, %s: ended after %.2f s: %s: %s",
		    ferry_conn_peer_id(c), *ferry_conn_peer_id(c) ? "@" : "",
		    peer, ferry_conn_protocol(c), ferry_conn_cipher(c),
		    now_s() - t0, summary, ferry_err_detail(r));
	ferry_conn_free(c);
	_exit(r == 0 ? 0 : 1);
}

/*
 * Per-address admission: more than FLOOD_PER_SEC connections from one
 * address within a second are closed unserved, and said so once a second.
 * This also bounds the log: one line per connection, not per flood packet.
 */
#define FLOOD_SLOTS 64
#define FLOOD_PER_SEC 200

static struct flood {
	char host[64];
	time_t second;
	unsigned count, dropped;
} flood[FLOOD_SLOTS];

/* 1 if a connection from peer ("host:port") may be served now. */
static int
admit(const char *peer)
{
	struct flood *f = NULL, *oldest = &flood[0];
	time_t now = time(NULL);
	size_t n = strcspn(peer, "]") < strlen(peer) ? strcspn(peer, "]") + 1
	                                             : strcspn(peer, ":");
	char host[64];

	snprintf(host, sizeof(host), "%.*s", (int)n, peer);
	for (int i = 0; i < FLOOD_SLOTS && f == NULL; i++) {
		if (strcmp(flood[i].host, host) == 0)
			f = &flood[i];
		else if (flood[i].second < oldest->second)
			oldest = &flood[i];
	}
	if (f == NULL) {
		f = oldest;
		memset(f, 0, sizeof(*f));
		snprintf(f->host, sizeof(f->host), "%s", host);
	}
	if (f->second != now) {
		if (f->dropped > 0)
			ferry_warn("%s: %u connections refused in one second "
			           "(more than %d)",
			    f->host, f->dropped, FLOOD_PER_SEC);
		f->second = now;
		f->count = f->dropped = 0;
	}
	if (++f->count <= FLOOD_PER_SEC)
		return 1;
	f->dropped++;
	return 0;
}

/* The children still running; a slot is 0 when free. */
static pid_t *children;
static int nchildren;

static void
forget(pid_t pid)
{
	for (int i = 0; i < nchildren; i++)
		if (children[i] == pid) {
			children[i] = children[--nchildren];
			return;
		}
}

static void
reap(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		forget(pid);
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
			ferry_warn("a connection handler died of signal %d",
			    WTERMSIG(status));
	}
}

static void
signal_children(int sig)
{
	for (int i = 0; i < nchildren; i++)
		kill(children[i], sig);
}

int
daemon_run(struct daemon_cfg *cfg)
{
	char bound[FERRY_MAX_HOST + 16];
	struct pollfd pfd;
	sigset_t block, empty;
	int lfd, one = 1, r;

	if ((children = calloc((size_t)cfg->max_conns, sizeof(*children))) ==
	    NULL)
		return FERRY_E_NOMEM;
	if ((r = ferry_net_listen(cfg->listen, &lfd, bound, sizeof(bound))) !=
	    0)
		return r;
	/* accept4() must never block with signals held back. */
	if (fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK) != 0) {
		close(lfd);
		return ferry_errf_errno(FERRY_E_IO, errno, "listening socket");
	}
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&empty);
	set_handler(SIGCHLD, on_signal);
	set_handler(SIGTERM, on_signal);
	set_handler(SIGINT, on_signal);
	set_handler(SIGHUP, on_signal);
	ferry_info("%s: listening on %s", cfg->name, bound);
	pfd.fd = lfd;
	pfd.events = POLLIN;
	while (!got_stop) {
		char peer[FERRY_MAX_HOST + 16];
		pid_t pid;
		int fd;

		/* Signals are delivered only inside ppoll: no lost wakeups. */
		if (ppoll(&pfd, 1, NULL, &empty) < 0 && errno != EINTR) {
			r = ferry_errf_errno(FERRY_E_IO, errno, "poll");
			break;
		}
		if (got_child) {
			got_child = 0;
			reap();
		}
		if (got_hup) {
			got_hup = 0;
			ferry_info(
			    "%s: SIGHUP: nothing to do; identity files are "
			    "re-read before every connection",
			    cfg->name);
		}
		if (got_stop || (pfd.revents & POLLIN) == 0)
			continue;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno != EINTR && errno != EAGAIN &&
			    errno != ECONNABORTED)
				ferry_warn("accept: %s", strerror(errno));
			if (errno == EMFILE || errno == ENFILE)
				usleep(100000);
			continue;
		}
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ferry_net_peername(fd, peer, sizeof(peer));
		if (!admit(peer)) {
			close(fd);
			continue;
		}
		if (nchildren >= cfg->max_conns) {
			static time_t last;

			/* Once a second is enough to say the server is full. */
			if (last != time(NULL)) {
				last = time(NULL);
				ferry_warn(
				    "%s: refused: %d connections already "
				    "(--max-conns)",
				    peer, nchildren);
			}
			close(fd);
			continue;
		}
		/* A renewed certificate or a new CRL applies from now on. */
		{
			struct ferry_tls *before = cfg->tls;
			int rr = ferry_tls_reload(&cfg->tls);

			if (rr != 0)
				ferry_warn_r(rr,
				    "%s: keeping the identity in use; "
				    "reloading it failed",
				    cfg->name);
			else if (cfg->tls != before)
				ferry_info("%s: identity files changed: "
				           "reloaded (member '%s')",
				    cfg->name, ferry_tls_self_id(cfg->tls));
		}
		if ((pid = fork()) < 0) {
			ferry_warn(
			    "%s: cannot fork: %s", peer, strerror(errno));
			close(fd);
			continue;
		}
		if (pid == 0) {
			close(lfd);
			child(cfg, fd, peer);
		}
		children[nchildren++] = pid;
		close(fd);
	}
	close(lfd);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	if (got_stop) {
		double deadline = now_s() + 5;

		ferry_info("%s: shutting down (%d connection%s open)",
		    cfg->name, nchildren, nchildren == 1 ? "" : "s");
		signal_children(SIGTERM);
		while (nchildren > 0 && now_s() < deadline) {
			usleep(20000);
			reap();
		}
		signal_children(SIGKILL);
		reap();
		r = 0;
	}
	free(children);
	return r;
}
