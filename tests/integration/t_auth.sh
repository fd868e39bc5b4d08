#!/usr/bin/env bash
# t_auth.sh - mutual authentication: who is turned away, with which exit code
# and message, on which side; and the server keeps serving afterwards.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || skip "no openssl command"

org_init
start_serve
BOB_PORT=$PORT
BOB_LOG=$SERVE_LOG
BOB_PID=$SERVE_PID
printf 'payload\n' >"$T/f.txt"

# inbox_empty: nothing at all was written into the inbox.
inbox_empty() {
	[[ -z $(find "$T/inbox" -mindepth 1 -print -quit) ]] ||
		fail "$1: the inbox is not empty: $(find "$T/inbox" -mindepth 1)"
}

# --- a client from another organization --------------------------------
"$FERRY" ca init --dir "$T/ca2" --name "Other Org Root CA" >/dev/null
"$FERRY" ca issue --dir "$T/ca2" --name mallory --out "$T/mallory" >/dev/null
# mallory trusts our CA (so she accepts bob) but her certificate is foreign.
cp "$T/ca/ca.pem" "$T/mallory/ca.pem"
log_mark
expect_exit 4 "$FERRY" send -i "$T/mallory" "$T/f.txt" "bob@127.0.0.1:$BOB_PORT"
expect_one_line_err "foreign client"
err_has 'rejected our certificate' "foreign client"
wait_log 'TLS handshake failed'
wait_log 'client certificate \(CN=mallory\) rejected.*not issued by this organization'"'"'s CA'
log_new | grep -q 'mallory@' && fail "foreign client got a session: $(log_new)"
inbox_empty "foreign client"

# The same person trusting only her own CA does not even accept bob.
cp "$T/ca2/ca.pem" "$T/mallory/ca.pem"
expect_exit 4 "$FERRY" send -i "$T/mallory" "$T/f.txt" "127.0.0.1:$BOB_PORT"
expect_one_line_err "foreign CA client"
# (bob's chain carries our CA, so the complaint may name the CA, not bob.)
err_has 'server certificate \(CN=[^)]*\) rejected' "foreign CA client"
inbox_empty "foreign CA client"

# --- the server is somebody else than the ID@ asked for ----------------
expect_exit 4 "$FERRY" send -i "$T/alice" "$T/f.txt" "carol@127.0.0.1:$BOB_PORT"
expect_one_line_err "wrong ID@"
err_has "'bob'" "wrong ID@ (names the server's ID)"
err_has "'carol'" "wrong ID@ (names the ID asked for)"
inbox_empty "wrong ID@"
expect_exit 4 "$FERRY" get -i "$T/alice" "carol@127.0.0.1:$BOB_PORT:x" -o "$T"
err_has "'bob'.*'carol'|'carol'.*'bob'" "get from wrong ID@"
expect_exit 4 "$FERRY" ls -i "$T/alice" "carol@127.0.0.1:$BOB_PORT"

# --- expired certificates ------------------------------------------------
issue alice-old --not-before 2020-01-01 --not-after 2020-02-01
log_mark
expect_exit 4 "$FERRY" send -i "$T/alice-old" "$T/f.txt" "bob@127.0.0.1:$BOB_PORT"
expect_one_line_err "expired client"
err_has 'rejected our certificate \(certificate expired\)' "expired client"
wait_log 'client certificate \(CN=alice-old\) expired on .*2020'
inbox_empty "expired client"

issue bob-old --ip 127.0.0.1 --dns localhost --not-before 2020-01-01 --not-after 2020-02-01
mkdir -p "$T/inbox-old"
SERVE_ID=$T/bob-old SERVE_NAME=serve-old INBOX=$T/inbox-old start_serve
OLD_PORT=$PORT
OLD_PID=$SERVE_PID
expect_exit 4 "$FERRY" send -i "$T/alice" "$T/f.txt" "127.0.0.1:$OLD_PORT"
expect_one_line_err "expired server"
err_has 'server certificate \(CN=bob-old\) expired on .*2020' "expired server"
expect_exit 4 "$FERRY" send -i "$T/alice" "$T/f.txt" "bob-old@127.0.0.1:$OLD_PORT"
err_has 'expired' "expired server, ID@"
[[ -z $(find "$T/inbox-old" -mindepth 1 -print -quit) ]] || fail "expired server received something"
stop_pid "$OLD_PID" TERM
[[ $WAIT_RC == 0 ]] || fail "serve (expired identity) exited $WAIT_RC on SIGTERM"

# --- no client certificate at all --------------------------------------
PORT=$BOB_PORT
SERVE_LOG=$BOB_LOG
log_mark
s_client $'hello\n' '' -connect "127.0.0.1:$BOB_PORT" -alpn ferry/1 \
	-CAfile "$T/ca/ca.pem" -verify_return_error
cp "$ERR" "$T/s_client-nocert.err"
grep -qi 'alert certificate required' "$T/s_client-nocert.err" ||
	fail "s_client without a certificate: no 'certificate required' alert: $(cat "$T/s_client-nocert.err")"
[[ ! -s $OUT ]] || fail "s_client without a certificate got data back: $(od -c "$OUT" | head)"
wait_log 'TLS handshake failed.*(did not return a certificate|presented no certificate)'
log_new | grep -Eq 'closed after|ended after|: received |HELLO' &&
	fail "a client without a certificate got a session: $(log_new)"

# The same at the frame level: HELLO right after the handshake is never
# answered.
if have_python; then
	log_mark
	wire tls -i "$T/alice" --no-cert --hello --hold 3 127.0.0.1 "$BOB_PORT"
	[[ $RC == 0 ]] || fail "ferrywire: exit $RC: $(cat "$OUT" "$ERR")"
	grep -q '^HELLO' "$OUT" && fail "the server answered HELLO from a client without a certificate"
	grep -Eqi '^CLOSED.*certificate required' "$OUT" ||
		fail "no-cert client: want CLOSED (certificate required): $(cat "$OUT")"
	wait_log 'TLS handshake failed'
else
	note "python3 missing: frame-level no-cert check skipped"
fi

# An identity directory holding only ca.pem: refused locally, clearly.
mkdir -m 700 "$T/caonly"
cp "$T/ca/ca.pem" "$T/caonly/ca.pem"
log_mark
run "$FERRY" send -i "$T/caonly" "$T/f.txt" "127.0.0.1:$BOB_PORT"
[[ $RC != 0 ]] || fail "send with an identity dir without cert.pem succeeded"
expect_one_line_err "identity without certificate"
err_has "$T/caonly" "identity without certificate (names the dir)"
err_has 'cert\.pem' "identity without certificate (names the file)"
sleep 0.2
[[ -z $(log_new) ]] || fail "send without an identity still connected: $(log_new)"
inbox_empty "no certificate"

# --- a bare HOST:PORT the certificate does not name ---------------------
issue carol # no --ip, no --dns
mkdir -p "$T/inbox-carol"
SERVE_ID=$T/carol SERVE_NAME=serve-carol INBOX=$T/inbox-carol start_serve
CAROL_PORT=$PORT
CAROL_PID=$SERVE_PID
expect_exit 4 "$FERRY" send -i "$T/alice" "$T/f.txt" "127.0.0.1:$CAROL_PORT"
expect_one_line_err "address not in certificate"
err_has 'not valid for the host name or address dialled' "address not in certificate"
expect_exit 4 "$FERRY" send -i "$T/alice" "$T/f.txt" "localhost:$CAROL_PORT"
err_has 'not valid for the host name or address dialled' "name not in certificate"
[[ -z $(find "$T/inbox-carol" -mindepth 1 -print -quit) ]] || fail "carol received a file from a refused connection"
# Naming the member instead of the address is the way in.
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/f.txt" "carol@127.0.0.1:$CAROL_PORT"
cmp -s "$T/f.txt" "$T/inbox-carol/alice/f.txt" || fail "carol@: file not received"
# bob's certificate names localhost and 127.0.0.1: both work bare.
expect_exit 0 "$FERRY" ls -i "$T/alice" "localhost:$BOB_PORT"
expect_exit 0 "$FERRY" ls -i "$T/alice" "127.0.0.1:$BOB_PORT"
stop_pid "$CAROL_PID" TERM

# --- ALPN: ferry/1 or nothing --------------------------------------------
PORT=$BOB_PORT
SERVE_LOG=$BOB_LOG
for alpn in "" "http/1.1"; do
	what="s_client with ${alpn:+ALPN $alpn}${alpn:-no ALPN}"
	log_mark
	# shellcheck disable=SC2046 # no -alpn at all when $alpn is empty
	s_client $'hello\n' '' -connect "127.0.0.1:$BOB_PORT" -CAfile "$T/ca/ca.pem" \
		-cert "$T/alice/cert.pem" -key "$T/alice/key.pem" \
		$([[ -n $alpn ]] && echo "-alpn $alpn") -verify_return_error
	wait_log "$CONN_END"
	if ! log_new | grep -q 'TLS handshake failed'; then
		defer_fail "$what: the server accepted the handshake and ran a session (want: refused with no_application_protocol); s_client exit $RC; server logged: $(log_new)"
	elif [[ $RC == 0 ]]; then
		defer_fail "$what: s_client exited 0"
	fi
done

# The same without openssl's help: no ALPN, then HELLO must go unanswered.
if have_python; then
	log_mark
	wire tls -i "$T/alice" --alpn "" --hello --hold 1 127.0.0.1 "$BOB_PORT"
	if grep -q '^HELLO' "$OUT"; then
		defer_fail "a client offering no ALPN speaks the protocol: the server answered its HELLO ($(head -n 3 "$OUT" | tr '\n' ' '))"
	fi
fi

# --- after all that, bob still serves -----------------------------------
inbox_empty "before the good push"
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$BOB_PORT"
cmp -s "$T/f.txt" "$T/inbox/alice/f.txt" || fail "good push after the bad ones: file not received"
is_running "$BOB_PID" || fail "bob's serve died"

# OpenSSL trap: SSL_set1_host(ssl, "") disables the host check, so an empty
# host must never get that far: refused as a usage error before dialling.
for addr in ":$BOB_PORT" "bob@:$BOB_PORT" "[]:$BOB_PORT"; do
	expect_exit 2 "$FERRY" ls -i "$T/alice" "$addr"
	expect_one_line_err "empty host in '$addr'"
done

finish
