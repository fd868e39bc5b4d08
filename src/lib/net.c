/* net.c - peer addresses and TCP sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry/net.h"
#include "ferry/pki.h"

static int
valid_host(const char *h, size_t n)
{
	if (n == 0 || n > FERRY_MAX_HOST)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		        c == ':' || c == '_' || c == '%'))
			return 0;
	}
	return 1;
}

static int
parse_port(const char *p, size_t n, char out[6])
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	snprintf(out, 6, "%lu", v);
	return 0;
}

/* 1 if s, or s up to one of its ':', is an IPv6 address. */
static int
ipv6_prefix(const char *s)
{
	unsigned char tmp[sizeof(struct in6_addr)];
	char buf[INET6_ADDRSTRLEN];
	size_t n = 0;

	for (;;) {
		size_t k = strcspn(s + n, ":");

		n += k;
		if (n >= sizeof(buf))
			return 0;
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET6, buf, tmp) == 1)
			return 1;
		if (s[n] == '\0')
			return 0;
		n++;
	}
}

int
ferry_addr_parse(const char *s, int want_path, struct ferry_addr *a)
{
	const char *at, *host, *rest;
	size_t hlen;

	memset(a, 0, sizeof(*a));
	/* An ID can only come before the host: '@' later is part of a path. */
	at = s + strcspn(s, "@:[");
	if (*at == '@') {
		size_t n = (size_t)(at - s);

		if (n == 0 || n > FERRY_MAX_ID)
			return ferry_errf(
			    FERRY_E_USAGE, "%s: bad peer ID before '@'", s);
		memcpy(a->id, s, n);
		if (ferry_id_check(a->id) != 0)
			return ferry_errf(FERRY_E_USAGE,
			    "%s: '%s' is not a valid member ID", s, a->id);
		s = at + 1;
	}
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL)
			return ferry_errf(FERRY_E_USAGE,
			    "%s: missing ']' after IPv6 address", s);
		host = s + 1;
		hlen = (size_t)(close - host);
		rest = close + 1;
		if (*rest != '\0' && *rest != ':')
			return ferry_errf(
			    FERRY_E_USAGE, "%s: expected ':' after ']'", s);
	} else {
		host = s;
		rest = strchr(s, ':');
		if (rest == NULL)
			rest = s + strlen(s);
		hlen = (size_t)(rest - host);
	}
	if (*s != '[' && hlen == 0 && *rest == ':' &&
	    strchr(rest + 1, ':') != NULL)
		return ferry_errf(FERRY_E_USAGE,
		    "%s: put IPv6 addresses in brackets, like [::1]:7443", s);
	/* An empty name would reach SSL_set1_host(""), which checks nothing. */
	if (hlen == 0)
		return ferry_errf(FERRY_E_USAGE, "%s: missing host name", s);
	if (!valid_host(host, hlen))
		return ferry_errf(FERRY_E_USAGE, "%s: bad host name", s);
	memcpy(a->host, host, hlen);
	a->host[hlen] = '\0';
	memcpy(a->port, FERRY_DEFAULT_PORT, sizeof(FERRY_DEFAULT_PORT));
	if (*rest == ':') {
		const char *p = rest + 1, *colon = strchr(p, ':');
		size_t plen = colon == NULL ? strlen(p) : (size_t)(colon - p);

		/* ferry.1: "HOST::PATH", the port left empty, means 7443;
		 * but "fe80::1:7443:x" is an IPv6 address without brackets. */
		if (plen == 0 && colon != NULL && *s != '[' && ipv6_prefix(s))
			return ferry_errf(FERRY_E_USAGE,
			    "%s: put IPv6 addresses in brackets, like "
			    "[::1]:7443",
			    s);
		if (plen == 0 && colon != NULL)
			rest = colon;
		else if (parse_port(p, plen, a->port) != 0)
			return ferry_errf(FERRY_E_USAGE,
			    "%s: '%.*s' is not a port number (1-65535)%s", s,
			    (int)plen, p,
			    strchr(a->host, '.') == NULL && plen == 0
			        ? "; put IPv6 addresses in brackets, like "
			          "[::1]:7443"
			        : "");
		else {
			a->has_port = 1;
			rest = colon == NULL ? p + plen : colon;
		}
	}
	if (*rest == ':') {
		if (!want_path)
			return ferry_errf(FERRY_E_USAGE,
			    "%s: unexpected ':' after the port", s);
		if (strlen(rest + 1) > FERRY_MAX_PATH)
			return ferry_errf(
			    FERRY_E_USAGE, "%s: path too long", s);
		a->has_path = 1;
		strcpy(a->path, rest + 1);
	}
	return 0;
}

int
ferry_host_is_ip(const char *host)
{
	unsigned char tmp[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, tmp) == 1 ||
	       inet_pton(AF_INET6, host, tmp) == 1;
}

void
ferry_addr_format(const char *host, const char *port, char *out, size_t n)
{
	if (strchr(host, ':') != NULL)
		snprintf(out, n, "[%s]:%s", host, port);
	else
		snprintf(out, n, "%s:%s", host, port);
}

static int
connect_one(const struct addrinfo *ai, int timeout_ms, int *fd)
{
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int s, err = 0, one = 1;

	s = socket(ai->ai_family,
	    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (s < 0)
		return errno;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			goto fail;
		}
		pfd.fd = s;
		pfd.events = POLLOUT;
		do
			err = poll(&pfd, 1, timeout_ms);
		while (err < 0 && errno == EINTR);
		if (err == 0) {
			err = ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err != 0)
			goto fail;
	}
	*fd = s;
	return 0;
fail:
	close(s);
	return err;
}

int
ferry_net_connect(const char *host, const char *port, int timeout_ms, int *fd)
{
	struct addrinfo hints, *res = NULL, *ai;
	char where[FERRY_MAX_HOST + 16];
	int gai, err = ECONNREFUSED;

	ferry_addr_format(host, port, where, sizeof(where));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0)
		return ferry_errf(
		    FERRY_E_RESOLVE, "%s: %s", where, gai_strerror(gai));
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if ((err = connect_one(ai, timeout_ms, fd)) == 0)
			break;
	freeaddrinfo(res);
	if (err == 0)
		return 0;
	return ferry_errf_errno(
	    err == ETIMEDOUT ? FERRY_E_TIMEOUT : FERRY_E_CONNECT, err,
	    "cannot connect to %s", where);
}

void
ferry_net_keepalive(int fd, int timeout_ms)
{
	int one = 1, secs = timeout_ms / 1000, idle, intvl, cnt = 3;
	unsigned int user = timeout_ms > 0 ? (unsigned int)timeout_ms : 0;

	if (secs < 1)
		secs = 1;
	/* idle + cnt * intvl is about the timeout: silence found in time. */
	idle = secs / 3 > 0 ? secs / 3 : 1;
	intvl = (secs - idle) / cnt > 0 ? (secs - idle) / cnt : 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
#ifdef TCP_KEEPIDLE
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
#endif
#ifdef TCP_USER_TIMEOUT
	if (user > 0)
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user, sizeof(user));
#endif
}

void
ferry_net_peername(int fd, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN], port[8];

	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port,
	        sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(out, outlen, "?");
		return;
	}
	ferry_addr_format(host, port, out, outlen);
}

int
ferry_net_listen_parse(const char *hostport, struct ferry_addr *a)
{
	char tmp[FERRY_MAX_HOST + 16];
	const char *zero = strrchr(hostport, ':');
	int r;

	/* Port 0 is fine here (any free port), unlike when dialling. */
	if (zero != NULL && strcmp(zero, ":0") == 0 &&
	    (size_t)(zero - hostport) < sizeof(tmp) - 8) {
		snprintf(tmp, sizeof(tmp), "%.*s:1", (int)(zero - hostport),
		    hostport);
		if ((r = ferry_addr_parse(tmp, 0, a)) == 0)
			strcpy(a->port, "0");
	} else
		r = ferry_addr_parse(hostport, 0, a);
	if (r != 0 || a->id[0] != '\0' || !a->has_port)
		return ferry_errf(FERRY_E_USAGE,
		    "--listen %s: expected HOST:PORT with a port from 0 to "
		    "65535, like 127.0.0.1:7443",
		    hostport);
	return 0;
}

int
ferry_net_listen(const char *hostport, int *fd, char *bound, size_t boundlen)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	struct ferry_addr a;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN], port[8];
	int s = -1, one = 1, gai, r;

	if ((r = ferry_net_listen_parse(hostport, &a)) != 0)
		return r;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((gai = getaddrinfo(a.host, a.port, &hints, &res)) != 0)
		return ferry_errf(FERRY_E_RESOLVE, "--listen %s: %s", hostport,
		    gai_strerror(gai));
	s = socket(
	    res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (s < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(s, 128) != 0) {
		r = ferry_errf_errno(
		    errno == EADDRINUSE ? FERRY_E_BUSY : FERRY_E_CONNECT, errno,
		    "cannot listen on %s", hostport);
		if (s >= 0)
			close(s);
		freeaddrinfo(res);
		return r;
	}
	freeaddrinfo(res);
	if (getsockname(s, (struct sockaddr *)&ss, &len) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port,
	        sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		ferry_addr_format(host, port, bound, boundlen);
	else
		snprintf(bound, boundlen, "%s", hostport);
	*fd = s;
	return 0;
}
