/**
 * The facts of the real 6.17 captures in fixtures/real (lab/make-fixtures.sh --kernel 6.17),
 * read straight from the bytes with a few lines of pcap/Ethernet/IP/UDP parsing here, not with
 * netdiag's decoders: what the kernel put on the wire, so a golden report (test/golden) cannot
 * bless a wrong reading of them by itself.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './helpers/cli.js';

const dir = path.join(projectRoot, 'fixtures/real');
const release = readdirSync(dir)
  .map(f => /^linux-(6\.17\.[^-]+-amd64)-plain-boot\.pcap$/.exec(f)?.[1])
  .find(Boolean);

interface Pkt {
  dstMac: string;
  srcMac: string;
  family: 4 | 6;
  src: string;
  dst: string;
  proto: number;
  hopLimit: number;
  srcPort?: number;
  dstPort?: number;
  payload: Buffer;
  icmpType?: number;
  icmpCode?: number;
}

const mac = (b: Buffer) => [...b].map(x => x.toString(16).padStart(2, '0')).join(':');
const ip4 = (b: Buffer) => [...b].join('.');
function ip6(b: Buffer): string {
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups
    .join(':')
    .replace(/(^|:)0(:0)+(:|$)/, '::')
    .replace(/:{3,}/, '::');
}

/** Classic little-endian microsecond pcap with Ethernet frames (what tcpdump -w wrote). */
function readPcap(name: string): Pkt[] {
  const buf = readFileSync(path.join(dir, `linux-${release}-${name}.pcap`));
  if (buf.readUInt32LE(0) !== 0xa1b2c3d4 || buf.readUInt32LE(20) !== 1)
    throw new Error(`${name}: not an Ethernet pcap`);
  const out: Pkt[] = [];
  for (let off = 24; off + 16 <= buf.length;) {
    const incl = buf.readUInt32LE(off + 8);
    const f = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    const type = f.readUInt16BE(12);
    const p = { dstMac: mac(f.subarray(0, 6)), srcMac: mac(f.subarray(6, 12)) } as Pkt;
    let l4: Buffer;
    if (type === 0x0800) {
      const ihl = (f[14]! & 15) * 4;
      Object.assign(p, {
        family: 4,
        proto: f[23],
        hopLimit: f[22],
        src: ip4(f.subarray(26, 30)),
        dst: ip4(f.subarray(30, 34)),
      });
      l4 = f.subarray(14 + ihl);
    } else if (type === 0x86dd) {
      Object.assign(p, {
        family: 6,
        proto: f[20],
        hopLimit: f[21],
        src: ip6(f.subarray(22, 38)),
        dst: ip6(f.subarray(38, 54)),
      });
      l4 = f.subarray(54);
    } else continue;
    if (p.proto === 17) {
      Object.assign(p, { srcPort: l4.readUInt16BE(0), dstPort: l4.readUInt16BE(2), payload: l4.subarray(8) });
    } else {
      Object.assign(p, { icmpType: l4[0], icmpCode: l4[1], payload: l4.subarray(8) });
    }
    out.push(p);
  }
  return out;
}

const udp = (ps: Pkt[]) => ps.filter(p => p.proto === 17 && p.srcPort === 6665);
const text = (p: Pkt) => p.payload.toString('latin1');
const RECEIVER_MAC = '02:99:00:00:00:01';

const t617 = release ? test : test.skip;
if (!release) console.log('skipping: no 6.17 captures in fixtures/real');

t617('plain, two-line record: one datagram; the continuation line repeats the [ts] prefix', t => {
  const d = udp(readPcap('plain-multiline'));
  t.is(d.length, 1);
  const m = /^\[ *(\d+\.\d+)\] ndlab-multiline first line\n\[ *(\d+\.\d+)\] ndlab-multiline second line\n$/.exec(
    text(d[0]!),
  );
  t.truthy(m, JSON.stringify(text(d[0]!)));
  t.is(m![1], m![2], 'the same timestamp on both lines');
});

t617('extended, two-line record: one datagram, the newline escaped as \\x0a', t => {
  const d = udp(readPcap('extended-multiline'));
  t.is(d.length, 1);
  t.regex(text(d[0]!), /^14,\d+,\d+,-;ndlab-multiline first line\\x0andlab-multiline second line\n$/);
});

t617(
  'configfs userdata and all sysdata: text, userdata lines, sysdata lines; a userdata cpu and the sysdata cpu both sent',
  t => {
    const d = udp(readPcap('configfs-userdata-sysdata'));
    t.is(d.length, 2);
    for (const [i, what] of [
      [0, 'ndlab-fixture-marker'],
      [1, 'sysrq: Show Regs'],
    ] as const) {
      const lines = text(d[i]!).split('\n');
      t.regex(lines[0]!, new RegExp(`^\\d+,\\d+,\\d+,-;${what}$`));
      t.deepEqual(lines.slice(1, 4), [' cpu=rack-cpu', ' note=hello world', ' rack=r42'], 'userdata entries');
      t.regex(lines[4]!, /^ cpu=\d+$/);
      t.regex(lines[5]!, /^ taskname=\S+$/);
      t.is(lines[6], ` release=${release}`);
      t.regex(lines[7]!, /^ msgid=\d+$/);
      t.deepEqual(lines.slice(8), [''], 'ends with a newline');
    }
  },
);

t617('fragmented record: ncfrag pieces whose cuts fall inside the userdata', t => {
  const d = udp(readPcap('extended-fragmented-userdata'));
  t.is(d.length, 3);
  const pieces = d.map(p => {
    const s = text(p);
    const m = /^(\d+,\d+,\d+,-),ncfrag=(\d+)\/(\d+);/.exec(s)!;
    return { head: m[1]!, off: Number(m[2]), total: Number(m[3]), body: s.slice(m[0].length) };
  });
  t.is(new Set(pieces.map(p => p.head)).size, 1, 'one record header on every piece');
  t.is(new Set(pieces.map(p => p.total)).size, 1);
  const body = pieces.map(p => p.body).join('');
  t.is(body.length, pieces[0]!.total, 'the pieces make the whole body');
  t.deepEqual(
    pieces.map(p => p.off),
    [0, pieces[0]!.body.length, pieces[0]!.body.length + pieces[1]!.body.length],
  );
  const textEnd = body.indexOf('\n');
  t.is(body.slice(0, textEnd), `ndlab-frag-userdata begin ${'y'.repeat(860)} end`);
  const userdataEnd = body.indexOf('\n cpu=');
  t.true(
    pieces.slice(1).every(p => p.off > textEnd && p.off < userdataEnd),
    'every cut inside the userdata',
  );
  t.deepEqual(
    body
      .slice(textEnd + 1, userdataEnd)
      .split('\n')
      .map(l => l.slice(0, 7)),
    [' ud1=u1', ' ud2=u2', ' ud3=u3', ' ud4=u4', ' ud5=u5', ' ud6=u6'],
  );
});

t617('IPv6, plain and extended: UDP from [fd99::2]:6665 to [fd99::1]:514, hop limit 32', t => {
  for (const [name, re] of [
    ['ipv6-plain', /^\[ *\d+\.\d+\] ndlab-fixture-marker\n$/],
    ['ipv6-extended', /^\d+,\d+,\d+,-;ndlab-fixture-marker\n$/],
  ] as const) {
    const d = udp(readPcap(name));
    t.true(d.length >= 2, name);
    t.true(d.every(p => p.family === 6 && p.src === 'fd99::2' && p.dst === 'fd99::1' && p.dstPort === 514));
    t.true(
      d.every(p => p.hopLimit === 32),
      `${name}: hop limit ${d.map(p => p.hopLimit).join(',')}`,
    );
    t.true(
      d.some(p => re.test(text(p))),
      name,
    );
  }
});

t617('+r with the device given by MAC: the release before the extended header', t => {
  const d = udp(readPcap('extended-release-devmac'));
  t.is(d.length, 2);
  t.true(d.every(p => text(p).startsWith(`${release},`)));
  t.regex(text(d[0]!), new RegExp(`^${release!.replace(/[.+]/g, '\\$&')},\\d+,\\d+,\\d+,-;ndlab-fixture-marker\\n$`));
  t.true(d.every(p => p.srcMac === '52:54:00:99:00:02'));
});

t617('two targets: every message twice, to 514 and to 5514, from the same port', t => {
  const d = udp(readPcap('two-targets'));
  t.is(d.length, 4);
  const to514 = d.filter(p => p.dstPort === 514).map(text);
  const to5514 = d.filter(p => p.dstPort === 5514).map(text);
  t.is(to514.length, 2);
  t.deepEqual(to5514, to514, 'the same bytes to both ports');
});

t617('REJECT host-prohibited and admin-prohibited: ICMP type 3 codes 10 and 13 quoting the datagram', t => {
  for (const [name, code] of [
    ['reject-host-prohibited', 10],
    ['reject-admin-prohibited', 13],
  ] as const) {
    const ps = readPcap(name);
    const icmp = ps.filter(p => p.proto === 1);
    t.is(icmp.length, udp(ps).length, `${name}: one answer per datagram`);
    t.true(
      icmp.every(p => p.icmpType === 3 && p.icmpCode === code && p.src === '10.99.0.1' && p.dst === '10.99.0.2'),
      name,
    );
    // The quoted datagram: its IP header (20 bytes), then the UDP ports 6665 -> 514.
    t.true(icmp.every(p => p.payload.readUInt16BE(20) === 6665 && p.payload.readUInt16BE(22) === 514));
  }
});

t617('behind a router, captured on the log server side: TTL 63, from the router to the receiver', t => {
  const d = udp(readPcap('routed'));
  t.is(d.length, 2);
  t.true(d.every(p => p.hopLimit === 63 && p.src === '10.99.0.2' && p.dst === '10.99.1.1'));
  t.true(d.every(p => p.srcMac === '02:99:00:01:00:fe' && p.dstMac === '02:99:00:01:00:01'));
  // The other captures were taken on the sender's own link: netconsole's TTL 64 (IPv6: 32).
  t.true(udp(readPcap('plain-sysrq-p')).every(p => p.hopLimit === 64));
  t.true(udp(readPcap('ipv6-plain')).every(p => p.hopLimit === 32));
});

t617('wrong remote IP: to 10.99.0.77 with the receiver MAC, no answer', t => {
  const ps = readPcap('wrong-remote-ip');
  const d = udp(ps);
  t.is(d.length, 2);
  t.true(d.every(p => p.dst === '10.99.0.77' && p.dstMac === RECEIVER_MAC));
  t.is(ps.length, d.length, 'nothing but the datagrams');
});

t617('rsyslog bound to 127.0.0.1: ICMP port unreachable (type 3 code 3)', t => {
  const ps = readPcap('syslog-loopback');
  const icmp = ps.filter(p => p.proto === 1);
  t.true(icmp.length >= 1);
  t.true(icmp.every(p => p.icmpType === 3 && p.icmpCode === 3));
});

t617('boot logs: the replay starts with the 6.17 banner and logs the target the 6.17 way', t => {
  for (const [name, first] of [
    ['plain-boot', /^\[ *0\.000000\] Linux version 6\.17\./],
    ['extended-boot', /^\d+,0,0,-;Linux version 6\.17\./],
  ] as const) {
    const d = udp(readPcap(name));
    t.true(d.length > 300, `${name}: ${d.length} datagrams`);
    t.regex(text(d[0]!), first);
    t.true(
      d.some(p => text(p).includes('netconsole: netconsole: local port 6665')),
      `${name}: 6.17 logs 'netconsole: netconsole: ...'`,
    );
  }
});
