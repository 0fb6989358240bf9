/**
 * The interfaces this host has, as `tcpdump -D` lists them: number, name, state, and here also
 * the addresses. Reads /sys/class/net and the addresses Node reports; both are parameters.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;

export interface InterfaceSources {
  names: () => string[];
  flags: (name: string) => number;
  /** The link has a carrier (what tcpdump -D shows as Running). */
  carrier: (name: string) => boolean;
  addresses: () => ReturnType<typeof networkInterfaces>;
}

const SYSTEM: InterfaceSources = {
  names: () => readdirSync('/sys/class/net').sort(),
  flags: name => Number(readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim()),
  carrier: name => {
    try {
      return readFileSync(`/sys/class/net/${name}/carrier`, 'utf8').trim() === '1';
    } catch {
      return false; // down: no carrier to read
    }
  },
  addresses: networkInterfaces,
};

/** One line per interface, then `any`, e.g. `1.eth0 [Up, Running] 10.0.0.1/24 fe80::1/64`. */
export function listInterfaces(src: InterfaceSources = SYSTEM): string[] {
  let names: string[];
  try {
    names = src.names();
  } catch {
    names = Object.keys(src.addresses());
  }
  const addrs = src.addresses();
  const lines = names.map((name, i) => {
    let flags = 0;
    try {
      flags = src.flags(name);
    } catch {
      // no flags file: shown without a state
    }
    const up = (flags & IFF_UP) !== 0;
    const state = [up ? 'Up' : '', up && src.carrier(name) ? 'Running' : '', flags & IFF_LOOPBACK ? 'Loopback' : '']
      .filter(Boolean)
      .join(', ');
    const cidrs = (addrs[name] ?? []).map(a => a.cidr ?? a.address);
    return [`${i + 1}.${name}`, ...(state ? [`[${state}]`] : []), ...cidrs].join(' ');
  });
  lines.push(`${names.length + 1}.any (Pseudo-device that captures on all interfaces) [Up, Running]`);
  return lines;
}

/** Whether `name` is an interface of this host (or libpcap's `any`). */
export function isInterface(name: string, src: InterfaceSources = SYSTEM): boolean {
  if (name === 'any') return true;
  try {
    return src.names().includes(name);
  } catch {
    return name in src.addresses();
  }
}
