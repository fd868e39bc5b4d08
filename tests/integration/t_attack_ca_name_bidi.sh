#!/usr/bin/env bash
# t_attack_ca_name_bidi.sh - an authd whose CA is named with a right-to-left
# override (U+202E) and a C1 CSI (U+009B): `ferry enroll` without
# --fingerprint asks on the terminal whether to trust "the CA <name>"; the
# question must show those characters as ?, never raw (the name would
# reorder or restyle the very line that asks for trust).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"

have_python || skip "no python3"
RLO=$'\xe2\x80\xae'
CSI=$'\xc2\x9b'
"$FERRY" ca init --dir "$T/ca" --name "Acme ${RLO}AC tooR${CSI}1m" >"$T/ca-init.out" 2>&1 ||
	fail "ca init with a bidi name: $(cat "$T/ca-init.out")"
printf 'alice-secret-pw\n' | "$FERRY" user add --db "$T/ca/ferry.db" --password-stdin alice >/dev/null 2>&1 ||
	fail "user add"
start_authd

RC=0
python3 "$LIB_DIR/on_tty.py" --ctty --answer $'n\n' "$ERR" \
	"$FERRY" enroll "$URL" --user alice -i "$T/alice" --password-stdin >"$OUT" || RC=$?
[[ $RC == 4 ]] || fail "enroll answered 'n': exit $RC, want 4: $(cat "$ERR")"
grep -q 'offers the CA' "$OUT" || fail "no question on the terminal: $(cat -A "$OUT")"
grep -qF "Acme ???AC tooR??1m" "$OUT" || fail "the CA's name not shown with ?: $(cat -A "$OUT")"
if LC_ALL=C grep -qaP '\xe2\x80\xae|\xc2\x9b' "$OUT" "$ERR"; then
	fail "raw U+202E or U+009B reached the terminal: $(cat -A "$OUT")"
fi
[[ ! -e $T/alice/key.pem ]] || fail "a refused CA left a key"

finish
