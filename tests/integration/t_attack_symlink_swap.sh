#!/usr/bin/env bash
# t_attack_symlink_swap.sh - send -r opens every file beneath the directory
# it walked, following no symbolic link, and sends only the very file it
# listed (same device and inode, a regular file). During a rate-limited
# send -r proj, once the walk is over and the first file is on its way:
#   - proj/sub is renamed and replaced by a link to a secret directory;
#   - proj/z.txt is replaced by a link to the secret file;
#   - proj/y.txt is replaced by a hard link to the secret file.
# The secret's content never arrives anywhere in the inbox (partial files
# included), each changed entry is reported in one line, the files that
# did not change arrive, and the exit status is 9 (partial).
. "$(dirname "$0")/lib.sh"

org_init
start_serve
P=bob@127.0.0.1:$PORT
MARK=SECRET-$RANDOM-$RANDOM-KEY
mkdir -p "$T/secret" "$T/proj/sub"
printf '%s\n' "$MARK" >"$T/secret/id_rsa"
printf 'not the secret\n' >"$T/proj/sub/id_rsa"
printf 'y\n' >"$T/proj/y.txt"
printf 'z\n' >"$T/proj/z.txt"
# The first file sent (names in order): 2 MiB at 1 MiB/s keeps the send
# busy for well over a second after the walk.
head -c $((2 * 1024 * 1024)) /dev/urandom >"$T/proj/a.bin"

bg send "$FERRY" send -r -q -i "$T/alice" --limit-rate 1M "$T/proj" "$P"
SEND=$BG_PID
# The directories are made on the peer before any file moves: the walk is
# over by then.
wait_until 10 test -d "$INBOX/alice/proj/sub" || fail "send -r did not start"
mv "$T/proj/sub" "$T/proj/sub.orig"
ln -s "$T/secret" "$T/proj/sub"
rm "$T/proj/z.txt"
ln -s "$T/secret/id_rsa" "$T/proj/z.txt"
rm "$T/proj/y.txt"
ln "$T/secret/id_rsa" "$T/proj/y.txt"
is_running "$SEND" || fail "the send was over before the swap; the test proves nothing"
wait_exit "$SEND" 30 || fail "send -r did not end within 30 s"
RC=$WAIT_RC
ERR=$T/send.err

if grep -rlF "$MARK" "$INBOX" >/dev/null 2>&1; then
	fail "the secret arrived in the inbox: $(grep -rlF "$MARK" "$INBOX" | tr '\n' ' ')"
fi
[[ $RC == 9 ]] || fail "exit $RC, want 9 (partial): $(cat "$ERR")"
for f in sub/id_rsa y.txt z.txt; do
	err_has "send: $T/proj/$f: changed during the send .*; not sent" "swapped $f"
done
[[ $(grep -c . "$ERR") == 3 ]] || fail "want 3 lines on stderr, got: $(cat "$ERR")"
[[ $(sha "$INBOX/alice/proj/a.bin") == "$(sha "$T/proj/a.bin")" ]] || fail "a.bin did not arrive"
grep -qF "$(sha "$T/proj/a.bin")  $T/proj/a.bin" "$T/send.out" || fail "no checksum line for a.bin: $(cat "$T/send.out")"
no_part_files "$INBOX" || fail "temporary files left in the inbox"

finish
