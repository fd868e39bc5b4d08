#!/usr/bin/env bash
# t_renew_due.sh - ferry renew --if-due, what the renew timer runs: a fresh
# certificate is not due (it says until when, keeps cert.pem and still
# refreshes the CRL); one with less than a third of its lifetime left is
# renewed, and 'ferry id' warns about that same certificate. Not due with
# authd unreachable, it fails (exit 3) and changes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"

authd_org
start_authd
enroll alice

# --- a fresh certificate: not due, the CRL is refreshed anyway -------------
expect_exit 0 "$FERRY" ca revoke --dir "$T/ca" --serial \
	"$(openssl x509 -in "$T/alice/cert.pem" -noout -serial | cut -d= -f2)"
enroll bob
rm -f "$T/bob/crl.pem"
cp "$T/bob/cert.pem" "$T/bob-cert.before"
expect_exit 0 "$FERRY" renew --if-due -i "$T/bob"
grep -Eq '^renew: not due until [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z \([0-9]+ days left\)$' "$OUT" ||
	fail "not-due line: $(cat "$OUT")"
cmp -s "$T/bob/cert.pem" "$T/bob-cert.before" || fail "renew --if-due replaced a certificate that was not due"
[[ -f $T/bob/crl.pem ]] || fail "renew --if-due did not update the CRL"
grep -q "crl $T/bob/crl.pem: 1 revoked" "$OUT" || fail "CRL line: $(cat "$OUT")"
# The date said is when a third of the lifetime is left.
nb=$(date -d "$(openssl x509 -in "$T/bob/cert.pem" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in "$T/bob/cert.pem" -noout -enddate | cut -d= -f2)" +%s)
want=$(date -u -d "@$((na - (na - nb) / 3))" +%Y-%m-%dT%H:%M:%SZ)
grep -q "not due until $want " "$OUT" || fail "due date: $(cat "$OUT"), want $want"
# 'ferry id' has nothing to warn about for it either.
expect_exit 0 "$FERRY" id -i "$T/bob"
grep -q 'renew' "$ERR" && fail "id warns about a fresh certificate: $(cat "$ERR")"

# --- a short-lived certificate with a sixth of its life left: renewed -------
"$FERRY" ca issue --dir "$T/ca" --name carol \
	--not-before "$(date -u -d '-5 days' +%Y-%m-%d)" \
	--not-after "$(date -u -d '+1 day' +%Y-%m-%d)" --out "$T/carol" >/dev/null ||
	fail "ca issue carol"
expect_exit 0 "$FERRY" id -i "$T/carol"
err_has "run 'ferry renew'"
old_serial=$(openssl x509 -in "$T/carol/cert.pem" -noout -serial)
expect_exit 0 "$FERRY" renew --if-due -i "$T/carol" --url "$URL"
grep -Eq '^renewed carol serial [0-9A-F]+ valid until ' "$OUT" || fail "renew stdout: $(cat "$OUT")"
[[ $(openssl x509 -in "$T/carol/cert.pem" -noout -serial) != "$old_serial" ]] ||
	fail "renew --if-due did not replace a due certificate"
openssl x509 -in "$T/carol/cert.pem" -noout -checkend $((3 * 86400)) >/dev/null ||
	fail "the renewed certificate is still short-lived"
# Renewed, it is no longer due.
expect_exit 0 "$FERRY" renew --if-due -i "$T/carol" --url "$URL"
grep -q '^renew: not due until ' "$OUT" || fail "after renewal: $(cat "$OUT")"

# --- not due and authd unreachable: the CRL could not be refreshed, say so --
cp "$T/bob/crl.pem" "$T/bob-crl.before"
stop_pid "$AUTHD_PID"
run "$FERRY" renew --if-due -i "$T/bob" --timeout 2
[[ $RC == 3 ]] || fail "not due, authd down: exit $RC, want 3: $(cat "$ERR")"
expect_one_line_err "not due, authd down"
err_has 'not due, but the CRL is not updated'
cmp -s "$T/bob/cert.pem" "$T/bob-cert.before" || fail "a failed renew --if-due changed cert.pem"
cmp -s "$T/bob/crl.pem" "$T/bob-crl.before" || fail "a failed renew --if-due changed crl.pem"

# --- --if-due belongs to renew only ------------------------------------------
expect_exit 2 "$FERRY" crl update --if-due -i "$T/bob"
expect_one_line_err "crl update --if-due"
finish
