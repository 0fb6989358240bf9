/**
 * Collects SenderFacts and ReceiverFacts through a HostExec: this host (src/io/local-exec.ts),
 * a sender over ssh (src/io/ssh-exec.ts), or a directory of files a user handed in
 * (src/io/dir-exec.ts). Commands are fixed argv arrays; values such as an IP address are separate
 * argv elements, never pasted into a shell line (an ssh adapter quotes each element itself).
 * The sender's configuration sources collect their own facts (src/checks/sender/sources/), the
 * syslog daemons name their files (src/checks/syslog/daemons.ts).
 *
 * Collection never throws for a missing file or a failing command: it leaves the fact out and says
 * why in `notes`.
 */
import { ipFamily } from '../../config/netconsole-spec.js';
import type { HostExec } from '../../io/host-exec.js';
import type { FactText } from './fact-text.js';
import type { ReceiverFacts, SenderFacts } from './facts.js';
import { listDir, readFact, readWithIncludes, runFact } from './read.js';
import { effectiveKernelTargets, parseKernelLog } from '../sender/kernel-log.js';
import { collectSources, SENDER_SOURCES, readSource, type SourceFacts } from '../sender/sources/index.js';
import { daemonForConfigPath, SYSLOG_DAEMONS } from '../syslog/daemons.js';

export { expandGlob } from './read.js';

export interface SenderCollectOptions {
  /**
   * The receiver's IP, for `ip route get`. Default: the target the kernel log says runs, else the
   * first one the sender's configuration names, else `fallbackRemoteIp`.
   */
  remoteIp?: string;
  fallbackRemoteIp?: string;
  /**
   * Read the links (with details) and their addresses from one `ip -d -j addr show` when it
   * answers in JSON: one process instead of two (verify's one round trip asks it). Its links carry
   * every field netdiag reads from `ip -d -j link show` (that one adds only the link mode and the
   * IPv6 address generation mode), each with its addresses. Without it, or where it fails, the two
   * commands as always.
   */
  oneIpForLinks?: boolean;
}

/** `ip -d -j addr show`: the links with their details, each with its addresses. */
export const IP_LINKS_AND_ADDRS: readonly string[] = ['ip', '-d', '-j', 'addr', 'show'];

export async function collectSenderFacts(exec: HostExec, opts: SenderCollectOptions = {}): Promise<SenderFacts> {
  const notes: string[] = [];
  const facts: SenderFacts = { ...(await collectSources(exec, notes)), notes };
  const put = <K extends keyof SenderFacts>(k: K, v: SenderFacts[K] | undefined) => {
    if (v !== undefined) facts[k] = v;
  };

  let log = await runFact(exec, ['dmesg'], notes);
  if (!log || log.text.trim() === '') {
    const j = await runFact(exec, ['journalctl', '-k', '-b', '--no-pager', '-q'], notes);
    if (j && j.text.trim() !== '') log = j;
  }
  put('kernelLog', log);
  // Its failure is no note: the two commands below are asked then, as without it.
  const both = opts.oneIpForLinks ? await runFact(exec, [...IP_LINKS_AND_ADDRS], []) : undefined;
  if (both && both.text.trim().startsWith('[')) {
    facts.ipLink = { ...both, format: 'json' };
    facts.ipAddr = { ...both, format: 'json' };
  } else {
    put('ipLink', await ipJsonOrText(exec, ['ip', '-d', '-j', 'link', 'show'], ['ip', '-d', 'link', 'show'], notes));
    put('ipAddr', await ipJsonOrText(exec, ['ip', '-j', 'addr', 'show'], ['ip', 'addr', 'show'], notes));
  }

  const running = facts.kernelLog
    ? effectiveKernelTargets(parseKernelLog(facts.kernelLog.text, facts.kernelLog.from)).map(b => b.target.remoteIp)
    : [];
  const remoteIp =
    opts.remoteIp ?? running.find(ip => ipFamily(ip) !== 0) ?? firstConfiguredRemoteIp(facts) ?? opts.fallbackRemoteIp;
  if (remoteIp && ipFamily(remoteIp) !== 0) {
    const r = await runFact(exec, ['ip', 'route', 'get', remoteIp], notes);
    if (r) facts.routeGet = { ...r, ip: remoteIp };
  } else {
    notes.push('ip route get: no receiver IP known (give one, or configure a target)');
  }
  put('neigh', await runFact(exec, ['ip', 'neigh', 'show'], notes));
  put('printk', await readFact(exec, '/proc/sys/kernel/printk'));
  put('sysrq', await readFact(exec, '/proc/sys/kernel/sysrq'));
  put('printkTime', await readFact(exec, '/sys/module/printk/parameters/time'));
  let mods = await runFact(exec, ['lsmod'], notes);
  if (!mods) mods = await readFact(exec, '/proc/modules');
  put('modules', mods);
  put('kernelRelease', await runFact(exec, ['uname', '-r'], notes));
  return facts;
}

/** The receiver IP the sender's configuration names first (in the sources' order), if any is an IP. */
function firstConfiguredRemoteIp(facts: SourceFacts): string | undefined {
  const candidates = SENDER_SOURCES.flatMap(s => readSource(s, facts)?.targets.map(t => t.target.remoteIp) ?? []);
  return candidates.find(ip => ipFamily(ip) !== 0 && ip !== '0.0.0.0');
}

async function ipJsonOrText(
  exec: HostExec,
  json: string[],
  text: string[],
  notes: string[],
): Promise<(FactText & { format: 'json' | 'text' }) | undefined> {
  const j = await runFact(exec, json, notes);
  if (j && j.text.trim().startsWith('[')) return { ...j, format: 'json' };
  const t = await runFact(exec, text, notes);
  return t ? { ...t, format: 'text' } : undefined;
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
  // Every command and file is started at once (they do not depend on each other), and taken in
  // this order: the facts and their notes come out as if read one after another.
  const at = started(notes);
  const udp = at(() => readFact(exec, '/proc/net/udp'));
  const udp6 = at(() => readFact(exec, '/proc/net/udp6'));
  const ss = at(n => runFact(exec, ['ss', '-ulnp'], n));
  const given = opts.syslogConfig;
  const chosen = given !== undefined ? daemonForConfigPath(given, await exec.readFile(given)) : undefined;
  const syslog = SYSLOG_DAEMONS.filter(d => !chosen || d === chosen).map(d =>
    at(async n => {
      const files: FactText[] = [];
      if (d.mainConfig) {
        const main = given ?? d.mainConfig.path;
        const relativeTo = given ? given.replace(/\/[^/]*$/, '') || '/' : d.mainConfig.relativeTo;
        files.push(...(await readWithIncludes(exec, main, d.mainConfig.includes, relativeTo)));
        if (!files.length && given) n.push(`${given}: not readable`);
      }
      if (given === undefined) {
        for (const path of d.otherFiles ?? []) {
          const f = await readFact(exec, path);
          if (f) files.push(f);
        }
      }
      return { name: d.name, files };
    }),
  );
  const iptables = at(n => runFact(exec, ['iptables-save', '-c'], n));
  const ip6tables = at(n => runFact(exec, ['ip6tables-save', '-c'], n));
  const nft = at(n => runFact(exec, ['nft', '-j', 'list', 'ruleset'], n));
  const rpFilter = at(async () => {
    const confs = await listDir(exec, '/proc/sys/net/ipv4/conf');
    if (!confs) return undefined;
    const rp: Record<string, string> = {};
    for (const name of confs) {
      const v = await exec.readFile(`/proc/sys/net/ipv4/conf/${name}/rp_filter`);
      if (v !== null) rp[name] = v.trim();
    }
    return rp;
  });
  const ipForward = at(() => readFact(exec, '/proc/sys/net/ipv4/ip_forward'));
  const ip6Forward = at(() => readFact(exec, '/proc/sys/net/ipv6/conf/all/forwarding'));
  const snmp = at(() => readFact(exec, '/proc/net/snmp'));
  const netstat = at(() => readFact(exec, '/proc/net/netstat'));
  const semanage = at(() => exec.run(['semanage', 'port', '-l']));
  const ipAddr = at(n => ipJsonOrText(exec, ['ip', '-j', 'addr', 'show'], ['ip', 'addr', 'show'], n));
  const processes = at(n => runFact(exec, ['ps', '-e', '-o', 'netns=,comm='], n));
  const netns = at(n => runFact(exec, ['readlink', '/proc/self/ns/net'], n));
  // is-active exits 3 when a unit is not active: its answer is the output, one line per unit.
  const units = [...new Set(SYSLOG_DAEMONS.map(d => d.service))];
  const services = at(() => exec.run(['systemctl', 'is-active', ...units]));
  const senderIp = opts.senderIp && ipFamily(opts.senderIp) !== 0 ? opts.senderIp : undefined;
  const routeGet = senderIp ? at(n => runFact(exec, ['ip', 'route', 'get', senderIp], n)) : undefined;

  put('udp', await udp());
  put('udp6', await udp6());
  put('ss', await ss());
  for (const d of syslog) {
    const { name, files } = await d();
    if (files.length) (facts.syslog ??= {})[name] = files;
  }
  put('iptables', await iptables());
  put('ip6tables', await ip6tables());
  put('nft', await nft());
  put('rpFilter', await rpFilter());
  put('ipForward', await ipForward());
  put('ip6Forward', await ip6Forward());
  put('snmp', await snmp());
  put('netstat', await netstat());
  const se = await semanage();
  if (se.code === 0) facts.semanage = { text: se.stdout, from: 'semanage port -l' };
  put('ipAddr', await ipAddr());
  put('processes', await processes());
  put('netns', await netns());
  const sc = await services();
  const states = sc.stdout.trim().split('\n');
  if (sc.code !== 127 && states.length === units.length && states.every(l => /^[a-z-]+$/.test(l)))
    facts.services = { text: sc.stdout, from: `systemctl is-active ${units.join(' ')}`, units };
  if (senderIp && routeGet) {
    const r = await routeGet();
    if (r) facts.routeGet = { ...r, ip: senderIp };
  }
  return facts;
}

/**
 * Starts a collection now; the function returned waits for it and only then adds its notes to
 * `notes`, so notes keep the order the collections are taken in, not the order they finish.
 */
function started(notes: string[]): <T>(collect: (notes: string[]) => Promise<T>) => () => Promise<T> {
  return collect => {
    const own: string[] = [];
    const p = collect(own);
    return async () => {
      const v = await p;
      notes.push(...own);
      return v;
    };
  };
}

/**
 * This host's counters again, on top of facts collected once: the UDP and reverse-path counters
 * and the firewall rules with their packet counts (what verify compares before and after a test).
 * The rest (sockets, syslog configuration, addresses, processes) is taken from `facts`.
 */
export async function collectReceiverCounters(exec: HostExec, facts: ReceiverFacts): Promise<ReceiverFacts> {
  const notes: string[] = [];
  const out: ReceiverFacts = { ...facts, notes: [...facts.notes] };
  const again = <K extends 'iptables' | 'ip6tables' | 'nft' | 'snmp' | 'netstat'>(
    k: K,
    v: ReceiverFacts[K] | undefined,
  ) => {
    if (v !== undefined) out[k] = v;
    else delete out[k];
  };
  const at = started(notes);
  const iptables = at(n => runFact(exec, ['iptables-save', '-c'], n));
  const ip6tables = at(n => runFact(exec, ['ip6tables-save', '-c'], n));
  const nft = at(n => runFact(exec, ['nft', '-j', 'list', 'ruleset'], n));
  const snmp = at(() => readFact(exec, '/proc/net/snmp'));
  const netstat = at(() => readFact(exec, '/proc/net/netstat'));
  again('iptables', await iptables());
  again('ip6tables', await ip6tables());
  again('nft', await nft());
  again('snmp', await snmp());
  again('netstat', await netstat());
  return out;
}

/**
 * The sockets and processes again, over facts collected before: after a test whose message did not
 * reach the log file, to tell a daemon that stopped during it from one that dropped the message.
 */
export async function collectReceiverSockets(exec: HostExec, facts: ReceiverFacts): Promise<ReceiverFacts> {
  const notes: string[] = [];
  const out: ReceiverFacts = { ...facts, notes: [...facts.notes] };
  const again = <K extends 'udp' | 'udp6' | 'ss' | 'processes'>(k: K, v: ReceiverFacts[K] | undefined) => {
    if (v !== undefined) out[k] = v;
    else delete out[k];
  };
  const at = started(notes);
  const udp = at(() => readFact(exec, '/proc/net/udp'));
  const udp6 = at(() => readFact(exec, '/proc/net/udp6'));
  const ss = at(n => runFact(exec, ['ss', '-ulnp'], n));
  const processes = at(n => runFact(exec, ['ps', '-e', '-o', 'netns=,comm='], n));
  again('udp', await udp());
  again('udp6', await udp6());
  again('ss', await ss());
  again('processes', await processes());
  return out;
}

/** Whether collection found nothing at all (an empty or foreign directory): then nothing can be checked. */
/**
 * `ip route get IP` here: the route back to a source, as rp_filter looks it up. For a source known
 * only after the facts were collected (the address a NAT router translated the sender's to).
 */
export async function collectRouteBack(exec: HostExec, ip: string): Promise<(FactText & { ip: string }) | undefined> {
  if (ipFamily(ip) === 0) return undefined;
  const r = await runFact(exec, ['ip', 'route', 'get', ip], []);
  return r ? { ...r, ip } : undefined;
}

export function nothingCollected(facts: SenderFacts | ReceiverFacts): boolean {
  return (Object.entries(facts as object) as Array<[string, unknown]>).every(
    ([k, v]) =>
      k === 'notes' || v === undefined || (typeof v === 'object' && v !== null && Object.keys(v).length === 0),
  );
}
