#!/usr/bin/env bash
# t_journal.sh - --log: serve's lines under a simulated journald
# (journald.py: JOURNAL_STREAM pointing at a socket the test reads, and the
# native and /dev/log datagram sockets bound in a mount namespace of the
# test's own). Every stream line carries its priority (<6> info, <4>
# warning: what journalctl -p warning keeps), transfer lines carry MEMBER,
# PEER, FILE, SIZE, SHA256 and RESULT, --log syslog goes through syslog(3),
# and without journald the lines are what they always were.
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || skip "needs jq (scripts/deps.sh)"
have_python || skip "needs python3 (scripts/deps.sh)"
JD=$LIB_DIR/journald.py
org_init
printf 'hello\n' >"$T/x.txt"
printf 'another size\n' >"$T/other.txt"
cp "$T/x.txt" "$SHARE/x.txt"
X_SHA=$(sha "$T/x.txt")

# --- on a pipe, JOURNAL_STREAM unset or naming another file: as today ----
STAMP='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z ferry\[[0-9]+\] '
start_serve
log_has "${STAMP}info: serve: listening on "
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/x.txt" "bob@127.0.0.1:$PORT"
wait_until 5 grep -q "received x.txt" "$SERVE_LOG" || fail "no 'received' line"
log_has "${STAMP}info: alice@127\.0\.0\.1:[0-9]+: received x\.txt \(6 bytes, sha256 $X_SHA\)"

# A command run by a service (the renew timer's `ferry renew`) with its
# stderr on journald's stream: errors <3>, warnings <4>.
mkdir -p "$T/cmd" "$T/tree"
printf 'a\n' >"$T/tree/a"
ln -s a "$T/tree/link"
run python3 "$JD" --dir "$T/cmd" -- "$FERRY" send -r -i "$T/alice" "$T/tree" "bob@127.0.0.1:$PORT"
[[ $RC == 9 ]] || fail "send -r (a link skipped) under journald: exit $RC: $(cat "$T/cmd/stream.log")"
run python3 "$JD" --dir "$T/cmd" -- "$FERRY" send -i "$T/alice" "$T/x.txt" "bob@127.0.0.1:1"
[[ $RC == 3 ]] || fail "send to a closed port under journald: exit $RC"
grep -q '^<4>ferry: warning: send: skipping symbolic link' "$T/cmd/stream.log" ||
	fail "command warning without <4>: $(cat "$T/cmd/stream.log")"
grep -q '^<3>ferry: send: cannot connect to 127.0.0.1:1' "$T/cmd/stream.log" ||
	fail "command error without <3>: $(cat "$T/cmd/stream.log")"
bad=$(grep -Ev '^<[3467]>' "$T/cmd/stream.log" || true)
[[ -z $bad ]] || fail "command lines without a priority prefix: $bad"
stop_pid "$SERVE_PID"
rm -f "$INBOX/alice/x.txt"

ino=$(stat -c %i "$T/x.txt")
SERVE_NAME=serve-other JOURNAL_STREAM="0:$ino" start_serve
log_has "${STAMP}info: serve: listening on "
grep -q '^<' "$SERVE_LOG" && fail "JOURNAL_STREAM naming another file changed the format"
stop_pid "$SERVE_PID"

# --log journal without journald: priority prefixes, still on stderr.
SERVE_NAME=serve-forced start_serve --log journal
log_has '^<6>serve: listening on '
stop_pid "$SERVE_PID"

# The same as a key of serve's --config file ([serve] log = journal).
printf '[serve]\nlog = journal\n' >"$T/serve.conf"
SERVE_NAME=serve-conf start_serve --config "$T/serve.conf"
log_has '^<6>serve: listening on '
# ... which a reload (SIGHUP) applies: back to timestamped lines.
printf '[serve]\nlog = stderr\n' >"$T/serve.conf"
log_mark
kill -HUP "$SERVE_PID"
wait_log "${STAMP}info: serve: reload: .*serve.conf applied"
stop_pid "$SERVE_PID"
printf '[serve]\nlog = loud\n' >"$T/bad.conf"
expect_exit 2 "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/bob" --config "$T/bad.conf"
expect_one_line_err "serve with log = loud"
err_has "bad.conf:2: serve: --log: 'loud' is not a log destination"

expect_exit 2 "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/bob" --log journald
expect_one_line_err "serve --log journald"
err_has "serve: --log: 'journald' is not a log destination"
expect_exit 2 "$FERRY" authd "${ALLOW_ROOT[@]}" --ca-dir "$T/ca" --log loud
expect_one_line_err "authd --log loud"
expect_exit 2 "$FERRY" echo-server -i "$T/bob" --log ""
expect_one_line_err "echo-server --log ''"

# --- journald in a mount namespace -----------------------------------------
# /run and /dev are tmpfs there (with /dev's few devices bound back): the
# sockets the test binds never touch the host's.
[[ $(id -u) == 0 ]] && unshare --mount --propagation private true 2>/dev/null ||
	skip "the namespace part needs root (unshare --mount)"
cat >"$T/ns.sh" <<'NS'
set -e
D=$1
shift
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/systemd/journal "$D/olddev"
mount --bind /dev "$D/olddev"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero full random urandom; do
	: >"/dev/$n"
	mount --bind "$D/olddev/$n" "/dev/$n"
done
ln -s /proc/self/fd /dev/fd
exec "$@"
NS

# jd_start NAME FILE WHAT [journald.py options] -- CMD...: CMD under
# journald.py in a namespace; FILE (stream.log, syslog.log) is where its
# "WHAT: listening on" line shows. Sets PORT, JD_PID, D.
jd_start() {
	local name=$1 file=$2 what=$3 jd=()
	shift 3
	while [[ $1 != -- ]]; do
		jd+=("$1")
		shift
	done
	shift
	D=$T/$name
	mkdir -p "$D"
	bg "$name" unshare --mount --propagation private bash "$T/ns.sh" "$D" \
		python3 "$JD" --dir "$D" "${jd[@]}" -- "$@"
	JD_PID=$BG_PID
	wait_until 10 grep -qs "$what: listening on .*:[0-9][0-9]*\$" "$D/$file" || {
		cat "$T/$name.err" "$D"/*.log >&2 || true
		fail "$name: $what did not say it listens"
	}
	PORT=$(sed -n "s/.*$what: listening on .*:\([0-9][0-9]*\)\$/\1/p" "$D/$file" | head -n1)
}

# jd_serve NAME FILE [journald.py options] -- [serve options]
jd_serve() {
	local name=$1 file=$2 jd=()
	shift 2
	while [[ $1 != -- ]]; do
		jd+=("$1")
		shift
	done
	shift
	jd_start "$name" "$file" serve "${jd[@]}" -- "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/bob" \
		--listen 127.0.0.1:0 --share "$SHARE" --inbox "$INBOX" "$@"
}

# native FILTER: the native entries jq FILTER selects (one per line).
native() {
	jq -c "select($1)" "$D/native.jsonl" 2>/dev/null || true
}

has_native() {
	[[ -n $(native "$1") ]]
}

# want_native WHAT FILTER: waits (5 s) for an entry FILTER selects.
want_native() {
	wait_until 5 has_native "$2" ||
		fail "$1: no native entry with $2; got:
$(cat "$D/native.jsonl" 2>/dev/null)"
}

# 1. serve --log auto (the default) under journald, the native socket there.
jd_serve journal stream.log --native /run/systemd/journal/socket --
S=$D/stream.log
grep -Eq '^<6>serve: listening on ' "$S" || fail "stream: no <6> listening line: $(cat "$S")"
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/x.txt" "bob@127.0.0.1:$PORT"
base='.MEMBER == "alice" and (.PEER | test("^127\\.0\\.0\\.1:[0-9]+$"))
	and .SYSLOG_IDENTIFIER == "ferry" and .PRIORITY == "6"'
want_native "push" "$base and .FILE == \"x.txt\" and .RESULT == \"ok\"
	and .SIZE == \"6\" and .SHA256 == \"$X_SHA\"
	and (.MESSAGE | test(\"received x.txt\"))
	and .CODE_FUNC == \"commit_file\" and (.CODE_FILE | test(\"xfer_serve.c$\"))"
# Pushed again with -p: up to date, only its time and mode applied.
expect_exit 0 "$FERRY" send -p -i "$T/alice" "$T/x.txt" "bob@127.0.0.1:$PORT"
want_native "push of an unchanged file" "$base and .FILE == \"x.txt\"
	and .RESULT == \"uptodate\" and .SIZE == \"6\" and .SHA256 == \"$X_SHA\"
	and (.MESSAGE | test(\"x.txt is up to date in the inbox\"))"

mkdir -p "$T/dl"
expect_exit 0 "$FERRY" get -i "$T/alice" "bob@127.0.0.1:$PORT:x.txt" -o "$T/dl"
want_native "pull" "$base and .FILE == \"x.txt\" and .RESULT == \"ok\"
	and .SIZE == \"6\" and .SHA256 == \"$X_SHA\" and (.MESSAGE | test(\"sent x.txt\"))"
expect_exit 0 "$FERRY" get -i "$T/alice" "bob@127.0.0.1:$PORT:x.txt" -o "$T/dl"
want_native "pull of an unchanged file" "$base and .FILE == \"x.txt\"
	and .RESULT == \"uptodate\" and .SHA256 == \"$X_SHA\""

# A refused push: the inbox has another x.txt (the client stops it; the
# server records it when the session ends) ...
cp "$T/other.txt" "$T/dl/x.txt"
expect_exit 5 "$FERRY" send -i "$T/alice" "$T/dl/x.txt" "bob@127.0.0.1:$PORT"
want_native "refused push" "$base and .FILE == \"x.txt\" and .RESULT == \"refused\"
	and (.MESSAGE | test(\"push refused\")) and (has(\"SIZE\") | not)"
# ... and a name no inbox takes, with a newline in it: one line, one field.
wire session -i "$T/alice" --hold 0 127.0.0.1 "$PORT" --put $'bad\nname:6:6'
want_native "refused name" "$base and .FILE == \"bad?name\" and .RESULT == \"refused\""
[[ -z $(native '.MESSAGE | test("\n")') ]] || fail "a newline reached MESSAGE"

# A warning (a broken CRL is not taken): <4>, what journalctl -p warning
# shows; the info lines are <6> and stay out of it.
printf 'not a CRL\n' >"$T/bob/crl.pem"
run "$FERRY" send -i "$T/alice" --force "$T/x.txt" "bob@127.0.0.1:$PORT"
wait_until 5 grep -q '^<4>serve: keeping the identity in use' "$S" ||
	fail "stream: no <4> warning for the broken CRL: $(cat "$S")"
rm -f "$T/bob/crl.pem"
grep -Eq '^<6>alice@127\.0\.0\.1:[0-9]+: TLSv1\.3, .*closed after' "$S" ||
	fail "stream: session lines are not <6>: $(cat "$S")"
bad=$(grep -Ev '^<[3467]>' "$S" || true)
[[ -z $bad ]] || fail "stream lines without a priority prefix: $bad"
grep -Eq '^<[0-9]>[0-9]{4}-' "$S" && fail "stream lines carry a timestamp: $(cat "$S")"
# Transfer lines went to the native socket, not (also) to the stream.
grep -q 'received x.txt' "$S" && fail "a transfer line reached the stream too"
stop_pid "$JD_PID" TERM 10
rm -rf "${INBOX:?}/alice"

# 2. No native socket (journald without it): nothing is lost, the transfer
# line comes on the stream with its priority.
jd_serve stream-only stream.log --
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/x.txt" "bob@127.0.0.1:$PORT"
wait_until 5 grep -Eq "^<6>alice@127\.0\.0\.1:[0-9]+: received x\.txt \(6 bytes, sha256 $X_SHA\)\$" "$D/stream.log" ||
	fail "no fallback line on the stream: $(cat "$D/stream.log")"
stop_pid "$JD_PID" TERM 10
rm -rf "${INBOX:?}/alice"

# 3. --log syslog: one syslog(3) datagram per line at /dev/log, facility
# daemon (info 30, warning 28), the fields appended as key=value.
jd_serve syslog syslog.log --syslog /dev/log -- --log syslog
L=$D/syslog.log
grep -Eq '^<30>.* ferry\[[0-9]+\]: serve: listening on ' "$L" ||
	fail "syslog: no <30> listening line: $(cat "$L")"
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/x.txt" "bob@127.0.0.1:$PORT"
want="^<30>.* ferry\\[[0-9]+\\]: alice@127\\.0\\.0\\.1:[0-9]+: received x\\.txt .* member=alice peer=127\\.0\\.0\\.1:[0-9]+ file=x\\.txt size=6 sha256=$X_SHA result=ok\$"
wait_until 5 grep -Eq "$want" "$L" || fail "syslog: no transfer line with fields: $(cat "$L")"
printf 'not a CRL\n' >"$T/bob/crl.pem"
run "$FERRY" send -i "$T/alice" --force "$T/x.txt" "bob@127.0.0.1:$PORT"
wait_until 5 grep -Eq '^<28>.* ferry\[[0-9]+\]: serve: keeping the identity in use' "$L" ||
	fail "syslog: no <28> warning: $(cat "$L")"
rm -f "$T/bob/crl.pem"
[[ ! -s $D/stream.log ]] || fail "--log syslog wrote to stderr: $(cat "$D/stream.log")"
stop_pid "$JD_PID" TERM 10

# 4. authd: one line per request, with USER, PEER, REQUEST, STATUS and
# RESULT, and MEMBER once the request succeeded; never the password.
printf 'carol-secret-pw\n' | "$FERRY" user add --db "$T/ca/ferry.db" \
	--password-stdin carol >"$T/user-carol.out" 2>&1 || fail "user add carol"
FP=$(cut -d' ' -f1 "$T/ca-init.out")
jd_start authd stream.log authd --native /run/systemd/journal/socket -- \
	"$FERRY" authd "${ALLOW_ROOT[@]}" --ca-dir "$T/ca" --listen 127.0.0.1:0
run "$FERRY" enroll "https://127.0.0.1:$PORT" --user carol -i "$T/carol-enrolled" \
	--fingerprint "$FP" --password-stdin <<<"wrong-secret-pw"
[[ $RC == 4 ]] || fail "enroll with a wrong password: exit $RC: $(cat "$ERR")"
run "$FERRY" enroll "https://127.0.0.1:$PORT" --user carol -i "$T/carol-enrolled" \
	--fingerprint "$FP" --password-stdin <<<"carol-secret-pw"
[[ $RC == 0 ]] || fail "enroll carol: exit $RC: $(cat "$ERR")"
est='.SYSLOG_IDENTIFIER == "ferry" and .PRIORITY == "6"
	and .PEER == "127.0.0.1"
	and .REQUEST == "/.well-known/est/simpleenroll" and .USER == "carol"'
want_native "authd refused login" "$est and .STATUS == \"401\"
	and .RESULT == \"refused\" and (has(\"MEMBER\") | not)"
want_native "authd enroll" "$est and .STATUS == \"200\" and .RESULT == \"ok\"
	and .MEMBER == \"carol\""
grep -q 'secret-pw' "$D"/*.log "$D"/*.jsonl && fail "a password reached authd's log"
grep -Eq '^<6>authd: listening on ' "$D/stream.log" ||
	fail "authd stream: no <6> listening line: $(cat "$D/stream.log")"
grep -Eq '^<4>authd: [^ ]+: failed login for .carol.' "$D/stream.log" ||
	fail "authd stream: the failed login is not a <4> warning: $(cat "$D/stream.log")"
stop_pid "$JD_PID" TERM 10

finish
