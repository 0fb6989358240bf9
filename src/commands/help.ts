/** `--help` for netdiag and for each command, made from the commands' definitions. */
import { optionSynopsis, optionText, usageLines, type Command } from './command.js';

export function topHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map(c => c.name.length));
  const lines = ['usage: netdiag <command> [options]', '', 'commands:'];
  for (const c of commands) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  lines.push('', "Run 'netdiag <command> --help' for a command's options.");
  return lines.join('\n') + '\n';
}

export function commandHelp(c: Command): string {
  const rows: Array<[string, string]> = [];
  if (c.operand) rows.push([c.operand.hint, c.operand.description]);
  for (const [name, o] of Object.entries(c.options)) rows.push([optionSynopsis(name, o), optionText(o)]);
  const width = Math.max(...rows.map(([left]) => left.length), 10);
  const usage = usageLines(c).map((u, i) => `${i ? '       ' : 'usage: '}${u}`);
  const lines = [...usage, '', c.summary, ''];
  for (const [left, text] of rows) lines.push(`  ${left.padEnd(width)}  ${text}`);
  return lines.join('\n') + '\n';
}
