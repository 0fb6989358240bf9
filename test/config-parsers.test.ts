import test from 'ava';
import {
  parseNetconsoleSpec,
  formatNetconsoleSpec,
  formatNetconsoleSpecs,
  normalizeMac,
} from '../src/config/netconsole-spec.js';
import { parseSysconfigNetconsole, formatSysconfigNetconsole } from '../src/config/sysconfig.js';

// ---- netconsole= parameter: failures first -------------------------------------------------

const specFailures: Array<{ name: string; input: string; error: RegExp }> = [
  { name: 'empty', input: '', error: /empty netconsole parameter/ },
  { name: 'prefix only', input: 'netconsole=', error: /empty/ },
  { name: 'no @ at all', input: '6665/eth0,514', error: /missing '@' after the source port/ },
  { name: 'no / after src ip', input: '6665@10.0.0.2,514@10.0.0.1/', error: /missing '\/' after the source IP/ },
  { name: 'no comma after dev', input: '@/eth0514@10.0.0.1/', error: /missing ','/ },
  { name: 'no @ before target ip', input: '@/eth0,10.0.0.1/', error: /missing '@' before the target IP/ },
  { name: 'target ip missing', input: '@/eth0,514@/', error: /target IP is missing/ },
  { name: 'bad src port', input: 'abc@/eth0,514@10.0.0.1/', error: /bad source port "abc"/ },
  { name: 'src port 0', input: '0@/eth0,514@10.0.0.1/', error: /bad source port "0"/ },
  { name: 'src port too big', input: '65536@/,514@10.0.0.1/', error: /bad source port "65536"/ },
  { name: 'bad tgt port', input: '@/,51x@10.0.0.1/', error: /bad target port "51x"/ },
  { name: 'bad src ip', input: '@10.0.0.300/,514@10.0.0.1/', error: /bad source IP "10.0.0.300"/ },
  { name: 'bad tgt ip', input: '@/,514@10.0.0/', error: /bad target IP "10.0.0"/ },
  { name: 'host name as target', input: '@/,514@loghost/', error: /bad target IP "loghost"/ },
  { name: 'ipv6 with a zone index', input: '@/,514@fe80::1%eth0/', error: /bad target IP "fe80::1%eth0"/ },
  { name: 'bracketed ipv6', input: '@/,514@[2001:db8::1]/', error: /without brackets/ },
  { name: 'mixed families', input: '@10.0.0.2/,514@2001:db8::1/', error: /different families/ },
  {
    name: 'no / after target ip',
    input: '@/eth0,514@10.0.0.1',
    error: /missing '\/' after the target IP "10.0.0.1".*requires it/,
  },
  { name: 'mac with dashes', input: '@/,514@10.0.0.1/00-11-22-33-44-55', error: /bad target MAC "00-11-22-33-44-55"/ },
  { name: 'short mac', input: '@/,514@10.0.0.1/00:11:22:33:44', error: /bad target MAC/ },
  { name: 'mac with garbage', input: '@/,514@10.0.0.1/zz:11:22:33:44:55', error: /bad target MAC/ },
  { name: 'release without extended', input: 'r@/,514@10.0.0.1/', error: /needs '\+'/ },
  { name: 'device too long', input: '@/abcdefghijklmnop,514@10.0.0.1/', error: /bad device name/ },
  { name: 'bad device mac', input: '@/00:11:zz,514@10.0.0.1/', error: /bad device/ },
];

for (const c of specFailures) {
  test(`netconsole spec fails: ${c.name}`, t => {
    const r = parseNetconsoleSpec(c.input, 'cmdline');
    t.is(r.targets.length, 0, JSON.stringify(r.targets));
    t.is(r.errors.length, 1, r.errors.join('\n'));
    t.regex(r.errors[0]!, c.error);
    t.true(r.errors[0]!.startsWith('cmdline'));
  });
}

test('netconsole spec: one bad target does not hide the good one, and the error names it', t => {
  const r = parseNetconsoleSpec('@/eth0,514@10.0.0.1/;@/eth1,514@10.0.0.999/', 'modprobe');
  t.is(r.targets.length, 1);
  t.is(r.targets[0]!.dev, 'eth0');
  t.is(r.errors.length, 1);
  t.regex(r.errors[0]!, /^modprobe target 2: bad target IP "10.0.0.999"/);
});

test('netconsole spec: an empty target in the middle is reported, a trailing ; is not', t => {
  t.deepEqual(parseNetconsoleSpec('@/,@10.0.0.1/;').errors, []);
  t.regex(parseNetconsoleSpec('@/,@10.0.0.1/;;@/,@10.0.0.2/').errors[0]!, /target 2 is empty/);
});

test('netconsole spec: hostile text in an error is quoted with control characters escaped', t => {
  const r = parseNetconsoleSpec('@/,514@\x1b[31mevil\x07/');
  t.is(r.targets.length, 0);
  t.false(/[\x00-\x1f]/.test(r.errors[0]!), r.errors[0]);
  t.regex(r.errors[0]!, /\\u001b\[31mevil\\u0007/);
});

// ---- netconsole= parameter: successes ------------------------------------------------------

const specCases: Array<{ name: string; input: string; want: Record<string, unknown>; explicit: string[] }> = [
  {
    name: 'all defaults',
    input: '@/,@10.0.0.1/',
    want: {
      extended: false,
      release: false,
      localPort: 6665,
      remotePort: 6666,
      remoteIp: '10.0.0.1',
      dev: undefined,
      localIp: undefined,
      remoteMac: undefined,
    },
    explicit: ['remoteIp'],
  },
  {
    name: 'kernel documentation example',
    input: 'netconsole=4444@10.0.0.1/eth1,9353@10.0.0.2/12:34:56:78:9a:bc',
    want: {
      localPort: 4444,
      localIp: '10.0.0.1',
      dev: 'eth1',
      remotePort: 9353,
      remoteIp: '10.0.0.2',
      remoteMac: '12:34:56:78:9a:bc',
    },
    explicit: ['localPort', 'localIp', 'dev', 'remotePort', 'remoteIp', 'remoteMac'],
  },
  {
    name: 'uppercase MAC is lowercased',
    input: '@/eth0,514@192.168.1.10/00:0C:29:86:DC:7A',
    want: { remoteMac: '00:0c:29:86:dc:7a', remotePort: 514, localPort: 6665 },
    explicit: ['dev', 'remotePort', 'remoteIp', 'remoteMac'],
  },
  {
    name: 'extended',
    input: '+@/eth0,514@10.99.0.1/',
    want: { extended: true, release: false },
    explicit: ['extended', 'dev', 'remotePort', 'remoteIp'],
  },
  {
    name: 'extended with release',
    input: '+r6665@10.99.0.2/eth0,6666@10.99.0.1/52:54:00:12:34:56',
    want: { extended: true, release: true, localPort: 6665, localIp: '10.99.0.2' },
    explicit: ['extended', 'release', 'localPort', 'localIp', 'dev', 'remotePort', 'remoteIp', 'remoteMac'],
  },
  {
    name: 'IPv6 both ends',
    input: '@2001:DB8::2/eth0,514@2001:db8::1/',
    want: { localIp: '2001:db8::2', remoteIp: '2001:db8::1' },
    explicit: ['localIp', 'dev', 'remotePort', 'remoteIp'],
  },
  {
    name: 'IPv6 link-local-ish target only',
    input: '@/,@fe80::1/',
    want: { remoteIp: 'fe80::1', localIp: undefined },
    explicit: ['remoteIp'],
  },
  {
    name: 'quoted, as modprobe.d may carry it',
    input: '"6666@/bond0,514@10.1.1.1/"',
    want: { dev: 'bond0', localPort: 6666 },
    explicit: ['localPort', 'dev', 'remotePort', 'remoteIp'],
  },
  {
    name: 'device given by MAC (newer kernels)',
    input: '@/52:54:00:AA:BB:CC,@10.0.0.1/',
    want: { dev: '52:54:00:aa:bb:cc' },
    explicit: ['dev', 'remoteIp'],
  },
];

for (const c of specCases) {
  test(`netconsole spec parses: ${c.name}`, t => {
    const r = parseNetconsoleSpec(c.input, 'cmdline');
    t.deepEqual(r.errors, []);
    t.is(r.targets.length, 1);
    const got = r.targets[0]!;
    for (const [k, v] of Object.entries(c.want)) t.is((got as unknown as Record<string, unknown>)[k], v, k);
    t.deepEqual([...got.explicit].sort(), [...c.explicit].sort());
    t.is(got.source, 'cmdline');
  });
}

test('netconsole spec: several targets joined by ;', t => {
  const r = parseNetconsoleSpec('netconsole=@/eth0,514@10.0.0.1/;+@/eth1,6666@10.0.1.1/aa:bb:cc:dd:ee:ff');
  t.deepEqual(r.errors, []);
  t.deepEqual(
    r.targets.map(x => [x.dev, x.remoteIp, x.remotePort, x.extended, x.remoteMac]),
    [
      ['eth0', '10.0.0.1', 514, false, undefined],
      ['eth1', '10.0.1.1', 6666, true, 'aa:bb:cc:dd:ee:ff'],
    ],
  );
});

// Round trips: parse → format gives back the text (after the prefix/quotes and MAC/IPv6 case normalisation).
const roundTrips = [
  '@/,@10.0.0.1/',
  '4444@10.0.0.1/eth1,9353@10.0.0.2/12:34:56:78:9a:bc',
  '+r@/eth0,514@10.99.0.1/',
  '+6665@2001:db8::2/eth0,6666@2001:db8::1/52:54:00:12:34:56',
  '@/bond0.100,514@172.16.0.1/',
  '@/52:54:00:aa:bb:cc,@10.0.0.1/',
];
for (const text of roundTrips) {
  test(`netconsole spec round trip: ${text}`, t => {
    const r = parseNetconsoleSpec(text);
    t.deepEqual(r.errors, []);
    t.is(formatNetconsoleSpec(r.targets[0]!), text);
    // full form → parse → same effective values
    const full = formatNetconsoleSpec(r.targets[0]!, { full: true });
    const again = parseNetconsoleSpec(full).targets[0]!;
    for (const k of [
      'extended',
      'release',
      'localPort',
      'localIp',
      'dev',
      'remotePort',
      'remoteIp',
      'remoteMac',
    ] as const) {
      t.is(again[k], r.targets[0]![k], k);
    }
  });
}

test('netconsole spec: full form writes the kernel defaults', t => {
  const r = parseNetconsoleSpec('@/,@10.0.0.1/');
  t.is(formatNetconsoleSpec(r.targets[0]!, { full: true }), '6665@/,6666@10.0.0.1/');
});

test('netconsole spec: several targets round trip', t => {
  const text = '@/eth0,514@10.0.0.1/;+@/eth1,6666@10.0.1.1/aa:bb:cc:dd:ee:ff';
  t.is(formatNetconsoleSpecs(parseNetconsoleSpec(text).targets), text);
});

test('normalizeMac', t => {
  t.is(normalizeMac('AA:BB:CC:DD:EE:FF'), 'aa:bb:cc:dd:ee:ff');
  t.is(normalizeMac('aabb.ccdd.eeff'), undefined);
  t.is(normalizeMac('a:b:c:d:e:f'), undefined);
});

// ---- /etc/sysconfig/netconsole: failures first ---------------------------------------------

const sysFailures: Array<{ name: string; text: string; errors: RegExp[]; targets: number }> = [
  { name: 'empty file', text: '', errors: [/SYSLOGADDR is not set.*Server address not specified/], targets: 0 },
  {
    name: 'stock file, nothing set',
    text: '# The IP address of the remote syslog server\n# SYSLOGADDR=\nLOCALPORT=6666\n',
    errors: [/SYSLOGADDR is not set/],
    targets: 0,
  },
  { name: 'SYSLOGADDR empty', text: 'SYSLOGADDR=\n', errors: [/:1: SYSLOGADDR is empty/], targets: 0 },
  {
    name: 'spaces around =',
    text: 'SYSLOGADDR = 10.0.0.1\n',
    errors: [/:1: spaces around '='/, /SYSLOGADDR is not set/],
    targets: 0,
  },
  {
    name: 'bad port',
    text: 'SYSLOGADDR=10.0.0.1\nSYSLOGPORT=51four\n',
    errors: [/:2: bad SYSLOGPORT "51four"/],
    targets: 1,
  },
  {
    name: 'bad local port',
    text: 'SYSLOGADDR=10.0.0.1\nLOCALPORT=70000\n',
    errors: [/:2: bad LOCALPORT "70000"/],
    targets: 1,
  },
  {
    name: 'bad mac',
    text: 'SYSLOGADDR=10.0.0.1\nSYSLOGMACADDR=00-0C-29-86-DC-7A\n',
    errors: [/:2: bad SYSLOGMACADDR "00-0C-29-86-DC-7A"/],
    targets: 1,
  },
  {
    name: 'unterminated quote',
    text: 'SYSLOGADDR="10.0.0.1\n',
    errors: [/:1: unterminated quote/, /not set/],
    targets: 0,
  },
  {
    name: 'IPv6 SYSLOGADDR',
    text: 'SYSLOGADDR=2001:db8::1\n',
    errors: [/IPv6: the init script handles only IPv4/],
    targets: 1,
  },
  { name: 'bad address', text: 'SYSLOGADDR=10.0.0.256\n', errors: [/bad SYSLOGADDR "10.0.0.256"/], targets: 0 },
  { name: 'bad host name', text: 'SYSLOGADDR=log_host!\n', errors: [/bad SYSLOGADDR/], targets: 0 },
  { name: 'bad DEV', text: 'SYSLOGADDR=10.0.0.1\nDEV="eth 0"\n', errors: [/:2: bad DEV/], targets: 1 },
];

for (const c of sysFailures) {
  test(`sysconfig fails: ${c.name}`, t => {
    const r = parseSysconfigNetconsole(c.text, 'f');
    t.is(r.errors.length, c.errors.length, r.errors.join('\n'));
    c.errors.forEach((re, i) => t.regex(r.errors[i]!, re));
    t.is(r.targets.length, c.targets);
  });
}

const sysWarnings: Array<{ name: string; text: string; warning: RegExp }> = [
  {
    name: 'unknown key',
    text: 'SYSLOGADDR=10.0.0.1\nSYSLOGSERVER=10.0.0.2\n',
    warning: /:2: unknown key SYSLOGSERVER/,
  },
  {
    name: 'set twice',
    text: 'SYSLOGADDR=10.0.0.1\nSYSLOGADDR=10.0.0.2\n',
    warning: /:2: SYSLOGADDR set again \(line 1 is overridden\)/,
  },
  {
    name: 'host name',
    text: 'SYSLOGADDR=loghost.example.com\n',
    warning: /host name: the init script resolves it once/,
  },
  { name: 'shell expansion', text: 'SYSLOGADDR=$LOGHOST\n', warning: /shell expansion/ },
  { name: 'not an assignment', text: 'SYSLOGADDR=10.0.0.1\nmodprobe netconsole\n', warning: /:2: not an assignment/ },
  { name: 'trailing words', text: 'SYSLOGADDR=10.0.0.1 DEV=eth0\n', warning: /text after the value/ },
];
for (const c of sysWarnings) {
  test(`sysconfig warns: ${c.name}`, t => {
    const r = parseSysconfigNetconsole(c.text, 'f');
    t.true(
      r.warnings.some(w => c.warning.test(w)),
      r.warnings.join('\n'),
    );
  });
}

test('sysconfig: the last assignment wins, as in the shell', t => {
  const r = parseSysconfigNetconsole('SYSLOGADDR=10.0.0.1\nSYSLOGADDR=10.0.0.2\n');
  t.is(r.targets[0]!.remoteIp, '10.0.0.2');
  t.is(r.targets[0]!.line, 2);
});

// ---- /etc/sysconfig/netconsole: real-world shapes -----------------------------------------

test('sysconfig: CentOS 6 stock file with SYSLOGADDR filled in, init-script defaults', t => {
  const text = [
    '# This is the configuration file for the netconsole service.  By starting',
    '# this service you allow a remote syslog daemon to record console output',
    '# from this system.',
    '',
    '# The local port number that the netconsole module will use',
    '# LOCALPORT=6666',
    '',
    '# The ethernet device to send console messages out of (only set this if it',
    "# can't be automatically determined)",
    '# DEV=',
    '',
    '# The IP address of the remote syslog server to send messages to',
    'SYSLOGADDR=192.168.10.5',
    '',
    '# The listening port of the remote syslog daemon',
    '# SYSLOGPORT=514',
    '',
    "# The MAC address of the remote syslog server (only set this if it can't",
    '# be automatically determined)',
    '# SYSLOGMACADDR=',
  ].join('\n');
  const r = parseSysconfigNetconsole(text);
  t.deepEqual(r.errors, []);
  t.deepEqual(r.warnings, []);
  const tg = r.targets[0]!;
  t.is(tg.source, '/etc/sysconfig/netconsole');
  t.is(tg.line, 13);
  t.is(tg.localPort, 6666, "init script default, not the kernel's 6665");
  t.is(tg.remotePort, 514);
  t.is(tg.remoteIp, '192.168.10.5');
  t.is(tg.dev, undefined);
  t.is(tg.remoteMac, undefined);
  t.deepEqual(tg.explicit, ['remoteIp']);
});

test('sysconfig: quotes, export, comments, CRLF, whitespace', t => {
  const text = [
    '  export DEV="eth1"   # the backup NIC',
    "SYSLOGADDR='10.20.30.40'",
    'SYSLOGPORT="6666"',
    'SYSLOGMACADDR=00:0C:29:86:DC:7A # receiver',
    '\tLOCALPORT=6665',
  ].join('\r\n');
  const r = parseSysconfigNetconsole(text, '/x');
  t.deepEqual(r.errors, []);
  t.deepEqual(r.warnings, []);
  const tg = r.targets[0]!;
  t.is(tg.dev, 'eth1');
  t.is(tg.remoteIp, '10.20.30.40');
  t.is(tg.remotePort, 6666);
  t.is(tg.remoteMac, '00:0c:29:86:dc:7a');
  t.is(tg.localPort, 6665);
  t.deepEqual(r.lines, { DEV: 1, SYSLOGADDR: 2, SYSLOGPORT: 3, SYSLOGMACADDR: 4, LOCALPORT: 5 });
  t.deepEqual([...tg.explicit].sort(), ['dev', 'localPort', 'remoteIp', 'remoteMac', 'remotePort']);
});

test('sysconfig: host name is kept as the remote IP field (resolved at start by the init script)', t => {
  const r = parseSysconfigNetconsole('SYSLOGADDR=loghost\n');
  t.is(r.targets[0]!.remoteIp, 'loghost');
  t.deepEqual(r.errors, []);
});

test('sysconfig: round trip through formatSysconfigNetconsole', t => {
  const r = parseSysconfigNetconsole(
    'DEV=bond0\nSYSLOGADDR=10.0.0.1\nSYSLOGPORT=6514\nSYSLOGMACADDR=aa:bb:cc:dd:ee:ff\nLOCALPORT=7000\n',
  );
  const text = formatSysconfigNetconsole(r.targets[0]!);
  const again = parseSysconfigNetconsole(text);
  const strip = (x: (typeof r.targets)[number] | undefined) => x && { ...x, line: 0, explicit: [...x.explicit].sort() };
  t.deepEqual(strip(again.targets[0]), strip(r.targets[0]));
});

test('sysconfig target → kernel parameter keeps the init script ports', t => {
  const r = parseSysconfigNetconsole('SYSLOGADDR=10.0.0.1\n');
  t.is(formatNetconsoleSpec(r.targets[0]!, { full: true }), '6666@/,514@10.0.0.1/');
});
