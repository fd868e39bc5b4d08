#!/usr/bin/env bash
# A running `ferry serve` picks up a new CRL (ferry crl update / ca crl) and
# a renewed certificate without a restart; a broken new file is not taken
# and the identity in use stays in force.
. "$(dirname "$0")/lib.sh"

org_init
printf 'one\n' >"$T/one.txt"
printf 'two\n' >"$T/two.txt"
start_serve

expect_exit 0 "$FERRY" send -i "$T/alice" "$T/one.txt" "bob@127.0.0.1:$PORT"

# Revoke alice and give bob's identity directory the new CRL, as
# `ferry crl update` would: the daemon keeps running.
expect_exit 0 "$FERRY" ca revoke --dir "$T/ca" --name alice
expect_exit 0 "$FERRY" ca crl --dir "$T/ca" --out "$T/bob/crl.pem"
run "$FERRY" send -i "$T/alice" "$T/two.txt" "bob@127.0.0.1:$PORT"
[[ $RC == 4 ]] || fail "revoked alice was served after the CRL changed: exit $RC: $(cat "$ERR")"
[[ ! -e $INBOX/alice/two.txt ]] || fail "a file from revoked alice arrived"
wait_until 5 grep -q "identity files changed: reloaded" "$SERVE_LOG" ||
	fail "serve did not say it reloaded: $(tail -n 3 "$SERVE_LOG")"
grep -q "revoked" "$SERVE_LOG" || fail "serve log does not name the revocation"

# A member still in good standing is served as before.
issue carol
expect_exit 0 "$FERRY" send -i "$T/carol" "$T/two.txt" "bob@127.0.0.1:$PORT"

# A renewed certificate for bob (same name, new serial) is presented from
# the next connection on.
old_serial=$(openssl x509 -in "$T/bob/cert.pem" -noout -serial)
"$FERRY" ca issue --dir "$T/ca" --name bob --ip 127.0.0.1 --dns localhost \
	--out "$T/bob-new" >/dev/null || fail "ca issue bob again"
install -m 600 "$T/bob-new/key.pem" "$T/bob/key.new"
mv "$T/bob/key.new" "$T/bob/key.pem"
install -m 644 "$T/bob-new/cert.pem" "$T/bob/cert.new"
mv "$T/bob/cert.new" "$T/bob/cert.pem"
new_serial=$(openssl x509 -in "$T/bob/cert.pem" -noout -serial)
[[ $new_serial != "$old_serial" ]] || fail "test set-up: same serial"
seen=$(timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -alpn ferry/1 \
	-cert "$T/carol/cert.pem" -key "$T/carol/key.pem" -CAfile "$T/ca/ca.pem" \
	</dev/null 2>/dev/null | openssl x509 -noout -serial)
[[ $seen == "$new_serial" ]] || fail "serve still presents $seen, not the renewed $new_serial"

# A broken CRL is not taken: the one in force stays, alice stays refused.
printf 'not a CRL\n' >"$T/bob/crl.pem"
run "$FERRY" send -i "$T/alice" "$T/two.txt" "bob@127.0.0.1:$PORT"
[[ $RC == 4 ]] || fail "after a broken CRL, revoked alice got exit $RC"
wait_until 5 grep -q "keeping the identity in use" "$SERVE_LOG" ||
	fail "serve did not warn about the broken CRL"
expect_exit 0 "$FERRY" send -i "$T/carol" --force "$T/two.txt" "bob@127.0.0.1:$PORT"
is_running "$SERVE_PID" || fail "serve died"
