/**
 * Collects SenderFacts and ReceiverFacts through a HostExec: this host (src/io/local-exec.ts),
 * a sender over ssh (written by verify), or a directory of files a user handed in
 * (src/io/dir-exec.ts). Commands are fixed argv arrays; values such as an IP address are separate
 * argv elements, never pasted into a shell line (an ssh adapter quotes each element itself).
 *
 * Collection never throws for a missing file or a failing command: it leaves the fact out and says
 * why in `notes`.
 */
import type { ConfigfsTargetFacts, FactText, ReceiverFacts, SenderFacts } from './facts.js';
import { parseSysconfigNetconsole } from '../../config/sysconfig.js';
import { parseNetconsoleSpec, ipFamily } from '../../config/netconsole-spec.js';
import type { HostExec } from '../../io/host-exec.js';
import { daemonForConfigPath, SYSLOG_DAEMONS } from '../syslog/daemons.js';
import { modprobeNetconsoleSpecs, cmdlineNetconsoleSpecs } from '../sender/sources/config-files.js';

function cmdLine(argv: readonly string[]): string {
  return argv.join(' ');
}

async function listDir(exec: HostExec, dir: string): Promise<string[] | null> {
  if (exec.listDir) return exec.listDir(dir);
  const r = await exec.run(['ls', '-1A', '--', dir]);
  if (r.code !== 0) return null;
  return r.stdout.split('\n').filter(s => s !== '');
}

function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`);
}

/** Expands a path whose last component may hold `*` or `?` (as rsyslog and syslog-ng includes do); sorted like glob(3). */
export async function expandGlob(exec: HostExec, pattern: string): Promise<string[]> {
  const slash = pattern.lastIndexOf('/');
  const dir = slash <= 0 ? '/' : pattern.slice(0, slash);
  const base = pattern.slice(slash + 1);
  if (!/[*?]/.test(base)) {
    // A directory include (rsyslog's include(file="/etc/rsyslog.d/") reads every file in it).
    if (base === '') {
      const names = await listDir(exec, dir);
      return names ? names.sort().map(n => `${dir}/${n}`) : [];
    }
    return [pattern];
  }
  const names = await listDir(exec, dir);
  if (!names) return [];
  const re = globToRegExp(base);
  return names.filter(n => re.test(n) && !n.startsWith('.')).sort().map(n => `${dir}/${n}`);
}

async function readFact(exec: HostExec, path: string): Promise<FactText | undefined> {
  const text = await exec.readFile(path);
  return text === null ? undefined : { text, from: path };
}

async function runFact(exec: HostExec, argv: string[], notes: string[]): Promise<FactText | undefined> {
  const r = await exec.run(argv);
  if (r.code === 0) return { text: r.stdout, from: cmdLine(argv) };
  const why = r.code === 127 ? (r.stderr.trim() ? r.stderr.trim().split('\n')[0]!.slice(0, 120) : 'not installed') : r.code === 124 ? 'timed out' : `exit ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n')[0]!.slice(0, 120)}` : ''}`;
  notes.push(`${cmdLine(argv)}: ${why}`);
  return undefined;
}

export interface SenderCollectOptions {
  /** The receiver's IP, for `ip route get`. Default: the first target found in the sender's configuration. */
  remoteIp?: string;
}

/** Where configfs keeps netconsole targets. */
export const CONFIGFS_NETCONSOLE = '/sys/kernel/config/netconsole';

export async function collectSenderFacts(exec: HostExec, opts: SenderCollectOptions = {}): Promise<SenderFacts> {
  const notes: string[] = [];
  const facts: SenderFacts = { notes };

  const put = <K extends keyof SenderFacts>(k: K, v: SenderFacts[K] | undefined) => {
    if (v !== undefined) facts[k] = v;
  };
  put('sysconfig', await readFact(exec, '/etc/sysconfig/netconsole'));
  put('cmdline', await readFact(exec, '/proc/cmdline'));
  if (!facts.cmdline) notes.push('/proc/cmdline: not readable');

  const modprobe: FactText[] = [];
  for (const dir of ['/etc/modprobe.d', '/usr/lib/modprobe.d', '/lib/modprobe.d']) {
    for (const path of await expandGlob(exec, `${dir}/*.conf`)) {
      const f = await readFact(exec, path);
      if (f) modprobe.push(f);
    }
  }
  const legacy = await readFact(exec, '/etc/modprobe.conf');
  if (legacy) modprobe.push(legacy);
  facts.modprobe = modprobe;

  const targetNames = await listDir(exec, CONFIGFS_NETCONSOLE);
  if (targetNames) {
    const targets: ConfigfsTargetFacts[] = [];
    for (const name of targetNames.sort()) {
      const dir = `${CONFIGFS_NETCONSOLE}/${name}`;
      const attrNames = await listDir(exec, dir);
      if (!attrNames) continue;
      const attrs: Record<string, string> = {};
      for (const a of attrNames) {
        const v = await exec.readFile(`${dir}/${a}`);
        if (v !== null) attrs[a] = v.trim();
      }
      targets.push({ name, attrs, from: dir });
    }
    facts.configfs = targets;
  }

  let log = await runFact(exec, ['dmesg'], notes);
  if (!log || log.text.trim() === '') {
    const j = await runFact(exec, ['journalctl', '-k', '-b', '--no-pager', '-q'], notes);
    if (j && j.text.trim() !== '') log = j;
  }
  put('kernelLog', log);

  const linkJson = await runFact(exec, ['ip', '-d', '-j', 'link', 'show'], notes);
  if (linkJson && linkJson.text.trim().startsWith('[')) facts.ipLink = { ...linkJson, format: 'json' };
  else {
    const t = await runFact(exec, ['ip', '-d', 'link', 'show'], notes);
    if (t) facts.ipLink = { ...t, format: 'text' };
  }
  const addrJson = await runFact(exec, ['ip', '-j', 'addr', 'show'], notes);
  if (addrJson && addrJson.text.trim().startsWith('[')) facts.ipAddr = { ...addrJson, format: 'json' };
  else {
    const t = await runFact(exec, ['ip', 'addr', 'show'], notes);
    if (t) facts.ipAddr = { ...t, format: 'text' };
  }

  const remoteIp = opts.remoteIp ?? firstConfiguredRemoteIp(facts);
  if (remoteIp && ipFamily(remoteIp) !== 0) {
    const r = await runFact(exec, ['ip', 'route', 'get', remoteIp], notes);
    if (r) facts.routeGet = { ...r, ip: remoteIp };
  } else {
    notes.push('ip route get: no receiver IP known (give one, or configure a target)');
  }
  put('neigh', await runFact(exec, ['ip', 'neigh', 'show'], notes));
  put('printk', await readFact(exec, '/proc/sys/kernel/printk'));
  put('sysrq', await readFact(exec, '/proc/sys/kernel/sysrq'));
  let mods = await runFact(exec, ['lsmod'], notes);
  if (!mods) mods = await readFact(exec, '/proc/modules');
  put('modules', mods);
  put('kernelRelease', await runFact(exec, ['uname', '-r'], notes));
  return facts;
}

/** The receiver IP the sender's configuration names first (sysconfig, modprobe.d, cmdline, configfs), if any is an IP. */
export function firstConfiguredRemoteIp(facts: SenderFacts): string | undefined {
  const candidates: string[] = [];
  if (facts.sysconfig) candidates.push(...parseSysconfigNetconsole(facts.sysconfig.text, facts.sysconfig.from).targets.map(t => t.remoteIp));
  for (const f of facts.modprobe ?? []) {
    for (const s of modprobeNetconsoleSpecs(f.text)) candidates.push(...parseNetconsoleSpec(s.spec).targets.map(t => t.remoteIp));
  }
  if (facts.cmdline) {
    for (const s of cmdlineNetconsoleSpecs(facts.cmdline.text)) candidates.push(...parseNetconsoleSpec(s).targets.map(t => t.remoteIp));
  }
  for (const t of facts.configfs ?? []) if (t.attrs.remote_ip) candidates.push(t.attrs.remote_ip);
  return candidates.find(ip => ipFamily(ip) !== 0 && ip !== '0.0.0.0');
}

export interface ReceiverCollectOptions {
  /** The sender's IP, for the route back (rp_filter). */
  senderIp?: string;
  /**
   * The syslog daemon's configuration file when it is not the default (a daemon started with
   * `rsyslogd -f FILE`, or `syslog-ng -f FILE`): only that daemon's configuration is read.
   */
  syslogConfig?: string;
}

export async function collectReceiverFacts(exec: HostExec, opts: ReceiverCollectOptions = {}): Promise<ReceiverFacts> {
  const notes: string[] = [];
  const facts: ReceiverFacts = { notes };
  const put = <K extends keyof ReceiverFacts>(k: K, v: ReceiverFacts[K] | undefined) => {
    if (v !== undefined) facts[k] = v;
  };
  put('udp', await readFact(exec, '/proc/net/udp'));
  put('udp6', await readFact(exec, '/proc/net/udp6'));
  put('ss', await runFact(exec, ['ss', '-ulnp'], notes));

  const given = opts.syslogConfig;
  const chosen = given !== undefined ? daemonForConfigPath(given) : undefined;
  for (const d of SYSLOG_DAEMONS) {
    if (chosen && d !== chosen) continue;
    const files: FactText[] = [];
    if (d.mainConfig) {
      const main = given ?? d.mainConfig.path;
      const relativeTo = given ? given.replace(/\/[^/]*$/, '') || '/' : d.mainConfig.relativeTo;
      files.push(...(await readWithIncludes(exec, main, d.mainConfig.includes, relativeTo)));
      if (!files.length && given) notes.push(`${given}: not readable`);
    }
    if (given === undefined) {
      for (const path of d.otherFiles ?? []) {
        const f = await readFact(exec, path);
        if (f) files.push(f);
      }
    }
    if (files.length) (facts.syslog ??= {})[d.name] = files;
  }

  put('iptables', await runFact(exec, ['iptables-save', '-c'], notes));
  put('ip6tables', await runFact(exec, ['ip6tables-save', '-c'], notes));
  put('nft', await runFact(exec, ['nft', '-j', 'list', 'ruleset'], notes));

  const confs = await listDir(exec, '/proc/sys/net/ipv4/conf');
  if (confs) {
    const rp: Record<string, string> = {};
    for (const name of confs) {
      const v = await exec.readFile(`/proc/sys/net/ipv4/conf/${name}/rp_filter`);
      if (v !== null) rp[name] = v.trim();
    }
    facts.rpFilter = rp;
  }
  put('snmp', await readFact(exec, '/proc/net/snmp'));
  put('netstat', await readFact(exec, '/proc/net/netstat'));
  const se = await exec.run(['semanage', 'port', '-l']);
  if (se.code === 0) facts.semanage = { text: se.stdout, from: 'semanage port -l' };

  const addrJson = await runFact(exec, ['ip', '-j', 'addr', 'show'], notes);
  if (addrJson && addrJson.text.trim().startsWith('[')) facts.ipAddr = { ...addrJson, format: 'json' };
  else {
    const t = await runFact(exec, ['ip', 'addr', 'show'], notes);
    if (t) facts.ipAddr = { ...t, format: 'text' };
  }
  if (opts.senderIp && ipFamily(opts.senderIp) !== 0) {
    const r = await runFact(exec, ['ip', 'route', 'get', opts.senderIp], notes);
    if (r) facts.routeGet = { ...r, ip: opts.senderIp };
  }
  return facts;
}

/** Reads a configuration file and, depth-first in order, the files its include directives name. */
async function readWithIncludes(
  exec: HostExec,
  main: string,
  includes: (text: string) => string[],
  relativeTo: string,
): Promise<FactText[]> {
  const out: FactText[] = [];
  const seen = new Set<string>();
  const visit = async (path: string, depth: number) => {
    if (seen.has(path) || depth > 4 || out.length > 200) return;
    seen.add(path);
    const f = await readFact(exec, path);
    if (!f) return;
    out.push(f);
    for (const inc of includes(f.text)) {
      const abs = inc.startsWith('/') ? inc : `${relativeTo}/${inc}`;
      for (const p of await expandGlob(exec, abs)) await visit(p, depth + 1);
    }
  };
  await visit(main, 0);
  return out;
}
