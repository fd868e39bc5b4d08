#!/usr/bin/env bash
# t_authd_crl.sh - a CRL signed offline (ferry ca crl) beside a running
# authd: authd then serves a newer one, so members can still update.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authd_lib.sh"

authd_org
start_authd
enroll alice
crlno() { openssl crl -in "$1" -noout -crlnumber | cut -d= -f2 | sed 's/^0x//'; }
before=$(crlno "$T/alice/crl.pem")
expect_exit 0 "$FERRY" ca crl --dir "$T/ca" --out "$T/offline.pem"
offline=$(crlno "$T/offline.pem")
((16#$offline > 16#$before)) || fail "ca crl did not move the number on: $before then $offline"
# A member who got the offline CRL first still takes authd's.
cp "$T/offline.pem" "$T/alice/crl.pem"
expect_exit 0 "$FERRY" crl update -i "$T/alice"
after=$(crlno "$T/alice/crl.pem")
((16#$after > 16#$offline)) || fail "authd served CRL $after after the offline $offline"
