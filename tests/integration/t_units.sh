#!/usr/bin/env bash
# t_units.sh - the shipped systemd units, as make install writes them for
# the prefix /usr: `systemd-analyze verify` is clean for every one (system
# and user units, the timer), and `systemd-analyze security --offline=true`
# rates each system unit's exposure at most 2.0, with the low-port drop-in
# too. The units name /usr/bin/ferry, which this machine need not have:
# verify runs on copies naming the built binary instead, nothing else changed.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || fail "no systemd-analyze (scripts/deps.sh installs systemd)"
B=$(dirname "$FERRY")
[[ -f $B/cmake_install.cmake ]] || skip "no CMake build directory beside $FERRY"
MAX_EXPOSURE=2.0

R=$T/root
run env DESTDIR="$R" cmake --install "$B" --prefix /usr
[[ $RC == 0 ]] || fail "cmake --install: exit $RC: $(cat "$ERR")"
sysdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /usr/lib/systemd/system)
userdir=$(pkg-config --variable=systemduserunitdir systemd 2>/dev/null || echo /usr/lib/systemd/user)
system_units=(ferry-serve.service ferry-authd.service)
user_units=(ferry-serve.service ferry-renew.service ferry-renew.timer)

# Copies naming the built binary; Documentation=man:ferry(1) is looked up
# in the installed manual.
mkdir -p "$T/system" "$T/user" "$T/run"
chmod 0700 "$T/run"
for u in "${system_units[@]}"; do
	[[ -f $R$sysdir/$u ]] || fail "not installed: $sysdir/$u"
	sed "s|/usr/bin/ferry|$FERRY|g" "$R$sysdir/$u" >"$T/system/$u"
done
for u in "${user_units[@]}"; do
	[[ -f $R$userdir/$u ]] || fail "not installed: $userdir/$u"
	sed "s|/usr/bin/ferry|$FERRY|g" "$R$userdir/$u" >"$T/user/$u"
done
export MANPATH=$R/usr/share/man

# verify: exit 0 and nothing said (a warning is printed, not failed).
for u in "${system_units[@]}"; do
	run systemd-analyze verify "$T/system/$u"
	[[ $RC == 0 && ! -s $OUT && ! -s $ERR ]] ||
		fail "verify system $u: exit $RC: $(cat "$OUT" "$ERR")"
done
(cd "$T/user" && XDG_RUNTIME_DIR=$T/run systemd-analyze --user verify "${user_units[@]}") \
	>"$OUT" 2>"$ERR" && RC=0 || RC=$?
[[ $RC == 0 && ! -s $OUT && ! -s $ERR ]] ||
	fail "verify user units: exit $RC: $(cat "$OUT" "$ERR")"

# security: the overall exposure of each system unit.
exposure() { # UNIT-FILE: prints its overall exposure level
	run systemd-analyze security --offline=true "$1"
	[[ $RC == 0 ]] || fail "security $1: exit $RC: $(cat "$ERR")"
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$OUT"
}
check_exposure() { # NAME UNIT-FILE
	local e
	e=$(exposure "$2")
	[[ $e =~ ^[0-9]+\.[0-9]$ ]] || fail "security $1: no exposure level in: $(tail -3 "$OUT")"
	awk -v e="$e" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }' ||
		fail "security $1: exposure $e > $MAX_EXPOSURE:"$'\n'"$(grep '✗' "$OUT")"
	note "$1: exposure $e"
}
for u in "${system_units[@]}"; do
	check_exposure "$u" "$T/system/$u"
done
# With the drop-in for a port below 1024 (shipped as a documented example).
dropin=$R/usr/share/doc/ferry/examples/ferry-low-port.conf
[[ -f $dropin ]] || fail "not installed: the low-port drop-in example"
mkdir -p "$T/lowport"
cat "$T/system/ferry-authd.service" "$dropin" >"$T/lowport/ferry-authd.service"
check_exposure "ferry-authd.service + ferry-low-port.conf" "$T/lowport/ferry-authd.service"
run systemd-analyze verify "$T/lowport/ferry-authd.service"
[[ $RC == 0 && ! -s $ERR ]] || fail "verify with the low-port drop-in: $(cat "$ERR")"

# What the daemons' own sandbox calls must pass the system call filter.
for u in "${system_units[@]}"; do
	for call in landlock_create_ruleset landlock_add_rule landlock_restrict_self seccomp; do
		grep -Eq "^SystemCallFilter=@system-service( .*)? $call( |$)" "$T/system/$u" ||
			fail "$u: SystemCallFilter does not allow $call"
	done
done
finish
