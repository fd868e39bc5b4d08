#!/usr/bin/env bash
# t_attack_key_world_readable.sh - a private key others can read (a careless
# cp, an archive unpacked with its modes, a umask of 022) is as good as
# published. serve, authd, the CA commands and the clients refuse such a
# key - readable or writable by its group or by others - with one line
# naming the file, its mode and the command that fixes it, before they
# listen or connect. And what ferry creates (keys, the accounts database)
# is 0600 from the start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"

authd_org
issue bob --ip 127.0.0.1
issue alice
mkdir -p "$T/share" "$T/inbox"

# --- what ferry creates is 0600 ------------------------------------------------
mode() { stat -c %a "$1"; }
for f in "$T/ca/ca.key" "$T/bob/key.pem" "$T/alice/key.pem" "$T/ca/ferry.db"; do
	[[ $(mode "$f") == 600 ]] || fail "$f created mode $(mode "$f"), want 600"
done

# --- serve refuses a key open to group or others ---------------------------
for m in 644 640 604 620 602; do
	chmod "$m" "$T/bob/key.pem"
	run "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/bob" --listen 127.0.0.1:0 \
		--share "$T/share" --inbox "$T/inbox"
	[[ $RC == 5 ]] || fail "serve with key.pem $m: exit $RC, want 5: $(cat "$ERR")"
	expect_one_line_err "serve with key.pem $m"
	err_has "$T/bob/key.pem: (readable|writable) by (others|its group) \(mode 0$m\); fix with: chmod 600 $T/bob/key.pem" \
		"serve with key.pem $m"
	grep -q 'listening on' "$ERR" && fail "serve with key.pem $m listened"
done
err_has "writable by others" "key.pem 602"
chmod 600 "$T/bob/key.pem"
start_serve
note "serve starts once the key is 0600"

# --- a client refuses its own key likewise -----------------------------------
chmod 644 "$T/alice/key.pem"
echo hi >"$T/f.txt"
run "$FERRY" send -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$PORT"
[[ $RC == 5 ]] || fail "send with key.pem 644: exit $RC, want 5: $(cat "$ERR")"
expect_one_line_err "send with key.pem 644"
err_has "readable by others \(mode 0644\); fix with: chmod 600 $T/alice/key.pem"
[[ ! -e $T/inbox/alice/f.txt ]] || fail "send with a key readable by others pushed"
chmod 600 "$T/alice/key.pem"
expect_exit 0 "$FERRY" send -i "$T/alice" "$T/f.txt" "bob@127.0.0.1:$PORT"

# --- the CA's key: authd and ca issue refuse it --------------------------------
chmod 640 "$T/ca/ca.key"
run "$FERRY" authd "${ALLOW_ROOT[@]}" --ca-dir "$T/ca" --listen 127.0.0.1:0
[[ $RC == 5 ]] || fail "authd with ca.key 640: exit $RC, want 5: $(cat "$ERR")"
expect_one_line_err "authd with ca.key 640"
err_has "$T/ca/ca.key: readable by its group \(mode 0640\); fix with: chmod 600 $T/ca/ca.key"
grep -q 'listening on' "$ERR" && fail "authd with ca.key 640 listened"
run "$FERRY" ca issue --dir "$T/ca" --name carol --out "$T/carol"
[[ $RC == 5 ]] || fail "ca issue with ca.key 640: exit $RC, want 5: $(cat "$ERR")"
err_has "fix with: chmod 600 $T/ca/ca.key"
[[ ! -e $T/carol ]] || fail "ca issue with a key open to others wrote an identity"
chmod 600 "$T/ca/ca.key"
start_authd
note "authd starts once ca.key is 0600"

finish
