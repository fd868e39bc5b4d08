#!/usr/bin/env bash
# t_quota.sh - each sender's inbox quota on ferry serve (--inbox-quota,
# --inbox-files): a push that cannot fit is refused before its data moves;
# one that the quota stops mid-stream (another session of the same sender
# filled the inbox) ends with NOSPACE, keeps its partial for resume and
# never appears under its final name; under the quota pushes work.
. "$(dirname "$0")/lib.sh"

org_init
mkfile() { head -c "$2" /dev/urandom >"$T/$1"; }
mkfile small 1048576
mkfile big 4194304
mkfile slow 9437184
mkfile fast 5242880
printf 'a\n' >"$T/a.txt"
printf 'b\n' >"$T/b.txt"
printf 'c\n' >"$T/c.txt"
BOB=bob@127.0.0.1

# --- bytes, refused early -------------------------------------------------
start_serve --inbox-quota 3M
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/small" "$BOB:$PORT"
cmp -s "$T/small" "$T/inbox/alice/small" || fail "a push under the quota did not land"
log_mark
expect_exit 5 "$FERRY" send -i "$T/alice" "$T/big" "$BOB:$PORT"
expect_one_line_err "send over the quota"
err_has "bob refuses: alice's inbox on bob is full: 1.0 MiB of 3.0 MiB used, big needs 4.0 MiB" "send over the quota"
[[ ! -e $T/inbox/alice/big ]] || fail "a push over the quota landed"
[[ -z $(part_files "$T/inbox") ]] || fail "an early refusal left a partial: $(part_files "$T/inbox")"
wait_log "push refused: alice's inbox on bob is full"
# The quota is per sender: carol's inbox is her own.
issue carol
expect_exit 0 "$FERRY" send -i "$T/carol" "$T/small" "$BOB:$PORT"
expect_exit 0 "$FERRY" send -i "$T/carol" "$T/a.txt" "$BOB:$PORT"
stop_pid "$SERVE_PID"

# --- bytes, reached mid-stream by a second session of the same sender -------
rm -rf "$T/inbox"/*
start_serve --inbox-quota 10M
bg slow "$FERRY" send -i "$T/alice" --limit-rate 2M "$T/slow" "$BOB:$PORT"
SLOW=$BG_PID
has_partial() { [[ -n $(resume_files "$T/inbox/alice") ]]; }
wait_until 5 has_partial || fail "the slow push made no partial"
# 5 MiB fits beside what has arrived of the 9 MiB so far: it lands ...
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/fast" "$BOB:$PORT"
cmp -s "$T/fast" "$T/inbox/alice/fast" || fail "the second push did not land"
# ... and the slow one, re-checked as its data comes, no longer fits.
wait_exit "$SLOW" 20 || fail "the slow push did not end"
[[ $WAIT_RC == 5 ]] || fail "slow push: exit $WAIT_RC, want 5: $(cat "$T/slow.err")"
[[ $(wc -l <"$T/slow.err") == 1 ]] || fail "slow push: not one line: $(cat "$T/slow.err")"
grep -q "bob refuses: alice's inbox on bob is full: .* used, slow needs 9.0 MiB" "$T/slow.err" ||
	fail "slow push: $(cat "$T/slow.err")"
[[ ! -e $T/inbox/alice/slow ]] || fail "the push stopped by the quota landed"
part=$(resume_files "$T/inbox/alice")
[[ -n $part ]] || fail "the push stopped by the quota kept no partial"
kept=$(stat -c %s "$part")
[[ $kept -ge 4194304 && $kept -lt 9437184 ]] || fail "kept partial is $kept bytes"
log_has "push refused: alice's inbox on bob is full"
# Room again: the same push resumes from the partial and lands.
rm "$T/inbox/alice/fast"
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/slow" "$BOB:$PORT"
cmp -s "$T/slow" "$T/inbox/alice/slow" || fail "the resumed push differs"
[[ -z $(resume_files "$T/inbox/alice") ]] || fail "the partial stayed after the resume"
log_has "resuming slow at byte [1-9]"
stop_pid "$SERVE_PID"

# --- files, from the configuration file; the command line wins ---------------
rm -rf "$T/inbox"/*
printf '[serve]\ninbox-files = 1\ninbox-quota = 1K\n' >"$T/quota.conf"
start_serve --config "$T/quota.conf" --inbox-files 2
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/a.txt" "$BOB:$PORT"
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/b.txt" "$BOB:$PORT"
expect_exit 5 "$FERRY" send -i "$T/alice" "$T/c.txt" "$BOB:$PORT"
err_has "bob refuses: alice's inbox on bob is full: 2 of 2 files" "third file"
[[ ! -e $T/inbox/alice/c.txt ]] || fail "a file over the count landed"
# A refused push does not end the session: the next request still works.
run python3 "$WIRE" session 127.0.0.1 "$PORT" -i "$T/alice" --hold 0.5 \
	--put d.txt:3:3 --get nothing-here
grep -q "^PUT 'd.txt': ERR id=1 code=21 alice's inbox on bob is full: 2 of 2 files$" "$OUT" ||
	fail "wire: PUT not refused with NOSPACE: $(cat "$OUT")"
grep -q "^GET 'nothing-here': ERR id=2 code=30 " "$OUT" || fail "wire: session ended: $(cat "$OUT")"
stop_pid "$SERVE_PID"

finish
