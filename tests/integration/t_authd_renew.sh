#!/usr/bin/env bash
# t_authd_renew.sh - renewal with the current certificate (EST
# simplereenroll), revocation, the CRL: renew works while the certificate
# is valid and fails (leaving every file as it was) once it is revoked or
# expired; after 'ferry ca revoke' + 'ferry crl update' a peer refuses the
# revoked member.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"

authd_org
start_authd
enroll alice
enroll bob

# --- renew with a valid certificate ----------------------------------------
old_serial=$(openssl x509 -in "$T/alice/cert.pem" -noout -serial)
cp "$T/alice/key.pem" "$T/alice-key.before"
expect_exit 0 "$FERRY" renew -i "$T/alice"
grep -Eq "^renewed alice serial [0-9A-F]+ valid until " "$OUT" || fail "renew stdout: $(cat "$OUT")"
new_serial=$(openssl x509 -in "$T/alice/cert.pem" -noout -serial)
[[ $new_serial != "$old_serial" ]] || fail "renew did not replace cert.pem"
cmp -s "$T/alice/key.pem" "$T/alice-key.before" || fail "renew changed the key"
openssl verify -CAfile "$T/ca/ca.pem" "$T/alice/cert.pem" >/dev/null || fail "renewed cert does not verify"
openssl x509 -in "$T/alice/cert.pem" -noout -ext subjectAltName | grep -q 'URI:ferry:alice' || fail "renewed cert lost the ID"
ls "$T/alice" | grep -q tmp && fail "renew left temporary files: $(ls "$T/alice")"
log_has 'simplereenroll -> 200 user=alice: renew serial' "$AUTHD_LOG"

# Renewal needs a certificate: without one (curl, no client cert) 403.
est_curl --data-binary @/dev/null "$EST/simplereenroll"
[[ $HTTP == 403 ]] || fail "simplereenroll without a client certificate: HTTP $HTTP"

# An expired certificate (issued offline for the same account) cannot renew.
"$FERRY" ca issue --dir "$T/ca" --name carol --not-before 2020-01-01 \
	--not-after 2020-06-30 --out "$T/carol" >/dev/null
cp "$T/carol/cert.pem" "$T/carol-cert.before"
run "$FERRY" renew -i "$T/carol" --url "$URL"
[[ $RC != 0 ]] || fail "renew with an expired certificate succeeded"
expect_one_line_err "expired renew"
err_has 'expired'
cmp -s "$T/carol/cert.pem" "$T/carol-cert.before" || fail "a failed renew changed cert.pem"

# --- revoke alice; authd refuses her renewal at once --------------------------
cp -a "$T/alice" "$T/alice-before"
expect_exit 0 "$FERRY" ca revoke --dir "$T/ca" --name alice
grep -Eq "^revoked alice serial [0-9A-F]+" "$OUT" || fail "revoke stdout: $(cat "$OUT")"
[[ $(grep -c "alice	R	" "$T/ca/index.tsv") == 2 ]] || fail "index.tsv: $(cat "$T/ca/index.tsv")"
openssl crl -in "$T/ca/crl.pem" -CAfile "$T/ca/ca.pem" -noout 2>/dev/null || fail "ca/crl.pem is not signed by the CA"
openssl crl -in "$T/ca/crl.pem" -noout -text | grep -q "${new_serial#serial=}" || fail "the CRL lacks alice's serial"
run "$FERRY" renew -i "$T/alice"
[[ $RC == 5 ]] || fail "renew of a revoked certificate: exit $RC: $(cat "$ERR")"
expect_one_line_err "revoked renew"
err_has 'revoked'
diff -r "$T/alice" "$T/alice-before" >&2 || fail "a failed renew changed the identity"
# Revoking twice says so; revoking nobody too.
expect_exit 5 "$FERRY" ca revoke --dir "$T/ca" --name alice
expect_exit 6 "$FERRY" ca revoke --dir "$T/ca" --serial 0123ABCD
expect_exit 2 "$FERRY" ca revoke --dir "$T/ca" --serial xyz
# Every revocation is in the audit record.
n=$(sqlite3 "$T/ca/ferry.db" "SELECT COUNT(*) FROM events WHERE kind='revoke' AND user='alice'")
[[ $n == 2 ]] || fail "revoke events for alice: $n, want 2"

# --- ferry ca crl ----------------------------------------------------------------
expect_exit 0 "$FERRY" ca crl --dir "$T/ca"
openssl crl -in "$OUT" -CAfile "$T/ca/ca.pem" -noout 2>/dev/null || fail "ca crl stdout is not a signed CRL"
n1=$(openssl crl -in "$OUT" -noout -crlnumber | cut -d= -f2 | sed "s/^0x//")
expect_exit 0 "$FERRY" ca crl --dir "$T/ca" --out "$T/crl2.pem"
n2=$(openssl crl -in "$T/crl2.pem" -noout -crlnumber | cut -d= -f2 | sed "s/^0x//")
((16#$n2 > 16#$n1)) || fail "CRL numbers do not increase: $n1 then $n2"

# --- a peer with the new CRL refuses alice ---------------------------------
mkdir -p "$T/share" "$T/inbox"
printf 'x\n' >"$T/f.txt"
SERVE_ID=$T/bob start_serve
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$PORT"
stop_pid "$SERVE_PID"
expect_exit 0 "$FERRY" crl update -i "$T/bob"
grep -q "crl $T/bob/crl.pem: 2 revoked" "$OUT" || fail "crl update: $(cat "$OUT")"
SERVE_NAME=serve2 SERVE_ID=$T/bob start_serve
log_mark "$SERVE_LOG"
run "$FERRY" send --force -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$PORT"
[[ $RC == 4 ]] || fail "revoked alice pushing to bob: exit $RC: $(cat "$ERR")"
err_has 'revoked'
wait_log 'client certificate \(CN=alice\) rejected: certificate revoked'
# The other way round: a client with the CRL refuses a revoked server.
expect_exit 0 "$FERRY" crl update -i "$T/alice-before"
stop_pid "$SERVE_PID"
SERVE_NAME=serve3 SERVE_ID=$T/alice-before start_serve
run "$FERRY" send -i "$T/bob" "$T/f.txt" "alice@127.0.0.1:$PORT"
[[ $RC == 4 ]] || fail "bob pushing to revoked alice: exit $RC: $(cat "$ERR")"
err_has 'revoked'

# A crl.pem that is not the CA's stops every command, clearly.
"$FERRY" ca init --dir "$T/ca2" >/dev/null
"$FERRY" ca crl --dir "$T/ca2" --out "$T/bob/crl.pem" >/dev/null
run "$FERRY" send -i "$T/bob" "$T/f.txt" "127.0.0.1:$PORT"
[[ $RC == 4 ]] || fail "send with a foreign crl.pem: exit $RC: $(cat "$ERR")"
err_has 'crl.pem.*not issued by the organization'
printf 'garbage\n' >"$T/bob/crl.pem"
run "$FERRY" send -i "$T/bob" "$T/f.txt" "127.0.0.1:$PORT"
[[ $RC == 4 ]] || fail "send with a garbage crl.pem: exit $RC"

# A deleted account cannot renew, even with a valid certificate.
expect_exit 0 "$FERRY" crl update -i "$T/bob"
expect_exit 0 "$FERRY" user del --db "$T/ca/ferry.db" bob
run "$FERRY" renew -i "$T/bob"
[[ $RC == 5 ]] || fail "renew of a deleted account: exit $RC: $(cat "$ERR")"
err_has 'no longer exists'

stop_pid "$AUTHD_PID"
finish
