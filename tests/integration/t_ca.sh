#!/usr/bin/env bash
# t_ca.sh - `ferry ca init` and `ferry ca issue` with the real binary, the
# results checked with the openssl command line tool.
# Env: FERRY (the ferry binary), FERRY_SRC (source tree). Exit 0 pass, 1 fail,
# 77 skip.
set -euo pipefail

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

[[ -n "${FERRY:-}" && -x "$FERRY" ]] || { echo "SKIP: FERRY is not set to the ferry binary" >&2; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: no openssl command" >&2; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/ferry-t_ca.XXXXXX")
trap 'rm -rf "$T"' EXIT

# run NAME CMD...: runs CMD, keeping stdout in $T/NAME.out, stderr in
# $T/NAME.err and the exit status in $rc; never fails itself.
run() {
	local name=$1
	shift
	rc=0
	"$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
}

# expect_rc NAME WANT: the last run exited WANT and said one line about it.
expect_rc() {
	if [[ $rc -ne $2 ]]; then
		fail "$1: exit $rc, want $2; stderr: $(cat "$T/$1.err")"
	fi
	if [[ $2 -ne 0 ]]; then
		[[ $(wc -l <"$T/$1.err") -eq 1 ]] ||
			fail "$1: want one error line, got: $(cat "$T/$1.err")"
		grep -Eq '^ferry: ca( [a-z]+)?: ' "$T/$1.err" ||
			fail "$1: error line lacks 'ferry: ca <cmd>: ': $(cat "$T/$1.err")"
	fi
}

mode() { stat -c %a "$1"; }

CA=$T/ca

# --- init ---------------------------------------------------------------
run init "$FERRY" ca init --dir "$CA" --name "Test Org Root CA"
expect_rc init 0
grep -Eq "^SHA256:[0-9a-f]{64} $CA/ca.pem\$" "$T/init.out" ||
	fail "init: stdout is not 'SHA256:<hex> <path>': $(cat "$T/init.out")"
fp=$(cut -d' ' -f1 "$T/init.out")
want=$(openssl x509 -in "$CA/ca.pem" -noout -fingerprint -sha256 |
	sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
[[ $fp == "SHA256:$want" ]] || fail "init: fingerprint $fp, openssl says $want"
[[ $(mode "$CA") == 700 ]] || fail "CA dir mode $(mode "$CA"), want 700"
[[ $(mode "$CA/ca.key") == 600 ]] || fail "ca.key mode $(mode "$CA/ca.key"), want 600"
[[ -f $CA/index.tsv && -d $CA/certs ]] || fail "init: no index.tsv or certs/"

openssl x509 -in "$CA/ca.pem" -noout -text >"$T/ca.txt"
grep -q 'Subject: CN *= *Test Org Root CA' "$T/ca.txt" || fail "CA subject: $(grep Subject: "$T/ca.txt")"
grep -A1 'Basic Constraints: critical' "$T/ca.txt" | grep -q 'CA:TRUE' ||
	fail "CA lacks critical basicConstraints CA:TRUE"
grep -A1 'Key Usage: critical' "$T/ca.txt" | grep -q 'Certificate Sign, CRL Sign' ||
	fail "CA key usage: $(grep -A1 'Key Usage' "$T/ca.txt")"
grep -q 'Subject Key Identifier' "$T/ca.txt" || fail "CA has no SKI"
openssl verify -CAfile "$CA/ca.pem" "$CA/ca.pem" >/dev/null || fail "CA does not verify itself"

# A second init is refused, names the file, changes nothing.
cp "$CA/ca.pem" "$T/ca.pem.before"
run init2 "$FERRY" ca init --dir "$CA"
expect_rc init2 5
grep -q 'ca.key already exists' "$T/init2.err" || fail "init2: $(cat "$T/init2.err")"
cmp -s "$CA/ca.pem" "$T/ca.pem.before" || fail "init2 changed ca.pem"

run init3 "$FERRY" ca init --dir "$T/no/such/dir"
expect_rc init3 6
run init4 "$FERRY" ca init --dir "$T/ca4" --key-type dsa
expect_rc init4 2
run init5 "$FERRY" ca init
expect_rc init5 2

# --- issue --------------------------------------------------------------
run issue "$FERRY" ca issue --dir "$CA" --name alice --dns alice.example.com \
	--dns localhost --ip 127.0.0.1 --ip ::1 --out "$T/alice"
expect_rc issue 0
grep -Eq "^issued alice serial [0-9A-F]+ valid until [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z -> $T/alice\$" "$T/issue.out" ||
	fail "issue: stdout: $(cat "$T/issue.out")"
ID=$T/alice
[[ $(mode "$ID/key.pem") == 600 ]] || fail "key.pem mode $(mode "$ID/key.pem"), want 600"
[[ $(mode "$ID") == 700 ]] || fail "identity dir mode $(mode "$ID"), want 700"
head -1 "$ID/key.pem" | grep -q -- '-----BEGIN PRIVATE KEY-----' || fail "key.pem is not PKCS#8"
cmp -s "$ID/ca.pem" "$CA/ca.pem" || fail "identity ca.pem differs from the CA's"

openssl verify -CAfile "$ID/ca.pem" "$ID/cert.pem" >"$T/verify.out" 2>&1 ||
	fail "openssl verify: $(cat "$T/verify.out")"
grep -q ': OK$' "$T/verify.out" || fail "openssl verify: $(cat "$T/verify.out")"
openssl verify -purpose sslclient -CAfile "$ID/ca.pem" "$ID/cert.pem" >/dev/null 2>&1 ||
	fail "not valid for TLS client use"
openssl verify -purpose sslserver -CAfile "$ID/ca.pem" "$ID/cert.pem" >/dev/null 2>&1 ||
	fail "not valid for TLS server use"

openssl x509 -in "$ID/cert.pem" -noout -text >"$T/alice.txt"
grep -q 'Subject: CN *= *alice$' "$T/alice.txt" || fail "subject: $(grep Subject: "$T/alice.txt")"
san=$(grep -A1 'Subject Alternative Name' "$T/alice.txt" | tail -1 | sed 's/^ *//')
[[ $san == "URI:ferry:alice, DNS:alice.example.com, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1" ]] ||
	fail "SAN: $san"
grep -A1 'Extended Key Usage' "$T/alice.txt" | grep -q 'TLS Web Server Authentication, TLS Web Client Authentication' ||
	fail "EKU: $(grep -A1 'Extended Key Usage' "$T/alice.txt")"
grep -A1 'Basic Constraints: critical' "$T/alice.txt" | grep -q 'CA:FALSE' ||
	fail "member lacks critical basicConstraints CA:FALSE"
openssl x509 -in "$ID/cert.pem" -noout -checkend 86400 >/dev/null ||
	fail "fresh certificate expires within a day"

# The issuance is recorded.
serial=$(openssl x509 -in "$ID/cert.pem" -noout -serial | sed 's/.*=//')
grep -q "^$serial	.*	alice	V\$" "$CA/index.tsv" || fail "index.tsv: $(cat "$CA/index.tsv")"
cmp -s "$CA/certs/$serial.pem" "$ID/cert.pem" || fail "certs/$serial.pem missing or different"

# Each key type.
for kt in ed25519 rsa3072; do
	run "issue-$kt" "$FERRY" ca issue --dir "$CA" --name "m-$kt" --key-type "$kt" --out "$T/m-$kt"
	expect_rc "issue-$kt" 0
	openssl verify -CAfile "$CA/ca.pem" "$T/m-$kt/cert.pem" >/dev/null 2>&1 ||
		fail "$kt member does not verify"
done

# Never over an existing identity.
cp "$ID/key.pem" "$T/key.before"
run again "$FERRY" ca issue --dir "$CA" --name alice --out "$ID"
expect_rc again 5
grep -q 'key.pem already exists' "$T/again.err" || fail "again: $(cat "$T/again.err")"
cmp -s "$ID/key.pem" "$T/key.before" || fail "issue replaced an existing key.pem"
[[ $(wc -l <"$CA/index.tsv") -eq 3 ]] || fail "a refused issue was recorded: $(cat "$CA/index.tsv")"

# Bad values: exit 2, one line naming the value, nothing written.
run badip "$FERRY" ca issue --dir "$CA" --name bob --ip 300.1.1.1 --out "$T/bob"
expect_rc badip 2
grep -q "300.1.1.1" "$T/badip.err" || fail "badip: $(cat "$T/badip.err")"
run baddns "$FERRY" ca issue --dir "$CA" --name bob --dns '*.example.com' --out "$T/bob"
expect_rc baddns 2
run badid "$FERRY" ca issue --dir "$CA" --name ../bob --out "$T/bob"
expect_rc badid 2
run badtime "$FERRY" ca issue --dir "$CA" --name bob --not-after 2020-13-01 --out "$T/bob"
expect_rc badtime 2
run noout "$FERRY" ca issue --dir "$CA" --name bob
expect_rc noout 2
run badopt "$FERRY" ca issue --dir "$CA" --name bob --out "$T/bob" --frobnicate
expect_rc badopt 2
run longca "$FERRY" ca issue --dir "$CA" --name bob --days 36500 --out "$T/bob"
expect_rc longca 2
grep -q 'after the CA certificate expires' "$T/longca.err" || fail "longca: $(cat "$T/longca.err")"
run noca "$FERRY" ca issue --dir "$T/nowhere" --name bob --out "$T/bob"
expect_rc noca 6
[[ ! -e $T/bob ]] || fail "a failed issue left $T/bob behind"
run noparent "$FERRY" ca issue --dir "$CA" --name bob --out "$T/no/such/bob"
expect_rc noparent 6
[[ $(wc -l <"$CA/index.tsv") -eq 3 ]] || fail "an undeliverable issue was recorded: $(cat "$CA/index.tsv")"

# A window in the past: the certificate is issued, and expired.
run old "$FERRY" ca issue --dir "$CA" --name old --not-before 2020-01-01 \
	--not-after 2020-06-30T12:00:00Z --out "$T/old"
expect_rc old 0
grep -q 'valid until 2020-06-30T12:00:00Z' "$T/old.out" || fail "old: $(cat "$T/old.out")"
if openssl x509 -in "$T/old/cert.pem" -noout -checkend 0 >/dev/null; then
	fail "a certificate with --not-after in the past is not expired"
fi
openssl x509 -in "$T/old/cert.pem" -noout -startdate | grep -q 'Jan  1 00:00:00 2020 GMT' ||
	fail "old: $(openssl x509 -in "$T/old/cert.pem" -noout -startdate)"
# notAfter before notBefore is refused.
run inverted "$FERRY" ca issue --dir "$CA" --name inv --not-before 2021-01-01 \
	--not-after 2020-01-01 --out "$T/inv"
expect_rc inverted 2

# --- help ---------------------------------------------------------------
for args in "--help" "init --help" "issue --help" "issue -h"; do
	# shellcheck disable=SC2086 # word splitting wanted
	run help "$FERRY" ca $args
	expect_rc help 0
	grep -q '^usage: ferry ca' "$T/help.out" || fail "ferry ca $args: no usage on stdout"
done
run nosub "$FERRY" ca
expect_rc nosub 2
run unknown "$FERRY" ca frob
expect_rc unknown 2

echo "PASS: t_ca"
