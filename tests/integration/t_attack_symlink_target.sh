#!/usr/bin/env bash
# t_attack_symlink_target.sh - a symbolic link planted in a member's inbox
# under the name of the next push (x.txt -> a file outside the inbox).
# Without --force the push is refused (exit 5, one line) and the server
# logs that refusal and counts it in the session's "refused", though the
# client gave up by itself after PROBE; the link and what it points to are
# untouched. With --force the link itself is replaced by the verified file,
# never followed, and nothing is counted refused. A directory and a file of
# another size in the way are logged the same way. A pull is logged as
# "sent ... (not confirmed: handed to TCP)": serve cannot know the client
# stored it.
. "$(dirname "$0")/lib.sh"

org_init
start_serve
ID=$T/alice
P=bob@127.0.0.1:$PORT
mkdir -p "$INBOX/alice" "$T/outside"
echo precious >"$T/outside/target.txt"
ln -s "$T/outside/target.txt" "$INBOX/alice/x.txt"
echo "pushed data" >"$T/x.txt"

log_mark
expect_exit 5 "$FERRY" send -i "$ID" "$T/x.txt" "$P"
expect_one_line_err "send onto a link"
err_has "x.txt already exists on the peer" "send onto a link"
wait_log "alice@.*($CONN_END)"
log_new | grep -q "push refused: x.txt in the inbox is a symbolic link" ||
	fail "serve did not log the refused push onto a link: $(log_new)"
log_new | grep -q "closed after .*, 1 refused" ||
	fail "serve's summary does not count the refusal: $(log_new)"
[[ -L $INBOX/alice/x.txt ]] || fail "the link was replaced without --force"
[[ $(cat "$T/outside/target.txt") == precious ]] || fail "the link's target was written"

log_mark
expect_exit 0 "$FERRY" send -i "$ID" --force "$T/x.txt" "$P"
wait_log "alice@.*($CONN_END)"
[[ -f $INBOX/alice/x.txt && ! -L $INBOX/alice/x.txt ]] || fail "--force did not replace the link with a file"
[[ $(cat "$INBOX/alice/x.txt") == "pushed data" ]] || fail "the inbox file differs"
[[ $(cat "$T/outside/target.txt") == precious ]] || fail "--force wrote through the link"
log_new | grep -q "closed after .*, 0 refused" || fail "a forced push counted as refused: $(log_new)"

# A directory and a file of another size in the way.
mkdir "$INBOX/alice/d.txt"
echo short >"$INBOX/alice/f.txt"
echo "longer than that" >"$T/f.txt"
cp "$T/x.txt" "$T/d.txt"
log_mark
expect_exit 5 "$FERRY" send -i "$ID" "$T/d.txt" "$T/f.txt" "$P"
wait_log "alice@.*($CONN_END)"
log_new | grep -q "push refused: d.txt in the inbox is a directory" || fail "no log for d.txt: $(log_new)"
log_new | grep -q "push refused: f.txt in the inbox is another file" || fail "no log for f.txt: $(log_new)"
log_new | grep -q "closed after .*, 2 refused" || fail "want 2 refused: $(log_new)"

# A pull: handed to TCP is all serve knows.
echo "shared" >"$SHARE/s.txt"
log_mark
(cd "$T" && expect_exit 0 "$FERRY" get -i "$ID" "$P:s.txt")
wait_log "sent s.txt \(7 bytes, sha256 [0-9a-f]{64}\) \(not confirmed: handed to TCP\)"
finish
