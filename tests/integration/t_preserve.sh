#!/usr/bin/env bash
# t_preserve.sh - send -p and get -p keep the permission bits (never setuid,
# setgid or sticky) and the modification time, like scp -p; without -p the
# receiver's umask applies and the time is the arrival's.
. "$(dirname "$0")/lib.sh"

org_init
# A umask that would change the bits, so that keeping them shows.
umask 077
start_serve
src=$T/src
mkdir -p "$src" "$T/dl"
printf 'script\n' >"$src/run.sh"
head -c 300000 /dev/urandom >"$src/data.bin"
chmod 0755 "$src/run.sh"
chmod 4750 "$src/data.bin"
touch -d '2001-02-03 04:05:06 UTC' "$src/run.sh"
touch -d '1999-12-31 23:59:59 UTC' "$src/data.bin"

expect_exit 0 "$FERRY" send -p -i "$T/alice" "$src/run.sh" "$src/data.bin" "bob@127.0.0.1:$PORT"
[[ $(stat -c '%a %Y' "$T/inbox/alice/run.sh") == "$(stat -c '%a %Y' "$src/run.sh")" ]] ||
	fail "send -p run.sh: $(stat -c '%a %Y' "$T/inbox/alice/run.sh"), want $(stat -c '%a %Y' "$src/run.sh")"
[[ $(stat -c '%a %Y' "$T/inbox/alice/data.bin") == "750 $(stat -c '%Y' "$src/data.bin")" ]] ||
	fail "send -p data.bin (setuid dropped): $(stat -c '%a %Y' "$T/inbox/alice/data.bin")"

# Without -p: mode less the server's umask (077), the time of arrival.
# (Removed first: the same file would be up to date and left alone.)
rm "$T/inbox/alice/run.sh"
expect_exit 0 "$FERRY" send -f -i "$T/alice" "$src/run.sh" "bob@127.0.0.1:$PORT"
[[ $(stat -c '%a' "$T/inbox/alice/run.sh") == 700 ]] || fail "send without -p: mode $(stat -c '%a' "$T/inbox/alice/run.sh")"
[[ $(stat -c '%Y' "$T/inbox/alice/run.sh") -gt 1000000000 && $(stat -c '%Y' "$T/inbox/alice/run.sh") != $(stat -c '%Y' "$src/run.sh") ]] ||
	fail "send without -p kept the time"

# get -p: the share's bits and time.
cp -p "$src/run.sh" "$src/data.bin" "$T/share/"
chmod 0640 "$T/share/data.bin"
expect_exit 0 "$FERRY" get -p -i "$T/alice" "bob@127.0.0.1:$PORT:run.sh" "bob@127.0.0.1:$PORT:data.bin" -o "$T/dl"
for f in run.sh data.bin; do
	[[ $(stat -c '%a %Y' "$T/dl/$f") == "$(stat -c '%a %Y' "$T/share/$f")" ]] ||
		fail "get -p $f: $(stat -c '%a %Y' "$T/dl/$f"), want $(stat -c '%a %Y' "$T/share/$f")"
done
# Without -p: our umask (077), a new time.
rm "$T/dl/data.bin"
expect_exit 0 "$FERRY" get -f -i "$T/alice" "bob@127.0.0.1:$PORT:data.bin" -o "$T/dl"
[[ $(stat -c '%a' "$T/dl/data.bin") == 600 ]] || fail "get without -p: mode $(stat -c '%a' "$T/dl/data.bin")"
[[ $(stat -c '%Y' "$T/dl/data.bin") != $(stat -c '%Y' "$T/share/data.bin") ]] || fail "get without -p kept the time"

finish
