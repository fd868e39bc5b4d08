#!/usr/bin/env bash
# t_tree.sh - send -r and get -r of a tree of 2,000 files (empty ones too)
# in nested directories, with empty directories and names with spaces: the
# copy's listing (kinds and paths) and every file's SHA-256 are those of
# the source; stdout has one sha256sum line per file; a second send is all
# "uptodate" with 0 bytes sent, and so is a second get. get -r lands in
# DEST/<name> when DEST is a directory, in DEST itself otherwise (cp -r).
# Symbolic links: skipped with a note without --links (exit 9: not all of
# the tree arrived, like rsync's 23); with --links an
# in-tree relative link arrives as the same link, links to /etc/passwd or
# ../../../x are not created (that item fails: exit 9).
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "no python3"
org_init
start_serve
ID=$T/alice
P=bob@127.0.0.1:$PORT
src=$T/src
mkdir -p "$src"

# --- the tree -------------------------------------------------------------
# 2,000 files of 0 B to 64 KiB (about one in ten empty) spread over three
# levels of directories, plus empty directories and names with spaces.
python3 - "$src/tree" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(1)
dirs = [""]
for i in range(12):
    d = "d%02d" % i
    dirs.append(d)
    for j in range(rnd.randint(0, 4)):
        dirs.append("%s/s%d" % (d, j))
        if rnd.random() < 0.4:
            dirs.append("%s/s%d/deep" % (d, j))
dirs.append("with space/and more")
for d in dirs:
    os.makedirs(os.path.join(root, d), exist_ok=True)
sizes = [0, 1, 2, 100, 511, 4096, 4097, 65536]
for n in range(2000 - 2):
    d = dirs[n % len(dirs)]
    r = rnd.random()
    size = (0 if r < 0.1 else rnd.choice(sizes) if r < 0.3
            else rnd.randint(1, 8192) if r < 0.98 else rnd.randint(8192, 65536))
    with open(os.path.join(root, d, "f%04d.bin" % n), "wb") as f:
        f.write(os.urandom(size))
with open(os.path.join(root, "with space", "file name.txt"), "wb") as f:
    f.write(b"spaces\n")
with open(os.path.join(root, "with space/and more", "empty file"), "wb"):
    pass
for d in ("a/b/c/empty", "x/y/empty2", "only empty/inside"):
    os.makedirs(os.path.join(root, d))
PY
nfiles=$(find "$src/tree" -type f | wc -l)
[[ $nfiles == 2000 ]] || fail "the test made $nfiles files, not 2000"
note "tree: $nfiles files, $(find "$src/tree" -type d | wc -l) directories, $(du -sk "$src/tree" | cut -f1) KiB"

# listing DIR: "kind path" of everything below DIR, sorted.
listing() {
	(cd "$1" && find . -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort)
}
# sums DIR: sha256sum of every file below DIR, sorted by path.
sums() {
	(cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
# same_tree WHAT SRC COPY: listings and sums equal.
same_tree() {
	listing "$2" >"$T/want.list"
	listing "$3" >"$T/got.list"
	diff -u "$T/want.list" "$T/got.list" >"$T/diff.list" ||
		fail "$1: the listings differ: $(head -n 20 "$T/diff.list")"
	sums "$2" >"$T/want.sums"
	sums "$3" >"$T/got.sums"
	diff -u "$T/want.sums" "$T/got.sums" >"$T/diff.sums" ||
		fail "$1: file contents differ: $(head -n 20 "$T/diff.sums")"
}

# json_check FILE EXIT SPEC...: python3 checks FILE (ferry --json output).
# SPECs: files=N (file objects), uptodate=all|none, sent0 (every file
# and the summary: bytes_sent 0), sumsent (summary bytes_sent = sum).
json_check() {
	python3 - "$@" <<'PY'
import json, sys
path, want_exit, specs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
objs = [json.loads(l) for l in open(path, 'rb').read().decode().splitlines()]
assert objs and objs[-1]['type'] == 'summary', 'no summary last'
s = objs[-1]
files = [o for o in objs if o['type'] == 'file']
assert s['exit'] == want_exit, ('summary exit', s)
for spec in specs:
    k, _, v = spec.partition('=')
    if k == 'files':
        assert len(files) == int(v), ('file objects', len(files), v)
    elif k == 'uptodate' and v == 'all':
        bad = [f for f in files if f['result'] != 'uptodate']
        assert not bad, ('not uptodate', len(bad), bad[:3])
        assert s['uptodate'] == len(files), ('summary uptodate', s)
    elif k == 'uptodate' and v == 'none':
        bad = [f for f in files if f['result'] != 'ok']
        assert not bad, ('not ok', len(bad), bad[:3])
    elif k == 'sent0':
        bad = [f for f in files if f['bytes_sent'] != 0]
        assert not bad, ('bytes_sent not 0', len(bad), bad[:3])
        assert s['bytes_sent'] == 0, ('summary bytes_sent', s)
    elif k == 'sumsent':
        tot = sum(f['bytes_sent'] for f in files)
        assert s['bytes_sent'] == tot, ('summary bytes_sent', s, tot)
        assert tot == sum(f['size'] for f in files), ('bytes_sent != sizes', tot)
    else:
        raise SystemExit('bad spec ' + spec)
PY
}

# --- send -r --------------------------------------------------------------
t0=$(now_ms)
pushd "$src" >/dev/null
run "$FERRY" send -r -i "$ID" tree "$P"
popd >/dev/null
ms=$(($(now_ms) - t0))
[[ $RC == 0 ]] || fail "send -r: exit $RC: $(head -c 2000 "$ERR")"
note "send -r of 2,000 files took $ms ms"
[[ ! -s $ERR ]] || fail "send -r: unexpected stderr: $(head -c 2000 "$ERR")"
[[ -d $INBOX/alice/tree ]] || fail "send -r: no $INBOX/alice/tree"
same_tree "send -r" "$src/tree" "$INBOX/alice/tree"
# stdout: one sha256sum line per file, with the path as named (tree/...).
(cd "$src" && find tree -type f -print0 | xargs -0 sha256sum | LC_ALL=C sort) >"$T/want.stdout"
LC_ALL=C sort "$OUT" >"$T/got.stdout"
diff -u "$T/want.stdout" "$T/got.stdout" >"$T/diff.stdout" ||
	fail "send -r: stdout is not sha256sum's lines for tree/...: $(head -n 10 "$T/diff.stdout")"
no_part_files "$INBOX" || fail "send -r left temp files: $(part_files "$INBOX" | head)"
[[ -z $(resume_files "$INBOX") ]] || fail "send -r left partials: $(resume_files "$INBOX" | head)"

# A trailing slash names the same tree.
pushd "$src" >/dev/null
run "$FERRY" send -r --json -i "$ID" tree/ "$P"
popd >/dev/null
[[ $RC == 0 ]] || fail "send -r tree/: exit $RC: $(head -c 2000 "$ERR")"
json_check "$OUT" 0 files=2000 uptodate=all sent0 ||
	fail "send -r tree/ (again): $(head -c 1500 "$OUT")"
[[ ! -e $INBOX/alice/tree/tree ]] || fail "send -r tree/: the tree went to tree/tree"
[[ $(find "$INBOX/alice" -mindepth 1 -maxdepth 1 | wc -l) == 1 ]] ||
	fail "send -r tree/: the inbox holds more than tree: $(ls -A "$INBOX/alice")"

# Without -r a directory is an error, and nothing is sent.
mkdir -p "$src/plain"
printf 'p\n' >"$src/plain/p.txt"
run "$FERRY" send -i "$ID" "$src/plain" "$P"
[[ $RC != 0 ]] || fail "send of a directory without -r: exit 0"
expect_one_line_err "send of a directory without -r"
[[ ! -e $INBOX/alice/plain ]] || fail "send of a directory without -r created it in the inbox"

# --- the same send again: all up to date, nothing crosses ----------------
t0=$(now_ms)
run "$FERRY" send -r --json -i "$ID" "$src/tree" "$P"
ms=$(($(now_ms) - t0))
[[ $RC == 0 ]] || fail "send -r again: exit $RC: $(head -c 2000 "$ERR")"
json_check "$OUT" 0 files=2000 uptodate=all sent0 ||
	fail "send -r again: $(grep -v '"uptodate"' "$OUT" | head -c 1500)"
note "send -r again (all up to date) took $ms ms"
same_tree "send -r again" "$src/tree" "$INBOX/alice/tree"

# One file changed in the source: without -f that file is refused (the
# others are up to date; exit 9), with -f only it travels.
chg=$src/tree/d03/changed.txt
printf 'version 1\n' >"$chg"
expect_exit 0 "$FERRY" send -r -i "$ID" "$src/tree" "$P"
printf 'version 2, longer\n' >"$chg"
run "$FERRY" send -r --json -i "$ID" "$src/tree" "$P"
[[ $RC == 9 ]] || fail "send -r with one changed file, no -f: exit $RC, want 9: $(cat "$ERR")"
python3 - "$OUT" <<'PY' || fail "send -r with one changed file: json: $(grep -v '"uptodate"\|"dir"' "$OUT" | head -c 1500)"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
files = [o for o in objs if o['type'] == 'file']
bad = [f for f in files if f['result'] != 'uptodate']
assert len(files) == 2001 and len(bad) == 1, (len(files), bad)
assert bad[0]['name'].endswith('tree/d03/changed.txt') and bad[0]['result'] == 'EXIST', bad
assert objs[-1]['bytes_sent'] == 0 and objs[-1]['failed'] == 1, objs[-1]
PY
expect_one_line_err "send -r with one changed file"
[[ $(cat "$INBOX/alice/tree/d03/changed.txt") == "version 1" ]] || fail "send -r without -f replaced the changed file"
run "$FERRY" send -r -f --json -i "$ID" "$src/tree" "$P"
[[ $RC == 0 ]] || fail "send -r -f with one changed file: exit $RC: $(cat "$ERR")"
python3 - "$OUT" "$(stat -c %s "$chg")" <<'PY' || fail "send -r -f with one changed file: json: $(grep -v '"uptodate"\|"dir"' "$OUT" | head -c 1500)"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
files = [o for o in objs if o['type'] == 'file']
sent = [f for f in files if f['result'] != 'uptodate']
assert len(sent) == 1 and sent[0]['name'].endswith('tree/d03/changed.txt') and sent[0]['result'] == 'ok', sent
assert objs[-1]['bytes_sent'] == int(sys.argv[2]), objs[-1]
PY
cmp -s "$chg" "$INBOX/alice/tree/d03/changed.txt" || fail "send -r -f: the changed file was not replaced"
rm "$chg"

# --- get -r into an existing directory: DEST/tree2 ------------------------
cp -a "$src/tree" "$SHARE/tree2"
mkdir -p "$T/dl"
t0=$(now_ms)
pushd "$T" >/dev/null
run "$FERRY" get -r -i "$ID" "$P:tree2" -o dl
popd >/dev/null
ms=$(($(now_ms) - t0))
[[ $RC == 0 ]] || fail "get -r: exit $RC: $(head -c 2000 "$ERR")"
note "get -r of 2,000 files took $ms ms"
[[ ! -s $ERR ]] || fail "get -r: unexpected stderr: $(head -c 2000 "$ERR")"
same_tree "get -r" "$src/tree" "$T/dl/tree2"
[[ $(ls -A "$T/dl") == tree2 ]] || fail "get -r: dl holds more than tree2: $(ls -A "$T/dl")"
(cd "$T" && find dl/tree2 -type f -print0 | xargs -0 sha256sum | LC_ALL=C sort) >"$T/want.stdout"
LC_ALL=C sort "$OUT" >"$T/got.stdout"
# (As a single get prints dl/NAME for -o dl: paths the user can check with
# sha256sum -c from where the command ran.)
diff -u "$T/want.stdout" "$T/got.stdout" >"$T/diff.stdout" ||
	defer_fail "get -r -o dl: stdout is not sha256sum's lines for dl/tree2/...: $(head -n 5 "$T/diff.stdout")"
no_part_files "$T/dl" || fail "get -r left temp files: $(part_files "$T/dl" | head)"

# Again: every file up to date, nothing fetched.
run "$FERRY" get -r --json -i "$ID" "$P:tree2" -o "$T/dl"
[[ $RC == 0 ]] || fail "get -r again: exit $RC: $(head -c 2000 "$ERR")"
json_check "$OUT" 0 files=2000 uptodate=all sent0 ||
	defer_fail "get -r again: not all up to date with 0 bytes: $(grep -v '"uptodate"' "$OUT" | head -c 1500)"
same_tree "get -r again" "$src/tree" "$T/dl/tree2"

# One file changed in the share: refused without -f (exit 9), fetched with.
chg=$(cd "$SHARE" && find tree2/d05 -maxdepth 1 -type f -size +0 | LC_ALL=C sort | head -n 1)
[[ -n $chg ]] || fail "no file in tree2/d05 to change"
printf 'changed in the share\n' >>"$SHARE/$chg"
run "$FERRY" get -r --json -i "$ID" "$P:tree2" -o "$T/dl"
[[ $RC == 9 ]] || fail "get -r with one changed file, no -f: exit $RC, want 9: $(cat "$ERR")"
expect_one_line_err "get -r with one changed file"
cmp -s "$SHARE/$chg" "$T/dl/$chg" && fail "get -r without -f replaced the changed file $chg"
run "$FERRY" get -r -f --json -i "$ID" "$P:tree2" -o "$T/dl"
[[ $RC == 0 ]] || fail "get -r -f with one changed file: exit $RC: $(cat "$ERR")"
python3 - "$OUT" "$(stat -c %s "$SHARE/$chg")" <<'PY' || fail "get -r -f with one changed file: json: $(grep -v '"uptodate"\|"dir"' "$OUT" | head -c 1500)"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
sent = [f for f in objs if f['type'] == 'file' and f['result'] != 'uptodate']
assert len(sent) == 1 and sent[0]['result'] == 'ok', sent
assert objs[-1]['bytes_sent'] == int(sys.argv[2]), objs[-1]
PY
cmp -s "$SHARE/$chg" "$T/dl/$chg" || fail "get -r -f: $chg not replaced"
cp -p "$src/tree/${chg#tree2/}" "$SHARE/$chg"

# --- get -r to a new DEST: made, and the tree goes in it as DEST/tree2, so
# that the same command again finds it (rsync, not cp -r) ----------------
run "$FERRY" get -r --json -i "$ID" "$P:tree2" -o "$T/copy"
[[ $RC == 0 ]] || fail "get -r -o new: exit $RC: $(head -c 2000 "$ERR")"
json_check "$OUT" 0 files=2000 uptodate=none sumsent ||
	fail "get -r -o new: json: $(head -c 1500 "$OUT")"
same_tree "get -r -o new" "$src/tree" "$T/copy/tree2"
run "$FERRY" get -r --json -i "$ID" "$P:tree2" -o "$T/copy"
[[ $RC == 0 ]] || fail "get -r -o new, again: exit $RC: $(head -c 2000 "$ERR")"
json_check "$OUT" 0 files=2000 uptodate=all ||
	fail "get -r -o new, again: not all up to date: $(head -c 1500 "$OUT")"
[[ ! -e $T/copy/tree2/tree2 ]] || fail "get -r -o new, again: went to copy/tree2/tree2"
# A DEST that is a file: one line, nothing fetched.
printf 'x\n' >"$T/destfile"
run "$FERRY" get -r -i "$ID" "$P:tree2" -o "$T/destfile"
[[ $RC == 5 ]] || fail "get -r -o FILE: exit $RC, want 5: $(head -n 3 "$ERR")"
expect_one_line_err "get -r -o FILE"

# The whole share (an empty PATH) to a new DEST: DEST is the copy of the
# share's top. (Deferred checks: the rest does not depend on them.)
run "$FERRY" get -r -i "$ID" "$P:" -o "$T/whole"
if [[ $RC != 0 ]]; then
	defer_fail "get -r PEER: -o NEW (the whole share): exit $RC, want 0: $(head -n 3 "$ERR")"
elif ! diff <(listing "$SHARE") <(listing "$T/whole") >/dev/null; then
	defer_fail "get -r PEER: -o NEW: the copy's listing differs from the share's"
fi
rm -rf "$T/whole"
# A trailing slash on the remote PATH names the same tree (as scp -r and
# rsync take it; a local DIR/ works for send -r above).
run "$FERRY" get -r -i "$ID" "$P:tree2/" -o "$T/slash"
if [[ $RC != 0 ]]; then
	defer_fail "get -r PEER:tree2/ -o NEW: exit $RC, want 0: $(head -n 3 "$ERR")"
else
	same_tree "get -r PEER:tree2/" "$src/tree" "$T/slash/tree2"
fi
rm -rf "$T/slash"

# A subdirectory of the share, with the default DEST (the current dir).
mkdir -p "$T/cwd"
(cd "$T/cwd" && run "$FERRY" get -r -i "$ID" "$P:tree2/with space")
[[ $RC == 0 ]] || fail "get -r 'tree2/with space': exit $RC: $(cat "$ERR")"
same_tree "get -r 'tree2/with space'" "$src/tree/with space" "$T/cwd/with space"

# --- symbolic links -------------------------------------------------------
lt=$src/ltree
mkdir -p "$lt/sub"
printf 'target\n' >"$lt/f.txt"
printf 'inner\n' >"$lt/sub/g.txt"
ln -s ../f.txt "$lt/sub/rel"
ln -s g.txt "$lt/sub/same"
ln -s /etc/passwd "$lt/abs"
ln -s ../../../x "$lt/sub/up"

# Without --links: skipped with a note, exit 9, no link at the destination.
run "$FERRY" send -r --json -i "$ID" "$lt" "$P"
[[ $RC == 9 ]] || fail "send -r with links, no --links: exit $RC, want 9: $(cat "$ERR")"
for l in rel abs; do
	grep -q "$l" "$ERR" || fail "send -r without --links: no note on stderr naming the skipped link $l: $(cat "$ERR")"
done
for f in f.txt sub/g.txt; do
	cmp -s "$lt/$f" "$INBOX/alice/ltree/$f" || fail "send -r without --links: $f did not arrive"
done
[[ -z $(find "$INBOX/alice/ltree" -type l) ]] ||
	fail "send -r without --links created links: $(find "$INBOX/alice/ltree" -type l)"
python3 - "$OUT" <<'PY' || defer_fail "send -r without --links: want a \"skipped\" object for each of the 4 links (ferry.1, --json): $(grep -v '"file"' "$OUT")"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
sk = sorted(o['name'][o['name'].rindex('ltree/'):] for o in objs if o.get('result') == 'skipped')
assert sk == ['ltree/abs', 'ltree/sub/rel', 'ltree/sub/same', 'ltree/sub/up'], sk
assert objs[-1]['skipped'] == 4, objs[-1]
PY

# With --links: the in-tree links arrive as links with the same target;
# the two that could lead out fail; exit 9 (partial).
run "$FERRY" send -r --links --json -i "$ID" "$lt" "$P"
[[ $RC == 9 ]] || fail "send -r --links: exit $RC, want 9: $(cat "$ERR")"
[[ $(readlink "$INBOX/alice/ltree/sub/rel") == ../f.txt ]] ||
	fail "send -r --links: ltree/sub/rel is not a link to ../f.txt: $(ls -l "$INBOX/alice/ltree/sub")"
[[ $(readlink "$INBOX/alice/ltree/sub/same") == g.txt ]] ||
	fail "send -r --links: ltree/sub/same is not a link to g.txt"
[[ ! -e $INBOX/alice/ltree/abs && ! -L $INBOX/alice/ltree/abs ]] ||
	fail "send -r --links: the link to /etc/passwd was created: $(ls -l "$INBOX/alice/ltree")"
[[ ! -e $INBOX/alice/ltree/sub/up && ! -L $INBOX/alice/ltree/sub/up ]] ||
	fail "send -r --links: the link to ../../../x was created"
python3 - "$OUT" <<'PY' || fail "send -r --links: json: $(cat "$OUT")"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
res = {o['name'][o['name'].rindex('ltree/'):]: o['result'] for o in objs if o['type'] == 'link'}
assert res.get('ltree/sub/rel') == 'ok' and res.get('ltree/sub/same') == 'ok', res
assert res.get('ltree/abs') not in (None, 'ok', 'skipped'), res
assert res.get('ltree/sub/up') not in (None, 'ok', 'skipped'), res
assert objs[-1]['failed'] == 2 and objs[-1]['exit'] == 9, objs[-1]
PY
for l in abs sub/up; do
	grep -q "$l" "$ERR" || fail "send -r --links: stderr does not name the refused link $l: $(cat "$ERR")"
done
# Again: the links already there are fine (like directories), only the two
# unsafe ones still fail.
run "$FERRY" send -r --links --json -i "$ID" "$lt" "$P"
[[ $RC == 9 ]] || fail "send -r --links again: exit $RC, want 9: $(cat "$ERR")"
python3 - "$OUT" <<'PY' || fail "send -r --links again: json: $(cat "$OUT")"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
res = {o['name'].split('ltree/', 1)[-1]: o['result'] for o in objs if o['type'] == 'link'}
assert res.get('sub/rel') == 'ok' and res.get('sub/same') == 'ok', res
assert objs[-1]['failed'] == 2, objs[-1]
PY
[[ -z $(find "$T" -name x ! -type d) ]] || fail "a file named x appeared: $(find "$T" -name x ! -type d)"

# get -r of the same tree from the share: the client applies the rule too.
cp -a "$lt" "$SHARE/ltree"
mkdir -p "$T/ldl"
run "$FERRY" get -r -i "$ID" "$P:ltree" -o "$T/ldl"
[[ $RC == 9 ]] || fail "get -r with links, no --links: exit $RC, want 9: $(cat "$ERR")"
grep -q 'rel' "$ERR" || fail "get -r without --links: no note on stderr: $(cat "$ERR")"
[[ -z $(find "$T/ldl" -type l) ]] || fail "get -r without --links created links: $(find "$T/ldl" -type l)"
cmp -s "$lt/sub/g.txt" "$T/ldl/ltree/sub/g.txt" || fail "get -r without --links: sub/g.txt missing"

rm -rf "$T/ldl"
mkdir -p "$T/ldl"
run "$FERRY" get -r --links -i "$ID" "$P:ltree" -o "$T/ldl"
[[ $RC == 9 ]] || fail "get -r --links: exit $RC, want 9: $(cat "$ERR")"
[[ $(readlink "$T/ldl/ltree/sub/rel") == ../f.txt ]] ||
	fail "get -r --links: ltree/sub/rel is not a link to ../f.txt: $(ls -l "$T/ldl/ltree/sub")"
[[ $(cat "$T/ldl/ltree/sub/rel") == target ]] || fail "get -r --links: sub/rel does not lead to f.txt"
[[ ! -L $T/ldl/ltree/abs && ! -e $T/ldl/ltree/abs ]] ||
	fail "get -r --links: the link to /etc/passwd was created"
[[ ! -L $T/ldl/ltree/sub/up && ! -e $T/ldl/ltree/sub/up ]] ||
	fail "get -r --links: the link to ../../../x was created"
[[ -z $(find "$T" -name x ! -type d) ]] || fail "a file named x appeared: $(find "$T" -name x ! -type d)"

# Nor does one in a tree being sent: skipped with a note (PROTOCOL.md 7.4).
mkdir -p "$T/rsv"
printf 'kept\n' >"$T/rsv/real.txt"
head -c 100 /dev/urandom >"$T/rsv/.ferry-resume-0123456789abcdef.part"
run "$FERRY" send -r -i "$ID" "$T/rsv" "$P"
[[ $RC == 9 ]] || fail "send -r of a tree holding a partial file: exit $RC, want 9: $(cat "$ERR")"
grep -q 'ferry-resume-0123456789abcdef.part' "$ERR" || fail "send -r: no note for the skipped partial file: $(cat "$ERR")"
[[ $(ls -A "$INBOX/alice/rsv") == real.txt ]] || fail "send -r carried a partial file: $(ls -A "$INBOX/alice/rsv")"

# The top of a WALK is resolved like GET: a link to a directory of the
# share stands for it; a FIFO is refused in one line; a plain get of a
# directory says to use -r.
ln -s busy2 "$SHARE/busylink"
mkdir -p "$SHARE/busy2" && printf 'y\n' >"$SHARE/busy2/y.txt"
mkfifo "$SHARE/fifo"
mkdir -p "$T/ldl2"
run "$FERRY" get -r -i "$ID" "$P:busylink" -o "$T/ldl2"
[[ $RC == 0 && $(cat "$T/ldl2/busylink/y.txt") == y ]] || fail "get -r of a link to a directory: exit $RC: $(cat "$ERR")"
run "$FERRY" get -r -i "$ID" "$P:fifo" -o "$T/ldl2"
[[ $RC == 5 ]] || fail "get -r of a FIFO: exit $RC, want 5: $(cat "$ERR")"
expect_one_line_err "get -r of a FIFO"
run "$FERRY" get -i "$ID" "$P:busy2" -o "$T/ldl2"
[[ $RC == 5 ]] && grep -q -- 'use get -r' "$ERR" || fail "get of a directory without -r: exit $RC: $(cat "$ERR")"
rm -f "$SHARE/fifo"

# A half-received file in a shared directory does not travel with it.
mkdir -p "$SHARE/busy"
printf 'done\n' >"$SHARE/busy/done.txt"
head -c 4096 /dev/urandom >"$SHARE/busy/.ferry-resume-0123456789abcdef.part"
head -c 4096 /dev/urandom >"$SHARE/busy/.ferry-0123456789abcdef.part"
mkdir -p "$T/bdl"
run "$FERRY" get -r -i "$ID" "$P:busy" -o "$T/bdl"
[[ $RC == 0 ]] || fail "get -r of a directory holding partials: exit $RC: $(cat "$ERR")"
[[ $(ls -A "$T/bdl/busy") == done.txt ]] || fail "get -r carried partial files: $(ls -A "$T/bdl/busy")"

is_running "$SERVE_PID" || fail "serve died"
finish
