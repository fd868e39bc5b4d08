#!/usr/bin/env bash
# t_authd_curl.sh - authd with standard tools only (curl + openssl, no ferry
# code on the client side), then hostile and broken requests: bad
# credentials look the same for unknown users, rapid failures are
# throttled, malformed bodies get clean 4xx answers, slow clients are cut
# off, and authd keeps serving throughout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"

authd_org
start_authd --timeout 2
note "authd on 127.0.0.1:$APORT"

# served: authd still answers a plain request.
served() {
	est_curl "$EST/cacerts"
	[[ $HTTP == 200 ]] || fail "authd stopped serving after $1 (HTTP $HTTP)"
}

# --- the standard-tools path (README "Enrollment") ---------------------------
est_curl "$EST/cacerts"
[[ $HTTP == 200 ]] || fail "cacerts: HTTP $HTTP"
grep -qi '^content-type: application/pkcs7-mime' "$T/headers" || fail "cacerts content type: $(cat "$T/headers")"
openssl base64 -d -in "$OUT" | openssl pkcs7 -inform DER -print_certs -out "$T/got-ca.pem" ||
	fail "cacerts is not base64 PKCS#7"
[[ $(openssl x509 -in "$T/got-ca.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f) == "${FP#SHA256:}" ]] ||
	fail "cacerts holds another CA"

mkdir -p "$T/std"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/std/key.pem" -subj /CN=alice -outform DER 2>/dev/null |
	openssl base64 >"$T/std/csr.b64"
est_curl -u alice:alice-secret-pw -H 'Content-Type: application/pkcs10' \
	--data-binary @"$T/std/csr.b64" "$EST/simpleenroll"
[[ $HTTP == 200 ]] || fail "simpleenroll with curl: HTTP $HTTP: $(cat "$OUT")"
openssl base64 -d -in "$OUT" | openssl pkcs7 -inform DER -print_certs -out "$T/std/cert.pem" ||
	fail "the answer is not base64 PKCS#7"
openssl verify -CAfile "$T/ca/ca.pem" "$T/std/cert.pem" >/dev/null || fail "curl-enrolled cert does not verify"
openssl x509 -in "$T/std/cert.pem" -noout -ext subjectAltName | grep -q 'URI:ferry:alice' || fail "no ferry:alice SAN"
[[ $(openssl x509 -in "$T/std/cert.pem" -noout -pubkey | sha) == $(openssl pkey -in "$T/std/key.pem" -pubout | sha) ]] ||
	fail "the certificate is not for the key openssl made"
# RFC 8951: line breaks and spaces anywhere in the base64 are fine.
tr -d '\n' <"$T/std/csr.b64" | fold -w 7 | sed 's/^/ /' >"$T/std/csr-wrapped.b64"
est_curl -u alice:alice-secret-pw --data-binary @"$T/std/csr-wrapped.b64" "$EST/simpleenroll"
[[ $HTTP == 200 ]] || fail "base64 with whitespace: HTTP $HTTP: $(cat "$OUT")"
# /crl is DER, signed by the CA.
est_curl "$URL/crl"
[[ $HTTP == 200 ]] || fail "crl: HTTP $HTTP"
openssl crl -inform DER -in "$OUT" -CAfile "$T/ca/ca.pem" -noout 2>/dev/null || fail "/crl is not a CRL signed by the CA"

# --- the subject is always the authenticated user ----------------------------
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/k2.pem" -subj /CN=bob -addext 'subjectAltName=URI:ferry:bob' \
	-outform DER 2>/dev/null | openssl base64 >"$T/claims-bob.b64"
est_curl -u alice:alice-secret-pw --data-binary @"$T/claims-bob.b64" "$EST/simpleenroll"
[[ $HTTP == 200 ]] || fail "CSR claiming bob: HTTP $HTTP: $(cat "$OUT")"
openssl base64 -d -in "$OUT" | openssl pkcs7 -inform DER -print_certs | openssl x509 -noout -subject -ext subjectAltName >"$T/claims.txt"
grep -q 'subject=CN = alice' "$T/claims.txt" || fail "CSR claiming bob got: $(cat "$T/claims.txt")"
grep -q 'bob' "$T/claims.txt" && fail "a certificate names bob for alice: $(cat "$T/claims.txt")"

# --- requests that must be refused, each with a clean answer -----------------
# A bad signature (no proof of possession): the last byte of the DER flipped.
openssl base64 -d -in "$T/std/csr.b64" >"$T/csr.der"
python3 - "$T/csr.der" "$T/badsig.der" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[-1] ^= 0x01
open(sys.argv[2], "wb").write(b)
PY
openssl base64 -in "$T/badsig.der" >"$T/badsig.b64"
est_curl -u alice:alice-secret-pw --data-binary @"$T/badsig.b64" "$EST/simpleenroll"
[[ $HTTP == 400 ]] || fail "bad signature: HTTP $HTTP: $(cat "$OUT")"
grep -q 'signature does not verify' "$OUT" || fail "bad signature: $(cat "$OUT")"
# Malformed base64.
est_curl -u alice:alice-secret-pw --data-binary 'MIIB!!not-base64' "$EST/simpleenroll"
[[ $HTTP == 400 ]] || fail "malformed base64: HTTP $HTTP"
grep -q 'base64' "$OUT" || fail "malformed base64: $(cat "$OUT")"
# A truncated CSR (valid base64 of half the DER).
head -c 100 "$T/csr.der" | openssl base64 >"$T/trunc.b64"
est_curl -u alice:alice-secret-pw --data-binary @"$T/trunc.b64" "$EST/simpleenroll"
[[ $HTTP == 400 ]] || fail "truncated CSR: HTTP $HTTP"
# A key outside the policy: RSA 2048.
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/rsa.pem" -subj /CN=alice \
	-outform DER 2>/dev/null | openssl base64 >"$T/rsa.b64"
est_curl -u alice:alice-secret-pw --data-binary @"$T/rsa.b64" "$EST/simpleenroll"
[[ $HTTP == 400 ]] || fail "RSA-2048: HTTP $HTTP"
grep -q '2048 bits is not accepted' "$OUT" || fail "RSA-2048: $(cat "$OUT")"
# 10 MB: 413, and nothing read past the limit matters.
head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' 'A' >"$T/big.b64"
est_curl -u alice:alice-secret-pw --data-binary @"$T/big.b64" "$EST/simpleenroll"
[[ $HTTP == 413 || $HTTP == 000 ]] || fail "10 MB body: HTTP $HTTP"
[[ $HTTP == 413 ]] || note "10 MB body: connection closed before curl read the 413"
served "a 10 MB body"
est_curl "$URL/nothing-here"
[[ $HTTP == 404 ]] || fail "unknown path: HTTP $HTTP"
est_curl -X POST "$EST/cacerts"
[[ $HTTP == 405 ]] || fail "POST to cacerts: HTTP $HTTP"

# --- slow clients: cut off after --timeout, others served meanwhile -----------
t0=$(now_ms)
exec {slow}<>"/dev/tcp/127.0.0.1/$APORT"
served "a silent connection opened"
timeout 10 cat <&"$slow" >/dev/null || true
exec {slow}>&-
el=$(($(now_ms) - t0))
((el < 8000)) || fail "a silent client was kept for ${el} ms (timeout 2 s)"
# Half a request over TLS, then nothing.
t0=$(now_ms)
timeout 12 openssl s_client -connect "127.0.0.1:$APORT" -quiet >/dev/null 2>&1 < <(
	exec 2>/dev/null
	printf 'POST /.well-known/est/simpleenroll HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\nMII'
	sleep 9
) || true
el=$(($(now_ms) - t0))
((el < 8500)) || fail "a half-sent request was kept for ${el} ms (timeout 2 s)"
served "slow clients"

# --- bad credentials: 401, the same for an unknown user and a wrong password --
# Returns the status, the headers without Date, the body, and the time.
login() {
	local user=$1 pw=$2 t
	t=$(timeout 20 curl -s --cacert "$T/ca/ca.pem" -u "$user:$pw" -D "$T/h-$3" -o "$T/b-$3" \
		-w '%{http_code} %{time_total}' --data-binary @"$T/std/csr.b64" "$EST/simpleenroll")
	LOGIN_CODE=${t% *}
	LOGIN_TIME=${t#* }
	grep -vi '^date:' "$T/h-$3" >"$T/hh-$3"
}
login bob wrong-password-1 wrong
[[ $LOGIN_CODE == 401 ]] || fail "wrong password: HTTP $LOGIN_CODE"
grep -qi '^www-authenticate: basic' "$T/h-wrong" || fail "401 without WWW-Authenticate: Basic: $(cat "$T/h-wrong")"
t_wrong=$LOGIN_TIME
login nosuchuser wrong-password-1 unknown
[[ $LOGIN_CODE == 401 ]] || fail "unknown user: HTTP $LOGIN_CODE"
t_unknown=$LOGIN_TIME
cmp -s "$T/hh-wrong" "$T/hh-unknown" || fail "headers differ: $(diff "$T/hh-wrong" "$T/hh-unknown")"
cmp -s "$T/b-wrong" "$T/b-unknown" || fail "bodies differ: $(cat "$T/b-wrong") vs $(cat "$T/b-unknown")"
note "401 took ${t_wrong}s (wrong password) and ${t_unknown}s (unknown user)"
# Both paid for an Argon2id verification (some 10 ms at least).
python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(0 if min(a,b) > 0.01 and min(a,b) > max(a,b)/4 else 1)" \
	"$t_wrong" "$t_unknown" || fail "timings differ too much: ${t_wrong}s vs ${t_unknown}s"
# No Authorization at all: 401 too, not counted.
est_curl --data-binary @"$T/std/csr.b64" "$EST/simpleenroll"
[[ $HTTP == 401 ]] || fail "no credentials: HTTP $HTTP"
# Failed logins are logged and recorded, never with the password.
log_has "failed login for 'nosuchuser'" "$AUTHD_LOG"
grep -q 'wrong-password-1' "$AUTHD_LOG" && fail "the log holds a password"
n=$(sqlite3 "$T/ca/ferry.db" "SELECT COUNT(*) FROM events WHERE kind='login-failed' AND addr='127.0.0.1'")
[[ $n == 2 ]] || fail "login-failed events: $n, want 2"

# --- the 6th rapid failure for one user is throttled -----------------------
for i in 1 2 3 4; do
	login carol "wrong-$i" c$i
	[[ $LOGIN_CODE == 401 ]] || fail "carol failure $i: HTTP $LOGIN_CODE"
done
login carol wrong-5 c5
[[ $LOGIN_CODE == 401 ]] || fail "carol failure 5: HTTP $LOGIN_CODE"
login carol carol-secret-pw c6
[[ $LOGIN_CODE == 429 ]] || fail "6th attempt within the back-off: HTTP $LOGIN_CODE"
grep -qi '^retry-after: [0-9]' "$T/h-c6" || fail "429 without Retry-After: $(cat "$T/h-c6")"
log_has 'simpleenroll -> 429 user=carol' "$AUTHD_LOG"
# After the back-off, the right password works again.
wait_s=$(sed -n 's/^[Rr]etry-[Aa]fter: \([0-9]*\).*/\1/p' "$T/h-c6")
sleep "$((wait_s + 1))"
login carol carol-secret-pw c7
[[ $LOGIN_CODE == 200 ]] || fail "after the back-off: HTTP $LOGIN_CODE"
served "the throttling"
is_running "$AUTHD_PID" || fail "authd died"
stop_pid "$AUTHD_PID"
finish
