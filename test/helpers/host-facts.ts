/**
 * What the host-check tests share: fixtures/checks files, a fact with its source, the codes found,
 * and a healthy sender's facts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SenderFacts } from '../../src/checks/host/facts.js';
import type { Finding } from '../../src/findings/finding.js';
import { projectRoot } from './cli.js';

/** A file of fixtures/checks, by its path there. */
export const fx = (p: string): string => readFileSync(path.join(projectRoot, 'fixtures/checks', p), 'utf8');

/** A fact as collection hands it over: the text and where it came from. */
export const f = (text: string, from: string) => ({ text, from });

/** The codes of the errors and warnings (info left out), sorted: what a case's `codes` lists. */
export const problemCodes = (r: { findings: readonly Finding[] }): string[] =>
  r.findings
    .filter(x => x.severity !== 'info')
    .map(x => x.code)
    .sort();

/**
 * A healthy Debian 12 sender (the lab's shape): netconsole on eth0 to 10.99.0.1 (MAC
 * 52:54:00:aa:00:01), directly reachable. The sender checks' tests change one fact of it at a
 * time; verify's judge takes it as the sender's side of a working path.
 */
export function healthySender(): SenderFacts {
  return {
    cmdline: f('BOOT_IMAGE=/vmlinuz-6.1.0-26-amd64 root=/dev/vda1 ro console=ttyS0 quiet\n', '/proc/cmdline'),
    modprobe: [
      f(
        'options netconsole netconsole=+6665@10.99.0.2/eth0,514@10.99.0.1/52:54:00:aa:00:01\n',
        '/etc/modprobe.d/netconsole.conf',
      ),
    ],
    kernelLog: f(fx('dmesg/debian12-6.1-started.txt'), 'dmesg'),
    ipLink: { ...f(fx('generated/ip-link-veth-bridge.json'), 'ip -d -j link show'), format: 'json' },
    ipAddr: { ...f(fx('generated/ip-addr-veth-bridge.json'), 'ip -j addr show'), format: 'json' },
    routeGet: {
      ...f('10.99.0.1 dev eth0 src 10.99.0.2 uid 0 \n    cache \n', 'ip route get 10.99.0.1'),
      ip: '10.99.0.1',
    },
    neigh: f(fx('generated/ip-neigh.txt'), 'ip neigh show'),
    printk: f('7\t4\t1\t7\n', '/proc/sys/kernel/printk'),
    sysrq: f('1\n', '/proc/sys/kernel/sysrq'),
    modules: f(
      'Module                  Size  Used by\nnetconsole             20480  0\nconfigfs               57344  2 netconsole\n',
      'lsmod',
    ),
    kernelRelease: f('6.1.0-26-amd64\n', 'uname -r'),
    notes: [],
  };
}
