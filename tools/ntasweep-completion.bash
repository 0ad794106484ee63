# bash completion for ntasweep. Source it (e.g. from ~/.bashrc):
#   source /path/to/ntasweep/tools/ntasweep-completion.bash
# Commands and options come from the binary itself (`ntasweep help --commands`,
# `ntasweep help --options CMD`), the same table its --help and man page use.
_ntasweep() {
  local cur prev bin cmd
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  bin=${COMP_WORDS[0]}
  command -v "$bin" > /dev/null 2>&1 || bin=ntasweep
  if [ "$COMP_CWORD" -eq 1 ]; then
    mapfile -t COMPREPLY < <(compgen -W "$("$bin" help --commands 2>/dev/null) --help --version" -- "$cur")
    return
  fi
  cmd=${COMP_WORDS[1]}
  case $prev in
    -o|--output)
      mapfile -t COMPREPLY < <(compgen -f -X '!*.@(h5|csv|tsv|json)' -- "$cur"); compopt -o plusdirs 2>/dev/null
      return ;;
    --format) mapfile -t COMPREPLY < <(compgen -W "csv tsv json" -- "$cur"); return ;;
    --set)
      local keys
      keys=$("$bin" params 2>/dev/null | cut -f1 | sed 's/$/=/')
      mapfile -t COMPREPLY < <(compgen -W "$keys replicates=" -- "$cur"); compopt -o nospace 2>/dev/null
      return ;;
    --grace|--flush|--progress|--steps|--reps) return ;;
  esac
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$("$bin" help --options "$cmd" 2>/dev/null)" -- "$cur")
    return
  fi
  case $cmd in
    run|validate|plan) mapfile -t COMPREPLY < <(compgen -f -X '!*.ini' -- "$cur"); compopt -o plusdirs 2>/dev/null ;;
    resume|status|export) mapfile -t COMPREPLY < <(compgen -f -X '!*.h5' -- "$cur"); compopt -o plusdirs 2>/dev/null ;;
    help) mapfile -t COMPREPLY < <(compgen -W "$("$bin" help --commands 2>/dev/null)" -- "$cur") ;;
  esac
}
complete -F _ntasweep ntasweep
