#!/usr/bin/env bash
# t_access.sh - who may do what on ferry serve: [serve] and [read PATH] in
# the serve's configuration file, --members / --allow-read / --allow-push
# over it, groups from the certificate (ca issue --group). A refusal is an
# ERR the client prints as "bob refuses: ..." and serve logs; it does not
# end the session. Links in the share do not lead around a read rule.
. "$(dirname "$0")/lib.sh"

org_init
issue carol
issue frank --group finance --group ops
issue grace --group sales
issue eve

mkdir -p "$T/share/payroll/2026" "$T/dl"
printf 'public\n' >"$T/share/pub.txt"
printf 'alice 100\n' >"$T/share/payroll/salaries.txt"
printf 'q1\n' >"$T/share/payroll/2026/q1.txt"
ln -s payroll "$T/share/pay-link"
ln -s payroll/salaries.txt "$T/share/sal-link"
printf 'hello\n' >"$T/hello.txt"

# The default configuration file of the serve's identity.
cat >"$T/bob/config" <<'CFG'
# who may do what on bob
[serve]
members = alice, carol, frank, grace
allow-push = alice, group:finance

[read payroll/]
allow = alice, group:finance
CFG
start_serve

# alice, named in the rule, reads payroll.
expect_exit 0 "$FERRY" ls -i "$T/alice" "bob@127.0.0.1:$PORT:payroll"
grep -q ' salaries.txt$' "$OUT" || fail "alice ls payroll: $(cat "$OUT")"
expect_exit 0 "$FERRY" get -i "$T/alice" "bob@127.0.0.1:$PORT:payroll/salaries.txt" -o "$T/dl"
cmp -s "$T/dl/salaries.txt" "$T/share/payroll/salaries.txt" || fail "alice get: content differs"
rm -f "$T/dl/salaries.txt"

# frank is in group finance by his certificate alone: he reads it too.
expect_exit 0 "$FERRY" get -i "$T/frank" "bob@127.0.0.1:$PORT:payroll/salaries.txt" -o "$T/dl"
rm -f "$T/dl/salaries.txt"

# carol (no group) and grace (another group) are refused, in one line
# naming the path, with the documented exit code 5.
log_mark
for who in carol grace; do
	expect_exit 5 "$FERRY" get -i "$T/$who" "bob@127.0.0.1:$PORT:payroll/salaries.txt" -o "$T/dl"
	expect_one_line_err "$who get payroll/salaries.txt"
	err_has "bob refuses: $who may not read 'payroll/salaries.txt'" "$who get"
	expect_exit 5 "$FERRY" ls -i "$T/$who" "bob@127.0.0.1:$PORT:payroll"
	expect_one_line_err "$who ls payroll"
	err_has "bob refuses: $who may not read 'payroll'" "$who ls"
done
[[ ! -e $T/dl/salaries.txt ]] || fail "a refused get left a file"
wait_log "carol@127.0.0.1:[0-9]+: get refused: carol may not read 'payroll/salaries.txt'"

# Nothing under payroll shows in carol's listing or tree; the rest does.
expect_exit 0 "$FERRY" ls -i "$T/carol" "bob@127.0.0.1:$PORT"
grep -q ' pub.txt$' "$OUT" || fail "carol ls: pub.txt missing: $(cat "$OUT")"
! grep -q ' payroll$' "$OUT" || fail "carol ls shows payroll: $(cat "$OUT")"
mkdir -p "$T/tree"
# (The share's links, sal-link and pay-link, are left out without --links:
# exit 9, not all of the tree arrived.)
expect_exit 9 "$FERRY" get -r -i "$T/carol" "bob@127.0.0.1:$PORT:" -o "$T/tree"
[[ -f $T/tree/pub.txt ]] || fail "carol get -r: pub.txt missing"
[[ -z $(find "$T/tree" -name 'salaries.txt' -o -name 'q1.txt' -o -name payroll) ]] ||
	fail "carol get -r fetched payroll: $(find "$T/tree")"

# Links in the share do not lead around the rule.
expect_exit 5 "$FERRY" get -i "$T/carol" "bob@127.0.0.1:$PORT:sal-link" -o "$T/dl"
err_has "bob refuses: carol may not read 'sal-link'" "carol get sal-link"
expect_exit 5 "$FERRY" ls -i "$T/carol" "bob@127.0.0.1:$PORT:pay-link"
expect_exit 5 "$FERRY" get -r -i "$T/carol" "bob@127.0.0.1:$PORT:pay-link" -o "$T/tree"
[[ -z $(find "$T/tree" -name 'salaries.txt' -o -name 'q1.txt') ]] ||
	fail "a link led around the read rule: $(find "$T/tree")"
# ... while alice may go through them.
expect_exit 0 "$FERRY" get -i "$T/alice" "bob@127.0.0.1:$PORT:sal-link" -o "$T/dl"

# A refusal does not end the session: on one connection carol is refused
# payroll twice and then gets and lists what she may, without payroll.
run python3 "$WIRE" session 127.0.0.1 "$PORT" -i "$T/carol" --hold 0.5 \
	--get payroll/salaries.txt --list payroll --get pub.txt --list ''
grep -q "^GET 'payroll/salaries.txt': ERR id=1 code=41 carol may not read 'payroll/salaries.txt'$" "$OUT" ||
	fail "wire: first GET not refused with ACCESS: $(cat "$OUT")"
grep -q "^LIST 'payroll': ERR id=2 code=41 " "$OUT" || fail "wire: LIST payroll not refused: $(cat "$OUT")"
grep -q "^GET 'pub.txt': FILE id=3 " "$OUT" || fail "wire: later GET failed: $(cat "$OUT")"
grep -q "^GET 'pub.txt': END " "$OUT" || fail "wire: later GET not complete: $(cat "$OUT")"
grep -q "^LIST '': ENTRY pub.txt$" "$OUT" || fail "wire: later LIST failed: $(cat "$OUT")"
! grep -q "ENTRY payroll$" "$OUT" || fail "wire: LIST shows payroll to carol: $(cat "$OUT")"
grep -q "^LIST '': LISTEND id=4 " "$OUT" || fail "wire: later LIST not complete: $(cat "$OUT")"

# serve logs the first 10 refusals of a session, then only counts them.
log_mark
gets=()
for ((i = 0; i < 12; i++)); do gets+=(--get payroll/salaries.txt); done
run python3 "$WIRE" session 127.0.0.1 "$PORT" -i "$T/carol" --hold 0.2 "${gets[@]}" --get pub.txt
[[ $(grep -c "code=41 carol may not read" "$OUT") == 12 ]] || fail "wire: not 12 refusals: $(cat "$OUT")"
wait_log "carol@127.0.0.1:[0-9]+: .*(closed|ended) after .* 12 refused"
[[ $(log_new | grep -c "get refused: carol may not read") == 10 ]] ||
	fail "want 10 refusals logged: $(log_new)"
log_new | grep -q "(further refusals of this session not logged)" || fail "no note that refusals stop being logged"

# Pushes: alice and group finance may, carol may not (and the session goes on).
expect_exit 0 "$FERRY" send -i "$T/frank" "$T/hello.txt" "bob@127.0.0.1:$PORT"
[[ -f $T/inbox/frank/hello.txt ]] || fail "frank's push did not land"
expect_exit 5 "$FERRY" send -i "$T/carol" "$T/hello.txt" "bob@127.0.0.1:$PORT"
expect_one_line_err "carol send"
err_has "bob refuses: carol may not push to bob" "carol send"
[[ ! -e $T/inbox/carol/hello.txt ]] || fail "carol's refused push landed"
run python3 "$WIRE" session 127.0.0.1 "$PORT" -i "$T/carol" --hold 0.5 \
	--put x.txt:10:10 --get pub.txt
grep -q "^PUT 'x.txt': ERR id=1 code=41 carol may not push to bob$" "$OUT" ||
	fail "wire: PUT not refused with ACCESS: $(cat "$OUT")"
grep -q "^GET 'pub.txt': END " "$OUT" || fail "wire: GET after a refused PUT failed: $(cat "$OUT")"

# eve is no member here: refused right after the handshake, in one line.
expect_exit 5 "$FERRY" ls -i "$T/eve" "bob@127.0.0.1:$PORT"
expect_one_line_err "eve ls"
err_has "bob refuses: eve is not a member bob serves" "eve ls"
run python3 "$WIRE" tls 127.0.0.1 "$PORT" -i "$T/eve" --hello --hold 2
grep -q "^ERR id=0 code=41 eve is not a member bob serves$" "$OUT" || fail "wire: eve not refused: $(cat "$OUT")"
grep -q "^CLOSED" "$OUT" || fail "wire: eve's session not ended: $(cat "$OUT")"
stop_pid "$SERVE_PID"

# The command line wins over the file: the one-liner --members, and a
# read rule of its own for payroll.
start_serve --members alice,group:finance --allow-read payroll/=carol,group:finance
expect_exit 5 "$FERRY" ls -i "$T/grace" "bob@127.0.0.1:$PORT"
err_has "bob refuses: grace is not a member bob serves" "grace ls"
expect_exit 0 "$FERRY" ls -i "$T/frank" "bob@127.0.0.1:$PORT:payroll"
expect_exit 5 "$FERRY" ls -i "$T/alice" "bob@127.0.0.1:$PORT:payroll"
err_has "bob refuses: alice may not read 'payroll'" "alice ls under --allow-read"
expect_exit 5 "$FERRY" ls -i "$T/carol" "bob@127.0.0.1:$PORT"
stop_pid "$SERVE_PID"

# Without rules every member reads and pushes everything, as before.
rm "$T/bob/config"
start_serve
expect_exit 0 "$FERRY" get -i "$T/eve" "bob@127.0.0.1:$PORT:sal-link" -o "$T/dl"
expect_exit 0 "$FERRY" send -i "$T/eve" "$T/hello.txt" "bob@127.0.0.1:$PORT"
stop_pid "$SERVE_PID"

# Hostile: a bad group name is refused in one line before anything is signed.
for bad in 'fi/n' 'fin ance' $'fi\nn' '.hidden' 'group:x'; do
	expect_exit 2 "$FERRY" ca issue --dir "$T/ca" --name mallory --group "$bad" --out "$T/mallory"
	expect_one_line_err "ca issue --group $(printf '%q' "$bad")"
	err_has "ca issue: --group: group name" "ca issue --group $(printf '%q' "$bad")"
done
[[ ! -e $T/mallory ]] || fail "a refused ca issue wrote an identity"

# Rules in unknown syntax: one line naming file:line, and serve does not start.
bad_config() {
	local want=$1
	printf '%b' "$2" >"$T/bad.conf"
	expect_exit 2 "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/bob" --listen 127.0.0.1:0 --config "$T/bad.conf" \
		--share "$T/share" --inbox "$T/inbox"
	expect_one_line_err "serve --config ($2)"
	err_has "$T/bad.conf:$want" "serve --config ($2)"
}
bad_config "2: unknown key 'allowed' in \[serve\]" '[serve]\nallowed = alice\n'
bad_config "3: allow: 'grp:x': member ID" '[read payroll/]\n\nallow = grp:x\n'
bad_config "1: unknown section" '[write payroll/]\nallow = alice\n'
bad_config "1: \[read payroll\] has no 'allow ='" '[read payroll]\n[serve]\n'
bad_config "1: read rule path '../x'" '[read ../x]\nallow = *\n'
bad_config "2: inbox-quota: '10 GB' is not a size" '[serve]\ninbox-quota = 10 GB\n'
bad_config "2: members: an empty entry" '[serve]\nmembers = alice,,bob\n'
bad_config "3: 'members' given twice" '[serve]\nmembers = alice\nmembers = bob\n'
expect_exit 6 "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/bob" --listen 127.0.0.1:0 --config "$T/missing.conf"
expect_one_line_err "serve --config missing"
expect_exit 2 "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/bob" --members 'alice,group:fi n'
expect_one_line_err "serve --members bad"

finish
