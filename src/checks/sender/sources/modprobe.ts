/**
 * Source: `options netconsole netconsole=...` (and `install netconsole ... netconsole=...`) in
 * /etc/modprobe.d/*.conf, /usr/lib/modprobe.d, /lib/modprobe.d and the old /etc/modprobe.conf.
 * Pure, except collect through its HostExec.
 */
import { parseNetconsoleSpec } from '../../../config/netconsole-spec.js';
import type { FactText } from '../../host/fact-text.js';
import { expandGlob, readFact } from '../../host/read.js';
import { splitCmdline } from './cmdline.js';
import type { SenderSource } from './types.js';

/** `options netconsole netconsole=...` lines of a modprobe.d file (with `\` continuations), with line numbers. */
export function modprobeNetconsoleSpecs(text: string): Array<{ spec: string; line: number }> {
  const out: Array<{ spec: string; line: number }> = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let l = lines[i]!;
    while (l.endsWith('\\') && i + 1 < lines.length) l = l.slice(0, -1) + ' ' + lines[++i]!;
    const s = l.replace(/#.*$/, '').trim();
    const words = splitCmdline(s);
    if (words[0] === 'options' && words[1] === 'netconsole') {
      for (const w of words.slice(2))
        if (w.startsWith('netconsole=')) out.push({ spec: w.slice('netconsole='.length), line: start + 1 });
    } else if (words[0] === 'install' && words[1] === 'netconsole') {
      // install netconsole /sbin/modprobe --ignore-install netconsole netconsole=...
      for (const w of words.slice(2))
        if (w.startsWith('netconsole=')) out.push({ spec: w.slice('netconsole='.length), line: start + 1 });
    }
  }
  return out;
}

export const modprobeSource: SenderSource<'modprobe', FactText[]> = {
  key: 'modprobe',
  async collect(exec) {
    const out: FactText[] = [];
    for (const dir of ['/etc/modprobe.d', '/usr/lib/modprobe.d', '/lib/modprobe.d']) {
      for (const path of await expandGlob(exec, `${dir}/*.conf`)) {
        const f = await readFact(exec, path);
        if (f) out.push(f);
      }
    }
    const legacy = await readFact(exec, '/etc/modprobe.conf');
    if (legacy) out.push(legacy);
    return out;
  },
  read(files) {
    const out: ReturnType<SenderSource['read']> = { targets: [], errors: [], warnings: [] };
    for (const f of files) {
      for (const s of modprobeNetconsoleSpecs(f.text)) {
        const r = parseNetconsoleSpec(s.spec, `${f.from}:${s.line}`);
        for (const t of r.targets) out.targets.push({ target: { ...t, line: s.line, source: f.from } });
        out.errors.push(...r.errors);
      }
    }
    return out;
  },
  nothingFound: files => `modprobe.d (${files.length} files): no options netconsole netconsole=`,
};
