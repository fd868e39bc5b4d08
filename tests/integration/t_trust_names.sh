#!/usr/bin/env bash
# t_trust_names.sh - a host name belongs to one account. authd puts a DNS
# name or IP in a certificate only if the admin bound it to the account that
# asks; its own names are reserved; its certificate is marked so that no
# member's can pose as it; revoking a member by name locks the account.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"
have_python || skip "no python3"

authd_org
DB=$T/ca/ferry.db
printf 'dave-secret-pw\n' | "$FERRY" user add --db "$DB" --password-stdin dave >/dev/null

# --- binding names: hostile spellings refused or normalized ---------------------
expect_exit 0 "$FERRY" user dns --db "$DB" bob --add LOCALHOST. --add 127.0.0.2
expect_exit 0 "$FERRY" user list --db "$DB"
grep -Eq '^ +names localhost, 127\.0\.0\.2$' "$OUT" || fail "bob's names are not normalized: $(cat "$OUT")"
for taken in localhost Localhost localhost. 127.0.0.2; do
	run "$FERRY" user dns --db "$DB" alice --add "$taken"
	[[ $RC == 5 ]] || fail "binding bob's '$taken' to alice: exit $RC"
	expect_one_line_err "bound twice"
	err_has "'(localhost|127\.0\.0\.2)' is already bound to 'bob'"
done
for bad in '*.example.internal' '.example.internal' 'xn--bb-laptop.example.internal' \
	'bob laptop' '1.2.3.04' 'a..b' "$(printf 'b%.0s' {1..300})"; do
	run "$FERRY" user dns --db "$DB" alice --add "$bad"
	[[ $RC == 2 ]] || fail "binding '$bad': exit $RC, want 2"
	expect_one_line_err "binding '$bad'"
done
run "$FERRY" user dns --db "$DB" alice --del localhost
[[ $RC == 6 ]] || fail "alice unbinding bob's name: exit $RC"
err_has "'localhost' is not bound to 'alice'"

# --- authd reserves its own names -------------------------------------------------
start_authd --name auth.example.internal
run "$FERRY" user dns --db "$DB" alice --add Auth.Example.Internal
[[ $RC == 5 ]] || fail "binding authd's name: exit $RC"
err_has 'reserved for authd'
run "$FERRY" user dns --db "$DB" alice --add 127.0.0.1
[[ $RC == 5 ]] || fail "binding authd's listen address: exit $RC"
err_has 'reserved for authd'

# --- the impersonation: alice asks for bob's name ---------------------------------
refused_enroll() { # WHO REASON ARGS...: refused with REASON, nothing written
	local who=$1 why=$2
	shift 2
	run "$FERRY" enroll "$URL" --user "$who" -i "$T/$who" --fingerprint "$FP" \
		--password-stdin "$@" <<<"$who-secret-pw"
	[[ $RC == 5 ]] || fail "enroll $who $*: exit $RC, want 5: $(cat "$ERR")"
	expect_one_line_err "enroll $who $*"
	err_has "$why"
	[[ -z $(find "$T/$who" -type f 2>/dev/null) ]] || fail "refused enroll $* left files: $(find "$T/$who" -type f)"
}
refused_enroll alice "'localhost' is bound to another account" --dns localhost
refused_enroll alice "'127.0.0.2' is bound to another account" --ip 127.0.0.2
refused_enroll alice "'alice-laptop.example.internal' is not bound to 'alice'" --dns alice-laptop.example.internal
refused_enroll alice "'auth.example.internal' is authd's own name" --dns auth.example.internal
# The whole request is refused, not trimmed: one bad name among good ones.
expect_exit 0 "$FERRY" user dns --db "$DB" alice --add alice-laptop.example.internal
refused_enroll alice "'localhost' is bound to another account" --dns alice-laptop.example.internal --dns localhost
expect_exit 0 "$FERRY" user log --db "$DB" alice
[[ $(grep -c ' refused .*user=alice' "$OUT") -ge 5 ]] || fail "refusals not recorded: $(cat "$OUT")"
grep -q "refused .*'localhost' is bound to another account" "$OUT" || fail "no reason recorded: $(cat "$OUT")"

# bob gets his own names, however he spells them; alice gets hers.
enroll bob --dns LocalHost. --ip 127.0.0.2
san=$(openssl x509 -in "$T/bob/cert.pem" -noout -ext subjectAltName)
[[ $san == *"URI:ferry:bob, DNS:localhost, IP Address:127.0.0.2"* ]] || fail "bob's SAN: $san"
enroll alice --dns alice-laptop.example.internal
# Groups set on the account travel in the certificate.
expect_exit 0 "$FERRY" user group --db "$DB" carol --add finance --add staff
run "$FERRY" user group --db "$DB" carol --add 'fin ance'
[[ $RC == 2 ]] || fail "a group name with a space: exit $RC"
enroll carol
san=$(openssl x509 -in "$T/carol/cert.pem" -noout -ext subjectAltName)
[[ $san == *"URI:ferry:carol, URI:ferry-group:finance, URI:ferry-group:staff"* ]] || fail "carol's groups: $san"

# --- a client dialling a bare host name accepts bob's serve, refuses alice's -------
mkdir -p "$T/share" "$T/inbox" "$T/ashare" "$T/ainbox"
echo hello >"$T/f.txt"
start_daemon bob-lo serve "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/bob" --listen 127.0.0.1:0 --share "$T/share" --inbox "$T/inbox"
BOB_LO=$PORT
start_daemon bob-ip serve "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/bob" --listen 127.0.0.2:0 --share "$T/share" --inbox "$T/inbox"
BOB_IP=$PORT
start_daemon alice-lo serve "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/alice" --listen 127.0.0.1:0 --share "$T/ashare" --inbox "$T/ainbox"
ALICE_LO=$PORT
start_daemon alice-ip serve "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/alice" --listen 127.0.0.2:0 --share "$T/ashare" --inbox "$T/ainbox"
ALICE_IP=$PORT
expect_exit 0 "$FERRY" send -q -i "$T/carol" "$T/f.txt" "localhost:$BOB_LO"
expect_exit 0 "$FERRY" send -q -f -i "$T/carol" "$T/f.txt" "127.0.0.2:$BOB_IP"
for where in "localhost:$ALICE_LO" "127.0.0.2:$ALICE_IP"; do
	run "$FERRY" send -q -i "$T/carol" "$T/f.txt" "$where"
	[[ $RC == 4 ]] || fail "carol accepted alice's serve as $where: exit $RC"
	err_has 'not valid for the host name'
done
[[ ! -e $T/ainbox/carol/f.txt ]] || fail "a file reached alice posing as bob's machine"

# The account's group, carried in the certificate authd issued, is what
# serve's rules see: carol (finance) is a member here, alice is not.
start_daemon bob-fin serve "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/bob" --listen 127.0.0.1:0 --share "$T/share" \
	--inbox "$T/inbox" --members group:finance
expect_exit 0 "$FERRY" ls -i "$T/carol" "bob@127.0.0.1:$PORT"
run "$FERRY" ls -i "$T/alice" "bob@127.0.0.1:$PORT"
[[ $RC == 5 ]] || fail "alice (no group) listing a finance-only serve: exit $RC: $(cat "$ERR")"
err_has 'bob refuses: alice is not a member'

# --- authd's certificate is never a member's, a member's never authd's ------------
run "$FERRY" ls -i "$T/carol" "127.0.0.1:$APORT"
[[ $RC == 4 ]] || fail "ls against authd's port: exit $RC: $(cat "$ERR")"
err_has "authd's server certificate, not a member's"
openssl x509 -in "$T/bob/cert.pem" -noout -text | grep -q '2\.25\.149565794605625084560374328466845762919' &&
	fail "a member certificate carries authd's extended key usage"

# A fake authd on 127.0.0.1 with a member certificate valid for that address
# (the offline admin's 'ca issue --ip', or a name redirected by DNS/ARP): it
# answers /cacerts with the real CA, so only the marking can tell.
"$FERRY" ca issue --dir "$T/ca" --name mallory --ip 127.0.0.1 --out "$T/mallory" >/dev/null
openssl crl2pkcs7 -nocrl -certfile "$T/ca/ca.pem" -outform DER | openssl base64 -A >"$T/cacerts.b64"
cat >"$T/fake_authd.py" <<'PY'
import http.server, ssl, sys
d = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def record(self):
        with open(d + "/fake-requests.log", "a") as f:
            f.write("%s %s auth=%s\n" % (self.command, self.path, self.headers.get("Authorization")))
    def do_GET(self):
        self.record()
        body = open(d + "/cacerts.b64", "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/pkcs7-mime; smime-type=certs-only")
        self.send_header("Content-Transfer-Encoding", "base64")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        self.record()
        self.send_response(500)
        self.end_headers()
s = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(d + "/mallory/cert.pem", d + "/mallory/key.pem")
s.socket = ctx.wrap_socket(s.socket, server_side=True)
print("fake: listening on 127.0.0.1:%d" % s.server_address[1], file=sys.stderr, flush=True)
s.serve_forever()
PY
start_daemon fake fake python3 "$T/fake_authd.py" "$T"
run "$FERRY" enroll "https://127.0.0.1:$PORT" --user dave -i "$T/dave" --fingerprint "$FP" \
	--password-stdin <<<"dave-secret-pw"
[[ $RC == 4 ]] || fail "enroll against a member posing as authd: exit $RC: $(cat "$ERR")"
expect_one_line_err "fake authd"
err_has "not this organization's authd: it is member 'mallory''s certificate"
grep -q 'GET /.well-known/est/cacerts' "$T/fake-requests.log" || fail "the fake was never asked: $(cat "$T/fake-requests.log")"
grep -v 'auth=None' "$T/fake-requests.log" && fail "credentials reached the fake authd"
grep -q 'simpleenroll' "$T/fake-requests.log" && fail "a request reached the fake authd after /cacerts"
[[ -z $(find "$T/dave" -type f 2>/dev/null) ]] || fail "the refused enroll left files"

# --- hostile CSRs straight to authd (openssl + curl, no ferry client) --------------
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/k.pem" 2>/dev/null
csr_post() { # USER SAN: posts a CSR asking for SAN as USER
	openssl req -new -key "$T/k.pem" -subj "/CN=$1" -addext "subjectAltName=$2" \
		-outform DER 2>/dev/null | openssl base64 >"$T/csr.b64"
	est_curl -u "$1:$1-secret-pw" -H 'Content-Type: application/pkcs10' \
		--data-binary @"$T/csr.b64" "$EST/simpleenroll"
}
csr_post bob 'DNS:*.localhost'
[[ $HTTP == 400 ]] || fail "wildcard: HTTP $HTTP"
grep -q 'wildcards are not allowed' "$OUT" || fail "wildcard: $(cat "$OUT")"
csr_post bob 'DNS:xn--lcalhost-9za'
[[ $HTTP == 400 ]] || fail "punycode: HTTP $HTTP"
csr_post bob 'IP:127.0.0.1'
[[ $HTTP == 403 ]] || fail "authd's address: HTTP $HTTP"
grep -q "authd's own name" "$OUT" || fail "authd's address: $(cat "$OUT")"
csr_post bob "$(for i in $(seq 1 70); do printf 'DNS:h%d.example,' "$i"; done)DNS:localhost"
[[ $HTTP == 400 ]] || fail "70 names: HTTP $HTTP"
csr_post bob 'DNS:LOCALHOST.,DNS:localhost,IP:127.0.0.2'
[[ $HTTP == 200 ]] || fail "bob's names in other spellings: HTTP $HTTP: $(cat "$OUT")"
openssl base64 -d -in "$OUT" | openssl pkcs7 -inform DER -print_certs | openssl x509 -noout -ext subjectAltName >"$T/san"
grep -q 'URI:ferry:bob, DNS:localhost, IP Address:127.0.0.2$' "$T/san" || fail "normalized SAN: $(cat "$T/san")"

# --- renewal issues only names still bound ---------------------------------------
expect_exit 0 "$FERRY" user dns --db "$DB" bob --del 127.0.0.2
expect_exit 0 "$FERRY" renew -i "$T/bob"
err_has 'leaves out 127\.0\.0\.2: it is no longer bound'
san=$(openssl x509 -in "$T/bob/cert.pem" -noout -ext subjectAltName)
[[ $san == *"DNS:localhost"* && $san != *127.0.0.2* ]] || fail "renewed SAN: $san"

# --- a lost laptop: revoking by name locks the account -----------------------------
expect_exit 0 "$FERRY" ca revoke --dir "$T/ca" --name alice
grep -q "disabled account alice" "$OUT" || fail "revoke --name did not say it disabled: $(cat "$OUT")"
rm -rf "$T/alice"
refused_enroll alice "the account 'alice' is disabled"
run "$FERRY" renew -i "$T/carol"
[[ $RC == 0 ]] || fail "carol's renewal suffered: $(cat "$ERR")"
expect_exit 0 "$FERRY" user list --db "$DB"
grep -q '^alice .*DISABLED' "$OUT" || fail "user list does not show alice disabled: $(cat "$OUT")"
expect_exit 0 "$FERRY" user enable --db "$DB" alice
enroll alice
expect_exit 0 "$FERRY" user disable --db "$DB" carol
run "$FERRY" renew -i "$T/carol"
[[ $RC == 5 ]] || fail "renewal of a disabled account: exit $RC"
err_has "the account 'carol' is disabled"

# --- --allow-dns: a guard on top of the bindings; no leading dot -------------------
stop_pid "$AUTHD_PID"
run "$FERRY" authd "${ALLOW_ROOT[@]}" --ca-dir "$T/ca" --listen 127.0.0.1:0 --allow-dns .example.internal
[[ $RC == 2 ]] || fail "--allow-dns with a leading dot: exit $RC"
expect_one_line_err "--allow-dns .example.internal"
err_has "without the leading dot"
start_authd --name auth.example.internal --allow-dns example.internal
expect_exit 0 "$FERRY" user dns --db "$DB" dave --add dave.other.org --add dave.example.internal
refused_enroll dave "'dave.other.org' is outside the domains" --dns dave.other.org
enroll dave --dns DAVE.example.internal

stop_pid "$AUTHD_PID"
finish
