#!/usr/bin/env bash
# t_notify.sh - Type=notify: with NOTIFY_SOCKET set, serve and authd tell
# systemd READY=1 once listening, RELOADING=1 (with MONOTONIC_USEC) and then
# READY=1 around a SIGHUP, and STOPPING=1 at SIGTERM, in that order, through
# a real datagram socket the test binds. echo-server survives a SIGHUP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"

command -v python3 >/dev/null || skip "no python3"
SINK=${FERRY_SRC:-$(dirname "$0")/../..}/tests/integration/notify_sink.py
[[ -f $SINK ]] || SINK=$(dirname "$0")/notify_sink.py

# sink NAME: a notification socket $T/NAME.sock, messages in $T/NAME.msgs.
sink() {
	bg "sink-$1" python3 "$SINK" "$T/$1.sock" "$T/$1.msgs"
	wait_until 5 test -e "$T/$1.msgs.ready" || fail "the $1 notification socket did not come up"
	: >"$T/$1.msgs"
}

# msgs_are NAME REGEX...: the messages received, in order, match the REGEXes.
msgs_are() {
	local name=$1 i=0 line
	shift
	local -a got
	mapfile -t got <"$T/$name.msgs"
	[[ ${#got[@]} == "$#" ]] || fail "$name: ${#got[@]} messages, want $#: ${got[*]}"
	for want in "$@"; do
		line=${got[$i]}
		[[ $line =~ $want ]] || fail "$name: message $((i + 1)) is '$line', want /$want/"
		i=$((i + 1))
	done
}

# count NAME: how many messages NAME's socket got.
count() {
	wc -l <"$T/$1.msgs"
}

# --- serve ----------------------------------------------------------------
org_init
sink serve
NOTIFY_SOCKET=$T/serve.sock start_serve
wait_until 5 test "$(count serve)" -ge 1 || fail "serve: no READY=1"
msgs_are serve '^READY=1\|STATUS=listening on 127\.0\.0\.1:[0-9]+$'
kill -HUP "$SERVE_PID"
wait_until 5 test "$(count serve)" -ge 3 || fail "serve: no RELOADING/READY after SIGHUP: $(cat "$T/serve.msgs")"
# A transfer still works after the reload.
printf 'x\n' >"$T/x.txt"
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/x.txt" "bob@127.0.0.1:$PORT"
stop_pid "$SERVE_PID"
[[ $WAIT_RC == 0 ]] || fail "serve exited $WAIT_RC"
wait_until 5 test "$(count serve)" -ge 4 || fail "serve: no STOPPING=1: $(cat "$T/serve.msgs")"
msgs_are serve '^READY=1\|STATUS=listening on ' \
	'^RELOADING=1\|MONOTONIC_USEC=[0-9]+$' '^READY=1\|STATUS=listening on ' \
	'^STOPPING=1$'
# MONOTONIC_USEC is this boot's CLOCK_MONOTONIC, in microseconds.
us=$(sed -n 's/^RELOADING=1|MONOTONIC_USEC=//p' "$T/serve.msgs")
up=$(cut -d' ' -f1 /proc/uptime | cut -d. -f1)
[[ $((us / 1000000)) -le $((up + 1)) && $((us / 1000000)) -ge $((up - 60)) ]] ||
	fail "MONOTONIC_USEC $us is not about the uptime ${up}s"

# Without NOTIFY_SOCKET nothing is sent and nothing fails (the rest of the
# tests run so); a socket nobody listens on is no error either.
NOTIFY_SOCKET=$T/nobody.sock SERVE_NAME=serve-nobody start_serve
kill -HUP "$SERVE_PID"
wait_until 5 grep -q "serve: reload: .* applied" "$T/serve-nobody.log" ||
	fail "serve with a dead NOTIFY_SOCKET did not reload: $(cat "$T/serve-nobody.log")"
stop_pid "$SERVE_PID"
[[ $WAIT_RC == 0 ]] || fail "serve with a dead NOTIFY_SOCKET exited $WAIT_RC"

# --- echo-server: SIGHUP re-checks the identity, and it goes on -----------
sink echo
NOTIFY_SOCKET=$T/echo.sock start_daemon echo echo-server "$FERRY" echo-server -i "$T/bob" --listen 127.0.0.1:0
kill -HUP "$DAEMON_PID"
wait_until 5 grep -q "echo-server: SIGHUP: checking the identity files" "$T/echo.log" ||
	fail "echo-server did not take SIGHUP: $(cat "$T/echo.log")"
is_running "$DAEMON_PID" || fail "echo-server died of SIGHUP"
stop_pid "$DAEMON_PID"
wait_until 5 test "$(count echo)" -ge 4 || fail "echo-server: $(cat "$T/echo.msgs")"
msgs_are echo '^READY=1' '^RELOADING=1' '^READY=1' '^STOPPING=1$'

# --- authd ----------------------------------------------------------------
rm -rf "$T/ca"
authd_org
printf '[authd]\ncert-days = 3\n' >"$T/authd.conf"
sink authd
NOTIFY_SOCKET=$T/authd.sock start_authd --config "$T/authd.conf"
wait_until 5 test "$(count authd)" -ge 1 || fail "authd: no READY=1"
kill -HUP "$AUTHD_PID"
wait_until 5 test "$(count authd)" -ge 3 || fail "authd: no RELOADING/READY after SIGHUP: $(cat "$T/authd.msgs")"
is_running "$AUTHD_PID" || fail "authd died of SIGHUP"
stop_pid "$AUTHD_PID"
[[ $WAIT_RC == 0 ]] || fail "authd exited $WAIT_RC"
wait_until 5 test "$(count authd)" -ge 4 || fail "authd: no STOPPING=1: $(cat "$T/authd.msgs")"
msgs_are authd '^READY=1\|STATUS=listening on 127\.0\.0\.1:[0-9]+$' \
	'^RELOADING=1\|MONOTONIC_USEC=[0-9]+$' '^READY=1\|STATUS=listening on ' \
	'^STOPPING=1$'
finish
