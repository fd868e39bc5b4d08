#!/usr/bin/env bash
# t_uptodate.sh - a file the other side already has with the same SHA-256
# is not sent again: reported "uptodate" (--json, bytes_sent 0), exit 0,
# and its sha256sum line still printed without --json. A file there with
# other content (same size or not) is refused without --force (exit 5, one
# line on stderr, the copy untouched) and replaced with --force. For send
# (the server's inbox) and get (a local file), for an empty, a small and a
# 3 MiB file.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "no python3"
org_init
start_serve
ID=$T/alice
P=bob@127.0.0.1:$PORT
src=$T/src
mkdir -p "$src" "$T/dl"
: >"$src/empty"
printf 'small file\n' >"$src/small.txt"
head -c $((3 * 1024 * 1024)) /dev/urandom >"$src/big.bin"

# json1 WHAT RESULT SENT: the last run's --json has one file object with
# result RESULT and bytes_sent SENT ("size": the file's size), sha256 of
# the file when ok/uptodate, and a summary with exit 0.
json1() {
	python3 - "$OUT" "$2" "$3" <<'PY' || fail "$1: --json: $(cat "$OUT")"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1], 'rb').read().decode().splitlines()]
files = [o for o in objs if o['type'] == 'file']
assert len(files) == 1, files
f, s = files[0], objs[-1]
assert f['result'] == sys.argv[2], f
want = f['size'] if sys.argv[3] == 'size' else int(sys.argv[3])
assert f['bytes_sent'] == want, ('bytes_sent', f['bytes_sent'], want)
assert f['resumed_from'] == 0, f
assert len(f['sha256']) == 64, f
assert s['type'] == 'summary' and s['exit'] == 0, s
assert s['bytes_sent'] == want, ('summary bytes_sent', s)
if sys.argv[2] == 'uptodate':
    assert s['uptodate'] == 1, s
print(f['sha256'])
PY
}

# --- send -----------------------------------------------------------------
for n in empty small.txt big.bin; do
	cd "$src"
	expect_exit 0 "$FERRY" send --json -i "$ID" "$n" "$P"
	json1 "send $n" ok size >/dev/null
	log_mark
	# Again: up to date, nothing sent, the server stores nothing new.
	expect_exit 0 "$FERRY" send --json -i "$ID" "$n" "$P"
	[[ $(json1 "send $n again" uptodate 0) == "$(sha "$n")" ]] || fail "send $n again: wrong sha256 in the json"
	# Without --json: the checksum line, as for a file sent.
	expect_exit 0 "$FERRY" send -i "$ID" "$n" "$P"
	[[ $(cat "$OUT") == "$(sha256sum "$n")" ]] ||
		fail "send $n (up to date): stdout is not sha256sum's line: $(cat "$OUT")"
	[[ ! -s $ERR ]] || fail "send $n (up to date): stderr: $(cat "$ERR")"
	# -f does not force a resend of an identical file either.
	expect_exit 0 "$FERRY" send -f --json -i "$ID" "$n" "$P"
	json1 "send -f $n (identical)" uptodate 0 >/dev/null
	log_new | grep -q "received $n " && fail "send $n: received again although up to date: $(log_new)"
	cd "$T"
done

# Same size, other content: refused without -f, before any data travels.
cd "$src"
before=$(sha "$INBOX/alice/big.bin")
printf 'X' | dd of=big.bin bs=1 seek=1000 conv=notrunc status=none
[[ $(sha big.bin) != "$before" ]] || printf 'Y' | dd of=big.bin bs=1 seek=1000 conv=notrunc status=none
expect_exit 5 "$FERRY" send -i "$ID" big.bin "$P"
expect_one_line_err "send of a changed file (same size) without -f"
note "send without -f: $(cat "$ERR")"
err_has 'big.bin' "send of a changed file (same size) without -f"
[[ ! -s $OUT ]] || fail "send of a changed file without -f printed: $(cat "$OUT")"
[[ $(sha "$INBOX/alice/big.bin") == "$before" ]] || fail "a refused send changed the inbox copy"
run "$FERRY" send --json -i "$ID" big.bin "$P"
[[ $RC == 5 ]] || fail "send --json of a changed file without -f: exit $RC, want 5"
python3 -c '
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
f = [o for o in objs if o["type"] == "file"][0]
assert f["result"] == "EXIST" and f["bytes_sent"] == 0 and f["detail"], f
assert objs[-1]["exit"] == 5, objs[-1]' "$OUT" || fail "send --json of a changed file: $(cat "$OUT")"
# With -f: sent and replaced.
expect_exit 0 "$FERRY" send -f --json -i "$ID" big.bin "$P"
json1 "send -f of a changed file" ok size >/dev/null
[[ $(sha "$INBOX/alice/big.bin") == "$(sha big.bin)" ]] || fail "send -f: the inbox copy is not the new file"

# Other size, other content.
printf 'small file, longer now\n' >small.txt
expect_exit 5 "$FERRY" send -i "$ID" small.txt "$P"
expect_one_line_err "send of a changed file (other size) without -f"
[[ $(cat "$INBOX/alice/small.txt") == "small file" ]] || fail "a refused send changed small.txt"
expect_exit 0 "$FERRY" send -f -i "$ID" small.txt "$P"
cmp -s small.txt "$INBOX/alice/small.txt" || fail "send -f: small.txt not replaced"
# And a file that was empty.
printf 'not empty\n' >empty
expect_exit 5 "$FERRY" send -i "$ID" empty "$P"
expect_one_line_err "send over an empty file without -f"
[[ ! -s $INBOX/alice/empty ]] || fail "a refused send changed the empty file"
expect_exit 0 "$FERRY" send -f -i "$ID" empty "$P"
cmp -s empty "$INBOX/alice/empty" || fail "send -f: empty not replaced"
cd "$T"

# --- get ------------------------------------------------------------------
: >"$SHARE/empty"
printf 'share small\n' >"$SHARE/small.txt"
head -c $((3 * 1024 * 1024)) /dev/urandom >"$SHARE/big.bin"
cd "$T/dl"
for n in empty small.txt big.bin; do
	expect_exit 0 "$FERRY" get --json -i "$ID" "$P:$n"
	json1 "get $n" ok size >/dev/null
	cmp -s "$SHARE/$n" "$n" || fail "get $n: differs"
	log_mark
	expect_exit 0 "$FERRY" get --json -i "$ID" "$P:$n"
	[[ $(json1 "get $n again" uptodate 0) == "$(sha "$n")" ]] || fail "get $n again: wrong sha256 in the json"
	expect_exit 0 "$FERRY" get -i "$ID" "$P:$n" -o "$T/dl"
	[[ $(cat "$OUT") == "$(sha256sum "$T/dl/$n")" ]] ||
		fail "get $n (up to date): stdout is not sha256sum's line: $(cat "$OUT")"
	[[ ! -s $ERR ]] || fail "get $n (up to date): stderr: $(cat "$ERR")"
	log_new | grep -q "sent $n " && fail "get $n: sent again although up to date: $(log_new)"
done

# Changed on the server, same size: refused without -f, then replaced.
printf 'X' | dd of="$SHARE/big.bin" bs=1 seek=2000 conv=notrunc status=none
[[ $(sha "$SHARE/big.bin") != "$(sha big.bin)" ]] ||
	printf 'Y' | dd of="$SHARE/big.bin" bs=1 seek=2000 conv=notrunc status=none
before=$(sha big.bin)
expect_exit 5 "$FERRY" get -i "$ID" "$P:big.bin"
expect_one_line_err "get of a changed file (same size) without -f"
note "get without -f: $(cat "$ERR")"
err_has 'big.bin' "get of a changed file without -f"
[[ ! -s $OUT ]] || fail "get of a changed file without -f printed: $(cat "$OUT")"
[[ $(sha big.bin) == "$before" ]] || fail "a refused get changed the local copy"
no_part_files "$T/dl" || fail "a refused get left temp files: $(part_files "$T/dl")"
expect_exit 0 "$FERRY" get -f --json -i "$ID" "$P:big.bin"
json1 "get -f of a changed file" ok size >/dev/null
cmp -s "$SHARE/big.bin" big.bin || fail "get -f: big.bin not replaced"

# Other size.
printf 'share small, longer now\n' >"$SHARE/small.txt"
expect_exit 5 "$FERRY" get -i "$ID" "$P:small.txt"
expect_one_line_err "get of a changed file (other size) without -f"
[[ $(cat small.txt) == "share small" ]] || fail "a refused get changed small.txt"
expect_exit 0 "$FERRY" get -f -i "$ID" "$P:small.txt"
cmp -s "$SHARE/small.txt" small.txt || fail "get -f: small.txt not replaced"
# A local file changed (the share's unchanged): also refused, then replaced.
printf 'local edit\n' >empty
expect_exit 5 "$FERRY" get -i "$ID" "$P:empty"
expect_one_line_err "get over a locally changed file without -f"
[[ $(cat empty) == "local edit" ]] || fail "a refused get changed the local file"
expect_exit 0 "$FERRY" get -f -i "$ID" "$P:empty"
[[ ! -s empty ]] || fail "get -f: empty not replaced"
cd "$T"

no_part_files "$INBOX" "$T/dl" || fail "temp files left: $(part_files "$INBOX" "$T/dl")"
finish
