#!/usr/bin/env bash
# t_dissector.sh - contrib/wireshark/ferry.lua on a real, decrypted capture
# (SSLKEYLOGFILE) of a push, a listing and a pull: tshark shows the frame
# types, the ids, the names and paths, the digests and an error. Skips (77)
# where tshark has no Lua or capturing on lo is not possible.
. "$(dirname "$0")/lib.sh"

command -v tcpdump >/dev/null || skip "no tcpdump: cannot capture"
command -v tshark >/dev/null || skip "no tshark"
LUA=${FERRY_SRC:-$LIB_DIR/../..}/contrib/wireshark/ferry.lua
[[ -f $LUA ]] || fail "no $LUA"
echo 'print("ferry-lua-probe")' >"$T/probe.lua"
tshark -X "lua_script:$T/probe.lua" -v >"$T/probe.out" 2>&1 || true
grep -q ferry-lua-probe "$T/probe.out" || skip "tshark has no Lua support"

rnd() { od -An -N6 -tx1 /dev/urandom | tr -d ' \n'; }
PUSH1=push-one-$(rnd).txt
PUSH2=push-two-$(rnd).bin
PULL=pull-$(rnd).txt
DIR=listing-$(rnd)
ENTRY=entry-$(rnd).txt

org_init
printf 'hello\n' >"$T/$PUSH1"
head -c 300000 /dev/urandom >"$T/$PUSH2"   # two DATA frames, many records
mkdir -p "$T/share/$DIR"
printf 'x\n' >"$T/share/$DIR/$ENTRY"
printf 'pull me\n' >"$T/share/$PULL"
export SSLKEYLOGFILE=$T/keys.txt  # not *.log: lib.sh prints those on failure
start_serve

CAP=$T/cap.pcap
timeout 60 tcpdump -Z root --immediate-mode -i lo -w "$CAP" -U "tcp port $PORT" \
	>"$T/tcpdump.out" 2>&1 &
CAP_PID=$!
BG_PIDS+=("$CAP_PID")
wait_until 5 grep -q "listening on" "$T/tcpdump.out" ||
	skip "tcpdump cannot capture on lo: $(head -c 300 "$T/tcpdump.out")"

peer=bob@127.0.0.1:$PORT
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/$PUSH1" "$T/$PUSH2" "$peer"
expect_exit 0 "$FERRY" ls -i "$T/alice" "$peer:$DIR"
run "$FERRY" get -i "$T/alice" "$peer:$PULL" "$peer:no-such-file" -o "$T"
[[ $RC != 0 ]] || fail "get of a missing file succeeded"
cmp -s "$T/share/$PULL" "$T/$PULL" || fail "pulled file differs"

sleep 0.5
kill -INT "$CAP_PID" 2>/dev/null || true
wait "$CAP_PID" 2>/dev/null || true
[[ -s $CAP ]] || skip "tcpdump wrote no capture"
tshark -r "$CAP" -T fields -e frame.number >"$T/n.txt" 2>/dev/null || true
[[ -s $T/n.txt ]] || skip "tcpdump captured no packets on lo"

# Found by ALPN alone (ferry/1), no port given.
TS=(tshark -X "lua_script:$LUA" -r "$CAP" -d "tcp.port==$PORT,tls"
	-o "tls.keylog_file:$SSLKEYLOGFILE")
"${TS[@]}" -Y ferry -T fields -E separator='|' -E occurrence=a -E aggregator=, \
	-e ferry.typename -e ferry.id -e ferry.name -e ferry.path -e ferry.size \
	-e ferry.sha256 -e ferry.code -e ferry.message -e ferry.count -e ferry.length \
	>"$T/fields.txt" 2>"$T/tshark.err" || fail "tshark: $(cat "$T/tshark.err")"
[[ -s $T/fields.txt ]] || fail "no ferry frames dissected: $(cat "$T/tshark.err")"
# col N: the values of column N, one per line
col() { cut -d'|' -f"$1" "$T/fields.txt" | tr ',' '\n' | sed '/^$/d'; }
col 1 | sort | uniq -c >"$T/types.txt"
note "frame types: $(tr -s ' \n' ' ' <"$T/types.txt")"
# (With SYNC, ferry send probes each file and pushes it with PUTAT.)
for t in HELLO PROBE HAVE PUTAT DATA END OK LIST ENTRY LISTEND GET FILE ERR; do
	grep -Eq " $t\$" "$T/types.txt" || fail "no $t frame dissected; got: $(cat "$T/types.txt")"
done
# The 300000-byte file is two DATA frames (262144 + 37856), each reassembled
# from several TLS records.
col 10 | grep -qx 262144 || fail "no full 256 KiB DATA frame: $(col 10 | sort -u | tr '\n' ' ')"
col 10 | grep -qx 37856 || fail "no 37856-byte DATA frame"
col 3 | grep -qxF -- "$ENTRY" || fail "name $ENTRY not shown: $(col 3)"
for s in "$DIR" "$PULL" no-such-file "$PUSH1" "$PUSH2"; do
	col 4 | grep -qxF -- "$s" || fail "path $s not shown: $(col 4)"
done
col 5 | grep -qx 300000 || fail "size 300000 not shown"
for f in "$T/$PUSH1" "$T/$PUSH2" "$T/$PULL"; do
	col 6 | grep -qxF "$(sha "$f")" || fail "SHA-256 of $(basename "$f") not shown"
done
col 7 | grep -qx 30 || fail "ERR code 30 not shown"
col 8 | grep -qF "no-such-file: No such file or directory" || fail "ERR message not shown"
col 9 | grep -qx 1 || fail "LISTEND count not shown"

# The verbose tree names things for a human.
"${TS[@]}" -Y ferry -V >"$T/verbose.txt" 2>/dev/null || true
grep -q 'ferry file transfer protocol' "$T/verbose.txt" || fail "no ferry tree in -V"
grep -qF "Error code: NOENT (30)" "$T/verbose.txt" || fail "error code not named in -V"
grep -qF "Type: PUTAT (0x15)" "$T/verbose.txt" || fail "type not named in -V"
grep -qF "Mode: 0644" "$T/verbose.txt" || fail "octal mode not shown in -V"

# Without the key log: nothing to dissect.
tshark -X "lua_script:$LUA" -r "$CAP" -d "tcp.port==$PORT,tls" -Y ferry \
	>"$T/nokeys.txt" 2>/dev/null || true
[[ ! -s $T/nokeys.txt ]] || fail "ferry frames without the key log: $(head -3 "$T/nokeys.txt")"
finish
