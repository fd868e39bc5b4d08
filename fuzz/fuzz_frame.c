/* fuzz_frame.c - the frame header and payload decoder on arbitrary bytes.
 * Input: a 5-byte header then a payload. Whatever decodes must re-encode
 * to the same bytes and re-decode to the same message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_same(const struct ferry_msg *a, const struct ferry_msg *b)
{
	if (a->type != b->type || a->id != b->id || a->size != b->size ||
	    a->mode != b->mode || a->mtime != b->mtime ||
	    a->flags != b->flags || a->version != b->version ||
	    a->features != b->features || a->code != b->code ||
	    a->kind != b->kind || a->count != b->count ||
	    memcmp(a->sha256, b->sha256, FERRY_SHA256_LEN) != 0 ||
	    a->offset != b->offset ||
	    memcmp(a->prefix, b->prefix, FERRY_SHA256_LEN) != 0 ||
	    a->target_len != b->target_len ||
	    (a->target_len > 0 &&
	        memcmp(a->target, b->target, a->target_len) != 0) ||
	    a->text_len != b->text_len || a->data_len != b->data_len ||
	    (a->text_len > 0 && memcmp(a->text, b->text, a->text_len) != 0) ||
	    (a->data_len > 0 && memcmp(a->data, b->data, a->data_len) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *payload;
	struct ferry_msg m, again;
	struct ferry_buf out;
	size_t plen;
	uint8_t type;
	uint32_t len;
	int hr;

	if (size < FERRY_FRAME_HDR) {
		/* A short header is always refused. */
		if (ferry_frame_header(data, size, &type, &len) == 0)
			abort();
		return 0;
	}
	hr = ferry_frame_header(data, FERRY_FRAME_HDR, &type, &len);
	if (hr == 0 && len > ferry_frame_max(type))
		abort();
	/*
	 * Decode the rest as the payload of data[0]'s type whatever the
	 * header's length says, so the decoders see every size; unknown
	 * types and oversized payloads must fail.
	 */
	type = data[0];
	payload = data + FERRY_FRAME_HDR;
	plen = size - FERRY_FRAME_HDR;
	if (ferry_msg_decode(type, payload, plen, &m) != 0)
		return 0;
	if (ferry_frame_max(type) == 0 || plen > ferry_frame_max(type))
		abort();
	if (m.type != type)
		abort();
	if (m.text_len > 0 && memchr(m.text, '\0', m.text_len) != NULL)
		abort();

	/* One encoding per message: the same header and payload bytes. */
	ferry_buf_init_public(&out, FERRY_FRAME_HDR + FERRY_MAX_DATA);
	if (ferry_msg_encode(&m, &out) != 0)
		abort();
	if (out.len != size || out.data[0] != type ||
	    memcmp(out.data + FERRY_FRAME_HDR, payload, plen) != 0)
		abort();
	if (ferry_frame_header(out.data, FERRY_FRAME_HDR, &type, &len) != 0 ||
	    len != plen)
		abort();
	if (ferry_msg_decode(type, out.data + FERRY_FRAME_HDR, len, &again) !=
	    0)
		abort();
	check_same(&m, &again);
	ferry_buf_free(&out);
	return 0;
}
