#!/usr/bin/env bash
# t_tree_skipped.sh - a tree of which something was left out did not all
# arrive: exit 9 (EXIT_PARTIAL, like rsync's 23), even though every file
# that was sent arrived. send -r of a tree holding a FIFO (skipped by the
# walk) or a link without --links, get -r of a tree with a link without
# --links; the same trees without those entries give 0. The --json
# summary counts files as files: directories and links apart.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "no python3"
org_init
start_serve
P=bob@127.0.0.1:$PORT
mkdir -p "$T/proj/d" "$T/dl"
printf 'a\n' >"$T/proj/a.txt"
printf 'b\n' >"$T/proj/d/b.txt"

# summary WANT...: the last line of $OUT is the summary; key=value checks.
summary() {
	python3 - "$OUT" "$@" <<'PY' || fail "--json summary: $(tail -n 1 "$OUT")"
import json, sys
s = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert s['type'] == 'summary', s
for kv in sys.argv[2:]:
    k, v = kv.split('=')
    assert s[k] == int(v), (k, s[k], v, s)
PY
}

# Nothing left out: 0; 2 files, 2 directories.
expect_exit 0 "$FERRY" send -r --json -i "$T/alice" "$T/proj" "$P"
summary exit=0 files=2 dirs=2 links=0 ok=4 skipped=0 failed=0

# A FIFO, skipped by the walk with a note: 9, all the rest arrived.
mkfifo "$T/proj/d/pipe"
run "$FERRY" send -r --json -i "$T/alice" "$T/proj" "$P"
[[ $RC == 9 ]] || fail "send -r with a FIFO: exit $RC, want 9: $(cat "$ERR")"
err_has "skipping $T/proj/d/pipe: a fifo is not sent" "send -r with a FIFO"
expect_one_line_err "send -r with a FIFO"
summary exit=9 files=2 dirs=2 links=0 skipped=1 failed=0
[[ $(cat "$INBOX/alice/proj/d/b.txt") == b ]] || fail "d/b.txt did not arrive"
rm "$T/proj/d/pipe"

# A link without --links: 9.
ln -s a.txt "$T/proj/l"
run "$FERRY" send -r --json -i "$T/alice" "$T/proj" "$P"
[[ $RC == 9 ]] || fail "send -r with a link, no --links: exit $RC, want 9: $(cat "$ERR")"
summary exit=9 files=2 dirs=2 links=1 skipped=1 failed=0
# With --links nothing is left out: 0.
expect_exit 0 "$FERRY" send -r --links -q -i "$T/alice" "$T/proj" "$P"

# get -r: the same from the share.
cp -a "$T/proj" "$SHARE/proj"
run "$FERRY" get -r --json -i "$T/alice" "$P:proj" -o "$T/dl"
[[ $RC == 9 ]] || fail "get -r with a link, no --links: exit $RC, want 9: $(cat "$ERR")"
summary exit=9 files=2 dirs=2 links=1 skipped=1 failed=0
rm "$SHARE/proj/l"
rm -rf "$T/dl/proj"
expect_exit 0 "$FERRY" get -r --json -i "$T/alice" "$P:proj" -o "$T/dl"
summary exit=0 files=2 dirs=2 links=0 ok=4

finish
