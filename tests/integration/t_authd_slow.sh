#!/usr/bin/env bash
# t_authd_slow.sh - clients that trickle bytes cannot lock others out of
# authd: one address holds at most 16 connections, and no connection lives
# longer than three --timeout periods however slowly it sends.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"
command -v python3 >/dev/null || skip "no python3"

authd_org
start_authd --timeout 2 --max-conns 64

# 24 connections from 127.0.0.2, each sending one byte every 0.4 s: never
# idle long enough for the idle timeout. Reports how many authd cut and when.
python3 - "$APORT" >"$T/trickle.out" 2>&1 <<'PY' &
import socket, ssl, sys, time
port = int(sys.argv[1])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
conns = []
for i in range(24):
    raw = socket.socket()
    raw.bind(("127.0.0.2", 0))
    raw.settimeout(3)
    try:
        raw.connect(("127.0.0.1", port))
        s = ctx.wrap_socket(raw)  # a real TLS client, then a slow request
        s.settimeout(0.05)
        s.send(b"GET /.well-known/est/cacerts HTTP/1.1\r\nX-Slow: ")
        conns.append([s, None])
    except (OSError, ssl.SSLError):
        conns.append([raw, 0.0])  # refused at once
t0 = time.time()
while time.time() - t0 < 15 and any(c[1] is None for c in conns):
    for c in conns:
        if c[1] is not None:
            continue
        try:
            c[0].send(b"a")
            if c[0].recv(1) == b"":
                c[1] = time.time() - t0
        except (socket.timeout, ssl.SSLWantReadError):
            pass
        except (OSError, ssl.SSLError):
            c[1] = time.time() - t0
    time.sleep(0.4)
cut = [c[1] for c in conns if c[1] is not None]
print(f"opened {len(conns)} cut {len(cut)} early {sum(1 for t in cut if t < 1.5)} "
      f"last {max(cut) if cut else -1:.1f}")
PY
trickle=$!
BG_PIDS+=("$trickle")
sleep 1
# Meanwhile everyone else is served.
for _ in 1 2 3; do
	est_curl --interface 127.0.0.1 "$EST/cacerts"
	[[ $HTTP == 200 ]] || fail "authd did not serve 127.0.0.1 while 127.0.0.2 trickled (HTTP $HTTP)"
done
wait "$trickle" || true
note "$(cat "$T/trickle.out")"
read -r _ opened _ cut _ early _ last <"$T/trickle.out"
[[ $opened == 24 ]] || fail "trickler: $(cat "$T/trickle.out")"
# Those over the per-address cap are cut at once, the rest by the deadline.
((early >= 8)) || fail "connections over the per-address cap were not refused: $(cat "$T/trickle.out")"
[[ $cut == 24 ]] || fail "trickling connections outlived the deadline: $(cat "$T/trickle.out")"
grep -q "connections open from one address" "$AUTHD_LOG" || fail "no log line for the per-address cap"
grep -q "connection open for 6 s: closed" "$AUTHD_LOG" || fail "no log line for the deadline"
est_curl "$EST/cacerts"
[[ $HTTP == 200 ]] || fail "authd stopped serving (HTTP $HTTP)"
