#!/usr/bin/env bash
# t_install.sh - make install's layout (cmake --install with DESTDIR and a
# prefix, as a package build does): the binary runs, `man -w ferry` finds the
# page, bash completion completes commands, options and peer aliases.
. "$(dirname "$0")/lib.sh"
command -v cmake >/dev/null || skip "no cmake"
B=$(dirname "$FERRY")
[[ -f $B/cmake_install.cmake ]] || skip "no CMake build directory beside $FERRY"

R=$T/root
run env DESTDIR="$R" cmake --install "$B" --prefix /usr
[[ $RC == 0 ]] || fail "cmake --install: exit $RC: $(cat "$ERR")"
for f in usr/bin/ferry usr/share/man/man1/ferry.1 \
	usr/share/bash-completion/completions/ferry \
	usr/share/doc/ferry/README.md usr/share/doc/ferry/PROTOCOL.md \
	usr/share/doc/ferry/SECURITY.md; do
	[[ -f $R/$f ]] || fail "not installed: /$f"
done
compgen -G "$R/usr/lib*/wireshark/plugins/ferry.lua" >/dev/null ||
	compgen -G "$R/usr/lib/*/wireshark/plugins/ferry.lua" >/dev/null ||
	fail "the Wireshark dissector is not in a wireshark/plugins directory"
[[ -x $R/usr/bin/ferry ]] || fail "ferry is not executable"
expect_exit 0 "$R/usr/bin/ferry" --version
if command -v man >/dev/null; then
	expect_exit 0 man -M "$R/usr/share/man" -w ferry
	[[ $(cat "$OUT") == "$R/usr/share/man/man1/ferry.1" ]] || fail "man -w: $(cat "$OUT")"
fi

# Completion, as bash runs it.
mkdir -p "$T/home"
printf '[peer bob]\naddress = 127.0.0.1:7443\n[peer carol-box]\naddress = carol:7443\n' >"$T/home/config"
complete_words() { # WORDS...: COMPREPLY for the last word, one per line
	PATH="$R/usr/bin:$PATH" FERRY_HOME="$T/home" bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_ferry; printf "%s\n" "${COMPREPLY[@]}"' _ \
		"$R/usr/share/bash-completion/completions/ferry" "$@"
}
[[ $(complete_words ferry us) == user ]] || fail "command: $(complete_words ferry us)"
[[ $(complete_words ferry user di | sort | tr '\n' ' ') == "disable " ]] ||
	fail "user subcommand: $(complete_words ferry user di)"
# (Captured first: grep -q may close the pipe early, and pipefail is on.)
got=$(complete_words ferry send --li)
grep -qx -- --limit-rate <<<"$got" || fail "send options: $got"
got=$(complete_words ferry user add --gr)
grep -qx -- --group <<<"$got" || fail "user add options: $got"
got=$(complete_words ferry get c)
grep -qx 'carol-box:' <<<"$got" || fail "peer alias: $got"
finish
