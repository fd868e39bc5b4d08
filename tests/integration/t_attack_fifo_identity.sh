#!/usr/bin/env bash
# t_attack_fifo_identity.sh - a FIFO where the configuration, ca.pem,
# cert.pem, key.pem or crl.pem should be (planted by whoever can write the
# directory) made every command block for ever in open(2). Each is now
# refused at once with one line naming the file: "not a regular file".
. "$(dirname "$0")/lib.sh"

org_init
start_serve
CMD_TIMEOUT=10

for f in config ca.pem cert.pem key.pem crl.pem; do
	home=$T/home-${f%.pem}
	cp -a "$T/alice" "$home"
	chmod 700 "$home"
	rm -f "$home/$f"
	mkfifo -m 600 "$home/$f"
	t0=$SECONDS
	# The configuration is read for a PEER: address.
	addr=bob@127.0.0.1:$PORT:
	[[ $f == config ]] && addr=bob:
	FERRY_HOME=$home run "$FERRY" ls "$addr"
	[[ $RC != 124 && $RC != 137 ]] || fail "$f as a FIFO: ls hung"
	((SECONDS - t0 < 5)) || fail "$f as a FIFO: ls took $((SECONDS - t0)) s"
	[[ $RC != 0 ]] || fail "$f as a FIFO: ls worked"
	expect_one_line_err "$f as a FIFO"
	err_has "$home/$f: not a regular file" "$f as a FIFO"
done

# serve too: ca.pem as a FIFO is refused at start, not waited on.
cp -a "$T/bob" "$T/bob-fifo"
rm -f "$T/bob-fifo/ca.pem"
mkfifo -m 600 "$T/bob-fifo/ca.pem"
run "$FERRY" serve "${ALLOW_ROOT[@]}" -i "$T/bob-fifo" --listen 127.0.0.1:0 --share "$SHARE" --inbox "$INBOX"
[[ $RC != 124 && $RC != 137 && $RC != 0 ]] || fail "serve with a FIFO ca.pem: exit $RC"
err_has "ca.pem: not a regular file"

finish
