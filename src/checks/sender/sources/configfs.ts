/**
 * Source: configfs targets, /sys/kernel/config/netconsole/NAME/ (netconsole with
 * CONFIG_NETCONSOLE_DYNAMIC). On 6.1 a target from the kernel parameter is not listed there.
 * Pure, except collect through its HostExec.
 */
import type { NetconsoleTarget } from '../../../config/target.js';
import { KERNEL_DEFAULT_LOCAL_PORT, KERNEL_DEFAULT_REMOTE_PORT } from '../../../config/target.js';
import { normalizeMac, parsePort, ipFamily } from '../../../config/netconsole-spec.js';
import type { ConfigfsTargetFacts } from '../../host/fact-text.js';
import { listDir } from '../../host/read.js';
import { SYSDATA_SWITCHES, type SenderSource, type Sysdata, type TargetExtras } from './types.js';

/** Where configfs keeps netconsole targets. */
export const CONFIGFS_NETCONSOLE = '/sys/kernel/config/netconsole';

export interface ConfigfsTarget {
  name: string;
  enabled: boolean | undefined;
  target: NetconsoleTarget;
  extras: TargetExtras;
  /** Attribute problems (bad values), `configfs:NAME: ...`. */
  errors: string[];
}

/** A target's extras from its attributes (`userdata/...` keys are the files below userdata/). */
function targetExtras(a: Record<string, string>, source: string, errors: string[]): TargetExtras {
  const out: TargetExtras = { userdata: [] };
  if (a.transmit_errors !== undefined) {
    const n = /^\d+$/.test(a.transmit_errors) ? Number(a.transmit_errors) : undefined;
    if (n === undefined) errors.push(`${source}: transmit_errors is ${JSON.stringify(a.transmit_errors)}`);
    else out.transmitErrors = n;
  }
  const on: Sysdata[] = [];
  let switches = false;
  for (const k of SYSDATA_SWITCHES) {
    const v = a[`userdata/${k}_enabled`];
    if (v === undefined) continue;
    switches = true;
    if (v === '1' || v === 'Y' || v === 'y') on.push(k);
  }
  if (switches) out.sysdata = on;
  for (const [k, v] of Object.entries(a)) {
    const m = /^userdata\/([^/]+)\/value$/.exec(k);
    if (m) out.userdata.push({ key: m[1]!, value: v });
  }
  out.userdata.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return out;
}

/**
 * A configfs target directory's attributes as a NetconsoleTarget. The kernel's defaults read back
 * as explicit values, so `explicit` lists only non-default ones.
 */
export function configfsTarget(f: ConfigfsTargetFacts): ConfigfsTarget {
  const a = f.attrs;
  const errors: string[] = [];
  const source = `configfs:${f.name}`;
  const explicit: NetconsoleTarget['explicit'] = [];
  const bool = (k: string) => (a[k] === undefined ? undefined : a[k] === '1' || a[k] === 'Y' || a[k] === 'y');
  const port = (k: string, dflt: number): number => {
    if (a[k] === undefined) return dflt;
    const n = parsePort(a[k]);
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
  const extras = targetExtras(a, source, errors);
  return { name: f.name, enabled: bool('enabled'), target: t, extras, errors };
}

export const configfsSource: SenderSource<'configfs', ConfigfsTargetFacts[]> = {
  key: 'configfs',
  live: true,
  async collect(exec) {
    const names = await listDir(exec, CONFIGFS_NETCONSOLE);
    if (!names) return undefined;
    const targets: ConfigfsTargetFacts[] = [];
    for (const name of names.sort()) {
      const dir = `${CONFIGFS_NETCONSOLE}/${name}`;
      const attrNames = await listDir(exec, dir);
      if (!attrNames) continue;
      const attrs: Record<string, string> = {};
      for (const a of attrNames) {
        if (a === 'userdata') continue;
        const v = await exec.readFile(`${dir}/${a}`);
        if (v !== null) attrs[a] = v.trim();
      }
      // 6.9 and later: userdata/ holds the sysdata switches (files) and one directory per entry.
      const ud = attrNames.includes('userdata') ? await listDir(exec, `${dir}/userdata`) : null;
      for (const e of ud ?? []) {
        const file = e.endsWith('_enabled') ? `${dir}/userdata/${e}` : `${dir}/userdata/${e}/value`;
        const v = await exec.readFile(file);
        if (v !== null) attrs[file.slice(dir.length + 1)] = v.replace(/\n$/, '');
      }
      targets.push({ name, attrs, from: dir });
    }
    return targets;
  },
  read(dirs) {
    const out: ReturnType<SenderSource['read']> = { targets: [], errors: [], warnings: [] };
    for (const d of dirs) {
      const c = configfsTarget(d);
      out.targets.push({
        target: c.target,
        name: c.name,
        ...(c.enabled !== undefined ? { enabled: c.enabled } : {}),
        from: d.from,
        extras: c.extras,
      });
      out.errors.push(...c.errors);
    }
    return out;
  },
  nothingFound: () => 'configfs: no target',
};
