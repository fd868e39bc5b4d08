#!/usr/bin/env bash
# t_config.sh - peers named in $FERRY_HOME/config: send f bob:, get bob:PATH
# and ls bob: find the address, port, expected ID and identity there; -i
# wins over the file; a bad file is one line naming file:line.
. "$(dirname "$0")/lib.sh"

org_init
start_serve
printf 'hello\n' >"$T/hello.txt"
printf 'shared\n' >"$T/share/s.txt"
mkdir -p "$T/home" "$T/dl"
export FERRY_HOME=$T/home
cat >"$FERRY_HOME/config" <<CFG
# the test's peers
[peer bob]
address = 127.0.0.1
port = $PORT
id = bob
identity = $T/alice

[peer liar]
address = 127.0.0.1:$PORT
id = carol
identity = $T/alice

[peer noident]
address = localhost:$PORT
CFG

# send: no -i, no address on the command line.
expect_exit 0 "$FERRY" send "$T/hello.txt" bob:
[[ $(cat "$OUT") == "$(sha256sum "$T/hello.txt")" ]] || fail "send bob: printed $(cat "$OUT")"
cmp -s "$T/hello.txt" "$T/inbox/alice/hello.txt" || fail "send bob: content differs"

# get and ls through the alias.
expect_exit 0 "$FERRY" get bob:s.txt -o "$T/dl"
cmp -s "$T/dl/s.txt" "$T/share/s.txt" || fail "get bob:s.txt: content differs"
expect_exit 0 "$FERRY" ls bob:
grep -q ' s.txt$' "$OUT" || fail "ls bob: $(cat "$OUT")"

# The expected ID is checked: bob is not carol.
expect_exit 4 "$FERRY" send "$T/hello.txt" liar:
expect_one_line_err "send liar:"

# No identity in the file: the default ($FERRY_HOME) has none, -i gives it.
run "$FERRY" ls noident:
[[ $RC != 0 ]] || fail "ls noident: without an identity worked"
expect_one_line_err "ls noident: without an identity"
expect_exit 0 "$FERRY" ls -i "$T/alice" noident:
# -i wins over the file's identity: the inbox shows who sent.
expect_exit 0 "$FERRY" send -f -i "$T/bob" "$T/hello.txt" bob:
[[ -f $T/inbox/bob/hello.txt ]] || fail "send -i bob: the file's identity was used instead of -i"

# An alias takes no port for send; ordinary addresses still work.
expect_exit 2 "$FERRY" send "$T/hello.txt" bob:7443
expect_one_line_err "send bob:7443"
expect_exit 0 "$FERRY" send -f -i "$T/alice" "$T/hello.txt" "127.0.0.1:$PORT"
expect_exit 2 "$FERRY" get bob:
expect_one_line_err "get bob:"

# A bad file: one line naming file:line, exit 2.
printf '[peer x]\naddress = h\nbogus = 1\n' >"$FERRY_HOME/config"
expect_exit 2 "$FERRY" send "$T/hello.txt" x:
expect_one_line_err "bad config"
err_has "config:3: unknown key 'bogus'"
finish
