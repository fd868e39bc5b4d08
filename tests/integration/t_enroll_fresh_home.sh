#!/usr/bin/env bash
# t_enroll_fresh_home.sh - `ferry enroll` on a machine where ~/.config does
# not exist yet (a fresh account): the identity directory and its parents
# are made (0700) before authd is asked, and key.pem is written (exclusive,
# 0600) before the request, so a certificate authd issues never comes back
# to a lost key: if cert.pem cannot be written, the key stays and the
# certificate goes to standard output; a refused request leaves no key. And `ca issue --not-after`
# in the past issues the certificate but says, on stderr, that it is
# expired already.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"

authd_org
start_authd

# A home without .config: the default identity directory's parents are new.
mkdir -m 700 "$T/home"
unset FERRY_HOME XDG_CONFIG_HOME
HOME=$T/home run "$FERRY" enroll "$URL" --user alice --fingerprint "$FP" \
	--password-stdin <<<"alice-secret-pw"
[[ $RC == 0 ]] || fail "enroll into a home without ~/.config: exit $RC: $(cat "$ERR")"
ID=$T/home/.config/ferry
[[ -f $ID/key.pem && -f $ID/cert.pem && -f $ID/ca.pem ]] ||
	fail "enroll: identity incomplete: $(ls -la "$ID" 2>&1)"
[[ $(stat -c %a "$ID") == 700 && $(stat -c %a "$T/home/.config") == 700 ]] ||
	fail "enroll: directories made with modes $(stat -c %a "$T/home/.config") $(stat -c %a "$ID"), want 700"
[[ $(stat -c %a "$ID/key.pem") == 600 ]] || fail "key.pem mode $(stat -c %a "$ID/key.pem")"
# The key and the certificate belong together.
[[ $(openssl pkey -in "$ID/key.pem" -pubout 2>/dev/null | sha256sum) == \
	$(openssl x509 -in "$ID/cert.pem" -noout -pubkey | sha256sum) ]] ||
	fail "key.pem and cert.pem do not match"

# --- cert.pem cannot be written after authd issued it: the key is kept ----
# (cert.pem is a directory here, so replacing it fails.)
mkdir -p "$T/bobid/cert.pem"
run "$FERRY" enroll "$URL" --user bob -i "$T/bobid" --fingerprint "$FP" \
	--password-stdin <<<"bob-secret-pw"
[[ $RC != 0 ]] || fail "enroll with cert.pem a directory: exit 0"
expect_one_line_err "enroll that cannot write cert.pem"
err_has "enrolled, but the certificate could not be written.*key.pem is kept"
[[ -f $T/bobid/key.pem && $(stat -c %a "$T/bobid/key.pem") == 600 ]] ||
	fail "the key of an issued certificate was lost: $(ls -la "$T/bobid")"
grep -q 'BEGIN CERTIFICATE' "$OUT" || fail "the issued certificate was not printed: $(cat "$OUT")"
[[ $(openssl pkey -in "$T/bobid/key.pem" -pubout 2>/dev/null | sha256sum) == \
	$(openssl x509 -in "$OUT" -noout -pubkey | sha256sum) ]] ||
	fail "the printed certificate is not the kept key's"
# A refused enrollment (wrong password) leaves no key behind.
run "$FERRY" enroll "$URL" --user carol -i "$T/carolid" --fingerprint "$FP" \
	--password-stdin <<<"not-carols-password"
[[ $RC != 0 ]] || fail "enroll with a wrong password: exit 0"
[[ ! -e $T/carolid/key.pem ]] || fail "a refused enrollment left key.pem"
# A key without a certificate says how to start again.
rm -rf "$T/bobid/cert.pem"
run "$FERRY" enroll "$URL" --user bob -i "$T/bobid" --fingerprint "$FP" \
	--password-stdin <<<"bob-secret-pw"
err_has "no cert.pem: if an enrollment was cut short, remove key.pem first"

# --- ca issue --not-after in the past --------------------------------------
run "$FERRY" ca issue --dir "$T/ca" --name old --not-before 2020-01-01 \
	--not-after 2020-06-30 --out "$T/old"
[[ $RC == 0 ]] || fail "ca issue --not-after in the past: exit $RC: $(cat "$ERR")"
expect_one_line_err "ca issue --not-after in the past"
err_has "warning: .*--not-after 2020-06-30T00:00:00Z is in the past: old's certificate is expired already"
run "$FERRY" ca issue --dir "$T/ca" --name new --days 30 --out "$T/new"
[[ $RC == 0 && ! -s $ERR ]] || fail "ca issue --days 30: exit $RC, stderr: $(cat "$ERR")"

finish
