#!/usr/bin/env bash
# t_chain.sh - an organization with an offline root and an online issuing
# CA: authd runs as another user from ISSUERDIR and cannot read the root's
# key; members enroll pinning the root, push and pull through the chain; an
# offline `ca issue` from ISSUERDIR works too; revoking the issuing CA at the
# root makes every transfer fail once CRLs are distributed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"

ROOT=$T/root
ISS=$T/issuer

# authd runs as nobody when we are root (CI); otherwise as ourselves, and
# the part that proves the root key out of its reach is skipped.
AS_AUTHD=()
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null && getent passwd nobody >/dev/null; then
	AS_AUTHD=(setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups)
else
	note "not root: authd runs as this user; the root key test is skipped"
fi
chmod 0711 "$T"

# --- the root, offline ------------------------------------------------------
expect_exit 0 "$FERRY" ca init --dir "$ROOT" --name "Chain Test Root CA"
RFP=$(cut -d' ' -f1 "$OUT")
expect_exit 0 "$FERRY" ca intermediate --dir "$ROOT" --out "$ISS" --name "Chain Test Issuing CA 1"
grep -Eq "^issued CA 'Chain Test Issuing CA 1' serial [0-9A-F]+ valid until .* -> $ISS \(SHA256:[0-9a-f]{64}\)\$" "$OUT" ||
	fail "ca intermediate stdout: $(cat "$OUT")"
ISERIAL=$(sed -n 's/.* serial \([0-9A-F]*\) .*/\1/p' "$OUT")
grep -Eq "^$ISERIAL	.*	ca:Chain Test Issuing CA 1	V\$" "$ROOT/index.tsv" || fail "root's index lacks the issuing CA: $(cat "$ROOT/index.tsv")"
[[ $(stat -c %a "$ISS") == 700 && $(stat -c %a "$ISS/ca.key") == 600 ]] || fail "ISSUERDIR or its key is not private"
for f in ca.pem root.pem root-crl.pem index.tsv certs; do
	[[ -e $ISS/$f ]] || fail "ISSUERDIR lacks $f"
done
cmp -s "$ISS/root.pem" "$ROOT/ca.pem" || fail "root.pem is not the root"
openssl x509 -in "$ISS/ca.pem" -noout -text >"$T/iss.txt"
grep -A1 'Basic Constraints: critical' "$T/iss.txt" | grep -q 'CA:TRUE, pathlen:0' || fail "issuing CA lacks CA:TRUE pathlen:0: $(cat "$T/iss.txt")"
grep -A1 'Key Usage: critical' "$T/iss.txt" | grep -qx ' *Certificate Sign, CRL Sign' || fail "issuing CA key usage: $(grep -A1 'Key Usage' "$T/iss.txt")"
grep -q 'Authority Key Identifier' "$T/iss.txt" || fail "issuing CA has no AKI"
openssl verify -CAfile "$ROOT/ca.pem" "$ISS/ca.pem" >/dev/null || fail "the issuing CA does not verify against the root"
openssl crl -in "$ISS/root-crl.pem" -CAfile "$ROOT/ca.pem" -noout 2>/dev/null || fail "root-crl.pem is not the root's"
root_na=$(date -d "$(openssl x509 -in "$ROOT/ca.pem" -noout -enddate | cut -d= -f2)" +%s)
iss_na=$(date -d "$(openssl x509 -in "$ISS/ca.pem" -noout -enddate | cut -d= -f2)" +%s)
((iss_na <= root_na)) || fail "the issuing CA outlives the root"

# Refused: into an existing CA; from an issuing CA; past the root's life.
expect_exit 5 "$FERRY" ca intermediate --dir "$ROOT" --out "$ISS" --name "Again"
expect_one_line_err "intermediate into a CA"
err_has 'already exists'
expect_exit 5 "$FERRY" ca intermediate --dir "$ROOT" --out "$ROOT" --name "Again"
err_has 'already exists'
expect_exit 5 "$FERRY" ca intermediate --dir "$ISS" --out "$T/iss2" --name "Sub"
expect_one_line_err "intermediate from an issuing CA"
err_has 'an issuing CA cannot sign another CA'
[[ ! -e $T/iss2 ]] || fail "a refused intermediate left $T/iss2"
expect_exit 2 "$FERRY" ca intermediate --dir "$ROOT" --out "$T/iss3" --name "Long" --days 36000
err_has 'after the CA certificate expires'
[[ ! -e $T/iss3/ca.key ]] || fail "a refused intermediate left a key"
[[ $(wc -l <"$ROOT/index.tsv") == 1 ]] || fail "refusals were recorded at the root: $(cat "$ROOT/index.tsv")"

# --- authd from ISSUERDIR, as another user ------------------------------------
for u in alice bob; do
	printf '%s-secret-pw\n' "$u" | "$FERRY" user add --db "$ISS/ferry.db" --password-stdin "$u" >/dev/null
done
"$FERRY" user dns --db "$ISS/ferry.db" bob --add localhost >/dev/null
chmod 0700 "$ROOT"
if [[ ${#AS_AUTHD[@]} -gt 0 ]]; then
	chown -R nobody "$ISS"
	# The proof: as that user the root's key is out of reach.
	run "${AS_AUTHD[@]}" cat "$ROOT/ca.key"
	[[ $RC != 0 ]] || fail "the authd user can read the root key"
	run "${AS_AUTHD[@]}" cat "$ISS/ca.key"
	[[ $RC == 0 ]] || fail "the authd user cannot read the issuing CA's key: $(cat "$ERR")"
fi
start_daemon authd authd "${AS_AUTHD[@]}" "$FERRY" authd --ca-dir "$ISS" \
	--listen 127.0.0.1:0 --allow-dns localhost
APORT=$PORT
AUTHD_PID=$DAEMON_PID
AUTHD_LOG=$T/authd.log
URL=https://127.0.0.1:$APORT
if [[ ${#AS_AUTHD[@]} -gt 0 ]]; then
	apid=$(pgrep -f -- "--ca-dir $ISS" | head -n1)
	[[ -n $apid ]] || fail "no authd process"
	grep -Eq "^Uid:[[:space:]]+65534[[:space:]]" "/proc/$apid/status" || fail "authd does not run as nobody: $(grep Uid "/proc/$apid/status")"
	[[ $(stat -c %u "$ROOT") == 0 && $(stat -c %a "$ROOT") == 700 ]] || fail "ROOTDIR is not root's own, 0700"
fi

# /cacerts: the issuing CA and the root; authd's TLS chain verifies with
# the root alone (curl trusts only root.pem).
HTTP=$(timeout -k 5 "$CMD_TIMEOUT" curl -s --cacert "$ROOT/ca.pem" -o "$T/cacerts.b64" -w '%{http_code}' \
	"$URL/.well-known/est/cacerts") || true
[[ $HTTP == 200 ]] || fail "/cacerts with the root as only anchor: HTTP $HTTP"
openssl base64 -d -in "$T/cacerts.b64" | openssl pkcs7 -inform DER -print_certs -out "$T/cacerts.pem"
[[ $(grep -c 'BEGIN CERTIFICATE' "$T/cacerts.pem") == 2 ]] || fail "/cacerts holds $(grep -c 'BEGIN CERTIFICATE' "$T/cacerts.pem") certificates, want 2"
grep -q 'subject=CN *= *Chain Test Issuing CA 1' "$T/cacerts.pem" || fail "/cacerts lacks the issuing CA"
grep -q 'subject=CN *= *Chain Test Root CA' "$T/cacerts.pem" || fail "/cacerts lacks the root"
# /crl.pem, with curl alone, is a crl.pem: both levels, each its CA's.
HTTP=$(timeout -k 5 "$CMD_TIMEOUT" curl -s --cacert "$ROOT/ca.pem" -o "$T/curl-crl.pem" -w '%{http_code}' "$URL/crl.pem") || true
[[ $HTTP == 200 ]] || fail "/crl.pem: HTTP $HTTP"
[[ $(grep -c 'BEGIN X509 CRL' "$T/curl-crl.pem") == 2 ]] || fail "/crl.pem does not hold two CRLs"

# --- members pin the ROOT and get chains ----------------------------------------
FP=$RFP
enroll alice
enroll bob --dns localhost
for m in alice bob; do
	[[ $(grep -c 'BEGIN CERTIFICATE' "$T/$m/cert.pem") == 2 ]] || fail "$m: cert.pem is not leaf + issuer"
	cmp -s "$T/$m/ca.pem" "$ROOT/ca.pem" || fail "$m: ca.pem is not the root"
	[[ $(grep -c 'BEGIN X509 CRL' "$T/$m/crl.pem") == 2 ]] || fail "$m: crl.pem does not hold both levels"
	openssl x509 -in "$T/$m/cert.pem" -out "$T/$m-leaf.pem"
	openssl verify -CAfile "$ROOT/ca.pem" -untrusted "$ISS/ca.pem" "$T/$m-leaf.pem" >/dev/null ||
		fail "$m: openssl verify -CAfile root -untrusted issuer leaf fails"
	openssl verify -crl_check_all -CRLfile "$T/$m/crl.pem" -CAfile "$ROOT/ca.pem" \
		-untrusted "$ISS/ca.pem" "$T/$m-leaf.pem" >/dev/null || fail "$m: does not verify with both CRLs"
done
# ferry id shows the whole chain with fingerprints and both CRLs.
expect_exit 0 "$FERRY" id -i "$T/bob"
ifp=$(openssl x509 -in "$ISS/ca.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
rfp=$(openssl x509 -in "$ROOT/ca.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
grep -q "Chain Test Issuing CA 1 *SHA256:$ifp" "$OUT" || fail "id: no issuing CA line: $(cat "$OUT")"
grep -q "Chain Test Root CA *SHA256:$rfp" "$OUT" || fail "id: no root line: $(cat "$OUT")"
[[ $(grep -c ' number [0-9]*, [0-9]* revoked, next update ' "$OUT") == 2 ]] || fail "id: not two CRLs: $(cat "$OUT")"
grep -q '^verified  up to ca.pem, none revoked$' "$OUT" || fail "id: not verified: $(cat "$OUT")"
# Leaves come from the issuing CA's own record, not the root's.
grep -q '	alice	V$' "$ISS/index.tsv" || fail "alice is not in the issuing CA's index"
grep -q '	alice	V$' "$ROOT/index.tsv" && fail "alice was recorded at the root"

# --- push and pull through the chain ---------------------------------------------
mkdir -p "$T/share" "$T/inbox"
printf 'through the chain\n' >"$T/f.txt"
printf 'shared by bob\n' >"$T/share/g.txt"
SERVE_ID=$T/bob start_serve
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$PORT"
cmp -s "$T/f.txt" "$T/inbox/alice/f.txt" || fail "push through the chain: content differs"
mkdir -p "$T/got"
(cd "$T/got" && expect_exit 0 "$FERRY" get -i "$T/alice" "bob@127.0.0.1:$PORT:g.txt")
cmp -s "$T/share/g.txt" "$T/got/g.txt" || fail "pull through the chain: content differs"

# renew keeps the chain.
expect_exit 0 "$FERRY" renew -i "$T/alice"
[[ $(grep -c 'BEGIN CERTIFICATE' "$T/alice/cert.pem") == 2 ]] || fail "renew: cert.pem lost its chain"
expect_exit 0 "$FERRY" send --force -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$PORT"

# --- offline issuance from ISSUERDIR -----------------------------------------------
mkdir -m 0700 "$T/carol"
[[ ${#AS_AUTHD[@]} -gt 0 ]] && chown nobody "$T/carol"
expect_exit 0 "${AS_AUTHD[@]}" "$FERRY" ca issue --dir "$ISS" --name carol --out "$T/carol"
[[ $(grep -c 'BEGIN CERTIFICATE' "$T/carol/cert.pem") == 2 ]] || fail "ca issue: cert.pem is not leaf + issuer"
cmp -s "$T/carol/ca.pem" "$ROOT/ca.pem" || fail "ca issue: ca.pem is not the root"
expect_exit 0 "$FERRY" crl update -i "$T/carol" --url "$URL"
expect_exit 0 "$FERRY" send -i "$T/carol" "$T/f.txt" "bob@127.0.0.1:$PORT"
cmp -s "$T/f.txt" "$T/inbox/carol/f.txt" || fail "push from an offline-issued member"

# --- hostile: CRLs of the wrong shape ------------------------------------------------
cp "$T/alice/crl.pem" "$T/alice-crl.good"
# Only the issuing CA's CRL: the root's level is missing.
awk '/BEGIN X509 CRL/{n++} n==1' "$T/alice-crl.good" >"$T/alice/crl.pem"
run "$FERRY" send --force -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$PORT"
[[ $RC == 4 ]] || fail "crl.pem without the root's CRL: exit $RC: $(cat "$ERR")"
expect_one_line_err "missing root CRL"
err_has "no CRL of the root CA .*ferry crl update"
# A forged root CRL: same name, another key.
"$FERRY" ca init --dir "$T/fake" --name "Chain Test Root CA" >/dev/null
"$FERRY" ca crl --dir "$T/fake" --out "$T/fake-crl.pem" >/dev/null
cat "$T/fake-crl.pem" >>"$T/alice/crl.pem"
run "$FERRY" send --force -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$PORT"
[[ $RC == 4 ]] || fail "forged root CRL: exit $RC: $(cat "$ERR")"
expect_one_line_err "forged root CRL"
err_has "CRL of the root CA .* not signed by its key"
cp "$T/alice-crl.good" "$T/alice/crl.pem"

# authd's copy of the root CRL forged: /crl.pem and enrollment refuse,
# crl update keeps the old file.
cp "$ISS/root-crl.pem" "$T/root-crl.good"
cp "$T/fake-crl.pem" "$ISS/root-crl.pem"
run "$FERRY" crl update -i "$T/alice"
[[ $RC != 0 ]] || fail "crl update took a forged root CRL"
expect_one_line_err "crl update with forged root CRL"
err_has 'root CA.s CRL'
cmp -s "$T/alice/crl.pem" "$T/alice-crl.good" || fail "a refused crl update changed crl.pem"
grep -q 'root-crl.pem' "$AUTHD_LOG" || fail "authd did not log the bad root-crl.pem"
# Missing: authd refuses to start from such an ISSUERDIR.
rm -f "$ISS/root-crl.pem"
run "${AS_AUTHD[@]}" "$FERRY" authd --ca-dir "$ISS" --listen 127.0.0.1:0
[[ $RC != 0 ]] || fail "authd started without root-crl.pem"
expect_one_line_err "authd without root-crl.pem"
err_has "root-crl.pem.*ferry ca crl --dir ROOTDIR"
# Expired: a root CRL whose nextUpdate has passed (signed with openssl ca).
mkdir -p "$T/ossl"
: >"$T/ossl/index.txt"
cat >"$T/ossl/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $T/ossl/index.txt
default_md = sha256
crl_extensions = ext
[ext]
authorityKeyIdentifier = keyid:always
EOF
openssl ca -batch -config "$T/ossl/ca.cnf" -gencrl -keyfile "$ROOT/ca.key" -cert "$ROOT/ca.pem" \
	-crlsec 1 -out "$T/expired-crl.pem" 2>/dev/null || fail "openssl ca -gencrl failed"
sleep 2
cp "$T/expired-crl.pem" "$ISS/root-crl.pem"
run "${AS_AUTHD[@]}" "$FERRY" authd --ca-dir "$ISS" --listen 127.0.0.1:0
[[ $RC != 0 ]] || fail "authd started with an expired root-crl.pem"
expect_one_line_err "authd with an expired root CRL"
err_has "expired on"
run "$FERRY" crl update -i "$T/alice"
[[ $RC != 0 ]] || fail "crl update took an expired root CRL"
expect_one_line_err "crl update with an expired root CRL"
# A member holding the expired root CRL: a clear line, not a bare failure.
awk '/BEGIN X509 CRL/{n++} n==1' "$T/alice-crl.good" >"$T/alice/crl.pem"
cat "$T/expired-crl.pem" >>"$T/alice/crl.pem"
run "$FERRY" send --force -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$PORT"
[[ $RC == 4 ]] || fail "expired root CRL at the member: exit $RC: $(cat "$ERR")"
expect_one_line_err "expired root CRL at the member"
err_has "CRL of CN=Chain Test Root CA in crl.pem has expired; run 'ferry crl update'"
cp "$T/alice-crl.good" "$T/alice/crl.pem"
cp "$T/root-crl.good" "$ISS/root-crl.pem"
expect_exit 0 "$FERRY" send --force -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$PORT"

# --- revoking the issuing CA at the root ------------------------------------------------
expect_exit 0 "$FERRY" ca revoke --dir "$ROOT" --serial "$ISERIAL"
grep -q "revoked ca:Chain Test Issuing CA 1 serial $ISERIAL" "$OUT" || fail "revoke stdout: $(cat "$OUT")"
expect_exit 0 "$FERRY" ca crl --dir "$ROOT" --days 30 --out "$ISS/root-crl.pem"
for m in alice bob; do
	expect_exit 0 "$FERRY" crl update -i "$T/$m"
done
openssl verify -crl_check_all -CRLfile "$T/alice/crl.pem" -CAfile "$ROOT/ca.pem" \
	-untrusted "$ISS/ca.pem" "$T/alice-leaf.pem" >/dev/null 2>&1 && fail "openssl still accepts alice after the revocation"
run "$FERRY" id -i "$T/alice"
[[ $RC == 4 ]] || fail "id under a revoked issuing CA: exit $RC"
err_has 'does not verify: certificate revoked \(depth 1\)'
run "$FERRY" send --force -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$PORT"
[[ $RC == 4 ]] || fail "transfer under a revoked issuing CA: exit $RC: $(cat "$ERR")"
expect_one_line_err "revoked issuing CA"
err_has "issuing CA \(CN=Chain Test Issuing CA 1\) has been revoked"
# Pull too, and the serving side says the same of its clients.
(cd "$T/got" && run "$FERRY" get -i "$T/alice" "bob@127.0.0.1:$PORT:g.txt")
[[ $RC == 4 ]] || fail "pull under a revoked issuing CA: exit $RC"
err_has 'revoked'
log_mark "$SERVE_LOG"
run "$FERRY" send --force -i "$T/carol" "$T/f.txt" "bob@127.0.0.1:$PORT"
[[ $RC == 4 ]] || fail "carol (no new CRL) pushing to bob: exit $RC"
wait_log 'issuing CA \(CN=Chain Test Issuing CA 1\) has been revoked'
# Nor does an offline ca issue from it.
mkdir -m 0700 "$T/dave"
[[ ${#AS_AUTHD[@]} -gt 0 ]] && chown nobody "$T/dave"
run "${AS_AUTHD[@]}" "$FERRY" ca issue --dir "$ISS" --name dave --out "$T/dave"
[[ $RC == 4 ]] || fail "ca issue from a revoked issuing CA: exit $RC: $(cat "$ERR")"
expect_one_line_err "ca issue from a revoked issuing CA"
err_has 'has been revoked by the root'
[[ ! -e $T/dave/key.pem ]] || fail "a refused ca issue wrote a key"
# authd no longer issues from a revoked CA.
run "$FERRY" renew -i "$T/bob"
[[ $RC != 0 ]] || fail "authd renewed under a revoked issuing CA"
err_has 'revoked'

stop_pid "$AUTHD_PID"
finish
