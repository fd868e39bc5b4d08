#!/usr/bin/env bash
# t_echo.sh - the TLS echo diagnostic: ferry echo-server against
# openssl s_client and against ferry echo; --upper; --require-client-cert.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || skip "no openssl command"

org_init
CA=$T/ca/ca.pem
start_daemon echo echo-server "$FERRY" echo-server -i "$T/bob" --listen 127.0.0.1:0 --timeout 10
EPORT=$PORT
EPID=$DAEMON_PID
ELOG=$T/echo.log
start_daemon upper echo-server "$FERRY" echo-server -i "$T/bob" --listen 127.0.0.1:0 --upper --timeout 10
UPORT=$PORT
UPID=$DAEMON_PID
start_daemon strict echo-server "$FERRY" echo-server -i "$T/bob" --listen 127.0.0.1:0 --require-client-cert --timeout 10
SPORT=$PORT
SPID=$DAEMON_PID
SLOG=$T/strict.log

lines=$'hello\nFerry echo 123\nworld\n'

# --- openssl s_client, verifying bob against our CA ----------------------
log_mark "$ELOG"
s_client "$lines" '^world$' -connect "127.0.0.1:$EPORT" -CAfile "$CA" \
	-verify_return_error -verify_ip 127.0.0.1
[[ $(cat "$OUT") == "${lines%$'\n'}" ]] || fail "s_client echo: got $(od -c "$OUT" | head -n 5); stderr: $(cat "$ERR")"
[[ $RC == 0 ]] || fail "s_client echo: exit $RC: $(cat "$ERR")"
wait_log 'closed after .*: 3 lines echoed' "$ELOG"

s_client "$lines" '^WORLD$' -connect "127.0.0.1:$UPORT" -CAfile "$CA" -verify_return_error
[[ $(cat "$OUT") == $'HELLO\nFERRY ECHO 123\nWORLD' ]] || fail "s_client --upper: got $(cat "$OUT"); stderr: $(cat "$ERR")"

# --- ferry echo ------------------------------------------------------------
run_echo() {
	local port=$1 input=$2
	shift 2
	RC=0
	printf '%s' "$input" | timeout -k 5 "$CMD_TIMEOUT" "$FERRY" echo "$@" "127.0.0.1:$port" \
		>"$OUT" 2>"$ERR" || RC=$?
}
run_echo "$EPORT" "$lines" -i "$T/alice"
[[ $RC == 0 ]] || fail "ferry echo: exit $RC: $(cat "$ERR")"
[[ $(cat "$OUT") == "${lines%$'\n'}" ]] || fail "ferry echo: stdout: $(cat "$OUT")"
err_has 'TLSv1\.3' "ferry echo (protocol on stderr)"
err_has 'TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)' "ferry echo (cipher on stderr)"
err_has 'CN *= *bob|member bob' "ferry echo (peer on stderr)"
grep -q 'hello' "$ERR" && fail "ferry echo: replies went to stderr: $(cat "$ERR")"

run_echo "$UPORT" "$lines" -i "$T/alice"
[[ $RC == 0 && $(cat "$OUT") == $'HELLO\nFERRY ECHO 123\nWORLD' ]] || fail "ferry echo --upper: exit $RC: $(cat "$OUT" "$ERR")"

# A line longer than the server's line buffer (16 KiB) comes back whole.
long=$(head -c 30000 /dev/zero | tr '\0' 'q')
run_echo "$EPORT" "$long"$'\n' -i "$T/alice"
[[ $RC == 0 && $(cat "$OUT") == "$long" ]] || fail "ferry echo of a 30000-byte line: exit $RC, got $(wc -c <"$OUT") bytes: $(cat "$ERR")"

# A last line without a newline still comes back (the server echoes it at
# end of input). --timeout 3 bounds the wait if nobody sends that end.
run_echo "$EPORT" "no newline" -i "$T/alice" --timeout 3
[[ $RC == 0 && $(cat "$OUT") == "no newline" ]] ||
	defer_fail "printf 'no newline' | ferry echo: want 'no newline' back and exit 0; got exit $RC, stdout '$(cat "$OUT")', stderr: $(tail -n 1 "$ERR")"

# The echo client checks the server like any ferry client.
"$FERRY" ca init --dir "$T/ca2" >/dev/null
"$FERRY" ca issue --dir "$T/ca2" --name eve --out "$T/eve" >/dev/null
run_echo "$EPORT" "x"$'\n' -i "$T/eve"
[[ $RC == 4 ]] || fail "ferry echo to a server of another CA: exit $RC, want 4: $(cat "$ERR")"
[[ ! -s $OUT ]] || fail "ferry echo to an untrusted server printed: $(cat "$OUT")"

# --- --require-client-cert -------------------------------------------------
log_mark "$SLOG"
s_client "$lines" '^world$' -connect "127.0.0.1:$SPORT" -CAfile "$CA" -verify_return_error
[[ ! -s $OUT ]] || fail "--require-client-cert: s_client without a certificate got: $(cat "$OUT")"
grep -qi 'alert certificate required' "$ERR" || fail "--require-client-cert: no 'certificate required' alert: $(cat "$ERR")"
[[ $RC != 0 ]] || fail "--require-client-cert: s_client without a certificate exited 0"
wait_log 'TLS handshake failed' "$SLOG"

s_client "$lines" '^world$' -connect "127.0.0.1:$SPORT" -CAfile "$CA" -verify_return_error \
	-cert "$T/alice/cert.pem" -key "$T/alice/key.pem"
[[ $(cat "$OUT") == "${lines%$'\n'}" ]] || fail "--require-client-cert with alice's cert: got $(cat "$OUT"); stderr: $(cat "$ERR")"
wait_log 'alice@.*closed after .*3 lines echoed' "$SLOG"

# A certificate from another CA is not good enough either.
log_mark "$SLOG"
s_client "$lines" '^world$' -connect "127.0.0.1:$SPORT" -CAfile "$CA" \
	-cert "$T/eve/cert.pem" -key "$T/eve/key.pem"
[[ ! -s $OUT ]] || fail "--require-client-cert: a foreign certificate got: $(cat "$OUT")"
wait_log 'TLS handshake failed.*CN=eve' "$SLOG"

run_echo "$SPORT" "$lines" -i "$T/alice"
[[ $RC == 0 && $(cat "$OUT") == "${lines%$'\n'}" ]] || fail "ferry echo with alice to --require-client-cert: exit $RC: $(cat "$OUT" "$ERR")"

# An identity with only ca.pem: fine for the plain server, refused by the strict one.
mkdir -m 700 "$T/anon"
cp "$CA" "$T/anon/ca.pem"
run_echo "$EPORT" "$lines" -i "$T/anon"
[[ $RC == 0 && $(cat "$OUT") == "${lines%$'\n'}" ]] || fail "ferry echo without a certificate: exit $RC: $(cat "$OUT" "$ERR")"
run_echo "$SPORT" "$lines" -i "$T/anon"
[[ $RC == 4 ]] || fail "ferry echo without a certificate to --require-client-cert: exit $RC, want 4: $(cat "$ERR")"
err_has 'requires a client certificate' "ferry echo without a certificate to --require-client-cert"

for pid in "$EPID" "$UPID" "$SPID"; do
	is_running "$pid" || fail "an echo-server died"
	stop_pid "$pid" TERM
	[[ $WAIT_RC == 0 ]] || fail "echo-server exited $WAIT_RC on SIGTERM"
done

finish
