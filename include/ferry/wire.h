/* wire.h - ferry's frame protocol: frame types, limits, and the codec.
 * Encoder and decoder of each message live side by side in wire.c, as in docs/PROTOCOL.md. */
#ifndef FERRY_WIRE_H
#define FERRY_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/limits.h"

#define FERRY_ALPN "ferry/1"
#define FERRY_PROTOCOL_VERSION 1
/* A frame header: type u8, payload length u32 (big-endian). PROTOCOL.md 3. */
#define FERRY_FRAME_HDR 5
#define FERRY_SHA256_LEN 32

/* Frame types. PROTOCOL.md 5; values never change meaning. */
enum ferry_frame_type {
	FERRY_F_NONE = 0x00, /* not on the wire: "no frame yet" */
	FERRY_F_HELLO = 0x01,
	FERRY_F_PUT = 0x10,
	FERRY_F_DATA = 0x11,
	FERRY_F_END = 0x12,
	FERRY_F_ABORT = 0x13,
	FERRY_F_PROBE = 0x14, /* the rest of this list: feature SYNC */
	FERRY_F_PUTAT = 0x15,
	FERRY_F_MKDIR = 0x16,
	FERRY_F_LINK = 0x17,
	FERRY_F_GET = 0x20,
	FERRY_F_FILE = 0x21,
	FERRY_F_GETAT = 0x22,
	FERRY_F_FILEAT = 0x23,
	FERRY_F_LIST = 0x30,
	FERRY_F_ENTRY = 0x31,
	FERRY_F_LISTEND = 0x32,
	FERRY_F_WALK = 0x33,
	FERRY_F_NODE = 0x34,
	FERRY_F_OK = 0x40,
	FERRY_F_ERR = 0x41,
	FERRY_F_HAVE = 0x42,
	FERRY_F_EOF = 0xff, /* not on the wire: the peer closed cleanly */
};

/* HELLO feature bits. PROTOCOL.md 9.2. */
#define FERRY_FEATURE_SYNC 0x1u /* paths, resumption, trees: 5.10-5.16 */
#define FERRY_FEATURE_SAME \
	0x2u /* PUTAT SAME: -p on a file the peer has (5.12) */
#define FERRY_FEATURES_KNOWN (FERRY_FEATURE_SYNC | FERRY_FEATURE_SAME)

/* Longest symbolic link target a LINK or NODE carries. */
#define FERRY_MAX_LINK 1024

/* PUT and PUTAT flags (MKDIR takes PRESERVE, LINK takes FORCE). */
#define FERRY_PUT_FORCE 0x1u /* replace an existing file */
#define FERRY_PUT_PRESERVE 0x2u /* apply mode & 0777 and mtime as sent */
#define FERRY_PUT_FLAGS_KNOWN (FERRY_PUT_FORCE | FERRY_PUT_PRESERVE)
/* PUTAT only, with feature SAME: the peer's file is already this one. */
#define FERRY_PUT_SAME 0x4u
/* GETAT flags. */
#define FERRY_GETAT_SAME 0x1u /* only say whether our copy is identical */

/* ENTRY kinds (an ASCII letter, like ls -l's first column). */
#define FERRY_KIND_FILE 'f'
#define FERRY_KIND_DIR 'd'
#define FERRY_KIND_LINK 'l'
#define FERRY_KIND_OTHER 'o'

/*
 * One decoded message. Which fields are meaningful depends on type (see
 * wire.c and PROTOCOL.md 5). text/data are borrowed from the frame payload
 * and valid until the next read on the connection.
 */
struct ferry_msg {
	uint8_t type;
	uint32_t id; /* every request and answer but ENTRY and NODE */
	uint64_t size; /* PUT FILE ENTRY OK PROBE HAVE PUTAT FILEAT NODE */
	uint32_t mode; /* PUT FILE ENTRY PUTAT MKDIR FILEAT NODE: 07777 */
	int64_t mtime; /* the same: seconds since the epoch */
	uint32_t flags; /* PUT GET PUTAT MKDIR LINK GETAT */
	uint64_t offset; /* PUTAT GETAT FILEAT; HAVE: part */
	uint8_t prefix[FERRY_SHA256_LEN]; /* PUTAT GETAT; HAVE: part_sha256 */
	uint16_t version; /* HELLO */
	uint64_t features; /* HELLO */
	uint16_t code; /* ERR ABORT: a wire error code (err.h values) */
	uint8_t kind; /* ENTRY NODE; HAVE (0: nothing) */
	uint32_t count; /* LISTEND */
	uint8_t sha256[FERRY_SHA256_LEN]; /* END OK HAVE */
	const char *text; /* HELLO software, PUT name, ENTRY name, the path
			       of the other requests and of NODE, ERR/ABORT
			       message; NUL-free */
	size_t text_len;
	const char *target; /* LINK NODE: the link's target; NUL-free */
	size_t target_len;
	const uint8_t *data; /* DATA */
	size_t data_len;
};

/* Short upper-case name of a frame type ("PUT"), "?" if unknown. */
const char *ferry_frame_name(uint8_t type);
/* Largest payload a frame of this type may carry; 0 for unknown types. */
size_t ferry_frame_max(uint8_t type);

/*
 * Parses a frame header (exactly FERRY_FRAME_HDR bytes). FERRY_E_PROTO for
 * an unknown type or a length over that type's bound, detail set.
 */
int ferry_frame_header(const uint8_t *hdr, size_t n, uint8_t *type,
    uint32_t *len) FERRY_MUST_CHECK;
/* Writes a frame header into hdr[FERRY_FRAME_HDR]. */
void ferry_frame_header_put(uint8_t *hdr, uint8_t type, uint32_t len);

/*
 * A buffer for one whole frame (FERRY_FRAME_HDR + FERRY_MAX_DATA bytes)
 * whose payload starts on a cache line: copies in and out of the kernel and
 * the ciphers run at full speed on aligned data. NULL when out of memory.
 * Free with ferry_frame_free.
 */
uint8_t *ferry_frame_alloc(void);
void ferry_frame_free(uint8_t *frame);

/* Decodes one frame's payload into m. FERRY_E_PROTO with detail on any flaw. */
int ferry_msg_decode(uint8_t type, const uint8_t *payload, size_t len,
    struct ferry_msg *m) FERRY_MUST_CHECK;
/* Appends m as a whole frame (header + payload) to out. */
int ferry_msg_encode(
    const struct ferry_msg *m, struct ferry_buf *out) FERRY_MUST_CHECK;

#endif
