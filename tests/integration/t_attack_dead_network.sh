#!/usr/bin/env bash
# t_attack_dead_network.sh - a network that goes silent mid-push (a
# laptop lid closed, Wi-Fi gone: faultproxy.py black-holes the connection
# after 3 MiB, never closing it) must not stop the next run from resuming.
# The client gives up after --timeout 2 with one line and exit 3, while
# serve's session for it is still waiting on the dead connection, holding
# the partial's lock. The next send of the same file, straight to serve,
# resumes from the partial (resumed_from >= 1 MiB, serve logs that it took
# the partial over from the idle session), the file arrives verified, and
# no partial stays beside it. serve answers others throughout. Then: a
# partial whose writer is still alive (a push throttled to 1 MB/s) is not
# taken, the other push of the same file finishes from byte 0, and once
# the slow push is cut its partial, superseded by the finished file, is
# removed instead of kept for ever. serve's socket has TCP keepalive on
# (ss shows its timer; t_faults checks the client's).
. "$(dirname "$0")/lib.sh"

have_python || skip "no python3"
org_init
start_serve
ID=$T/alice
MIB=$((1024 * 1024))
head -c $((8 * MIB)) /dev/urandom >"$T/big.bin"
WANT=$(sha "$T/big.bin")
PROXY=$LIB_DIR/faultproxy.py

# proxy NAME ARGS...: faultproxy.py in front of serve; its port in PPORT.
proxy() {
	local name=$1
	shift
	bg "$name" python3 "$PROXY" --target "127.0.0.1:$PORT" "$@"
	PROXY_PID=$BG_PID
	wait_until 5 grep -qs 'listening on' "$T/$name.out" || fail "$name did not start: $(cat "$T/$name.err")"
	PPORT=$(sed -n 's/^listening on //p' "$T/$name.out")
}

server_children() {
	cat /proc/"$SERVE_PID"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+$' || true
}

partial_at_least() {
	[[ $(find "$INBOX/alice" -name '.ferry-resume-*.part' -size +"$1"k 2>/dev/null) ]]
}

# 1. The lid closes after 3 MiB.
proxy hole --fault blackhole --after $((3 * MIB)) --dir c2s
t0=$(now_ms)
expect_exit 3 "$FERRY" send -i "$ID" --timeout 2 "$T/big.bin" "bob@127.0.0.1:$PPORT"
expect_one_line_err "send over a dead network"
note "dead network: $(cat "$ERR") ($(($(now_ms) - t0)) ms)"
[[ $(($(now_ms) - t0)) -lt 10000 ]] || fail "the client took over 10 s to give up with --timeout 2"
grep -q '^blackhole' "$T/hole.err" || fail "the proxy never black-holed: $(cat "$T/hole.err")"
[[ ! -e $INBOX/alice/big.bin ]] || fail "big.bin appeared under its final name"
partial_at_least 1024 || fail "no partial of 1 MiB kept in the inbox: $(resume_files "$INBOX")"
[[ -n $(server_children) ]] || fail "serve's session ended at once (inconclusive: nothing to take over)"

# Its socket probes the peer (keepalive, tied to --timeout), so on a real
# dead network the kernel ends it in about the timeout.
if command -v ss >/dev/null; then
	ss -tno state established "( sport = :$PORT )" | grep -q 'timer:(keepalive' ||
		fail "serve's connection has no keepalive timer: $(ss -tno state established "( sport = :$PORT )")"
fi

# serve still answers others while that session waits on the dead network.
expect_exit 0 "$FERRY" ls -i "$ID" --timeout 5 "bob@127.0.0.1:$PORT"

# 2. Back online: the same file again, straight to serve.
log_mark
expect_exit 0 "$FERRY" send -i "$ID" --json --timeout 5 "$T/big.bin" "bob@127.0.0.1:$PORT"
from=$(sed -n 's/.*"resumed_from":\([0-9]*\).*/\1/p' "$OUT" | head -n1)
note "second send: resumed_from ${from:-?}"
[[ -n $from && $from -ge $MIB ]] ||
	fail "the second send did not resume (resumed_from ${from:-none}): $(cat "$OUT" "$ERR"; log_new)"
[[ $(sha "$INBOX/alice/big.bin") == "$WANT" ]] || fail "the inbox copy differs"
log_new | grep -q 'took its partial file over from an idle session' ||
	fail "serve did not say it took the partial over: $(log_new)"
wait_until 5 eval '[[ -z $(resume_files "$INBOX") ]]' ||
	fail "a partial stays beside the finished file: $(resume_files "$INBOX")"
no_part_files "$INBOX" || fail "temporary files left: $(part_files "$INBOX")"
stop_pid "$PROXY_PID"

# 3. A live writer keeps its partial; a finished file supersedes it.
rm -f "$INBOX/alice/big.bin"
proxy slow --fault throttle --rate 1000000
bg slowsend "$FERRY" send -i "$ID" --timeout 5 "$T/big.bin" "bob@127.0.0.1:$PPORT"
SLOW=$BG_PID
wait_until 10 partial_at_least 1024 || fail "the throttled push made no partial: $(cat "$T/slowsend.err")"
log_mark
expect_exit 0 "$FERRY" send -i "$ID" --json --timeout 10 "$T/big.bin" "bob@127.0.0.1:$PORT"
grep -q '"resumed_from":0' "$OUT" || fail "the second push took a live push's partial: $(cat "$OUT")"
[[ $(sha "$INBOX/alice/big.bin") == "$WANT" ]] || fail "the inbox copy differs (live race)"
if log_new | grep -q 'took its partial file over'; then
	fail "serve ended a session that was still receiving: $(log_new)"
fi
is_running "$SLOW" || fail "the throttled push ended early (inconclusive): $(cat "$T/slowsend.err")"
# Cut the slow one: its session sees the finished file and drops the part.
stop_pid "$PROXY_PID" KILL
wait_exit "$SLOW" 10 || fail "the throttled push still runs after its proxy died"
wait_until 10 eval '[[ -z $(resume_files "$INBOX") ]]' ||
	fail "the superseded partial was kept: $(resume_files "$INBOX"); $(log_new)"
log_new | grep -q 'arrived meanwhile; its partial file is removed' || fail "serve did not log the superseded partial: $(log_new)"
[[ $(sha "$INBOX/alice/big.bin") == "$WANT" ]] || fail "the finished file was touched"
no_part_files "$INBOX" || fail "temporary files left: $(part_files "$INBOX")"
finish
