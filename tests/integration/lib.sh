# shellcheck shell=bash
# lib.sh - shared by the t_*.sh integration tests; source it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# Env: FERRY (the ferry binary, required), FERRY_SRC (source tree, optional).
# Exit codes of a test: 0 pass, 1 fail, 77 skip.
#
# What it gives a test:
#   $T            a fresh temp dir, removed on exit
#   fail MSG      "FAIL: MSG" and exit 1
#   skip MSG      "SKIP: MSG" and exit 77
#   note MSG      "# MSG" (progress; shown by ctest --output-on-failure / -V)
#   defer_fail MSG  a failure that lets the test go on; finish (the test's
#                 last line) then exits 1
#   org_init      CA in $T/ca, members $T/bob (server: --ip 127.0.0.1
#                 --dns localhost) and $T/alice (client); $T/share, $T/inbox
#   start_serve [ARGS]  ferry serve on 127.0.0.1:0 in the background; sets
#                 PORT, SERVE_PID, SERVE_LOG. Which identity/dirs:
#                 $SERVE_ID, $SHARE, $INBOX (default bob, share, inbox);
#                 the log is $T/${SERVE_NAME:-serve}.log.
#   start_daemon NAME WHAT CMD...  any daemon that logs "WHAT: listening on"
#   ALLOW_ROOT    (--allow-root) when the tests run as root, else (): serve
#                 and authd refuse root without it or --user; start_serve
#                 and start_authd pass it, a test starting one itself too
#   stop_pid PID [SIG] [SECS]  signal a background process and wait for it;
#                 its exit status in $WAIT_RC
#   bg NAME CMD...  a background process (own process group, output in
#                 $T/NAME.out / $T/NAME.err); its pid in $BG_PID
#   run CMD...    runs CMD under timeout; $RC, stdout in $OUT, stderr in $ERR
#   expect_exit CODE CMD...   run + compare the exit status
#   expect_one_line_err       the last run's stderr is exactly one line
#   sha FILE      SHA-256 (hex) of FILE
#   wait_until SECS CMD...    polls CMD every 50 ms
#   no_part_files DIR...      no temporary .ferry-*.part left below DIR
#                 (kept partials, .ferry-resume-*.part, are allowed)
#   log_mark / log_new / wait_log REGEX   what a daemon logged since a mark
#   wire ARGS...  tests/integration/ferrywire.py (raw protocol client)
#   s_client INPUT WANT ARGS...   openssl s_client, fed INPUT, never racing
#                 the server's answer
#
# Every process a test starts in the background is killed on exit, with
# everything it forked; every wait is bounded.

set -eEuo pipefail

TEST_NAME=$(basename "$0" .sh)
# Client commands never run longer than this (seconds).
CMD_TIMEOUT=${CMD_TIMEOUT:-60}

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

# defer_fail MSG: records a failure but lets the test go on (so one bug does
# not hide the checks after it); finish reports them and exits 1.
DEFERRED=()
defer_fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	DEFERRED+=("$*")
}

# finish [SUMMARY]: the last line of every test.
finish() {
	if [[ ${#DEFERRED[@]} -gt 0 ]]; then
		echo "FAIL: $TEST_NAME: ${#DEFERRED[@]} check(s) failed:" >&2
		printf '  - %s\n' "${DEFERRED[@]}" >&2
		exit 1
	fi
	echo "PASS: $TEST_NAME${1:+ ($1)}"
}

skip() {
	echo "SKIP: $TEST_NAME: $*"
	exit 77
}

note() {
	echo "# $*"
}

[[ -n "${FERRY:-}" ]] || skip "FERRY is not set to the ferry binary"
[[ -x "$FERRY" ]] || skip "FERRY=$FERRY is not executable"
FERRY=$(realpath "$FERRY")
command -v timeout >/dev/null || skip "no timeout command"
command -v sha256sum >/dev/null || skip "no sha256sum command"

# serve and authd refuse to run as root unless told (--user or --allow-root).
ALLOW_ROOT=()
[[ $(id -u) == 0 ]] && ALLOW_ROOT=(--allow-root)

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WIRE="$LIB_DIR/ferrywire.py"

T=$(mktemp -d "${TMPDIR:-/tmp}/ferry-$TEST_NAME.XXXXXX")
OUT=$T/last.out
ERR=$T/last.err
RC=0
WAIT_RC=0
BG_PID=
BG_PIDS=()
HAVE_SETSID=0
command -v setsid >/dev/null && HAVE_SETSID=1

# 1 if PID is a live (not zombie) process.
is_running() {
	local st
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[[ -n $st && $st != Z ]]
}

_kill_tree() {
	local pid=$1 sig=$2
	if [[ $HAVE_SETSID == 1 ]]; then
		kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid" 2>/dev/null || true
	else
		kill "-$sig" "$pid" 2>/dev/null || true
	fi
}

_cleanup() {
	local rc=$? pid i alive
	trap - EXIT ERR
	set +e
	# TERM first (ferry serve then stops its children), KILL what is left.
	for pid in "${BG_PIDS[@]}"; do
		_kill_tree "$pid" TERM
	done
	for ((i = 0; i < 40; i++)); do
		alive=0
		for pid in "${BG_PIDS[@]}"; do
			is_running "$pid" && alive=1
		done
		[[ $alive == 0 ]] && break
		sleep 0.05
	done
	for pid in "${BG_PIDS[@]}"; do
		_kill_tree "$pid" KILL
	done
	for pid in "${BG_PIDS[@]}"; do
		{ wait "$pid"; } 2>/dev/null
	done
	if [[ $rc != 0 && $rc != 77 ]]; then
		for f in "$T"/*.log; do
			[[ -f $f ]] || continue
			echo "--- last lines of $(basename "$f"):" >&2
			tail -n 25 "$f" >&2
		done
	fi
	if [[ -n ${KEEP_TMP:-} ]]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _cleanup EXIT
# Stopped from outside (Ctrl-C, ctest): still clean up.
trap 'exit 130' INT
trap 'exit 143' TERM
# A command failing under set -e is a test failure (never a skip): say which.
trap 'echo "FAIL: $TEST_NAME: line $LINENO: exit $?: $BASH_COMMAND" >&2; exit 1' ERR

# bg NAME CMD...: starts CMD in the background in its own process group;
# stdout to $T/NAME.out, stderr to $T/NAME.err; pid in $BG_PID.
bg() {
	local name=$1
	shift
	if [[ $HAVE_SETSID == 1 ]]; then
		setsid "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
	else
		"$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
	fi
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# wait_until SECS CMD...: true as soon as CMD succeeds, false after SECS.
wait_until() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

# wait_exit PID SECS: waits for a background PID to end; status in $WAIT_RC.
# Returns 1 (and leaves it running) if it is still alive after SECS.
wait_exit() {
	local pid=$1 secs=$2
	if ! wait_until "$secs" eval "! is_running $pid"; then
		return 1
	fi
	WAIT_RC=0
	# (braces: also silences bash's own "Killed" notice for the job)
	{ wait "$pid"; } 2>/dev/null || WAIT_RC=$?
}

# stop_pid PID [SIG] [SECS]: sends SIG (TERM) to PID alone and waits up to
# SECS (5) for it to end; fails the test if it does not.
stop_pid() {
	local pid=$1 sig=${2:-TERM} secs=${3:-5}
	kill "-$sig" "$pid" 2>/dev/null || true
	wait_exit "$pid" "$secs" || fail "process $pid still running ${secs}s after SIG$sig"
}

# start_daemon NAME WHAT CMD...: runs CMD (which must log "WHAT: listening
# on HOST:PORT" on stderr) in the background with stderr in $T/NAME.log and
# waits up to 5 s for that line. Sets PORT and DAEMON_PID.
start_daemon() {
	local name=$1 what=$2 log
	shift 2
	log=$T/$name.log
	if [[ $HAVE_SETSID == 1 ]]; then
		setsid "$@" >"$T/$name.out" 2>"$log" </dev/null &
	else
		"$@" >"$T/$name.out" 2>"$log" </dev/null &
	fi
	DAEMON_PID=$!
	BG_PIDS+=("$DAEMON_PID")
	if ! wait_until 5 grep -qs "$what: listening on " "$log"; then
		cat "$log" >&2
		fail "$name did not log '$what: listening on' within 5 s"
	fi
	# The line may be read while it is still being written: read it again
	# until it is whole (wc -l counts a line only once its newline is there).
	local tries=0
	while :; do
		PORT=$(sed -n "s/.*$what: listening on .*:\([0-9][0-9]*\)\$/\1/p" "$log" | head -n1)
		[[ $PORT =~ ^[0-9]+$ && $PORT -gt 0 ]] &&
			grep -q "$what: listening on .*:$PORT\$" "$log" &&
			[[ $(wc -l <"$log") -ge $(grep -n "$what: listening on" "$log" | head -n1 | cut -d: -f1) ]] &&
			break
		tries=$((tries + 1))
		[[ $tries -lt 20 ]] || fail "$name: no port in: $(grep 'listening on' "$log")"
		sleep 0.05
	done
}

# start_serve [ARGS...]: ferry serve -i $SERVE_ID --share $SHARE --inbox
# $INBOX --listen 127.0.0.1:0 ARGS. Sets PORT, SERVE_PID, SERVE_LOG.
start_serve() {
	local name=${SERVE_NAME:-serve}
	start_daemon "$name" serve "$FERRY" serve "${ALLOW_ROOT[@]}" \
		-i "${SERVE_ID:-$T/bob}" --listen 127.0.0.1:0 --share "${SHARE:-$T/share}" \
		--inbox "${INBOX:-$T/inbox}" "$@"
	SERVE_PID=$DAEMON_PID
	SERVE_LOG=$T/$name.log
	export PORT SERVE_PID SERVE_LOG
}

# issue NAME [ca issue options...]: a member of the organization in $T/NAME.
issue() {
	local name=$1
	shift
	"$FERRY" ca issue --dir "$T/ca" --name "$name" --out "$T/$name" "$@" \
		>"$T/issue-$name.out" 2>&1 || {
		cat "$T/issue-$name.out" >&2
		fail "ca issue $name failed"
	}
}

# org_init: CA, bob (server, 127.0.0.1 + localhost), alice (client), and
# empty $T/share and $T/inbox.
org_init() {
	"$FERRY" ca init --dir "$T/ca" --name "Test Org Root CA" >"$T/ca-init.out" 2>&1 || {
		cat "$T/ca-init.out" >&2
		fail "ca init failed"
	}
	issue bob --ip 127.0.0.1 --dns localhost
	issue alice
	mkdir -p "$T/share" "$T/inbox"
	SHARE=$T/share
	INBOX=$T/inbox
	SERVE_ID=$T/bob
}

# run CMD...: runs CMD (an executable, not a function) under a timeout;
# exit status in $RC, stdout in $OUT, stderr in $ERR. Never fails itself.
run() {
	RC=0
	timeout -k 5 "$CMD_TIMEOUT" "$@" >"$OUT" 2>"$ERR" || RC=$?
	if [[ $RC == 124 || $RC == 137 ]]; then
		echo "# timed out after ${CMD_TIMEOUT}s: $*" >&2
	fi
	return 0
}

# expect_exit CODE CMD...: run CMD and insist on exit status CODE.
expect_exit() {
	local want=$1
	shift
	run "$@"
	if [[ $RC != "$want" ]]; then
		{
			echo "--- stdout:"
			head -c 4000 "$OUT"
			echo "--- stderr:"
			head -c 4000 "$ERR"
		} >&2
		fail "exit $RC, want $want: $(printf '%q ' "$@" | head -c 300)"
	fi
}

# expect_one_line_err [WHAT]: the last run's stderr is exactly one line.
expect_one_line_err() {
	local n
	n=$(wc -l <"$ERR")
	[[ $n == 1 ]] || fail "${1:-last command}: want one line on stderr, got $n: $(cat "$ERR")"
}

# err_has REGEX [WHAT]: the last run's stderr matches REGEX (grep -E).
err_has() {
	grep -Eq -- "$1" "$ERR" || fail "${2:-last command}: stderr lacks /$1/: $(cat "$ERR")"
}

# log_has REGEX [LOG]: the server log matches REGEX (grep -E).
log_has() {
	local log=${2:-$SERVE_LOG}
	grep -Eq -- "$1" "$log" || fail "$(basename "$log") lacks /$1/; it has:
$(tail -n 15 "$log")"
}

# log_mark [LOG]: remembers how long LOG ($SERVE_LOG) is now; log_new prints
# what was logged since, wait_log waits for such a line.
log_mark() {
	MARK=$(wc -l <"${1:-$SERVE_LOG}")
}

log_new() {
	tail -n +$((MARK + 1)) "${1:-$SERVE_LOG}"
}

_log_new_has() {
	log_new "$2" | grep -Eq -- "$1"
}

# wait_log REGEX [LOG] [SECS]: waits (5 s) for a line matching REGEX logged
# since log_mark; fails the test if none comes.
wait_log() {
	local log=${2:-$SERVE_LOG}
	wait_until "${3:-5}" _log_new_has "$1" "$log" ||
		fail "$(basename "$log"): no new line matching /$1/; new lines:
$(log_new "$log")"
}

# The one line a serve/echo-server child logs when its connection ends.
# shellcheck disable=SC2034 # used by the tests
CONN_END='TLS handshake failed|closed after|ended after'

sha() {
	sha256sum <"$1" | cut -d' ' -f1
}

# no_part_files DIR...: true if no temporary .ferry-*.part exists below the
# DIRs (partials kept for a resume, .ferry-resume-*.part, do not count).
no_part_files() {
	[[ -z $(find "$@" -name '.ferry-*.part' ! -name '.ferry-resume-*' 2>/dev/null) ]]
}

# resume_files DIR...: lists the kept partials below the DIRs.
resume_files() {
	find "$@" -name '.ferry-resume-*.part' 2>/dev/null
}

# part_files DIR...: lists the .ferry-*.part files below the DIRs.
part_files() {
	find "$@" -name '.ferry-*.part' 2>/dev/null
}

# have_python: python3 with the ssl module, for ferrywire.py.
have_python() {
	command -v python3 >/dev/null && python3 -c 'import ssl' 2>/dev/null
}

# wire ARGS...: ferrywire.py under a timeout; like run.
wire() {
	run python3 "$WIRE" "$@"
}

_s_client_done() {
	! is_running "$1" || { [[ -n $2 ]] && grep -Eq -- "$2" "$OUT"; }
}

# s_client INPUT WANT ARGS...: openssl s_client -quiet -no_ign_eof ARGS, fed
# INPUT on stdin. Its stdin stays open until its stdout matches the regex
# WANT (if not empty) or it exits by itself (10 s at most), so replies and
# alerts from the server are never lost to an early EOF. Then stdin is
# closed and it gets 5 s to exit. $RC, $OUT, $ERR as after run.
s_client() {
	local input=$1 want=$2 fifo=$T/s_client.fifo pid fd
	shift 2
	rm -f "$fifo"
	mkfifo "$fifo"
	if [[ $HAVE_SETSID == 1 ]]; then
		setsid openssl s_client -quiet -no_ign_eof "$@" <"$fifo" >"$OUT" 2>"$ERR" &
	else
		openssl s_client -quiet -no_ign_eof "$@" <"$fifo" >"$OUT" 2>"$ERR" &
	fi
	pid=$!
	BG_PIDS+=("$pid")
	exec {fd}>"$fifo"
	(printf '%s' "$input" >&"$fd") 2>/dev/null || true
	wait_until 10 _s_client_done "$pid" "$want" || true
	exec {fd}>&-
	if ! wait_exit "$pid" 5; then
		kill -KILL "$pid" 2>/dev/null || true
		wait_exit "$pid" 2 || true
		echo "# s_client did not exit; killed" >&2
	fi
	RC=$WAIT_RC
}

# now_ms: a monotonic-enough clock for reporting elapsed times.
now_ms() {
	date +%s%3N
}
