/* show.h - showing names ferry does not control (from a peer, a file
 * system, a command line) on a terminal, in a log or an error line. */
#ifndef FERRY_SHOW_H
#define FERRY_SHOW_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/err.h"
#include "ferry/rd.h"

/*
 * Reads one UTF-8 character (RFC 3629: no overlong form, no surrogate,
 * nothing above U+10FFFF) from rd: its code point, and its bytes (borrowed
 * from rd's range). FERRY_E_PROTO, the cursor not moved, when the next
 * bytes are not one (or none remain).
 */
int ferry_show_utf8(struct ferry_rd *rd, uint32_t *cp, const uint8_t **p,
    size_t *n) FERRY_MUST_CHECK;

/*
 * 1 if cp must not reach a terminal or a log as it is: C0 controls, DEL,
 * C1 controls (U+0080-U+009F: U+009B is a one-character CSI), the
 * bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069: U+202E shows "gpj.exe" as "exe.jpg") and the line and
 * paragraph separators U+2028, U+2029. 0 for every other character.
 */
int ferry_show_unsafe(uint32_t cp);

/*
 * In place: every byte of a sequence that is not UTF-8, and of a character
 * ferry_show_unsafe() refuses, becomes '?'. The length does not change;
 * valid, safe text (non-ASCII included) is left as it is.
 */
void ferry_show_sanitize(char *s);

/*
 * s quoted for a terminal as `ls --quoting-style=shell-escape` does, so
 * that the line can be pasted back into a shell: as it is when it needs no
 * quoting, else in '...' (or "..." when it holds a ' and nothing a double
 * quote would change), and the bytes of invalid UTF-8 and of unsafe
 * characters as $'\ooo' (or $'\n', $'\t' ...). *out: caller frees.
 */
int ferry_show_quote(const char *s, char **out) FERRY_MUST_CHECK;

#endif
