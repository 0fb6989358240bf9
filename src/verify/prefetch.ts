/**
 * What verify reads from a sender, asked in one round trip (src/io/batch-exec.ts): who we are
 * there and the ssh connection's addresses, then everything collectSenderFacts reads. A fact the
 * collectors learn to read later and this plan does not hold still works (the cached exec asks
 * ssh for it); test/verify-prefetch.test.ts fails when that happens, so the plan is kept whole.
 */
import { CONFIGFS_NETCONSOLE } from '../checks/sender/sources/configfs.js';
import { PEER, type BatchItem } from '../io/batch-exec.js';

/** The first command: the remote uid, then SSH_CONNECTION (client-ip client-port server-ip server-port). */
export const WHO_AM_I = ['sh', '-c', 'id -u; echo "$SSH_CONNECTION"'];

export const SENDER_PLAN: readonly BatchItem[] = [
  { kind: 'run', argv: WHO_AM_I },
  { kind: 'file', path: '/etc/sysconfig/netconsole' },
  { kind: 'file', path: '/proc/cmdline' },
  { kind: 'files-in', dir: '/etc/modprobe.d', suffix: '.conf' },
  { kind: 'files-in', dir: '/usr/lib/modprobe.d', suffix: '.conf' },
  { kind: 'files-in', dir: '/lib/modprobe.d', suffix: '.conf' },
  { kind: 'file', path: '/etc/modprobe.conf' },
  { kind: 'tree', dir: CONFIGFS_NETCONSOLE },
  { kind: 'run', argv: ['dmesg'] },
  { kind: 'run', argv: ['ip', '-d', '-j', 'link', 'show'] },
  { kind: 'run', argv: ['ip', '-j', 'addr', 'show'] },
  // One `ip` process for both (70-90 ms each on the lab's emulated guests); the two above differ
  // in their options, and -d or -j would change these two's text.
  {
    kind: 'ip',
    opts: [],
    commands: [
      ['route', 'get', PEER],
      ['neigh', 'show'],
    ],
  },
  { kind: 'file', path: '/proc/sys/kernel/printk' },
  { kind: 'file', path: '/proc/sys/kernel/sysrq' },
  { kind: 'run', argv: ['lsmod'] },
  { kind: 'file', path: '/proc/modules' },
  { kind: 'run', argv: ['uname', '-r'] },
];
