#!/usr/bin/env bash
# t_attack_planted_partial.sh - a partial file (.ferry-resume-<hash>.part,
# whose name anyone can compute) that someone else put in the destination
# is never adopted: get resumes only from a regular file with one link,
# owned by the user running ferry, mode 0600. Otherwise it starts over with
# a one-line note, never writing through the planted file:
#   - a partial planted by user nobody in a world-writable sticky directory
#     (root only: setpriv): the verified file is root's, nobody cannot
#     change it afterwards;
#   - a hard link to a victim file: the victim keeps its content;
#   - a partial of ours with mode 0644.
# Each time the file arrives with the right SHA-256. The same rule holds in
# serve's inbox: a hard-linked partial there is not written through either.
. "$(dirname "$0")/lib.sh"

org_init
start_serve
P=bob@127.0.0.1:$PORT
MIB=$((1024 * 1024))
head -c $((3 * MIB)) /dev/urandom >"$SHARE/big.bin"
WANT=$(sha "$SHARE/big.bin")
# PROTOCOL.md 7.4: the first 16 hex digits of SHA-256 of the final name.
PART=.ferry-resume-$(printf '%s' big.bin | sha256sum | cut -c1-16).part

# get_into DIR: pulls big.bin into DIR; exit 0, right SHA-256.
get_into() {
	expect_exit 0 "$FERRY" get -q -i "$T/alice" "$P:big.bin" -o "$1"
	[[ $(sha "$1/big.bin") == "$WANT" ]] || fail "$1/big.bin: wrong SHA-256"
	grep -q "$WANT  $1/big.bin" "$OUT" || fail "no checksum line: $(cat "$OUT")"
}

# one_note REGEX WHAT: stderr is exactly one line, and it says why.
one_note() {
	expect_one_line_err "$2"
	err_has "$1" "$2"
}

# --- a hard link to a victim file ---------------------------------------
mkdir -p "$T/hl"
head -c $((2 * MIB)) /dev/urandom >"$T/victim"
chmod 0600 "$T/victim"
VICTIM=$(sha "$T/victim")
ln "$T/victim" "$T/hl/$PART"
get_into "$T/hl"
[[ $(sha "$T/victim") == "$VICTIM" ]] || fail "the hard-linked victim was written through"
[[ $(stat -c %h "$T/victim") == 1 ]] || fail "the planted link is still there"
[[ ! -e $T/hl/$PART ]] || fail "a partial is left in $T/hl"
one_note "big.bin: not resuming from $PART: it has 2 hard links; starting over" "hard-linked partial"

# --- our own partial, but readable by others (0644) ---------------------
mkdir -p "$T/mode"
head -c $((2 * MIB)) "$SHARE/big.bin" >"$T/mode/$PART"
chmod 0644 "$T/mode/$PART"
get_into "$T/mode"
one_note "not resuming from $PART: its mode is 0644, not 0600; starting over" "0644 partial"

# --- planted by another user in a sticky world-writable directory -------
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null && getent passwd nobody >/dev/null; then
	AS_NOBODY=(setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups)
	chmod 0711 "$T"
	mkdir -m 1777 "$T/drop"
	# nobody plants the true first 2 MiB: adopting it would even verify.
	head -c $((2 * MIB)) "$SHARE/big.bin" >"$T/prefix"
	chmod 0644 "$T/prefix"
	"${AS_NOBODY[@]}" sh -c "umask 077; cat '$T/prefix' >'$T/drop/$PART'" ||
		fail "nobody could not plant the partial"
	[[ $(stat -c %U "$T/drop/$PART") == nobody ]] || fail "the plant is not nobody's"
	get_into "$T/drop"
	[[ $(stat -c %u "$T/drop/big.bin") == 0 ]] ||
		fail "the verified file belongs to uid $(stat -c %u "$T/drop/big.bin")"
	one_note "not resuming from $PART: it belongs to uid [0-9]+, not to uid 0; starting over" "nobody's partial"
	# nobody cannot change it after ferry printed its SHA-256.
	if "${AS_NOBODY[@]}" sh -c "printf x >>'$T/drop/big.bin'" 2>/dev/null; then
		fail "nobody could write to the verified file"
	fi
	[[ $(sha "$T/drop/big.bin") == "$WANT" ]] || fail "the verified file changed"
else
	note "not root (or no setpriv/nobody): the other user's plant is not tried"
fi

# --- the same rule in serve's inbox --------------------------------------
mkdir -p "$T/src" "$INBOX/alice"
cp "$SHARE/big.bin" "$T/src/big.bin"
head -c $((2 * MIB)) /dev/urandom >"$T/victim2"
chmod 0600 "$T/victim2"
VICTIM2=$(sha "$T/victim2")
ln "$T/victim2" "$INBOX/alice/$PART"
log_mark
expect_exit 0 "$FERRY" send -q -i "$T/alice" "$T/src/big.bin" "$P"
[[ $(sha "$INBOX/alice/big.bin") == "$WANT" ]] || fail "pushed big.bin: wrong SHA-256"
[[ $(sha "$T/victim2") == "$VICTIM2" ]] || fail "serve wrote through a hard-linked partial"
wait_log "alice.*big.bin: not resuming from $PART: it has 2 hard links; starting over"

finish
