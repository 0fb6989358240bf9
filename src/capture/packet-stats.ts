/**
 * The kernel's own counters of the capture's packet socket (getsockopt PACKET_STATISTICS): the
 * packets that passed the filter, and those dropped because the ring was full. libpcap reads them
 * for tcpdump's "dropped by kernel"; cap does not expose them and Node has no getsockopt, so the
 * capture process reads them through koffi, an FFI to libc (an optional dependency: without it the
 * stop line says kernel drops are unknown, and why).
 *
 * sock_diag's drop count (`ss -0 -m`, skmem d<N>) cannot stand in: ring drops are not counted there
 * (measured on 6.18: a 1 MiB ring dropped 14,100 of 20,000 datagrams, PACKET_STATISTICS said so,
 * ss said d0). The kernel resets the counters on every read, so the reader adds them up.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { libcFunction } from '../io/libc.js';

const SOL_PACKET = 263;
const PACKET_STATISTICS = 6;

/** What the kernel counted on the socket since it was opened. */
export interface KernelCounters {
  /** Packets that passed the filter, dropped ones included. */
  received: number;
  /** Packets the kernel dropped because the ring was full. */
  dropped: number;
}

export type KernelStats = { read(): KernelCounters } | { unknown: string };

/** How the socket is found and asked; defaults read /proc and call libc through koffi. */
export interface PacketStatsDeps {
  /** getsockopt(fd, level, name, value, length): 0 on success. */
  getsockopt?: () => ((fd: number, level: number, name: number, value: Buffer, length: Buffer) => number) | string;
  /** This process's open file descriptors, as names in /proc/self/fd. */
  fds?: () => string[];
  /** The target of /proc/self/fd/NAME (`socket:[INODE]`). */
  fdTarget?: (name: string) => string;
  /** /proc/net/packet: the packet sockets of this network namespace. */
  packetTable?: () => string;
}

/**
 * Finds this process's one packet socket (cap's) and returns a reader of its counters, or why they
 * cannot be known. Call it after the capture opened and read it before the capture closes.
 */
export function openKernelStats(deps: PacketStatsDeps = {}): KernelStats {
  const fn = (deps.getsockopt ?? loadGetsockopt)();
  if (typeof fn === 'string') return { unknown: fn };
  const fd = packetSocketFd(deps);
  if (typeof fd === 'string') return { unknown: fd };
  const total: KernelCounters = { received: 0, dropped: 0 };
  const value = Buffer.alloc(12);
  const length = Buffer.alloc(4);
  return {
    read() {
      length.writeUInt32LE(value.length, 0);
      if (fn(fd, SOL_PACKET, PACKET_STATISTICS, value, length) === 0 && length.readUInt32LE(0) >= 8) {
        // struct tpacket_stats: tp_packets, tp_drops (tp_packets counts the dropped ones too).
        total.received += value.readUInt32LE(0);
        total.dropped += value.readUInt32LE(4);
      }
      return { ...total };
    },
  };
}

/** The descriptor of the only packet socket this process holds, or why there is none. Pure but for deps. */
export function packetSocketFd(deps: PacketStatsDeps = {}): number | string {
  const table = (deps.packetTable ?? (() => readFileSync('/proc/net/packet', 'utf8')))();
  // Header: sk RefCnt Type Proto Iface R Rmem User Inode; the inode is the last column.
  const inodes = new Set(
    table
      .split('\n')
      .slice(1)
      .map(l => l.trim().split(/\s+/).at(-1))
      .filter((s): s is string => !!s && /^\d+$/.test(s)),
  );
  const fdTarget = deps.fdTarget ?? ((n: string) => readlinkSync(`/proc/self/fd/${n}`));
  const found: number[] = [];
  for (const name of (deps.fds ?? (() => readdirSync('/proc/self/fd')))()) {
    let target: string;
    try {
      target = fdTarget(name);
    } catch {
      continue; // closed meanwhile (readdir's own descriptor)
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m && inodes.has(m[1]!)) found.push(Number(name));
  }
  if (found.length === 1) return found[0]!;
  return found.length ? `${found.length} packet sockets open` : 'no packet socket found in /proc/net/packet';
}

function loadGetsockopt():
  ((fd: number, level: number, name: number, value: Buffer, length: Buffer) => number) | string {
  const f = libcFunction('int getsockopt(int fd, int level, int name, void *value, void *length)');
  if (typeof f === 'string') return f;
  return (fd, level, name, value, length) => f(fd, level, name, value, length) as number;
}
