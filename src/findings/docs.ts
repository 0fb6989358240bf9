/**
 * One source for `netdiag explain` and docs/findings.md: the catalog. `npm run docs` (make docs)
 * regenerates the file and a test fails when it is out of date.
 */
import type { CodeInfo } from './code-info.js';
import { ALL_CODES } from './catalog.js';

export function formatCodeDoc(c: CodeInfo, style: 'text' | 'markdown'): string {
  if (style === 'text') {
    return `${c.code} (${c.severity}): ${c.title}\n\n${c.explanation}\n\nFix: ${c.fix}\n`;
  }
  return `### \`${c.code}\`\n\n**${c.severity}**: ${c.title}\n\n${c.explanation}\n\n**Fix:** ${c.fix}\n`;
}

export function findingsMarkdown(): string {
  let s =
    '# Finding codes\n\nGenerated from `src/findings/codes-*.ts` by `make docs`; `netdiag explain CODE` prints the same text.\n' +
    'Codes are stable: scripts may match on them. Severity: `error` makes the exit code 1; `warning` and `info` do not.\n\n';
  s += '| code | severity | title |\n| --- | --- | --- |\n';
  for (const c of ALL_CODES)
    s += `| [\`${c.code}\`](#${c.code}) | ${c.severity} | ${c.title.replace(/\|/g, '\\|')} |\n`;
  s += '\n';
  for (const c of ALL_CODES) s += `${formatCodeDoc(c, 'markdown')}\n`;
  return s;
}

if (process.argv[1]?.endsWith('findings/docs.js')) process.stdout.write(findingsMarkdown());
