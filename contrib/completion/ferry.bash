# bash completion for ferry(1): subcommands, their options, peer aliases
# from the configuration file. Installed to share/bash-completion/completions.

_ferry_peers()
{
	local cfg=${FERRY_HOME:-${XDG_CONFIG_HOME:-$HOME/.config}/ferry}/config
	[[ -r $cfg ]] || return
	sed -n 's/^[[:space:]]*\[peer[[:space:]]\{1,\}\([A-Za-z0-9._-]\{1,\}\)\][[:space:]]*$/\1:/p' "$cfg"
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
	send | get | ls | echo)
		mapfile -t COMPREPLY < <(compgen -W "$(_ferry_peers)" -- "$cur")
		[[ $cmd == send || $cmd == get ]] &&
			mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
		;;
	*)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	esac
}
complete -F _ferry ferry
