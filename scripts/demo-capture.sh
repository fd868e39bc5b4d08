#!/usr/bin/env bash
# make demo-capture: the demo's transfers (and an authd enrollment) while
# tcpdump records the loopback, then what a skeptic would check: that the
# file contents, the file names and the password are nowhere in the raw
# capture, and that decrypting with the key log (SSLKEYLOGFILE) finds every
# one of them inside TLS. Exits non-zero if anything leaked or decryption did
# not find it; if capturing is not permitted here, says so and exits 0 after
# the transfers.
set -euo pipefail
FERRY=$(realpath "${FERRY:-build/ferry}")
# serve and authd refuse to run as root unless told to (--user or --allow-root).
ALLOW_ROOT=()
[ "$(id -u)" -ne 0 ] || ALLOW_ROOT=(--allow-root)
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-capture.XXXXXX")
pids=()
cap_pid=
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -n "${KEEP:-}" ] && echo "demo-capture: kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

tag=$RANDOM$RANDOM
content_marker="FERRY-CONTENT-MARKER-$tag"
name_marker="ferry-name-marker-$tag"
user=carol
password="carol-demo-password-$tag"
basic=$(printf '%s:%s' "$user" "$password" | base64 -w0)

step "An organization: its CA, bob's identity, an account for carol"
"$FERRY" ca init --dir ca --name "Capture Demo Root CA" >ca-init.out
fp=$(cut -d' ' -f1 ca-init.out)
echo "CA fingerprint $fp"
run "$FERRY" ca issue --dir ca --name bob --dns localhost --ip 127.0.0.1 --out bob
run "$FERRY" ca issue --dir ca --name alice --out alice
printf '%s\n' "$password" | "$FERRY" user add --db ca/ferry.db --password-stdin "$user"
echo "account $user, password $password"

start() {
	local name=$1 what=$2 i
	shift 2
	"$@" >"$name.out" 2>"$name.log" </dev/null &
	pids+=($!)
	for i in $(seq 100); do
		grep -qs "$what: listening on " "$name.log" && break
		sleep 0.1
	done
	PORT=$(sed -n "s/.*$what: listening on .*:\([0-9][0-9]*\)\$/\1/p" "$name.log" | head -n1)
	[ -n "$PORT" ] || { cat "$name.log" >&2; echo "demo-capture: $name did not start" >&2; exit 1; }
}
mkdir -p bob-share/docs bob-inbox alice-files alice-downloads
printf '%s: minutes of the meeting\n' "$content_marker" >"bob-share/docs/$name_marker-minutes.txt"
{ printf '%s\n' "$content_marker"; head -c $((3 * 1024 * 1024)) /dev/urandom; } >"bob-share/$name_marker-dataset.bin"
start serve serve "$FERRY" serve "${ALLOW_ROOT[@]}" -i bob --listen 127.0.0.1:0 --share bob-share --inbox bob-inbox
sport=$PORT
start authd authd "$FERRY" authd "${ALLOW_ROOT[@]}" --ca-dir ca --listen 127.0.0.1:0
aport=$PORT
echo "ferry serve (bob) on 127.0.0.1:$sport, ferry authd on 127.0.0.1:$aport"

step "Capturing tcp ports $sport and $aport on lo"
capture=0
why=
if ! command -v tcpdump >/dev/null || ! command -v tshark >/dev/null; then
	why="tcpdump or tshark is not installed (scripts/deps.sh installs both)"
else
	tcpdump -Z root --immediate-mode -B 131072 -i lo -w cap.pcap -U "tcp port $sport or tcp port $aport" >tcpdump.out 2>&1 &
	cap_pid=$!
	pids+=("$cap_pid")
	for _ in $(seq 50); do
		grep -qs "listening on" tcpdump.out && break
		kill -0 "$cap_pid" 2>/dev/null || break
		sleep 0.1
	done
	if grep -qs "listening on" tcpdump.out; then
		capture=1
		sed 's/^/  /' tcpdump.out
	else
		why="tcpdump could not capture on lo: $(tr '\n' ' ' <tcpdump.out)"
	fi
fi
[ $capture = 1 ] || echo "demo-capture: $why" >&2
export SSLKEYLOGFILE=$work/keys.log

step "carol enrolls with authd (password over EST/HTTPS)"
printf '%s\n' "$password" | run "$FERRY" enroll "https://127.0.0.1:$aport" --user "$user" \
	-i carol --fingerprint "$fp" --password-stdin

step "alice pushes files to bob, lists and pulls"
printf '%s: quarterly report\n' "$content_marker" >"alice-files/$name_marker-report.txt"
{ printf '%s\n' "$content_marker"; head -c $((8 * 1024 * 1024)) /dev/urandom; } >"alice-files/$name_marker-photos.tar"
run "$FERRY" send -i alice -q "alice-files/$name_marker-report.txt" \
	"alice-files/$name_marker-photos.tar" "bob@127.0.0.1:$sport"
run "$FERRY" ls -i alice "bob@127.0.0.1:$sport"
run "$FERRY" get -i alice -q "bob@127.0.0.1:$sport:$name_marker-dataset.bin" \
	"bob@127.0.0.1:$sport:docs/$name_marker-minutes.txt" -o alice-downloads
step "carol, with her enrolled identity, pushes too"
run "$FERRY" send -i carol -q "alice-files/$name_marker-report.txt" "bob@127.0.0.1:$sport"
unset SSLKEYLOGFILE
for f in "$name_marker-report.txt" "$name_marker-photos.tar"; do
	cmp -s "alice-files/$f" "bob-inbox/alice/$f" || { echo "demo-capture: $f differs" >&2; exit 1; }
done
cmp -s "bob-share/$name_marker-dataset.bin" "alice-downloads/$name_marker-dataset.bin" ||
	{ echo "demo-capture: dataset differs" >&2; exit 1; }
echo "all transfers arrived intact"

if [ $capture = 0 ]; then
	printf '\ndemo-capture: capturing on the loopback is not permitted here (%s);\n' "$why"
	echo "demo-capture: the transfers ran, but there is nothing to inspect. Exit 0."
	exit 0
fi
sleep 1
kill -INT "$cap_pid" 2>/dev/null || true
wait "$cap_pid" 2>/dev/null || true

step "What the capture holds"
decode=(-d "tcp.port==$sport,tls" -d "tcp.port==$aport,tls")
packets=$(tshark -r cap.pcap -T fields -e frame.len 2>/dev/null | awk '{n++; b+=$1} END {printf "%d packets, %d bytes", n, b}')
echo "capture: $packets on the wire ($(stat -c %s cap.pcap) bytes of pcap)"
sed -n 's/^/  tcpdump: /;/captured\|received\|dropped/p' tcpdump.out
dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' tcpdump.out)
[ "${dropped:-0}" = 0 ] || echo "  (the kernel dropped packets: what follows a gap cannot be decrypted)"
streams=$(tshark -r cap.pcap -T fields -e tcp.stream 2>/dev/null | sort -un)
echo "TCP connections: $(echo "$streams" | wc -w)"
echo "TLS record-layer versions (legacy field: 0x0301 on a ClientHello, 0x0303 on every other TLS 1.3 record):"
tshark -r cap.pcap "${decode[@]}" -Y tls.record -T fields -e tls.record.version 2>/dev/null |
	tr ',' '\n' | sort | uniq -c | sed 's/^/  /'
echo "ServerHello: negotiated version (supported_versions) and cipher suite, per connection:"
tshark -r cap.pcap "${decode[@]}" -Y "tls.handshake.type == 2" -T fields \
	-e tcp.srcport -e tls.handshake.extensions.supported_version -e tls.handshake.ciphersuite 2>/dev/null |
	awk '{print "  port " $1 "  version " $2 "  suite " $3}' | sort | uniq -c
echo "Handshake messages readable without keys (1 = ClientHello, 2 = ServerHello; the rest, certificates included, is encrypted):"
tshark -r cap.pcap "${decode[@]}" -Y "tls.handshake.type" -T fields -e tls.handshake.type 2>/dev/null |
	tr ',' '\n' | sort -n | uniq -c | sed 's/^/  /'
bad_versions=$(tshark -r cap.pcap "${decode[@]}" -Y "tls.handshake.type == 2" -T fields \
	-e tls.handshake.extensions.supported_version 2>/dev/null | grep -cv '^0x0304$' || true)

step "Raw capture: searching for the secrets (should be 0 each)"
leaks=0
count_raw() { { grep -a -o -F -- "$1" cap.pcap || true; } | wc -l; }
for what in "content marker:$content_marker" "file name marker:$name_marker" \
	"password:$password" "Basic credentials (base64):$basic"; do
	n=$(count_raw "${what#*:}")
	printf '  %-28s %-48s %s\n' "${what%%:*}" "${what#*:}" "$n"
	[ "$n" = 0 ] || leaks=$((leaks + 1))
done

step "Decrypted with the key log ($(grep -c . keys.log) secrets): the same search"
: >plain.bin
for s in $streams; do
	tshark -r cap.pcap "${decode[@]}" -o "tls.keylog_file:$work/keys.log" -q \
		-z "follow,tls,raw,$s" 2>/dev/null >"follow-$s.txt" || true
done
python3 - "$work" $streams <<'PY' >plain.bin
import binascii, sys, os
work, streams = sys.argv[1], sys.argv[2:]
out = sys.stdout.buffer
for s in streams:
    for line in open(os.path.join(work, f"follow-{s}.txt")):
        t = line.strip()
        if not t or t.startswith(("=", "Follow:", "Filter:", "Node ")):
            continue
        try:
            out.write(binascii.unhexlify(t))
        except binascii.Error:
            pass
    out.write(b"\n")
PY
echo "  $(stat -c %s plain.bin) bytes of plaintext recovered from $(echo "$streams" | wc -w) connections"
missing=0
for what in "content marker:$content_marker" "file name marker:$name_marker" \
	"Basic credentials (base64):$basic"; do
	n=$({ grep -a -o -F -- "${what#*:}" plain.bin || true; } | wc -l)
	printf '  %-28s %-48s %s\n' "${what%%:*}" "${what#*:}" "$n"
	[ "$n" -gt 0 ] || missing=$((missing + 1))
done
if grep -a -q -F -- "$basic" plain.bin; then
	printf '  %-28s %-48s %s\n' "password (decoded from it)" "$(printf '%s' "$basic" | base64 -d)" \
		"$([ "$(printf '%s' "$basic" | base64 -d)" = "$user:$password" ] && echo match || echo MISMATCH)"
fi

echo
if [ "$leaks" -gt 0 ] || [ "$missing" -gt 0 ] || [ "$bad_versions" -gt 0 ]; then
	echo "demo-capture: FAILED: $leaks secret(s) in the clear, $missing not found after decryption, $bad_versions connection(s) not TLS 1.3" >&2
	exit 1
fi
echo "demo-capture: nothing readable on the wire; with the key log, every secret was there inside TLS 1.3."
