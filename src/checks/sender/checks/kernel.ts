/**
 * The sender checks of the kernel's own settings: the console log level (which messages
 * netconsole gets at all) and SysRq (verify's trigger, and the dumps an administrator wants). Pure.
 */
import type { Finding } from '../../../findings/finding.js';
import { finding } from '../../../findings/catalog.js';
import type { SenderFacts } from '../../host/facts.js';
import { parsePrintk } from '../../host/procnet.js';
import { type CheckResult, check } from '../../check.js';
import { splitCmdline } from '../sources/cmdline.js';

export function loglevelCheck(facts: SenderFacts): CheckResult {
  const f: Finding[] = [];
  const p = facts.printk ? parsePrintk(facts.printk.text) : undefined;
  const ignore = facts.cmdline ? splitCmdline(facts.cmdline.text).includes('ignore_loglevel') : false;
  let detail = 'unknown';
  if (p) {
    detail = `console log level ${p.console} (default message level ${p.defaultMessage})${ignore ? ', ignore_loglevel set' : ''}`;
    if (!ignore && p.console <= p.defaultMessage) {
      f.push(
        finding('console-loglevel-low', {
          ...(p.console <= 1 ? { severity: 'error' as const } : {}),
          summary: `console log level ${p.console}: only messages of level ${p.console - 1} and more severe are sent`,
          evidence: [
            `${facts.printk!.from}: ${facts.printk!.text.trim()}`,
            `messages at the default level ${p.defaultMessage} (most driver output, the SysRq dumps) are not sent`,
          ],
        }),
      );
    }
  }
  return check('sender.loglevel', 'console log level', f, detail, p ? 'pass' : 'unknown');
}

export function sysrqCheck(facts: SenderFacts): CheckResult {
  const f: Finding[] = [];
  const v = facts.sysrq ? Number(facts.sysrq.text.trim()) : NaN;
  let detail = 'unknown';
  if (Number.isInteger(v)) {
    detail = `kernel.sysrq = ${v}`;
    if (v === 0)
      f.push(
        finding('sysrq-disabled', {
          summary: 'SysRq is disabled (kernel.sysrq = 0)',
          evidence: [`${facts.sysrq!.from}: 0`],
        }),
      );
    else if (v !== 1 && (v & 8) === 0)
      f.push(
        finding('sysrq-disabled', {
          summary: `kernel.sysrq = ${v} does not allow the register/task dumps (bit 8)`,
          evidence: [`${facts.sysrq!.from}: ${v}`],
        }),
      );
  }
  return check('sender.sysrq', 'SysRq', f, detail, Number.isInteger(v) ? 'pass' : 'unknown');
}
