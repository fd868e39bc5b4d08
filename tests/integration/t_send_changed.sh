#!/usr/bin/env bash
# t_send_changed.sh - a file that changes while send reads it is not stored
# at its old size (tar: "file changed as we read it"): a file that grows
# during a rate-limited send is aborted, reported in one line naming it,
# and nothing appears under its name in the inbox; the other file of the
# batch arrives, and the exit status is 9 (partial). Alone, exit 8 (I/O).
. "$(dirname "$0")/lib.sh"

org_init
start_serve
P=bob@127.0.0.1:$PORT
mkdir -p "$T/src"
printf 'steady\n' >"$T/src/a.txt"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$T/src/grow.log"

# grows FILE NAME: starts `send FILE...` in the background at 1 MiB/s, and
# appends to FILE once the peer is receiving NAME (its partial exists).
grows() {
	local file=$1 name=$2
	shift 2
	bg send "$FERRY" send -q -i "$T/alice" --limit-rate 1M "$@" "$P"
	wait_until 10 eval "[[ -n \$(resume_files '$INBOX/alice') ]]" ||
		fail "the push of $name did not start"
	printf 'one more line\n' >>"$file"
	is_running "$BG_PID" || fail "the send was over before $name grew; the test proves nothing"
	wait_exit "$BG_PID" 30 || fail "send did not end within 30 s"
	RC=$WAIT_RC
	ERR=$T/send.err
}

grows "$T/src/grow.log" grow.log "$T/src/a.txt" "$T/src/grow.log"
[[ ! -e $INBOX/alice/grow.log ]] || fail "grow.log was stored though it changed as it was read"
[[ $RC == 9 ]] || fail "exit $RC, want 9: $(cat "$ERR")"
expect_one_line_err "a grown file"
err_has "send: $T/src/grow.log: file changed as we read it \(its size\); not sent" "a grown file"
[[ $(cat "$INBOX/alice/a.txt") == steady ]] || fail "a.txt did not arrive"
wait_until 5 eval "[[ -z \$(part_files '$INBOX/alice') ]]" ||
	fail "a partial file of the aborted push is left: $(part_files "$INBOX/alice")"

# Alone: exit 8 (I/O), and sent again once still, it arrives whole.
grows "$T/src/grow.log" grow.log "$T/src/grow.log"
[[ $RC == 8 ]] || fail "alone: exit $RC, want 8: $(cat "$ERR")"
[[ ! -e $INBOX/alice/grow.log ]] || fail "grow.log was stored the second time"
expect_exit 0 "$FERRY" send -q -i "$T/alice" "$T/src/grow.log" "$P"
[[ $(sha "$INBOX/alice/grow.log") == "$(sha "$T/src/grow.log")" ]] || fail "grow.log, still, did not arrive whole"

finish
