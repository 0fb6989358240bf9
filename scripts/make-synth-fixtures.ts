/**
 * Writes fixtures/synthesised/: captures of what no kernel that runs here sends, built byte by
 * byte with the project's encoders, and named `.synth.pcap` so nobody takes them for real ones.
 *
 * - centos5-split-lines.synth.pcap: a 2.6.18-era sender (CentOS 5) sent one datagram per printk
 *   call, so `SysRq : ` and `Show Regs` arrive apart (LAB.md); the /etc/sysconfig/netconsole
 *   defaults (LOCALPORT 6666, SYSLOGPORT 514); no printk times (printk.time was off by default).
 *   Also a line over 1000 bytes from a newer plain-mode kernel, cut at 1000 bytes with no marker.
 *
 * Run: node dist/scripts/make-synth-fixtures.js (the output is committed; rerunning gives the same bytes).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pcapFile, udpFrame, type PcapRecord } from '../test/helpers/frames.js';
import { formatPlain } from '../src/decode/netconsole.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.join(root, 'fixtures/synthesised');

const old = {
  srcIp: '192.168.122.15',
  dstIp: '192.168.122.1',
  srcPort: 6666,
  dstPort: 514,
  srcMac: '00:0c:29:86:dc:7a',
  dstMac: '52:54:00:5a:0e:01',
};
const t0 = 1_224_000_000; // October 2008
const parts: Array<[number, string]> = [
  [0, 'SysRq : '],
  [300, 'Show Regs\n'],
  [700, '\n'],
  [900, 'Pid: 0, comm: swapper\n'],
  [1200, 'EIP: 0060:[<c0403f8a>] CPU: 0\n'],
  [1500, 'EIP is at default_idle+0x2d/0x46\n'],
  [1800, ' EFLAGS: 00000246    Not tainted  '],
  [2000, '(2.6.18-398.el5 #1)\n'],
  [2300, 'EAX: 00000000 EBX: 00000000 ECX: c0405f8a EDX: 00000000\n'],
];
const records: PcapRecord[] = parts.map(([us, text]) => ({
  data: udpFrame({ ...old, payload: text }),
  sec: t0,
  usec: us,
}));
// A newer plain-mode kernel: a 990-character line with its printk time is 1006 bytes, sent as 1000 + 6.
const newer = { ...old, srcIp: '192.168.122.16', srcMac: '00:0c:29:86:dc:7b', srcPort: 6665 };
const long = formatPlain(`WARNING: ${'x'.repeat(981)}`, 45_287_505);
records.push({ data: udpFrame({ ...newer, payload: long.slice(0, 1000) }), sec: t0 + 1, usec: 0 });
records.push({ data: udpFrame({ ...newer, payload: long.slice(1000) }), sec: t0 + 1, usec: 40 });

mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'centos5-split-lines.synth.pcap'), pcapFile(records));
process.stdout.write(`wrote ${records.length} frames to fixtures/synthesised/centos5-split-lines.synth.pcap\n`);
