#!/usr/bin/env bash
# t_progress.sh - on a terminal (script(1) gives one) send and get draw a
# progress line on stderr and end with a summary line; with -q, or with
# stderr not a terminal, none of it; stdout keeps the sha256sum lines.
. "$(dirname "$0")/lib.sh"

command -v script >/dev/null || skip "no script command"
org_init
start_serve
src=$T/src
mkdir -p "$src" "$T/dl"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$src/eight.bin"
cp "$src/eight.bin" "$T/share/eight.bin"
want=$(sha "$src/eight.bin")

# tty CMD...: CMD on a pseudo-terminal; everything it wrote in $T/tty.out.
tty() {
	local cmd
	cmd=$(printf '%q ' "$@")
	timeout -k 5 "$CMD_TIMEOUT" script -qec "$cmd" /dev/null >"$T/tty.out" </dev/null ||
		fail "on a terminal: exit $?: $*: $(cat -v "$T/tty.out")"
}

tty "$FERRY" send -i "$T/alice" "$src/eight.bin" "bob@127.0.0.1:$PORT"
grep -q "ETA" "$T/tty.out" || fail "send on a terminal: no progress line: $(cat -v "$T/tty.out")"
grep -q $'\r' "$T/tty.out" || fail "send on a terminal: progress line not redrawn with CR"
grep -Eq 'eight\.bin +8\.0 MiB / 8\.0 MiB +100%' "$T/tty.out" ||
	fail "send: progress did not end at 100%: $(cat -v "$T/tty.out")"
grep -Eq '^ferry: send: 1 file, 8\.0 MiB in [0-9.]+ s \([0-9.]+ [KMG]?i?B/s\)' "$T/tty.out" ||
	fail "send: no summary line: $(cat -v "$T/tty.out")"
grep -q "^$want  $src/eight.bin" "$T/tty.out" || fail "send: no sha256sum line: $(cat -v "$T/tty.out")"

tty "$FERRY" get -i "$T/alice" "bob@127.0.0.1:$PORT:eight.bin" -o "$T/dl"
grep -q "ETA" "$T/tty.out" || fail "get on a terminal: no progress line: $(cat -v "$T/tty.out")"
grep -Eq '^ferry: get: 1 file, 8\.0 MiB in ' "$T/tty.out" || fail "get: no summary line: $(cat -v "$T/tty.out")"
[[ $(sha "$T/dl/eight.bin") == "$want" ]] || fail "get: content differs"

# A failing file next to a drawn line: the error gets a line of its own.
run_tty() {
	local cmd
	cmd=$(printf '%q ' "$@")
	timeout -k 5 "$CMD_TIMEOUT" script -qec "$cmd" /dev/null >"$T/tty.out" </dev/null || true
}
# (Removed first: the same file would be up to date, and not travel.)
rm -f "$T/inbox/alice/eight.bin"
run_tty "$FERRY" send -f -i "$T/alice" "$src/eight.bin" "$src/missing.bin" "bob@127.0.0.1:$PORT"
tr '\r' '\n' <"$T/tty.out" >"$T/lines.out"
grep -q '^ferry: send: .*missing.bin' "$T/lines.out" || fail "send with a missing file: $(cat -v "$T/tty.out")"
grep -q 'ETA.*ferry:' "$T/lines.out" && fail "an error line landed on the progress line: $(cat -v "$T/tty.out")"
grep -Eq '^ferry: send: 1 file, 8\.0 MiB in .*; 1 failed$' "$T/lines.out" ||
	fail "summary with a failure: $(cat -v "$T/tty.out")"

# -q: the sha256sum line only.
tty "$FERRY" send -q -f -i "$T/alice" "$src/eight.bin" "bob@127.0.0.1:$PORT"
tr -d '\r' <"$T/tty.out" >"$T/q.out"
[[ $(cat "$T/q.out") == "$want  $src/eight.bin" ]] || fail "send -q on a terminal printed: $(cat -v "$T/tty.out")"
tty "$FERRY" get --quiet -f -i "$T/alice" "bob@127.0.0.1:$PORT:eight.bin" -o "$T/dl"
tr -d '\r' <"$T/tty.out" >"$T/q.out"
[[ $(cat "$T/q.out") == "$want  $T/dl/eight.bin" ]] || fail "get -q on a terminal printed: $(cat -v "$T/tty.out")"

# A tree: one line for the whole batch (files, bytes of the total, rate,
# ETA), wiped rather than completed under each checksum line, like rsync
# --info=progress2; no line of its own per file.
mkdir -p "$src/tree"
for i in 1 2 3 4 5 6 7 8; do head -c $((1024 * 1024)) /dev/urandom >"$src/tree/f$i"; done
tty "$FERRY" send -r --limit-rate 16M -i "$T/alice" "$src/tree" "bob@127.0.0.1:$PORT"
grep -Eq '[0-9]+ files +[0-9.]+ [KM]iB / 8\.0 MiB +[0-9]+% .*ETA' "$T/tty.out" ||
	fail "send -r: no whole-tree progress line: $(cat -v "$T/tty.out")"
python3 - "$T/tty.out" <<'PY' || fail "send -r: a progress line was left on the terminal: $(cat -v "$T/tty.out")"
import re, sys
raw = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace')
# What stays on screen: each CR-separated segment overwrites the line.
for line in raw.replace('\r\n', '\n').split('\n'):
    shown = line.split('\r')[-1]
    assert 'ETA' not in shown, repr(line)
PY
[[ $(grep -c "  $src/tree/f" "$T/tty.out") == 8 ]] || fail "send -r: want 8 checksum lines: $(cat -v "$T/tty.out")"

# Not a terminal: stderr stays empty.
expect_exit 0 "$FERRY" send -f -i "$T/alice" "$src/eight.bin" "bob@127.0.0.1:$PORT"
[[ ! -s $ERR ]] || fail "send without a terminal wrote to stderr: $(cat -v "$ERR")"
expect_exit 0 "$FERRY" get -f -i "$T/alice" "bob@127.0.0.1:$PORT:eight.bin" -o "$T/dl"
[[ ! -s $ERR ]] || fail "get without a terminal wrote to stderr: $(cat -v "$ERR")"

finish
