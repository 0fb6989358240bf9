/**
 * Bash completion for netdiag, made from the commands' definitions: the commands, each one's
 * options, what an option's value is (a file, a directory, an interface, a finding code), and the
 * finding codes from the catalog. Interfaces are listed when completing (/sys/class/net).
 */
import type { Command, OptionDef } from './command.js';

type Completion = NonNullable<Command['operand']>['complete'];

/** Bash words, quoted for a `compgen -W '...'` list (codes and flags have no quotes in them). */
const words = (list: readonly string[]) => list.join(' ');

function valueCase(kind: Completion): string {
  switch (kind) {
    case 'file':
      return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))';
    case 'directory':
      return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur"))';
    case 'interface':
      return 'COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null) any" -- "$cur"))';
    case 'finding-code':
      return 'COMPREPLY=($(compgen -W "$codes" -- "$cur"))';
    default:
      return 'COMPREPLY=()';
  }
}

function flagsOf(name: string, o: OptionDef): string[] {
  return [`--${name}`, ...(o.short ? [`-${o.short}`] : [])];
}

export function bashCompletion(commands: readonly Command[], codes: readonly string[]): string {
  const lines = [
    '# bash completion for netdiag (generated from its option definitions)',
    '_netdiag() {',
    '  local cur prev cmd i',
    '  cur="${COMP_WORDS[COMP_CWORD]}"',
    '  prev="${COMP_WORDS[COMP_CWORD-1]}"',
    `  local codes='${words(codes)}'`,
    '  cmd=',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    case "${COMP_WORDS[i]}" in -*) ;; *) cmd="${COMP_WORDS[i]}"; break ;; esac',
    '  done',
    '  if [[ -z "$cmd" ]]; then',
    `    COMPREPLY=($(compgen -W '${words([...commands.map(c => c.name), '--help', '--version'])}' -- "$cur"))`,
    '    return',
    '  fi',
    '  case "$cmd" in',
  ];
  for (const c of commands) {
    const entries = Object.entries(c.options);
    lines.push(`    ${c.name})`);
    const valued = entries.filter(([, o]) => o.kind === 'value');
    if (valued.length) {
      lines.push('      case "$prev" in');
      for (const [name, o] of valued) {
        lines.push(
          `        ${flagsOf(name, o).join('|')}) ${valueCase(o.kind === 'value' ? o.complete : undefined)}; return ;;`,
        );
      }
      lines.push('      esac');
    }
    const flags = [...entries.flatMap(([name, o]) => flagsOf(name, o)), '--help'];
    lines.push(`      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W '${words(flags)}' -- "$cur")); return; fi`);
    lines.push(`      ${valueCase(c.operand?.complete)}`, '      ;;');
  }
  lines.push('  esac', '}', 'complete -F _netdiag netdiag', '');
  return lines.join('\n');
}
