# bash completion for ferry(1): subcommands, their options, peer aliases
# from the configuration file, the names in a peer's share after "PEER:"
# (ferry ls). Installed to share/bash-completion/completions.

_ferry_peers()
{
	local cfg=${FERRY_HOME:-${XDG_CONFIG_HOME:-$HOME/.config}/ferry}/config
	[[ -r $cfg ]] || return
	sed -n 's/^[[:space:]]*\[peer[[:space:]]\{1,\}\([A-Za-z0-9._-]\{1,\}\)\][[:space:]]*$/\1:/p' "$cfg"
}

# PEER:DIR/PART (the word being completed, whole, as bash splits at ':'):
# the names in DIR of that peer's share, from 'ferry ls' (three seconds at
# most). Returns 1 when the word is not PEER:... with a configured PEER.
_ferry_remote()
{
	local line=${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}
	local word=${line##*[[:space:]]} peer rest dir='' n
	[[ $word == ?*:* ]] || return 1
	peer=${word%%:*} rest=${word#*:}
	_ferry_peers | grep -qxF -- "$peer:" || return 1
	[[ $rest == */* ]] && dir=${rest%/*}/
	mapfile -t COMPREPLY < <(ferry ls --timeout 3 "$peer:$dir" 2>/dev/null |
		sed -n 's/^[-a-zA-Z]\{10\} \{1,\}[-0-9]\{1,\}  [0-9-]\{10\} [0-9:]\{5\}  //p' |
		while IFS= read -r n; do
			[[ $dir$n == "$rest"* ]] && printf '%s\n' "$peer:$dir$n"
		done)
	# bash took the word apart at ':': offer only what follows the last one.
	if [[ $COMP_WORDBREAKS == *:* ]]; then
		local head=${word%"${word##*:}"}
		COMPREPLY=("${COMPREPLY[@]#"$head"}")
	fi
	[[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == */ ]] && compopt -o nospace 2>/dev/null
	return 0
}

_ferry()
{
	local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]:-} sub=${COMP_WORDS[2]:-}
	local cmds="ca serve send get ls echo-server echo user authd enroll renew id crl"
	if [[ $COMP_CWORD -eq 1 ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$cmds --help --version" -- "$cur")
		return
	fi
	case $cmd in
	ca)
		if [[ $COMP_CWORD -eq 2 ]]; then
			mapfile -t COMPREPLY < <(compgen -W "init intermediate issue revoke crl" -- "$cur")
			return
		fi ;;
	user)
		if [[ $COMP_CWORD -eq 2 ]]; then
			mapfile -t COMPREPLY < <(compgen -W "add passwd del dns group disable enable list log" -- "$cur")
			return
		fi ;;
	crl)
		if [[ $COMP_CWORD -eq 2 ]]; then
			mapfile -t COMPREPLY < <(compgen -W "update" -- "$cur")
			return
		fi ;;
	id)
		if [[ $COMP_CWORD -eq 2 && $cur != -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "export" -- "$cur")
			return
		fi ;;
	esac
	if [[ ${COMP_WORDS[COMP_CWORD - 1]} == --log ]]; then
		mapfile -t COMPREPLY < <(compgen -W "auto stderr journal syslog" -- "$cur")
		return
	fi
	if [[ $cur == -* ]]; then
		# Every command lists its options in its --help text.
		local words args=("$cmd")
		[[ ($cmd == ca || $cmd == user || ($cmd == id && $sub == export)) &&
			$COMP_CWORD -gt 2 ]] && args+=("$sub")
		words=$(ferry "${args[@]}" --help 2>/dev/null |
			grep -o -- '--[a-z0-9-]\{2,\}' | sort -u)
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		return
	fi
	case $cmd in
	send | get | ls)
		_ferry_remote && return
		mapfile -t COMPREPLY < <(compgen -W "$(_ferry_peers)" -- "$cur")
		[[ $cmd == send || $cmd == get ]] &&
			mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
		;;
	echo)
		mapfile -t COMPREPLY < <(compgen -W "$(_ferry_peers)" -- "$cur")
		;;
	*)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	esac
}
complete -F _ferry ferry
