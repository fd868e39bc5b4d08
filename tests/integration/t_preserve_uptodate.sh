#!/usr/bin/env bash
# t_preserve_uptodate.sh - -p applies the mode and modification time even
# when the file is already up to date on the other side (nothing sent),
# like rsync -t, in both directions: send -p (PUTAT SAME, PROTOCOL.md 5.12)
# and get -p (after GETAT SAME). The file is reported up to date with 0
# bytes sent, and its content is untouched.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "no python3"
org_init
umask 077
start_serve
P=bob@127.0.0.1:$PORT
mkdir -p "$T/src" "$T/dl"
head -c 300000 /dev/urandom >"$T/src/f.bin"
chmod 0754 "$T/src/f.bin"
touch -d '2001-02-03 04:05:06 UTC' "$T/src/f.bin"

# uptodate_json: $OUT holds one file object, up to date, nothing sent.
uptodate_json() {
	python3 - "$OUT" <<'PY' || fail "$1: want one up-to-date object, 0 bytes sent: $(cat "$OUT")"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
f = [o for o in objs if o['type'] == 'file']
assert len(f) == 1 and f[0]['result'] == 'uptodate' and f[0]['bytes_sent'] == 0, f
assert objs[-1]['exit'] == 0 and objs[-1]['uptodate'] == 1, objs[-1]
PY
}

# send: first without -p (the server's umask, the time of arrival).
expect_exit 0 "$FERRY" send -q -i "$T/alice" "$T/src/f.bin" "$P"
got=$INBOX/alice/f.bin
[[ $(stat -c '%a' "$got") == 700 ]] || fail "send without -p: mode $(stat -c '%a' "$got")"
ino=$(stat -c %i "$got")
expect_exit 0 "$FERRY" send -p --json -i "$T/alice" "$T/src/f.bin" "$P"
uptodate_json "send -p of an up-to-date file"
[[ $(stat -c '%a %Y' "$got") == "$(stat -c '%a %Y' "$T/src/f.bin")" ]] ||
	fail "send -p of an up-to-date file: $(stat -c '%a %Y' "$got"), want $(stat -c '%a %Y' "$T/src/f.bin")"
[[ $(stat -c %i "$got") == "$ino" && $(sha "$got") == "$(sha "$T/src/f.bin")" ]] ||
	fail "send -p of an up-to-date file replaced or changed it"

# get: the same from the share.
cp "$T/src/f.bin" "$SHARE/g.bin"
chmod 0750 "$SHARE/g.bin"
touch -d '1999-12-31 23:59:59 UTC' "$SHARE/g.bin"
expect_exit 0 "$FERRY" get -q -i "$T/alice" "$P:g.bin" -o "$T/dl"
[[ $(stat -c '%a' "$T/dl/g.bin") == 700 ]] || fail "get without -p: mode $(stat -c '%a' "$T/dl/g.bin")"
expect_exit 0 "$FERRY" get -p --json -i "$T/alice" "$P:g.bin" -o "$T/dl"
uptodate_json "get -p of an up-to-date file"
[[ $(stat -c '%a %Y' "$T/dl/g.bin") == "$(stat -c '%a %Y' "$SHARE/g.bin")" ]] ||
	fail "get -p of an up-to-date file: $(stat -c '%a %Y' "$T/dl/g.bin"), want $(stat -c '%a %Y' "$SHARE/g.bin")"
[[ $(sha "$T/dl/g.bin") == "$(sha "$SHARE/g.bin")" ]] || fail "get -p changed the content"

# --- attack: PUTAT SAME from a raw client --------------------------------
# A claim that is not true (another digest, another size) changes nothing:
# ERR 91; SAME in a PUT, or without feature SAME in both HELLOs: code 10.
# hexes FEATURES FRAME...: the hex of a HELLO announcing FEATURES, then of
# each frame given as a python expression over ferrywire (fw).
hexes() {
	python3 - "$LIB_DIR" "$@" <<'PY'
import hashlib, sys
sys.path.insert(0, sys.argv[1])
import ferrywire as fw
print(fw.hello_frame_features(features=int(sys.argv[2])).hex())
for e in sys.argv[3:]:
    print(eval(e, {"fw": fw, "hashlib": hashlib}).hex())
PY
}
# same_attack FEATURES WANT FRAME...: sends them as alice; the answer
# (after serve's HELLO) must match WANT, and f.bin in the inbox is as it was.
same_attack() {
	local features=$1 want=$2 args=() h
	shift 2
	before=$(stat -c '%a %Y %i' "$got")$(sha "$got")
	while read -r h; do args+=(--send-hex "$h"); done < <(hexes "$features" "$@")
	wire tls -i "$T/alice" "${args[@]}" --hold 0.5 127.0.0.1 "$PORT"
	grep -Eq "$want" "$OUT" || fail "raw PUTAT SAME: want /$want/, got: $(cat "$OUT" "$ERR")"
	[[ $(stat -c '%a %Y %i' "$got")$(sha "$got") == "$before" ]] ||
		fail "raw PUTAT SAME ($want) changed the inbox file"
}
if have_python; then
	chmod 0600 "$got"
	size=$(stat -c %s "$got")
	digest=$(sha "$got")
	other=$(printf x | sha256sum | cut -d' ' -f1)
	putat="fw.putat_frame(1, $size, b'f.bin', offset=$size, mode=0o777, mtime=86400, flags=0x6"
	same_attack 3 "ERR id=1 code=91" "$putat, prefix_sha256=bytes.fromhex('$other'))" \
		"fw.end_frame(bytes.fromhex('$other'))"
	same_attack 3 "ERR id=1 code=10" \
		"fw.putat_frame(1, $size, b'f.bin', offset=0, mode=0o777, flags=0x6, prefix_sha256=bytes.fromhex('$digest'))"
	same_attack 1 "ERR id=1 code=10" "$putat, prefix_sha256=bytes.fromhex('$digest'))" \
		"fw.end_frame(bytes.fromhex('$digest'))"
	same_attack 3 "ERR id=1 code=10" "fw.put_frame(1, $size, b'f.bin', flags=0x6)"
	# The truth is accepted (and the session goes on after the refusals).
	wire tls -i "$T/alice" $(hexes 3 "$putat, prefix_sha256=bytes.fromhex('$digest'))" \
		"fw.end_frame(bytes.fromhex('$digest'))" | sed 's/^/--send-hex /') --hold 0.5 127.0.0.1 "$PORT"
	grep -q "OK id=1 size=$size sha256=$digest" "$OUT" || fail "a true PUTAT SAME: $(cat "$OUT" "$ERR")"
	[[ $(stat -c '%a %Y' "$got") == "777 86400" ]] || fail "a true PUTAT SAME: $(stat -c '%a %Y' "$got")"
else
	note "no python3 with ssl: the raw PUTAT SAME checks are skipped"
fi

finish
