/* limits.h - every hard bound ferry enforces, in one table.
 * Parsers and buffers take their maxima from here, never from the peer. */
#ifndef FERRY_LIMITS_H
#define FERRY_LIMITS_H

/* One path component (a file name), bytes. PROTOCOL.md 4.1. */
#define FERRY_MAX_NAME 255
/* A relative path of components joined by '/', bytes. PROTOCOL.md 4.1. */
#define FERRY_MAX_PATH 4096
/* Payload of a DATA frame. PROTOCOL.md 3. */
#define FERRY_MAX_DATA (256 * 1024)
/* Payload of every other frame. PROTOCOL.md 3. */
#define FERRY_MAX_CONTROL 8192
/* Free text in HELLO (software) and ERR (message) frames. */
#define FERRY_MAX_TEXT 1024
/* A member ID: the CN and URI SAN of a member certificate. */
#define FERRY_MAX_ID 64
/* A host name (RFC 1035, without the trailing dot) or an IP's text. */
#define FERRY_MAX_HOSTNAME 253
/* DNS names and IPs bound to one account, and in one certificate. */
#define FERRY_MAX_HOST_NAMES 64
/* Groups one member certificate may carry (URI SANs ferry-group:NAME). */
#define FERRY_MAX_GROUPS 32
/* A group name: same syntax and length bound as a member ID. */
#define FERRY_MAX_GROUP FERRY_MAX_ID
/* serve's access rules: entries of one list, read rules (paths). */
#define FERRY_ACCESS_MAX_ENTRIES 1000
#define FERRY_ACCESS_MAX_RULES 1000
/* Directory depth an inbox usage scan descends to. */
#define FERRY_ACCESS_MAX_DEPTH 256
/* A receiver re-checks the sender's quota every this many bytes. */
#define FERRY_QUOTA_RECHECK (4u << 20)
/* Bytes of requests a client may have in flight before it waits (pipelining). */
#define FERRY_MAX_INFLIGHT_BYTES (32 * 1024)
/* Requests a client may have in flight before it waits. */
#define FERRY_MAX_INFLIGHT 64
/* Largest file ferry accepts: 2^62 keeps every size sum below INT64_MAX. */
#define FERRY_MAX_FILE_SIZE (1ULL << 62)
/* Entries a client accepts in one listing. */
#define FERRY_MAX_LIST_ENTRIES (1u << 20)
/* Receivers keep partials of files at least this big (PROTOCOL.md 7.4). */
#define FERRY_RESUME_MIN (1u << 20)
/* One echo line. Longer lines are echoed in pieces of this size. */
#define FERRY_MAX_ECHO_LINE 16384
/* The client's configuration file: bytes, lines, bytes of a line, peers. */
#define FERRY_CONFIG_MAX_SIZE (256 * 1024)
#define FERRY_CONFIG_MAX_LINES 10000
#define FERRY_CONFIG_MAX_LINE 1024
#define FERRY_CONFIG_MAX_PEERS 1000
/* A daemon option's name as a key of [serve] or [authd]. */
#define FERRY_CONFIG_MAX_KEY 32

#endif
