#!/usr/bin/env bash
# t_deb.sh - the Debian package, built from a clean checkout (the files git
# tracks, copied to a temp dir) with dpkg-buildpackage -us -uc -b: it holds
# the expected files, /etc/ferry/*.conf as conffiles, lintian has no error
# nor warning; installed for real it creates the user ferry and
# /var/lib/ferry, starts and enables nothing, /usr/bin/ferry runs and the
# installed units verify; purged, its files are gone. The machine is left
# as it was (the user ferry is removed again if this test made it).
. "$(dirname "$0")/lib.sh"
[[ $(id -u) == 0 ]] || skip "installing a package needs root"
for c in dpkg-buildpackage dh lintian fakeroot git; do
	command -v "$c" >/dev/null || fail "no $c (scripts/deps.sh installs it)"
done
SRC=${FERRY_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
[[ -d $SRC/debian ]] || fail "no debian/ in $SRC"
if dpkg-query -W -f='${Status}' ferry 2>/dev/null | grep -q installed; then
	fail "a ferry package is installed already; dpkg --purge ferry first"
fi

# dpkg with a bounded wait for its lock (apt may be running for another job).
dpkg_locked() { # ARGS...
	local i
	for ((i = 0; i < 60; i++)); do
		run dpkg "$@"
		[[ $RC != 0 ]] && grep -q 'lock' "$ERR" && { sleep 1; continue; }
		return 0
	done
}
had_user=0
getent passwd ferry >/dev/null && had_user=1
had_state=0
[[ -e /var/lib/ferry ]] && had_state=1
installed=0
_deb_cleanup() {
	local rc=$?
	if [[ $installed == 1 ]]; then
		dpkg --purge ferry >/dev/null 2>&1 || true
	fi
	if [[ $had_user == 0 ]] && getent passwd ferry >/dev/null; then
		deluser --quiet --system ferry >/dev/null 2>&1 || true
		if getent group ferry >/dev/null; then
			delgroup --quiet --system ferry >/dev/null 2>&1 || true
		fi
	fi
	if [[ $had_state == 0 && -d /var/lib/ferry ]]; then
		rmdir /var/lib/ferry 2>/dev/null || true
	fi
	return "$rc"
}
trap '_deb_cleanup; _cleanup' EXIT

# --- build from what git tracks -------------------------------------------
mkdir -p "$T/src/ferry"
(cd "$SRC" && git ls-files -z | tar --null -cf - -T -) | tar -xf - -C "$T/src/ferry"
# (No debug symbols package: the test does not look at it.)
(cd "$T/src/ferry" && timeout -k 5 600 env DEB_BUILD_OPTIONS="parallel=2 noautodbgsym" \
	dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1 ||
	fail "dpkg-buildpackage: $(tail -30 "$T/build.log")"
version=$(cd "$T/src/ferry" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
deb=$T/src/ferry_${version}_${arch}.deb
[[ -f $deb ]] || fail "no $(basename "$deb"): $(ls "$T/src")"
# The package's version is the project's (CMakeLists.txt).
grep -q "project(ferry VERSION $version " "$SRC/CMakeLists.txt" ||
	fail "debian/changelog's $version is not CMakeLists.txt's version"

# --- its files ----------------------------------------------------------
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T/files"
for f in /usr/bin/ferry /usr/share/man/man1/ferry.1.gz \
	/usr/share/bash-completion/completions/ferry \
	/usr/share/zsh/vendor-completions/_ferry \
	/lib/systemd/system/ferry-serve.service /lib/systemd/system/ferry-authd.service \
	/usr/lib/systemd/user/ferry-serve.service /usr/lib/systemd/user/ferry-renew.service \
	/usr/lib/systemd/user/ferry-renew.timer \
	/etc/ferry/serve.conf /etc/ferry/authd.conf \
	/usr/share/doc/ferry/README.md.gz /usr/share/doc/ferry/SERVICE.md.gz \
	/usr/share/doc/ferry/PROTOCOL.md.gz /usr/share/doc/ferry/SECURITY.md.gz \
	/usr/share/doc/ferry/README.Debian /usr/share/doc/ferry/copyright \
	/usr/share/doc/ferry/examples/ferry-low-port.conf; do
	grep -qx -- "$f" "$T/files" || fail "the package lacks $f"
done
grep -q '/wireshark/plugins/ferry.lua$' "$T/files" || fail "the package lacks the dissector"
dpkg-deb -e "$deb" "$T/control"
[[ $(sort "$T/control/conffiles") == $'/etc/ferry/authd.conf\n/etc/ferry/serve.conf' ]] ||
	fail "conffiles: $(cat "$T/control/conffiles")"
grep -Eq 'deb-systemd-invoke (start|restart)' "$T/control/postinst" &&
	fail "postinst starts a unit"

# --- lintian: no error, no warning ---------------------------------------
timeout -k 5 300 lintian --allow-root "$T/src/ferry_${version}_${arch}.changes" >"$T/lintian.out" 2>&1 || true
grep -E '^(E|W): ' "$T/lintian.out" && fail "lintian: $(grep -E '^(E|W): ' "$T/lintian.out")"

# --- installed for real -----------------------------------------------------
dpkg_locked -i "$deb"
installed=1
[[ $RC == 0 ]] || fail "dpkg -i: exit $RC: $(cat "$ERR")"
getent passwd ferry >"$OUT" || fail "no user ferry"
IFS=: read -r _ _ uid _ _ home shell <"$OUT"
((uid < 1000)) || fail "ferry is not a system user (uid $uid)"
[[ $home == /var/lib/ferry ]] || fail "ferry's home: $home"
[[ $shell == */nologin || $shell == /bin/false ]] || fail "ferry's shell: $shell"
getent group ferry >/dev/null || fail "no group ferry"
[[ -d /var/lib/ferry ]] || fail "no /var/lib/ferry"
st=$(stat -c '%U:%G %a' /var/lib/ferry)
[[ $st == "ferry:ferry 750" || $st == "ferry:ferry 700" ]] || fail "/var/lib/ferry: $st"
# Nothing started, nothing enabled.
for p in /proc/[0-9]*; do
	[[ $(readlink "$p/exe" 2>/dev/null) == /usr/bin/ferry ]] && fail "a ferry process runs: ${p#/proc/}"
done
shopt -s nullglob
enabled=(/etc/systemd/system/*.wants/ferry-* /etc/systemd/user/*.wants/ferry-*)
shopt -u nullglob
[[ ${#enabled[@]} == 0 ]] || fail "installing enabled: ${enabled[*]}"
expect_exit 0 /usr/bin/ferry --version
grep -q "$version" "$OUT" || fail "ferry --version: $(cat "$OUT")"
if command -v man >/dev/null; then
	expect_exit 0 man -w ferry
fi
# The installed units, as systemd will read them.
for u in /lib/systemd/system/ferry-serve.service /lib/systemd/system/ferry-authd.service; do
	run systemd-analyze verify "$u"
	[[ $RC == 0 && ! -s $ERR ]] || fail "verify $u: $(cat "$ERR")"
done

# --- purged -----------------------------------------------------------------
# With data in /var/lib/ferry (a CA, identities): purge keeps it.
if [[ $had_state == 0 ]]; then
	mkdir /var/lib/ferry/ca
	echo key >/var/lib/ferry/ca/ca.key
	dpkg_locked --purge ferry
	[[ $RC == 0 ]] || fail "dpkg --purge: exit $RC: $(cat "$ERR")"
	[[ -f /var/lib/ferry/ca/ca.key ]] || fail "purge removed data in /var/lib/ferry"
	rm -r /var/lib/ferry/ca
	dpkg_locked -i "$deb"
	[[ $RC == 0 ]] || fail "dpkg -i after purge: exit $RC: $(cat "$ERR")"
fi
dpkg_locked --purge ferry
[[ $RC == 0 ]] || fail "dpkg --purge: exit $RC: $(cat "$ERR")"
installed=0
for f in /usr/bin/ferry /etc/ferry /lib/systemd/system/ferry-serve.service \
	/usr/share/doc/ferry /var/log/ferry; do
	[[ ! -e $f ]] || fail "left after purge: $f"
done
[[ $had_state == 1 || ! -e /var/lib/ferry ]] || fail "purge left an empty /var/lib/ferry"
# Debian keeps system users on purge (as openssh and nginx do).
getent passwd ferry >/dev/null || fail "purge removed the system user ferry"
finish
