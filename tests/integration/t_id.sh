#!/usr/bin/env bash
# t_id.sh - ferry id: who an identity is, its names and groups, the chain
# with fingerprints, the CRL's next update, and warnings before things end.
. "$(dirname "$0")/lib.sh"

"$FERRY" ca init --dir "$T/ca" --name "Test Org Root CA" >/dev/null
issue alice --dns alice.example.internal --ip 10.0.0.5 --group finance --group hr
expect_exit 0 "$FERRY" id -i "$T/alice"
grep -q '^member    alice$' "$OUT" || fail "member line: $(cat "$OUT")"
grep -q '^names     alice.example.internal, 10.0.0.5$' "$OUT" || fail "names: $(cat "$OUT")"
grep -q '^groups    finance, hr$' "$OUT" || fail "groups: $(cat "$OUT")"
fp=$(openssl x509 -in "$T/ca/ca.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
grep -q "Test Org Root CA *SHA256:$fp" "$OUT" || fail "root fingerprint: $(cat "$OUT")"
grep -q '^crl       none' "$OUT" || fail "no CRL not said: $(cat "$OUT")"
[[ ! -s $ERR ]] || fail "warnings for a fresh identity: $(cat "$ERR")"

# Less than a third of its life left: a warning to renew, still exit 0.
issue bob --not-before "$(date -u -d '-20 days' +%Y-%m-%d)" --not-after "$(date -u -d '+2 days' +%Y-%m-%d)"
expect_exit 0 "$FERRY" id -i "$T/bob"
err_has "bob's certificate has .* left; run 'ferry renew'"

# The CRL is shown with its number and next update; a revoked certificate
# fails with the reason.
"$FERRY" ca crl --dir "$T/ca" --days 1 >/dev/null
cp "$T/ca/crl.pem" "$T/alice/crl.pem"
expect_exit 0 "$FERRY" id -i "$T/alice"
grep -Eq '^  Test Org Root CA +number 1, 0 revoked, next update ' "$OUT" || fail "crl line: $(cat "$OUT")"
"$FERRY" ca revoke --dir "$T/ca" --name alice >/dev/null
cp "$T/ca/crl.pem" "$T/alice/crl.pem"
run "$FERRY" id -i "$T/alice"
[[ $RC == 4 ]] || fail "revoked identity: exit $RC"
err_has 'does not verify: certificate revoked'

# Not an identity: one line, exit 6.
run "$FERRY" id -i "$T/nowhere"
[[ $RC == 6 ]] || fail "missing identity: exit $RC"
expect_one_line_err "missing identity"
run "$FERRY" id -i "$T/alice" extra
[[ $RC == 2 ]] || fail "extra argument: exit $RC"
finish
