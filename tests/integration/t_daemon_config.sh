#!/usr/bin/env bash
# t_daemon_config.sh - ferry serve --config FILE: every long option is a key
# of [serve], flags win over the file, a bad key or value is one line naming
# FILE:LINE (exit 2), and SIGHUP re-reads the file: a new access rule,
# verbosity, handshake policy and max-conns apply to new connections, a file
# with an error at line N is logged as FILE:N and the rules in use stay (a
# transfer only they allow still works), what needs a restart is said. The
# shipped contrib/config/serve.conf, uncommented, is accepted.
. "$(dirname "$0")/lib.sh"

org_init
issue carol
printf 'hello\n' >"$T/hello.txt"
conf=$T/serve.conf

# $1: the members line; the rest of the file names everything serve needs.
write_conf() {
	cat >"$conf" <<CFG
# serve.conf for the test
[serve]
listen = 127.0.0.1:0
identity = $T/bob
share = $T/share
inbox = $T/inbox
$1
timeout = 30
verbose = no
CFG
}

# send WHO: sends hello.txt as WHO; exit status in RC.
send() {
	run "$FERRY" send -i "$T/$1" --force "$T/hello.txt" "bob@127.0.0.1:$PORT"
}

# Keys from the file take effect: listen, identity, share, inbox, members.
write_conf "members = alice"
start_daemon serve serve "$FERRY" serve "${ALLOW_ROOT[@]}" --config "$conf"
SERVE_PID=$DAEMON_PID
SERVE_LOG=$T/serve.log
send alice
[[ $RC == 0 ]] || fail "alice, a member by the file, got exit $RC: $(cat "$ERR")"
[[ -f $T/inbox/alice/hello.txt ]] || fail "the file's inbox did not get alice's file"
send carol
[[ $RC == 5 ]] || fail "carol, not a member by the file, got exit $RC: $(cat "$ERR")"
log_has "sharing $T/share, receiving into $T/inbox"

# Flags win over the file: --members replaces the file's members.
SERVE_NAME=serve2 start_daemon serve2 serve "$FERRY" serve "${ALLOW_ROOT[@]}" --config "$conf" --members carol
port1=$PORT
run "$FERRY" send -i "$T/carol" --force "$T/hello.txt" "bob@127.0.0.1:$port1"
[[ $RC == 0 ]] || fail "--members carol over the file: carol got exit $RC: $(cat "$ERR")"
run "$FERRY" send -i "$T/alice" --force "$T/hello.txt" "bob@127.0.0.1:$port1"
[[ $RC == 5 ]] || fail "--members carol over the file: alice got exit $RC"
stop_pid "$DAEMON_PID"
PORT=$(sed -n 's/.*serve: listening on .*:\([0-9][0-9]*\)$/\1/p' "$SERVE_LOG" | head -n1)

# Errors at start: one line naming FILE:LINE, exit 2, nothing listens.
bad_start() {
	local want=$1
	printf '%b' "$2" >"$T/bad.conf"
	expect_exit 2 "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/bob" --listen 127.0.0.1:0 \
		--share "$T/share" --inbox "$T/inbox" --config "$T/bad.conf"
	expect_one_line_err "serve --config ($2)"
	err_has "$T/bad.conf:$want" "serve --config ($2)"
}
bad_start "3: unknown key 'bogus' in \[serve\]" '[serve]\ntimeout = 5\nbogus = 1\n'
bad_start "2: unknown key 'config'" '[serve]\nconfig = /etc/x\n'
bad_start "2: unknown key 'help'" '[serve]\nhelp = yes\n'
bad_start "4: serve: --max-conns: '0' is not a number" '[serve]\n\n# c\nmax-conns = 0\n'
bad_start "2: serve: --timeout: 'soon' is not a number" '[serve]\ntimeout = soon\n'
bad_start "2: verbose: 'maybe' is not yes or no" '[serve]\nverbose = maybe\n'
bad_start "3: 'listen' given twice \(first on line 2\)" '[serve]\nlisten = 127.0.0.1:1\nlisten = 127.0.0.1:2\n'
bad_start "2: serve: --max-startups" '[serve]\nmax-startups = 9:9\n'
bad_start "2: 'Listen' is not a key" '[serve]\nListen = 127.0.0.1:1\n'
bad_start "2: 'timeout' has no value" '[serve]\ntimeout =\n'
bad_start "1: a setting before any" 'timeout = 5\n'
# A flag's bad value is the flag's error, the file is not read after it.
expect_exit 2 "$FERRY" serve "${ALLOW_ROOT[@]}" --config "$conf" --max-conns 0
expect_one_line_err "serve --max-conns 0"
# A missing file named with --config is an error.
expect_exit 6 "$FERRY" serve "${ALLOW_ROOT[@]}" --config "$T/nowhere.conf"
expect_one_line_err "serve --config missing"
err_has "$T/nowhere.conf"

# SIGHUP: carol becomes a member, for new connections.
write_conf "members = alice, carol"
log_mark
kill -HUP "$SERVE_PID"
wait_log "serve: reload: $conf applied to new connections"
send carol
[[ $RC == 0 ]] || fail "after SIGHUP adding carol, carol got exit $RC: $(cat "$ERR")"
is_running "$SERVE_PID" || fail "serve died on SIGHUP"

# The log level and the handshake policy change live too: after a reload
# with verbose = on, a connection logs debug lines; the new pool serves.
write_conf "members = alice, carol"
printf 'verbose = on\nmax-startups = 5:50:20\nper-source = 3\nlogin-grace = 5\n' >>"$conf"
sed -i '/^verbose = no$/d' "$conf"
log_mark
kill -HUP "$SERVE_PID"
wait_log "serve: reload: $conf applied"
send carol
[[ $RC == 0 ]] || fail "after a reload of the handshake policy, carol got exit $RC: $(cat "$ERR")"
# not_tls: a client that speaks HTTP; verbose serve logs OpenSSL's reason.
not_tls() {
	exec 3<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'GET / HTTP/1.0\r\n\r\n' >&3
	timeout 5 cat <&3 >/dev/null || true
	exec 3>&-
}
not_tls
wait_log "TLS handshake failed: the client is not speaking TLS"
log_new | grep -q " debug: openssl: " || fail "verbose = on at reload: no debug line: $(log_new)"
write_conf "members = alice, carol"
log_mark
kill -HUP "$SERVE_PID"
wait_log "serve: reload: $conf applied"
not_tls
wait_log "TLS handshake failed: the client is not speaking TLS"
log_new | grep -q " debug: " && fail "verbose = no at reload still logs debug lines: $(log_new)"

# max-conns at reload: with 1 session running, the next client is busy.
head -c $((10 << 20)) /dev/urandom >"$T/ten.bin"
write_conf "members = alice, carol"
printf 'max-conns = 1\n' >>"$conf"
log_mark
kill -HUP "$SERVE_PID"
wait_log "serve: reload: $conf applied"
bg slow "$FERRY" send --limit-rate 4M -i "$T/alice" "$T/ten.bin" "bob@127.0.0.1:$PORT"
slow=$BG_PID
wait_until 5 eval 'ls -A "$T/inbox/alice" | grep -q "\.part\$"' || fail "the slow push did not start"
send carol
[[ $RC == 5 ]] || fail "max-conns = 1 at reload: a second session got exit $RC: $(cat "$ERR")"
err_has "bob is busy \(1 sessions\)"
wait_exit "$slow" 20 || fail "the slow push did not end"
[[ $WAIT_RC == 0 ]] || fail "the slow push failed: $(cat "$T/slow.err")"

# SIGHUP with an error at line 8: logged as FILE:8, the old rules stay.
# The new file would take carol out; she is still served.
write_conf "members = alice"
sed -i 's/^timeout = 30$/timeout = later/' "$conf"
grep -n '^timeout = later' "$conf" | grep -q '^8:' || fail "test set-up: the error is not on line 8"
log_mark
kill -HUP "$SERVE_PID"
wait_log "serve: reload: $conf:8: serve: --timeout: 'later' is not a number.*; keeping the configuration in use"
[[ $(log_new | grep -c 'reload:') == 1 ]] || fail "a bad file is one log line: $(log_new)"
send carol
[[ $RC == 0 ]] || fail "after a bad reload, carol (allowed by the rules in use) got exit $RC: $(cat "$ERR")"
is_running "$SERVE_PID" || fail "serve died on a bad reload"

# An unknown key at reload: the same, FILE:LINE.
write_conf "members = alice"
printf 'frobnicate = 1\n' >>"$conf"
log_mark
kill -HUP "$SERVE_PID"
wait_log "serve: reload: $conf:10: unknown key 'frobnicate' in \[serve\].*keeping the configuration in use"
send carol
[[ $RC == 0 ]] || fail "after an unknown key at reload, carol got exit $RC"

# A fault the parser finds (a [read] rule's path) at reload: FILE:LINE too.
write_conf "members = alice"
printf '[read ../up]\nallow = *\n' >>"$conf"
log_mark
kill -HUP "$SERVE_PID"
wait_log "serve: reload: $conf:10: read rule path '../up'.*; keeping the configuration in use"
send carol
[[ $RC == 0 ]] || fail "after a bad [read] at reload, carol got exit $RC"

# What only a restart applies is said, and the value in use stays; the
# rest of the file applies (carol is out now).
write_conf "members = alice"
sed -i "s|^listen = .*|listen = 127.0.0.1:1|; s|^share = .*|share = $T/elsewhere|" "$conf"
log_mark
kill -HUP "$SERVE_PID"
wait_log "serve: reload: listen changed: restart ferry-serve to apply it"
wait_log "serve: reload: share changed: restart ferry-serve to apply it"
wait_log "serve: reload: $conf applied"
send carol
[[ $RC == 5 ]] || fail "after SIGHUP taking carol out, carol got exit $RC"
send alice
[[ $RC == 0 ]] || fail "alice, on the listener in use, got exit $RC: $(cat "$ERR")"
[[ ! -e $T/elsewhere ]] || fail "a reload made the new share directory"

# The shipped example, every key uncommented with its default, is accepted
# (user and allow-root left out: the test runs as whoever runs it; keys of
# options this build lacks are left out too).
example=${FERRY_SRC:-$(dirname "$0")/../..}/contrib/config/serve.conf
[[ -f $example ]] || fail "no contrib/config/serve.conf"
# known CMD KEY VALUE: this build's CMD takes --KEY (with VALUE, or a flag).
known() {
	"$FERRY" "$1" "--$2=$3" --help >/dev/null 2>&1 ||
		"$FERRY" "$1" "--$2" --help >/dev/null 2>&1
}
: >"$T/example.conf"
while IFS= read -r line; do
	if [[ $line =~ ^#\[ || $line =~ ^#([a-z0-9-]+)\ =\ (.*)$ ]]; then
		key=${BASH_REMATCH[1]:-}
		[[ $key == user || $key == allow-root ]] && continue
		[[ -z $key || $key == allow ]] || known serve "$key" "${BASH_REMATCH[2]}" || continue
		line=${line#\#}
	fi
	printf '%s\n' "$line" >>"$T/example.conf"
done <"$example"
for k in listen identity max-conns verbose members '\[read payroll/\]' allow; do
	grep -q "^$k" "$T/example.conf" || fail "example: $k not uncommented: $(cat "$T/example.conf")"
done
grep -q '^max-conns = 64$' "$T/example.conf" || fail "example not uncommented: $(cat "$T/example.conf")"
SERVE_NAME=example start_serve --config "$T/example.conf"
stop_pid "$DAEMON_PID"

# SIGTERM still ends it cleanly.
stop_pid "$SERVE_PID"
[[ $WAIT_RC == 0 ]] || fail "serve exited $WAIT_RC on SIGTERM"
finish
