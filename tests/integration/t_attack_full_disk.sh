#!/usr/bin/env bash
# t_attack_full_disk.sh - a push that fills the receiver's disk (serve's
# inbox on a 2 MiB tmpfs, in a mount namespace of its own). The sender is
# told whose disk and which file, in one line, "bob's disk is full:
# report.pdf not stored", with exit 5 (the peer refused; 8 is for the
# local disk), never exit 8; serve logs the same line and counts it
# refused; nothing is left in the inbox under the final name or as a
# partial, and the next small push still lands. Needs root (unshare -m,
# mount); skipped otherwise.
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || skip "no unshare"
unshare -m true 2>/dev/null || skip "cannot make a mount namespace (not root?)"
org_init
mkdir -p "$T/small"
SERVE_LOG=$T/serve.log
start_daemon serve serve unshare -m sh -c \
	'mount -t tmpfs -o size=2m tmpfs "$1" && exec "$2" serve --allow-root -i "$3" --listen 127.0.0.1:0 --share "$4" --inbox "$1"' \
	sh "$T/small" "$FERRY" "$T/bob" "$SHARE"
SERVE_PID=$DAEMON_PID
P=bob@127.0.0.1:$PORT
head -c $((5 * 1024 * 1024)) /dev/urandom >"$T/report.pdf"
echo "fits" >"$T/note.txt"

log_mark
expect_exit 5 "$FERRY" send -i "$T/alice" "$T/report.pdf" "$P"
expect_one_line_err "push onto a full disk"
[[ $(cat "$ERR") == "ferry: send: bob's disk is full: report.pdf not stored" ]] ||
	fail "want \"ferry: send: bob's disk is full: report.pdf not stored\", got: $(cat "$ERR")"
wait_log "alice@.*($CONN_END)"
log_new | grep -q "push refused: bob's disk is full: report.pdf not stored" ||
	fail "serve did not log the full disk: $(log_new)"
log_new | grep -q "closed after .*, 1 refused" || fail "the refusal is not counted: $(log_new)"

# Whatever the sender sees, the inbox holds nothing of it.
inbox=$(nsenter -t "$SERVE_PID" -m ls -A "$T/small/alice" 2>/dev/null || echo "?")
[[ -z $inbox ]] || fail "left in the full inbox: $inbox"

expect_exit 0 "$FERRY" send -i "$T/alice" "$T/note.txt" "$P"
finish
