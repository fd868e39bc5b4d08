#!/usr/bin/env bash
# t_compat.sh - a server from before the SYNC feature (evil_server.py --mode
# v1: HELLO with features 0, only PUT, GET and LIST): ferry falls back to
# PUT and GET for single files (PROTOCOL.md 5.10), sends no SYNC frame (the
# old server would hang up), and refuses trees with one clear line.
. "$(dirname "$0")/lib.sh"

have_python || skip "no python3 with ssl"
org_init
ID=$T/alice
start_daemon evil-v1 evil python3 "$LIB_DIR/evil_server.py" -i "$T/bob" --mode v1
P="bob@127.0.0.1:$PORT"

printf 'hello from the future\n' >"$T/a.txt"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$T/big.bin"
run "$FERRY" send -i "$ID" "$T/a.txt" "$T/big.bin" "$P"
[[ $RC == 0 ]] || fail "send to a v1 server: exit $RC: $(cat "$ERR")"
grep -q "^$(sha "$T/big.bin")  $T/big.bin\$" "$OUT" || fail "send: no verified checksum line: $(cat "$OUT")"
grep -q "PUT id=.* 'big.bin' size=2097152" "$T/evil-v1.log" || fail "the client did not use PUT: $(cat "$T/evil-v1.log")"
grep -q "unexpected" "$T/evil-v1.log" && fail "the client sent a SYNC frame: $(cat "$T/evil-v1.log")"

mkdir -p "$T/dl"
run "$FERRY" get -i "$ID" "$P:docs/a.txt" -o "$T/dl"
[[ $RC == 0 ]] || fail "get from a v1 server: exit $RC: $(cat "$ERR")"
grep -q "GET id=.* 'docs/a.txt'" "$T/evil-v1.log" || fail "the client did not use GET"
# Again: without SYNC there is no up-to-date check, the file exists here.
run "$FERRY" get -i "$ID" "$P:docs/a.txt" -o "$T/dl"
[[ $RC == 5 ]] || fail "get over an existing file from a v1 server: exit $RC, want 5: $(cat "$ERR")"
expect_one_line_err "get over an existing file from a v1 server"

mkdir -p "$T/tree/sub"
printf 'x\n' >"$T/tree/sub/f"
run "$FERRY" send -r -i "$ID" "$T/tree" "$P"
[[ $RC == 2 ]] || fail "send -r to a v1 server: exit $RC, want 2: $(cat "$ERR")"
expect_one_line_err "send -r to a v1 server"
grep -q "SYNC" "$ERR" || fail "send -r to a v1 server: the error does not say why: $(cat "$ERR")"
run "$FERRY" get -r -i "$ID" "$P:docs" -o "$T/dl"
[[ $RC == 2 ]] || fail "get -r from a v1 server: exit $RC, want 2: $(cat "$ERR")"
expect_one_line_err "get -r from a v1 server"
grep -q "unexpected" "$T/evil-v1.log" && fail "the client sent a SYNC frame: $(cat "$T/evil-v1.log")"
finish
