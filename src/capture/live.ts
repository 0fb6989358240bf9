/**
 * Live capture with the `cap` package (libpcap). The only module that loads `cap`, and only when
 * a capture is opened, so `analyze` works on a machine where cap is not built.
 *
 * cap's pitfalls (see shared/LAB.md), handled here:
 * - it copies every packet into ONE buffer we hand it and aborts the process if that buffer is
 *   garbage-collected while the capture is open: the buffer is kept referenced until the capture
 *   is closed and cap has left its dispatch loop;
 * - the bytes are valid only during the 'packet' event: they go to the sink synchronously;
 * - it gives no timestamps: arrival is stamped here, from a wall-clock reading taken at open plus
 *   the monotonic clock (performance.now(), a double: no BigInt per packet). A burst read in one
 *   dispatch loop is stamped as it is read, microseconds apart;
 * - it gives no drop counts, and always opens with a 65535-byte snapshot length in promiscuous mode;
 * - a Cap object whose open() failed must never be used or collected again (its close() would stop
 *   a poll handle that was never started, and libuv aborts): such objects are kept for the life of
 *   the process (one per failed attempt, which ends the command anyway).
 * - its addon cannot run in a worker thread (it delivers packets on the process's main loop):
 *   sniff and verify run it in a capture process of their own (capture-child.ts, live-process.ts).
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import { CLIError } from '../errors.js';
import type { KernelCounters } from './packet-stats.js';
import type { PacketSink } from './sink.js';

/** The part of cap's API used here. */
interface CapInstance {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
}
export interface CapModule {
  Cap: { new (): CapInstance; deviceList(): Array<{ name: string; flags?: string }> };
}

export interface LiveCaptureOptions {
  /** Interface name, or `any` (Linux cooked capture: no destination MAC, not promiscuous). */
  iface: string;
  /** BPF filter, tcpdump syntax (see netconsoleFilter). */
  filter: string;
  /** Used instead when libpcap refuses `filter` for lack of VLAN support on this link type. */
  noVlanFilter?: string;
  /** Kernel capture buffer in MiB: the burst it can hold while netdiag is busy. */
  bufferMiB: number;
  /**
   * The capture process's backlog in MiB: packets read from the ring that wait for netdiag to
   * decode them; beyond it they are dropped and counted (capture-child.ts). @default 256
   */
  backlogMiB?: number;
}

export interface LiveStats {
  /** Packets handed to the sink. */
  packets: number;
  /** Bytes handed to the sink. */
  bytes: number;
  /** Packets longer than cap's 65535-byte buffer (cut). */
  truncated: number;
  /** Packets the capture process dropped because netdiag fell too far behind (live-process.ts). */
  dropped?: number;
  /**
   * Most packets that waited at once in the capture process, read from the ring and not yet taken
   * by the pipe to netdiag (capture-child.ts), once it has ended.
   */
  peakBacklog?: number;
  /**
   * What the kernel counted on the capture's socket (packet-stats.ts), from a capture process once
   * it has ended; or why that is not known.
   */
  kernel?: KernelCounters | { unknown: string };
  /** CPU the capture process used, in microseconds, once it has ended. */
  cpuMicros?: { user: number; system: number };
}

export interface LiveCapture {
  iface: string;
  /** The filter in use (options.filter, or noVlanFilter). */
  filter: string;
  /** pcap LINKTYPE_ value of the interface (1 Ethernet, 113 Linux cooked, ...). */
  linkType: number;
  /** cap's name for the link type, for messages (`ETHERNET`). */
  linkName: string;
  /** The snapshot length cap captures with (fixed by cap). */
  snaplen: number;
  /** Stops capturing; safe to call more than once, and from inside the sink. */
  stop(): void;
  stats(): LiveStats;
  /** The current time on the clock packets are stamped with. */
  now(): { sec: number; nsec: number };
  /** When packets can still arrive after stop() (a capture process): resolves once all have. */
  stopped?(): Promise<void>;
  /**
   * Resolves, with why, if the capture ends without being asked to (the interface was deleted,
   * the capture process died). Never resolves otherwise.
   */
  ended?(): Promise<string>;
}

/** Dependencies, for tests: how to load cap, and the clocks. */
export interface LiveDeps {
  loadCap?: () => CapModule;
  /** Wall clock in ms since the epoch, read once at open. */
  now?: () => number;
  /** Monotonic clock in ms (fractional), read per packet. */
  monotonic?: () => number;
  /** Does this interface exist? Default: /sys/class/net/NAME, or cap's device list. */
  interfaceExists?: (name: string) => boolean;
}

/** cap's snapshot length (binding.cc sets it to 65535 unconditionally); live-pcap.ts uses the same. */
export const CAP_SNAPLEN = 65535;

/**
 * cap captures in libpcap's immediate mode, where libpcap uses TPACKET_V2: a ring of fixed slots
 * sized for the 65535-byte snapshot, so each packet, however small, takes 64 KiB of the buffer
 * (measured: 1 MiB held 16 packets, 64 MiB 1023). What a burst needs is slots: 128 MiB holds 2047
 * packets while netdiag is not scheduled. In bench/burst.ts (100,000 datagrams at ~90,000/s,
 * 2 cores) 128 MiB lost none in every run; 64 MiB lost 1 in one run of 8; 32 MiB 2%; 1 MiB 56%.
 * The kernel allocates the ring at open (0.5 s of system time for 128 MiB). The capture process
 * opens libpcap itself where it can (live-pcap.ts, TPACKET_V3): there the same 128 MiB holds about
 * 200,000 datagrams of 500 bytes, and cap's slots matter only where cap is the fallback.
 */
export const DEFAULT_BUFFER_MIB = 128;

const FIX_CAP = 'apt-get install libpcap-dev && npm rebuild cap';
const FIX_PERM = 'run as root, or: setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node))';

let capModule: CapModule | undefined;
/** Capture buffers (and failed Cap objects) that must outlive their JS references; see above. */
const retained = new Set<unknown>();

/** Loads cap once; a missing build or libpcap becomes one line with the command that fixes it. */
function loadCap(): CapModule {
  if (capModule) return capModule;
  const require = createRequire(import.meta.url);
  try {
    capModule = require('cap') as CapModule;
  } catch (e) {
    throw capLoadError(e as NodeJS.ErrnoException);
  }
  return capModule;
}

/** Turns a failure to load cap into the one-line error the user sees. Pure. */
export function capLoadError(e: { message?: string; code?: string }): CLIError {
  // e is whatever loading cap threw; String() is only the fallback for a throw without a message.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  const msg = String(e.message ?? e).split('\n')[0]!;
  if (/libpcap\.so/.test(msg)) return new CLIError(`cannot capture: libpcap is not installed (${FIX_CAP})`);
  if (e.code === 'MODULE_NOT_FOUND' && /'cap'/.test(msg)) {
    return new CLIError(`cannot capture: the cap package is not installed (npm install cap; it needs: ${FIX_CAP})`);
  }
  return new CLIError(`cannot capture: the cap package is not built (${FIX_CAP})`);
}

/** cap's link type names mapped to pcap LINKTYPE_ values. Pure. */
export function linkTypeNumber(capName: string): number | undefined {
  switch (capName) {
    case 'ETHERNET':
      return 1;
    case 'NULL':
      return 0;
    case 'RAW':
      return 101;
    case 'LINKTYPE_LINUX_SLL':
      return 113;
    case 'IEEE802_11_RADIO':
      return 127;
  }
  // cap names others `Unknown linktype N` with libpcap's DLT number, which on Linux equals the
  // LINKTYPE number for everything but the few mapped above.
  const m = /^Unknown linktype (\d+)$/.exec(capName);
  return m ? Number(m[1]) : undefined;
}

/** Turns libpcap's message for a failed open into the one-line error the user sees. Pure. */
export function openError(message: string, iface: string, filter: string): CLIError {
  const msg = message.split('\n')[0]!.trim();
  if (/Operation not permitted|permission/i.test(msg)) {
    return new CLIError(`cannot capture on ${iface}: permission denied (${FIX_PERM})`);
  }
  if (/No such device/i.test(msg)) return new CLIError(`unknown interface '${iface}' (see: ip link)`);
  if (/not up/i.test(msg)) return new CLIError(`interface ${iface} is down (ip link set ${iface} up)`);
  if (/filter|syntax error|parse|illegal|unknown|VLAN support|rejects all/i.test(msg) && !/socket/i.test(msg)) {
    return new CLIError(`bad filter '${filter}': ${msg.replace(/^can't parse filter expression: /, '')}`);
  }
  if (/allocate memory|ENOMEM/i.test(msg)) return new CLIError(`cannot capture on ${iface}: ${msg} (try a smaller -B)`);
  return new CLIError(`cannot capture on ${iface}: ${msg}`);
}

/**
 * The interface to capture on when none is given: the first one that is up, not loopback, and has
 * an address (the order the kernel lists them in, as tcpdump does), else `any`.
 */
export function defaultInterface(ifaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string {
  for (const [name, addrs] of Object.entries(ifaces)) {
    if (addrs && addrs.length > 0 && addrs.every(a => !a.internal)) return name;
  }
  return 'any';
}

/**
 * Whether libpcap will accept `vlan` in a filter on this interface: Ethernet (ARPHRD_ETHER, 1)
 * and loopback (772), which libpcap captures as Ethernet; not `any` (Linux cooked) or others.
 * Decided before opening, because a failed open leaves cap's handle (and its ring) allocated.
 */
export function supportsVlanFilter(
  iface: string,
  readType: (name: string) => string = n => readFileSync(`/sys/class/net/${n}/type`, 'utf8'),
): boolean {
  if (iface === 'any') return false;
  try {
    const type = Number(readType(iface).trim());
    return type === 1 || type === 772;
  } catch {
    return true; // unknown: try it; openLiveCapture falls back to noVlanFilter
  }
}

function defaultInterfaceExists(cap: CapModule, name: string): boolean {
  if (name === 'any' || existsSync(`/sys/class/net/${name}`)) return true;
  try {
    return cap.Cap.deviceList().some(d => d.name === name);
  } catch {
    return false;
  }
}

/** What is checked before libpcap is touched, by cap's path and live-pcap.ts alike. */
export function checkLiveOptions(opts: LiveCaptureOptions): void {
  if (!(opts.bufferMiB > 0) || opts.bufferMiB > 2047) {
    throw new CLIError(`capture buffer must be 1..2047 MiB, not ${opts.bufferMiB}`);
  }
  if (!/^[\w.:@-]{1,64}$/.test(opts.iface))
    throw new CLIError(`unknown interface '${JSON.stringify(opts.iface).slice(1, -1)}' (see: ip link)`);
}

/**
 * Opens a live capture and hands each packet to `sink` as it arrives (inside cap's event, so the
 * bytes are copied or consumed before cap reuses its buffer). Throws CLIError for everything the
 * user can fix: no permission, cap not built, unknown or down interface, bad filter.
 */
export function openLiveCapture(opts: LiveCaptureOptions, sink: PacketSink, deps: LiveDeps = {}): LiveCapture {
  const { iface } = opts;
  let filter = opts.filter;
  checkLiveOptions(opts);
  const cap = (deps.loadCap ?? loadCap)();
  // Checked first because libpcap prints a warning of its own to stderr for unknown devices.
  const exists = deps.interfaceExists ?? ((n: string) => defaultInterfaceExists(cap, n));
  if (!exists(iface)) throw new CLIError(`unknown interface '${iface}' (see: ip link)`);

  let c = new cap.Cap();
  const buffer = Buffer.alloc(CAP_SNAPLEN);
  const bytes = Math.round(opts.bufferMiB * 1024 * 1024);
  let linkName: string;
  try {
    linkName = c.open(iface, filter, bytes, buffer);
  } catch (e) {
    retained.add(c);
    const msg = (e as Error).message ?? String(e);
    if (!(opts.noVlanFilter && /VLAN/i.test(msg))) throw openError(msg, iface, filter);
    // A failed Cap object cannot be opened again (see above): a new one.
    c = new cap.Cap();
    filter = opts.noVlanFilter;
    try {
      linkName = c.open(iface, filter, bytes, buffer);
    } catch (e2) {
      retained.add(c);
      throw openError((e2 as Error).message ?? String(e2), iface, filter);
    }
  }
  const entry = { c, buffer };
  retained.add(entry);
  const linkType = linkTypeNumber(linkName);
  if (linkType === undefined) {
    c.close();
    setImmediate(() => retained.delete(entry));
    throw new CLIError(`cannot capture on ${iface}: link type ${linkName} is not supported`);
  }

  // Arrival time = wall clock at open + monotonic time since; split into s + ns without BigInt.
  const wallMs = (deps.now ?? Date.now)();
  const monotonic = deps.monotonic ?? (() => performance.now());
  const mono0 = monotonic();
  const baseSec = Math.floor(wallMs / 1000);
  const baseNs = (wallMs - baseSec * 1000) * 1e6;

  const stats: LiveStats = { packets: 0, bytes: 0, truncated: 0 };
  let open = true;
  c.on('packet', (nbytes: number, truncated: boolean) => {
    if (!open) return;
    const ns = baseNs + Math.round((monotonic() - mono0) * 1e6);
    const carry = Math.floor(ns / 1e9); // no object per packet: inlined, not a call to now()
    stats.packets++;
    stats.bytes += nbytes;
    if (truncated) stats.truncated++;
    // cap does not report the length on the wire; a cut packet is at least one byte longer.
    sink.packet(buffer, 0, nbytes, truncated ? nbytes + 1 : nbytes, baseSec + carry, ns - carry * 1e9, linkType);
  });

  return {
    iface,
    filter,
    linkType,
    linkName,
    snaplen: CAP_SNAPLEN,
    stop() {
      if (!open) return;
      open = false;
      c.close();
      // cap may still be inside its dispatch loop (stop() called from the sink): it frees the
      // handle when it leaves it; the buffer must stay referenced until then.
      setImmediate(() => setImmediate(() => retained.delete(entry)));
    },
    stats: () => ({ ...stats }),
    now() {
      const ns = baseNs + Math.round((monotonic() - mono0) * 1e6);
      const carry = Math.floor(ns / 1e9);
      return { sec: baseSec + carry, nsec: ns - carry * 1e9 };
    },
  };
}
