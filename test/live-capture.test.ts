/**
 * live.ts and filter.ts without a network: error mapping and link types (tables, failures first),
 * the default interface, and the BPF filter applied by the real libpcap (tcpdump -r FILE FILTER)
 * to a SYNTHESISED capture with one frame of every kind it must keep or drop.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { netconsoleFilter } from '../src/capture/filter.js';
import {
  capLoadError,
  defaultInterface,
  linkTypeNumber,
  openError,
  openLiveCapture,
  supportsVlanFilter,
  type CapModule,
} from '../src/capture/live.js';
import { dltLinkName } from '../src/capture/live-pcap.js';
import { icmpPortUnreachable, ipv4Packet, pcapFile, udpFragments, udpFrame, udpSegment } from './helpers/frames.js';
import { CLIError } from '../src/errors.js';
import { haveCommand, requiring } from './helpers/prereq.js';

test('openError: libpcap messages become one line that says what to do', t => {
  const cases: Array<[msg: string, want: RegExp]> = [
    [
      'socket: Operation not permitted',
      /^cannot capture on eth1: permission denied \(run as root, or: setcap cap_net_raw,cap_net_admin\+eip \$\(readlink -f \$\(which node\)\)\)$/,
    ],
    ["You don't have permission to capture on that device (socket: Operation not permitted)", /permission denied/],
    ['No such device exists', /^unknown interface 'eth1' \(see: ip link\)$/],
    ['That device is not up', /^interface eth1 is down \(ip link set eth1 up\)$/],
    ["can't parse filter expression: syntax error", /^bad filter 'udp and \(': syntax error$/],
    ["unknown host 'nosuchhost'", /^bad filter 'udp and \(': unknown host 'nosuchhost'$/],
    ['illegal port number 99999 > 65535', /^bad filter 'udp and \(': illegal port number 99999 > 65535$/],
    ['no VLAN support for Linux cooked v1', /^bad filter 'udp and \(': no VLAN support for Linux cooked v1$/],
    ['expression rejects all packets', /^bad filter 'udp and \(': expression rejects all packets$/],
    ["can't create rx ring on packet socket: Cannot allocate memory", /Cannot allocate memory \(try a smaller -B\)$/],
    ['something else\nsecond line', /^cannot capture on eth1: something else$/],
  ];
  for (const [msg, want] of cases) {
    const e = openError(msg, 'eth1', 'udp and (');
    t.true(e instanceof CLIError);
    t.is(e.exitCode, 2);
    t.regex(e.message, want, msg);
    t.false(e.message.includes('\n'));
  }
});

test('capLoadError: every way cap fails to load names the fix', t => {
  const cases: Array<[{ message: string; code?: string }, RegExp]> = [
    [
      { message: "Cannot find module '../build/Release/cap.node'\nRequire stack:\n- x", code: 'MODULE_NOT_FOUND' },
      /^cannot capture: the cap package is not built \(apt-get install libpcap-dev && npm rebuild cap\)$/,
    ],
    [
      {
        message: 'libpcap.so.0.8: cannot open shared object file: No such file or directory',
        code: 'ERR_DLOPEN_FAILED',
      },
      /libpcap is not installed \(apt-get install libpcap-dev && npm rebuild cap\)/,
    ],
    [
      { message: "Cannot find module 'cap'\nRequire stack:", code: 'MODULE_NOT_FOUND' },
      /the cap package is not installed/,
    ],
    [
      {
        message: 'was compiled against a different Node.js version using NODE_MODULE_VERSION 108',
        code: 'ERR_DLOPEN_FAILED',
      },
      /not built \(apt-get install libpcap-dev && npm rebuild cap\)/,
    ],
  ];
  for (const [err, want] of cases) t.regex(capLoadError(err).message, want, err.message);
});

test("linkTypeNumber: cap's names to LINKTYPE values", t => {
  const cases: Array<[string, number | undefined]> = [
    ['Unknown linktype', undefined],
    ['', undefined],
    ['ETHERNET', 1],
    ['LINKTYPE_LINUX_SLL', 113],
    ['RAW', 101],
    ['NULL', 0],
    ['IEEE802_11_RADIO', 127],
    ['Unknown linktype 276', 276],
  ];
  for (const [name, want] of cases) t.is(linkTypeNumber(name), want, name);
});

test("dltLinkName: libpcap's DLT values to cap's names, and through them to LINKTYPE values", t => {
  // Linux's DLT_RAW is 12 and LINKTYPE_RAW 101; the others are equal (DLT 276: Linux cooked v2).
  const cases: Array<[number, string, number]> = [
    [12, 'RAW', 101],
    [0, 'NULL', 0],
    [1, 'ETHERNET', 1],
    [113, 'LINKTYPE_LINUX_SLL', 113],
    [127, 'IEEE802_11_RADIO', 127],
    [276, 'Unknown linktype 276', 276],
  ];
  for (const [dlt, name, linkType] of cases) {
    t.is(dltLinkName(dlt), name, String(dlt));
    t.is(linkTypeNumber(dltLinkName(dlt)), linkType, name);
  }
});

test('defaultInterface: first non-loopback interface with an address, else any', t => {
  const lo = {
    address: '127.0.0.1',
    netmask: '255.0.0.0',
    family: 'IPv4',
    mac: '00:00:00:00:00:00',
    internal: true,
    cidr: '127.0.0.1/8',
  } as const;
  const eth = {
    address: '10.99.0.2',
    netmask: '255.255.255.0',
    family: 'IPv4',
    mac: '02:00:00:00:00:02',
    internal: false,
    cidr: '10.99.0.2/24',
  } as const;
  t.is(defaultInterface({}), 'any');
  t.is(defaultInterface({ lo: [lo] }), 'any');
  t.is(defaultInterface({ lo: [lo], eth1: [eth], eth2: [eth] }), 'eth1');
  t.is(defaultInterface({ eth0: [], eth3: [eth] }), 'eth3');
});

test('supportsVlanFilter: Ethernet and loopback yes; any, tunnels and others no', t => {
  const types: Record<string, string> = { eth0: '1\n', lo: '772\n', tun0: '65534\n', ipip0: '768\n' };
  const read = (n: string) => {
    if (!(n in types)) throw new Error('ENOENT');
    return types[n]!;
  };
  t.false(supportsVlanFilter('any', read));
  t.false(supportsVlanFilter('tun0', read));
  t.false(supportsVlanFilter('ipip0', read));
  t.true(supportsVlanFilter('eth0', read));
  t.true(supportsVlanFilter('lo', read));
  t.true(supportsVlanFilter('gone0', read), 'unknown: try, with the fallback');
});

test('without VLAN support the filter has no vlan half', t => {
  const f = netconsoleFilter([514], { vlan: false });
  t.false(f.includes('vlan'));
  t.true(netconsoleFilter([514]).includes('vlan'));
});

test('openLiveCapture checks what it can before touching libpcap', t => {
  let opened = 0;
  const fakeCap = {
    Cap: class {
      open() {
        opened++;
        return 'ETHERNET';
      }
      close() {}
      on() {}
      static deviceList() {
        return [];
      }
    },
  } as unknown as CapModule;
  const sink = { packet() {} };
  const deps = { loadCap: () => fakeCap, interfaceExists: (n: string) => n === 'eth1' };
  const cases: Array<[object, RegExp]> = [
    [{ iface: 'eth9', filter: 'udp', bufferMiB: 8 }, /^unknown interface 'eth9'/],
    [{ iface: 'eth1\u001b[31m', filter: 'udp', bufferMiB: 8 }, /^unknown interface 'eth1\\u001b\[31m'/],
    [{ iface: 'eth1', filter: 'udp', bufferMiB: 0 }, /capture buffer must be 1\.\.2047 MiB, not 0/],
    [{ iface: 'eth1', filter: 'udp', bufferMiB: 4096 }, /capture buffer must be/],
  ];
  for (const [opts, want] of cases) {
    const e = t.throws(() => openLiveCapture(opts as never, sink, deps), { instanceOf: CLIError });
    t.regex(e.message, want);
  }
  t.is(opened, 0);
  const c = openLiveCapture({ iface: 'eth1', filter: 'udp', bufferMiB: 8 }, sink, deps);
  t.is(c.linkType, 1);
  c.stop();
  c.stop();
  t.is(opened, 1);
});

test('a filter refused for lack of VLAN support is retried once without its vlan half, on a new Cap', t => {
  const filters: string[] = [];
  let instances = 0;
  const fakeCap = {
    Cap: class {
      constructor() {
        instances++;
      }
      open(_d: string, f: string) {
        filters.push(f);
        if (f.includes('vlan')) throw new Error('no VLAN support for Linux cooked v1');
        return 'LINKTYPE_LINUX_SLL';
      }
      close() {}
      on() {}
      static deviceList() {
        return [];
      }
    },
  } as unknown as CapModule;
  const deps = { loadCap: () => fakeCap, interfaceExists: () => true };
  const c = openLiveCapture(
    { iface: 'x', filter: 'udp or (vlan and udp)', noVlanFilter: 'udp', bufferMiB: 1 },
    { packet() {} },
    deps,
  );
  t.deepEqual(filters, ['udp or (vlan and udp)', 'udp']);
  t.is(instances, 2);
  t.is(c.filter, 'udp');
  t.is(c.linkType, 113);
  c.stop();
  // A user's filter has no fallback: the error is the user's to fix.
  const e = t.throws(() =>
    openLiveCapture({ iface: 'x', filter: 'vlan and udp', bufferMiB: 1 }, { packet() {} }, deps),
  );
  t.regex(e.message, /^bad filter 'vlan and udp': no VLAN support/);
});

test('live timestamps: wall clock at open plus monotonic time, split into s and ns', t => {
  let handler: ((n: number, trunc: boolean) => void) | undefined;
  const fakeCap = {
    Cap: class {
      open() {
        return 'ETHERNET';
      }
      close() {}
      on(_e: string, h: (n: number, trunc: boolean) => void) {
        handler = h;
      }
      static deviceList() {
        return [];
      }
    },
  } as unknown as CapModule;
  const got: Array<[number, number, number, number]> = [];
  let mono = 5000.25; // ms, arbitrary origin
  const c = openLiveCapture(
    { iface: 'eth1', filter: '', bufferMiB: 1 },
    { packet: (_b, _o, caplen, origlen, s, ns) => got.push([caplen, origlen, s, ns]) },
    {
      loadCap: () => fakeCap,
      interfaceExists: () => true,
      now: () => 1_700_000_000_999, // .999 s
      monotonic: () => mono,
    },
  );
  handler!(60, false);
  mono += 0.0015; // +1.5 µs
  handler!(70, false);
  mono += 2000; // +2 s
  handler!(65535, true);
  t.deepEqual(got, [
    [60, 60, 1_700_000_000, 999_000_000],
    [70, 70, 1_700_000_000, 999_001_500],
    [65535, 65536, 1_700_000_002, 999_001_500],
  ]);
  t.deepEqual(c.stats(), { packets: 3, bytes: 60 + 70 + 65535, truncated: 1 });
  t.deepEqual(c.now(), { sec: 1_700_000_002, nsec: 999_001_500 });
  c.stop();
  handler!(60, false);
  t.is(got.length, 3, 'nothing after stop');
});

test('netconsoleFilter refuses bad ports (a bug in the caller)', t => {
  t.throws(() => netconsoleFilter([]), { instanceOf: TypeError });
  t.throws(() => netconsoleFilter([0]), { instanceOf: TypeError });
  t.throws(() => netconsoleFilter([65536]), { instanceOf: TypeError });
  t.is(netconsoleFilter([6666, 6666]).match(/dst port 6666/g)!.length, 2, 'once plain, once behind a VLAN tag');
});

// What the filter must keep (true) and drop (false), one SYNTHESISED frame each.
function filterCases(): Array<[string, Buffer, boolean]> {
  const a = { srcIp: '10.99.1.1', dstIp: '10.99.1.2', srcPort: 6665 };
  const big = udpFragments({ ...a, dstPort: 6666, payload: 'y'.repeat(3000) }, 1480, 77);
  const ethIp = (ip: Buffer) => Buffer.concat([Buffer.from('52540012345652540012abcd0800', 'hex'), ip]);
  const toPort514 = udpFrame({ ...a, dstPort: 514, payload: '<13>hello' });
  return [
    ['udp to port 53', udpFrame({ ...a, dstPort: 53, payload: 'dns' }), false],
    ['udp from port 6666 to 40000', udpFrame({ ...a, srcPort: 6666, dstPort: 40000, payload: 'reply' }), false],
    ['tcp to port 514', ethIp(ipv4Packet('10.99.1.1', '10.99.1.2', 6, Buffer.alloc(20))), false],
    ['icmp echo', ethIp(ipv4Packet('10.99.1.1', '10.99.1.2', 1, Buffer.from('0800f7ff00000000', 'hex'))), false],
    [
      'non-first fragment of a tcp segment',
      ethIp(ipv4Packet('10.99.1.1', '10.99.1.2', 6, Buffer.alloc(40), { fragOffset: 1480 })),
      false,
    ],
    ['udp to 6666', udpFrame({ ...a, dstPort: 6666, payload: '6,1,1,-;x\n' }), true],
    ['udp to 514', toPort514, true],
    [
      'udp to 6666 over IPv6',
      udpFrame({ srcIp: 'fd99::1', dstIp: 'fd99::2', srcPort: 6665, dstPort: 6666, payload: 'x\n' }),
      true,
    ],
    ['udp to 53 in VLAN 5', udpFrame({ ...a, dstPort: 53, payload: 'x\n', vlan: 5 }), false],
    ['udp to 6666 in VLAN 5', udpFrame({ ...a, dstPort: 6666, payload: 'x\n', vlan: 5 }), true],
    ['icmp port unreachable', icmpPortUnreachable(toPort514, '52:54:00:ab:cd:ef', '52:54:00:12:34:56'), true],
    ['first IP fragment (has the UDP header)', big[0]!, true],
    ['second IP fragment (no UDP header)', big[1]!, true],
    ['last IP fragment', big[2]!, true],
    ['IPv6 fragment', Buffer.concat([Buffer.from('525400abcdef52540012345686dd', 'hex'), ipv6Frag()]), true],
  ];
  function ipv6Frag(): Buffer {
    const udp = udpSegment(6665, 6666, 'z'.repeat(32));
    const h = Buffer.alloc(40 + 8 + udp.length);
    h[0] = 0x60;
    h.writeUInt16BE(8 + udp.length, 4);
    h[6] = 44; // fragment header
    h[7] = 64;
    h[8] = 0xfd;
    h[23] = 1;
    h[24] = 0xfd;
    h[39] = 2;
    h[40] = 17;
    h.writeUInt16BE(1, 42); // more fragments
    h.writeUInt32BE(5, 44);
    udp.copy(h, 48);
    return h;
  }
}

requiring([[haveCommand('tcpdump'), 'tcpdump']])(
  'the filter, compiled and run by libpcap, keeps netconsole, ICMP unreachable and fragments only',
  t => {
    const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-filter-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const cases = filterCases();
    const file = path.join(dir, 'all.pcap');
    writeFileSync(file, pcapFile(cases.map(([, frame], i) => ({ sec: 1000 + i, usec: 0, data: frame }))));
    const r = spawnSync('tcpdump', ['-r', file, '-n', '-tt', netconsoleFilter([514, 6666])], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    });
    t.is(r.status, 0, r.stderr);
    const kept = new Set(
      r.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(l => Number(l.split('.')[0]) - 1000),
    );
    for (const [i, [name, , want]] of cases.entries()) t.is(kept.has(i), want, name);
  },
);

requiring([[haveCommand('tcpdump'), 'tcpdump']])('the filter with other ports drops the defaults', t => {
  const r = spawnSync('tcpdump', ['-d', '-y', 'EN10MB', netconsoleFilter([5555])], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const f = netconsoleFilter([5555]);
  t.false(/\b514\b|\b6666\b/.test(f));
  t.regex(f, /dst port 5555/);
  t.not(r.stdout.length, 0, r.stderr);
});
