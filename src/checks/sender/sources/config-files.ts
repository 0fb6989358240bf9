/**
 * The sender's netconsole configuration from every place it can come from, as NetconsoleTargets:
 * /etc/sysconfig/netconsole, netconsole= on the kernel command line, `options netconsole` in
 * modprobe.d, configfs targets, and the kernel log (what the kernel actually used). Pure.
 */
import type { NetconsoleTarget } from '../../../config/target.js';
import { KERNEL_DEFAULT_LOCAL_PORT, KERNEL_DEFAULT_REMOTE_PORT } from '../../../config/target.js';
import { parseNetconsoleSpec, normalizeMac, parsePort, ipFamily } from '../../../config/netconsole-spec.js';
import type { ConfigfsTargetFacts } from '../../host/facts.js';

/** Splits a kernel command line into arguments (double quotes group, as the kernel's parser does). */
export function splitCmdline(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQ = false;
  let any = false;
  for (const c of text) {
    if (c === '"') {
      inQ = !inQ;
      any = true;
      continue;
    }
    if (!inQ && /\s/.test(c)) {
      if (any) out.push(cur);
      cur = '';
      any = false;
      continue;
    }
    cur += c;
    any = true;
  }
  if (any) out.push(cur);
  return out;
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
    else if (arg.startsWith('netconsole.netconsole=')) out.push({ spec: arg.slice('netconsole.netconsole='.length), form: 'module' });
  }
  return out;
}

export function cmdlineNetconsoleSpecs(text: string): string[] {
  return cmdlineNetconsoleParams(text).map(p => p.spec);
}

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
    if (words[0] === 'options' && (words[1] === 'netconsole')) {
      for (const w of words.slice(2)) if (w.startsWith('netconsole=')) out.push({ spec: w.slice('netconsole='.length), line: start + 1 });
    } else if (words[0] === 'install' && words[1] === 'netconsole') {
      // install netconsole /sbin/modprobe --ignore-install netconsole netconsole=...
      for (const w of words.slice(2)) if (w.startsWith('netconsole=')) out.push({ spec: w.slice('netconsole='.length), line: start + 1 });
    }
  }
  return out;
}

export interface ConfigfsTarget {
  name: string;
  enabled: boolean | undefined;
  target: NetconsoleTarget;
  /** Attribute problems (bad values), `configfs:NAME: ...`. */
  errors: string[];
}

/** A configfs target directory's attributes as a NetconsoleTarget. The kernel's defaults read back as explicit values, so `explicit` lists only non-default ones. */
export function configfsTarget(f: ConfigfsTargetFacts): ConfigfsTarget {
  const a = f.attrs;
  const errors: string[] = [];
  const source = `configfs:${f.name}`;
  const explicit: NetconsoleTarget['explicit'] = [];
  const bool = (k: string) => (a[k] === undefined ? undefined : a[k] === '1' || a[k] === 'Y' || a[k] === 'y');
  const port = (k: string, dflt: number): number => {
    if (a[k] === undefined) return dflt;
    const n = parsePort(a[k]!);
    if (n === undefined) {
      errors.push(`${source}: ${k} is ${JSON.stringify(a[k])}`);
      return dflt;
    }
    return n;
  };
  const extended = bool('extended') ?? false;
  const release = bool('release') ?? false;
  if (extended) explicit.push('extended');
  if (release) explicit.push('release');
  const localPort = port('local_port', KERNEL_DEFAULT_LOCAL_PORT);
  const remotePort = port('remote_port', KERNEL_DEFAULT_REMOTE_PORT);
  if (localPort !== KERNEL_DEFAULT_LOCAL_PORT) explicit.push('localPort');
  if (remotePort !== KERNEL_DEFAULT_REMOTE_PORT) explicit.push('remotePort');
  const t: NetconsoleTarget = { source, extended, release, localPort, remotePort, remoteIp: '', explicit };
  const lip = a.local_ip;
  if (lip && lip !== '0.0.0.0' && lip !== '::') {
    if (ipFamily(lip) === 0) errors.push(`${source}: local_ip is ${JSON.stringify(lip)}`);
    else {
      t.localIp = lip.toLowerCase();
      explicit.push('localIp');
    }
  }
  const rip = a.remote_ip;
  if (rip && rip !== '0.0.0.0' && rip !== '::') {
    if (ipFamily(rip) === 0) errors.push(`${source}: remote_ip is ${JSON.stringify(rip)}`);
    else {
      t.remoteIp = rip.toLowerCase();
      explicit.push('remoteIp');
    }
  }
  if (a.dev_name) {
    t.dev = a.dev_name;
    explicit.push('dev');
  }
  const mac = a.remote_mac ? normalizeMac(a.remote_mac) : undefined;
  if (a.remote_mac && !mac) errors.push(`${source}: remote_mac is ${JSON.stringify(a.remote_mac)}`);
  if (mac && mac !== 'ff:ff:ff:ff:ff:ff') {
    t.remoteMac = mac;
    explicit.push('remoteMac');
  }
  return { name: f.name, enabled: bool('enabled'), target: t, errors };
}

/** The targets of modprobe.d files and the kernel command line, each with its source; errors from the parser. (sysconfig: src/config/sysconfig.ts) */
export function configuredTargets(input: {
  cmdline?: { text: string; from: string };
  modprobe?: Array<{ text: string; from: string }>;
}): { targets: NetconsoleTarget[]; errors: string[] } {
  const targets: NetconsoleTarget[] = [];
  const errors: string[] = [];
  for (const f of input.modprobe ?? []) {
    for (const s of modprobeNetconsoleSpecs(f.text)) {
      const r = parseNetconsoleSpec(s.spec, `${f.from}:${s.line}`);
      for (const t of r.targets) targets.push({ ...t, line: s.line, source: f.from });
      errors.push(...r.errors);
    }
  }
  if (input.cmdline) {
    for (const p of cmdlineNetconsoleParams(input.cmdline.text)) {
      const r = parseNetconsoleSpec(p.spec, input.cmdline.from);
      targets.push(...r.targets);
      errors.push(...r.errors);
    }
  }
  return { targets, errors };
}
