/**
 * netconsole's and netpoll's own messages in the sender's kernel log (dmesg, journalctl -k):
 * the effective settings it printed when a target started, and its errors. The forms:
 *
 *   2.6.x:  netconsole: local port 6665 / netconsole: interface eth0 / ...
 *   3.x-6.x: netpoll: netconsole: local port 6665 / netpoll: netconsole: local IPv4 address 10.0.0.2 /
 *           netpoll: netconsole: interface 'eth0' / ... / netpoll: netconsole: remote ethernet address ...
 *   6.x (newer): netconsole: netconsole: local port 6665 / ... interface name 'eth0' /
 *           local ethernet address '52:54:00:..' / ...
 *
 * and netpoll's setup lines (`local IP 10.0.0.2`, `local IPv6 fd98::2`: the address it took from
 * the device when the target left it out), which come after the option lines. The order of the
 * lines differs between kernels: a block is the run of option lines until a field repeats or
 * another message ends it. Pure; lines are numbered from 1 in the text given.
 */
import type { NetconsoleTarget } from '../../config/target.js';
import { KERNEL_DEFAULT_LOCAL_PORT, KERNEL_DEFAULT_REMOTE_PORT } from '../../config/target.js';
import { normalizeMac, parsePort, ipFamily } from '../../config/netconsole-spec.js';

type KernelEventKind =
  | 'boot' // Linux version ... (a new boot in the log)
  | 'started' // network logging started
  | 'console-enabled' // console [netcon0] enabled
  | 'device-missing' // DEV doesn't exist, aborting
  | 'device-slave' // DEV is a slave device, aborting
  | 'device-no-poll' // DEV doesn't support polling, aborting
  | 'device-no-address' // no IP address for DEV, aborting
  | 'device-forced-up' // device DEV not up yet, forcing it
  | 'carrier-wait' // carrier detect appears untrustworthy
  | 'parse-error' // couldn't parse config at '...'
  | 'not-configured' // not configured, aborting
  | 'release-needs-extended'
  | 'stopped' // network logging stopped on interface DEV as it ...
  | 'enabled-update' // target (NAME) is enabled, disable to update parameters
  | 'cleanup'; // cleaning up

export interface KernelEvent {
  kind: KernelEventKind;
  line: number;
  /** The message without its timestamp prefix. */
  text: string;
  dev?: string;
  /** For `stopped`: why (unregistered, is joining a master device, ...). */
  reason?: string;
}

export interface KernelLogTarget {
  target: NetconsoleTarget;
  /** The device's MAC, when the kernel printed it (`local ethernet address`). */
  devMac?: string;
  /** Line of its first option line (`local port`). */
  line: number;
  /** Lines of every option line of the block. */
  lines: number[];
  /** The event that followed the block: started, or an error. */
  outcome?: KernelEvent;
}

export interface KernelLogNetconsole {
  /** Option blocks the kernel printed, in order (each target at each load). */
  blocks: KernelLogTarget[];
  events: KernelEvent[];
  /** `Linux version ...` of the last boot in the text. */
  kernelVersion?: string;
  /** Line of the last boot marker (0 when the log has none). */
  lastBootLine: number;
  /** Whether any netconsole/netpoll line at all was seen. */
  mentioned: boolean;
}

const PREFIXES: RegExp[] = [
  /^<\d+>/, // dmesg -r
  /^\[\s*\d+\.\d+\]\s?/, // [   12.345678]
  /^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d [\d:]{8} \d{4}\]\s?/, // dmesg -T
  /^[a-z]+\s*:[a-z]+\s*: (?:\[\s*\d+\.\d+\]\s?)?/, // dmesg -x: kern  :info  : [  1.2]
  /^[A-Z][a-z]{2} [ \d]\d [\d:]{8} \S+ kernel: (?:\[\s*\d+\.\d+\]\s?)?/, // syslog / journalctl short
  /^\d{4}-\d\d-\d\dT[\d:.,]+(?:[+-]\d\d:?\d\d|Z)? \S+ kernel: (?:\[\s*\d+\.\d+\]\s?)?/, // short-iso
  /^\[\s*\d+\.\d+\] \S+ kernel: /, // journalctl -o short-monotonic
];

/** The message part of one kernel log line (timestamp, host and priority prefixes removed). */
export function stripLogPrefix(line: string): string {
  let s = line.replace(/\r$/, '');
  for (let i = 0; i < 3; i++) {
    const before = s;
    for (const re of PREFIXES) s = s.replace(re, '');
    if (s === before) break;
  }
  return s;
}

interface Partial {
  line: number;
  lines: number[];
  localPort?: number;
  localIp?: string;
  dev?: string;
  devMac?: string;
  remotePort?: number;
  remoteIp?: string;
  remoteMac?: string;
}

type OptionField = 'localPort' | 'localIp' | 'setupIp' | 'dev' | 'devMac' | 'remotePort' | 'remoteIp' | 'remoteMac';

/** The option lines, whatever their order. `setupIp` is netpoll's own line for the address it took from the device. */
const OPTIONS: Array<[OptionField, RegExp]> = [
  ['localPort', /^local port (\d+)$/],
  ['setupIp', /^local (?:IP|IPv6) ([0-9a-fA-F.:]+)$/],
  ['localIp', /^local (?:IP|IPv4|IPv6) address '?([0-9a-fA-F.:]+)'?$/],
  ['dev', /^interface(?: name)? '?([^']*?)'?$/],
  ['devMac', /^local ethernet address '?([0-9a-fA-F:]+)'?$/],
  ['remotePort', /^remote port (\d+)$/],
  ['remoteIp', /^remote (?:IP|IPv4|IPv6)(?: address)? '?([0-9a-fA-F.:]+)'?$/],
  ['remoteMac', /^remote ethernet address '?([0-9a-fA-F:]+)'?$/],
];

function optionOf(body: string): [OptionField, string] | undefined {
  for (const [field, re] of OPTIONS) {
    const m = re.exec(body);
    if (m) return [field, m[1]!];
  }
  return undefined;
}

const unspecified = (ip: string | undefined) => ip === undefined || ip === '0.0.0.0' || ip === '::';

function finish(p: Partial, from: string): NetconsoleTarget | undefined {
  if (!p.remoteIp) return undefined;
  const t: NetconsoleTarget = {
    source: from,
    line: p.line,
    extended: false,
    release: false,
    localPort: p.localPort ?? KERNEL_DEFAULT_LOCAL_PORT,
    remotePort: p.remotePort ?? KERNEL_DEFAULT_REMOTE_PORT,
    remoteIp: p.remoteIp,
    explicit: ['localPort', 'remotePort', 'remoteIp'],
  };
  if (p.localIp && p.localIp !== '0.0.0.0') {
    t.localIp = p.localIp;
    t.explicit.push('localIp');
  }
  if (p.dev) {
    t.dev = p.dev;
    t.explicit.push('dev');
  } else if (p.devMac) {
    // A device named by its MAC (newer kernels): the kernel prints an empty interface name.
    t.dev = p.devMac;
  }
  if (p.remoteMac && p.remoteMac !== 'ff:ff:ff:ff:ff:ff') {
    t.remoteMac = p.remoteMac;
    t.explicit.push('remoteMac');
  }
  return t;
}

/** Parses the netconsole lines of a kernel log. */
export function parseKernelLog(text: string, from = 'dmesg'): KernelLogNetconsole {
  const blocks: KernelLogTarget[] = [];
  const events: KernelEvent[] = [];
  let kernelVersion: string | undefined;
  let lastBootLine = 0;
  let mentioned = false;
  let cur: Partial | undefined;

  const close = () => {
    if (!cur) return;
    const t = finish(cur, from);
    if (t) blocks.push({ target: t, line: cur.line, lines: cur.lines, ...(cur.devMac ? { devMac: cur.devMac } : {}) });
    cur = undefined;
  };
  const event = (e: KernelEvent) => {
    events.push(e);
    // The first started/error after a block is its outcome.
    const last = blocks[blocks.length - 1];
    if (
      last &&
      !last.outcome &&
      e.kind !== 'boot' &&
      e.kind !== 'console-enabled' &&
      e.kind !== 'device-forced-up' &&
      e.kind !== 'carrier-wait'
    )
      last.outcome = e;
  };

  const lines = text.split('\n');
  lines.forEach((raw, idx) => {
    const n = idx + 1;
    const msg = stripLogPrefix(raw).trim();
    if (msg === '') return;
    const boot = /^Linux version (\S+)/.exec(msg);
    if (boot) {
      close();
      kernelVersion = boot[1];
      lastBootLine = n;
      event({ kind: 'boot', line: n, text: msg });
      return;
    }
    // netpoll: netconsole: X | netconsole: X (2.6) | netconsole: netconsole: X (newer) | netpoll: NAME: X
    const m = /^(?:netpoll: ?)?netconsole: (.*)$/.exec(msg) ?? /^netpoll: ([\w.-]+: .*)$/.exec(msg);
    const con = /^(?:printk: )?(?:legacy )?console \[(netcon(?:_ext)?\d+)\] enabled/.exec(msg);
    if (con) {
      mentioned = true;
      close();
      event({ kind: 'console-enabled', line: n, text: msg });
      return;
    }
    if (!m) return;
    mentioned = true;
    let body = m[1]!.trim().replace(/\.$/, '');
    // The target's name before the option (`netconsole: local port 6665` after the module's own prefix).
    const named = /^([\w.-]+): (.*)$/.exec(body);
    if (named && optionOf(named[2]!)) body = named[2]!;
    const opt = optionOf(body);
    if (opt) {
      const [field, value] = opt;
      // A field seen again starts the next target's block; netpoll's own setup line fills in the address.
      const repeated =
        cur &&
        (field === 'setupIp' ? false : field === 'localIp' ? !unspecified(cur.localIp) : cur[field] !== undefined);
      let c = cur;
      if (!c || repeated) {
        close();
        c = cur = { line: n, lines: [] };
      }
      c.lines.push(n);
      switch (field) {
        case 'localPort':
        case 'remotePort':
          c[field] = parsePort(value);
          break;
        case 'setupIp':
        case 'localIp':
          if (ipFamily(value) !== 0 && (field === 'setupIp' || unspecified(c.localIp))) c.localIp = value.toLowerCase();
          break;
        case 'remoteIp':
          if (ipFamily(value) !== 0) c.remoteIp = value.toLowerCase();
          break;
        case 'dev':
          c.dev = value;
          break;
        case 'devMac':
          // Printed before setup on newer kernels: broadcast when the device was named, not given by MAC.
          if (normalizeMac(value) !== 'ff:ff:ff:ff:ff:ff') c.devMac = normalizeMac(value);
          break;
        case 'remoteMac':
          c.remoteMac = normalizeMac(value);
          break;
      }
      return;
    }
    let v: RegExpExecArray | null;
    // netpoll's notes during setup do not end the block.
    if ((v = /^device (\S+) not up yet, forcing it/.exec(body))) {
      event({ kind: 'device-forced-up', line: n, text: msg, dev: v[1]! });
      return;
    }
    if (/^carrier detect appears untrustworthy/.test(body)) {
      event({ kind: 'carrier-wait', line: n, text: msg });
      return;
    }
    close();
    if (/^network logging started/.test(body)) event({ kind: 'started', line: n, text: msg });
    else if ((v = /^network logging stopped on interface (\S+) as it (.*)$/.exec(body)))
      event({ kind: 'stopped', line: n, text: msg, dev: v[1]!, reason: v[2]! });
    else if ((v = /^(\S+) doesn't exist, aborting/.exec(body)))
      event({ kind: 'device-missing', line: n, text: msg, dev: v[1]! });
    else if ((v = /^(\S+) is a slave device, aborting/.exec(body)))
      event({ kind: 'device-slave', line: n, text: msg, dev: v[1]! });
    else if ((v = /^(\S+) doesn't support polling, aborting/.exec(body)))
      event({ kind: 'device-no-poll', line: n, text: msg, dev: v[1]! });
    else if ((v = /^no IP address for (\S+), aborting/.exec(body)))
      event({ kind: 'device-no-address', line: n, text: msg, dev: v[1]! });
    else if (/^couldn't parse config/.test(body)) event({ kind: 'parse-error', line: n, text: msg });
    else if (/^not configured, aborting/.test(body)) event({ kind: 'not-configured', line: n, text: msg });
    else if (/[Rr]elease feature requires extended/.test(body))
      event({ kind: 'release-needs-extended', line: n, text: msg });
    else if (/^target \(.*\) is enabled, disable to update parameters/.test(body))
      event({ kind: 'enabled-update', line: n, text: msg });
    else if (/^cleaning up/.test(body)) event({ kind: 'cleanup', line: n, text: msg });
  });
  close();
  const r: KernelLogNetconsole = { blocks, events, lastBootLine, mentioned };
  if (kernelVersion) r.kernelVersion = kernelVersion;
  return r;
}

/** The blocks of the current boot whose outcome was not an error: what the running netconsole uses. */
export function effectiveKernelTargets(k: KernelLogNetconsole): KernelLogTarget[] {
  const errorKinds = new Set<KernelEventKind>([
    'device-missing',
    'device-slave',
    'device-no-poll',
    'device-no-address',
    'parse-error',
    'not-configured',
    'release-needs-extended',
    'cleanup',
  ]);
  const current = k.blocks.filter(b => b.line > k.lastBootLine);
  // A later cleanup (module unloaded) ends the targets before it.
  const lastCleanup = Math.max(0, ...k.events.filter(e => e.kind === 'cleanup').map(e => e.line));
  const ok = current.filter(b => b.line > lastCleanup && !(b.outcome && errorKinds.has(b.outcome.kind)));
  // A configfs target disabled, changed (a MAC, a mode) and enabled again prints its block again:
  // the later start of the same endpoints is what runs now, not both.
  const key = (t: NetconsoleTarget) => [t.localPort, t.localIp ?? '', t.dev ?? '', t.remoteIp, t.remotePort].join('|');
  return ok.filter((b, i) => !ok.slice(i + 1).some(later => key(later.target) === key(b.target)));
}
