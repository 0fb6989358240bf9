/**
 * What this host knows about the interface a live capture listens on: its MAC and addresses, as
 * data for the pipeline (which does no I/O). The interface list is a parameter so tests can hand
 * one in.
 */
import { networkInterfaces } from 'node:os';
import type { LocalInterface } from '../pipeline/types.js';

type InterfaceList = ReturnType<typeof networkInterfaces>;

/** The interface `name` as the pipeline wants it; undefined for `any` or an unknown name. */
export function localInterface(name: string, list: InterfaceList = networkInterfaces()): LocalInterface | undefined {
  const entries = list[name];
  if (!entries?.length) return undefined;
  const mac = entries.find(e => e.mac && e.mac !== '00:00:00:00:00:00')?.mac.toLowerCase();
  // Node names IPv6 addresses with their zone (fe80::1%eth0) only in scopeid: the address is bare.
  const addresses = [...new Set(entries.map(e => e.address.toLowerCase()))];
  return mac !== undefined ? { name, mac, addresses } : { name, addresses };
}
