# zsh_complete.zsh FPATHDIR BINDIR LINE - for t_install.sh: types LINE and a
# Tab into an interactive zsh (on a pseudo-terminal, compinit loaded with
# FPATHDIR first in fpath, ferry from BINDIR), then prints the line zsh
# shows, without terminal escapes. FERRY_HOME is passed on.
setopt extendedglob
zmodload zsh/zpty || exit 3
fdir=$1 bdir=$2 line=$3
zpty z env -i HOME=$FERRY_HOME FERRY_HOME=$FERRY_HOME PATH=$bdir:/usr/bin:/bin \
	TERM=vt100 zsh -f -i
# The quotes keep the echo of this line from matching READY.
zpty -w z "PS1='%% '; fpath=($fdir \$fpath); autoload -Uz compinit; compinit -u -D; print RE''ADY"
zpty -r -m z out '*READY*' || exit 4
zpty -w -n z "$line"$'\t'
local all= chunk
integer i quiet=0
for ((i = 0; i < 50 && quiet < 8; i++)); do # 5 s at most, done once 0.8 s quiet
	sleep 0.1
	quiet+=1
	while zpty -r -t z chunk; do all+=$chunk; quiet=0; done
done
zpty -d z
all=${all//$'\0'/}
all=${all//$'\e'\[[0-9;?]#[A-Za-z]/}
all=${all//$'\r'/$'\n'}
# The last line zle drew: what follows the final prompt.
all=${all##*% }
print -r -- "${all//?$'\b'/}"
