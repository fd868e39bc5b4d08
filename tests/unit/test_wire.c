/* test_wire.c - the frame codec: round trips of every frame type, truncation
 * and extension sweeps, bit flips over headers and payloads, text rules
 * (paths and link targets of the SYNC frames included), and the wire
 * regression cases in tests/data/wire/. */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "ferry/wire.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define OUT_MAX (FERRY_FRAME_HDR + FERRY_MAX_DATA + 64)

static const uint8_t known_types[] = {FERRY_F_HELLO, FERRY_F_PUT, FERRY_F_DATA,
    FERRY_F_END, FERRY_F_ABORT, FERRY_F_PROBE, FERRY_F_PUTAT, FERRY_F_MKDIR,
    FERRY_F_LINK, FERRY_F_GET, FERRY_F_FILE, FERRY_F_GETAT, FERRY_F_FILEAT,
    FERRY_F_LIST, FERRY_F_ENTRY, FERRY_F_LISTEND, FERRY_F_WALK, FERRY_F_NODE,
    FERRY_F_OK, FERRY_F_ERR, FERRY_F_HAVE};

/* The frame types of the SYNC feature (PROTOCOL.md 5.10-5.16). */
static const uint8_t sync_types[] = {FERRY_F_PROBE, FERRY_F_PUTAT,
    FERRY_F_MKDIR, FERRY_F_LINK, FERRY_F_GETAT, FERRY_F_FILEAT, FERRY_F_WALK,
    FERRY_F_NODE, FERRY_F_HAVE};

static int
is_known(uint8_t t)
{
	return memchr(known_types, t, sizeof(known_types)) != NULL;
}

static int
has_text(uint8_t t)
{
	return t == FERRY_F_HELLO || t == FERRY_F_PUT || t == FERRY_F_ABORT ||
	       t == FERRY_F_GET || t == FERRY_F_LIST || t == FERRY_F_ENTRY ||
	       t == FERRY_F_ERR || t == FERRY_F_PROBE || t == FERRY_F_PUTAT ||
	       t == FERRY_F_MKDIR || t == FERRY_F_LINK || t == FERRY_F_GETAT ||
	       t == FERRY_F_WALK || t == FERRY_F_NODE;
}

/* Types whose last field is a link target (after the path). */
static int
has_target(uint8_t t)
{
	return t == FERRY_F_LINK || t == FERRY_F_NODE;
}

/* The text bound each type's decoder applies. */
static size_t
text_max(uint8_t t)
{
	switch (t) {
	case FERRY_F_PUT:
	case FERRY_F_ENTRY:
		return FERRY_MAX_NAME;
	case FERRY_F_GET:
	case FERRY_F_LIST:
	case FERRY_F_PROBE:
	case FERRY_F_PUTAT:
	case FERRY_F_MKDIR:
	case FERRY_F_LINK:
	case FERRY_F_GETAT:
	case FERRY_F_WALK:
	case FERRY_F_NODE:
		return FERRY_MAX_PATH;
	default:
		return FERRY_MAX_TEXT;
	}
}

/* Guard pages: a payload copied to end at the last readable byte. */
static struct {
	uint8_t *map;
	size_t size; /* readable bytes before the guard page */
	size_t page;
} guard;

static const uint8_t *
guarded(const uint8_t *p, size_t n)
{
	uint8_t *dst;

	assert_true(n <= guard.size);
	dst = guard.map + guard.size - n;
	if (n > 0)
		memmove(dst, p, n);
	return dst;
}

/* Sample messages: every type, with minimal, typical and maximal fields. */
static char long_text[FERRY_MAX_PATH + 2];
static char long_link[FERRY_MAX_LINK + 2];
static uint8_t big_data[FERRY_MAX_DATA + 1];
static struct ferry_msg samples[96];
static size_t nsamples;

static struct ferry_msg *
sample(uint8_t type)
{
	struct ferry_msg *m;

	assert_true(nsamples < NELEM(samples));
	m = &samples[nsamples++];
	memset(m, 0, sizeof(*m));
	m->type = type;
	return m;
}

static void
set_text(struct ferry_msg *m, const char *s, size_t n)
{
	m->text = s;
	m->text_len = n;
}

static void
set_target(struct ferry_msg *m, const char *s, size_t n)
{
	m->target = s;
	m->target_len = n;
}

static void
fill_sha(uint8_t *sha, uint8_t first, uint8_t step)
{
	for (size_t i = 0; i < FERRY_SHA256_LEN; i++)
		sha[i] = (uint8_t)(first + i * step);
}

static void
make_samples(void)
{
	struct ferry_msg *m;

	nsamples = 0;
	memset(long_text, 'p', sizeof(long_text));
	memset(long_link, 'l', sizeof(long_link));
	for (size_t i = 0; i < sizeof(big_data); i++)
		big_data[i] = (uint8_t)(i * 131 + 7);

	m = sample(FERRY_F_HELLO);
	m->version = FERRY_PROTOCOL_VERSION;
	m->features = 0x5;
	set_text(m, "ferry/0.1.0", 11);
	m = sample(FERRY_F_HELLO);
	m->version = 0xffff;
	m->features = UINT64_MAX;
	set_text(m, long_text, FERRY_MAX_TEXT);
	m = sample(FERRY_F_HELLO);

	m = sample(FERRY_F_PUT);
	m->id = 7;
	m->size = 12345;
	m->mode = 0644;
	m->mtime = 1700000000;
	set_text(m, "report.pdf", 10);
	m = sample(FERRY_F_PUT);
	m->id = UINT32_MAX;
	m->size = UINT64_MAX;
	m->mode = 07777;
	m->mtime = INT64_MIN;
	m->flags = FERRY_PUT_FORCE;
	set_text(m, long_text, FERRY_MAX_NAME);
	m = sample(FERRY_F_PUT);
	m->mtime = -1;
	m->flags = UINT32_MAX;
	set_text(m, "\xc3\xbcmlaut", 7);

	m = sample(FERRY_F_DATA);
	m->data = (const uint8_t *)"hello";
	m->data_len = 5;
	m = sample(FERRY_F_DATA);
	m = sample(FERRY_F_DATA);
	m->data = big_data;
	m->data_len = FERRY_MAX_DATA;

	m = sample(FERRY_F_END);
	fill_sha(m->sha256, 0, 1);
	m = sample(FERRY_F_END);
	fill_sha(m->sha256, 0xff, 0);

	m = sample(FERRY_F_ABORT);
	m->code = 90;
	set_text(m, "SHA-256 mismatch", 16);
	m = sample(FERRY_F_ABORT);
	m = sample(FERRY_F_ABORT);
	m->code = 0xffff;
	set_text(m, long_text, FERRY_MAX_TEXT);

	m = sample(FERRY_F_GET);
	m->id = 1;
	set_text(m, "dir/file.txt", 12);
	m = sample(FERRY_F_GET);
	m->id = UINT32_MAX;
	m->flags = UINT32_MAX;
	set_text(m, long_text, FERRY_MAX_PATH);
	m = sample(FERRY_F_GET);

	m = sample(FERRY_F_FILE);
	m->id = 3;
	m->mode = 0600;
	m = sample(FERRY_F_FILE);
	m->id = UINT32_MAX;
	m->size = UINT64_MAX;
	m->mode = UINT32_MAX;
	m->mtime = INT64_MIN;
	m = sample(FERRY_F_FILE);
	m->id = 1;
	m->size = 1;
	m->mode = 1;
	m->mtime = INT64_MAX;

	m = sample(FERRY_F_LIST);
	m->id = 9;
	m = sample(FERRY_F_LIST);
	m->id = 0x01020304;
	set_text(m, long_text, FERRY_MAX_PATH);

	m = sample(FERRY_F_ENTRY);
	m->kind = FERRY_KIND_FILE;
	m->size = 10;
	m->mode = 0644;
	m->mtime = 100;
	set_text(m, "a.txt", 5);
	m = sample(FERRY_F_ENTRY);
	m->kind = FERRY_KIND_DIR;
	m->mode = 0755;
	m->mtime = -5;
	set_text(m, long_text, FERRY_MAX_NAME);
	m = sample(FERRY_F_ENTRY);
	m->kind = 0xff;
	m->size = UINT64_MAX;

	m = sample(FERRY_F_LISTEND);
	m->id = 5;
	m = sample(FERRY_F_LISTEND);
	m->id = UINT32_MAX;
	m->count = UINT32_MAX;

	m = sample(FERRY_F_OK);
	m->id = 1;
	m->size = 5;
	fill_sha(m->sha256, 0x10, 3);
	m = sample(FERRY_F_OK);
	m->id = UINT32_MAX;
	m->size = UINT64_MAX;
	fill_sha(m->sha256, 0xff, 0);

	m = sample(FERRY_F_ERR);
	m->id = 1;
	m->code = 30;
	set_text(m, "report.pdf: no such file", 24);
	m = sample(FERRY_F_ERR);
	m = sample(FERRY_F_ERR);
	m->id = UINT32_MAX;
	m->code = 0xffff;
	set_text(m, long_text, FERRY_MAX_TEXT);

	/* The SYNC feature. */
	m = sample(FERRY_F_PROBE);
	m->id = 11;
	m->size = 5;
	set_text(m, "photos/2024/a.jpg", 17);
	m = sample(FERRY_F_PROBE);
	m->id = UINT32_MAX;
	m->size = UINT64_MAX;
	set_text(m, long_text, FERRY_MAX_PATH);
	m = sample(FERRY_F_PROBE);

	m = sample(FERRY_F_HAVE);
	m->id = 11;
	m->kind = FERRY_KIND_FILE;
	m->size = 5;
	fill_sha(m->sha256, 0x20, 1);
	m->offset = 3;
	fill_sha(m->prefix, 0x80, 5);
	m = sample(FERRY_F_HAVE);
	m = sample(FERRY_F_HAVE);
	m->id = UINT32_MAX;
	m->kind = 0xff;
	m->size = UINT64_MAX;
	fill_sha(m->sha256, 0xff, 0);
	m->offset = UINT64_MAX;
	fill_sha(m->prefix, 0xfe, 0);

	m = sample(FERRY_F_PUTAT);
	m->id = 12;
	m->size = 100;
	m->mode = 0644;
	m->mtime = 1700000000;
	m->flags = FERRY_PUT_PRESERVE;
	m->offset = 40;
	fill_sha(m->prefix, 1, 7);
	set_text(m, "photos/2024/a.jpg", 17);
	m = sample(FERRY_F_PUTAT);
	m->id = UINT32_MAX;
	m->size = UINT64_MAX;
	m->mode = UINT32_MAX;
	m->mtime = INT64_MIN;
	m->flags = UINT32_MAX;
	m->offset = UINT64_MAX;
	fill_sha(m->prefix, 0xff, 0);
	set_text(m, long_text, FERRY_MAX_PATH);
	m = sample(FERRY_F_PUTAT);
	m->mtime = -1;

	m = sample(FERRY_F_MKDIR);
	m->id = 13;
	m->mode = 0755;
	m->mtime = 1700000000;
	m->flags = FERRY_PUT_PRESERVE;
	set_text(m, "photos/2024", 11);
	m = sample(FERRY_F_MKDIR);
	m->id = UINT32_MAX;
	m->mode = UINT32_MAX;
	m->mtime = INT64_MAX;
	m->flags = UINT32_MAX;
	set_text(m, long_text, FERRY_MAX_PATH);
	m = sample(FERRY_F_MKDIR);

	m = sample(FERRY_F_LINK);
	m->id = 14;
	m->flags = FERRY_PUT_FORCE;
	set_text(m, "photos/latest", 13);
	set_target(m, "2024/a.jpg", 10);
	m = sample(FERRY_F_LINK);
	m->id = UINT32_MAX;
	m->flags = UINT32_MAX;
	set_text(m, long_text, FERRY_MAX_PATH);
	set_target(m, long_link, FERRY_MAX_LINK);
	m = sample(FERRY_F_LINK);
	m = sample(FERRY_F_LINK);
	m->id = 1;
	set_target(m, "../x", 4);

	m = sample(FERRY_F_GETAT);
	m->id = 15;
	m->flags = FERRY_GETAT_SAME;
	m->offset = 5;
	fill_sha(m->prefix, 0x2c, 3);
	set_text(m, "dir/file.txt", 12);
	m = sample(FERRY_F_GETAT);
	m->id = UINT32_MAX;
	m->flags = UINT32_MAX;
	m->offset = UINT64_MAX;
	fill_sha(m->prefix, 0xff, 0);
	set_text(m, long_text, FERRY_MAX_PATH);
	m = sample(FERRY_F_GETAT);

	m = sample(FERRY_F_FILEAT);
	m->id = 15;
	m->size = 100;
	m->mode = 0600;
	m->mtime = 1700000000;
	m->offset = 40;
	m = sample(FERRY_F_FILEAT);
	m->id = UINT32_MAX;
	m->size = UINT64_MAX;
	m->mode = UINT32_MAX;
	m->mtime = INT64_MIN;
	m->offset = UINT64_MAX;
	m = sample(FERRY_F_FILEAT);

	m = sample(FERRY_F_WALK);
	m->id = 16;
	m = sample(FERRY_F_WALK);
	m->id = 17;
	set_text(m, "photos", 6);
	m = sample(FERRY_F_WALK);
	m->id = UINT32_MAX;
	set_text(m, long_text, FERRY_MAX_PATH);

	m = sample(FERRY_F_NODE);
	m->kind = FERRY_KIND_FILE;
	m->size = 5;
	m->mode = 0644;
	m->mtime = 1700000000;
	set_text(m, "photos/2024/a.jpg", 17);
	m = sample(FERRY_F_NODE);
	m->kind = FERRY_KIND_LINK;
	m->mode = 0777;
	m->mtime = -5;
	set_text(m, "photos/latest", 13);
	set_target(m, "2024/a.jpg", 10);
	m = sample(FERRY_F_NODE);
	m->kind = 0xff;
	m->size = UINT64_MAX;
	m->mode = UINT32_MAX;
	m->mtime = INT64_MIN;
	set_text(m, long_text, FERRY_MAX_PATH);
	set_target(m, long_link, FERRY_MAX_LINK);
	m = sample(FERRY_F_NODE);
}

static int
group_setup(void **state)
{
	long ps = sysconf(_SC_PAGESIZE);
	void *p;

	(void)state;
	if (ps <= 0)
		return -1;
	guard.page = (size_t)ps;
	guard.size = (OUT_MAX + guard.page - 1) / guard.page * guard.page;
	p = mmap(NULL, guard.size + guard.page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	guard.map = p;
	if (mprotect(guard.map + guard.size, guard.page, PROT_NONE) != 0)
		return -1;
	make_samples();
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	return munmap(guard.map, guard.size + guard.page);
}

/* Every field, compared by value (text and data by content). */
static void
assert_msg_equal(const struct ferry_msg *a, const struct ferry_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->id, b->id);
	assert_true(a->size == b->size);
	assert_int_equal(a->mode, b->mode);
	assert_true(a->mtime == b->mtime);
	assert_int_equal(a->flags, b->flags);
	assert_true(a->offset == b->offset);
	assert_memory_equal(a->prefix, b->prefix, FERRY_SHA256_LEN);
	assert_int_equal(a->version, b->version);
	assert_true(a->features == b->features);
	assert_int_equal(a->code, b->code);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->count, b->count);
	assert_memory_equal(a->sha256, b->sha256, FERRY_SHA256_LEN);
	assert_int_equal(a->text_len, b->text_len);
	if (a->text_len > 0)
		assert_memory_equal(a->text, b->text, a->text_len);
	assert_int_equal(a->target_len, b->target_len);
	if (a->target_len > 0)
		assert_memory_equal(a->target, b->target, a->target_len);
	assert_int_equal(a->data_len, b->data_len);
	if (a->data_len > 0)
		assert_memory_equal(a->data, b->data, a->data_len);
}

/* Encodes m into a fresh buffer (caller frees). */
static void
encode(const struct ferry_msg *m, struct ferry_buf *out)
{
	ferry_buf_init_public(out, OUT_MAX);
	assert_int_equal(ferry_msg_encode(m, out), 0);
	assert_true(out->len >= FERRY_FRAME_HDR);
}

/* A whole frame as read from a stream: header, exact length, payload. */
static int
decode_frame(const uint8_t *p, size_t n, struct ferry_msg *m)
{
	uint8_t type;
	uint32_t len;
	int r;

	if (n < FERRY_FRAME_HDR)
		return FERRY_E_PROTO;
	if ((r = ferry_frame_header(p, FERRY_FRAME_HDR, &type, &len)) != 0)
		return r;
	if (len != n - FERRY_FRAME_HDR)
		return FERRY_E_PROTO;
	return ferry_msg_decode(
	    type, guarded(p + FERRY_FRAME_HDR, len), len, m);
}

static void
test_frame_names(void **state)
{
	(void)state;
	assert_string_equal(ferry_frame_name(FERRY_F_HELLO), "HELLO");
	assert_string_equal(ferry_frame_name(FERRY_F_PUT), "PUT");
	assert_string_equal(ferry_frame_name(FERRY_F_DATA), "DATA");
	assert_string_equal(ferry_frame_name(FERRY_F_END), "END");
	assert_string_equal(ferry_frame_name(FERRY_F_ABORT), "ABORT");
	assert_string_equal(ferry_frame_name(FERRY_F_GET), "GET");
	assert_string_equal(ferry_frame_name(FERRY_F_FILE), "FILE");
	assert_string_equal(ferry_frame_name(FERRY_F_LIST), "LIST");
	assert_string_equal(ferry_frame_name(FERRY_F_ENTRY), "ENTRY");
	assert_string_equal(ferry_frame_name(FERRY_F_LISTEND), "LISTEND");
	assert_string_equal(ferry_frame_name(FERRY_F_OK), "OK");
	assert_string_equal(ferry_frame_name(FERRY_F_ERR), "ERR");
	assert_string_equal(ferry_frame_name(FERRY_F_PROBE), "PROBE");
	assert_string_equal(ferry_frame_name(FERRY_F_PUTAT), "PUTAT");
	assert_string_equal(ferry_frame_name(FERRY_F_MKDIR), "MKDIR");
	assert_string_equal(ferry_frame_name(FERRY_F_LINK), "LINK");
	assert_string_equal(ferry_frame_name(FERRY_F_GETAT), "GETAT");
	assert_string_equal(ferry_frame_name(FERRY_F_FILEAT), "FILEAT");
	assert_string_equal(ferry_frame_name(FERRY_F_WALK), "WALK");
	assert_string_equal(ferry_frame_name(FERRY_F_NODE), "NODE");
	assert_string_equal(ferry_frame_name(FERRY_F_HAVE), "HAVE");
	assert_string_equal(ferry_frame_name(FERRY_F_NONE), "?");
	assert_string_equal(ferry_frame_name(FERRY_F_EOF), "?");
	assert_string_equal(ferry_frame_name(0x18), "?");
	assert_string_equal(ferry_frame_name(0x24), "?");
	assert_string_equal(ferry_frame_name(0x35), "?");
	assert_string_equal(ferry_frame_name(0x43), "?");
	/* PROTOCOL.md 3.2: the new types share the control limit. */
	for (size_t i = 0; i < sizeof(sync_types); i++)
		assert_int_equal(
		    ferry_frame_max(sync_types[i]), FERRY_MAX_CONTROL);
	assert_int_equal(sizeof(known_types), 21);

	assert_int_equal(ferry_frame_max(FERRY_F_DATA), FERRY_MAX_DATA);
	assert_int_equal(ferry_frame_max(FERRY_F_END), FERRY_SHA256_LEN);
	assert_int_equal(ferry_frame_max(FERRY_F_PUT), FERRY_MAX_CONTROL);
	assert_int_equal(ferry_frame_max(FERRY_F_ERR), FERRY_MAX_CONTROL);
	for (unsigned t = 0; t < 256; t++) {
		assert_int_equal(
		    ferry_frame_max((uint8_t)t) > 0, is_known((uint8_t)t));
		assert_int_equal(strcmp(ferry_frame_name((uint8_t)t), "?") != 0,
		    is_known((uint8_t)t));
	}
}

static void
test_header(void **state)
{
	uint8_t hdr[FERRY_FRAME_HDR + 1];
	uint8_t type;
	uint32_t len;

	(void)state;
	ferry_frame_header_put(hdr, FERRY_F_PUT, 0x01020304);
	assert_memory_equal(hdr, "\x10\x01\x02\x03\x04", 5);

	/* Every type byte with length 0: only the 21 wire types pass. */
	for (unsigned t = 0; t < 256; t++) {
		ferry_frame_header_put(hdr, (uint8_t)t, 0);
		type = 0x5a;
		len = 77;
		if (is_known((uint8_t)t)) {
			assert_int_equal(
			    ferry_frame_header(hdr, 5, &type, &len), 0);
			assert_int_equal(type, t);
			assert_int_equal(len, 0);
		} else
			assert_int_equal(
			    ferry_frame_header(hdr, 5, &type, &len),
			    FERRY_E_PROTO);
	}
	/* Each type's maximum passes, one more does not. */
	for (size_t i = 0; i < sizeof(known_types); i++) {
		uint8_t t = known_types[i];
		size_t max = ferry_frame_max(t);

		ferry_frame_header_put(hdr, t, (uint32_t)max);
		assert_int_equal(ferry_frame_header(hdr, 5, &type, &len), 0);
		assert_int_equal(len, max);
		ferry_frame_header_put(hdr, t, (uint32_t)max + 1);
		assert_int_equal(
		    ferry_frame_header(hdr, 5, &type, &len), FERRY_E_PROTO);
		ferry_frame_header_put(hdr, t, UINT32_MAX);
		assert_int_equal(
		    ferry_frame_header(hdr, 5, &type, &len), FERRY_E_PROTO);
		ferry_frame_header_put(hdr, t, 0x80000000u);
		assert_int_equal(
		    ferry_frame_header(hdr, 5, &type, &len), FERRY_E_PROTO);
	}
	/* A header is exactly 5 bytes. */
	ferry_frame_header_put(hdr, FERRY_F_OK, 1);
	hdr[5] = 0;
	assert_int_equal(
	    ferry_frame_header(hdr, 4, &type, &len), FERRY_E_PROTO);
	assert_int_equal(
	    ferry_frame_header(hdr, 6, &type, &len), FERRY_E_PROTO);
	assert_int_equal(
	    ferry_frame_header(hdr, 0, &type, &len), FERRY_E_PROTO);
	for (size_t n = 0; n < FERRY_FRAME_HDR; n++)
		assert_int_equal(
		    ferry_frame_header(guarded(hdr, n), n, &type, &len),
		    FERRY_E_PROTO);
}

/* encode -> header parse -> decode, for every sample. */
static void
test_roundtrip(void **state)
{
	int seen[256] = {0};

	(void)state;
	for (size_t i = 0; i < nsamples; i++) {
		const struct ferry_msg *m = &samples[i];
		struct ferry_buf out;
		struct ferry_msg d;
		uint8_t type;
		uint32_t len;

		/* Appends after what is already in the buffer. */
		ferry_buf_init_public(&out, OUT_MAX);
		assert_int_equal(ferry_buf_put(&out, "xyz", 3), 0);
		assert_int_equal(ferry_msg_encode(m, &out), 0);
		assert_memory_equal(out.data, "xyz", 3);
		assert_int_equal(ferry_frame_header(out.data + 3,
		                     FERRY_FRAME_HDR, &type, &len),
		    0);
		assert_int_equal(type, m->type);
		assert_int_equal(len, out.len - 3 - FERRY_FRAME_HDR);
		assert_int_equal(ferry_msg_decode(type,
		                     out.data + 3 + FERRY_FRAME_HDR, len, &d),
		    0);
		assert_msg_equal(&d, m);
		/* Borrowed from the payload, not copied. */
		if (d.text_len > 0)
			assert_true(
			    (const uint8_t *)d.text >
			        out.data + 3 + FERRY_FRAME_HDR &&
			    (const uint8_t *)d.text + d.text_len ==
			        out.data + out.len -
			            (has_target(d.type) ? 2 + d.target_len
			                                : 0));
		if (d.target_len > 0)
			assert_true((const uint8_t *)d.target >
			                out.data + 3 + FERRY_FRAME_HDR &&
			            (const uint8_t *)d.target + d.target_len ==
			                out.data + out.len);
		if (!has_target(d.type))
			assert_int_equal(d.target_len, 0);
		if (d.data_len > 0)
			assert_ptr_equal(
			    d.data, out.data + 3 + FERRY_FRAME_HDR);
		seen[m->type] = 1;
		ferry_buf_free(&out);
	}
	for (size_t i = 0; i < sizeof(known_types); i++)
		assert_true(seen[known_types[i]]);
}

/* Payload sizes fixed by PROTOCOL.md 5's field tables. */
static void
test_layout(void **state)
{
	static const uint8_t put[] = {0x10, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00,
	    0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x39, 0x00,
	    0x00, 0x01, 0xa4, 0x00, 0x00, 0x00, 0x00, 0x65, 0x53, 0xf1, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 'r', 'e', 'p', 'o', 'r', 't',
	    '.', 'p', 'd', 'f'};
	static const struct {
		uint8_t type;
		size_t fixed; /* payload bytes besides the text */
	} sizes[] = {
	    {FERRY_F_HELLO, 2 + 8 + 2},
	    {FERRY_F_PUT, 4 + 8 + 4 + 8 + 4 + 2},
	    {FERRY_F_END, 32},
	    {FERRY_F_ABORT, 2 + 2},
	    {FERRY_F_GET, 4 + 4 + 2},
	    {FERRY_F_FILE, 4 + 8 + 4 + 8},
	    {FERRY_F_LIST, 4 + 2},
	    {FERRY_F_ENTRY, 1 + 8 + 4 + 8 + 2},
	    {FERRY_F_LISTEND, 4 + 4},
	    {FERRY_F_OK, 4 + 8 + 32},
	    {FERRY_F_ERR, 4 + 2 + 2},
	    /* PROTOCOL.md 3.2's "actual size" column for the SYNC types. */
	    {FERRY_F_PROBE, 14},
	    {FERRY_F_PUTAT, 70},
	    {FERRY_F_MKDIR, 22},
	    {FERRY_F_LINK, 12},
	    {FERRY_F_GETAT, 50},
	    {FERRY_F_FILEAT, 32},
	    {FERRY_F_WALK, 6},
	    {FERRY_F_NODE, 25},
	    {FERRY_F_HAVE, 85},
	};
	struct ferry_buf out;

	(void)state;
	encode(&samples[3], &out); /* the first PUT */
	assert_int_equal(samples[3].type, FERRY_F_PUT);
	assert_int_equal(out.len, sizeof(put));
	assert_memory_equal(out.data, put, sizeof(put));
	ferry_buf_free(&out);

	for (size_t i = 0; i < nsamples; i++) {
		const struct ferry_msg *m = &samples[i];
		size_t want = m->text_len + m->target_len + m->data_len;
		int found = m->type == FERRY_F_DATA;

		for (size_t j = 0; j < NELEM(sizes); j++)
			if (sizes[j].type == m->type) {
				want += sizes[j].fixed;
				found = 1;
			}
		assert_true(found);
		encode(m, &out);
		assert_int_equal(out.len, FERRY_FRAME_HDR + want);
		ferry_buf_free(&out);
	}
}

/*
 * Every proper prefix of every valid payload fails to decode (DATA takes
 * any length), read against a guard page; one extra byte fails too.
 */
static void
test_truncation_extension(void **state)
{
	(void)state;
	for (size_t i = 0; i < nsamples; i++) {
		const struct ferry_msg *m = &samples[i];
		struct ferry_buf out;
		struct ferry_msg d;
		const uint8_t *payload;
		size_t plen;
		uint8_t *ext;

		encode(m, &out);
		payload = out.data + FERRY_FRAME_HDR;
		plen = out.len - FERRY_FRAME_HDR;
		for (size_t len = 0; len < plen; len++) {
			int r;

			if (m->type == FERRY_F_DATA) {
				/* Nothing to parse: no guard copy needed. */
				assert_int_equal(
				    ferry_msg_decode(m->type, payload, len, &d),
				    0);
				assert_int_equal(d.data_len, len);
				continue;
			}
			r = ferry_msg_decode(
			    m->type, guarded(payload, len), len, &d);
			if (r != FERRY_E_PROTO)
				fail_msg("%s sample %zu: prefix of %zu of %zu "
				         "bytes gave %d",
				    ferry_frame_name(m->type), i, len, plen, r);
		}
		assert_int_equal(
		    ferry_msg_decode(m->type, guarded(payload, plen), plen, &d),
		    0);

		assert_non_null(ext = malloc(plen + 1));
		if (plen > 0)
			memcpy(ext, payload, plen);
		for (unsigned extra = 0; extra < 256; extra += 0x55) {
			int r;

			ext[plen] = (uint8_t)extra;
			r = ferry_msg_decode(
			    m->type, guarded(ext, plen + 1), plen + 1, &d);
			if (m->type == FERRY_F_DATA &&
			    plen + 1 <= FERRY_MAX_DATA) {
				assert_int_equal(r, 0);
				assert_int_equal(d.data_len, plen + 1);
			} else if (r != FERRY_E_PROTO)
				fail_msg("%s sample %zu: one trailing byte "
				         "gave %d",
				    ferry_frame_name(m->type), i, r);
		}
		free(ext);
		ferry_buf_free(&out);
	}
}

/*
 * Every single-bit flip of every valid header: the result is accepted
 * exactly when the type is known and the length within its bound.
 */
static void
test_header_bitflip(void **state)
{
	size_t rejected = 0, accepted = 0;

	(void)state;
	for (size_t i = 0; i < nsamples; i++) {
		struct ferry_buf out;

		encode(&samples[i], &out);
		for (size_t bit = 0; bit < 8 * FERRY_FRAME_HDR; bit++) {
			uint8_t hdr[FERRY_FRAME_HDR], type = 0;
			uint32_t len = 0, want_len;
			int r;

			memcpy(hdr, out.data, FERRY_FRAME_HDR);
			hdr[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			want_len = (uint32_t)hdr[1] << 24 |
			           (uint32_t)hdr[2] << 16 |
			           (uint32_t)hdr[3] << 8 | hdr[4];
			r = ferry_frame_header(guarded(hdr, sizeof(hdr)),
			    sizeof(hdr), &type, &len);
			if (!is_known(hdr[0]) ||
			    want_len > ferry_frame_max(hdr[0])) {
				assert_int_equal(r, FERRY_E_PROTO);
				rejected++;
			} else {
				assert_int_equal(r, 0);
				assert_int_equal(type, hdr[0]);
				assert_int_equal(len, want_len);
				accepted++;
			}
		}
		ferry_buf_free(&out);
	}
	assert_true(rejected > 0 && accepted > 0);
}

/*
 * Every single-bit flip of every (control-sized) payload: decoding either
 * fails, or succeeds and re-encodes to exactly the flipped bytes (one
 * encoding per message). Types without text accept every flip.
 */
static void
test_payload_bitflip(void **state)
{
	(void)state;
	for (size_t i = 0; i < nsamples; i++) {
		const struct ferry_msg *m = &samples[i];
		size_t ok = 0, bad = 0, plen;
		struct ferry_buf out;
		uint8_t *p;

		encode(m, &out);
		plen = out.len - FERRY_FRAME_HDR;
		if (plen > FERRY_MAX_CONTROL) {
			ferry_buf_free(&out);
			continue;
		}
		assert_non_null(p = malloc(plen + 1));
		for (size_t bit = 0; bit < 8 * plen; bit++) {
			struct ferry_msg d;
			struct ferry_buf again;
			const uint8_t *g;

			memcpy(p, out.data + FERRY_FRAME_HDR, plen);
			p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			g = guarded(p, plen);
			if (ferry_msg_decode(m->type, g, plen, &d) != 0) {
				bad++;
				continue;
			}
			ok++;
			encode(&d, &again);
			assert_int_equal(again.len, out.len);
			assert_memory_equal(
			    again.data, out.data, FERRY_FRAME_HDR);
			assert_memory_equal(
			    again.data + FERRY_FRAME_HDR, p, plen);
			ferry_buf_free(&again);
		}
		if (!has_text(m->type))
			assert_int_equal(bad, 0);
		else /* at least the length prefix's top bit breaks it */
			assert_true(bad > 0);
		assert_true(ok > 0 || plen == 0);
		free(p);
		ferry_buf_free(&out);
	}
}

static void
test_unknown_and_oversized(void **state)
{
	static const uint8_t zeros[FERRY_MAX_CONTROL + 1];
	struct ferry_msg d;

	(void)state;
	for (unsigned t = 0; t < 256; t++) {
		if (is_known((uint8_t)t))
			continue;
		assert_int_equal(
		    ferry_msg_decode((uint8_t)t, zeros, 0, &d), FERRY_E_PROTO);
		assert_int_equal(
		    ferry_msg_decode((uint8_t)t, zeros, 8, &d), FERRY_E_PROTO);
	}
	/* Longer than the type allows, whatever the content. */
	assert_int_equal(
	    ferry_msg_decode(FERRY_F_END, zeros, 33, &d), FERRY_E_PROTO);
	assert_int_equal(
	    ferry_msg_decode(FERRY_F_PUT, zeros, FERRY_MAX_CONTROL + 1, &d),
	    FERRY_E_PROTO);
	assert_int_equal(
	    ferry_msg_decode(FERRY_F_DATA, big_data, FERRY_MAX_DATA + 1, &d),
	    FERRY_E_PROTO);
	assert_int_equal(
	    ferry_msg_decode(FERRY_F_DATA, big_data, FERRY_MAX_DATA, &d), 0);
	assert_int_equal(d.data_len, FERRY_MAX_DATA);
	/* No payload at all. */
	assert_int_equal(ferry_msg_decode(FERRY_F_DATA, NULL, 0, &d), 0);
	assert_int_equal(d.data_len, 0);
	assert_int_equal(
	    ferry_msg_decode(FERRY_F_LISTEND, NULL, 0, &d), FERRY_E_PROTO);
	/* An empty payload where fields are due. */
	for (size_t i = 0; i < sizeof(known_types); i++) {
		int r = ferry_msg_decode(known_types[i], zeros, 0, &d);

		assert_int_equal(
		    r, known_types[i] == FERRY_F_DATA ? 0 : FERRY_E_PROTO);
	}
}

/* PROTOCOL.md 4: text fields carry no NUL; a receiver rejects one. */
static void
test_text_nul(void **state)
{
	static const struct {
		const char *s;
		size_t n;
	} bad[] = {{"a\0b", 3}, {"\0", 1}, {"ab\0", 3}, {"\0ab", 3}};

	(void)state;
	for (size_t i = 0; i < nsamples; i++) {
		if (!has_text(samples[i].type))
			continue;
		for (size_t j = 0; j < NELEM(bad); j++) {
			struct ferry_msg m = samples[i], d;
			struct ferry_buf out;
			int r;

			set_text(&m, bad[j].s, bad[j].n);
			ferry_buf_init_public(&out, OUT_MAX);
			if (ferry_msg_encode(&m, &out) != 0) {
				/* Refusing to encode one is fine too. */
				ferry_buf_free(&out);
				continue;
			}
			r = ferry_msg_decode(m.type,
			    guarded(out.data + FERRY_FRAME_HDR,
			        out.len - FERRY_FRAME_HDR),
			    out.len - FERRY_FRAME_HDR, &d);
			assert_int_equal(r, FERRY_E_PROTO);
			ferry_buf_free(&out);
		}
		/* The same for a link target, the path left valid. */
		for (size_t j = 0;
		     has_target(samples[i].type) && j < NELEM(bad); j++) {
			struct ferry_msg m = samples[i], d;
			struct ferry_buf out;
			int r;

			set_target(&m, bad[j].s, bad[j].n);
			ferry_buf_init_public(&out, OUT_MAX);
			if (ferry_msg_encode(&m, &out) != 0) {
				ferry_buf_free(&out);
				continue;
			}
			r = ferry_msg_decode(m.type,
			    guarded(out.data + FERRY_FRAME_HDR,
			        out.len - FERRY_FRAME_HDR),
			    out.len - FERRY_FRAME_HDR, &d);
			assert_int_equal(r, FERRY_E_PROTO);
			ferry_buf_free(&out);
		}
	}
}

/*
 * Rebuilds payload p (plen bytes) with the vec16 at off (its length max)
 * grown by one 'p' byte and its length prefix raised to max + 1; the
 * fields after it are kept. The result is in out (caller frees).
 */
static void
grow_vec(const uint8_t *p, size_t plen, size_t off, size_t max,
    struct ferry_buf *out)
{
	assert_true(off + 2 + max <= plen);
	assert_int_equal((size_t)p[off] << 8 | p[off + 1], max);
	ferry_buf_init_public(out, OUT_MAX);
	assert_int_equal(ferry_buf_put(out, p, off), 0);
	assert_int_equal(ferry_buf_put_u16(out, (uint16_t)(max + 1)), 0);
	assert_int_equal(ferry_buf_put(out, p + off + 2, max), 0);
	assert_int_equal(ferry_buf_put_u8(out, 'p'), 0);
	assert_int_equal(
	    ferry_buf_put(out, p + off + 2 + max, plen - off - 2 - max), 0);
}

/*
 * A text one byte longer than its type allows: the encoder refuses it and
 * leaves the buffer as it was; a hand-made frame carrying it is rejected.
 * For LINK and NODE the path is followed by the target, which stays valid.
 */
static void
test_text_too_long(void **state)
{
	(void)state;
	for (size_t i = 0; i < nsamples; i++) {
		struct ferry_msg m = samples[i], d;
		size_t max = text_max(m.type), off, plen, tail;
		struct ferry_buf out, grown;

		if (!has_text(m.type))
			continue;
		set_text(&m, long_text, max + 1);
		ferry_buf_init_public(&out, OUT_MAX);
		assert_int_equal(ferry_buf_put(&out, "keep", 4), 0);
		assert_int_equal(ferry_msg_encode(&m, &out), FERRY_E_TOOBIG);
		assert_int_equal(out.len, 4);
		assert_memory_equal(out.data, "keep", 4);
		ferry_buf_free(&out);

		/* Encode at the maximum, then grow the text by one byte. */
		set_text(&m, long_text, max);
		encode(&m, &out);
		plen = out.len - FERRY_FRAME_HDR;
		tail = has_target(m.type) ? 2 + m.target_len : 0;
		off = plen - tail - max - 2;
		grow_vec(out.data + FERRY_FRAME_HDR, plen, off, max, &grown);
		assert_int_equal(
		    ferry_msg_decode(
		        m.type, guarded(grown.data, grown.len), grown.len, &d),
		    FERRY_E_PROTO);
		ferry_buf_free(&grown);
		ferry_buf_free(&out);
	}
}

/*
 * LINK and NODE targets: FERRY_MAX_LINK passes, one more byte is refused
 * by the encoder (buffer unchanged) and by the decoder, whatever the path.
 */
static void
test_target_too_long(void **state)
{
	size_t checked = 0;

	(void)state;
	for (size_t i = 0; i < nsamples; i++) {
		struct ferry_msg m = samples[i], d;
		struct ferry_buf out, grown;
		size_t plen;

		if (!has_target(m.type))
			continue;
		set_target(&m, long_link, FERRY_MAX_LINK + 1);
		ferry_buf_init_public(&out, OUT_MAX);
		assert_int_equal(ferry_buf_put(&out, "keep", 4), 0);
		assert_int_equal(ferry_msg_encode(&m, &out), FERRY_E_TOOBIG);
		assert_int_equal(out.len, 4);
		assert_memory_equal(out.data, "keep", 4);
		ferry_buf_free(&out);
		set_target(&m, long_link, 65535);
		ferry_buf_init_public(&out, OUT_MAX);
		assert_int_equal(ferry_msg_encode(&m, &out), FERRY_E_TOOBIG);
		assert_int_equal(out.len, 0);
		ferry_buf_free(&out);

		set_target(&m, long_link, FERRY_MAX_LINK);
		encode(&m, &out);
		plen = out.len - FERRY_FRAME_HDR;
		assert_int_equal(
		    ferry_msg_decode(m.type,
		        guarded(out.data + FERRY_FRAME_HDR, plen), plen, &d),
		    0);
		assert_int_equal(d.target_len, FERRY_MAX_LINK);
		grow_vec(out.data + FERRY_FRAME_HDR, plen,
		    plen - FERRY_MAX_LINK - 2, FERRY_MAX_LINK, &grown);
		assert_int_equal(
		    ferry_msg_decode(
		        m.type, guarded(grown.data, grown.len), grown.len, &d),
		    FERRY_E_PROTO);
		ferry_buf_free(&grown);
		ferry_buf_free(&out);
		checked++;
	}
	assert_true(checked >= 4);
}

/* PUT and ENTRY names longer than FERRY_MAX_NAME, built by hand. */
static void
test_put_name_too_long(void **state)
{
	struct ferry_buf b;
	struct ferry_msg d;

	(void)state;
	for (size_t n = FERRY_MAX_NAME - 1; n <= FERRY_MAX_NAME + 2; n++) {
		int want = n <= FERRY_MAX_NAME ? 0 : FERRY_E_PROTO;

		ferry_buf_init_public(&b, OUT_MAX);
		assert_int_equal(ferry_buf_put_u32(&b, 1), 0);
		assert_int_equal(ferry_buf_put_u64(&b, 2), 0);
		assert_int_equal(ferry_buf_put_u32(&b, 0644), 0);
		assert_int_equal(ferry_buf_put_u64(&b, 3), 0);
		assert_int_equal(ferry_buf_put_u32(&b, 0), 0);
		assert_int_equal(
		    ferry_buf_put_vec16(&b, long_text, n, 65535), 0);
		assert_int_equal(ferry_msg_decode(FERRY_F_PUT,
		                     guarded(b.data, b.len), b.len, &d),
		    want);
		if (want == 0)
			assert_int_equal(d.text_len, n);
		ferry_buf_free(&b);

		ferry_buf_init_public(&b, OUT_MAX);
		assert_int_equal(ferry_buf_put_u8(&b, FERRY_KIND_FILE), 0);
		assert_int_equal(ferry_buf_put_u64(&b, 2), 0);
		assert_int_equal(ferry_buf_put_u32(&b, 0644), 0);
		assert_int_equal(ferry_buf_put_u64(&b, 3), 0);
		assert_int_equal(
		    ferry_buf_put_vec16(&b, long_text, n, 65535), 0);
		assert_int_equal(ferry_msg_decode(FERRY_F_ENTRY,
		                     guarded(b.data, b.len), b.len, &d),
		    want);
		ferry_buf_free(&b);
	}
}

/*
 * The SYNC frames built by hand, field by field in the order of the tables
 * of PROTOCOL.md 5.11-5.16, with distinct values in every field; want gets
 * the message they must decode to (the field mapping of wire.h).
 */
static void
build_sync(uint8_t type, const char *path, size_t pn, const char *tgt,
    size_t tn, struct ferry_buf *b, struct ferry_msg *want)
{
	static const uint32_t id = 0x01020304, mode = 0644, flags = 0x3;
	static const uint64_t size = 0x1112131415161718;
	static const uint64_t offset = 0x2122232425262728;
	static const int64_t mtime = -1700000000;
	uint8_t sha[FERRY_SHA256_LEN], prefix[FERRY_SHA256_LEN];

	fill_sha(sha, 0x40, 1);
	fill_sha(prefix, 0xa0, 3);
	memset(want, 0, sizeof(*want));
	want->type = type;
	ferry_buf_init_public(b, OUT_MAX);
	switch (type) {
	case FERRY_F_PROBE: /* id, size, path */
		assert_int_equal(ferry_buf_put_u32(b, id), 0);
		assert_int_equal(ferry_buf_put_u64(b, size), 0);
		assert_int_equal(ferry_buf_put_vec16(b, path, pn, 65535), 0);
		want->id = id;
		want->size = size;
		break;
	case FERRY_F_HAVE: /* id, kind, size, sha256, part, part_sha256 */
		assert_int_equal(ferry_buf_put_u32(b, id), 0);
		assert_int_equal(ferry_buf_put_u8(b, FERRY_KIND_FILE), 0);
		assert_int_equal(ferry_buf_put_u64(b, size), 0);
		assert_int_equal(ferry_buf_put(b, sha, sizeof(sha)), 0);
		assert_int_equal(ferry_buf_put_u64(b, offset), 0);
		assert_int_equal(ferry_buf_put(b, prefix, sizeof(prefix)), 0);
		want->id = id;
		want->kind = FERRY_KIND_FILE;
		want->size = size;
		memcpy(want->sha256, sha, sizeof(sha));
		want->offset = offset;
		memcpy(want->prefix, prefix, sizeof(prefix));
		return;
	case FERRY_F_PUTAT: /* id, size, mode, mtime, flags, offset, prefix,
			       path */
		assert_int_equal(ferry_buf_put_u32(b, id), 0);
		assert_int_equal(ferry_buf_put_u64(b, size), 0);
		assert_int_equal(ferry_buf_put_u32(b, mode), 0);
		assert_int_equal(ferry_buf_put_u64(b, (uint64_t)mtime), 0);
		assert_int_equal(ferry_buf_put_u32(b, flags), 0);
		assert_int_equal(ferry_buf_put_u64(b, offset), 0);
		assert_int_equal(ferry_buf_put(b, prefix, sizeof(prefix)), 0);
		assert_int_equal(ferry_buf_put_vec16(b, path, pn, 65535), 0);
		want->id = id;
		want->size = size;
		want->mode = mode;
		want->mtime = mtime;
		want->flags = flags;
		want->offset = offset;
		memcpy(want->prefix, prefix, sizeof(prefix));
		break;
	case FERRY_F_MKDIR: /* id, mode, mtime, flags, path */
		assert_int_equal(ferry_buf_put_u32(b, id), 0);
		assert_int_equal(ferry_buf_put_u32(b, mode), 0);
		assert_int_equal(ferry_buf_put_u64(b, (uint64_t)mtime), 0);
		assert_int_equal(ferry_buf_put_u32(b, flags), 0);
		assert_int_equal(ferry_buf_put_vec16(b, path, pn, 65535), 0);
		want->id = id;
		want->mode = mode;
		want->mtime = mtime;
		want->flags = flags;
		break;
	case FERRY_F_LINK: /* id, flags, path, target */
		assert_int_equal(ferry_buf_put_u32(b, id), 0);
		assert_int_equal(ferry_buf_put_u32(b, flags), 0);
		assert_int_equal(ferry_buf_put_vec16(b, path, pn, 65535), 0);
		assert_int_equal(ferry_buf_put_vec16(b, tgt, tn, 65535), 0);
		want->id = id;
		want->flags = flags;
		want->target = tgt;
		want->target_len = tn;
		break;
	case FERRY_F_GETAT: /* id, flags, offset, prefix, path */
		assert_int_equal(ferry_buf_put_u32(b, id), 0);
		assert_int_equal(ferry_buf_put_u32(b, flags), 0);
		assert_int_equal(ferry_buf_put_u64(b, offset), 0);
		assert_int_equal(ferry_buf_put(b, prefix, sizeof(prefix)), 0);
		assert_int_equal(ferry_buf_put_vec16(b, path, pn, 65535), 0);
		want->id = id;
		want->flags = flags;
		want->offset = offset;
		memcpy(want->prefix, prefix, sizeof(prefix));
		break;
	case FERRY_F_FILEAT: /* id, size, mode, mtime, offset */
		assert_int_equal(ferry_buf_put_u32(b, id), 0);
		assert_int_equal(ferry_buf_put_u64(b, size), 0);
		assert_int_equal(ferry_buf_put_u32(b, mode), 0);
		assert_int_equal(ferry_buf_put_u64(b, (uint64_t)mtime), 0);
		assert_int_equal(ferry_buf_put_u64(b, offset), 0);
		want->id = id;
		want->size = size;
		want->mode = mode;
		want->mtime = mtime;
		want->offset = offset;
		return;
	case FERRY_F_WALK: /* id, path */
		assert_int_equal(ferry_buf_put_u32(b, id), 0);
		assert_int_equal(ferry_buf_put_vec16(b, path, pn, 65535), 0);
		want->id = id;
		break;
	case FERRY_F_NODE: /* kind, size, mode, mtime, path, target */
		assert_int_equal(ferry_buf_put_u8(b, FERRY_KIND_LINK), 0);
		assert_int_equal(ferry_buf_put_u64(b, size), 0);
		assert_int_equal(ferry_buf_put_u32(b, mode), 0);
		assert_int_equal(ferry_buf_put_u64(b, (uint64_t)mtime), 0);
		assert_int_equal(ferry_buf_put_vec16(b, path, pn, 65535), 0);
		assert_int_equal(ferry_buf_put_vec16(b, tgt, tn, 65535), 0);
		want->kind = FERRY_KIND_LINK;
		want->size = size;
		want->mode = mode;
		want->mtime = mtime;
		want->target = tgt;
		want->target_len = tn;
		break;
	default:
		fail_msg("not a SYNC type: 0x%02x", type);
	}
	want->text = path;
	want->text_len = pn;
}

/*
 * Each SYNC frame decodes field by field as PROTOCOL.md lays it out, and
 * the decoded message encodes back to the same bytes.
 */
static void
test_sync_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sync_types); i++) {
		uint8_t t = sync_types[i];
		struct ferry_msg want, d;
		struct ferry_buf b, out;

		build_sync(
		    t, "photos/2024/a.jpg", 17, "2024/a.jpg", 10, &b, &want);
		assert_int_equal(
		    ferry_msg_decode(t, guarded(b.data, b.len), b.len, &d), 0);
		assert_msg_equal(&d, &want);
		encode(&want, &out);
		assert_int_equal(out.len, FERRY_FRAME_HDR + b.len);
		assert_int_equal(out.data[0], t);
		assert_memory_equal(out.data + FERRY_FRAME_HDR, b.data, b.len);
		ferry_buf_free(&out);
		ferry_buf_free(&b);

		/* Empty texts are the codec's business to carry (4.1's rules
		 * are checked by whoever acts on the path). */
		build_sync(t, "", 0, "", 0, &b, &want);
		assert_int_equal(
		    ferry_msg_decode(t, guarded(b.data, b.len), b.len, &d), 0);
		assert_msg_equal(&d, &want);
		ferry_buf_free(&b);
	}
}

/*
 * Paths of FERRY_MAX_PATH - 1 .. + 2 bytes and targets of FERRY_MAX_LINK
 * - 1 .. + 2 bytes, built by hand: accepted exactly up to the bound. A NUL
 * anywhere in a path or target is refused.
 */
static void
test_sync_bounds(void **state)
{
	static const struct {
		const char *s;
		size_t n;
	} nul[] = {{"a\0b", 3}, {"\0", 1}, {"ab\0", 3}, {"\0ab", 3}};

	(void)state;
	for (size_t i = 0; i < sizeof(sync_types); i++) {
		uint8_t t = sync_types[i];
		struct ferry_msg want, d;
		struct ferry_buf b;

		if (!has_text(t))
			continue;
		for (size_t n = FERRY_MAX_PATH - 1; n <= FERRY_MAX_PATH + 2;
		     n++) {
			int r;

			build_sync(t, long_text, n, "x", 1, &b, &want);
			r = ferry_msg_decode(
			    t, guarded(b.data, b.len), b.len, &d);
			if (n <= FERRY_MAX_PATH) {
				assert_int_equal(r, 0);
				assert_msg_equal(&d, &want);
			} else if (r != FERRY_E_PROTO)
				fail_msg("%s: path of %zu bytes gave %d",
				    ferry_frame_name(t), n, r);
			ferry_buf_free(&b);
		}
		for (size_t j = 0; j < NELEM(nul); j++) {
			build_sync(t, nul[j].s, nul[j].n, "x", 1, &b, &want);
			assert_int_equal(ferry_msg_decode(t,
			                     guarded(b.data, b.len), b.len, &d),
			    FERRY_E_PROTO);
			ferry_buf_free(&b);
		}
		if (!has_target(t))
			continue;
		for (size_t n = FERRY_MAX_LINK - 1; n <= FERRY_MAX_LINK + 2;
		     n++) {
			int r;

			/* With the longest path too: 12 + 4096 + 1024 and
			 * 25 + 4096 + 1024 stay under the control limit. */
			for (int longp = 0; longp <= 1; longp++) {
				build_sync(t, long_text,
				    longp ? FERRY_MAX_PATH : 5, long_link, n,
				    &b, &want);
				r = ferry_msg_decode(
				    t, guarded(b.data, b.len), b.len, &d);
				if (n <= FERRY_MAX_LINK) {
					assert_int_equal(r, 0);
					assert_msg_equal(&d, &want);
				} else if (r != FERRY_E_PROTO)
					fail_msg("%s: target of %zu bytes "
					         "gave %d",
					    ferry_frame_name(t), n, r);
				ferry_buf_free(&b);
			}
		}
		for (size_t j = 0; j < NELEM(nul); j++) {
			build_sync(t, "a/b", 3, nul[j].s, nul[j].n, &b, &want);
			assert_int_equal(ferry_msg_decode(t,
			                     guarded(b.data, b.len), b.len, &d),
			    FERRY_E_PROTO);
			ferry_buf_free(&b);
		}
	}
}

static void
test_encode_refusals(void **state)
{
	struct ferry_msg m;
	struct ferry_buf out;

	(void)state;
	/* DATA over its frame bound. */
	memset(&m, 0, sizeof(m));
	m.type = FERRY_F_DATA;
	m.data = big_data;
	m.data_len = FERRY_MAX_DATA + 1;
	ferry_buf_init_public(&out, 2 * OUT_MAX);
	assert_int_equal(ferry_buf_put(&out, "keep", 4), 0);
	assert_int_equal(ferry_msg_encode(&m, &out), FERRY_E_TOOBIG);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "keep", 4);

	/* Types that are not on the wire. */
	m.type = FERRY_F_NONE;
	assert_int_equal(ferry_msg_encode(&m, &out), FERRY_E_INTERNAL);
	m.type = FERRY_F_EOF;
	assert_int_equal(ferry_msg_encode(&m, &out), FERRY_E_INTERNAL);
	m.type = 0x18; /* unassigned, next to LINK */
	assert_int_equal(ferry_msg_encode(&m, &out), FERRY_E_INTERNAL);
	m.type = 0x43;
	assert_int_equal(ferry_msg_encode(&m, &out), FERRY_E_INTERNAL);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "keep", 4);
	ferry_buf_free(&out);

	/* An output buffer too small for the frame: TOOBIG (and reset). */
	ferry_buf_init_public(&out, 20);
	assert_int_equal(ferry_msg_encode(&samples[3], &out), FERRY_E_TOOBIG);
	assert_int_equal(out.len, 0);
	/* Still usable for a frame that fits. */
	memset(&m, 0, sizeof(m));
	m.type = FERRY_F_LISTEND;
	assert_int_equal(ferry_msg_encode(&m, &out), 0);
	assert_int_equal(out.len, FERRY_FRAME_HDR + 8);
	ferry_buf_free(&out);
}

/* Several frames back to back decode one by one. */
static void
test_stream(void **state)
{
	struct ferry_buf out;
	size_t off = 0, k = 0;

	(void)state;
	ferry_buf_init_public(&out, 4 * OUT_MAX);
	for (size_t i = 0; i < nsamples; i++)
		assert_int_equal(ferry_msg_encode(&samples[i], &out), 0);
	while (off < out.len) {
		struct ferry_msg d;
		uint8_t type;
		uint32_t len;

		assert_true(out.len - off >= FERRY_FRAME_HDR);
		assert_int_equal(ferry_frame_header(out.data + off,
		                     FERRY_FRAME_HDR, &type, &len),
		    0);
		off += FERRY_FRAME_HDR;
		assert_true(out.len - off >= len);
		assert_int_equal(
		    ferry_msg_decode(type, out.data + off, len, &d), 0);
		assert_msg_equal(&d, &samples[k]);
		off += len;
		k++;
	}
	assert_int_equal(k, nsamples);
	ferry_buf_free(&out);
}

static uint8_t *
read_all(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long sz;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz >= 0 && (size_t)sz <= OUT_MAX);
	rewind(f);
	assert_non_null(p = malloc((size_t)sz + 1));
	assert_int_equal(fread(p, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*n = (size_t)sz;
	return p;
}

/*
 * tests/data/wire/: valid_<type>_<what>.bin decodes as a <type> frame and
 * re-encodes to the same bytes; invalid_<what>.bin is refused somewhere
 * between the header and the end of the payload.
 */
static void
test_regressions(void **state)
{
	const char *base = getenv("FERRY_TEST_DATA");
	char dir[PATH_MAX], path[PATH_MAX];
	size_t nvalid = 0, ninvalid = 0;
	int seen[256] = {0};
	struct dirent *de;
	DIR *d;

	(void)state;
	if (base == NULL || *base == '\0')
		base = "tests/data";
	assert_true(
	    snprintf(dir, sizeof(dir), "%s/wire", base) < (int)sizeof(dir));
	if ((d = opendir(dir)) == NULL)
		fail_msg("cannot open %s (set FERRY_TEST_DATA)", dir);
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		size_t nl = strlen(name), n;
		struct ferry_msg m;
		uint8_t *p;
		int r;

		if (nl < 4 || strcmp(name + nl - 4, ".bin") != 0)
			continue;
		assert_true(snprintf(path, sizeof(path), "%s/%s", dir, name) <
		            (int)sizeof(path));
		p = read_all(path, &n);
		r = decode_frame(p, n, &m);
		if (strncmp(name, "valid_", 6) == 0) {
			const char *tname = name + 6, *us = strchr(tname, '_');
			struct ferry_buf out;

			if (r != 0)
				fail_msg("%s: %s (%s)", name, ferry_errname(r),
				    ferry_err_detail(r));
			if (us == NULL ||
			    strlen(ferry_frame_name(m.type)) !=
			        (size_t)(us - tname) ||
			    strncasecmp(ferry_frame_name(m.type), tname,
			        (size_t)(us - tname)) != 0)
				fail_msg("%s: decoded as %s", name,
				    ferry_frame_name(m.type));
			encode(&m, &out);
			if (out.len != n || memcmp(out.data, p, n) != 0)
				fail_msg("%s: re-encodes differently", name);
			ferry_buf_free(&out);
			seen[m.type] = 1;
			nvalid++;
		} else if (strncmp(name, "invalid_", 8) == 0) {
			if (r == 0)
				fail_msg("%s: accepted as a %s frame", name,
				    ferry_frame_name(m.type));
			assert_int_equal(r, FERRY_E_PROTO);
			ninvalid++;
		} else
			fail_msg("%s: name must start with valid_ or invalid_",
			    name);
		free(p);
	}
	closedir(d);
	assert_true(nvalid >= sizeof(known_types));
	assert_true(ninvalid >= 10);
	for (size_t i = 0; i < sizeof(known_types); i++)
		if (!seen[known_types[i]])
			fail_msg("no valid_%s_*.bin case",
			    ferry_frame_name(known_types[i]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_names),
	    cmocka_unit_test(test_header),
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_truncation_extension),
	    cmocka_unit_test(test_header_bitflip),
	    cmocka_unit_test(test_payload_bitflip),
	    cmocka_unit_test(test_unknown_and_oversized),
	    cmocka_unit_test(test_text_nul),
	    cmocka_unit_test(test_text_too_long),
	    cmocka_unit_test(test_target_too_long),
	    cmocka_unit_test(test_put_name_too_long),
	    cmocka_unit_test(test_sync_fields),
	    cmocka_unit_test(test_sync_bounds),
	    cmocka_unit_test(test_encode_refusals),
	    cmocka_unit_test(test_stream),
	    cmocka_unit_test(test_regressions),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
