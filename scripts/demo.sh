#!/usr/bin/env bash
# make demo: a throw-away organization on loopback. A CA, two members (alice
# and bob), bob serving; alice pushes files to bob and pulls from bob's share,
# and both sides' SHA-256 are compared. Everything lives in a temp dir.
set -euo pipefail
FERRY=${FERRY:-build/ferry}
FERRY=$(realpath "$FERRY")
# serve and authd refuse to run as root unless told to (--user or --allow-root).
ALLOW_ROOT=()
[ "$(id -u)" -ne 0 ] || ALLOW_ROOT=(--allow-root)
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-demo.XXXXXX")
serve_pid=
cleanup() {
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "An organization: its CA and two members"
run "$FERRY" ca init --dir ca --name "Demo Org Root CA"
run "$FERRY" ca issue --dir ca --name bob --dns localhost --ip 127.0.0.1 --out bob
run "$FERRY" ca issue --dir ca --name alice --out alice

step "bob serves his share on loopback"
mkdir -p bob-share/docs bob-inbox alice-files alice-downloads
printf 'Minutes of the demo meeting\n' >bob-share/docs/minutes.txt
head -c $((3 * 1024 * 1024 + 17)) /dev/urandom >bob-share/dataset.bin
"$FERRY" serve "${ALLOW_ROOT[@]}" -i bob --listen 127.0.0.1:0 --share bob-share --inbox bob-inbox \
	2>serve.log &
serve_pid=$!
for _ in $(seq 50); do
	grep -q 'listening on' serve.log 2>/dev/null && break
	sleep 0.1
done
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' serve.log | head -n1)
[ -n "$port" ] || { cat serve.log >&2; echo "demo: ferry serve did not start" >&2; exit 1; }
echo "ferry serve (member bob) listening on 127.0.0.1:$port"

step "alice pushes files to bob (verified as bob@, end-to-end SHA-256)"
printf 'Quarterly report\n' >alice-files/report.txt
: >alice-files/empty.txt
head -c $((8 * 1024 * 1024)) /dev/urandom >alice-files/photos.tar
run "$FERRY" send -i alice alice-files/report.txt alice-files/empty.txt \
	alice-files/photos.tar "bob@127.0.0.1:$port"

step "The same push again: bob already has every file (compared by SHA-256)"
run "$FERRY" send -i alice --json alice-files/report.txt alice-files/empty.txt \
	alice-files/photos.tar "bob@127.0.0.1:$port"

step "alice lists and pulls from bob's share"
run "$FERRY" ls -i alice "bob@127.0.0.1:$port"
run "$FERRY" get -i alice "bob@127.0.0.1:$port:dataset.bin" \
	"bob@127.0.0.1:$port:docs/minutes.txt" -o alice-downloads

step "Both sides, hashed independently with sha256sum"
ok=1
compare() {
	local a b
	a=$(sha256sum <"$1" | cut -d' ' -f1)
	b=$(sha256sum <"$2" | cut -d' ' -f1)
	printf '%-28s %s\n%-28s %s\n' "$1" "$a" "$2" "$b"
	if [ "$a" = "$b" ]; then echo "  -> match"; else echo "  -> MISMATCH"; ok=0; fi
}
for f in report.txt empty.txt photos.tar; do compare "alice-files/$f" "bob-inbox/alice/$f"; done
compare bob-share/dataset.bin alice-downloads/dataset.bin
compare bob-share/docs/minutes.txt alice-downloads/minutes.txt

step "A whole directory both ways: send -r, get -r"
run "$FERRY" send -i alice -r alice-files "bob@127.0.0.1:$port"
run "$FERRY" get -i alice -r "bob@127.0.0.1:$port:docs" -o alice-downloads
compare bob-share/docs/minutes.txt alice-downloads/docs/minutes.txt

step "What bob's daemon logged"
sed 's/^/  /' serve.log
if [ $ok = 1 ]; then
	printf '\nAll files arrived intact: every SHA-256 matches on both sides.\n'
else
	echo "demo: a hash did not match" >&2
	exit 1
fi
