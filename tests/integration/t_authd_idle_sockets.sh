#!/usr/bin/env bash
# t_authd_idle_sockets.sh - connections that never finish a TLS handshake
# cannot lock members out of ferry authd (issue 10): 320 idle sockets from
# 20 addresses (under the per-address cap of 16) and 50 trickled
# ClientHellos used to fill all 256 places, and a real enrollment waited.
# Now they share a handshake pool of their own (--max-startups,
# --per-source, --login-grace), and one turned away past the handshake
# because --max-conns are served gets a 503 saying authd is busy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"
have_python || skip "no python3"
FLOOD=$(dirname "$0")/flood.py

# A fresh log for each authd this test starts: $T/NAME.log.
start_named() {
	local name=$1
	shift
	start_daemon "$name" authd "$FERRY" authd "${ALLOW_ROOT[@]}" --ca-dir "$T/ca" \
		--listen 127.0.0.1:0 "$@"
	APORT=$PORT
	AUTHD_PID=$DAEMON_PID
	AUTHD_LOG=$T/$name.log
	URL=https://127.0.0.1:$APORT
	EST=$URL/.well-known/est
}

authd_org
start_named authd

# --- starvation: a real `ferry enroll` (several connections) under the flood.
python3 "$FLOOD" "$APORT" 20 --idle 320 --idle-from 2 --slow 50 \
	--slow-from 100 --per-addr 16 --ready "$T/ready" >"$T/flood.out" 2>&1 &
flood=$!
BG_PIDS+=("$flood")
wait_until 10 test -e "$T/ready" || fail "the flood did not start"
sleep 1
t0=$(now_ms)
enroll alice --timeout 8
ms=$(($(now_ms) - t0))
note "enrollment under the flood: $ms ms"
((ms < 8000)) || fail "enrollment under the flood took $ms ms"
t0=$(now_ms)
est_curl --interface 127.0.0.1 --max-time 5 "$EST/cacerts"
[[ $HTTP == 200 ]] || fail "cacerts under the flood: HTTP $HTTP"
note "cacerts under the flood: $(($(now_ms) - t0)) ms"
grep -Eq "refused [0-9]+ connections?: [0-9]+ handshakes under way|ended [0-9]+ handshakes? of the busiest" "$AUTHD_LOG" ||
	fail "no log line for the full handshake pool"
kill "$flood" 2>/dev/null || true
wait "$flood" 2>/dev/null || true
note "flood: $(cat "$T/flood.out")"
stop_pid "$AUTHD_PID"

# --- grace: a connection that says nothing is closed after --login-grace,
# well before the idle --timeout.
# And --per-source 2: a third from the same address is closed at once.
start_named grace --timeout 30 --login-grace 1 --per-source 2
python3 - "$APORT" >"$T/grace.out" <<'PY'
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
grep -q "127.0.0.9: refused 1 connection: 2 handshakes under way from one address (--per-source)" "$AUTHD_LOG" ||
	fail "no log line for the per-source cap"
grep -q "TLS handshake not done within 1 s: closed" "$AUTHD_LOG" ||
	fail "no log line for the grace time"
stop_pid "$AUTHD_PID"

# --- busy: --max-conns 1 and one TLS connection held open; the next
# request gets 503 with Retry-After, and ferry enroll says so.
start_named busy --max-conns 1 --timeout 10
python3 - "$APORT" "$T/held" <<'PY' &
import socket, ssl, sys, time
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
open(sys.argv[2], "w").write("held\n")
time.sleep(6)
PY
held=$!
BG_PIDS+=("$held")
wait_until 5 test -e "$T/held" || fail "the held connection did not start"
est_curl --max-time 5 "$EST/cacerts"
[[ $HTTP == 503 ]] || fail "authd full: HTTP $HTTP, want 503"
grep -qi "^Retry-After: 5" "$T/headers" || fail "503 without Retry-After"
grep -q "authd is busy (1 connections); try again later" "$OUT" ||
	fail "503 body: $(cat "$OUT")"
run "$FERRY" enroll "$URL" --user bob -i "$T/bob" --fingerprint "$FP" \
	--password-stdin <<<"bob-secret-pw"
[[ $RC == 5 ]] || fail "enroll against a busy authd: exit $RC, want 5: $(cat "$ERR")"
expect_one_line_err "enroll against a busy authd"
err_has "authd is busy \(1 connections\); try again later"
kill "$held" 2>/dev/null || true
wait "$held" 2>/dev/null || true
# A place is free again.
wait_until 5 eval 'est_curl --max-time 5 "$EST/cacerts"; [[ $HTTP == 200 ]]' ||
	fail "authd did not serve again after the held connection closed"
finish
