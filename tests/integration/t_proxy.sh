#!/usr/bin/env bash
# t_proxy.sh - enroll, renew and crl update through a real HTTP proxy
# (tinyproxy, run here on a loopback port with its own configuration, and
# behind tlsfront.py as an https:// proxy),
# chosen from https_proxy as curl does: the proxy sees a CONNECT and then
# only TLS (never the password); no_proxy bypasses it; a dead proxy, a
# proxy that refuses the tunnel and a bad proxy URL are one clear line
# each; proxy credentials are never shown.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"

command -v tinyproxy >/dev/null || skip "no tinyproxy (Debian: tinyproxy-bin)"
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_proxy NAME [CONFIG LINES...]: tinyproxy on 127.0.0.1; sets PPORT,
# PLOG ($T/NAME.log: one line per connection and request).
start_proxy() {
	local name=$1 try
	shift
	PLOG=$T/$name.log
	for try in 1 2 3; do
		PPORT=$(free_port)
		{
			printf 'Listen 127.0.0.1\nPort %s\nTimeout 30\nMaxClients 8\n' "$PPORT"
			printf 'Allow 127.0.0.1\nLogLevel Connect\nLogFile "%s"\n' "$PLOG"
			printf 'PidFile "%s"\n' "$T/$name.pid"
			printf '%s\n' "$@"
		} >"$T/$name.conf"
		bg "$name" tinyproxy -d -c "$T/$name.conf"
		if wait_until 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PPORT" 2>/dev/null; then
			return 0
		fi
		stop_pid "$BG_PID" KILL || true
		note "tinyproxy did not start on port $PPORT (try $try)"
	done
	fail "tinyproxy did not start: $(cat "$T/$name.err" "$PLOG" 2>/dev/null | tail -n 5)"
}

# The proxy log since log_mark: how many CONNECTs to authd it relayed.
connects() {
	log_new "$PLOG" | grep -c "CONNECT 127.0.0.1:$APORT " || true
}

authd_org
start_authd
start_proxy proxy
PROXY=http://127.0.0.1:$PPORT
note "authd on $APORT, tinyproxy on $PPORT"

capture=0
if command -v tcpdump >/dev/null; then
	timeout 30 tcpdump -Z root --immediate-mode -i lo -w "$T/cap.pcap" -U "tcp port $PPORT" >"$T/tcpdump.out" 2>&1 &
	cap=$!
	BG_PIDS+=("$cap")
	wait_until 5 grep -q "listening on" "$T/tcpdump.out" && capture=1
fi

# --- enroll through the proxy: a CONNECT, then TLS only ----------------------
log_mark "$PLOG"
https_proxy=$PROXY enroll alice -v
[[ $(connects) -ge 2 ]] || fail "enroll: the proxy relayed $(connects) CONNECTs to authd: $(log_new "$PLOG")"
grep -q "through the proxy $PROXY (from https_proxy)" "$ERR" || fail "enroll -v does not name the proxy: $(cat "$ERR")"
log_has 'simpleenroll -> 200 user=alice' "$AUTHD_LOG"
grep -q 'alice-secret-pw' "$PLOG" && fail "the password is in the proxy's log"
b64=$(printf 'alice:alice-secret-pw' | base64)
if [[ $capture == 1 ]]; then
	sleep 0.5
	kill -INT "$cap" 2>/dev/null || true
	wait "$cap" 2>/dev/null || true
	grep -aq "CONNECT 127.0.0.1:$APORT HTTP/1.1" "$T/cap.pcap" ||
		fail "the capture does not show the CONNECT: capturing did not work"
	grep -aq 'alice-secret-pw' "$T/cap.pcap" && fail "the password crossed the proxy in clear"
	grep -aq "$b64" "$T/cap.pcap" && fail "the Basic credentials crossed the proxy in clear"
	grep -aqi 'authorization' "$T/cap.pcap" && fail "an Authorization header crossed the proxy in clear"
	note "capture: the proxy saw the CONNECT, then no credentials"
else
	note "capturing on lo is not permitted here: the capture part not run"
fi

# --- renew (client certificate) and crl update, HTTPS_PROXY too --------------
log_mark "$PLOG"
HTTPS_PROXY=$PROXY expect_exit 0 "$FERRY" renew -i "$T/alice"
[[ $(connects) -ge 2 ]] || fail "renew: no CONNECT through the proxy: $(log_new "$PLOG")"
log_has 'simplereenroll -> 200 user=alice' "$AUTHD_LOG"
log_mark "$PLOG"
all_proxy=$PROXY expect_exit 0 "$FERRY" crl update -i "$T/alice"
[[ $(connects) == 1 ]] || fail "crl update (all_proxy): $(connects) CONNECTs: $(log_new "$PLOG")"

# Credentials in the proxy URL never show, not even with -v.
log_mark "$PLOG"
https_proxy=http://puser:proxy-secret-9@127.0.0.1:$PPORT expect_exit 0 "$FERRY" crl update -v -i "$T/alice"
[[ $(connects) == 1 ]] || fail "crl update through user:pass@proxy: $(log_new "$PLOG")"
grep -q 'proxy-secret-9\|puser' "$ERR" && fail "the proxy's credentials are shown: $(cat "$ERR")"
grep -q "through the proxy $PROXY " "$ERR" || fail "-v lacks the proxy: $(cat "$ERR")"

# --- no_proxy: authd's address (or *) bypasses the proxy -----------------------
for np in 127.0.0.1 '*' 'example.com, 127.0.0.0/8' .localhost,127.0.0.1; do
	log_mark "$PLOG"
	https_proxy=$PROXY no_proxy=$np expect_exit 0 "$FERRY" crl update -i "$T/alice"
	[[ $(log_new "$PLOG" | wc -l) == 0 ]] || fail "no_proxy=$np: the proxy was used: $(log_new "$PLOG")"
done
log_mark "$PLOG"
https_proxy=$PROXY NO_PROXY=127.0.0.1 expect_exit 0 "$FERRY" crl update -i "$T/alice"
[[ $(log_new "$PLOG" | wc -l) == 0 ]] || fail "NO_PROXY: the proxy was used"
# Entries that do not name authd's host leave the proxy in use.
log_mark "$PLOG"
https_proxy=$PROXY no_proxy=example.com,127.0.0.2,10.0.0.0/8,127.0.0.0/x,0.1 expect_exit 0 "$FERRY" crl update -i "$T/alice"
[[ $(connects) == 1 ]] || fail "no_proxy naming other hosts bypassed the proxy"
# http_proxy is for http:// only (curl too): authd is reached directly.
log_mark "$PLOG"
http_proxy=$PROXY expect_exit 0 "$FERRY" crl update -i "$T/alice"
[[ $(log_new "$PLOG" | wc -l) == 0 ]] || fail "http_proxy was used for https"
# No proxy variable at all: as before.
expect_exit 0 "$FERRY" crl update -i "$T/alice"

# --- authd's answers come through as they are: 401, then 429 with Retry-After --
# Five failures for one user start a back-off of 2 s, doubling with each
# further failure: keep failing (at most 10 times) until authd says 429.
throttled=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	https_proxy=$PROXY run "$FERRY" enroll "$URL" --user carol -i "$T/carol-$i" \
		--fingerprint "$FP" --password-stdin <<<"wrong-$i"
	if [[ $RC == 5 ]]; then
		throttled=$i
		break
	fi
	[[ $RC == 4 ]] || fail "wrong password $i through the proxy: exit $RC: $(cat "$ERR")"
	err_has 'wrong user name or password'
done
((throttled > 5)) || fail "no 429 through the proxy (attempt $throttled): $(cat "$ERR")"
expect_one_line_err "throttled enroll"
err_has 'too many failed logins; try again in [0-9]+ seconds'

# --- failures: one line each, the proxy named, never its credentials ---------
dead=$(free_port)
https_proxy=http://puser:proxy-secret-9@127.0.0.1:$dead expect_exit 3 "$FERRY" crl update -i "$T/alice"
expect_one_line_err "dead proxy"
err_has "cannot connect to the proxy http://127\.0\.0\.1:$dead \(from https_proxy\)"
grep -q 'proxy-secret-9' "$ERR" && fail "the dead proxy's credentials are shown: $(cat "$ERR")"
https_proxy=http://puser:proxy-secret-9@127.0.0.1:$dead expect_exit 3 "$FERRY" enroll "$URL" --user bob \
	-i "$T/bob" --fingerprint "$FP" --password-stdin <<<"bob-secret-pw"
expect_one_line_err "enroll through a dead proxy"
[[ ! -e $T/bob/key.pem ]] || fail "a failed enroll left key.pem"

# socks5:// and a URL without a scheme (http://, as in curl) name it too.
for spec in "socks5://puser:proxy-secret-9@127.0.0.1:$dead=socks5://127.0.0.1:$dead" \
	"127.0.0.1:$dead=http://127.0.0.1:$dead"; do
	https_proxy=${spec%%=*} expect_exit 3 "$FERRY" crl update -i "$T/alice"
	expect_one_line_err "dead proxy ${spec%%=*}"
	err_has "cannot connect to the proxy ${spec#*=} \(from https_proxy\)"
	grep -q 'proxy-secret-9' "$ERR" && fail "credentials shown: $(cat "$ERR")"
done

https_proxy=http://no-such-proxy.invalid:3128 expect_exit 3 "$FERRY" crl update -i "$T/alice"
expect_one_line_err "unresolvable proxy"
err_has "cannot resolve the proxy http://no-such-proxy\.invalid:3128"

for bad in 'ftp://127.0.0.1:21' 'gopher://127.0.0.1:70' 'http://[::1'; do
	https_proxy=$bad expect_exit 2 "$FERRY" crl update -i "$T/alice"
	expect_one_line_err "proxy URL $bad"
	err_has "https_proxy: "
done

# --- an https:// proxy: TLS to the proxy too, checked against the system CAs --
# A CA of the test's own, standing for a public one, and the proxy's
# certificate for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-keyout "$T/sysca.key" -out "$T/sysca.pem" -subj /CN=test-system-ca 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/front.key" -subj /CN=127.0.0.1 2>/dev/null |
	openssl x509 -req -CA "$T/sysca.pem" -CAkey "$T/sysca.key" -days 2 \
		-extfile <(printf 'subjectAltName=IP:127.0.0.1\n') -out "$T/front.pem" 2>/dev/null
bg front python3 "$LIB_DIR/tlsfront.py" --cert "$T/front.pem" --key "$T/front.key" \
	--target "127.0.0.1:$PPORT"
wait_until 5 grep -q '^listening on ' "$T/front.out" || fail "tlsfront did not start: $(cat "$T/front.err")"
FPORT=$(sed -n 's/^listening on //p' "$T/front.out")
# Not in the system's store: refused, naming the proxy; nothing reached it.
log_mark "$PLOG"
https_proxy=https://127.0.0.1:$FPORT expect_exit 3 "$FERRY" crl update -i "$T/alice"
expect_one_line_err "https proxy with an unknown CA"
err_has "the proxy https://127\.0\.0\.1:$FPORT \(from https_proxy\): .*certificate"
[[ $(connects) == 0 ]] || fail "an untrusted https proxy was sent the CONNECT"
note "untrusted https proxy: $(cat "$ERR")"
# With the test CA as the system store (a private mount namespace): the
# proxy's TLS is curl's, authd's inside it still ferry's.
bundle=$(curl-config --ca 2>/dev/null || true)
if [[ -n $bundle && -f $bundle ]] && unshare -m true 2>/dev/null; then
	log_mark "$PLOG"
	run unshare -m bash -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' _ \
		"$T/sysca.pem" "$bundle" env https_proxy="https://127.0.0.1:$FPORT" \
		"$FERRY" renew -i "$T/alice"
	[[ $RC == 0 ]] || fail "renew through an https proxy: exit $RC: $(cat "$ERR")"
	[[ $(connects) -ge 2 ]] || fail "renew through the https proxy: $(log_new "$PLOG")"
	grep -q accepted "$T/front.err" || fail "the https proxy saw no TLS client"
	note "https proxy: trusted through the system store, tunnel carried"
else
	note "no private mount namespace here: the trusted https proxy part not run"
fi

# A proxy that allows CONNECT to port 443 only answers 403 here.
start_proxy strict 'ConnectPort 443'
log_mark "$PLOG"
https_proxy=http://127.0.0.1:$PPORT expect_exit 3 "$FERRY" renew -i "$T/alice"
expect_one_line_err "403 from the proxy"
err_has "the proxy http://127\.0\.0\.1:$PPORT \(from https_proxy\) refused the tunnel: HTTP 403"
log_new "$PLOG" | grep -q "CONNECT 127.0.0.1:$APORT" || fail "the strict proxy was not asked"

is_running "$AUTHD_PID" || fail "authd died"
stop_pid "$AUTHD_PID"
finish
