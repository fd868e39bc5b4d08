#!/usr/bin/env bash
# t_json.sh - send and get --json: one JSON object per file and a summary
# object on stdout, each line parsed by python3's json module; names with
# quotes, backslashes, UTF-8 and bytes that are not UTF-8 stay valid JSON.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "no python3"
org_init
start_serve
src=$T/src
mkdir -p "$src" "$T/dl"
head -c $((3 * 1024 * 1024)) /dev/urandom >"$src/plain.bin"
printf 'q' >"$src/quo\"te\\back.txt"
printf 'u' >"$src/caf$(printf '\xc3\xa9').txt"
printf 'x' >"$src/bad$(printf '\xff').txt"
: >"$src/empty"

# check FILE EXPECT...: python3 reads FILE line by line (each must be one
# JSON object) and checks it against the EXPECT specs "name=result".
check() {
	python3 - "$@" <<'PY' || fail "json output: $(cat -v "$1")"
import json, sys
lines = open(sys.argv[1], 'rb').read().decode('utf-8').splitlines()
objs = [json.loads(l) for l in lines]
want = dict(a.split('=', 1) for a in sys.argv[3:])
files = [o for o in objs if o['type'] == 'file']
summ = [o for o in objs if o['type'] == 'summary']
assert len(summ) == 1 and objs[-1] is summ[0], 'one summary, last'
assert {f['name'] for f in files} == set(want), (sorted(f['name'] for f in files), sorted(want))
for f in files:
    assert f['result'] == want[f['name']], (f['name'], f['result'])
    assert f['peer'] == 'bob', f['peer']
    assert f['resumed_from'] == 0
    assert isinstance(f['seconds'], float) and f['seconds'] >= 0
    if f['result'] == 'ok':
        assert len(f['sha256']) == 64 and f['bytes_sent'] == f['size']
    else:
        assert f['sha256'] is None and f['detail']
s = summ[0]
ok = sum(1 for f in files if f['result'] == 'ok')
assert s['ok'] == ok and s['failed'] == len(files) - ok, s
assert s['bytes'] == sum(f['size'] for f in files if f['result'] == 'ok'), s
assert s['exit'] == int(sys.argv[2]), s
PY
}

# A batch with a missing file: exit 9, its object says why.
# (not in a subshell: run's $RC must reach this shell)
cd "$src"
run "$FERRY" send --json -i "$T/alice" plain.bin "quo\"te\\back.txt" \
	"caf$(printf '\xc3\xa9').txt" "bad$(printf '\xff').txt" empty missing.bin \
	"bob@127.0.0.1:$PORT"
[[ $RC == 9 ]] || fail "send --json: exit $RC, want 9: $(cat "$ERR")"
check "$OUT" 9 plain.bin=ok "quo\"te\\back.txt=ok" "café.txt=ok" \
	"bad"$'\xef\xbf\xbd'".txt=ok" empty=ok missing.bin=NOENT
grep -q '\\ufffd' "$OUT" || fail "send --json: the byte 0xff is not \\ufffd: $(cat -v "$OUT")"
# No sha256sum lines and no summary line besides.
[[ $(wc -l <"$OUT") == 7 ]] || fail "send --json: want 7 lines: $(cat -v "$OUT")"
grep -q "plain.bin" "$ERR" && fail "send --json: stderr has more than the error: $(cat "$ERR")"
[[ $(sha "$T/inbox/alice/plain.bin") == $(sha "$src/plain.bin") ]] || fail "send --json: content differs"
grep "plain.bin" "$OUT" | python3 -c '
import json, sys
o = json.loads(sys.stdin.read())
assert o["size"] == 3145728 and o["sha256"] == sys.argv[1], o' "$(sha "$src/plain.bin")" ||
	fail "send --json: size or sha256 of plain.bin: $(grep plain.bin "$OUT")"

# get: the same, from the share.
cp "$src/plain.bin" "$src/quo\"te\\back.txt" "$T/share/"
cd "$T/dl"
run "$FERRY" get --json -i "$T/alice" "bob@127.0.0.1:$PORT:plain.bin" \
	"bob@127.0.0.1:$PORT:quo\"te\\back.txt" "bob@127.0.0.1:$PORT:nope"
[[ $RC == 9 ]] || fail "get --json: exit $RC, want 9: $(cat "$ERR")"
check "$OUT" 9 plain.bin=ok "quo\"te\\back.txt=ok" nope=NOENT
cmp -s "$T/dl/plain.bin" "$src/plain.bin" || fail "get --json: content differs"

# All fine: exit 0 in the summary. (Changed: the same would be up to date.)
printf x >>"$T/share/plain.bin"
run "$FERRY" get --json -f -i "$T/alice" "bob@127.0.0.1:$PORT:plain.bin"
[[ $RC == 0 ]] || fail "get --json: exit $RC: $(cat "$ERR")"
check "$OUT" 0 plain.bin=ok
[[ ! -s $ERR ]] || fail "get --json: stderr: $(cat "$ERR")"

cd "$T"
finish
