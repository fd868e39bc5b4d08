#!/usr/bin/env bash
# t_cli.sh - the command line: usage errors exit 2 with one line, identity
# problems are explained, --help/--version, and serve stops cleanly on
# SIGTERM/SIGINT.
. "$(dirname "$0")/lib.sh"

org_init
printf 'data\n' >"$T/f.txt"
cd "$T"

# usage CMD...: exit 2 and exactly one line on stderr, nothing on stdout.
usage() {
	expect_exit 2 "$FERRY" "$@"
	[[ ! -s $OUT ]] || fail "ferry $*: usage error printed on stdout: $(cat "$OUT")"
	expect_one_line_err "ferry $*"
}

usage send onlyonearg
usage get host:notaport:x
err_has 'notaport' "get host:notaport:x"
usage get 127.0.0.1:7443
usage serve --timeout abc
err_has "'abc'" "serve --timeout abc"
usage serve --max-conns 0
usage send --timeout 0 f.txt 127.0.0.1:1
usage send f.txt 127.0.0.1:99999
usage send f.txt '127.0.0.1:1:path'
usage send f.txt 'not a host:1'
usage send f.txt '../bad@127.0.0.1:1'
usage ls 127.0.0.1:1 127.0.0.1:2
usage echo
usage frobnicate
err_has "frobnicate" "unknown command"
usage get -o "$T/no/such/dir" 127.0.0.1:1:a 127.0.0.1:1:b

# Unknown options: exit 2, and one line too.
for args in "send --frobnicate f.txt 127.0.0.1:1" "get --frobnicate 127.0.0.1:1:x" \
	"ls --frobnicate 127.0.0.1:1" "serve --frobnicate" "echo --frobnicate 127.0.0.1:1" \
	"echo-server --frobnicate" "send -Z f.txt 127.0.0.1:1" "serve stray-argument"; do
	# shellcheck disable=SC2086 # word splitting wanted
	expect_exit 2 "$FERRY" $args
	if [[ $(wc -l <"$ERR") != 1 ]]; then
		defer_fail "ferry $args: want one line on stderr (like 'ferry ca'), got $(wc -l <"$ERR"): $(tr '\n' '|' <"$ERR")"
	fi
done
expect_exit 2 "$FERRY"

# --- help and version --------------------------------------------------
for args in "--help" "-h" "help"; do
	# shellcheck disable=SC2086
	expect_exit 0 "$FERRY" $args
	grep -q '^usage: ferry' "$OUT" || fail "ferry $args: no usage on stdout: $(cat "$OUT")"
	for c in ca serve send get ls echo-server echo; do
		grep -Eq "^  $c " "$OUT" || fail "ferry $args does not list '$c'"
	done
done
expect_exit 0 "$FERRY" --version
grep -Eq '^ferry [0-9]+\.[0-9]+\.[0-9]+' "$OUT" || fail "--version printed: $(cat "$OUT")"
for c in serve send get ls echo-server echo ca; do
	expect_exit 0 "$FERRY" "$c" --help
	grep -q "^usage: ferry $c" "$OUT" || fail "ferry $c --help: $(cat "$OUT")"
done

# --- identity problems --------------------------------------------------
run "$FERRY" send -i "$T/nope" f.txt 127.0.0.1:1
[[ $RC != 0 && $RC != 1 && $RC != 3 ]] || fail "missing identity dir: exit $RC: $(cat "$ERR")"
expect_one_line_err "missing identity dir"
err_has "$T/nope" "missing identity dir (names it)"
note "missing identity dir: exit $RC: $(cat "$ERR")"
# The default identity comes from $FERRY_HOME; a missing one is named too.
RC=0
FERRY_HOME=$T/home-id timeout 10 "$FERRY" ls 127.0.0.1:1 >"$OUT" 2>"$ERR" || RC=$?
[[ $RC != 0 ]] || fail "ls with a missing \$FERRY_HOME identity succeeded"
err_has "$T/home-id" "missing \$FERRY_HOME identity"
run "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/nope" --listen 127.0.0.1:0 --share "$T/share" --inbox "$T/inbox"
[[ $RC != 0 ]] || fail "serve with a missing identity dir exited 0"
err_has "$T/nope" "serve with a missing identity dir"

# A private key others can read is refused, with the fix in the message.
cp -a "$T/alice" "$T/lax"
chmod 644 "$T/lax/key.pem"
run "$FERRY" send -i "$T/lax" f.txt 127.0.0.1:1
[[ $RC != 0 && $RC != 3 ]] || fail "key.pem 0644: exit $RC (want a refusal before any connection): $(cat "$ERR")"
expect_one_line_err "key.pem 0644"
err_has "chmod 600 $T/lax/key.pem" "key.pem 0644"
cp -a "$T/bob" "$T/laxbob"
chmod 640 "$T/laxbob/key.pem"
run "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/laxbob" --listen 127.0.0.1:0 --share "$T/share" --inbox "$T/inbox"
[[ $RC != 0 ]] || fail "serve with key.pem 0640 started"
err_has "chmod 600 $T/laxbob/key.pem" "serve with key.pem 0640"
grep -q 'listening on' "$ERR" && fail "serve with key.pem 0640 listened"

# --- serve stops cleanly ------------------------------------------------
start_serve
P1=$PORT
expect_exit 0 "$FERRY" send -i "$T/alice" f.txt "127.0.0.1:$P1"
# A local file that does not exist: exit 6, one line.
expect_exit 6 "$FERRY" send -i "$T/alice" no-such-file "127.0.0.1:$P1"
expect_one_line_err "send of a missing file"
err_has 'no-such-file' "send of a missing file"
t0=$(now_ms)
stop_pid "$SERVE_PID" TERM 3
ms=$(($(now_ms) - t0))
[[ $WAIT_RC == 0 ]] || fail "serve exited $WAIT_RC on SIGTERM, want 0"
log_has 'shutting down'
note "serve stopped $ms ms after SIGTERM"
# Nothing listens there any more: connection refused is exit 3, one line.
expect_exit 3 "$FERRY" send -i "$T/alice" f.txt "127.0.0.1:$P1"
expect_one_line_err "send to a closed port"

# SIGINT works the same, even with a connection open (an idle client).
SERVE_NAME=serve2 start_serve
exec {idle}<>"/dev/tcp/127.0.0.1/$PORT"
has_handler() {
	[[ -n $(ps -o pid= --ppid "$SERVE_PID") ]]
}
wait_until 5 has_handler || fail "no handler for the idle connection"
t0=$(now_ms)
stop_pid "$SERVE_PID" INT 7
ms=$(($(now_ms) - t0))
exec {idle}>&-
[[ $WAIT_RC == 0 ]] || fail "serve exited $WAIT_RC on SIGINT, want 0"
log_has 'shutting down \(1 connection open\)'
(( ms < 6000 )) || fail "serve took $ms ms to stop with a connection open"
note "serve (1 connection open) stopped $ms ms after SIGINT"

# echo-server too.
start_daemon echo echo-server "$FERRY" echo-server -i "$T/bob" --listen 127.0.0.1:0
stop_pid "$DAEMON_PID" TERM 3
[[ $WAIT_RC == 0 ]] || fail "echo-server exited $WAIT_RC on SIGTERM"
log_has 'shutting down' "$T/echo.log"

finish
