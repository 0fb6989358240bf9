/**
 * Source: `netconsole=` (built-in netconsole) and `netconsole.netconsole=` (the module, through
 * modprobe) on the kernel command line, /proc/cmdline. Pure, except collect through its HostExec.
 */
import { parseNetconsoleSpec } from '../../../config/netconsole-spec.js';
import type { FactText } from '../../host/fact-text.js';
import { readFact } from '../../host/read.js';
import { splitQuoted } from '../../host/words.js';
import type { SenderSource } from './types.js';

/** Splits a kernel command line into arguments (double quotes group, as the kernel's parser does). */
export function splitCmdline(text: string): string[] {
  return splitQuoted(text, { quotes: '"', blank: /\s/, backslashInDouble: false });
}

export interface CmdlineNetconsole {
  /** The value after `netconsole=` (built-in netconsole reads it). */
  spec: string;
  /** `netconsole=` (built-in only) or `netconsole.netconsole=` (read by modprobe for the module). */
  form: 'builtin' | 'module';
}

/** The netconsole parameters on a kernel command line, in order. */
export function cmdlineNetconsoleParams(text: string): CmdlineNetconsole[] {
  const out: CmdlineNetconsole[] = [];
  for (const arg of splitCmdline(text)) {
    if (arg.startsWith('netconsole=')) out.push({ spec: arg.slice('netconsole='.length), form: 'builtin' });
    else if (arg.startsWith('netconsole.netconsole='))
      out.push({ spec: arg.slice('netconsole.netconsole='.length), form: 'module' });
  }
  return out;
}

export const cmdlineSource: SenderSource<'cmdline', FactText> = {
  key: 'cmdline',
  async collect(exec, notes) {
    const f = await readFact(exec, '/proc/cmdline');
    if (!f) notes.push('/proc/cmdline: not readable');
    return f;
  },
  read(f) {
    const out: ReturnType<SenderSource['read']> = { targets: [], errors: [], warnings: [] };
    for (const p of cmdlineNetconsoleParams(f.text)) {
      const r = parseNetconsoleSpec(p.spec, f.from);
      out.targets.push(...r.targets.map(target => ({ target })));
      out.errors.push(...r.errors);
    }
    return out;
  },
  nothingFound: f => `${f.from}: no netconsole=`,
};
