#!/usr/bin/env bash
# t_privdrop.sh - serve and authd started as root with --user end up running
# as that user (/proc/PID/status: every Uid and Gid field), confined by
# Landlock, and serve's per-connection child past its handshake runs under
# seccomp (Seccomp: 2, NoNewPrivs: 1). Root without --user or --allow-root
# is refused; an inbox the user cannot write is one line with the fix.
# Landlock is shown by behaviour: a build without the user-space path check
# (FERRY_TEST_UNCONFINED_PATHS, built here into $(dirname $FERRY)/unconfined)
# follows a symbolic link out of the share, and the kernel refuses the read;
# the same build with Landlock turned off reads it, so the kernel was what
# refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"
[[ $(id -u) == 0 ]] || skip "needs root (switches user)"

U=nobody
UID_U=$(id -u "$U")
GID_U=$(id -g "$U")

authd_org
issue bob --ip 127.0.0.1
issue alice
mkdir -p "$T/share" "$T/inbox"
# A layout for a service user: what it reads and writes is its own (as
# /var/lib/ferry after chown -R ferry:), and $T lets it through.
chmod 711 "$T"
chown -R "$U:" "$T/bob" "$T/inbox" "$T/ca"
head -c 1048576 /dev/urandom >"$T/share/big.bin"
echo "shared" >"$T/share/small.txt"
chmod -R a+rX "$T/share"
# Outside the share, readable by the user: only a confinement stops it.
mkdir -p "$T/outside"
echo "not for members" >"$T/outside/secret.txt"
chmod 755 "$T/outside"
chmod 644 "$T/outside/secret.txt"
ln -s "$T/outside" "$T/share/out"

# ids_are PID UID GID: every Uid/Gid field of /proc/PID/status.
ids_are() {
	local st
	st=$(cat "/proc/$1/status") || return 1
	grep -Eq "^Uid:[[:space:]]+$2[[:space:]]+$2[[:space:]]+$2[[:space:]]+$2\$" <<<"$st" &&
		grep -Eq "^Gid:[[:space:]]+$3[[:space:]]+$3[[:space:]]+$3[[:space:]]+$3\$" <<<"$st"
}
status_of() {
	grep -E '^(Uid|Gid|Groups|NoNewPrivs|Seccomp):' "/proc/$1/status" | tr '\n' ' '
}

# --- root without --user or --allow-root: refused, exit 2 -------------------
expect_exit 2 "$FERRY" serve -i "$T/bob" --listen 127.0.0.1:0 --share "$T/share" --inbox "$T/inbox"
expect_one_line_err "serve as root"
err_has "^ferry: serve: refusing to run as root; use --user NAME \(e\.g\. --user ferry\) or --allow-root\$"
expect_exit 2 "$FERRY" authd --ca-dir "$T/ca" --listen 127.0.0.1:0
expect_one_line_err "authd as root"
err_has "authd: refusing to run as root; use --user NAME \(e\.g\. --user ferry\) or --allow-root"
expect_exit 2 "$FERRY" serve --user no-such-user-here -i "$T/bob" --listen 127.0.0.1:0 \
	--share "$T/share" --inbox "$T/inbox"
err_has "no-such-user-here: no such user"

# --- an inbox the user cannot write: one line with the fix, exit 5 ----------
mkdir -m 700 "$T/rootinbox"
expect_exit 5 "$FERRY" serve --user "$U" -i "$T/bob" --listen 127.0.0.1:0 \
	--share "$T/share" --inbox "$T/rootinbox"
# (after serve's info line naming its directories: one error line)
[[ $(grep -c '^ferry: ' "$ERR") == 1 ]] || fail "root-owned inbox: $(cat "$ERR")"
grep -q 'listening on' "$ERR" && fail "serve listened with an inbox it cannot write"
err_has "^ferry: serve: --inbox $T/rootinbox: not writable by user $U; fix with: chown -R $U: $T/rootinbox"

# --- serve --user: the daemon and its child ----------------------------------
start_serve_as() { # NAME BINARY ARGS...
	local name=$1 bin=$2
	shift 2
	start_daemon "$name" serve "$bin" serve --user "$U" -i "$T/bob" \
		--listen 127.0.0.1:0 --share "$T/share" --inbox "$T/inbox" "$@"
}
start_serve_as serve "$FERRY"
SERVE_PID=$DAEMON_PID
SERVE_LOG=$T/serve.log
ids_are "$SERVE_PID" "$UID_U" "$GID_U" || fail "serve runs as: $(status_of "$SERVE_PID")"
log_has "sandbox: running as uid $UID_U gid $GID_U; file access confined by Landlock"
note "serve: $(status_of "$SERVE_PID")"

# A slow pull keeps a session open: its child must be under seccomp.
bg slowget "$FERRY" get --limit-rate 128K -q -i "$T/alice" \
	"bob@127.0.0.1:$PORT:big.bin" -o "$T/big.got"
child_of() {
	local p
	for p in $(pgrep -P "$1" || true); do
		grep -q '^Seccomp:[[:space:]]*2$' "/proc/$p/status" 2>/dev/null && {
			echo "$p"
			return 0
		}
	done
	return 1
}
wait_until 10 child_of "$SERVE_PID" >/dev/null || fail "no child of serve under seccomp during a pull"
CHILD=$(child_of "$SERVE_PID")
st=$(status_of "$CHILD")
note "serve's child: $st"
ids_are "$CHILD" "$UID_U" "$GID_U" || fail "serve's child runs as: $st"
grep -q 'NoNewPrivs:[[:space:]]*1' <<<"$st" || fail "serve's child lacks no_new_privs: $st"
wait_exit "$BG_PID" 30 || fail "the slow pull did not end within 30 s"
[[ $WAIT_RC == 0 ]] || fail "the slow pull failed ($WAIT_RC): $(cat "$T/slowget.err")"
cmp -s "$T/big.got" "$T/share/big.bin" || fail "the pull under seccomp differs"

# Everything else a session does, under the filter: push, list, get.
echo "pushed" >"$T/p.txt"
expect_exit 0 "$FERRY" send -q -i "$T/alice" "$T/p.txt" "bob@127.0.0.1:$PORT"
[[ $(stat -c %U "$T/inbox/alice/p.txt") == "$U" ]] || fail "the pushed file is not owned by $U"
expect_exit 0 "$FERRY" ls -i "$T/alice" "bob@127.0.0.1:$PORT"
grep -q small.txt "$OUT" || fail "ls under the sandbox: $(cat "$OUT")"
# The user-space check refuses the link out of the share (the kernel is not
# reached).
expect_exit 5 "$FERRY" get -i "$T/alice" "bob@127.0.0.1:$PORT:out/secret.txt" -o "$T/leak1"
err_has "leads outside the shared directory"
[[ ! -e $T/leak1 ]] || fail "the secret was sent"
grep -q 'died of signal' "$SERVE_LOG" && fail "a child of serve was killed: $(grep 'died of' "$SERVE_LOG")"
stop_pid "$SERVE_PID"

# --- the same from serve.conf: user = NAME is a [serve] key ------------------
mkdir -m 755 "$T/etc"
printf '[serve]\nuser = %s\nidentity = %s\nlisten = 127.0.0.1:0\nshare = %s\ninbox = %s\n' \
	"$U" "$T/bob" "$T/share" "$T/inbox" >"$T/etc/serve.conf"
chmod 644 "$T/etc/serve.conf"
start_daemon conf serve "$FERRY" serve --config "$T/etc/serve.conf"
ids_are "$DAEMON_PID" "$UID_U" "$GID_U" || fail "serve --config (user = $U) runs as: $(status_of "$DAEMON_PID")"
expect_exit 0 "$FERRY" ls -i "$T/alice" "bob@127.0.0.1:$PORT"
stop_pid "$DAEMON_PID"

# --- the kernel alone: a build without the user-space check -------------------
SRC=${FERRY_SRC:-$LIB_DIR/../..}
UB=$(dirname "$FERRY")/unconfined
if [[ ! -x $UB/ferry || $FERRY -nt $UB/ferry ]]; then
	note "building the unconfined test variant in $UB"
	t0=$SECONDS
	if ! { cmake -S "$SRC" -B "$UB" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
		-DFERRY_TEST_UNCONFINED_PATHS=ON -DFERRY_INTEGRATION=OFF &&
		timeout 300 ninja -C "$UB" ferry; } >"$T/unconfined-build.log" 2>&1; then
		fail "cannot build the unconfined variant: $(tail -n 20 "$T/unconfined-build.log")"
	fi
	note "built in $((SECONDS - t0)) s"
fi
start_serve_as unconfined "$UB/ferry"
UPID=$DAEMON_PID
log_has "file access confined by Landlock" "$T/unconfined.log"
expect_exit 5 "$FERRY" get -i "$T/alice" "bob@127.0.0.1:$PORT:out/secret.txt" -o "$T/leak2"
expect_one_line_err "get through the link, Landlock on"
err_has "bob refuses: out/secret.txt: [Pp]ermission denied"
[[ ! -e $T/leak2 ]] || fail "the kernel let the secret out"
expect_exit 0 "$FERRY" get -q -i "$T/alice" "bob@127.0.0.1:$PORT:small.txt" -o "$T/small.got"
stop_pid "$UPID"
# The control: the same build with Landlock turned off reads the secret.
FERRY_TEST_NO_LANDLOCK=1 start_serve_as control "$UB/ferry"
CPID=$DAEMON_PID
log_has "landlock: not available \(turned off for a test\)" "$T/control.log"
expect_exit 0 "$FERRY" get -q -i "$T/alice" "bob@127.0.0.1:$PORT:out/secret.txt" -o "$T/leak3"
cmp -s "$T/leak3" "$T/outside/secret.txt" || fail "the control run did not read through the link"
stop_pid "$CPID"
note "unconfined build: refused by Landlock, read without it"

# --- authd --user --------------------------------------------------------------
# A file in the CA directory left to root: said at start, with the fix.
chown root "$T/ca/index.tsv"
expect_exit 5 "$FERRY" authd --user "$U" --ca-dir "$T/ca" --listen 127.0.0.1:0
err_has "^ferry: authd: --ca-dir $T/ca: $T/ca/index.tsv is not writable by user $U; fix with: chown -R $U: $T/ca\$"
grep -q 'listening on' "$ERR" && fail "authd listened with a CA directory it cannot write"
chown "$U" "$T/ca/index.tsv"
start_daemon authd authd "$FERRY" authd --user "$U" --ca-dir "$T/ca" --listen 127.0.0.1:0
APORT=$PORT
AUTHD_PID=$DAEMON_PID
AUTHD_LOG=$T/authd.log
URL=https://127.0.0.1:$APORT
ids_are "$AUTHD_PID" "$UID_U" "$GID_U" || fail "authd runs as: $(status_of "$AUTHD_PID")"
log_has "sandbox: running as uid $UID_U gid $GID_U; file access confined by Landlock" "$AUTHD_LOG"
note "authd: $(status_of "$AUTHD_PID")"
# It writes its database and CA directory as that user, through Landlock.
rm -rf "$T/carol"
enroll carol
[[ -s $T/carol/cert.pem ]] || fail "enroll under the sandboxed authd wrote no certificate"
grep -q 'died\|denied' "$AUTHD_LOG" && fail "authd: $(grep 'died\|denied' "$AUTHD_LOG")"
stop_pid "$AUTHD_PID"

finish
