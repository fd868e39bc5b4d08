#!/usr/bin/env bash
# t_attack_idle_sockets.sh - connections that never finish a handshake
# cannot lock members out of ferry serve (issue 10): they have a pool of
# their own (--max-startups), a cap per address (--per-source) and a grace
# time (--login-grace); sessions count against --max-conns alone, and a
# client turned away because --max-conns sessions run is told "busy".
. "$(dirname "$0")/lib.sh"
have_python || skip "no python3"
FLOOD=$(dirname "$0")/flood.py

org_init
head -c $((10 << 20)) /dev/urandom >"$T/ten.bin"
start_serve --timeout 5
MAIN_PORT=$PORT

# --- starvation: 300 idle sockets from 20 addresses plus 50 handshakes
# trickled byte by byte from 4 more, held for up to 20 s.
python3 "$FLOOD" "$PORT" 20 --idle 300 --idle-from 2 --slow 50 \
	--slow-from 100 --per-addr 15 --ready "$T/ready" >"$T/flood.out" 2>&1 &
flood=$!
BG_PIDS+=("$flood")
wait_until 10 test -e "$T/ready" || fail "the flood did not start"
sleep 1
for i in 1 2 3; do
	t0=$(now_ms)
	expect_exit 0 "$FERRY" send --timeout 5 -i "$T/alice" "$T/ten.bin" \
		"bob@127.0.0.1:$PORT"
	ms=$(($(now_ms) - t0))
	note "10 MiB push $i under the flood: $ms ms"
	((ms < 15000)) || fail "push $i under the flood took $ms ms"
	cmp -s "$T/ten.bin" "$T/inbox/alice/ten.bin" || fail "push $i: the copy differs"
	rm -f "$T/inbox/alice/ten.bin"
done
grep -Eq "refused [0-9]+ connections?: [0-9]+ handshakes under way|ended [0-9]+ handshakes? of the busiest" "$SERVE_LOG" ||
	fail "no log line for the full handshake pool: $(tail -5 "$SERVE_LOG")"
kill "$flood" 2>/dev/null || true
wait "$flood" 2>/dev/null || true

# --- grace: a connection that says nothing is closed after --login-grace;
# with --per-source 2 a third from the same address is closed at once.
SERVE_NAME=grace start_serve --login-grace 1 --per-source 2
python3 - "$PORT" >"$T/grace.out" <<'PY'
import socket, sys, time
conns = []
for i in range(3):
    s = socket.socket()
    s.bind(("127.0.0.9", 0))
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.settimeout(8)
    conns.append(s)
    time.sleep(0.1)
t0 = time.time()
out = []
for s in reversed(conns):
    try:
        s.recv(1)
    except OSError:
        pass
    out.append("%.1f" % (time.time() - t0))
print(" ".join(out))
PY
read -r third second first <"$T/grace.out"
note "idle connections closed after $first, $second, $third s (--login-grace 1, --per-source 2)"
awk -v s="$third" 'BEGIN { exit !(s < 0.5) }' || fail "--per-source 2: the third was closed after $third s"
awk -v s="$first" 'BEGIN { exit !(s > 0.5 && s < 3) }' || fail "--login-grace 1: closed after $first s"
grep -q "127.0.0.9: refused 1 connection: 2 handshakes under way from one address (--per-source)" "$T/grace.log" ||
	fail "no log line for the per-source cap"
stop_pid "$DAEMON_PID"
PORT=$MAIN_PORT

# --- churn: every socket the server closes is opened again at once, from
# 10 addresses, for 8 s; pushes with --timeout 5 still go through.
python3 "$FLOOD" "$PORT" 8 --idle 100 --per-addr 10 --churn \
	--ready "$T/ready2" >"$T/churn.out" 2>&1 &
flood=$!
BG_PIDS+=("$flood")
wait_until 10 test -e "$T/ready2" || fail "the churn did not start"
sleep 1
failed=0
for i in 1 2 3 4 5 6; do
	run "$FERRY" send --timeout 5 -i "$T/alice" "$T/ten.bin" "bob@127.0.0.1:$PORT"
	[[ $RC == 0 ]] || {
		failed=$((failed + 1))
		note "push $i under churn: exit $RC: $(cat "$ERR")"
	}
	rm -f "$T/inbox/alice/ten.bin"
done
kill "$flood" 2>/dev/null || true
wait "$flood" 2>/dev/null || true
note "churn: $(cat "$T/churn.out"); $failed of 6 pushes failed"
[[ $failed == 0 ]] || fail "$failed of 6 pushes failed under churn"

# --- echo-server: the same flood; a real echo still comes back at once,
# and with --max-conns 1 taken the next client reads that it is busy.
start_daemon echo echo-server "$FERRY" echo-server -i "$T/bob" \
	--listen 127.0.0.1:0 --timeout 5 --max-conns 1
EPORT=$PORT
python3 "$FLOOD" "$EPORT" 15 --idle 300 --idle-from 2 --slow 50 \
	--slow-from 100 --per-addr 15 --ready "$T/ready3" >"$T/flood3.out" 2>&1 &
flood=$!
BG_PIDS+=("$flood")
wait_until 10 test -e "$T/ready3" || fail "the echo flood did not start"
sleep 1
for i in 1 2 3; do
	t0=$(now_ms)
	printf 'hello %s\n' "$i" >"$T/echo.in"
	run "$FERRY" echo --timeout 8 -i "$T/alice" "127.0.0.1:$EPORT" <"$T/echo.in"
	ms=$(($(now_ms) - t0))
	note "echo $i under the flood: $ms ms"
	[[ $RC == 0 && $(cat "$OUT") == "hello $i" ]] || fail "echo $i under the flood: exit $RC: $(cat "$ERR")"
	((ms < 10000)) || fail "echo $i under the flood took $ms ms"
done
kill "$flood" 2>/dev/null || true
wait "$flood" 2>/dev/null || true
# One session held open (its stdin stays open 6 s), then a second client.
(sleep 6 | timeout 10 "$FERRY" echo -i "$T/alice" "127.0.0.1:$EPORT" \
	>"$T/held.out" 2>"$T/held.err") &
hold=$!
BG_PIDS+=("$hold")
wait_until 5 grep -q "connected to" "$T/held.err" || fail "the held echo did not connect"
printf 'second\n' >"$T/echo.in"
expect_exit 5 "$FERRY" echo -i "$T/alice" "127.0.0.1:$EPORT" <"$T/echo.in"
err_has "did not echo; it said: ferry echo-server: busy \(1 sessions\); try again later"
[[ ! -s $OUT ]] || fail "echo to a busy echo-server printed: $(cat "$OUT")"
grep -q "turned away: 1 sessions already (--max-conns)" "$T/echo.log" ||
	fail "echo-server: no log line for the busy refusal"
wait "$hold" 2>/dev/null || true

# --- busy: with --max-conns 1 and one session running, the next client is
# told so in one line, exit 5 (refused), not a TLS failure.
SERVE_NAME=busy start_serve --max-conns 1
bg slow "$FERRY" send --limit-rate 4M -i "$T/alice" "$T/ten.bin" "bob@127.0.0.1:$PORT"
slow=$BG_PID
wait_until 5 eval 'ls -A "$T/inbox" | grep -q .' || fail "the slow push did not start"
expect_exit 5 "$FERRY" send -i "$T/alice" "$T/ten.bin" "bob@127.0.0.1:$PORT"
expect_one_line_err "send to a busy server"
err_has "bob is busy \(1 sessions\); try again later" "send to a busy server"
grep -q "turned away: 1 sessions already (--max-conns)" "$T/busy.log" ||
	fail "no log line for the busy refusal"
wait_exit "$slow" 20 || fail "the slow push did not end"
[[ $WAIT_RC == 0 ]] || fail "the slow push failed: $(cat "$T/slow.err")"
# Its place is free again.
rm -f "$T/inbox/alice/ten.bin"
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/ten.bin" "bob@127.0.0.1:$PORT"
finish
