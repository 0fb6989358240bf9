/**
 * What verify reads from a sender, asked in one round trip (src/io/batch-exec.ts): who we are
 * there and the ssh connection's addresses, then everything collectSenderFacts reads. A fact the
 * collectors learn to read later and this plan does not hold still works (the cached exec asks
 * ssh for it); test/verify-prefetch.test.ts fails when that happens, so the plan is kept whole.
 */
import { IP_LINKS_AND_ADDRS } from '../checks/host/collect.js';
import { CONFIGFS_NETCONSOLE } from '../checks/sender/sources/configfs.js';
import { PEER, type BatchItem } from '../io/batch-exec.js';

/** The first command: the remote uid, then SSH_CONNECTION (client-ip client-port server-ip server-port). */
export const WHO_AM_I = ['sh', '-c', 'id -u; echo "$SSH_CONNECTION"'];

export const SENDER_PLAN: readonly BatchItem[] = [
  { kind: 'who', argv: WHO_AM_I },
  { kind: 'file', path: '/etc/sysconfig/netconsole' },
  { kind: 'file', path: '/proc/cmdline' },
  { kind: 'files-in', dir: '/etc/modprobe.d', suffix: '.conf' },
  { kind: 'files-in', dir: '/usr/lib/modprobe.d', suffix: '.conf' },
  { kind: 'files-in', dir: '/lib/modprobe.d', suffix: '.conf' },
  { kind: 'file', path: '/etc/modprobe.conf' },
  { kind: 'tree', dir: CONFIGFS_NETCONSOLE },
  { kind: 'run', argv: ['dmesg'] },
  // The links with their details and addresses, the route to the ssh client and the neighbours,
  // in one `ip` process (each `ip` started costs the lab's emulated guests 40-70 ms, most of it
  // loading its libraries). The route and the neighbours come as JSON there (-d and -j are the
  // whole batch's) and are written back as `ip route get` and `ip neigh show` print them
  // (src/verify/ip-text.ts). Where that fails (an `ip` without -j), what was asked before: the
  // links and addresses alone, where that fails too the links and the addresses, then the route
  // and the neighbours in one plain `ip -batch`.
  {
    kind: 'ip',
    opts: ['-d', '-j'],
    commands: [IP_LINKS_AND_ADDRS.slice(3), ['route', 'get', PEER], ['neigh', 'show']],
    orElse: [
      {
        kind: 'run',
        argv: [...IP_LINKS_AND_ADDRS],
        orElse: [
          { kind: 'run', argv: ['ip', '-d', '-j', 'link', 'show'] },
          { kind: 'run', argv: ['ip', '-j', 'addr', 'show'] },
        ],
      },
      {
        kind: 'ip',
        opts: [],
        commands: [
          ['route', 'get', PEER],
          ['neigh', 'show'],
        ],
      },
    ],
  },
  { kind: 'file', path: '/proc/sys/kernel/printk' },
  { kind: 'file', path: '/proc/sys/kernel/sysrq' },
  { kind: 'file', path: '/sys/module/printk/parameters/time' },
  // /proc/modules only where lsmod fails, as collectSenderFacts reads them (a `cat` fewer).
  { kind: 'run', argv: ['lsmod'], orElse: [{ kind: 'file', path: '/proc/modules' }] },
  // The release as uname(2) gives it, read by the shell (a process fewer): see BatchItem's `line`.
  { kind: 'run', argv: ['uname', '-r'], line: '/proc/sys/kernel/osrelease' },
];
