#!/usr/bin/env bash
# t_tree_hostile.sh - get -r from a malicious server (evil_server.py: real
# TLS 1.3 with bob's certificate, HELLO with SYNC) that answers WALK with a
# hostile tree: "../x", "/etc/x", a path outside the one asked for, a file
# below a symbolic link, a path twice, a path whose directory was not sent,
# an unknown kind, a wrong count. Each is a protocol violation: exit 3, one
# line on stderr, and nothing is written (PROTOCOL.md 5.16 and ferry.1:
# every path is checked before anything is written), least of all outside
# DEST. The honest mode is the control: the same server, a correct tree.
# Links that lead out are not created; a link planted in DEST is not
# followed. Hostile answers to a resumed pull (a FILEAT at an offset not
# offered, other data under a wrong whole-file hash) leave no final file.
. "$(dirname "$0")/lib.sh"

have_python || skip "no python3 with ssl"
org_init
EVIL=$LIB_DIR/evil_server.py
ID=$T/alice

# Files that must not appear, and whether they existed before.
pre_etc_x=0
[[ -e /etc/x ]] && pre_etc_x=1
pre_tmp_x=0
[[ -e /tmp/x || -L /tmp/x ]] && pre_tmp_x=1

# check_nothing_outside MODE PARENT: PARENT holds DEST only, no x was made
# anywhere in $T, and /etc/x and /tmp/x did not appear.
check_nothing_outside() {
	local mode=$1 parent=$2
	[[ $(ls -A "$parent") == dest ]] ||
		fail "$mode: written next to DEST: $(ls -A "$parent")"
	[[ -z $(find "$T" -name x) ]] ||
		fail "$mode: a file named x appeared: $(find "$T" -name x)"
	[[ -z $(find "$T" -name other) ]] ||
		fail "$mode: 'other' appeared: $(find "$T" -name other)"
	[[ $pre_etc_x == 1 || ! -e /etc/x ]] || fail "$mode: /etc/x was created"
	[[ $pre_tmp_x == 1 || ! -e /tmp/x ]] || fail "$mode: /tmp/x was created"
}

# --- control: the evil server with an honest tree ------------------------
start_daemon evil-honest evil python3 "$EVIL" -i "$T/bob" --mode honest
run "$FERRY" ls -i "$ID" "bob@127.0.0.1:$PORT:"
[[ $RC == 0 ]] || fail "ls against evil_server: exit $RC (the handshake or HELLO is wrong): $(cat "$ERR")"
mkdir -p "$T/honest/parent/dest" "$T/honest/cwd"
(cd "$T/honest/cwd" && run "$FERRY" get -r -i "$ID" "bob@127.0.0.1:$PORT:docs" -o "$T/honest/parent/dest")
[[ $RC == 0 ]] || fail "get -r of an honest tree from evil_server: exit $RC: $(cat "$ERR")"
[[ $(cat "$T/honest/parent/dest/docs/a.txt") == "evil server content of docs/a.txt" &&
	$(cat "$T/honest/parent/dest/docs/sub/b.txt") == "evil server content of docs/sub/b.txt" ]] ||
	fail "honest tree: not received as served: $(find "$T/honest" -printf '%y %P\n')"
grep -q "WALK id=.* 'docs'" "$T/evil-honest.log" || fail "honest: the client sent no WALK for docs: $(cat "$T/evil-honest.log")"

# --- hostile trees --------------------------------------------------------
# modes and what the error should name (a grep -E regex on stderr).
declare -A why=(
	[dotdot]='\.\./x|invalid|unsafe|outside'
	[dotdotin]='docs/\.\./\.\./x|invalid|unsafe'
	[absolute]='/etc/x|invalid|absolute'
	[unasked]='other/x|outside|not below|not asked'
	[linkparent]='docs/l/x|link|directory'
	[dup]='docs/x|twice|same path|duplicate'
	[orphan]='docs/sub/x|directory'
	[badkind]='kind|docs/x'
	[badcount]='count'
	[reserved]='reserved'
)
multi_line=()
for mode in dotdot dotdotin absolute unasked linkparent dup orphan badkind badcount reserved; do
	for links in "" --links; do
		name=$mode${links:+-links}
		start_daemon "evil-$name" evil python3 "$EVIL" -i "$T/bob" --mode "$mode"
		base=$T/$name
		mkdir -p "$base/parent/dest" "$base/cwd"
		# (not in a subshell: run's $RC must reach this shell)
		pushd "$base/cwd" >/dev/null
		run "$FERRY" get -r $links -i "$ID" "bob@127.0.0.1:$PORT:docs" -o "$base/parent/dest"
		popd >/dev/null
		note "$name: exit $RC: $(tr '\n' '|' <"$ERR")"
		[[ $RC == 3 ]] || fail "$name: exit $RC, want 3 (protocol error): $(cat "$ERR")"
		grep -Eq -- "${why[$mode]}" "$ERR" ||
			defer_fail "$name: the error does not say what was wrong (/${why[$mode]}/): $(cat "$ERR")"
		[[ $(wc -l <"$ERR") == 1 ]] || multi_line+=("$name")
		check_nothing_outside "$name" "$base/parent"
		[[ -z $(ls -A "$base/cwd") ]] || fail "$name: written in the current directory: $(ls -A "$base/cwd")"
		# Nothing at all written for the tree: every path is checked before
		# anything is created.
		[[ -z $(ls -A "$base/parent/dest") ]] ||
			fail "$name: written under DEST although the tree was refused: $(cd "$base/parent/dest" && find . -printf '%y %P\n')"
		# ... and not even fetched.
		if grep -Eq 'GET' "$T/evil-$name.log"; then
			fail "$name: the client fetched files of a refused tree: $(grep GET "$T/evil-$name.log")"
		fi
		stop_pid "$DAEMON_PID" TERM 5
	done
done

[[ ${#multi_line[@]} == 0 ]] ||
	defer_fail "want a one-line error, got more lines for ${#multi_line[@]} of 20 runs (${multi_line[*]}), e.g.: $(cat "$ERR")"

# --- a valid tree with links that lead out --------------------------------
# Without --links they are skipped (exit 0); with --links they are not
# created, ok.txt is (exit 9, partial).
for links in "" --links; do
	name=badlink${links:+-links}
	start_daemon "evil-$name" evil python3 "$EVIL" -i "$T/bob" --mode badlink
	base=$T/$name
	mkdir -p "$base/parent/dest"
	run "$FERRY" get -r $links -i "$ID" "bob@127.0.0.1:$PORT:docs" -o "$base/parent/dest"
	note "$name: exit $RC: $(tr '\n' '|' <"$ERR")"
	# Links left out (no --links) or refused (--links): not all of the
	# tree arrived, exit 9 either way.
	want=9
	[[ $RC == "$want" ]] || fail "$name: exit $RC, want $want: $(cat "$ERR")"
	[[ $(cat "$base/parent/dest/docs/ok.txt") == "evil server content of docs/ok.txt" ]] ||
		fail "$name: docs/ok.txt not received"
	[[ -z $(find "$base" -type l) ]] || fail "$name: links created: $(find "$base" -type l -printf '%P -> %l\n')"
	check_nothing_outside "$name" "$base/parent"
	stop_pid "$DAEMON_PID" TERM 5
done

# --- a symbolic link planted in DEST is not followed ----------------------
# DEST/docs/sub leads to a directory outside DEST; the honest tree has
# docs/sub/b.txt: it must not land in the outside directory.
start_daemon evil-planted evil python3 "$EVIL" -i "$T/bob" --mode honest
mkdir -p "$T/planted/parent/dest/docs" "$T/planted/outside"
ln -s "$T/planted/outside" "$T/planted/parent/dest/docs/sub"
run "$FERRY" get -r -i "$ID" "bob@127.0.0.1:$PORT:docs" -o "$T/planted/parent/dest"
note "planted link: exit $RC: $(tr '\n' '|' <"$ERR")"
[[ $RC != 0 ]] || fail "planted link: exit 0, want a failure for docs/sub"
[[ -z $(ls -A "$T/planted/outside") ]] ||
	fail "planted link: written through DEST/docs/sub into the outside dir: $(ls -A "$T/planted/outside")"
[[ -L $T/planted/parent/dest/docs/sub ]] || fail "planted link: the link was replaced (not asked: no -f)"
[[ -f $T/planted/parent/dest/docs/a.txt ]] || defer_fail "planted link: docs/a.txt (unaffected) not received"
stop_pid "$DAEMON_PID" TERM 5

# --- hostile answers to a resumed pull -----------------------------------
# A partial of docs/big.bin kept from an interrupted pull from the real
# server; then the evil server answers the resuming GETAT with a FILEAT at
# a byte not offered (protocol error, exit 3), or with other data under a
# whole-file SHA-256 that cannot match (integrity, exit 7). Never a final
# file; after the integrity failure the partial is removed (PROTOCOL.md
# 7.4). And FILEAT as the answer to a plain GET: exit 3.
mkdir -p "$SHARE/docs"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$SHARE/docs/big.bin"
start_serve
REAL=$PORT
part_ge() {
	[[ -n $(find "$1" -name '.ferry-resume-*.part' -size +"$2"k 2>/dev/null) ]]
}
make_partial() {
	local dest=$1 pid
	bg "partial-$(basename "$dest")" "$FERRY" get --limit-rate 4M -i "$ID" "bob@127.0.0.1:$REAL:docs/big.bin" -o "$dest"
	pid=$BG_PID
	wait_until 20 part_ge "$dest" 4096 || fail "no partial of 4 MiB in $dest: $(cat "$T/partial-$(basename "$dest").err")"
	{
		kill -KILL -- "-$pid"
		wait_exit "$pid" 10
	} 2>/dev/null || fail "the interrupted get did not end"
	[[ ! -e $dest/big.bin ]] || fail "make_partial: the get finished before it was killed (inconclusive)"
}
for mode in resume_past resume_lie; do
	start_daemon "evil-$mode" evil python3 "$EVIL" -i "$T/bob" --mode "$mode"
	dest=$T/$mode/dest
	mkdir -p "$dest"
	make_partial "$dest"
	psize=$(find "$dest" -name '.ferry-resume-*.part' -printf '%s')
	run "$FERRY" get --json -i "$ID" "bob@127.0.0.1:$PORT:docs/big.bin" -o "$dest"
	note "$mode: partial of $psize bytes; exit $RC: $(cat "$ERR")"
	grep -q 'GETAT .* offset=[1-9]' "$T/evil-$mode.log" ||
		fail "$mode: the client did not resume (no GETAT with an offset): $(cat "$T/evil-$mode.log")"
	grep -q 'lies: FILEAT' "$T/evil-$mode.log" || fail "$mode: the evil server did not get to lie"
	want=3
	[[ $mode == resume_lie ]] && want=7
	[[ $RC == "$want" ]] || fail "$mode: exit $RC, want $want: $(cat "$ERR")"
	[[ ! -e $dest/big.bin ]] || fail "$mode: a final file was written: $(ls -l "$dest")"
	no_part_files "$dest" || fail "$mode: temp files left: $(part_files "$dest")"
	if [[ $mode == resume_lie && -n $(resume_files "$dest") ]]; then
		defer_fail "$mode: the partial that failed the whole-file SHA-256 was kept: $(find "$dest" -name '.ferry-resume-*' -printf '%f %s\n')"
	fi
	[[ $(ls -A "$T/$mode") == dest ]] || fail "$mode: written next to DEST: $(ls -A "$T/$mode")"
	# The real server still completes the file (from the partial, if kept).
	run "$FERRY" get -i "$ID" "bob@127.0.0.1:$REAL:docs/big.bin" -o "$dest"
	[[ $RC == 0 ]] || fail "$mode: the honest get afterwards: exit $RC: $(cat "$ERR")"
	cmp -s "$SHARE/docs/big.bin" "$dest/big.bin" || fail "$mode: the honest get afterwards: the file differs"
	stop_pid "$DAEMON_PID" TERM 5
done
start_daemon evil-fileat evil python3 "$EVIL" -i "$T/bob" --mode fileat_for_get
mkdir -p "$T/fileat/dest"
run "$FERRY" get -i "$ID" "bob@127.0.0.1:$PORT:docs/a.txt" -o "$T/fileat/dest"
note "fileat_for_get: exit $RC: $(cat "$ERR")"
[[ $RC == 3 ]] || fail "FILEAT answering GET: exit $RC, want 3: $(cat "$ERR")"
[[ -z $(ls -A "$T/fileat/dest") ]] || fail "FILEAT answering GET: written: $(ls -A "$T/fileat/dest")"
stop_pid "$DAEMON_PID" TERM 5

# A DEST that does not exist yet (it would become the copy): not created.
start_daemon evil-new evil python3 "$EVIL" -i "$T/bob" --mode dotdot
mkdir -p "$T/new/parent"
run "$FERRY" get -r -i "$ID" "bob@127.0.0.1:$PORT:docs" -o "$T/new/parent/dest"
[[ $RC == 3 ]] || fail "dotdot, new DEST: exit $RC, want 3: $(cat "$ERR")"
[[ -z $(ls -A "$T/new/parent") ]] ||
	fail "dotdot, new DEST: written: $(cd "$T/new/parent" && find . -printf '%y %P\n')"
[[ -z $(find "$T" -name x) ]] || fail "dotdot, new DEST: a file named x appeared: $(find "$T" -name x)"

finish
