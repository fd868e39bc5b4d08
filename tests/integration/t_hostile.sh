#!/usr/bin/env bash
# t_hostile.sh - clients that send garbage, say nothing, or break the frame
# protocol after a valid handshake. The server drops each with a log line
# saying why, while a normal 10 MiB push and pull complete next to them;
# afterwards it is still alive, has no handler left over, and still serves.
. "$(dirname "$0")/lib.sh"

have_python || skip "needs python3 with the ssl module (ferrywire.py)"

org_init
start_serve --timeout 2
ID=$T/alice

# Frames (type u8, length u32 BE, payload), see src/lib/wire.c.
GARBAGE_FRAME=770000000568656c6c6f         # type 0x77: no such frame
OK_FRAME=400000002c$(printf '00%.0s' {1..44}) # well-formed, but a reply
HALF_FRAME=1100000064$(printf 'ab%.0s' {1..10}) # DATA of 100, 10 sent
HUGE_FRAME=11ffffffff                        # DATA of 4 GiB

# --- the hostile ones, all at once, in the background -------------------
start_wire() {
	local name=$1
	shift
	bg "$name" python3 "$WIRE" "$@"
	eval "PID_$name=\$BG_PID"
}
start_wire tcp_garbage tcp --send 1000 --hold 10 127.0.0.1 "$PORT"
start_wire tcp_idle tcp --hold 10 127.0.0.1 "$PORT"
start_wire tls_idle tls -i "$ID" --hold 10 127.0.0.1 "$PORT"
start_wire tls_garbage tls -i "$ID" --send-hex "$GARBAGE_FRAME" --hold 10 127.0.0.1 "$PORT"
start_wire hello_garbage tls -i "$ID" --hello --send-hex "$GARBAGE_FRAME" --hold 10 127.0.0.1 "$PORT"
start_wire unexpected tls -i "$ID" --hello --send-hex "$OK_FRAME" --hold 10 127.0.0.1 "$PORT"
start_wire half_frame tls -i "$ID" --hello --send-hex "$HALF_FRAME" --hold 10 127.0.0.1 "$PORT"
start_wire huge_frame tls -i "$ID" --hello --send-hex "$HUGE_FRAME" --hold 10 127.0.0.1 "$PORT"
hostile=(tcp_garbage tcp_idle tls_idle tls_garbage hello_garbage unexpected half_frame huge_frame)

# And a burst of raw garbage straight from bash, each closed at once.
for _ in $(seq 10); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT" && head -c 1000 /dev/urandom >&3) 2>/dev/null || true
done

connected() {
	grep -Eq '^(connected|handshake ok)' "$T/$1.out"
}
for h in tcp_idle tls_idle half_frame; do
	wait_until 5 connected "$h" || fail "$h never connected: $(cat "$T/$h.out" "$T/$h.err")"
done

# --- meanwhile, real work -------------------------------------------------
head -c $((10 * 1024 * 1024)) /dev/urandom >"$T/ten.bin"
want=$(sha "$T/ten.bin")
t0=$(now_ms)
expect_exit 0 "$FERRY" send -i "$ID" "$T/ten.bin" "bob@127.0.0.1:$PORT"
[[ $(sha "$T/inbox/alice/ten.bin") == "$want" ]] || fail "10 MiB push: hash differs"
ln "$T/ten.bin" "$T/share/ten.bin"
mkdir -p "$T/dl"
expect_exit 0 "$FERRY" get -i "$ID" "bob@127.0.0.1:$PORT:ten.bin" -o "$T/dl"
[[ $(sha "$T/dl/ten.bin") == "$want" ]] || fail "10 MiB pull: hash differs"
work_ms=$(($(now_ms) - t0))
still=0
for h in tcp_idle tls_idle; do
	grep -q '^CLOSED' "$T/$h.out" || still=$((still + 1))
done
note "10 MiB push + pull took $work_ms ms; $still idle client(s) still connected when done"

# --- how each hostile client was dealt with -----------------------------
for h in "${hostile[@]}"; do
	pid_var=PID_$h
	wait_exit "${!pid_var}" 15 || fail "$h: still running 15 s later"
	[[ $WAIT_RC == 0 ]] || fail "$h: ferrywire exit $WAIT_RC: $(cat "$T/$h.out" "$T/$h.err")"
	grep -q '^CLOSED' "$T/$h.out" || fail "$h: the server did not close the connection: $(cat "$T/$h.out")"
	note "$h: $(tr '\n' ' ' <"$T/$h.out")"
done

# closed_after NAME MIN MAX: the server hung up between MIN and MAX s.
closed_after() {
	local s
	s=$(sed -n 's/^CLOSED after \([0-9.]*\) s.*/\1/p' "$T/$1.out")
	awk -v s="$s" -v lo="$2" -v hi="$3" 'BEGIN { exit !(s != "" && s >= lo && s <= hi) }' ||
		fail "$1: closed after '$s' s, want $2..$3 s (--timeout 2)"
}
closed_after tcp_idle 1.5 6
closed_after tls_idle 1.5 6
closed_after half_frame 1.5 6
closed_after tcp_garbage 0 1.9
closed_after tls_garbage 0 1.9
closed_after hello_garbage 0 1.9
closed_after huge_frame 0 1.9
grep -q '^HELLO version=1' "$T/hello_garbage.out" || fail "hello_garbage: no HELLO answer: $(cat "$T/hello_garbage.out")"
# A well-formed frame out of place is answered with ERR (protocol error) first.
grep -Eq '^ERR id=0 code=60 .*unexpected OK frame' "$T/unexpected.out" ||
	fail "unexpected OK frame: want ERR code=60 before the close: $(cat "$T/unexpected.out")"

# The server said why, for each.
log_has 'TLS handshake failed: .*is not speaking TLS'
log_has 'TLS handshake failed: .*(no answer for|not finished within) 2 s'
log_has 'alice@.*(ended|closed) after .*no answer for 2 s'
log_has 'alice@.*ended after .*(unknown frame type 0x77|protocol)'
log_has 'alice@.*ended after .*unexpected OK frame'
log_has 'alice@.*ended after .*DATA frame of 4294967295 bytes exceeds the limit'
[[ $(grep -c 'TLS handshake failed' "$SERVE_LOG") -ge 12 ]] ||
	fail "want >= 12 failed handshakes logged (garbage, idle, 10 bash bursts): $(grep -c 'TLS handshake failed' "$SERVE_LOG")"
! grep -Eq 'died of signal|error:' "$SERVE_LOG" || fail "serve logged: $(grep -E 'died of signal|error:' "$SERVE_LOG")"

# --- the server is fine ---------------------------------------------------
is_running "$SERVE_PID" || fail "serve died"
handlers() {
	[[ -z $(ps -o pid= --ppid "$SERVE_PID") ]]
}
wait_until 5 handlers || fail "connection handlers left over: $(ps -o pid,etime,cmd --ppid "$SERVE_PID")"
printf 'after the storm\n' >"$T/final.txt"
expect_exit 0 "$FERRY" send -i "$ID" "$T/final.txt" "bob@127.0.0.1:$PORT"
cmp -s "$T/final.txt" "$T/inbox/alice/final.txt" || fail "final push: file differs"
no_part_files "$T/inbox" "$T/dl" || fail "temp files left: $(part_files "$T/inbox" "$T/dl")"
stop_pid "$SERVE_PID" TERM
[[ $WAIT_RC == 0 ]] || fail "serve exited $WAIT_RC on SIGTERM"

finish "push+pull of 10 MiB next to 18 hostile clients: $work_ms ms"
