#!/usr/bin/env bash
# t_auth_reasons.sh - a refused handshake says why, on both sides (issue 10):
# a client certificate that names no member, and a certificate not valid
# yet, each told to the side whose certificate it is (not just "handshake
# failure" or "bad certificate") and logged by the side that refused it;
# a server that drops a connection before TLS is reported as such; and the
# daemon's log says "TLS handshake failed" once.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip "no openssl command"

org_init
start_serve
MAIN_PORT=$PORT
printf 'payload\n' >"$T/f.txt"

# --- a client certificate from our CA that names no member (no ferry: URI)
mkdir -m 700 "$T/nomember"
cp "$T/ca/ca.pem" "$T/nomember/ca.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$T/nomember/key.pem" 2>/dev/null
chmod 600 "$T/nomember/key.pem"
openssl req -new -key "$T/nomember/key.pem" -subj /CN=nomember \
	-out "$T/nomember.csr" 2>/dev/null
printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
	'keyUsage=critical,digitalSignature' \
	'extendedKeyUsage=serverAuth,clientAuth' \
	'subjectAltName=DNS:nomember.example' >"$T/nomember.ext"
openssl x509 -req -in "$T/nomember.csr" -CA "$T/ca/ca.pem" -CAkey "$T/ca/ca.key" \
	-set_serial 4242 -days 5 -extfile "$T/nomember.ext" \
	-out "$T/nomember/cert.pem" 2>/dev/null || fail "cannot make the no-member certificate"
log_mark
expect_exit 4 "$FERRY" send -i "$T/nomember" "$T/f.txt" "bob@127.0.0.1:$PORT"
expect_one_line_err "certificate without a member"
err_has "rejected our certificate \(handshake failure\): ours names no ferry member" \
	"certificate without a member"
wait_log 'client certificate \(CN=nomember\) names no ferry member'

# --- a client certificate not valid yet
issue early --not-before 2030-01-01 --not-after 2030-02-01
log_mark
expect_exit 4 "$FERRY" send -i "$T/early" "$T/f.txt" "bob@127.0.0.1:$PORT"
expect_one_line_err "client certificate not valid yet"
err_has "rejected our certificate \(bad certificate\): ours is not valid before .*2030" \
	"client certificate not valid yet"
wait_log 'client certificate \(CN=early\) is not valid before .*2030'

# --- the same on the server's side: the client says why, serve learns it
issue bob-early --ip 127.0.0.1 --not-before 2030-01-01 --not-after 2030-02-01
SERVE_ID=$T/bob-early SERVE_NAME=serve-early start_serve
expect_exit 4 "$FERRY" send -i "$T/alice" "$T/f.txt" "127.0.0.1:$PORT"
err_has 'server certificate \(CN=bob-early\) is not valid before .*2030' "server not valid yet"
wait_until 5 grep -q "rejected our certificate (bad certificate): ours is not valid before .*2030" \
	"$T/serve-early.log" || fail "serve did not log why its certificate was refused: $(tail -3 "$T/serve-early.log")"
stop_pid "$SERVE_PID"

# --- dropped before TLS (the handshake pool is full): said so, exit 3
SERVE_NAME=serve-full start_serve --max-startups 1 --per-source 1
python3 - "$PORT" "$T/held" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").write("held\n")
time.sleep(4)
PY
held=$!
BG_PIDS+=("$held")
wait_until 5 test -e "$T/held" || fail "the idle connection did not start"
sleep 0.3
expect_exit 3 "$FERRY" send -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$PORT"
expect_one_line_err "dropped before TLS"
err_has "closed the connection during the TLS handshake \(it may be too busy to start one; try again later\)" \
	"dropped before TLS"
kill "$held" 2>/dev/null || true
wait "$held" 2>/dev/null || true
wait_until 5 grep -q "TLS handshake failed: the client closed the connection during the TLS handshake" \
	"$T/serve-full.log" || fail "no log line for the idle client's close: $(tail -3 "$T/serve-full.log")"

# --- a malformed ClientHello (OpenSSL's own reason): logged with the
# words "TLS handshake failed" once
python3 - "$MAIN_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
# A ClientHello record whose handshake length disagrees with the record's.
s.sendall(bytes([0x16, 0x03, 0x01, 0x00, 0x06, 0x01, 0x00, 0x00, 0x02, 0x03, 0x03]))
s.settimeout(3)
try:
    s.recv(100)
except OSError:
    pass
PY
wait_until 5 grep -q "TLS handshake failed: .*length mismatch" "$T/serve.log" ||
	fail "no log line for the malformed ClientHello: $(tail -3 "$T/serve.log")"

# --- no log line says it twice
for log in "$SERVE_LOG" "$T/serve.log" "$T/serve-early.log"; do
	grep -q "TLS handshake failed: TLS handshake failed" "$log" &&
		fail "doubled prefix in $log: $(grep -m1 'TLS handshake failed: TLS handshake failed' "$log")"
	grep -Eq "TLS handshake failed: 127\.0\.0\.1:[0-9]+" "$log" &&
		fail "the address said twice in $log: $(grep -m1 -E 'TLS handshake failed: 127' "$log")"
done
grep -q "TLS handshake failed" "$T/serve.log" || fail "no handshake failure logged at all"
PORT=$MAIN_PORT
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$PORT"
finish
