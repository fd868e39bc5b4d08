#!/usr/bin/env bash
# t_resume.sh - an interrupted transfer of a 200 MiB file resumes: a push
# or a pull rate-limited to 40M is killed (-9) once its kept partial
# (.ferry-resume-*.part: in the server's inbox for a push, in the local
# destination for a pull) holds 100 MiB; the same command then sends only
# the rest (--json: resumed_from 30-70 % of the size, bytes_sent = size -
# resumed_from), and the file arrives with the right SHA-256, no partial
# left. The same after Ctrl-C (SIGINT, exit 130) and after the connection
# is cut (serve's connection process killed, exit 3) at 50 MiB, for a big
# file inside a tree (send -r, get -r), and for get -o NEWNAME. --no-resume starts over (resumed_from 0, bytes_sent = size). A
# partial with a byte flipped (on either side) is never trusted: the file
# still arrives intact, resumed from no later than the flipped byte.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "no python3"
org_init
start_serve --timeout 10
ID=$T/alice
P=bob@127.0.0.1:$PORT
MIB=$((1024 * 1024))
SIZE=$((200 * MIB))
mkdir -p "$T/src" "$T/dl"
head -c "$SIZE" /dev/urandom >"$T/src/big.bin"
WANT=$(sha "$T/src/big.bin")
for n in nr.bin tamper.bin; do
	ln "$T/src/big.bin" "$T/src/$n"
done
for n in big.bin nr.bin tamper.bin; do
	ln "$T/src/big.bin" "$SHARE/$n"
done
t_start=$(now_ms)

# part_size DIR: the size of the largest kept partial below DIR (0: none).
part_size() {
	local s
	s=$(find "$1" -name '.ferry-resume-*.part' -printf '%s\n' 2>/dev/null | sort -n | tail -n 1)
	echo "${s:-0}"
}
part_at_least() {
	[[ $(part_size "$1") -ge $2 ]]
}

# server_children: the pids of serve's connection processes.
server_children() {
	cat /proc/"$SERVE_PID"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+$' || true
}

no_server_children() {
	[[ -z $(server_children) ]]
}

# interrupt NAME DIR BYTES CMD...: starts CMD in the background, waits
# (30 s at most) until a kept partial below DIR holds BYTES, then
# interrupts it as $HOW says: "KILL" (default) or "INT" sends that signal
# to CMD's process group; "server" kills serve's connection process (-9),
# which cuts the connection. Sets PART_AT_KILL, and WAIT_RC to CMD's exit
# status.
interrupt() {
	local name=$1 dir=$2 bytes=$3 how=${HOW:-KILL} pid stuck=0 kids
	shift 3
	bg "$name" "$@"
	pid=$BG_PID
	if ! wait_until 30 part_at_least "$dir" "$bytes"; then
		fail "$name: no kept partial of $bytes bytes in $dir within 30 s (have $(part_size "$dir")): $(cat "$T/$name.err")"
	fi
	is_running "$pid" || fail "$name: finished before it could be interrupted (inconclusive): $(cat "$T/$name.err")"
	if [[ $how == server ]]; then
		kids=$(server_children)
		[[ -n $kids ]] || fail "$name: no connection process of serve to kill"
		# (each is a process this test started: serve's children)
		# shellcheck disable=SC2086
		kill -KILL $kids
		wait_until 10 no_server_children || fail "$name: serve's child survived SIGKILL"
	else
		kill "-$how" -- "-$pid" 2>/dev/null
	fi
	{ wait_exit "$pid" 10 || stuck=1; } 2>/dev/null
	[[ $stuck == 0 ]] || fail "$name: still running 10 s after the interruption ($how)"
	PART_AT_KILL=$(part_size "$dir")
	note "$name: interrupted ($how) with a partial of $PART_AT_KILL bytes -> exit $WAIT_RC: $(tr '\n' ' ' <"$T/$name.err")"
}

# after_push_kill NAME FILE: the server noticed the cut (or its connection
# process was killed); the partial is kept, the final name absent.
after_push_kill() {
	local name=$1 file=$2
	if [[ ${HOW:-KILL} == server ]]; then
		wait_until 10 no_server_children || fail "$name: serve's child still there"
	else
		wait_log "alice@.*($CONN_END)" "$SERVE_LOG" 10
	fi
	[[ ! -e $INBOX/alice/$file ]] || fail "$name: the final file appeared in the inbox"
	[[ $(resume_files "$INBOX" | wc -l) == 1 ]] ||
		fail "$name: want one kept partial in the inbox: $(resume_files "$INBOX")"
	no_part_files "$INBOX" || fail "$name: temp files left: $(part_files "$INBOX")"
}

# check_json NAME FILE MODE [ARG]: the last run's --json output for FILE;
# MODE: resumed (resumed_from 30-70 % of SIZE), fresh (resumed_from 0),
# upto ARG (resumed_from <= ARG), from ARG (resumed_from 10-70 % of SIZE
# and at least ARG / 2). Always: result ok, sha256 WANT,
# bytes_sent = SIZE - resumed_from (+ at most 1 MiB). Prints
# "resumed_from bytes_sent".
check_json() {
	python3 - "$OUT" "$2" "$3" "${4:-0}" "$SIZE" "$WANT" "$MIB" <<'PY' >"$T/json.check" ||
import json, os, sys
out, name, mode, arg, size, want, mib = sys.argv[1:]
arg, size, mib = int(arg), int(size), int(mib)
objs = [json.loads(l) for l in open(out, 'rb').read().decode().splitlines()]
files = [o for o in objs if o['type'] == 'file']
assert len(files) == 1, files
f = files[0]
assert os.path.basename(f['name']) == name, f
assert f['result'] == 'ok', f
assert f['sha256'] == want, ('sha256', f['sha256'], want)
assert f['size'] == size, f
r, b = f['resumed_from'], f['bytes_sent']
if mode == 'resumed':
    assert 0.3 * size <= r <= 0.7 * size, ('resumed_from not 30-70 %', r, size)
elif mode == 'fresh':
    assert r == 0, ('resumed_from not 0', r)
    assert b == size, ('bytes_sent not the size', b, size)
elif mode == 'from':
    assert 0.1 * size <= r <= 0.7 * size and r >= arg // 2, ('resumed_from', r, 'partial was', arg)
elif mode == 'upto':
    assert r <= arg, ('resumed_from past the flipped byte', r, arg)
assert size - r <= b <= size - r + mib, ('bytes_sent', b, 'size - resumed_from', size - r)
s = objs[-1]
assert s['type'] == 'summary' and s['exit'] == 0, s
print(r, b)
PY
		fail "$1: --json: $(cat "$T/json.check") $(cat "$OUT")"
	read -r RESUMED SENT <"$T/json.check"
	note "$1: resumed_from $RESUMED ($((RESUMED * 100 / SIZE)) %), bytes_sent $SENT"
}

# flip FILE OFFSET: inverts the byte at OFFSET in FILE, in place.
flip() {
	python3 - "$1" "$2" <<'PY'
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(int(sys.argv[2]))
    b = f.read(1)
    f.seek(int(sys.argv[2]))
    f.write(bytes([b[0] ^ 0xff]))
PY
}

# --- push: killed at 100 MiB, resumed -------------------------------------
log_mark
interrupt push-kill "$INBOX" $((100 * MIB)) \
	"$FERRY" send --limit-rate 40M -i "$ID" "$T/src/big.bin" "$P"
after_push_kill push-kill big.bin
run "$FERRY" send --json -i "$ID" "$T/src/big.bin" "$P"
[[ $RC == 0 ]] || fail "push resume: exit $RC: $(cat "$ERR")"
check_json "push resume" big.bin resumed
log_new | grep -q "resuming big.bin at byte $RESUMED\$" ||
	fail "push resume: the server did not log resuming at $RESUMED: $(log_new)"
[[ $(sha "$INBOX/alice/big.bin") == "$WANT" ]] || fail "push resume: the inbox copy differs"
[[ -z $(part_files "$INBOX") ]] || fail "push resume: partials left: $(part_files "$INBOX")"

# --- get: killed at 100 MiB, resumed --------------------------------------
interrupt get-kill "$T/dl" $((100 * MIB)) \
	"$FERRY" get --limit-rate 40M -i "$ID" "$P:big.bin" -o "$T/dl"
[[ ! -e $T/dl/big.bin ]] || fail "get-kill: the final file appeared"
[[ $(resume_files "$T/dl" | wc -l) == 1 ]] || fail "get-kill: want one kept partial: $(resume_files "$T/dl")"
run "$FERRY" get --json -i "$ID" "$P:big.bin" -o "$T/dl"
[[ $RC == 0 ]] || fail "get resume: exit $RC: $(cat "$ERR")"
check_json "get resume" big.bin resumed
[[ $(sha "$T/dl/big.bin") == "$WANT" ]] || fail "get resume: the local copy differs"
[[ -z $(part_files "$T/dl") ]] || fail "get resume: partials left: $(part_files "$T/dl")"

# --- other interruptions: Ctrl-C (SIGINT), the connection cut ------------
# push_case NAME HOW WANT_EXIT: a push of NAME.bin interrupted at 50 MiB
# ($HOW), then resumed; get_case the same for a pull.
push_case() {
	local name=$1 want=$3
	ln "$T/src/big.bin" "$T/src/$name.bin"
	log_mark
	HOW=$2 interrupt "push-$name" "$INBOX" $((50 * MIB)) \
		"$FERRY" send --limit-rate 40M -i "$ID" "$T/src/$name.bin" "$P"
	[[ $WAIT_RC == "$want" ]] || defer_fail "push-$name: exit $WAIT_RC, want $want: $(cat "$T/push-$name.err")"
	HOW=$2 after_push_kill "push-$name" "$name.bin"
	run "$FERRY" send --json -i "$ID" "$T/src/$name.bin" "$P"
	[[ $RC == 0 ]] || fail "push-$name resume: exit $RC: $(cat "$ERR")"
	check_json "push-$name resume" "$name.bin" from "$PART_AT_KILL"
	[[ $(sha "$INBOX/alice/$name.bin") == "$WANT" ]] || fail "push-$name resume: the inbox copy differs"
	[[ -z $(part_files "$INBOX") ]] || fail "push-$name resume: partials left: $(part_files "$INBOX")"
	rm -f "$INBOX/alice/$name.bin" "$T/src/$name.bin"
}
get_case() {
	local name=$1 want=$3
	ln "$T/src/big.bin" "$SHARE/$name.bin"
	HOW=$2 interrupt "get-$name" "$T/dl" $((50 * MIB)) \
		"$FERRY" get --limit-rate 40M -i "$ID" "$P:$name.bin" -o "$T/dl"
	[[ $WAIT_RC == "$want" ]] || defer_fail "get-$name: exit $WAIT_RC, want $want: $(cat "$T/get-$name.err")"
	[[ ! -e $T/dl/$name.bin ]] || fail "get-$name: the final file appeared"
	[[ $(resume_files "$T/dl" | wc -l) == 1 ]] || fail "get-$name: want one kept partial: $(resume_files "$T/dl")"
	no_part_files "$T/dl" || fail "get-$name: temp files left: $(part_files "$T/dl")"
	run "$FERRY" get --json -i "$ID" "$P:$name.bin" -o "$T/dl"
	[[ $RC == 0 ]] || fail "get-$name resume: exit $RC: $(cat "$ERR")"
	check_json "get-$name resume" "$name.bin" from "$PART_AT_KILL"
	[[ $(sha "$T/dl/$name.bin") == "$WANT" ]] || fail "get-$name resume: the local copy differs"
	[[ -z $(part_files "$T/dl") ]] || fail "get-$name resume: partials left: $(part_files "$T/dl")"
	rm -f "$T/dl/$name.bin" "$SHARE/$name.bin"
}
push_case int INT 130
get_case int INT 130
push_case cut server 3
get_case cut server 3

# --- a file inside a tree (send -r, get -r), and get -o NEWNAME -----------
# The same command again resumes the big file of the tree; the small ones
# are up to date or sent.
mkdir -p "$T/src/tree/sub" "$SHARE/tree/sub"
printf 'small\n' >"$T/src/tree/small.txt"
ln "$T/src/big.bin" "$T/src/tree/sub/big.bin"
log_mark
interrupt push-tree "$INBOX" $((50 * MIB)) \
	"$FERRY" send -r --limit-rate 40M -i "$ID" "$T/src/tree" "$P"
after_push_kill push-tree tree/sub/big.bin
run "$FERRY" send -r --json -i "$ID" "$T/src/tree" "$P"
[[ $RC == 0 ]] || fail "push-tree resume: exit $RC: $(cat "$ERR")"
OUT_SAVE=$OUT
OUT=$T/tree-big.json
grep -v '"type":"dir"' "$OUT_SAVE" | grep -v 'small.txt' >"$OUT"
check_json "push-tree resume" big.bin from "$PART_AT_KILL"
OUT=$OUT_SAVE
[[ $(sha "$INBOX/alice/tree/sub/big.bin") == "$WANT" ]] || fail "push-tree resume: the inbox copy differs"
cmp -s "$T/src/tree/small.txt" "$INBOX/alice/tree/small.txt" || fail "push-tree resume: small.txt differs"
[[ -z $(part_files "$INBOX") ]] || fail "push-tree resume: partials left: $(part_files "$INBOX")"
rm -rf "$INBOX/alice/tree"

ln "$T/src/big.bin" "$SHARE/tree/sub/big.bin"
cp "$T/src/tree/small.txt" "$SHARE/tree/small.txt"
interrupt get-tree "$T/dl" $((50 * MIB)) \
	"$FERRY" get -r --limit-rate 40M -i "$ID" "$P:tree" -o "$T/dl"
[[ ! -e $T/dl/tree/sub/big.bin ]] || fail "get-tree: the final file appeared"
run "$FERRY" get -r --json -i "$ID" "$P:tree" -o "$T/dl"
[[ $RC == 0 ]] || fail "get-tree resume: exit $RC: $(cat "$ERR")"
OUT_SAVE=$OUT
OUT=$T/tree-big.json
grep -v '"type":"dir"' "$OUT_SAVE" | grep -v 'small.txt' >"$OUT"
check_json "get-tree resume" big.bin from "$PART_AT_KILL"
OUT=$OUT_SAVE
[[ $(sha "$T/dl/tree/sub/big.bin") == "$WANT" ]] || fail "get-tree resume: the local copy differs"
cmp -s "$SHARE/tree/small.txt" "$T/dl/tree/small.txt" || fail "get-tree resume: small.txt differs"
[[ -z $(part_files "$T/dl") ]] || fail "get-tree resume: partials left: $(part_files "$T/dl")"
rm -rf "$T/dl/tree"

interrupt get-rename "$T/dl" $((50 * MIB)) \
	"$FERRY" get --limit-rate 40M -i "$ID" "$P:big.bin" -o "$T/dl/renamed.bin"
[[ ! -e $T/dl/renamed.bin ]] || fail "get-rename: the final file appeared"
run "$FERRY" get --json -i "$ID" "$P:big.bin" -o "$T/dl/renamed.bin"
[[ $RC == 0 ]] || fail "get -o renamed.bin resume: exit $RC: $(cat "$ERR")"
check_json "get -o renamed.bin resume" renamed.bin from "$PART_AT_KILL"
[[ $(sha "$T/dl/renamed.bin") == "$WANT" ]] || fail "get -o renamed.bin resume: the local copy differs"
[[ -z $(part_files "$T/dl") ]] || fail "get -o renamed.bin resume: partials left: $(part_files "$T/dl")"
rm -f "$T/dl/renamed.bin"

# --- --no-resume: a kept partial is ignored and replaced ------------------
log_mark
interrupt push-nr "$INBOX" $((50 * MIB)) \
	"$FERRY" send --limit-rate 40M -i "$ID" "$T/src/nr.bin" "$P"
after_push_kill push-nr nr.bin
run "$FERRY" send --json --no-resume -i "$ID" "$T/src/nr.bin" "$P"
[[ $RC == 0 ]] || fail "push --no-resume: exit $RC: $(cat "$ERR")"
check_json "push --no-resume" nr.bin fresh
log_new | grep -q "resuming nr.bin" && fail "push --no-resume: the server resumed: $(log_new)"
[[ $(sha "$INBOX/alice/nr.bin") == "$WANT" ]] || fail "push --no-resume: the inbox copy differs"
[[ -z $(part_files "$INBOX") ]] || fail "push --no-resume: partials left: $(part_files "$INBOX")"

interrupt get-nr "$T/dl" $((50 * MIB)) \
	"$FERRY" get --limit-rate 40M -i "$ID" "$P:nr.bin" -o "$T/dl"
[[ ! -e $T/dl/nr.bin ]] || fail "get-nr: the final file appeared"
run "$FERRY" get --json --no-resume -i "$ID" "$P:nr.bin" -o "$T/dl"
[[ $RC == 0 ]] || fail "get --no-resume: exit $RC: $(cat "$ERR")"
check_json "get --no-resume" nr.bin fresh
[[ $(sha "$T/dl/nr.bin") == "$WANT" ]] || fail "get --no-resume: the local copy differs"
[[ -z $(part_files "$T/dl") ]] || fail "get --no-resume: partials left: $(part_files "$T/dl")"

# --- a tampered partial is not trusted ------------------------------------
# Push: a byte near the start of the server's partial flipped.
log_mark
interrupt push-tamper "$INBOX" $((50 * MIB)) \
	"$FERRY" send --limit-rate 40M -i "$ID" "$T/src/tamper.bin" "$P"
after_push_kill push-tamper tamper.bin
part=$(resume_files "$INBOX")
flip "$part" 4096
run "$FERRY" send --json -i "$ID" "$T/src/tamper.bin" "$P"
[[ $RC == 0 ]] || fail "push over a tampered partial: exit $RC: $(cat "$ERR")"
check_json "push over a tampered partial" tamper.bin upto 4096
[[ $(sha "$INBOX/alice/tamper.bin") == "$WANT" ]] || fail "push over a tampered partial: the inbox copy differs"
[[ -z $(part_files "$INBOX") ]] || fail "push over a tampered partial: partials left: $(part_files "$INBOX")"

# Get: a byte near the end of the local partial flipped.
interrupt get-tamper "$T/dl" $((50 * MIB)) \
	"$FERRY" get --limit-rate 40M -i "$ID" "$P:tamper.bin" -o "$T/dl"
part=$(resume_files "$T/dl")
psize=$(stat -c %s "$part")
flip "$part" $((psize - 10))
run "$FERRY" get --json -i "$ID" "$P:tamper.bin" -o "$T/dl"
[[ $RC == 0 ]] || fail "get over a tampered partial: exit $RC: $(cat "$ERR")"
check_json "get over a tampered partial" tamper.bin upto $((psize - 10))
[[ $(sha "$T/dl/tamper.bin") == "$WANT" ]] || fail "get over a tampered partial: the local copy differs"
[[ -z $(part_files "$T/dl") ]] || fail "get over a tampered partial: partials left: $(part_files "$T/dl")"

is_running "$SERVE_PID" || fail "serve died"
note "all of it took $(($(now_ms) - t_start)) ms"
finish
