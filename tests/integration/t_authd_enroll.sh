#!/usr/bin/env bash
# t_authd_enroll.sh - accounts, then `ferry enroll` against a real authd:
# the key stays local, the CA is pinned by fingerprint before the password
# leaves, and two enrolled members push a file to each other.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"

authd_org

# --- ferry user -----------------------------------------------------------
[[ $(stat -c %a "$T/ca/ferry.db") == 600 ]] || fail "ferry.db mode $(stat -c %a "$T/ca/ferry.db"), want 600"
expect_exit 0 "$FERRY" user list --db "$T/ca/ferry.db"
for u in alice bob carol; do
	grep -q "^$u " "$OUT" || fail "user list lacks $u: $(cat "$OUT")"
done
grep -q 'argon2' "$OUT" && fail "user list shows a hash: $(cat "$OUT")"
sqlite3 "$T/ca/ferry.db" 'SELECT hash FROM users' 2>/dev/null | grep -q '^\$argon2id\$v=19\$m=19456,t=2,p=1\$' ||
	fail "stored hashes are not Argon2id with the OWASP cost"
run "$FERRY" user add --db "$T/ca/ferry.db" --password-stdin alice <<<"another-pw"
[[ $RC == 5 ]] || fail "adding alice twice: exit $RC"
expect_one_line_err "user add twice"
run "$FERRY" user add --db "$T/ca/ferry.db" --password-stdin dave <<<"short"
[[ $RC == 2 ]] || fail "a 5-byte password: exit $RC"
run "$FERRY" user add --db "$T/ca/ferry.db" dave </dev/null
[[ $RC == 2 ]] || fail "user add without a terminal or --password-stdin: exit $RC"
err_has 'password-stdin'
expect_exit 0 "$FERRY" user add --db "$T/ca/ferry.db" --password-stdin dave <<<"dave-secret-pw"
expect_exit 0 "$FERRY" user passwd --db "$T/ca/ferry.db" --password-stdin dave <<<"dave-other-pw"
expect_exit 0 "$FERRY" user del --db "$T/ca/ferry.db" dave
expect_exit 6 "$FERRY" user del --db "$T/ca/ferry.db" dave

# --- authd ---------------------------------------------------------------
start_authd --allow-dns localhost
note "authd on 127.0.0.1:$APORT"

# A wrong fingerprint: refused after /cacerts, before any password is sent.
log_mark "$AUTHD_LOG"
run "$FERRY" enroll "$URL" --user alice -i "$T/alice" --password-stdin \
	--fingerprint SHA256:0000000000000000000000000000000000000000000000000000000000000000 <<<"alice-secret-pw"
[[ $RC == 4 ]] || fail "wrong fingerprint: exit $RC: $(cat "$ERR")"
expect_one_line_err "wrong fingerprint"
err_has 'nothing was sent'
[[ ! -e $T/alice/key.pem ]] || fail "a refused enroll left a key behind"
sleep 0.2
log_new "$AUTHD_LOG" | grep -q 'simpleenroll' && fail "the password went out despite the fingerprint: $(log_new "$AUTHD_LOG")"
log_new "$AUTHD_LOG" | grep -q 'GET /.well-known/est/cacerts -> 200' || fail "no /cacerts request: $(log_new "$AUTHD_LOG")"

# No fingerprint and no terminal to confirm on: refused, likewise.
run setsid "$FERRY" enroll "$URL" --user alice -i "$T/alice" --password-stdin <<<"alice-secret-pw"
[[ $RC == 4 ]] || fail "unconfirmed CA: exit $RC: $(cat "$ERR")"
err_has 'not confirmed'
err_has "${FP#SHA256:}"

# The real thing; the fingerprint may be written as openssl prints it.
OSSL_FP=$(openssl x509 -in "$T/ca/ca.pem" -noout -fingerprint -sha256 | cut -d= -f2)
run "$FERRY" enroll "$URL" --user alice -i "$T/alice" --fingerprint "$OSSL_FP" \
	--password-stdin <<<"alice-secret-pw"
[[ $RC == 0 ]] || fail "enroll alice: exit $RC: $(cat "$ERR")"
grep -Eq "^enrolled alice serial [0-9A-F]+ valid until .* -> $T/alice\$" "$OUT" || fail "enroll stdout: $(cat "$OUT")"
expect_exit 0 "$FERRY" user dns --db "$T/ca/ferry.db" bob --add localhost
enroll bob --dns localhost --key-type ed25519
for m in alice bob; do
	[[ $(stat -c %a "$T/$m/key.pem") == 600 ]] || fail "$m key.pem mode $(stat -c %a "$T/$m/key.pem")"
	for f in cert.pem ca.pem crl.pem authd.url; do
		[[ -s $T/$m/$f ]] || fail "$m: no $f"
	done
	cmp -s "$T/$m/ca.pem" "$T/ca/ca.pem" || fail "$m: ca.pem is not the CA"
	openssl verify -CAfile "$T/ca/ca.pem" "$T/$m/cert.pem" >/dev/null || fail "$m: cert does not verify"
	# The certificate is for the key made here.
	[[ $(openssl x509 -in "$T/$m/cert.pem" -noout -pubkey | sha) == $(openssl pkey -in "$T/$m/key.pem" -pubout | sha) ]] ||
		fail "$m: certificate is not for the local key"
	openssl crl -in "$T/$m/crl.pem" -CAfile "$T/ca/ca.pem" -noout 2>/dev/null || fail "$m: crl.pem not signed by the CA"
done
openssl x509 -in "$T/bob/cert.pem" -noout -ext subjectAltName | grep -q 'URI:ferry:bob, DNS:localhost' ||
	fail "bob's SAN: $(openssl x509 -in "$T/bob/cert.pem" -noout -ext subjectAltName)"
# Short-lived by default: 7 days (and 5 minutes of clock-skew backdating).
end=$(date -d "$(openssl x509 -in "$T/alice/cert.pem" -noout -enddate | cut -d= -f2)" +%s)
days=$(((end - $(date +%s)) / 86400))
[[ $days == 6 || $days == 7 ]] || fail "alice's certificate lasts $days days, want 7"

# A DNS name the admin did not bind to the account is refused with the reason.
run "$FERRY" enroll "$URL" --user carol -i "$T/carol" --fingerprint "$FP" \
	--password-stdin --dns evil.example.com <<<"carol-secret-pw"
[[ $RC == 5 ]] || fail "disallowed DNS name: exit $RC: $(cat "$ERR")"
err_has "'evil.example.com' is not bound to 'carol'"
[[ ! -e $T/carol/key.pem ]] || fail "a refused enroll left carol's key behind"
# Enrolling over an existing identity is refused before anything is sent.
run "$FERRY" enroll "$URL" --user alice -i "$T/alice" --fingerprint "$FP" --password-stdin <<<"x"
[[ $RC == 5 ]] || fail "enroll over an identity: exit $RC"
err_has 'already exists'

# --- a push between the two enrolled members --------------------------------
mkdir -p "$T/share" "$T/inbox"
SERVE_ID=$T/bob start_serve
printf 'enrolled payload\n' >"$T/f.txt"
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$PORT"
cmp -s "$T/f.txt" "$T/inbox/alice/f.txt" || fail "push between enrolled members: content differs"
# And bob is reachable by the name he enrolled with.
expect_exit 0 "$FERRY" send --force -i "$T/alice" "$T/f.txt" "localhost:$PORT"

# --- the audit record ---------------------------------------------------------
expect_exit 0 "$FERRY" user log --db "$T/ca/ferry.db"
grep -Eq '^[0-9TZ:-]+ enroll +user=alice addr=127\.0\.0\.1 serial=[0-9A-F]+' "$OUT" || fail "no enroll event for alice: $(cat "$OUT")"
grep -Eq ' enroll +user=bob ' "$OUT" || fail "no enroll event for bob: $(cat "$OUT")"
n=$(sqlite3 "$T/ca/ferry.db" "SELECT COUNT(*) FROM certs WHERE user IN ('alice','bob')" 2>/dev/null || echo 0)
[[ $n == 2 ]] || fail "certs table has $n rows for alice and bob, want 2"

stop_pid "$AUTHD_PID"
finish
