#!/usr/bin/env bash
# ferry serve and the clients under valgrind memcheck: a push, a pull, a
# listing, trees both ways (with a link), the same push again (up to date),
# a resumed pull, a refused request and a rejected stranger leave no memory errors
# and no definite leaks in any process (the daemon's children included).
. "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || skip "valgrind is not installed"
# An ASan build (make check-asan) has its own shadow memory: valgrind cannot
# run it, and ASan is checking the same things there.
ldd "$FERRY" 2>/dev/null | grep -q libasan && skip "ferry is built with AddressSanitizer"

VG=(valgrind -q --error-exitcode=99 --leak-check=full
	--errors-for-leak-kinds=definite --show-leak-kinds=definite
	--log-file="$T/vg.%p.log")
org_init
head -c 300000 /dev/urandom >"$SHARE/pull.bin"
head -c 200000 /dev/urandom >"$T/push.bin"

# The daemon under valgrind (start_daemon waits up to 5 s for it).
start_daemon serve serve "${VG[@]}" "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/bob" \
	--listen 127.0.0.1:0 --share "$SHARE" --inbox "$INBOX"

CMD_TIMEOUT=120
expect_exit 0 "${VG[@]}" "$FERRY" send -i "$T/alice" "$T/push.bin" "bob@127.0.0.1:$PORT"
expect_exit 0 "${VG[@]}" "$FERRY" get -i "$T/alice" "127.0.0.1:$PORT:pull.bin" -o "$T/got.bin"
expect_exit 0 "${VG[@]}" "$FERRY" ls -i "$T/alice" "127.0.0.1:$PORT"
mkdir -p "$T/tree/a/b" "$T/tree/empty" "$SHARE/stree/sub"
printf 'x\n' >"$T/tree/a/b/f"
ln -s a/b/f "$T/tree/l"
cp "$T/push.bin" "$SHARE/stree/sub/"
ln -s sub "$SHARE/stree/l"
expect_exit 0 "${VG[@]}" "$FERRY" send -r --links -i "$T/alice" "$T/tree" "bob@127.0.0.1:$PORT"
expect_exit 0 "${VG[@]}" "$FERRY" send -i "$T/alice" "$T/push.bin" "bob@127.0.0.1:$PORT"
expect_exit 0 "${VG[@]}" "$FERRY" get -r --links -i "$T/alice" "127.0.0.1:$PORT:stree" -o "$T/gtree"
head -c 2000000 /dev/urandom >"$SHARE/big.bin"
part=$T/.ferry-resume-$(printf big.bin | sha256sum | cut -c1-16).part
head -c 1000000 "$SHARE/big.bin" >"$part"
chmod 0600 "$part" # as ferry makes them: a partial readable by others is not resumed
expect_exit 0 "${VG[@]}" "$FERRY" get --json -i "$T/alice" "127.0.0.1:$PORT:big.bin" -o "$T"
grep -q '"resumed_from":1000000' "$OUT" || fail "the pull did not resume: $(cat "$OUT")"
[[ $(sha "$T/big.bin") == $(sha "$SHARE/big.bin") ]] || fail "resumed pull differs"
expect_exit 5 "${VG[@]}" "$FERRY" get -i "$T/alice" "127.0.0.1:$PORT:../etc/passwd" -o "$T/x"
expect_exit 4 "${VG[@]}" "$FERRY" send -i "$T/alice" "$T/push.bin" "carol@127.0.0.1:$PORT"
[[ $(sha "$T/got.bin") == $(sha "$SHARE/pull.bin") ]] || fail "pulled file differs"
[[ $(sha "$INBOX/alice/push.bin") == $(sha "$T/push.bin") ]] || fail "pushed file differs"

stop_pid "$DAEMON_PID" TERM 30
bad=0
for log in "$T"/vg.*.log; do
	# valgrind 3.19 predates openat2(2): it answers ENOSYS, ferry takes its
	# component-walk fallback, and valgrind says so. That note is no error.
	# Likewise seccomp(2) (317) and Landlock (444-446): under valgrind serve
	# says it cannot apply them and goes on (sandbox.md).
	if grep -v -E -e 'unhandled amd64-linux syscall: (437|317|444|445|446)$' \
		-e 'You may be able to write' \
		-e README_MISSING_SYSCALL -e 'Nevertheless we consider' \
		-e 'valgrind.org/support/bug_reports' "$log" | grep -q .; then
		echo "valgrind reported in $(basename "$log"):" >&2
		cat "$log" >&2
		bad=1
	fi
done
[[ $bad == 0 ]] || fail "valgrind found memory errors or leaks"
note "$(ls "$T"/vg.*.log | wc -l) processes checked, all clean"
