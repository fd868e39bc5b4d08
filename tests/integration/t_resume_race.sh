#!/usr/bin/env bash
# t_resume_race.sh - two pushes of the same big file at once, both
# rate-limited, over a partial kept from an interrupted push: one resumes
# and holds the partial (flock), the other's resume is turned down (ERR 91,
# PROTOCOL.md 5.12) and it starts over from byte 0 by itself. Both end
# within a bounded time (a restart once made --limit-rate sleep for ever),
# the file in the inbox is right, and no temporary file is left.
. "$(dirname "$0")/lib.sh"

org_init
start_serve
ID=$T/alice
P=bob@127.0.0.1:$PORT
head -c $((24 * 1024 * 1024)) /dev/urandom >"$T/race.bin"

# A kept partial of 8 MiB, as an interrupted push leaves it.
bg first "$FERRY" send -i "$ID" --limit-rate 8M "$T/race.bin" "$P"
wait_until 20 eval '[[ $(find "$INBOX/alice" -name ".ferry-resume-*.part" -size +8192k 2>/dev/null) ]]' ||
	fail "no partial grew in the inbox: $(cat "$T/first.err")"
{ kill -KILL -- "-$BG_PID"; wait "$BG_PID"; } 2>/dev/null || true

bg a "$FERRY" send -i "$ID" --json --limit-rate 16M --timeout 10 "$T/race.bin" "$P"
a=$BG_PID
sleep 0.3
bg b "$FERRY" send -i "$ID" --json --limit-rate 16M --timeout 10 "$T/race.bin" "$P"
b=$BG_PID
for pid in "$a" "$b"; do
	wait_exit "$pid" 30 || fail "a racing push still runs after 30 s: $(cat "$T/a.err" "$T/b.err")"
done
note "a: $(cat "$T/a.out" | head -1)"
note "b: $(cat "$T/b.out" | head -1)"
grep -q '"result":"ok"' "$T/a.out" "$T/b.out" || fail "neither push succeeded: $(cat "$T/a.out" "$T/b.out" "$T/a.err" "$T/b.err")"
[[ $(sha "$INBOX/alice/race.bin") == $(sha "$T/race.bin") ]] || fail "the inbox copy differs"
wait_until 5 no_part_files "$INBOX" || fail "temporary files left: $(part_files "$INBOX")"
finish
