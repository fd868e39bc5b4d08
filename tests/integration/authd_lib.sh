# shellcheck shell=bash
# authd_lib.sh - what the t_authd_*.sh tests share, on top of lib.sh:
#   authd_org        CA in $T/ca ($FP: its fingerprint), accounts alice,
#                    bob, carol (password "<name>-secret-pw") in $T/ca/ferry.db
#   start_authd [ARGS]  ferry authd on 127.0.0.1:0; sets APORT, AUTHD_PID,
#                    AUTHD_LOG, URL, EST (the /.well-known/est base URL)
#   enroll NAME [ARGS]  ferry enroll NAME into $T/NAME with the right
#                    password and fingerprint; fails the test if it fails
#   est_curl ARGS    curl against authd trusting only the CA; status in $HTTP

command -v curl >/dev/null || skip "no curl command"
command -v openssl >/dev/null || skip "no openssl command"

authd_org() {
	"$FERRY" ca init --dir "$T/ca" --name "Test Org Root CA" >"$T/ca-init.out" 2>&1 || {
		cat "$T/ca-init.out" >&2
		fail "ca init failed"
	}
	FP=$(cut -d' ' -f1 "$T/ca-init.out")
	local u
	for u in alice bob carol; do
		printf '%s-secret-pw\n' "$u" | "$FERRY" user add --db "$T/ca/ferry.db" \
			--password-stdin "$u" >"$T/user-$u.out" 2>&1 || {
			cat "$T/user-$u.out" >&2
			fail "user add $u failed"
		}
	done
}

start_authd() {
	start_daemon authd authd "$FERRY" authd "${ALLOW_ROOT[@]}" \
		--ca-dir "$T/ca" --listen 127.0.0.1:0 "$@"
	APORT=$PORT
	AUTHD_PID=$DAEMON_PID
	AUTHD_LOG=$T/authd.log
	URL=https://127.0.0.1:$APORT
	EST=$URL/.well-known/est
}

enroll() {
	local name=$1
	shift
	run "$FERRY" enroll "$URL" --user "$name" -i "$T/$name" \
		--fingerprint "$FP" --password-stdin "$@" <<<"$name-secret-pw"
	[[ $RC == 0 ]] || fail "enroll $name: exit $RC: $(cat "$ERR")"
}

# est_curl ARGS...: curl -s with the CA as the only trust anchor; the body
# in $OUT, headers in $T/headers, the status in $HTTP.
est_curl() {
	HTTP=$(timeout -k 5 "$CMD_TIMEOUT" curl -s --cacert "$T/ca/ca.pem" \
		-D "$T/headers" -o "$OUT" -w '%{http_code}' "$@") || true
}
