#!/usr/bin/env bash
# t_interrupt.sh - transfers that do not finish never leave a file under its
# final name, and the receiver removes its temp file: a sender or getter
# killed (-9) or interrupted (SIGINT, exit 130) mid-transfer, and senders
# that lie about the SHA-256 or the size.
. "$(dirname "$0")/lib.sh"

org_init
start_serve --timeout 10
ID=$T/alice
DL=$T/dl
mkdir -p "$DL" "$T/src"
BIG=$((200 * 1024 * 1024))
head -c "$BIG" /dev/urandom >"$T/src/big.bin"
for n in push-kill push-int get-kill get-int; do
	ln "$T/src/big.bin" "$T/src/$n.bin"
done
ln "$T/src/big.bin" "$T/share/get-kill.bin"
ln "$T/src/big.bin" "$T/share/get-int.bin"

# part_grown DIR: a temp file below DIR holds more than 1 MiB.
part_grown() {
	[[ -n $(find "$1" -name '.ferry-*.part' -size +1024k 2>/dev/null) ]]
}

# interrupt SIG DIR NAME CMD...: starts CMD, waits for its temp file in DIR
# to grow, sends SIG; its exit status in $WAIT_RC, stderr in $T/NAME.err.
interrupt() {
	local sig=$1 dir=$2 name=$3 pid
	shift 3
	bg "$name" "$@"
	pid=$BG_PID
	if ! wait_until 20 part_grown "$dir"; then
		fail "$name: no temp file grew in $dir: $(cat "$T/$name.err")"
	fi
	PART_AT_SIGNAL=$(find "$dir" -name '.ferry-*.part' -printf '%s\n' | sort -n | tail -n 1)
	is_running "$pid" || fail "$name: finished before it could be interrupted (inconclusive)"
	local stuck=0
	{ # (stderr: bash would announce the killed job)
		kill "-$sig" "$pid"
		wait_exit "$pid" 10 || stuck=1
	} 2>/dev/null
	[[ $stuck == 0 ]] || fail "$name: still running 10 s after SIG$sig"
	note "$name: SIG$sig with ${PART_AT_SIGNAL:-?} of $BIG bytes received -> exit $WAIT_RC; $(tr '\n' ' ' <"$T/$name.err")"
}

# --- push, sender killed with SIGKILL -------------------------------------
log_mark
interrupt KILL "$T/inbox" push-kill "$FERRY" send -i "$ID" "$T/src/push-kill.bin" "127.0.0.1:$PORT"
[[ $WAIT_RC == 137 ]] || fail "push-kill: exit $WAIT_RC, want 137 (killed)"
[[ ! -e $T/inbox/alice/push-kill.bin ]] || fail "push-kill: the final file appeared in the inbox"
wait_log 'alice@.*ended after' "$SERVE_LOG" 10
wait_until 5 no_part_files "$T/inbox" || fail "push-kill: temp file left in the inbox: $(part_files "$T/inbox")"
[[ -n $(resume_files "$T/inbox") ]] || fail "push-kill: no partial kept in the inbox for a resume"
# (Gone, so that the next interruption waits for its own partial to grow.)
rm -f $(resume_files "$T/inbox")
[[ ! -e $T/inbox/alice/push-kill.bin ]] || fail "push-kill: the final file appeared in the inbox"

# --- push, sender interrupted with SIGINT ---------------------------------
log_mark
interrupt INT "$T/inbox" push-int "$FERRY" send -i "$ID" "$T/src/push-int.bin" "127.0.0.1:$PORT"
[[ $WAIT_RC == 130 ]] || fail "push-int: exit $WAIT_RC, want 130: $(cat "$T/push-int.err")"
grep -q 'interrupted' "$T/push-int.err" || fail "push-int: stderr does not say interrupted: $(cat "$T/push-int.err")"
[[ ! -s $T/push-int.out ]] || fail "push-int: printed a hash: $(cat "$T/push-int.out")"
wait_log "$CONN_END" "$SERVE_LOG" 10
wait_until 5 no_part_files "$T/inbox" || fail "push-int: temp file left in the inbox: $(part_files "$T/inbox")"
if [[ -e $T/inbox/alice/push-int.bin ]]; then
	# The sender noticed SIGINT only once it had streamed the whole file.
	defer_fail "push-int: SIGINT arrived with ${PART_AT_SIGNAL:-?} of $BIG bytes received, yet the sender streamed the rest and the server committed push-int.bin; the sender still exited $WAIT_RC saying: $(tr '\n' ' ' <"$T/push-int.err")"
fi
log_new | grep -q 'alice@.*ended after' ||
	defer_fail "push-int: the server did not see the push cut short: $(log_new)"

# --- get, getter killed with SIGKILL --------------------------------------
log_mark
interrupt KILL "$DL" get-kill "$FERRY" get -i "$ID" "127.0.0.1:$PORT:get-kill.bin" -o "$DL"
[[ $WAIT_RC == 137 ]] || fail "get-kill: exit $WAIT_RC, want 137"
[[ ! -e $DL/get-kill.bin ]] || fail "get-kill: the final file appeared"
# (A killed process cannot remove its own temp file; the final name is what
# matters. The server must notice and end the session.)
wait_log 'alice@.*ended after' "$SERVE_LOG" 10
[[ -n $(resume_files "$DL") ]] || fail "get-kill: no partial kept for a resume"
rm -f "$DL"/.ferry-*.part

# --- get, getter interrupted with SIGINT ----------------------------------
interrupt INT "$DL" get-int "$FERRY" get -i "$ID" "127.0.0.1:$PORT:get-int.bin" -o "$DL"
if [[ $WAIT_RC != 130 || -e $DL/get-int.bin ]]; then
	defer_fail "get-int: SIGINT with ${PART_AT_SIGNAL:-?} of $BIG bytes received: want exit 130 and no get-int.bin; got exit $WAIT_RC, get-int.bin $([[ -e $DL/get-int.bin ]] && echo present || echo absent); stderr: $(tr '\n' ' ' <"$T/get-int.err")"
else
	grep -q 'interrupted' "$T/get-int.err" || fail "get-int: stderr does not say interrupted: $(cat "$T/get-int.err")"
fi
no_part_files "$DL" || fail "get-int: temp file left behind: $(part_files "$DL")"
[[ -n $(resume_files "$DL") ]] || fail "get-int: no partial kept for a resume"

# --- senders that lie (raw protocol) --------------------------------------
if have_python; then
	log_mark
	# A wrong SHA-256 in END: ERR (integrity), nothing saved; the connection
	# stays usable for the next, honest file.
	wire session -i "$ID" --hold 0 127.0.0.1 "$PORT" \
		--put 'lie.bin:300000:300000:bad-hash' --put 'honest.bin:1000:1000'
	[[ $RC == 0 ]] || fail "ferrywire: exit $RC: $(cat "$OUT" "$ERR")"
	grep -Eq "^PUT 'lie.bin': ERR id=1 code=90 .*SHA-256 mismatch" "$OUT" ||
		fail "wrong END hash: want ERR code=90: $(cat "$OUT")"
	grep -q "^PUT 'honest.bin': OK id=2 size=1000" "$OUT" ||
		fail "honest PUT after the lie: $(cat "$OUT")"
	[[ ! -e $T/inbox/alice/lie.bin ]] || fail "a file with a wrong hash was saved"
	[[ -f $T/inbox/alice/honest.bin ]] || fail "honest.bin not saved"
	wait_log 'lie.bin: SHA-256 mismatch; not saved'

	# Announces 10 bytes, sends 20: an error, never a file.
	wire session -i "$ID" --hold 2 127.0.0.1 "$PORT" --put 'more.bin:10:20'
	[[ $RC == 0 ]] || fail "ferrywire: exit $RC: $(cat "$OUT" "$ERR")"
	grep -Eq "^(PUT 'more.bin': ERR id=1 |CLOSED)" "$OUT" ||
		fail "10 announced, 20 sent: want ERR or a closed connection: $(cat "$OUT")"
	grep -q ": OK " "$OUT" && fail "10 announced, 20 sent: accepted: $(cat "$OUT")"
	[[ ! -e $T/inbox/alice/more.bin ]] || fail "a file with more data than announced was saved"
	wait_log 'more.bin: more data than the announced 10 bytes'

	# Announces 10 bytes, sends 5, then END with their correct hash.
	wire session -i "$ID" --hold 0 127.0.0.1 "$PORT" --put 'less.bin:10:5'
	grep -Eq "^PUT 'less.bin': ERR id=1 code=90 .*5 bytes received, 10 announced" "$OUT" ||
		fail "10 announced, 5 sent: want ERR code=90: $(cat "$OUT")"
	[[ ! -e $T/inbox/alice/less.bin ]] || fail "a short file was saved"

	wait_until 5 no_part_files "$T/inbox" || fail "lying senders left temp files: $(part_files "$T/inbox")"
else
	note "python3 missing: lying-sender checks skipped"
fi

# --- and the server still serves ------------------------------------------
is_running "$SERVE_PID" || fail "serve died"
printf 'still here\n' >"$T/src/last.txt"
expect_exit 0 "$FERRY" send -i "$ID" "$T/src/last.txt" "127.0.0.1:$PORT"
cmp -s "$T/src/last.txt" "$T/inbox/alice/last.txt" || fail "last push: file differs"
# (push-int.bin, if there, was reported above.)
# (Partials kept for a resume are expected: PROTOCOL.md 7.4.)
stray=$(find "$T/inbox/alice" -type f ! -name honest.bin ! -name last.txt ! -name push-int.bin ! -name '.ferry-resume-*.part')
[[ $(resume_files "$T/inbox/alice" | wc -l) == 1 ]] ||
	defer_fail "want the partial of push-int kept: $(resume_files "$T/inbox/alice")"
[[ -z $stray ]] || fail "unexpected files in the inbox: $stray"

finish
