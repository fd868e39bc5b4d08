#!/usr/bin/env bash
# t_paths.sh - path confinement: what a peer may name is refused when it
# leads outside the share or the inbox, one line per refusal, the same
# connection carrying on; nothing is written anywhere else; existing files
# are replaced only with --force.
. "$(dirname "$0")/lib.sh"

org_init
start_serve
P=127.0.0.1:$PORT
ID=$T/alice
DL=$T/dl
mkdir -p "$DL" "$T/src" "$T/share/a"

# Outside the share, worth stealing or overwriting.
printf 'outside\n' >"$T/x"
printf 'secret\n' >"$T/secret.txt"
cp "$T/x" "$T/x.orig"
cp "$T/secret.txt" "$T/secret.orig"
# Inside the share.
printf 'good file\n' >"$T/share/good.txt"
printf 'inside\n' >"$T/share/a/inside.txt"
ln -s /etc/passwd "$T/share/passwd-link"
ln -s ../secret.txt "$T/share/rel-link"
ln -s .. "$T/share/dirlink"
long=$(printf 'n%.0s' {1..300})
touch "$T/marker"
sleep 0.01

# dl_empty WHAT: the download directory received nothing.
dl_empty() {
	[[ -z $(find "$DL" -mindepth 1 -print -quit) ]] || fail "$1: wrote into $DL: $(find "$DL" -mindepth 1)"
}

# refused CODE WHAT REMOTE-PATH: `ferry get` of one path: exit CODE, one line.
refused() {
	local code=$1 what=$2 path=$3
	expect_exit "$code" "$FERRY" get -i "$ID" "$P:$path" -o "$DL"
	expect_one_line_err "get $what"
	err_has '^ferry: get: ' "get $what"
	[[ ! -s $OUT ]] || fail "get $what: printed a hash: $(cat "$OUT")"
	dl_empty "get $what"
}

# --- get: every way out of the share is refused -------------------------
refused 5 "../x" "../x"
err_has "'\\.\\.'" "get ../x (says what is wrong)"
refused 5 "/etc/passwd" "/etc/passwd"
err_has 'absolute' "get /etc/passwd"
refused 5 "a/../../x" "a/../../x"
refused 5 "absolute symlink" "passwd-link"
err_has 'outside' "get passwd-link"
refused 5 "relative symlink out" "rel-link"
err_has 'outside' "get rel-link"
refused 5 "through a directory symlink" "dirlink/secret.txt"
refused 5 "a name with a newline" $'bad\nname'
refused 5 "a 300-byte name" "$long"
err_has '300' "get of a 300-byte name"
refused 5 "a 300-byte component" "$long/x"
refused 5 "a directory" "a"
refused 6 "a missing file" "no-such-file"

# One command, one connection: bad and good paths mixed -> the good ones
# arrive, the bad ones are refused, exit 9.
log_mark
run "$FERRY" get -i "$ID" "$P:../x" "$P:good.txt" "$P:passwd-link" \
	"$P:a/inside.txt" "$P:/etc/passwd" "$P:no-such-file" -o "$DL"
[[ $RC == 9 ]] || fail "mixed get: exit $RC, want 9: $(cat "$ERR")"
[[ $(wc -l <"$ERR") == 4 ]] || fail "mixed get: want 4 error lines: $(cat "$ERR")"
sha256sum "$DL/good.txt" "$DL/inside.txt" >"$T/want"
diff -u "$T/want" "$OUT" >&2 || fail "mixed get: stdout is not sha256sum's lines for the good files"
cmp -s "$DL/good.txt" "$T/share/good.txt" || fail "mixed get: good.txt differs"
cmp -s "$DL/inside.txt" "$T/share/a/inside.txt" || fail "mixed get: inside.txt differs"
[[ $(find "$DL" -mindepth 1 | wc -l) == 2 ]] || fail "mixed get wrote: $(find "$DL" -mindepth 1)"
wait_log "$CONN_END"
[[ $(log_new | grep -Ec "$CONN_END") == 1 ]] || fail "mixed get used more than one connection: $(log_new)"
wait_log 'closed after .*: 0 files received \(0 bytes\), 2 sent .*, 4 refused'
rm -f "$DL"/*

# The same at the wire level, for names the ferry client will not even send.
if have_python; then
	log_mark
	wire session -i "$ID" --hold 0 127.0.0.1 "$PORT" \
		--get 'bad\nname' --get "$long" --get '..' --get 'a/./inside.txt' \
		--get '' --get 'good.txt'
	[[ $RC == 0 ]] || fail "ferrywire get: exit $RC: $(cat "$OUT" "$ERR")"
	[[ $(grep -c ": ERR id=[0-9]* code=42 " "$OUT") == 5 ]] ||
		fail "wire-level bad GETs: want 5 ERR code=42 (bad name): $(cat "$OUT")"
	grep -q "^GET 'good.txt': FILE id=6 size=10" "$OUT" ||
		fail "wire-level: good.txt not served after the refusals: $(cat "$OUT")"
	grep -q "^GET 'good.txt': END sha256=$(sha "$T/share/good.txt")" "$OUT" ||
		fail "wire-level: good.txt's END hash: $(cat "$OUT")"
fi

# --- ls ------------------------------------------------------------------
for bad in ../ .. /etc a/../.. dirlink; do
	expect_exit 5 "$FERRY" ls -i "$ID" "$P:$bad"
	expect_one_line_err "ls $bad"
	[[ ! -s $OUT ]] || fail "ls $bad listed: $(cat "$OUT")"
done
expect_exit 0 "$FERRY" ls -i "$ID" "$P:a/"
grep -q ' inside.txt$' "$OUT" || fail "ls a/: $(cat "$OUT")"

# --- send: the peer only ever gets a basename ----------------------------
printf 'fine\n' >"$T/src/fine.txt"
mkdir -p "$T/src/deep/er"
(cd "$T/src/deep/er" && run "$FERRY" send -i "$ID" ../../fine.txt "$P")
[[ $RC == 0 ]] || fail "send ../../fine.txt: exit $RC: $(cat "$ERR")"
[[ $(cat "$OUT") == "$(cd "$T/src/deep/er" && sha256sum ../../fine.txt)" ]] || fail "send ../../fine.txt printed: $(cat "$OUT")"
cmp -s "$T/src/fine.txt" "$T/inbox/alice/fine.txt" || fail "send ../../fine.txt: not in inbox/alice/fine.txt"
printf 'abs\n' >"$T/src/abs.txt"
expect_exit 0 "$FERRY" send -i "$ID" "$T/src/abs.txt" "$P"
cmp -s "$T/src/abs.txt" "$T/inbox/alice/abs.txt" || fail "send of an absolute path: not in the inbox"
# A local file whose own name is unsafe is refused before it leaves.
printf 'nl\n' >"$T/src/"$'new\nline'
expect_exit 5 "$FERRY" send -i "$ID" "$T/src/"$'new\nline' "$P"
expect_one_line_err "send of a name with a newline"

# The wire level: a PUT naming a path is refused, the connection goes on.
if have_python; then
	wire session -i "$ID" --hold 0 127.0.0.1 "$PORT" \
		--put '../evil:5:5' --put 'a/evil:5:5' --put '..:5:5' --put '.:5:5' \
		--put 'evil\nx:5:5' --put '/tmp/evil:5:5' --put 'wire-ok.txt:5:5' \
		--put "$long:5:5"
	[[ $RC == 0 ]] || fail "ferrywire put: exit $RC: $(cat "$OUT" "$ERR")"
	[[ $(grep -c ": ERR id=[0-9]* code=42 " "$OUT") -ge 6 ]] ||
		fail "wire-level bad PUTs: want ERR code=42 for each: $(cat "$OUT")"
	grep -q "^PUT 'wire-ok.txt': OK id=7 size=5" "$OUT" ||
		fail "wire-level: good PUT after the refusals: $(cat "$OUT")"
	[[ -f $T/inbox/alice/wire-ok.txt ]] || fail "wire-ok.txt not in the inbox"
	# A PUT name over 255 bytes does not fit the frame's field: refused, or
	# the frame is malformed and the connection dropped. Never written.
	grep -Eq "^(PUT 'n{300}': ERR id=8 code=42 |CLOSED)" "$OUT" ||
		fail "wire-level: 300-byte PUT name: $(tail -n 1 "$OUT")"
	[[ -z $(find "$T/inbox" -name 'nnnn*') ]] || fail "300-byte PUT name was written"
	# Only this test's tree and the exact paths the PUTs named: other
	# programs may keep their own 'evil' files elsewhere in /tmp.
	[[ -z $(find "$T" -name 'evil*' 2>/dev/null) && ! -e /tmp/evil ]] ||
		fail "a refused PUT was written: $(find "$T" -name 'evil*'; ls -d /tmp/evil 2>/dev/null)"
fi

# --- existing files: only with --force -----------------------------------
printf 'version 1\n' >"$T/src/doc.txt"
expect_exit 0 "$FERRY" send -i "$ID" "$T/src/doc.txt" "$P"
printf 'version 2\n' >"$T/src/doc.txt"
expect_exit 5 "$FERRY" send -i "$ID" "$T/src/doc.txt" "$P"
expect_one_line_err "send over an existing file"
err_has 'already exists' "send over an existing file"
err_has '--force' "send over an existing file"
[[ $(cat "$T/inbox/alice/doc.txt") == "version 1" ]] || fail "a refused push changed the inbox copy"
no_part_files "$T/inbox" || fail "refused push left: $(part_files "$T/inbox")"
expect_exit 0 "$FERRY" send -i "$ID" --force "$T/src/doc.txt" "$P"
[[ $(cat "$T/inbox/alice/doc.txt") == "version 2" ]] || fail "send --force did not replace the file"
# In a batch, the existing file fails and the rest go through: exit 9.
printf 'new\n' >"$T/src/new.txt"
printf 'version 3\n' >"$T/src/doc.txt"
expect_exit 9 "$FERRY" send -i "$ID" "$T/src/doc.txt" "$T/src/new.txt" "$P"
cmp -s "$T/src/new.txt" "$T/inbox/alice/new.txt" || fail "batch: new.txt not received"

printf 'mine\n' >"$DL/good.txt"
expect_exit 5 "$FERRY" get -i "$ID" "$P:good.txt" -o "$DL"
expect_one_line_err "get over an existing local file"
grep -Eq -- 'already exists.*\(use --force to replace it\)' "$ERR" ||
	defer_fail "get over an existing local file: the message should say it exists and mention --force; got: $(cat "$ERR")"
[[ $(cat "$DL/good.txt") == "mine" ]] || fail "a refused get changed the local file"
no_part_files "$DL" || fail "refused get left: $(part_files "$DL")"
expect_exit 5 "$FERRY" get -i "$ID" "$P:good.txt" -o "$DL/good.txt"
[[ $(cat "$DL/good.txt") == "mine" ]] || fail "a refused get -o FILE changed the local file"
expect_exit 0 "$FERRY" get -i "$ID" --force "$P:good.txt" -o "$DL"
cmp -s "$DL/good.txt" "$T/share/good.txt" || fail "get --force did not replace the local file"

# --- nothing was written outside share/, inbox/ and dl/ -----------------
cmp -s "$T/x" "$T/x.orig" || fail "$T/x changed"
cmp -s "$T/secret.txt" "$T/secret.orig" || fail "$T/secret.txt changed"
stray=$(find "$T" -newer "$T/marker" ! -path "$T/share*" ! -path "$T/inbox*" \
	! -path "$DL*" ! -path "$T/src*" ! -path "$T" \
	! -name '*.log' ! -name '*.out' ! -name '*.err' ! -name want)
[[ -z $stray ]] || fail "written outside share/inbox: $stray"
stray=$(find "$T/share" -newer "$T/marker" ! -path "$T/share")
[[ -z $stray ]] || fail "the share changed: $stray"
stray=$(find "$T/inbox" -mindepth 1 ! -path "$T/inbox/alice*")
[[ -z $stray ]] || fail "inbox holds more than alice/: $stray"
stray=$(find "$T/inbox/alice" -mindepth 1 ! -type f)
[[ -z $stray ]] || fail "inbox/alice holds more than files: $stray"
is_running "$SERVE_PID" || fail "serve died"

finish
