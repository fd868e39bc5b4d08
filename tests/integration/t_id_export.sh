#!/usr/bin/env bash
# t_id_export.sh - ferry id export --p12: openssl (no -legacy) reads the
# file with the password and finds the same key and the chain; modern
# algorithms; mode 0600; a wrong password fails; an existing file is
# refused unless --force; an empty password is refused; the terminal asks
# twice; nothing is left behind by a failure.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || skip "no openssl command"
org_init
PW='export-pw-Zq7'

p12_has_no_temp() {
	local left
	left=$(find "$1" -name '*.tmp*' | head -n 3)
	[[ -z $left ]] || fail "temporary files left: $left"
}

# --- the export, read back by openssl ----------------------------------------
mkdir "$T/out"
expect_exit 0 "$FERRY" id export --p12 "$T/out/alice.p12" -i "$T/alice" --password-stdin <<<"$PW"
grep -q "^exported alice: key, certificate and its CAs -> $T/out/alice.p12\$" "$OUT" || fail "stdout: $(cat "$OUT")"
[[ $(stat -c %a "$T/out/alice.p12") == 600 ]] || fail "mode $(stat -c %a "$T/out/alice.p12")"
openssl pkcs12 -info -noout -in "$T/out/alice.p12" -passin "pass:$PW" >"$T/info" 2>&1 ||
	fail "openssl pkcs12 -info (without -legacy) cannot read it: $(cat "$T/info")"
grep -q 'MAC: sha256' "$T/info" || fail "MAC is not SHA-256: $(cat "$T/info")"
grep -q 'Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, .*PRF hmacWithSHA256' "$T/info" ||
	fail "the key bag is not AES-256/PBKDF2-SHA256: $(cat "$T/info")"
grep -q 'PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC' "$T/info" || fail "certificates not AES-256: $(cat "$T/info")"
openssl pkcs12 -in "$T/out/alice.p12" -nodes -passin "pass:$PW" -out "$T/all.pem" 2>/dev/null ||
	fail "openssl cannot decrypt it"
openssl pkey -in "$T/all.pem" -pubout >"$T/p12.pub" 2>/dev/null || fail "no key in the file"
openssl pkey -in "$T/alice/key.pem" -pubout >"$T/alice.pub"
cmp -s "$T/p12.pub" "$T/alice.pub" || fail "the key in the file is not alice's"
openssl pkcs12 -in "$T/out/alice.p12" -nokeys -clcerts -passin "pass:$PW" 2>/dev/null |
	openssl x509 -noout -fingerprint -sha256 >"$T/leaf.fp"
openssl x509 -in "$T/alice/cert.pem" -noout -fingerprint -sha256 >"$T/alice.fp"
cmp -s "$T/leaf.fp" "$T/alice.fp" || fail "the certificate is not alice's"
openssl pkcs12 -in "$T/out/alice.p12" -nokeys -cacerts -passin "pass:$PW" 2>/dev/null >"$T/cas.pem"
openssl x509 -in "$T/cas.pem" -noout -fingerprint -sha256 >"$T/ca.fp"
openssl x509 -in "$T/ca/ca.pem" -noout -fingerprint -sha256 >"$T/ca-want.fp"
cmp -s "$T/ca.fp" "$T/ca-want.fp" || fail "the CA in the file is not ca.pem"
grep -q 'friendlyName: alice' <(openssl pkcs12 -info -nokeys -in "$T/out/alice.p12" -passin "pass:$PW" 2>/dev/null) ||
	fail "the friendly name is not the member ID"

# A wrong password opens nothing.
if openssl pkcs12 -in "$T/out/alice.p12" -nodes -passin pass:wrong-pw -out "$T/wrong.pem" 2>/dev/null; then
	fail "a wrong password opened the file"
fi

# --- an existing file is refused (before any password), unless --force --------
cp "$T/out/alice.p12" "$T/before.p12"
expect_exit 5 "$FERRY" id export --p12 "$T/out/alice.p12" -i "$T/alice" --password-stdin <<<"other-pw"
expect_one_line_err "existing file"
err_has 'already exists \(--force replaces it\)'
cmp -s "$T/out/alice.p12" "$T/before.p12" || fail "a refused export changed the file"
expect_exit 0 "$FERRY" id export --p12 "$T/out/alice.p12" -i "$T/alice" --force --no-chain \
	--name 'Alice at ferry' --password-stdin <<<"other-pw"
openssl pkcs12 -in "$T/out/alice.p12" -nodes -passin pass:other-pw -out "$T/forced.pem" 2>/dev/null ||
	fail "--force did not write a file with the new password"
[[ $(grep -c 'BEGIN CERTIFICATE' "$T/forced.pem") == 1 ]] || fail "--no-chain: $(grep -c 'BEGIN CERTIFICATE' "$T/forced.pem") certificates"
grep -q 'friendlyName: Alice at ferry' "$T/forced.pem" || fail "--name not used"
[[ $(stat -c %a "$T/out/alice.p12") == 600 ]] || fail "mode after --force $(stat -c %a "$T/out/alice.p12")"

# --- an empty password is refused, and nothing is written ---------------------
expect_exit 2 "$FERRY" id export --p12 "$T/out/empty.p12" -i "$T/alice" --password-stdin <<<""
expect_one_line_err "empty password"
err_has 'empty password'
[[ ! -e $T/out/empty.p12 ]] || fail "an empty password wrote a file"

# --- the terminal asks twice; a mismatch writes nothing ----------------------
tty_export() { # FILE FIRST SECOND: answers the two prompts on a terminal
	python3 - "$@" "$FERRY" "$T/alice" <<'PY'
import os, pty, select, subprocess, sys, time
out, first, second, ferry, ident = sys.argv[1:6]
master, slave = pty.openpty()
def ctty():
    os.setsid()
    import fcntl, termios
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
p = subprocess.Popen([ferry, "id", "export", "--p12", out, "-i", ident],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE, pass_fds=(slave,), preexec_fn=ctty)
os.close(slave)
seen, deadline = b"", time.time() + 20
for prompt, answer in ((b"PKCS#12 password: ", first), (b"Again: ", second)):
    while prompt not in seen and time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                seen += os.read(master, 4096)
            except OSError:
                break
    if prompt not in seen:
        p.kill()
        sys.exit("no prompt %r; saw %r" % (prompt, seen))
    seen = seen.split(prompt, 1)[1]
    time.sleep(0.2)  # the prompt is written before echo is turned off
    os.write(master, answer.encode() + b"\n")
try:
    _, err = p.communicate(timeout=20)
except subprocess.TimeoutExpired:
    p.kill()
    sys.exit("ferry did not finish")
sys.stderr.write(err.decode())
sys.exit(p.returncode)
PY
}
RC=0
tty_export "$T/out/tty.p12" "$PW" "$PW" 2>"$ERR" || RC=$?
[[ $RC == 0 ]] || fail "export on a terminal: exit $RC: $(cat "$ERR")"
openssl pkcs12 -in "$T/out/tty.p12" -nodes -passin "pass:$PW" -out /dev/null 2>/dev/null ||
	fail "the terminal's password does not open the file"
RC=0
tty_export "$T/out/tty2.p12" "$PW" "not-the-same" 2>"$ERR" || RC=$?
[[ $RC == 2 ]] || fail "mismatched passwords: exit $RC: $(cat "$ERR")"
err_has 'the passwords do not match'
[[ ! -e $T/out/tty2.p12 ]] || fail "mismatched passwords wrote a file"
# No terminal and no --password-stdin: one line saying what to do.
expect_exit 2 setsid "$FERRY" id export --p12 "$T/out/nottty.p12" -i "$T/alice" </dev/null
err_has 'no terminal to ask for the password; use --password-stdin'

# --- bad identities, bad places: one line, nothing left -------------------------
expect_exit 6 "$FERRY" id export --p12 "$T/out/x.p12" -i "$T/nobody" --password-stdin <<<"$PW"
expect_one_line_err "missing identity"
mkdir "$T/nokey" && cp "$T/alice/cert.pem" "$T/alice/ca.pem" "$T/nokey/"
cp "$T/bob/key.pem" "$T/nokey/key.pem"
run "$FERRY" id export --p12 "$T/out/mixed.p12" -i "$T/nokey" --password-stdin <<<"$PW"
[[ $RC == 4 ]] || fail "a key that is not the certificate's: exit $RC: $(cat "$ERR")"
err_has 'the key does not belong to the certificate'
expect_exit 6 "$FERRY" id export --p12 "$T/no-such-dir/a.p12" -i "$T/alice" --password-stdin <<<"$PW"
expect_one_line_err "missing directory"
chmod 0500 "$T/out"
if [[ $(id -u) != 0 ]]; then
	run "$FERRY" id export --p12 "$T/out/ro.p12" -i "$T/alice" --password-stdin <<<"$PW"
	[[ $RC == 5 ]] || fail "read-only directory: exit $RC: $(cat "$ERR")"
fi
chmod 0700 "$T/out"
[[ ! -e $T/out/mixed.p12 && ! -e $T/out/x.p12 ]] || fail "a failed export left a file"
p12_has_no_temp "$T/out"
expect_exit 2 "$FERRY" id export -i "$T/alice"
err_has 'give the file to write with --p12 FILE'
expect_exit 2 "$FERRY" id export --p12 "$T/out/y.p12" --bogus
expect_one_line_err "unknown option"
expect_exit 0 "$FERRY" id export --help
grep -q 'PKCS#12' "$OUT" || fail "--help: $(cat "$OUT")"

finish
