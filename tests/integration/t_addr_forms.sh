#!/usr/bin/env bash
# t_addr_forms.sh - the address forms ferry.1 promises (issue 10): an empty
# port means 7443 (bob@host::docs, [::1]::docs); a configuration alias can
# name the whole share (get -r bob: and bob:/, ls bob:/); a bare alias
# ("ls bob") that does not resolve says which peer was meant; a UTF-8 BOM
# at the start of the configuration is skipped; an absolute push path is
# refused as relative to the inbox, not the share.
. "$(dirname "$0")/lib.sh"

org_init
mkdir -p "$SHARE/docs"
printf 'a\n' >"$SHARE/docs/a.txt"
printf 'top\n' >"$SHARE/top.txt"
start_serve
ID=$T/alice
mkdir -p "$T/home"
export FERRY_HOME=$T/home

# --- the empty port: parsed as 7443, not "'' is not a port number" -------
# Nothing listens on 7443 of 127.0.0.2 in a test: a connection error (3)
# shows the address was taken, where a usage error (2) would not.
for a in "bob@127.0.0.2::docs" "[::1]::docs"; do
	run "$FERRY" ls --timeout 2 -i "$ID" "$a"
	[[ $RC != 2 ]] || fail "ls $a: refused as usage: $(cat "$ERR")"
	! grep -q "not a port number" "$ERR" || fail "ls $a: $(cat "$ERR")"
done
run "$FERRY" ls --timeout 2 -i "$ID" "bob@127.0.0.2::docs"
err_has "127\.0\.0\.2:7443" "ls bob@127.0.0.2::docs (the default port)"
# The unbracketed IPv6 address is still refused with the hint.
expect_exit 2 "$FERRY" ls -i "$ID" "fe80::1:7443:x"
err_has "brackets"

# --- a BOM before the first section --------------------------------------
{
	printf '\xef\xbb\xbf# written by an editor that adds a BOM\n'
	printf '[peer bob]\naddress = 127.0.0.1\nport = %s\nid = bob\nidentity = %s\n' "$PORT" "$ID"
} >"$FERRY_HOME/config"
expect_exit 0 "$FERRY" ls bob:
grep -q ' top.txt$' "$OUT" || fail "ls bob: with a BOM: $(cat "$OUT")"

# --- the whole share through an alias -------------------------------------
expect_exit 0 "$FERRY" ls bob:/
grep -q ' docs/$' "$OUT" || fail "ls bob:/: $(cat "$OUT")"
for a in bob: bob:/; do
	rm -rf "$T/whole"
	expect_exit 0 "$FERRY" get -r "$a" -o "$T/whole"
	[[ -f $T/whole/docs/a.txt && -f $T/whole/top.txt ]] ||
		fail "get -r $a: not the whole share: $(find "$T/whole" | sort)"
done
# Without -r the whole share is not a file: one line that says so.
for a in bob: bob:/; do
	expect_exit 2 "$FERRY" get "$a" -o "$T/whole"
	expect_one_line_err "get $a"
	err_has "no path after the peer.*-r"
done

# --- a bare alias that does not resolve -----------------------------------
printf '[peer nosuchhost-ferry-test]\naddress = 127.0.0.1:%s\nid = bob\nidentity = %s\n' "$PORT" "$ID" >>"$FERRY_HOME/config"
run "$FERRY" ls -i "$ID" nosuchhost-ferry-test
[[ $RC == 3 ]] || fail "ls nosuchhost-ferry-test: exit $RC, want 3: $(cat "$ERR")"
expect_one_line_err "ls of a bare alias"
err_has "did you mean 'nosuchhost-ferry-test:' \(a peer in your configuration\)"
expect_exit 0 "$FERRY" ls nosuchhost-ferry-test:

# --- an absolute push path: relative to the inbox -------------------------
HEX=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import ferrywire as fw
print((fw.hello_frame_features(1, fw.FEATURE_SYNC) + fw.mkdir_frame(1, b"/etc/x") + fw.probe_frame(2, 1, b"/etc/y") + fw.walk_frame(3, b"/etc")).hex())' "$LIB_DIR")
wire tls -i "$ID" --send-hex "$HEX" --hold 3 127.0.0.1 "$PORT"
grep -q "ERR id=1 .*absolute path refused; paths are relative to the inbox" "$OUT" ||
	fail "MKDIR /etc/x: not refused as relative to the inbox: $(cat "$OUT")"
grep -q "ERR id=2 .*relative to the inbox" "$OUT" ||
	fail "PROBE /etc/y: not refused as relative to the inbox: $(cat "$OUT")"
grep -q "ERR id=3 .*relative to the share" "$OUT" ||
	fail "WALK /etc: not refused as relative to the share: $(cat "$OUT")"

finish
