#!/usr/bin/env bash
# t_install.sh - make install's layout (cmake --install with DESTDIR and a
# prefix, as a package build does): the binary runs, `man -w ferry` finds the
# page, bash and zsh completion complete commands, options and peer aliases
# and the names in a running peer's share after "PEER:",
# the systemd units name the installed binary and configuration, an example
# configuration the admin edited is kept, and the manifest lists it all.
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
	usr/share/doc/ferry/SECURITY.md usr/share/doc/ferry/SERVICE.md \
	usr/share/doc/ferry/examples/ferry-low-port.conf \
	usr/share/zsh/vendor-completions/_ferry \
	usr/lib/systemd/user/ferry-serve.service \
	usr/lib/systemd/user/ferry-renew.service \
	usr/lib/systemd/user/ferry-renew.timer \
	etc/ferry/serve.conf etc/ferry/authd.conf; do
	[[ -f $R/$f ]] || fail "not installed: /$f"
done
# System units where systemd.pc says (/lib/systemd/system on Debian 12).
sysdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /usr/lib/systemd/system)
for u in ferry-serve.service ferry-authd.service; do
	[[ -f $R$sysdir/$u ]] || fail "not installed: $sysdir/$u"
done
got=$(grep -h '^ExecStart=' "$R$sysdir/ferry-serve.service" "$R$sysdir/ferry-authd.service")
[[ $got == "ExecStart=/usr/bin/ferry serve --config /etc/ferry/serve.conf --log journal
ExecStart=/usr/bin/ferry authd --config /etc/ferry/authd.conf --log journal" ]] ||
	fail "system units' ExecStart: $got"
got=$(grep -h '^ExecStart=' "$R/usr/lib/systemd/user/ferry-renew.service")
[[ $got == "ExecStart=/usr/bin/ferry renew --if-due" ]] || fail "renew unit: $got"
grep -rq '@[A-Z]*@' "$R$sysdir" "$R/usr/lib/systemd/user" && fail "a unit kept a @VARIABLE@"

# Another prefix: the units follow it, configuration in PREFIX/etc.
run env DESTDIR="$T/local" cmake --install "$B" --prefix /opt/ferry
[[ $RC == 0 ]] || fail "cmake --install --prefix /opt/ferry: exit $RC: $(cat "$ERR")"
got=$(grep -h '^ExecStart=' "$T/local/opt/ferry/lib/systemd/system/ferry-serve.service")
[[ $got == "ExecStart=/opt/ferry/bin/ferry serve --config /etc/opt/ferry/ferry/serve.conf --log journal" ]] ||
	fail "/opt/ferry unit: $got"
[[ -f $T/local/etc/opt/ferry/ferry/serve.conf ]] || fail "/opt/ferry: no serve.conf in /etc/opt/ferry/ferry"

# An edited configuration survives a second install; the manifest still
# lists everything else.
echo '# edited' >>"$R/etc/ferry/serve.conf"
run env DESTDIR="$R" cmake --install "$B" --prefix /usr
[[ $RC == 0 ]] || fail "second cmake --install: exit $RC: $(cat "$ERR")"
grep -q '^# edited$' "$R/etc/ferry/serve.conf" || fail "a second install overwrote an edited serve.conf"
grep -qx /usr/lib/systemd/user/ferry-renew.timer "$B/install_manifest.txt" ||
	fail "install_manifest.txt lacks the timer"
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

# zsh completion, in an interactive zsh on a pseudo-terminal: the line after
# typing the words and a Tab.
if command -v zsh >/dev/null; then
	zsh_complete() { # LINE (FERRY_HOME: $ZHOME, else $T/home)
		FERRY_HOME="${ZHOME:-$T/home}" timeout 20 zsh -f "$(dirname "$0")/zsh_complete.zsh" \
			"$R/usr/share/zsh/vendor-completions" "$R/usr/bin" "$1" || true
	}
	got=$(zsh_complete 'ferry us')
	[[ $got == 'ferry user ' ]] || fail "zsh command: '$got'"
	got=$(zsh_complete 'ferry user di')
	[[ $got == 'ferry user disable ' ]] || fail "zsh user subcommand: '$got'"
	got=$(zsh_complete 'ferry send --limit-r')
	[[ $got == 'ferry send --limit-rate ' ]] || fail "zsh send option: '$got'"
	got=$(zsh_complete 'ferry get carol-')
	[[ $got == 'ferry get carol-box:' ]] || fail "zsh peer alias: '$got'"
	# After "PEER:", the names in the peer's share (ferry ls).
	org_init
	mkdir -p "$T/share/docs"
	echo x >"$T/share/report.pdf"
	echo y >"$T/share/docs/notes.txt"
	start_serve
	printf '[peer bob]\naddress = 127.0.0.1:%s\nid = bob\n' "$PORT" >"$T/alice/config"
	ZHOME=$T/alice
	got=$(zsh_complete 'ferry get bob:re')
	[[ $got == 'ferry get bob:report.pdf ' ]] || fail "zsh remote file: '$got'"
	got=$(zsh_complete 'ferry ls bob:d')
	[[ $got == 'ferry ls bob:docs/' ]] || fail "zsh remote directory: '$got'"
	got=$(zsh_complete 'ferry get bob:docs/no')
	[[ $got == 'ferry get bob:docs/notes.txt ' ]] || fail "zsh remote file in a directory: '$got'"
	ZHOME=
	# bash, with the line split as bash splits it (':' is a word break).
	complete_line() { # LINE: COMPREPLY for its end, one per line
		PATH="$R/usr/bin:$PATH" FERRY_HOME="$T/alice" bash -c '
			. "$1"
			COMP_LINE=$2 COMP_POINT=${#2}
			read -ra COMP_WORDS <<<"${2//:/ : }"
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			[[ $2 == *" " ]] && { COMP_WORDS+=(""); COMP_CWORD=$((COMP_CWORD + 1)); }
			_ferry; printf "%s\n" "${COMPREPLY[@]}"' _ \
			"$R/usr/share/bash-completion/completions/ferry" "$1"
	}
	got=$(complete_line 'ferry get bob:re')
	[[ $got == report.pdf ]] || fail "bash remote file: '$got'"
	got=$(complete_line 'ferry get bob:' | sort | tr '\n' ' ')
	[[ $got == 'docs/ report.pdf ' ]] || fail "bash remote top: '$got'"
	got=$(complete_line 'ferry ls bob:docs/n')
	[[ $got == docs/notes.txt ]] || fail "bash remote file in a directory: '$got'"
else
	fail "no zsh (scripts/deps.sh installs it)"
fi
finish
