/**
 * The capture process finds cap's packet socket among its descriptors (/proc/net/packet's inodes
 * against /proc/self/fd) and adds up the kernel's counters, which reset on every read. The /proc
 * texts here are written by the test in the kernel's layout; the real socket is read in
 * sniff-drops.e2e.
 */
import test from 'ava';
import { openKernelStats, packetSocketFd, type PacketStatsDeps } from '../src/capture/packet-stats.js';

const TABLE_HEAD = 'sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n';
const row = (inode: number) => `000000005d0c08b8 3      3    0003   2     1 0      0      ${inode}\n`;

function deps(table: string, fds: Record<string, string>): PacketStatsDeps {
  return {
    packetTable: () => table,
    fds: () => Object.keys(fds),
    fdTarget: n => {
      const target = fds[n];
      if (target === undefined) throw new Error('ENOENT');
      return target;
    },
  };
}

test('packetSocketFd: failures first, then the one packet socket', t => {
  const cases: Array<{ name: string; table: string; fds: Record<string, string>; want: number | RegExp }> = [
    { name: 'no packet socket at all', table: TABLE_HEAD, fds: { 0: '/dev/null' }, want: /no packet socket/ },
    {
      name: "another process's packet socket only",
      table: TABLE_HEAD + row(777),
      fds: { 3: 'socket:[12]', 4: 'pipe:[777]' },
      want: /no packet socket/,
    },
    {
      name: 'two of ours: which one is unknown',
      table: TABLE_HEAD + row(5) + row(6),
      fds: { 7: 'socket:[5]', 8: 'socket:[6]' },
      want: /2 packet sockets open/,
    },
    {
      name: 'one, among other sockets and a descriptor gone meanwhile',
      table: TABLE_HEAD + row(1932073) + row(99),
      fds: { 1: 'pipe:[4]', 19: 'socket:[1932073]', 20: 'socket:[8]' },
      want: 19,
    },
  ];
  for (const c of cases) {
    const d = deps(c.table, c.fds);
    const all = d.fds!;
    d.fds = () => [...all(), '255'];
    const got = packetSocketFd(d);
    if (typeof c.want === 'number') t.is(got, c.want, c.name);
    else t.regex(String(got), c.want, c.name);
  }
});

test('openKernelStats: why unknown when getsockopt is not there; counters added up across reads', t => {
  const none = openKernelStats({ ...deps(TABLE_HEAD, {}), getsockopt: () => 'the koffi package is not installed' });
  t.deepEqual(none, { unknown: 'the koffi package is not installed' });

  const reads = [
    [100, 0],
    [50, 20],
    [0, 0],
  ];
  const asked: number[][] = [];
  const stats = openKernelStats({
    ...deps(TABLE_HEAD + row(42), { 9: 'socket:[42]' }),
    getsockopt: () => (fd, level, name, value, length) => {
      asked.push([fd, level, name, length.readUInt32LE(0)]);
      const [packets, drops] = reads.shift()!;
      value.writeUInt32LE(packets!, 0);
      value.writeUInt32LE(drops!, 4);
      length.writeUInt32LE(8, 0); // struct tpacket_stats, as for TPACKET_V2
      return 0;
    },
  });
  if (!('read' in stats)) return t.fail(stats.unknown);
  t.deepEqual(stats.read(), { received: 100, dropped: 0 });
  t.deepEqual(stats.read(), { received: 150, dropped: 20 });
  t.deepEqual(stats.read(), { received: 150, dropped: 20 });
  t.deepEqual(asked[0], [9, 263, 6, 12], 'SOL_PACKET, PACKET_STATISTICS on the socket found');
});
