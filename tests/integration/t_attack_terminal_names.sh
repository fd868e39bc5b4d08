#!/usr/bin/env bash
# t_attack_terminal_names.sh - names that attack the terminal they are shown
# on (issue 10, defect 5). A hostile server's tree holds U+009B (a
# one-character CSI) and U+202E (right-to-left override: "gpj.exe" shows as
# "exe.jpg"); its invalid WALK path holds ESC ]0; ... BEL ESC [2J (retitle,
# clear). On a terminal the checksum lines quote names like
# `ls --quoting-style=shell-escape` (checked against the real ls) with
# those characters as $'\ooo'; into a pipe they stay exactly sha256sum's,
# and `sha256sum -c` (real coreutils) accepts them for names with a newline
# and a backslash. Error lines, ls, --json, serve's log, `ca issue --name`
# and `user add` never carry the raw bytes.
. "$(dirname "$0")/lib.sh"

have_python || skip "no python3 with ssl"
command -v sha256sum >/dev/null || skip "no sha256sum"
org_init
EVIL=$LIB_DIR/evil_server.py
ONTTY=$LIB_DIR/on_tty.py
ID=$T/alice
export LANG=C.UTF-8 LC_ALL=C.UTF-8
CSI=$'\xc2\x9b'
RLO=$'\xe2\x80\xae'

# raw_free FILE WHAT: FILE holds no ESC, BEL, C1 CSI, RLO, LRI, raw 0x9b.
raw_free() {
	if LC_ALL=C grep -qaP '\x1b|\x07|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]' "$1"; then
		fail "$2: raw terminal controls reached the output: $(cat -A "$1")"
	fi
}

# --- a hostile tree: U+009B and U+202E in names ----------------------------
start_daemon evil-names evil python3 "$EVIL" -i "$T/bob" --mode termname
mkdir -p "$T/tty" "$T/pipe" "$T/json"
RC=0
python3 "$ONTTY" "$ERR" "$FERRY" get -r -i "$ID" "bob@127.0.0.1:$PORT:docs" \
	-o "$T/tty" >"$OUT" || RC=$?
[[ $RC == 0 ]] || fail "get -r on a terminal: exit $RC: $(cat "$ERR")"
raw_free "$OUT" "get -r, checksum lines on a terminal"
raw_free "$ERR" "get -r, progress and errors on a terminal"
grep -qF "/docs/'\$'\\302\\233''31mred'" "$OUT" ||
	fail "U+009B not shown as \$'\\302\\233' on a terminal: $(cat -A "$OUT")"
grep -qF "/docs/'\$'\\342\\200\\256''gpj.exe'" "$OUT" ||
	fail "U+202E not shown as \$'\\342\\200\\256' on a terminal: $(cat -A "$OUT")"
# Progress lines (stderr on the terminal too): the names with ?.
mkdir -p "$T/tty2"
RC=0
python3 "$ONTTY" --stderr-too "$ERR" "$FERRY" get -r -i "$ID" \
	"bob@127.0.0.1:$PORT:docs" -o "$T/tty2" >"$T/tty2.out" || RC=$?
[[ $RC == 0 ]] || fail "get -r, both on a terminal: exit $RC: $(cat -A "$T/tty2.out")"
grep -qa 'files' "$T/tty2.out" || fail "no progress line drawn: $(cat -A "$T/tty2.out")"
LC_ALL=C grep -qaP '\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]' "$T/tty2.out" &&
	fail "progress or checksum lines carry raw C1/bidi: $(cat -A "$T/tty2.out")"
# The file is there under its real name: only the display changed.
[[ -f $T/tty/docs/${RLO}gpj.exe && -f $T/tty/docs/${CSI}31mred ]] ||
	fail "the files were not written under their names: $(ls "$T/tty/docs" | cat -A)"

# Into a pipe: sha256sum's bytes, and sha256sum -c agrees.
cd "$T/pipe"
run "$FERRY" get -r -i "$ID" "bob@127.0.0.1:$PORT:docs"
[[ $RC == 0 ]] || fail "get -r into a pipe: exit $RC: $(cat "$ERR")"
grep -qF "  docs/${RLO}gpj.exe" "$OUT" || fail "piped line is not sha256sum's: $(cat -A "$OUT")"
sha256sum -c --quiet "$OUT" || fail "sha256sum -c refused get's piped lines"

# --json: C1 and bidi as \uXXXX, never raw.
cd "$T/json"
run "$FERRY" get -r --json -i "$ID" "bob@127.0.0.1:$PORT:docs"
[[ $RC == 0 ]] || fail "get -r --json: exit $RC: $(cat "$ERR")"
raw_free "$OUT" "get --json"
grep -qF '"docs/\u009b31mred"' "$OUT" || fail "--json: U+009B not \\u009b: $(cat -A "$OUT")"
grep -qF '"docs/\u202egpj.exe"' "$OUT" || fail "--json: U+202E not \\u202e: $(cat -A "$OUT")"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$OUT" ||
	fail "--json: not one JSON object per line"

cd "$T"

# --- a hostile WALK path: ESC ]0;PWNED BEL ESC [2J ------------------------
start_daemon evil-esc evil python3 "$EVIL" -i "$T/bob" --mode termesc
mkdir -p "$T/esc"
expect_exit 3 "$FERRY" get -r -i "$ID" "bob@127.0.0.1:$PORT:docs" -o "$T/esc"
expect_one_line_err "get -r of an invalid path"
raw_free "$ERR" "the error line naming an invalid path"
err_has "invalid path \('docs/x\?\]0;PWNED\?\?\[2Jy'\)"

# --- a real serve: names on its share, ls, its log -------------------------
printf 'one\n' >"$SHARE/${RLO}gpj.exe"
printf 'two\n' >"$SHARE/${CSI}x"
printf 'three\n' >"$SHARE/back\\slash"
# A name serve cannot offer: not listed, but the owner is told why.
printf 'nl\n' >"$SHARE/"$'bad\nname\e[2J'
start_serve
run "$FERRY" ls -i "$ID" "bob@127.0.0.1:$PORT:"
[[ $RC == 0 ]] || fail "ls: exit $RC: $(cat "$ERR")"
raw_free "$OUT" "ls output"
grep -qF '???gpj.exe' "$OUT" || fail "ls: U+202E not shown as ???: $(cat -A "$OUT")"
grep -qF '??x' "$OUT" || fail "ls: U+009B not shown as ??: $(cat -A "$OUT")"
mkdir -p "$T/got"
run "$FERRY" get -i "$ID" "bob@127.0.0.1:$PORT:${RLO}gpj.exe" -o "$T/got/"
[[ $RC == 0 ]] || fail "get of a bidi name: exit $RC: $(cat "$ERR")"
run "$FERRY" get -i "$ID" "bob@127.0.0.1:$PORT:${RLO}nothere" -o "$T/got/"
[[ $RC == 6 ]] || fail "get of a missing bidi name: exit $RC, want 6"
raw_free "$ERR" "get's error line for a missing name"
grep -q 'bad' "$OUT" && fail "ls offered a name with a newline: $(cat -A "$OUT")"
log_has "list /: 1 name not offered, as no peer could ask for it \(control characters\): 'bad\?name\?\[2J'; rename it"
raw_free "$SERVE_LOG" "serve's log"

# --- send: pipe lines for a newline and a backslash, sha256sum -c ----------
# The line names the FILE argument: a directory with a newline in it.
NL=$'n\nl'
mkdir -p "$T/up/$NL"
printf 'bs\n' >"$T/up/$NL/back\\slash"
printf 'plain\n' >"$T/up/$NL/plain"
cd "$T/up"
run "$FERRY" send -i "$ID" "$NL/back\\slash" "$NL/plain" "bob@127.0.0.1:$PORT"
[[ $RC == 0 ]] || fail "send of names with a newline and a backslash: exit $RC: $(cat "$ERR")"
[[ $(head -c 1 "$OUT") == '\' ]] || fail "send: no sha256sum escape line: $(cat -A "$OUT")"
sha256sum -c --quiet "$OUT" || fail "sha256sum -c refused send's lines: $(cat -A "$OUT")"
# get's lines name the local file: -o into that directory.
run "$FERRY" get -i "$ID" "bob@127.0.0.1:$PORT:back\\slash" -o "$T/up/$NL/again"
[[ $RC == 0 ]] || fail "get into a directory with a newline: exit $RC: $(cat "$ERR")"
sha256sum -c --quiet "$OUT" || fail "sha256sum -c refused get's line: $(cat -A "$OUT")"
cd "$T"

# On a terminal, the same names quoted exactly as ls quotes them.
mkdir -p "$T/q"
cd "$T/q"
# Names with C0 controls cannot cross the wire; their directories can.
mkdir -p $'nl\nd' $'tab\td' $'del\x7fd'
names=("my file" "it's" "a'b c" "semi;colon" "~tilde" "x~" "a@b" "${CSI}31m"
	$'x\xffy' $'caf\xc3\xa9' $'nl\nd/f1' $'tab\td/f2' $'del\x7fd/f3')
for n in "${names[@]}"; do printf '%s' "$n" >"$n"; done
RC=0
python3 "$ONTTY" "$ERR" "$FERRY" send -i "$ID" "${names[@]}" "bob@127.0.0.1:$PORT" >"$OUT" || RC=$?
[[ $RC == 0 ]] || fail "send on a terminal: exit $RC: $(cat "$ERR")"
for n in "${names[@]}"; do
	want=$(ls --quoting-style=shell-escape -d -- "$n")
	grep -qxF "$(printf '%s' "$n" | sha256sum | cut -d' ' -f1)  $want" "$OUT" ||
		fail "send on a terminal: $(printf '%q' "$n") not shown as ls shows it ($want): $(cat -A "$OUT")"
done
raw_free "$OUT" "send on a terminal"
cd "$T"

# --- names rejected on the command line ------------------------------------
run "$FERRY" ca issue --dir "$T/ca" --name "bad${RLO}exe.jpg" --out "$T/x"
[[ $RC == 2 ]] || fail "ca issue --name with U+202E: exit $RC, want 2"
expect_one_line_err "ca issue --name"
raw_free "$ERR" "ca issue --name"
err_has "bad\?\?\?exe\.jpg"
run "$FERRY" user add --db "$T/ca/ferry.db" $'bo\x1b]0;x\x07b' </dev/null
[[ $RC == 2 ]] || fail "user add with ESC: exit $RC, want 2"
raw_free "$ERR" "user add"
run "$FERRY" user add --db "$T/ca/ferry.db" "a${CSI}b" </dev/null
raw_free "$ERR" "user add with U+009B"

finish
