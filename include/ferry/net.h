/* net.h - peer addresses ([ID@]HOST[:PORT][:PATH]), TCP connect and listen.
 * Everything here is plain sockets; TLS comes on top in conn.h. */
#ifndef FERRY_NET_H
#define FERRY_NET_H

#include <stddef.h>

#include "ferry/err.h"
#include "ferry/limits.h"

#define FERRY_DEFAULT_PORT "7443"
#define FERRY_ECHO_PORT "7444"
#define FERRY_MAX_HOST 253

struct ferry_addr {
	char id[FERRY_MAX_ID + 1]; /* "" when the address names no ID */
	char host[FERRY_MAX_HOST + 1]; /* without brackets */
	char port[6];
	int has_port; /* 0: port is the default */
	int has_path;
	char path[FERRY_MAX_PATH + 1]; /* after the second ':'; may be "" */
};

/*
 * Parses "[ID@]HOST[:PORT]" or, with want_path, "[ID@]HOST:PORT:PATH".
 * IPv6 literals in brackets ("[::1]:7443"). A missing port means 7443.
 * FERRY_E_USAGE with a detail naming the faulty part.
 */
int ferry_addr_parse(
    const char *s, int want_path, struct ferry_addr *a) FERRY_MUST_CHECK;
/* 1 if host is an IPv4 or IPv6 literal. */
int ferry_host_is_ip(const char *host);
/* "host:port", with brackets for IPv6, into out. */
void ferry_addr_format(
    const char *host, const char *port, char *out, size_t outlen);

/* Connects within timeout_ms to any of host's addresses; *fd is non-blocking. */
int ferry_net_connect(const char *host, const char *port, int timeout_ms,
    int *fd) FERRY_MUST_CHECK;
/* Checks a --listen value ("HOST:PORT", port 0 allowed) without binding. */
int ferry_net_listen_parse(
    const char *hostport, struct ferry_addr *a) FERRY_MUST_CHECK;
/*
 * Listens on "HOST:PORT" ("[::1]:0" works; port 0 picks a free one).
 * *fd is blocking, close-on-exec. bound receives the actual "host:port".
 */
int ferry_net_listen(const char *hostport, int *fd, char *bound,
    size_t boundlen) FERRY_MUST_CHECK;
/*
 * Makes a dead peer show within about timeout_ms: TCP keepalive probes after
 * a third of it idle (at least 1 s), then every few seconds, and
 * TCP_USER_TIMEOUT (data unacknowledged that long ends the connection).
 * Best effort: a socket option the system lacks is skipped.
 */
void ferry_net_keepalive(int fd, int timeout_ms);
/* The peer of a connected socket as "host:port". */
void ferry_net_peername(int fd, char *out, size_t outlen);

#endif
