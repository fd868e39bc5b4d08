#!/usr/bin/env bash
# t_authd_config.sh - ferry authd --config FILE: every long option is a key
# of [authd], flags win over the file, a bad key or value is one line naming
# FILE:LINE (exit 2), and SIGHUP re-reads the file: a new --cert-days
# applies to the next certificate, a file with an error at line N is logged
# as FILE:N and the settings in use stay.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"

authd_org
conf=$T/authd.conf

# $1: the cert-days line; $2: an extra line (or nothing).
write_conf() {
	cat >"$conf" <<CFG
# authd.conf for the test
[authd]
ca-dir = $T/ca
listen = 127.0.0.1:0
$1
allow-tls12 = no
timeout = 10
${2:-}
CFG
}

# days DIR: the validity of DIR/cert.pem in whole days.
days() {
	local s e
	s=$(date -d "$(openssl x509 -in "$1/cert.pem" -noout -startdate | cut -d= -f2)" +%s)
	e=$(date -d "$(openssl x509 -in "$1/cert.pem" -noout -enddate | cut -d= -f2)" +%s)
	echo $(((e - s + 43200) / 86400))
}

# enroll_as USER DIR: a certificate for USER into $T/DIR.
enroll_as() {
	run "$FERRY" enroll "$URL" --user "$1" -i "$T/$2" --fingerprint "$FP" \
		--password-stdin <<<"$1-secret-pw"
	[[ $RC == 0 ]] || fail "enroll $1 into $2: exit $RC: $(cat "$ERR")"
}

# A second authd with flags over the file: --cert-days wins.
write_conf "cert-days = 3"
start_daemon authd2 authd "$FERRY" authd "${ALLOW_ROOT[@]}" --config "$conf" --cert-days 5
URL=https://127.0.0.1:$PORT
enroll_as bob bob
[[ $(days "$T/bob") == 5 ]] || fail "--cert-days 5 over the file's 3: $(days "$T/bob") days"
stop_pid "$DAEMON_PID"

# Keys from the file take effect: ca-dir, listen, cert-days.
start_daemon authd authd "$FERRY" authd "${ALLOW_ROOT[@]}" --config "$conf"
APORT=$PORT
AUTHD_PID=$DAEMON_PID
AUTHD_LOG=$T/authd.log
URL=https://127.0.0.1:$PORT
enroll_as alice alice
[[ $(days "$T/alice") == 3 ]] || fail "cert-days = 3 in the file: $(days "$T/alice") days"

# Errors at start: one line naming FILE:LINE, exit 2.
bad_start() {
	local want=$1
	printf '%b' "$2" >"$T/bad.conf"
	expect_exit 2 "$FERRY" authd "${ALLOW_ROOT[@]}" --ca-dir "$T/ca" --listen 127.0.0.1:0 --config "$T/bad.conf"
	expect_one_line_err "authd --config ($2)"
	err_has "$T/bad.conf:$want" "authd --config ($2)"
}
bad_start "3: unknown key 'cert-day' in \[authd\]" '[authd]\n\ncert-day = 3\n'
bad_start "2: authd: --cert-days: '0' is not a number" '[authd]\ncert-days = 0\n'
bad_start "2: allow-tls12: 'perhaps' is not yes or no" '[authd]\nallow-tls12 = perhaps\n'
bad_start "2: unknown key 'config'" '[authd]\nconfig = x\n'
bad_start "3: 'cert-days' given twice" '[authd]\ncert-days = 1\ncert-days = 2\n'
bad_start "2: authd: --allow-dns '.example.com'" '[authd]\nallow-dns = .example.com\n'
bad_start "1: \[authd\] takes no name" '[authd x]\n'
expect_exit 6 "$FERRY" authd "${ALLOW_ROOT[@]}" --config "$T/nowhere.conf"
expect_one_line_err "authd --config missing"
# Without --ca-dir anywhere: the usual error.
printf '[authd]\ncert-days = 2\n' >"$T/noca.conf"
expect_exit 2 "$FERRY" authd "${ALLOW_ROOT[@]}" --config "$T/noca.conf"
err_has "--ca-dir is required"

# Repeated keys: the command line's list replaces the file's.
printf '[authd]\nca-dir = %s\nlisten = 127.0.0.1:0\nallow-dns = a.example\nallow-dns = b.example\n' "$T/ca" >"$T/dns.conf"
expect_exit 0 "$FERRY" user dns --db "$T/ca/ferry.db" carol --add host.b.example
expect_exit 0 "$FERRY" user dns --db "$T/ca/ferry.db" carol --add host.c.example
start_daemon authd3 authd "$FERRY" authd "${ALLOW_ROOT[@]}" --config "$T/dns.conf" --allow-dns c.example
URL=https://127.0.0.1:$PORT
run "$FERRY" enroll "$URL" --user carol -i "$T/carol-b" --fingerprint "$FP" \
	--dns host.b.example --password-stdin <<<"carol-secret-pw"
[[ $RC != 0 ]] || fail "host.b.example, allowed only by the file's list, was issued"
err_has "host.b.example"
run "$FERRY" enroll "$URL" --user carol -i "$T/carol-c" --fingerprint "$FP" \
	--dns host.c.example --password-stdin <<<"carol-secret-pw"
[[ $RC == 0 ]] || fail "host.c.example, allowed by --allow-dns: exit $RC: $(cat "$ERR")"
stop_pid "$DAEMON_PID"
URL=https://127.0.0.1:$APORT

# SIGHUP: cert-days = 2 applies to the next certificate, and allow-dns
# (a.example only) to the next request.
write_conf "cert-days = 2" "allow-dns = a.example"
log_mark "$AUTHD_LOG"
kill -HUP "$AUTHD_PID"
wait_log "authd: reload: $conf applied: certificates for 2 days" "$AUTHD_LOG"
enroll_as carol carol
[[ $(days "$T/carol") == 2 ]] || fail "after SIGHUP with cert-days = 2: $(days "$T/carol") days"
run "$FERRY" enroll "$URL" --user carol -i "$T/carol-c2" --fingerprint "$FP" \
	--dns host.c.example --password-stdin <<<"carol-secret-pw"
[[ $RC != 0 ]] || fail "after SIGHUP with allow-dns = a.example, host.c.example was issued"

# SIGHUP with an error at line 8: logged as FILE:8, cert-days stays 2.
write_conf "cert-days = 4" "max-conns = many"
grep -n '^max-conns = many' "$conf" | grep -q '^8:' || fail "test set-up: the error is not on line 8"
log_mark "$AUTHD_LOG"
kill -HUP "$AUTHD_PID"
wait_log "authd: reload: $conf:8: authd: --max-conns: 'many' is not a number.*; keeping the configuration in use" "$AUTHD_LOG"
enroll_as alice alice2
[[ $(days "$T/alice2") == 2 ]] || fail "after a bad reload: $(days "$T/alice2") days, want the 2 in use"
is_running "$AUTHD_PID" || fail "authd died on a bad reload"

# A fault the parser finds at reload (a second [authd]): FILE:LINE too.
write_conf "cert-days = 4" "[authd]"
log_mark "$AUTHD_LOG"
kill -HUP "$AUTHD_PID"
wait_log "authd: reload: $conf:8: \[authd\] already given on line 2; keeping the configuration in use" "$AUTHD_LOG"

# What only a restart applies is said; the rest applies.
write_conf "cert-days = 1" "name = other.example"
sed -i "s|^ca-dir = .*|ca-dir = $T/elsewhere|" "$conf"
log_mark "$AUTHD_LOG"
kill -HUP "$AUTHD_PID"
wait_log "authd: reload: ca-dir changed: restart ferry-authd to apply it" "$AUTHD_LOG"
wait_log "authd: reload: name changed: restart ferry-authd" "$AUTHD_LOG"
wait_log "authd: reload: $conf applied: certificates for 1 days" "$AUTHD_LOG"
enroll_as bob bob2
[[ $(days "$T/bob2") == 1 ]] || fail "after SIGHUP with cert-days = 1: $(days "$T/bob2") days"

# The shipped example, every key uncommented with its default, is accepted
# (user and allow-root left out; keys of options this build lacks too).
example=${FERRY_SRC:-$(dirname "$0")/../..}/contrib/config/authd.conf
[[ -f $example ]] || fail "no contrib/config/authd.conf"
# known CMD KEY VALUE: this build's CMD takes --KEY (with VALUE, or a flag).
known() {
	"$FERRY" "$1" "--$2=$3" --help >/dev/null 2>&1 ||
		"$FERRY" "$1" "--$2" --help >/dev/null 2>&1
}
: >"$T/example.conf"
while IFS= read -r line; do
	if [[ $line =~ ^#([a-z0-9-]+)\ =\ (.*)$ ]]; then
		key=${BASH_REMATCH[1]}
		[[ $key == user || $key == allow-root ]] && continue
		known authd "$key" "${BASH_REMATCH[2]}" || continue
		line=${line#\#}
	fi
	printf '%s\n' "$line" >>"$T/example.conf"
done <"$example"
for k in ca-dir db listen cert-days name allow-dns allow-tls12 verbose; do
	grep -q "^$k = " "$T/example.conf" || fail "example: $k not uncommented: $(cat "$T/example.conf")"
done
grep -q '^cert-days = 7$' "$T/example.conf" || fail "example not uncommented: $(cat "$T/example.conf")"
start_daemon example authd "$FERRY" authd "${ALLOW_ROOT[@]}" --config "$T/example.conf" \
	--ca-dir "$T/ca" --db "$T/ca/ferry.db" --listen 127.0.0.1:0 --name localhost
stop_pid "$DAEMON_PID"

stop_pid "$AUTHD_PID"
[[ $WAIT_RC == 0 ]] || fail "authd exited $WAIT_RC on SIGTERM"
finish
