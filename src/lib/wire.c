/* wire.c - the frame codec. Each message's encoder and decoder sit together
 * and follow the field tables of docs/PROTOCOL.md section 5. */
#include <stdlib.h>
#include <string.h>

#include "ferry/rd.h"
#include "ferry/wire.h"

static const struct frame_info {
	uint8_t type;
	const char *name;
	size_t max;
} frames[] = {
    {FERRY_F_HELLO, "HELLO", FERRY_MAX_CONTROL},
    {FERRY_F_PUT, "PUT", FERRY_MAX_CONTROL},
    {FERRY_F_DATA, "DATA", FERRY_MAX_DATA},
    {FERRY_F_END, "END", FERRY_SHA256_LEN},
    {FERRY_F_ABORT, "ABORT", FERRY_MAX_CONTROL},
    {FERRY_F_PROBE, "PROBE", FERRY_MAX_CONTROL},
    {FERRY_F_PUTAT, "PUTAT", FERRY_MAX_CONTROL},
    {FERRY_F_MKDIR, "MKDIR", FERRY_MAX_CONTROL},
    {FERRY_F_LINK, "LINK", FERRY_MAX_CONTROL},
    {FERRY_F_GET, "GET", FERRY_MAX_CONTROL},
    {FERRY_F_FILE, "FILE", FERRY_MAX_CONTROL},
    {FERRY_F_GETAT, "GETAT", FERRY_MAX_CONTROL},
    {FERRY_F_FILEAT, "FILEAT", FERRY_MAX_CONTROL},
    {FERRY_F_LIST, "LIST", FERRY_MAX_CONTROL},
    {FERRY_F_ENTRY, "ENTRY", FERRY_MAX_CONTROL},
    {FERRY_F_LISTEND, "LISTEND", FERRY_MAX_CONTROL},
    {FERRY_F_WALK, "WALK", FERRY_MAX_CONTROL},
    {FERRY_F_NODE, "NODE", FERRY_MAX_CONTROL},
    {FERRY_F_OK, "OK", FERRY_MAX_CONTROL},
    {FERRY_F_ERR, "ERR", FERRY_MAX_CONTROL},
    {FERRY_F_HAVE, "HAVE", FERRY_MAX_CONTROL},
};

static const struct frame_info *
frame_info(uint8_t type)
{
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
		if (frames[i].type == type)
			return &frames[i];
	return NULL;
}

const char *
ferry_frame_name(uint8_t type)
{
	const struct frame_info *fi = frame_info(type);

	return fi == NULL ? "?" : fi->name;
}

size_t
ferry_frame_max(uint8_t type)
{
	const struct frame_info *fi = frame_info(type);

	return fi == NULL ? 0 : fi->max;
}

int
ferry_frame_header(const uint8_t *hdr, size_t n, uint8_t *type, uint32_t *len)
{
	const struct frame_info *fi;
	struct ferry_rd rd;
	int r;

	ferry_rd_init(&rd, hdr, n);
	if ((r = ferry_rd_u8(&rd, type)) != 0 ||
	    (r = ferry_rd_u32(&rd, len)) != 0 || (r = ferry_rd_end(&rd)) != 0)
		return ferry_errf(FERRY_E_PROTO, "short frame header");
	/* PROTOCOL.md 3: an unknown type or an oversized length is fatal. */
	if ((fi = frame_info(*type)) == NULL)
		return ferry_errf(
		    FERRY_E_PROTO, "unknown frame type 0x%02x", *type);
	if (*len > fi->max)
		return ferry_errf(FERRY_E_PROTO,
		    "%s frame of %lu bytes exceeds the limit of %zu", fi->name,
		    (unsigned long)*len, fi->max);
	return 0;
}

#define FRAME_ALIGN 64

uint8_t *
ferry_frame_alloc(void)
{
	uint8_t *base =
	    aligned_alloc(FRAME_ALIGN, FRAME_ALIGN + FERRY_MAX_DATA);

	return base == NULL ? NULL : base + FRAME_ALIGN - FERRY_FRAME_HDR;
}

void
ferry_frame_free(uint8_t *frame)
{
	if (frame != NULL)
		free(frame - (FRAME_ALIGN - FERRY_FRAME_HDR));
}

void
ferry_frame_header_put(uint8_t *hdr, uint8_t type, uint32_t len)
{
	hdr[0] = type;
	hdr[1] = (uint8_t)(len >> 24);
	hdr[2] = (uint8_t)(len >> 16);
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
}

/* A text field: vec16 of at most max bytes with no NUL (PROTOCOL.md 4). */
static int
rd_text(struct ferry_rd *rd, size_t max, struct ferry_msg *m)
{
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = ferry_rd_vec16(rd, max, &p, &n)) != 0)
		return r;
	if (n > 0 && memchr(p, '\0', n) != NULL)
		return FERRY_E_PROTO;
	m->text = (const char *)p;
	m->text_len = n;
	return 0;
}

static int
put_text(struct ferry_buf *b, const struct ferry_msg *m, size_t max)
{
	return ferry_buf_put_vec16(b, m->text, m->text_len, max);
}

/* A link target (LINK, NODE): a text field of at most FERRY_MAX_LINK. */
static int
rd_target(struct ferry_rd *rd, struct ferry_msg *m)
{
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = ferry_rd_vec16(rd, FERRY_MAX_LINK, &p, &n)) != 0)
		return r;
	if (n > 0 && memchr(p, '\0', n) != NULL)
		return FERRY_E_PROTO;
	m->target = (const char *)p;
	m->target_len = n;
	return 0;
}

static int
put_target(struct ferry_buf *b, const struct ferry_msg *m)
{
	return ferry_buf_put_vec16(b, m->target, m->target_len, FERRY_MAX_LINK);
}

static int
rd_i64(struct ferry_rd *rd, int64_t *v)
{
	uint64_t u;
	int r;

	if ((r = ferry_rd_u64(rd, &u)) == 0)
		*v = (int64_t)u; /* two's complement on the wire */
	return r;
}

/* HELLO: version u16, features u64, software text. */
static int
dec_hello(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u16(rd, &m->version)) != 0 ||
	    (r = ferry_rd_u64(rd, &m->features)) != 0 ||
	    (r = rd_text(rd, FERRY_MAX_TEXT, m)) != 0)
		return r;
	return 0;
}

static int
enc_hello(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u16(b, m->version)) != 0 ||
	    (r = ferry_buf_put_u64(b, m->features)) != 0 ||
	    (r = put_text(b, m, FERRY_MAX_TEXT)) != 0)
		return r;
	return 0;
}

/* PUT: id u32, size u64, mode u32, mtime i64, flags u32, name text. */
static int
dec_put(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = ferry_rd_u64(rd, &m->size)) != 0 ||
	    (r = ferry_rd_u32(rd, &m->mode)) != 0 ||
	    (r = rd_i64(rd, &m->mtime)) != 0 ||
	    (r = ferry_rd_u32(rd, &m->flags)) != 0 ||
	    (r = rd_text(rd, FERRY_MAX_NAME, m)) != 0)
		return r;
	return 0;
}

static int
enc_put(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = ferry_buf_put_u64(b, m->size)) != 0 ||
	    (r = ferry_buf_put_u32(b, m->mode)) != 0 ||
	    (r = ferry_buf_put_u64(b, (uint64_t)m->mtime)) != 0 ||
	    (r = ferry_buf_put_u32(b, m->flags)) != 0 ||
	    (r = put_text(b, m, FERRY_MAX_NAME)) != 0)
		return r;
	return 0;
}

/* END: sha256[32]. */
static int
dec_end(struct ferry_rd *rd, struct ferry_msg *m)
{
	return ferry_rd_copy(rd, m->sha256, FERRY_SHA256_LEN);
}

static int
enc_end(struct ferry_buf *b, const struct ferry_msg *m)
{
	return ferry_buf_put(b, m->sha256, FERRY_SHA256_LEN);
}

/* ABORT: code u16, message text. */
static int
dec_abort(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u16(rd, &m->code)) != 0 ||
	    (r = rd_text(rd, FERRY_MAX_TEXT, m)) != 0)
		return r;
	return 0;
}

static int
enc_abort(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u16(b, m->code)) != 0 ||
	    (r = put_text(b, m, FERRY_MAX_TEXT)) != 0)
		return r;
	return 0;
}

/* PROBE: id u32, size u64, path text. */
static int
dec_probe(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = ferry_rd_u64(rd, &m->size)) != 0 ||
	    (r = rd_text(rd, FERRY_MAX_PATH, m)) != 0)
		return r;
	return 0;
}

static int
enc_probe(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = ferry_buf_put_u64(b, m->size)) != 0 ||
	    (r = put_text(b, m, FERRY_MAX_PATH)) != 0)
		return r;
	return 0;
}

/*
 * PUTAT: id u32, size u64, mode u32, mtime i64, flags u32, offset u64,
 * prefix_sha256[32], path text.
 */
static int
dec_putat(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = ferry_rd_u64(rd, &m->size)) != 0 ||
	    (r = ferry_rd_u32(rd, &m->mode)) != 0 ||
	    (r = rd_i64(rd, &m->mtime)) != 0 ||
	    (r = ferry_rd_u32(rd, &m->flags)) != 0 ||
	    (r = ferry_rd_u64(rd, &m->offset)) != 0 ||
	    (r = ferry_rd_copy(rd, m->prefix, FERRY_SHA256_LEN)) != 0 ||
	    (r = rd_text(rd, FERRY_MAX_PATH, m)) != 0)
		return r;
	return 0;
}

static int
enc_putat(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = ferry_buf_put_u64(b, m->size)) != 0 ||
	    (r = ferry_buf_put_u32(b, m->mode)) != 0 ||
	    (r = ferry_buf_put_u64(b, (uint64_t)m->mtime)) != 0 ||
	    (r = ferry_buf_put_u32(b, m->flags)) != 0 ||
	    (r = ferry_buf_put_u64(b, m->offset)) != 0 ||
	    (r = ferry_buf_put(b, m->prefix, FERRY_SHA256_LEN)) != 0 ||
	    (r = put_text(b, m, FERRY_MAX_PATH)) != 0)
		return r;
	return 0;
}

/* MKDIR: id u32, mode u32, mtime i64, flags u32, path text. */
static int
dec_mkdir(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = ferry_rd_u32(rd, &m->mode)) != 0 ||
	    (r = rd_i64(rd, &m->mtime)) != 0 ||
	    (r = ferry_rd_u32(rd, &m->flags)) != 0 ||
	    (r = rd_text(rd, FERRY_MAX_PATH, m)) != 0)
		return r;
	return 0;
}

static int
enc_mkdir(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = ferry_buf_put_u32(b, m->mode)) != 0 ||
	    (r = ferry_buf_put_u64(b, (uint64_t)m->mtime)) != 0 ||
	    (r = ferry_buf_put_u32(b, m->flags)) != 0 ||
	    (r = put_text(b, m, FERRY_MAX_PATH)) != 0)
		return r;
	return 0;
}

/* LINK: id u32, flags u32, path text, target text. */
static int
dec_link(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = ferry_rd_u32(rd, &m->flags)) != 0 ||
	    (r = rd_text(rd, FERRY_MAX_PATH, m)) != 0 ||
	    (r = rd_target(rd, m)) != 0)
		return r;
	return 0;
}

static int
enc_link(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = ferry_buf_put_u32(b, m->flags)) != 0 ||
	    (r = put_text(b, m, FERRY_MAX_PATH)) != 0 ||
	    (r = put_target(b, m)) != 0)
		return r;
	return 0;
}

/* GET: id u32, flags u32, path text. */
static int
dec_get(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = ferry_rd_u32(rd, &m->flags)) != 0 ||
	    (r = rd_text(rd, FERRY_MAX_PATH, m)) != 0)
		return r;
	return 0;
}

static int
enc_get(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = ferry_buf_put_u32(b, m->flags)) != 0 ||
	    (r = put_text(b, m, FERRY_MAX_PATH)) != 0)
		return r;
	return 0;
}

/* FILE: id u32, size u64, mode u32, mtime i64. */
static int
dec_file(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = ferry_rd_u64(rd, &m->size)) != 0 ||
	    (r = ferry_rd_u32(rd, &m->mode)) != 0 ||
	    (r = rd_i64(rd, &m->mtime)) != 0)
		return r;
	return 0;
}

static int
enc_file(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = ferry_buf_put_u64(b, m->size)) != 0 ||
	    (r = ferry_buf_put_u32(b, m->mode)) != 0 ||
	    (r = ferry_buf_put_u64(b, (uint64_t)m->mtime)) != 0)
		return r;
	return 0;
}

/* GETAT: id u32, flags u32, offset u64, prefix_sha256[32], path text. */
static int
dec_getat(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = ferry_rd_u32(rd, &m->flags)) != 0 ||
	    (r = ferry_rd_u64(rd, &m->offset)) != 0 ||
	    (r = ferry_rd_copy(rd, m->prefix, FERRY_SHA256_LEN)) != 0 ||
	    (r = rd_text(rd, FERRY_MAX_PATH, m)) != 0)
		return r;
	return 0;
}

static int
enc_getat(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = ferry_buf_put_u32(b, m->flags)) != 0 ||
	    (r = ferry_buf_put_u64(b, m->offset)) != 0 ||
	    (r = ferry_buf_put(b, m->prefix, FERRY_SHA256_LEN)) != 0 ||
	    (r = put_text(b, m, FERRY_MAX_PATH)) != 0)
		return r;
	return 0;
}

/* FILEAT: id u32, size u64, mode u32, mtime i64, offset u64. */
static int
dec_fileat(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = ferry_rd_u64(rd, &m->size)) != 0 ||
	    (r = ferry_rd_u32(rd, &m->mode)) != 0 ||
	    (r = rd_i64(rd, &m->mtime)) != 0 ||
	    (r = ferry_rd_u64(rd, &m->offset)) != 0)
		return r;
	return 0;
}

static int
enc_fileat(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = ferry_buf_put_u64(b, m->size)) != 0 ||
	    (r = ferry_buf_put_u32(b, m->mode)) != 0 ||
	    (r = ferry_buf_put_u64(b, (uint64_t)m->mtime)) != 0 ||
	    (r = ferry_buf_put_u64(b, m->offset)) != 0)
		return r;
	return 0;
}

/* LIST: id u32, path text. */
static int
dec_list(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = rd_text(rd, FERRY_MAX_PATH, m)) != 0)
		return r;
	return 0;
}

static int
enc_list(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = put_text(b, m, FERRY_MAX_PATH)) != 0)
		return r;
	return 0;
}

/* ENTRY: kind u8, size u64, mode u32, mtime i64, name text. */
static int
dec_entry(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u8(rd, &m->kind)) != 0 ||
	    (r = ferry_rd_u64(rd, &m->size)) != 0 ||
	    (r = ferry_rd_u32(rd, &m->mode)) != 0 ||
	    (r = rd_i64(rd, &m->mtime)) != 0 ||
	    (r = rd_text(rd, FERRY_MAX_NAME, m)) != 0)
		return r;
	return 0;
}

static int
enc_entry(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u8(b, m->kind)) != 0 ||
	    (r = ferry_buf_put_u64(b, m->size)) != 0 ||
	    (r = ferry_buf_put_u32(b, m->mode)) != 0 ||
	    (r = ferry_buf_put_u64(b, (uint64_t)m->mtime)) != 0 ||
	    (r = put_text(b, m, FERRY_MAX_NAME)) != 0)
		return r;
	return 0;
}

/* LISTEND: id u32, count u32. */
static int
dec_listend(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = ferry_rd_u32(rd, &m->count)) != 0)
		return r;
	return 0;
}

static int
enc_listend(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = ferry_buf_put_u32(b, m->count)) != 0)
		return r;
	return 0;
}

/* WALK: id u32, path text. */
static int
dec_walk(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = rd_text(rd, FERRY_MAX_PATH, m)) != 0)
		return r;
	return 0;
}

static int
enc_walk(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = put_text(b, m, FERRY_MAX_PATH)) != 0)
		return r;
	return 0;
}

/* NODE: kind u8, size u64, mode u32, mtime i64, path text, target text. */
static int
dec_node(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u8(rd, &m->kind)) != 0 ||
	    (r = ferry_rd_u64(rd, &m->size)) != 0 ||
	    (r = ferry_rd_u32(rd, &m->mode)) != 0 ||
	    (r = rd_i64(rd, &m->mtime)) != 0 ||
	    (r = rd_text(rd, FERRY_MAX_PATH, m)) != 0 ||
	    (r = rd_target(rd, m)) != 0)
		return r;
	return 0;
}

static int
enc_node(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u8(b, m->kind)) != 0 ||
	    (r = ferry_buf_put_u64(b, m->size)) != 0 ||
	    (r = ferry_buf_put_u32(b, m->mode)) != 0 ||
	    (r = ferry_buf_put_u64(b, (uint64_t)m->mtime)) != 0 ||
	    (r = put_text(b, m, FERRY_MAX_PATH)) != 0 ||
	    (r = put_target(b, m)) != 0)
		return r;
	return 0;
}

/* OK: id u32, size u64, sha256[32]. */
static int
dec_ok(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = ferry_rd_u64(rd, &m->size)) != 0 ||
	    (r = ferry_rd_copy(rd, m->sha256, FERRY_SHA256_LEN)) != 0)
		return r;
	return 0;
}

static int
enc_ok(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = ferry_buf_put_u64(b, m->size)) != 0 ||
	    (r = ferry_buf_put(b, m->sha256, FERRY_SHA256_LEN)) != 0)
		return r;
	return 0;
}

/* ERR: id u32, code u16, message text. */
static int
dec_err(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = ferry_rd_u16(rd, &m->code)) != 0 ||
	    (r = rd_text(rd, FERRY_MAX_TEXT, m)) != 0)
		return r;
	return 0;
}

static int
enc_err(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = ferry_buf_put_u16(b, m->code)) != 0 ||
	    (r = put_text(b, m, FERRY_MAX_TEXT)) != 0)
		return r;
	return 0;
}

/* HAVE: id u32, kind u8, size u64, sha256[32], part u64, part_sha256[32]. */
static int
dec_have(struct ferry_rd *rd, struct ferry_msg *m)
{
	int r;

	if ((r = ferry_rd_u32(rd, &m->id)) != 0 ||
	    (r = ferry_rd_u8(rd, &m->kind)) != 0 ||
	    (r = ferry_rd_u64(rd, &m->size)) != 0 ||
	    (r = ferry_rd_copy(rd, m->sha256, FERRY_SHA256_LEN)) != 0 ||
	    (r = ferry_rd_u64(rd, &m->offset)) != 0 ||
	    (r = ferry_rd_copy(rd, m->prefix, FERRY_SHA256_LEN)) != 0)
		return r;
	return 0;
}

static int
enc_have(struct ferry_buf *b, const struct ferry_msg *m)
{
	int r;

	if ((r = ferry_buf_put_u32(b, m->id)) != 0 ||
	    (r = ferry_buf_put_u8(b, m->kind)) != 0 ||
	    (r = ferry_buf_put_u64(b, m->size)) != 0 ||
	    (r = ferry_buf_put(b, m->sha256, FERRY_SHA256_LEN)) != 0 ||
	    (r = ferry_buf_put_u64(b, m->offset)) != 0 ||
	    (r = ferry_buf_put(b, m->prefix, FERRY_SHA256_LEN)) != 0)
		return r;
	return 0;
}

static const struct codec {
	uint8_t type;
	int (*decode)(struct ferry_rd *, struct ferry_msg *);
	int (*encode)(struct ferry_buf *, const struct ferry_msg *);
} codecs[] = {
    {FERRY_F_HELLO, dec_hello, enc_hello},
    {FERRY_F_PUT, dec_put, enc_put},
    {FERRY_F_END, dec_end, enc_end},
    {FERRY_F_ABORT, dec_abort, enc_abort},
    {FERRY_F_PROBE, dec_probe, enc_probe},
    {FERRY_F_PUTAT, dec_putat, enc_putat},
    {FERRY_F_MKDIR, dec_mkdir, enc_mkdir},
    {FERRY_F_LINK, dec_link, enc_link},
    {FERRY_F_GET, dec_get, enc_get},
    {FERRY_F_FILE, dec_file, enc_file},
    {FERRY_F_GETAT, dec_getat, enc_getat},
    {FERRY_F_FILEAT, dec_fileat, enc_fileat},
    {FERRY_F_LIST, dec_list, enc_list},
    {FERRY_F_ENTRY, dec_entry, enc_entry},
    {FERRY_F_LISTEND, dec_listend, enc_listend},
    {FERRY_F_WALK, dec_walk, enc_walk},
    {FERRY_F_NODE, dec_node, enc_node},
    {FERRY_F_OK, dec_ok, enc_ok},
    {FERRY_F_ERR, dec_err, enc_err},
    {FERRY_F_HAVE, dec_have, enc_have},
};

static const struct codec *
codec(uint8_t type)
{
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (codecs[i].type == type)
			return &codecs[i];
	return NULL;
}

int
ferry_msg_decode(
    uint8_t type, const uint8_t *payload, size_t len, struct ferry_msg *m)
{
	const struct codec *c;
	struct ferry_rd rd;

	memset(m, 0, sizeof(*m));
	m->type = type;
	if (len > ferry_frame_max(type))
		return ferry_errf(FERRY_E_PROTO, "oversized %s frame",
		    ferry_frame_name(type));
	ferry_rd_init(&rd, payload, len);
	if (type == FERRY_F_DATA) {
		ferry_rd_rest(&rd, &m->data, &m->data_len);
		return 0;
	}
	if ((c = codec(type)) == NULL)
		return ferry_errf(
		    FERRY_E_PROTO, "unknown frame type 0x%02x", type);
	/* PROTOCOL.md 3: a frame whose fields do not fill it exactly is fatal. */
	if (c->decode(&rd, m) != 0 || ferry_rd_end(&rd) != 0)
		return ferry_errf(FERRY_E_PROTO, "malformed %s frame",
		    ferry_frame_name(type));
	return 0;
}

int
ferry_msg_encode(const struct ferry_msg *m, struct ferry_buf *out)
{
	const struct codec *c;
	size_t start = out->len, body;
	uint8_t hdr[FERRY_FRAME_HDR];
	int r;

	ferry_frame_header_put(hdr, m->type, 0);
	if ((r = ferry_buf_put(out, hdr, sizeof(hdr))) != 0)
		return r;
	if (m->type == FERRY_F_DATA)
		r = ferry_buf_put(out, m->data, m->data_len);
	else if ((c = codec(m->type)) != NULL)
		r = c->encode(out, m);
	else
		r = FERRY_E_INTERNAL;
	if (r != 0) {
		ferry_buf_truncate(
		    out, start); /* no-op after an overflow reset */
		return r;
	}
	body = out->len - start - FERRY_FRAME_HDR;
	if (body > ferry_frame_max(m->type)) {
		ferry_buf_truncate(out, start);
		return FERRY_E_TOOBIG;
	}
	ferry_buf_set_u32(out, start + 1, (uint32_t)body);
	return 0;
}
