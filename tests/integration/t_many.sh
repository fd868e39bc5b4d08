#!/usr/bin/env bash
# t_many.sh - 1,000 small files (1-4 KiB) pushed in ONE `ferry send` and
# pulled in ONE `ferry get`: every file arrives with the right SHA-256, over
# one connection each way. Elapsed times are reported, with only a generous
# sanity bound.
. "$(dirname "$0")/lib.sh"

N=1000
org_init
start_serve

src=$T/src
mkdir -p "$src" "$T/dl"
# 1-4 KiB of random bytes each, cut from one random blob.
head -c $((N * 4096)) /dev/urandom >"$T/blob"
files=()
for ((i = 1; i <= N; i++)); do
	files+=("$(printf 'f%04d.bin' "$i")")
done
size_of() { echo $((1024 + ($1 * 7919) % 3073)); }
t0=$(now_ms)
if have_python; then # one process instead of 1,000
	python3 - "$T/blob" "$src" "$N" <<'PY'
import sys
blob, src, n = open(sys.argv[1], "rb").read(), sys.argv[2], int(sys.argv[3])
for i in range(1, n + 1):
    size = 1024 + (i * 7919) % 3073
    with open("%s/f%04d.bin" % (src, i), "wb") as f:
        f.write(blob[(i - 1) * 4096:(i - 1) * 4096 + size])
PY
else
	for ((i = 1; i <= N; i++)); do
		dd if="$T/blob" of="$src/${files[i - 1]}" iflag=skip_bytes,count_bytes \
			skip=$(((i - 1) * 4096)) count="$(size_of "$i")" status=none
	done
fi
note "made $N files in $(($(now_ms) - t0)) ms"
[[ $(stat -c %s "$src/f0001.bin") == "$(size_of 1)" && $(stat -c %s "$src/f1000.bin") == "$(size_of 1000)" ]] ||
	fail "source files have the wrong sizes"
(cd "$src" && sha256sum "${files[@]}") >"$T/want"
[[ $(wc -l <"$T/want") == "$N" ]] || fail "could not make $N files"

# --- one send, 1,000 files ---------------------------------------------
t0=$(now_ms)
(cd "$src" && run "$FERRY" send -i "$T/alice" "${files[@]}" "bob@127.0.0.1:$PORT")
push_ms=$(($(now_ms) - t0))
[[ $RC == 0 ]] || fail "send of $N files: exit $RC: $(head -n 5 "$ERR")"
note "push of $N files in one command: $push_ms ms"
diff -u "$T/want" "$OUT" >"$T/diff" || {
	head -n 20 "$T/diff" >&2
	fail "send's stdout differs from sha256sum of the sources"
}
(cd "$T/inbox/alice" && sha256sum "${files[@]}") >"$T/got" 2>&1 ||
	fail "files missing in the inbox: $(grep -c 'No such' "$T/got") of $N"
diff -q "$T/want" "$T/got" >/dev/null || fail "inbox content differs from the sources"
[[ $(find "$T/inbox/alice" -type f | wc -l) == "$N" ]] || fail "inbox holds $(find "$T/inbox/alice" -type f | wc -l) files, want $N"
[[ $(grep -c ': received f[0-9]*\.bin ' "$SERVE_LOG") == "$N" ]] || fail "server logged $(grep -c ': received ' "$SERVE_LOG") receptions"
log_has "closed after .*: $N files received"
(( push_ms < 60000 )) || fail "push of $N small files took $push_ms ms"

# --- one get, 1,000 files ----------------------------------------------
mkdir -p "$T/share/many"
(cd "$src" && cp -l "${files[@]}" "$T/share/many/")
args=()
for f in "${files[@]}"; do
	args+=("bob@127.0.0.1:$PORT:many/$f")
done
t0=$(now_ms)
(cd "$T/dl" && run "$FERRY" get -i "$T/alice" "${args[@]}")
pull_ms=$(($(now_ms) - t0))
[[ $RC == 0 ]] || fail "get of $N files: exit $RC: $(head -n 5 "$ERR")"
note "pull of $N files in one command: $pull_ms ms"
diff -u "$T/want" "$OUT" >"$T/diff" || {
	head -n 20 "$T/diff" >&2
	fail "get's stdout differs from sha256sum of the sources"
}
(cd "$T/dl" && sha256sum "${files[@]}") >"$T/got" 2>&1 || fail "files missing after the pull"
diff -q "$T/want" "$T/got" >/dev/null || fail "pulled content differs from the share"
no_part_files "$T/dl" "$T/inbox" || fail "temp files left: $(part_files "$T/dl" "$T/inbox" | head -n 3)"
# All of it over one connection.
[[ $(grep -c ': sent many/' "$SERVE_LOG") == "$N" ]] || fail "server logged $(grep -c ': sent many/' "$SERVE_LOG") sends"
log_has "closed after .*: 0 files received \\(0 bytes\\), $N sent"
(( pull_ms < 60000 )) || fail "pull of $N small files took $pull_ms ms"

finish "push $push_ms ms, pull $pull_ms ms for $N files"
