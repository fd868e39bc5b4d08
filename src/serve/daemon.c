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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ferry/admit.h"
#include "ferry/log.h"
#include "ferry/net.h"
#include "ferry/notify.h"

#include "daemon.h"

static volatile sig_atomic_t got_stop, got_child, got_hup;
static struct ferry_admit *dpool; /* the parent's handshake pool */

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

/*
 * What the parent and its children share (one MAP_SHARED page or a few):
 * a slot per child, which the child marks once its handshake is done. The
 * parent only reads these flags; it never reads a peer byte.
 */
enum { SLOT_HANDSHAKE = 0, SLOT_SESSION, SLOT_BUSY };
static int *slots;
static int nslots;

/* Sessions (children past their handshake) now, by the slots. */
static int
sessions(void)
{
	int n = 0;

	for (int i = 0; i < nslots; i++)
		n += __atomic_load_n(&slots[i], __ATOMIC_SEQ_CST) ==
		     SLOT_SESSION;
	return n;
}

/*
 * A handshake failure, said once: the detail may name the peer already
 * ("ADDR: ..." or "ADDR closed ..."), and conn.c's may already start with
 * "TLS handshake failed".
 */
static void
say_failed(const char *peer, int r)
{
	const char *why = ferry_err_detail(r), *who = "";
	size_t n = strlen(peer);

	if (strncmp(why, peer, n) == 0 && why[n] == ':' && why[n + 1] == ' ')
		why += n + 2;
	else if (strncmp(why, peer, n) == 0 && why[n] == ' ') {
		why += n + 1;
		who = "the client ";
	}
	if (strncmp(why, "TLS handshake failed: ", 22) == 0)
		why += 22;
	ferry_info("%s: TLS handshake failed: %s%s", peer, who, why);
}

/*
 * Past the handshake: the child takes a session place, or when --max-conns
 * sessions run already gives it back and tells the client it is busy.
 * Two children racing for the last place may both be turned away.
 */
static int
claim_session(const struct daemon_cfg *cfg, int slot)
{
	int n;

	__atomic_store_n(&slots[slot], SLOT_SESSION, __ATOMIC_SEQ_CST);
	if ((n = sessions()) <= cfg->max_conns)
		return 0;
	__atomic_store_n(&slots[slot], SLOT_BUSY, __ATOMIC_SEQ_CST);
	return n - 1;
}

/* The child: handshake, session, one summary line. Never returns. */
static void
child(const struct daemon_cfg *cfg, int fd, const char *peer, int slot)
{
	struct ferry_conn *c = NULL;
	char summary[256] = "";
	double t0 = now_s();
	int grace_ms = ferry_admit_policy(cfg->pool)->grace_s * 1000;
	sigset_t none;
	int busy, r;

	set_handler(SIGTERM, on_signal);
	set_handler(SIGINT, on_signal);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	ferry_conn_set_interrupt(&got_stop);
	/* The grace time bounds the whole handshake, trickled or not. */
	if ((r = ferry_conn_accept(cfg->tls, fd,
	         grace_ms < cfg->timeout_ms ? grace_ms : cfg->timeout_ms,
	         &c)) != 0) {
		say_failed(peer, r);
		_exit(1);
	}
	if (cfg->confine_child != NULL && (r = cfg->confine_child()) != 0) {
		ferry_error_r(r, "%s: cannot confine the connection", peer);
		ferry_conn_free(c);
		_exit(1);
	}
	ferry_conn_set_timeout(c, cfg->timeout_ms);
	if ((busy = claim_session(cfg, slot)) > 0) {
		ferry_info("%s%s%s: turned away: %d sessions already "
		           "(--max-conns)",
		    ferry_conn_peer_id(c), *ferry_conn_peer_id(c) ? "@" : "",
		    peer, busy);
		if (cfg->busy != NULL)
			cfg->busy(c, cfg->arg, busy);
		ferry_conn_free(c);
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

/* The children still running, and the shared slot each holds. */
static struct kid {
	pid_t pid;
	int slot;
	int killed; /* by us: evicted or out of grace */
	char host[64]; /* for the handshake pool */
	double since;
} * kids;
/* maxkids: the limit now (max_conns, admit); nslots: room for any. */
static int nkids, maxkids;

static void
forget(pid_t pid)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i].pid == pid) {
			(void)ferry_admit_remove(dpool, (uint64_t)pid);
			__atomic_store_n(&slots[kids[i].slot], SLOT_HANDSHAKE,
			    __ATOMIC_SEQ_CST);
			kids[i] = kids[--nkids];
			return;
		}
}

static int
was_killed(pid_t pid)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i].pid == pid)
			return kids[i].killed > 0;
	return 0;
}

static void
reap(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int ours = was_killed(pid);

		forget(pid);
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM &&
		    !(ours && WTERMSIG(status) == SIGKILL))
			ferry_warn("a connection handler died of signal %d",
			    WTERMSIG(status));
	}
}

static void
signal_children(int sig)
{
	for (int i = 0; i < nkids; i++)
		kill(kids[i].pid, sig);
}

/* Children past their handshake leave the pool. */
static void
pool_sync(void)
{
	for (int i = 0; i < nkids; i++)
		if (__atomic_load_n(&slots[kids[i].slot], __ATOMIC_SEQ_CST) !=
		    SLOT_HANDSHAKE)
			(void)ferry_admit_remove(dpool, (uint64_t)kids[i].pid);
}

static void
end_handshake(pid_t pid)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i].pid == pid) {
			kids[i].killed = 1;
			kill(pid, SIGKILL);
		}
	(void)ferry_admit_remove(dpool, (uint64_t)pid);
}

/*
 * Ends handshakes past their grace time (the child's own deadline is the
 * grace; this is the backstop, a second later). Returns the milliseconds
 * until the next one is due, -1 for none.
 */
static int
pool_expire(const char *name)
{
	double next;
	uint64_t key;
	int n = 0;

	pool_sync();
	while ((key = ferry_admit_expired(dpool, now_s() - 1, &next)) != 0) {
		end_handshake((pid_t)key);
		n++;
	}
	if (n > 0)
		ferry_info("%s: %d handshake%s not done within %d s: closed",
		    name, n, n == 1 ? "" : "s",
		    ferry_admit_policy(dpool)->grace_s);
	return next < 0 ? -1 : (int)(next * 1000) + 10;
}

/* 1 if a new connection from peer may start its handshake now. */
static int
may_start(struct daemon_cfg *cfg, const char *peer)
{
	enum ferry_admit_verdict v;
	char host[64];
	uint64_t victim;

	if (!admit(peer))
		return 0;
	if (nkids >= maxkids) {
		ferry_admit_log(dpool, FERRY_ADMIT_DROP_FULL, cfg->name, peer);
		return 0;
	}
	ferry_admit_host(peer, host, sizeof(host));
	pool_sync();
	v = ferry_admit_decide(dpool, host, ferry_admit_random(), &victim);
	if (v == FERRY_ADMIT_EVICT)
		end_handshake((pid_t)victim);
	if (v != FERRY_ADMIT_YES)
		ferry_admit_log(dpool, v, cfg->name, host);
	return v == FERRY_ADMIT_YES || v == FERRY_ADMIT_EVICT;
}

/* A renewed certificate or a new CRL applies from now on. */
static void
reload(struct daemon_cfg *cfg)
{
	struct ferry_tls *before = cfg->tls;
	int rr = ferry_tls_reload(&cfg->tls);

	if (rr != 0)
		ferry_warn_r(rr,
		    "%s: keeping the identity in use; reloading it failed",
		    cfg->name);
	else if (cfg->tls != before)
		ferry_info("%s: identity files changed: reloaded (member '%s')",
		    cfg->name, ferry_tls_self_id(cfg->tls));
}

/*
 * A new handshake policy: a new pool holding the handshakes under way
 * (those it has no room for stay outside it, bounded by their grace).
 */
static void
pool_rebuild(struct daemon_cfg *cfg)
{
	struct ferry_admit *np;
	int r;

	if ((r = ferry_admit_new(&cfg->admit, &np)) != 0) {
		ferry_warn_r(
		    r, "%s: reload: keeping the handshake policy", cfg->name);
		cfg->admit = *ferry_admit_policy(dpool);
		return;
	}
	pool_sync();
	for (int i = 0; i < nkids; i++)
		if (__atomic_load_n(&slots[kids[i].slot], __ATOMIC_SEQ_CST) ==
		        SLOT_HANDSHAKE &&
		    !kids[i].killed &&
		    ferry_admit_add(np, (uint64_t)kids[i].pid, kids[i].host,
		        kids[i].since) != 0)
			ferry_debug("%s: handshake %d left out of the new pool",
			    cfg->name, (int)kids[i].pid);
	ferry_admit_free(dpool);
	dpool = cfg->pool = np;
}

static void
say_ready(const char *bound)
{
	char status[FERRY_MAX_HOST + 64];

	snprintf(status, sizeof(status), "listening on %s", bound);
	ferry_notify_ready(status);
}

/*
 * SIGHUP: the command's reload (its configuration file), then the
 * identity; systemd hears RELOADING=1 before and READY=1 after.
 */
static void
hangup(struct daemon_cfg *cfg, const char *bound)
{
	struct ferry_admit_policy before = cfg->admit;
	int conns = cfg->max_conns;

	ferry_notify_reloading();
	if (cfg->reload != NULL)
		cfg->reload(cfg);
	else
		ferry_info(
		    "%s: SIGHUP: checking the identity files", cfg->name);
	if (cfg->max_conns < 1 || cfg->max_conns > DAEMON_MAX_CONNS)
		cfg->max_conns = conns;
	if (memcmp(&before, &cfg->admit, sizeof(before)) != 0)
		pool_rebuild(cfg);
	maxkids = cfg->max_conns + 2 * ferry_admit_policy(dpool)->full;
	if (maxkids > nslots)
		maxkids = nslots;
	reload(cfg);
	say_ready(bound);
}

/* A free shared slot; there is one since nkids < maxkids. */
static int
free_slot(void)
{
	for (int s = 0; s < nslots; s++) {
		int used = 0;

		for (int i = 0; i < nkids && !used; i++)
			used = kids[i].slot == s;
		if (!used)
			return s;
	}
	return -1;
}

/* Accepts one connection and forks its child, or turns it away. */
static void
take(struct daemon_cfg *cfg, int lfd)
{
	char peer[FERRY_MAX_HOST + 16], host[64];
	int fd, one = 1, slot;
	pid_t pid;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			ferry_warn("accept: %s", strerror(errno));
		if (errno == EMFILE || errno == ENFILE)
			usleep(100000);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ferry_net_peername(fd, peer, sizeof(peer));
	if (!may_start(cfg, peer) || (slot = free_slot()) < 0) {
		close(fd);
		return;
	}
	reload(cfg);
	__atomic_store_n(&slots[slot], SLOT_HANDSHAKE, __ATOMIC_SEQ_CST);
	if ((pid = fork()) < 0) {
		ferry_warn("%s: cannot fork: %s", peer, strerror(errno));
		close(fd);
		return;
	}
	if (pid == 0) {
		close(lfd);
		child(cfg, fd, peer, slot);
	}
	ferry_admit_host(peer, host, sizeof(host));
	kids[nkids] = (struct kid){.pid = pid, .slot = slot, .since = now_s()};
	snprintf(kids[nkids++].host, sizeof(kids[0].host), "%s", host);
	if (ferry_admit_add(dpool, (uint64_t)pid, host, now_s()) != 0)
		ferry_debug("%s: not entered in the handshake pool", peer);
	close(fd);
}

static int
setup(struct daemon_cfg *cfg)
{
	const struct ferry_admit_policy *p;
	int r;

	if ((r = ferry_admit_new(&cfg->admit, &dpool)) != 0)
		return r;
	cfg->pool = dpool;
	p = ferry_admit_policy(dpool);
	/* Sessions, handshakes, and as many again answering BUSY. */
	maxkids = cfg->max_conns + 2 * p->full;
	/* Room for the most a reload can allow: slots cannot move. */
	nslots = DAEMON_MAX_CONNS + 2 * FERRY_ADMIT_MAX_FULL;
	if (maxkids > nslots)
		maxkids = nslots;
	if ((kids = calloc((size_t)nslots, sizeof(*kids))) == NULL)
		return FERRY_E_NOMEM;
	slots = mmap(NULL, (size_t)nslots * sizeof(*slots),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED) {
		slots = NULL;
		return ferry_errf_errno(FERRY_E_NOMEM, errno, "shared memory");
	}
	return 0;
}

static void
teardown(void)
{
	free(kids);
	kids = NULL;
	nkids = 0;
	if (slots != NULL)
		munmap(slots, (size_t)nslots * sizeof(*slots));
	slots = NULL;
	ferry_admit_free(dpool);
	dpool = NULL;
}

int
daemon_run(struct daemon_cfg *cfg)
{
	char bound[FERRY_MAX_HOST + 16];
	struct pollfd pfd;
	sigset_t block, empty;
	int lfd = -1, r;

	if ((r = setup(cfg)) != 0 || (r = ferry_net_listen(cfg->listen, &lfd,
	                                  bound, sizeof(bound))) != 0)
		goto out;
	/* accept4() must never block with signals held back. */
	if (fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK) != 0) {
		r = ferry_errf_errno(FERRY_E_IO, errno, "listening socket");
		goto out;
	}
	/* Bound and holding its keys: now the user switch and Landlock. */
	if (cfg->confine != NULL && (r = cfg->confine(cfg->confine_arg)) != 0)
		goto out;
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
	say_ready(bound);
	pfd.fd = lfd;
	pfd.events = POLLIN;
	while (!got_stop) {
		int ms = pool_expire(cfg->name);
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

		/* Signals are delivered only inside ppoll: no lost wakeups. */
		pfd.revents = 0;
		if (ppoll(&pfd, 1, ms < 0 ? NULL : &ts, &empty) < 0 &&
		    errno != EINTR) {
			r = ferry_errf_errno(FERRY_E_IO, errno, "poll");
			break;
		}
		if (got_child) {
			got_child = 0;
			reap();
		}
		if (got_hup && !got_stop) {
			got_hup = 0;
			hangup(cfg, bound);
		}
		if (!got_stop && (pfd.revents & POLLIN) != 0)
			take(cfg, lfd);
	}
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	if (got_stop) {
		double deadline = now_s() + 5;

		ferry_notify_stopping();
		ferry_info("%s: shutting down (%d connection%s open)",
		    cfg->name, nkids, nkids == 1 ? "" : "s");
		signal_children(SIGTERM);
		while (nkids > 0 && now_s() < deadline) {
			usleep(20000);
			reap();
		}
		signal_children(SIGKILL);
		reap();
		r = 0;
	}
out:
	if (lfd >= 0)
		close(lfd);
	teardown();
	return r;
}
