#!/usr/bin/env bash
# t_push_pull.sh - push and pull files of 0 B, 1 B, 1 MiB and 100 MiB; both
# sides hashed with sha256sum; ferry's "<sha256>  <path>" lines must be
# exactly sha256sum's; ls shows every name with its size.
. "$(dirname "$0")/lib.sh"

org_init
start_serve
note "ferry serve (bob) on 127.0.0.1:$PORT"

src=$T/src
mkdir -p "$src" "$T/dl"
: >"$src/empty.bin"
printf 'x' >"$src/one.bin"
head -c $((1024 * 1024)) /dev/urandom >"$src/mib.bin"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$src/big.bin"
names=(empty.bin one.bin mib.bin big.bin)
declare -A want_sha want_size
for n in "${names[@]}"; do
	want_sha[$n]=$(sha "$src/$n")
	want_size[$n]=$(stat -c %s "$src/$n")
done

# --- push: all four in one command, bob verified as bob@ ----------------
t0=$(now_ms)
# In this shell, not a subshell: run sets RC, OUT and ERR for the checks.
pushd "$src" >/dev/null
run "$FERRY" send -i "$T/alice" "${names[@]}" "bob@127.0.0.1:$PORT"
popd >/dev/null
[[ $RC == 0 ]] || fail "send: exit $RC: $(cat "$ERR")"
note "push of 4 files (101 MiB) took $(($(now_ms) - t0)) ms"
[[ ! -s $ERR ]] || fail "send: unexpected stderr: $(cat "$ERR")"
(cd "$src" && sha256sum "${names[@]}") >"$T/want-push"
diff -u "$T/want-push" "$OUT" >&2 || fail "send's stdout is not sha256sum's output for the same paths"

for n in "${names[@]}"; do
	got=$T/inbox/alice/$n
	[[ -f $got ]] || fail "push: $got missing"
	[[ $(sha "$got") == "${want_sha[$n]}" ]] || fail "push: $n differs after transfer"
	[[ $(stat -c %s "$got") == "${want_size[$n]}" ]] || fail "push: $n has the wrong size"
	log_has "received $n \\(${want_size[$n]} bytes, sha256 ${want_sha[$n]}\\)"
done
no_part_files "$T/inbox" || fail "push left temp files: $(part_files "$T/inbox")"

# Absolute source paths: the peer gets the basename, stdout keeps the path.
rm -f "$T/inbox/alice/one.bin"
expect_exit 0 "$FERRY" send -i "$T/alice" "$src/one.bin" "127.0.0.1:$PORT"
[[ $(cat "$OUT") == "$(sha256sum "$src/one.bin")" ]] || fail "send with an absolute path printed: $(cat "$OUT")"
cmp -s "$src/one.bin" "$T/inbox/alice/one.bin" || fail "absolute-path push: content differs"

# --- pull: the share holds the same files (hard links, no extra space) ---
for n in "${names[@]}"; do
	ln "$src/$n" "$T/share/$n"
done
mkdir -p "$T/share/sub/dir"
printf 'nested\n' >"$T/share/sub/dir/nested.txt"

t0=$(now_ms)
(cd "$T" && run "$FERRY" get -i "$T/alice" \
	"bob@127.0.0.1:$PORT:empty.bin" "bob@127.0.0.1:$PORT:one.bin" \
	"bob@127.0.0.1:$PORT:mib.bin" "bob@127.0.0.1:$PORT:big.bin" \
	"bob@127.0.0.1:$PORT:sub/dir/nested.txt" -o dl)
[[ $RC == 0 ]] || fail "get: exit $RC: $(cat "$ERR")"
note "pull of 5 files (101 MiB) took $(($(now_ms) - t0)) ms"
[[ ! -s $ERR ]] || fail "get: unexpected stderr: $(cat "$ERR")"
(cd "$T" && sha256sum dl/empty.bin dl/one.bin dl/mib.bin dl/big.bin dl/nested.txt) >"$T/want-pull"
diff -u "$T/want-pull" "$OUT" >&2 || fail "get's stdout is not sha256sum's output for the same paths"
for n in "${names[@]}"; do
	[[ $(sha "$T/dl/$n") == "${want_sha[$n]}" ]] || fail "pull: $n differs after transfer"
	log_has "sent $n \\(${want_size[$n]} bytes, sha256 ${want_sha[$n]}\\)"
done
cmp -s "$T/dl/nested.txt" "$T/share/sub/dir/nested.txt" || fail "pull: sub/dir/nested.txt differs"
no_part_files "$T/dl" || fail "pull left temp files: $(part_files "$T/dl")"

# One file with -o naming the file itself, from cwd (the default dest).
(cd "$T/dl" && run "$FERRY" get -i "$T/alice" "127.0.0.1:$PORT:mib.bin" -o renamed.bin)
[[ $RC == 0 ]] || fail "get -o FILE: exit $RC: $(cat "$ERR")"
[[ $(cat "$OUT") == "$(cd "$T/dl" && sha256sum renamed.bin)" ]] || fail "get -o FILE printed: $(cat "$OUT")"
cmp -s "$T/dl/renamed.bin" "$src/mib.bin" || fail "get -o FILE: content differs"

# --- ls: every name with its size --------------------------------------
expect_exit 0 "$FERRY" ls -i "$T/alice" "bob@127.0.0.1:$PORT"
cp "$OUT" "$T/ls.out"
for n in "${names[@]}"; do
	size=${want_size[$n]}
	awk -v n="$n" -v s="$size" '$NF == n && $2 == s && $1 ~ /^-/ { found = 1 } END { exit !found }' \
		"$T/ls.out" || fail "ls lacks '$n' with size $size: $(cat "$T/ls.out")"
done
grep -Eq '^d.* sub/$' "$T/ls.out" || fail "ls does not show sub/ as a directory: $(cat "$T/ls.out")"
[[ $(wc -l <"$T/ls.out") == 5 ]] || fail "ls: want 5 entries: $(cat "$T/ls.out")"
expect_exit 0 "$FERRY" ls -i "$T/alice" "127.0.0.1:$PORT:sub/dir/"
grep -Eq "^-.* 7  .* nested.txt\$" "$OUT" || fail "ls sub/dir: $(cat "$OUT")"

finish
