#!/usr/bin/env bash
# t_faults.sh - a push and a pull of an 8 MiB file through faultproxy.py,
# one network fault each, after 3 MiB in the direction the data flows:
#
#   flip       one byte of a TLS application-data record flipped: a TLS
#              error naming the bad record MAC, never bad data
#   fin, rst   the connection cut (FIN, RST)
#   blackhole  silence, never closed; the client gives up after --timeout 2
#   throttle   1 MB/s (a 2 MiB file): slow, but verified
#   latency    100 ms each way: verified
#
# Each transfer ends either verified (the right SHA-256 under the final
# name) or with one clear line on stderr and exit 3 (ferry.1 EXIT STATUS),
# nothing under the final name, no temporary file left; then the same
# command straight to serve resumes from the kept partial (resumed_from at
# least 1 MiB, at most 3 MiB; after an RST, which discards what the
# receiver had not read, anything up to 3 MiB) and ends verified. serve answers a direct
# ls during the black hole and the throttled transfers; a pulling client's
# socket has TCP keepalive on.
. "$(dirname "$0")/lib.sh"

have_python || skip "no python3"
org_init
start_serve
ID=$T/alice
P=bob@127.0.0.1:$PORT
MIB=$((1024 * 1024))
mkdir -p "$T/src" "$T/dl"
head -c $((8 * MIB)) /dev/urandom >"$T/src/f.bin"
head -c $((2 * MIB)) /dev/urandom >"$T/src/slow.bin"
for f in f.bin slow.bin; do
	ln "$T/src/$f" "$SHARE/$f"
done
PROXY=$LIB_DIR/faultproxy.py
AFTER=$((3 * MIB))

# Every proxy starts at once (Python takes a while to start): NAME ARGS.
declare -A PROXY_PIDS
start_proxy() {
	local name=$1
	shift
	bg "$name" python3 "$PROXY" --target "127.0.0.1:$PORT" "$@"
	PROXY_PIDS[$name]=$BG_PID
}
for dir in push pull; do
	d=c2s
	[[ $dir == pull ]] && d=s2c
	for fault in flip fin rst blackhole; do
		start_proxy "$dir-$fault" --fault "$fault" --after "$AFTER" --dir "$d"
	done
	start_proxy "$dir-throttle" --fault throttle --rate 1000000
	start_proxy "$dir-latency" --fault latency --delay 0.1
done

# proxy NAME: that proxy's port in PPORT, its pid in PROXY_PID.
proxy() {
	local name=$1
	PROXY_PID=${PROXY_PIDS[$name]}
	wait_until 10 grep -qs 'listening on' "$T/$name.out" || fail "$name did not start: $(cat "$T/$name.err")"
	PPORT=$(sed -n 's/^listening on //p' "$T/$name.out")
}

json_field() {
	sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$OUT" | head -n1
}

# clean: no file, partial or temp file of the last case left.
clean() {
	rm -rf "${INBOX:?}/alice" "$T/dl"
	mkdir -p "$T/dl"
}

# transfer DIR FILE VIA: send (push) or get (pull) FILE through port VIA.
transfer() {
	local dir=$1 file=$2 via=$3
	shift 3
	if [[ $dir == push ]]; then
		run "$FERRY" send -i "$ID" --json "$@" "$T/src/$file" "bob@127.0.0.1:$via"
	else
		run "$FERRY" get -i "$ID" --json "$@" -o "$T/dl/$file" "bob@127.0.0.1:$via:$file"
	fi
}

# landed DIR FILE: where FILE lands for a push or a pull.
landed() {
	if [[ $1 == push ]]; then echo "$INBOX/alice/$2"; else echo "$T/dl/$2"; fi
}

verified() {
	local dest
	dest=$(landed "$1" "$2")
	[[ -f $dest && $(sha "$dest") == $(sha "$T/src/$2") ]] || fail "$1 $2 ($3): the file is missing or differs"
	grep -q "\"sha256\":\"$(sha "$T/src/$2")\"" "$OUT" || fail "$1 $2 ($3): no verified digest printed: $(cat "$OUT")"
}

# broken DIR FAULT WANT: the transfer through the fault failed as it must.
broken() {
	local dir=$1 fault=$2 want=$3 dest
	dest=$(landed "$dir" f.bin)
	[[ $RC == 3 ]] || fail "$dir through $fault: exit $RC, want 3: $(cat "$ERR")"
	expect_one_line_err "$dir through $fault"
	err_has "$want" "$dir through $fault"
	[[ ! -e $dest ]] || fail "$dir through $fault: something landed under the final name"
	no_part_files "$INBOX" "$T/dl" || fail "$dir through $fault: temporary files left: $(part_files "$INBOX" "$T/dl")"
	note "$dir through $fault: exit 3: $(cat "$ERR")"
}

# resumed DIR FAULT: the same transfer straight to serve resumes, verified.
resumed() {
	local dir=$1 fault=$2 from min=$MIB
	# An RST throws away what the receiver had not read yet: any amount.
	[[ $fault == rst ]] && min=0
	transfer "$dir" f.bin "$PORT" --timeout 10
	[[ $RC == 0 ]] || fail "$dir after $fault: the direct retry failed (exit $RC): $(cat "$ERR")"
	verified "$dir" f.bin "after $fault"
	from=$(json_field resumed_from)
	[[ -n $from && $from -ge $min && $from -le $AFTER ]] ||
		fail "$dir after $fault: resumed_from ${from:-none}, want $min to $AFTER: $(cat "$OUT")"
	note "$dir after $fault: resumed from byte $from, verified"
	wait_until 5 eval '[[ -z $(resume_files "$INBOX" "$T/dl") ]]' ||
		fail "$dir after $fault: a partial stays: $(resume_files "$INBOX" "$T/dl")"
	no_part_files "$INBOX" "$T/dl" || fail "$dir after $fault: temporary files left"
}

for dir in push pull; do
	for fault in flip fin rst blackhole; do
		clean
		proxy "$dir-$fault"
		t0=$(now_ms)
		case $fault in
		flip)
			transfer "$dir" f.bin "$PPORT" --timeout 5
			grep -q '^flip' "$T/$dir-$fault.err" || fail "$dir: the proxy flipped nothing"
			# The receiver of the flipped record finds a bad MAC; a pushing
			# client may learn only the reset that follows its alert.
			if [[ $dir == push ]]; then
				broken "$dir" "$fault" 'bad record mac|closed the connection'
				wait_until 5 grep -q 'bad record mac' "$SERVE_LOG" || fail "push: serve did not log the bad record MAC"
			else
				broken "$dir" "$fault" 'bad record mac'
			fi
			;;
		fin | rst)
			transfer "$dir" f.bin "$PPORT" --timeout 5
			grep -q "^cut ($fault)" "$T/$dir-$fault.err" || fail "$dir: the proxy did not cut"
			broken "$dir" "$fault" 'closed the connection|reset|TLS'
			;;
		blackhole)
			transfer "$dir" f.bin "$PPORT" --timeout 2
			grep -q '^blackhole' "$T/$dir-$fault.err" || fail "$dir: the proxy never went silent"
			[[ $(($(now_ms) - t0)) -lt 10000 ]] || fail "$dir: over 10 s to give up with --timeout 2"
			broken "$dir" "$fault" 'no answer for 2 s|timed out'
			# The stuck session of serve does not stop others.
			expect_exit 0 "$FERRY" ls -i "$ID" --timeout 5 "$P"
			;;
		esac
		resumed "$dir" "$fault"
		stop_pid "$PROXY_PID"
	done

	# Slow but sound: 1 MB/s, and 100 ms each way.
	clean
	proxy "$dir-throttle"
	t0=$(now_ms)
	if [[ $dir == push ]]; then
		bg "$dir-slow" "$FERRY" send -i "$ID" --json --timeout 5 "$T/src/slow.bin" "bob@127.0.0.1:$PPORT"
	else
		bg "$dir-slow" "$FERRY" get -i "$ID" --json --timeout 5 -o "$T/dl/slow.bin" "bob@127.0.0.1:$PPORT:slow.bin"
	fi
	slow=$BG_PID
	sleep 0.5
	is_running "$slow" || fail "$dir throttled: done in 0.5 s (inconclusive): $(cat "$T/$dir-slow.err")"
	expect_exit 0 "$FERRY" ls -i "$ID" --timeout 5 "$P"
	# The receiving end, its send queue empty, shows its keepalive timer.
	if [[ $dir == pull ]] && command -v ss >/dev/null; then
		ss -tno state established "( dport = :$PPORT )" | grep -q 'timer:(keepalive' ||
			fail "the client's connection has no keepalive timer: $(ss -tno state established "( dport = :$PPORT )")"
	fi
	wait_exit "$slow" 15 || fail "$dir throttled: still running after 15 s"
	ms=$(($(now_ms) - t0))
	[[ $WAIT_RC == 0 ]] || fail "$dir throttled: exit $WAIT_RC: $(cat "$T/$dir-slow.err")"
	cp "$T/$dir-slow.out" "$OUT"
	verified "$dir" slow.bin throttle
	[[ $ms -ge 1800 ]] || fail "$dir throttled: 2 MiB in $ms ms, faster than 1 MB/s"
	note "$dir throttled to 1 MB/s: 2 MiB verified in $ms ms"
	stop_pid "$PROXY_PID"

	clean
	proxy "$dir-latency"
	t0=$(now_ms)
	transfer "$dir" f.bin "$PPORT" --timeout 5
	ms=$(($(now_ms) - t0))
	[[ $RC == 0 ]] || fail "$dir with 100 ms latency: exit $RC: $(cat "$ERR")"
	verified "$dir" f.bin latency
	[[ $ms -ge 400 ]] || fail "$dir with 100 ms latency took only $ms ms: no latency added"
	note "$dir with 100 ms latency each way: verified in $ms ms"
	stop_pid "$PROXY_PID"
done
finish
