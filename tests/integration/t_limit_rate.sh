#!/usr/bin/env bash
# t_limit_rate.sh - --limit-rate caps send and get: 4 MiB at 2M (2 MiB/s)
# take at least 1.5 s (2 s by the bucket) and not absurdly long; bad rates
# are usage errors.
. "$(dirname "$0")/lib.sh"

org_init
start_serve
head -c $((4 * 1024 * 1024)) /dev/urandom >"$T/four.bin"
cp "$T/four.bin" "$T/share/four.bin"
mkdir -p "$T/dl"

t0=$(now_ms)
expect_exit 0 "$FERRY" send --limit-rate 2M -i "$T/alice" "$T/four.bin" "bob@127.0.0.1:$PORT"
ms=$(($(now_ms) - t0))
note "send of 4 MiB at 2M took $ms ms"
((ms >= 1500)) || fail "send --limit-rate 2M: 4 MiB in $ms ms"
((ms < 20000)) || fail "send --limit-rate 2M: 4 MiB took $ms ms"
[[ $(sha "$T/inbox/alice/four.bin") == $(sha "$T/four.bin") ]] || fail "send --limit-rate: content differs"

t0=$(now_ms)
expect_exit 0 "$FERRY" get --limit-rate 2048K -i "$T/alice" "bob@127.0.0.1:$PORT:four.bin" -o "$T/dl"
ms=$(($(now_ms) - t0))
note "get of 4 MiB at 2048K took $ms ms"
((ms >= 1500)) || fail "get --limit-rate 2048K: 4 MiB in $ms ms"
((ms < 20000)) || fail "get --limit-rate 2048K: 4 MiB took $ms ms"
cmp -s "$T/dl/four.bin" "$T/four.bin" || fail "get --limit-rate: content differs"

# Without a limit the same is quick (the limit, not the machine, was slow).
t0=$(now_ms)
expect_exit 0 "$FERRY" send -f -i "$T/alice" "$T/four.bin" "bob@127.0.0.1:$PORT"
note "send of 4 MiB without a limit took $(($(now_ms) - t0)) ms"

for bad in 0 1K 5X -1M 2MB "" 99999999G; do
	expect_exit 2 "$FERRY" send --limit-rate "$bad" -i "$T/alice" "$T/four.bin" "bob@127.0.0.1:$PORT"
	expect_one_line_err "send --limit-rate '$bad'"
	err_has "limit-rate"
done
expect_exit 2 "$FERRY" get --limit-rate 10 -i "$T/alice" "bob@127.0.0.1:$PORT:four.bin"

finish
