/**
 * Source: /etc/sysconfig/netconsole, the CentOS/RHEL netconsole service's settings (parsed by
 * src/config/sysconfig.ts, which analyze's --config shares). A host name in SYSLOGADDR is
 * resolved on the sender, as its init script does at start. Pure, except collect through its
 * HostExec.
 */
import { ipFamily } from '../../../config/netconsole-spec.js';
import { parseSysconfigNetconsole } from '../../../config/sysconfig.js';
import type { FactText } from '../../host/fact-text.js';
import { readFact } from '../../host/read.js';
import type { SenderSource } from './types.js';

export interface SysconfigFacts extends FactText {
  /** SYSLOGADDR's host name resolved on the sender (`getent ahostsv4`): its IPv4 addresses (none: does not resolve). */
  resolved?: { host: string; addrs: string[]; from: string };
}

/** The IPv4 addresses of `getent ahostsv4 NAME` output (`10.0.0.1  STREAM name`), in order, once each. */
function parseGetent(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const a = line.trim().split(/\s+/)[0];
    if (a && ipFamily(a) === 4 && !out.includes(a)) out.push(a);
  }
  return out;
}

export const sysconfigSource: SenderSource<'sysconfig', SysconfigFacts> = {
  key: 'sysconfig',
  async collect(exec) {
    const f = await readFact(exec, '/etc/sysconfig/netconsole');
    if (!f) return undefined;
    const host = parseSysconfigNetconsole(f.text, f.from).targets[0]?.remoteIp;
    if (!host || ipFamily(host) !== 0) return f;
    const argv = ['getent', 'ahostsv4', host];
    const r = await exec.run(argv);
    return { ...f, resolved: { host, addrs: r.code === 0 ? parseGetent(r.stdout) : [], from: argv.join(' ') } };
  },
  read(f) {
    const r = parseSysconfigNetconsole(f.text, f.from);
    const warnings = [...r.warnings];
    const targets = r.targets.map(target => {
      const res = f.resolved;
      if (!res || res.host !== target.remoteIp) return { target };
      const at = `${f.from}:${target.line ?? ''}`;
      if (!res.addrs.length) {
        warnings.push(
          `${at}: SYSLOGADDR ${res.host} does not resolve on the sender (${res.from}): the init script would refuse to start`,
        );
        return { target };
      }
      warnings.push(
        `${at}: SYSLOGADDR ${res.host} resolves to ${res.addrs.join(', ')} on the sender (${res.from}); the init script takes the first at its start`,
      );
      return { target: { ...target, remoteIp: res.addrs[0]!, remoteHost: res.host } };
    });
    return { targets, errors: r.errors, warnings };
  },
  nothingFound: f => `${f.from}: no SYSLOGADDR target`,
  macResolvedAtStart: 'SYSLOGMACADDR empty: the init script resolves it at start (arping)',
};
