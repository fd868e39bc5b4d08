#!/usr/bin/env bash
# SSLKEYLOGFILE: ferry appends its TLS secrets in the NSS key log format,
# creates the file 0600 and warns once on stderr. Where capturing on the
# loopback is permitted, tshark decrypts a push with the key log, finds the
# file's marker inside, and does not find it without the key log.
. "$(dirname "$0")/lib.sh"

org_init
marker="ferry-keylog-marker-$RANDOM$RANDOM"
printf '%s\n' "$marker" >"$T/secret.txt"
SERVE_NAME=serve start_serve

capture=0
if command -v tshark >/dev/null && command -v tcpdump >/dev/null; then
	timeout 20 tcpdump -Z root --immediate-mode -i lo -w "$T/cap.pcap" -U "tcp port $PORT" >"$T/tcpdump.out" 2>&1 &
	cap=$!
	BG_PIDS+=("$cap")
	if wait_until 5 grep -q "listening on" "$T/tcpdump.out"; then
		capture=1
	fi
fi

run env SSLKEYLOGFILE="$T/keys.log" "$FERRY" send -i "$T/alice" "$T/secret.txt" "bob@127.0.0.1:$PORT"
[[ $RC == 0 ]] || fail "send with SSLKEYLOGFILE: exit $RC: $(cat "$ERR")"
grep -q "SSLKEYLOGFILE is set" "$ERR" || fail "no warning on stderr: $(cat "$ERR")"
[[ $(wc -l <"$ERR") == 1 ]] || fail "more than one warning line: $(cat "$ERR")"
[[ $(stat -c %a "$T/keys.log") == 600 ]] || fail "key log mode $(stat -c %a "$T/keys.log")"
for label in CLIENT_HANDSHAKE_TRAFFIC_SECRET SERVER_HANDSHAKE_TRAFFIC_SECRET \
	CLIENT_TRAFFIC_SECRET_0 SERVER_TRAFFIC_SECRET_0; do
	grep -Eq "^$label [0-9a-f]{64} [0-9a-f]{64,96}$" "$T/keys.log" ||
		fail "key log lacks a $label line: $(cat "$T/keys.log")"
done
# Without the variable nothing is written and nothing is said.
run "$FERRY" send -i "$T/alice" --force "$T/secret.txt" "bob@127.0.0.1:$PORT"
[[ $RC == 0 && ! -s $ERR ]] || fail "send without SSLKEYLOGFILE: exit $RC, stderr $(cat "$ERR")"
[[ $(grep -c CLIENT_TRAFFIC_SECRET_0 "$T/keys.log") == 1 ]] || fail "secrets logged without SSLKEYLOGFILE"

if [[ $capture == 1 ]]; then
	sleep 1
	kill -INT "$cap" 2>/dev/null || true
	wait "$cap" 2>/dev/null || true
	# The marker never travels in the clear...
	! grep -aq "$marker" "$T/cap.pcap" || fail "the marker is in the capture in clear text"
	# ...and the key log is what unlocks it.
	follow() {
		tshark -r "$T/cap.pcap" -d "tcp.port==$PORT,tls" -q \
			-z follow,tls,ascii,0 "$@" 2>/dev/null
	}
	follow -o "tls.keylog_file:$T/keys.log" >"$T/with-keys.txt" || true
	follow >"$T/without-keys.txt" || true
	grep -q "$marker" "$T/with-keys.txt" ||
		fail "tshark with the key log did not find the marker"
	! grep -q "$marker" "$T/without-keys.txt" ||
		fail "tshark found the marker without the key log"
	note "capture decrypted with the key log; marker found only inside TLS"
else
	note "capturing on lo is not permitted here: decryption part not run"
fi
