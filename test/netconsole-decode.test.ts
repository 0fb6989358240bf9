import test from 'ava';
import {
  decodeKernelHeader,
  decodeNetconsole,
  decodePlain,
  formatExtended,
  formatPlain,
  newKernelHeaderView,
  newPlainView,
  type ExtendedHeader,
} from '../src/decode/netconsole.js';
import {
  decodeExtendedBody,
  escapeKernel,
  stripContinuationStamps,
  unescapeKernel,
} from '../src/decode/netconsole-body.js';

const dec = (s: string | Buffer) => {
  const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  return decodeNetconsole(b, 0, b.length);
};

// Failures first: what must not decode as extended netconsole, and what is malformed.
const notExtended: Array<[string, string, 'plain' | 'malformed']> = [
  ['empty', '', 'malformed'],
  ['NUL byte', 'abc\0def\n', 'malformed'],
  ['no semicolon', '6,378,14045975,-\n', 'plain'],
  ['missing flags', '6,378,14045975;text\n', 'plain'],
  ['letters in seq', '6,3x8,14045975,-;text\n', 'plain'],
  ['prefix over 1023', '2048,1,2,-;text\n', 'plain'],
  ['newline inside header', '6,378\n,1,-;x\n', 'plain'],
  ['number too long', '6,12345678901234567890,1,-;x\n', 'plain'],
  ['syslog-looking but PRI > 191', '<200>hello\n', 'plain'],
  ['plain text with commas', 'a,b,c;d\n', 'plain'],
];
for (const [name, input, kind] of notExtended) {
  test(`decode fails over to ${kind}: ${name}`, t => {
    t.is(dec(input).kind, kind);
  });
}

test('extended: header fields', t => {
  const r = dec('6,378,14045975,-;sysrq: Show Regs\n');
  if (r.kind !== 'extended') return t.fail(r.kind);
  t.deepEqual(r.header, { facility: 0, level: 6, seq: 378, usec: 14045975, flags: '-' });
  t.is(
    Buffer.from('6,378,14045975,-;sysrq: Show Regs\n').subarray(r.bodyOff, r.bodyEnd).toString(),
    'sysrq: Show Regs\n',
  );
});

test('extended: facility from /dev/kmsg writes (user.warning = 12)', t => {
  const r = dec('12,5,100,-;marker\n');
  if (r.kind !== 'extended') return t.fail();
  t.is(r.header.facility, 1);
  t.is(r.header.level, 4);
});

test('extended: release prefix, including one starting with a digit', t => {
  const r = dec('6.1.0-56-amd64,6,378,14045975,-;text\n');
  if (r.kind !== 'extended') return t.fail(r.kind);
  t.is(r.header.release, '6.1.0-56-amd64');
  t.is(r.header.seq, 378);
  const r2 = dec('linux-next,4,1,2,c;x\n');
  if (r2.kind !== 'extended') return t.fail(r2.kind);
  t.is(r2.header.release, 'linux-next');
  t.is(r2.header.flags, 'c');
});

test('extended: ncfrag and unknown header fields', t => {
  const r = dec('6,379,14046000,-,caller=T1,ncfrag=1000/2401;abc');
  if (r.kind !== 'extended') return t.fail(r.kind);
  t.deepEqual(r.header.frag, { offset: 1000, total: 2401 });
  t.deepEqual(r.header.fields, ['caller=T1']);
});

// An ncfrag field that is not `<digits>/<digits>` exactly is a field like any other. Failures first.
const ncfragFields: Array<[string, { offset: number; total: number } | undefined]> = [
  ['ncfrag=/2401', undefined],
  ['ncfrag=1000/', undefined],
  ['ncfrag=1000-2401', undefined],
  ['ncfrag=1000/2401x', undefined],
  ['ncfrag=x1000/2401', undefined],
  ['ncfrag=12345678901/2401', undefined],
  ['ncfrag=0/1', { offset: 0, total: 1 }],
  ['ncfrag=1000/2401', { offset: 1000, total: 2401 }],
];
for (const [field, frag] of ncfragFields) {
  test(`extended: ${field} is ${frag ? 'a piece' : 'an unknown field'}`, t => {
    const r = dec(`6,379,14046000,-,${field};abc`);
    if (r.kind !== 'extended') return t.fail(r.kind);
    t.deepEqual(r.header.frag, frag);
    t.deepEqual(r.header.fields, frag ? undefined : [field]);
  });
}

test('extended body: text, dictionary, escapes decoded, UTF-8', t => {
  const body = Buffer.from('caf\\xc3\\xa9 \\x5c path\\x1b[31m\n SUBSYSTEM=net\n DEVICE=+net:eth0\n msgid=7\n');
  const d = decodeExtendedBody(body);
  t.is(d.text, 'café \\ path\x1b[31m');
  t.deepEqual({ ...d.dict }, { SUBSYSTEM: 'net', DEVICE: '+net:eth0' });
  t.deepEqual({ ...d.sysdata }, { msgid: '7' });
  t.true(d.escaped);
});

// Dictionary, userdata and sysdata are not marked on the wire: they are told apart by the kernel's
// order (dictionary first, sysdata last in cpu, taskname, release, msgid order). Failures first.
const bodyCases: Array<{
  name: string;
  lines: string;
  want: Partial<Record<'dict' | 'userdata' | 'sysdata', Record<string, string>>> & { lines?: string[] };
}> = [
  {
    name: 'a key repeated inside userdata (no kernel sends it): first value kept, every line in lines',
    lines: ' rack=r1\n rack=r2\n',
    want: { userdata: { rack: 'r1' }, lines: ['rack=r1', 'rack=r2'] },
  },
  {
    name: 'sysdata out of order is userdata',
    lines: ' msgid=5\n cpu=0\n',
    want: { userdata: { msgid: '5' }, sysdata: { cpu: '0' } },
  },
  { name: 'a cpu that is not a number is userdata', lines: ' cpu=rack-cpu\n', want: { userdata: { cpu: 'rack-cpu' } } },
  {
    name: 'userdata cpu=rack-cpu beside sysdata cpu=0 (6.17 sends both): both kept, apart',
    lines:
      ' SUBSYSTEM=net\n cpu=rack-cpu\n owner=ops team\n cpu=0\n taskname=kworker/0:1\n release=6.17.0-1-amd64\n msgid=42\n',
    want: {
      dict: { SUBSYSTEM: 'net' },
      userdata: { cpu: 'rack-cpu', owner: 'ops team' },
      sysdata: { cpu: '0', taskname: 'kworker/0:1', release: '6.17.0-1-amd64', msgid: '42' },
    },
  },
  {
    name: 'only the dictionary',
    lines: ' SUBSYSTEM=net\n DEVICE=+net:eth0\n',
    want: { dict: { SUBSYSTEM: 'net', DEVICE: '+net:eth0' } },
  },
  { name: 'only sysdata', lines: ' cpu=3\n msgid=9\n', want: { sysdata: { cpu: '3', msgid: '9' } } },
];

for (const c of bodyCases) {
  test(`extended body parts: ${c.name}`, t => {
    const d = decodeExtendedBody(Buffer.from(`text\n${c.lines}`));
    const got: Record<string, unknown> = {};
    for (const k of ['dict', 'userdata', 'sysdata'] as const) if (d[k]) got[k] = { ...d[k] };
    if (d.lines) got.lines = d.lines;
    t.deepEqual(got, c.want);
  });
}

test('plain: the repeated time stamp of continuation lines is removed, other brackets stay', t => {
  t.is(
    stripContinuationStamps('first\n[   29.268853] second\n[   29.268853] third', 29_268_853),
    'first\nsecond\nthird',
  );
  t.is(stripContinuationStamps('first\n[   30.000000] not ours', 29_268_853), 'first\n[   30.000000] not ours');
  t.is(stripContinuationStamps('no continuation', 1), 'no continuation');
});

test('escape round trip: every byte value', t => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const esc = escapeKernel(all);
  t.false(/[\x00-\x1f\x7f-\xff]/.test(esc));
  t.deepEqual(Buffer.from(unescapeKernel(Buffer.from(esc), 0, esc.length), 'utf8').length > 0, true);
  // Decoding then re-escaping ASCII-only input is the identity.
  const ascii = Buffer.from(Array.from({ length: 128 }, (_, i) => i));
  const e2 = escapeKernel(ascii);
  t.is(escapeKernel(Buffer.from(unescapeKernel(Buffer.from(e2), 0, e2.length), 'latin1')), e2);
});

test('a lone or cut escape stays as it is', t => {
  t.is(unescapeKernel(Buffer.from('ab\\x4'), 0, 5), 'ab\\x4');
  t.is(unescapeKernel(Buffer.from('ab\\xzz'), 0, 6), 'ab\\xzz');
});

test('plain: printk time, newline, text offset', t => {
  const s = '[   45.287505] sysrq: Show Regs\n';
  const r = dec(s);
  if (r.kind !== 'plain') return t.fail(r.kind);
  t.is(r.printkUsec, 45_287_505);
  t.true(r.newline);
  t.is(s.slice(r.bodyOff, r.bodyEnd), 'sysrq: Show Regs\n');
  const r2 = dec('SysRq : ');
  if (r2.kind !== 'plain') return t.fail();
  t.false(r2.newline);
  t.is(r2.printkUsec, undefined);
});

test('syslog RFC 3164 and 5424 are recognised, not taken for netconsole', t => {
  const a = dec('<13>Nov 24 13:01:02 host1 su[123]: session opened\n');
  if (a.kind !== 'syslog') return t.fail(a.kind);
  t.like(a.header, { rfc: 3164, facility: 1, severity: 5, hostname: 'host1', app: 'su' });
  const b = dec(
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event\n',
  );
  if (b.kind !== 'syslog') return t.fail(b.kind);
  t.like(b.header, { rfc: 5424, facility: 20, severity: 5, hostname: 'mymachine.example.com', app: 'evntslog' });
  t.is(
    Buffer.from(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event\n',
    )
      .subarray(b.bodyOff)
      .toString(),
    'An application event\n',
  );
});

// Round trips: format ↔ parse, also at a non-zero offset inside a bigger buffer.
const headers: ExtendedHeader[] = [
  { facility: 0, level: 6, seq: 0, usec: 0, flags: '-' },
  { facility: 0, level: 0, seq: 9007199254740, usec: 123456789012, flags: 'c' },
  { facility: 3, level: 7, seq: 42, usec: 1, flags: '+', release: '6.1.0-27-amd64' },
  { facility: 0, level: 4, seq: 5, usec: 6, flags: '-', frag: { offset: 1000, total: 2401 } },
  { facility: 0, level: 4, seq: 5, usec: 6, flags: '-', fields: ['caller=T12'] },
];
for (const [i, h] of headers.entries()) {
  test(`round trip extended header #${i}`, t => {
    const payload = Buffer.from(formatExtended(h, 'hello world\n'));
    const big = Buffer.concat([Buffer.from('garbage;;;'), payload, Buffer.from('tail')]);
    const r = decodeNetconsole(big, 10, 10 + payload.length);
    if (r.kind !== 'extended') return t.fail(r.kind);
    t.deepEqual(r.header, h);
    t.is(big.subarray(r.bodyOff, r.bodyEnd).toString(), 'hello world\n');
    t.is(formatExtended(r.header, 'hello world\n'), payload.toString());
  });
}

test('round trip plain with and without printk time', t => {
  for (const usec of [undefined, 0, 45_287_505, 123456_000001]) {
    const s = formatPlain('text here', usec);
    const r = dec(s);
    if (r.kind !== 'plain') return t.fail();
    t.is(r.printkUsec, usec);
    t.is(formatPlain(s.slice(r.bodyOff, r.bodyEnd - 1), r.printkUsec), s);
  }
});

test('a header of thousands of release-like fields is plain text, not a stack overflow', t => {
  t.is(dec('1.1,'.repeat(5000) + '6,1,2,-;x\n').kind, 'plain');
  t.is(dec('a,'.repeat(5000) + '6,1,2,-;x\n').kind, 'plain');
});

// The pipeline reads the common records through decodeKernelHeader and decodePlain (no object per
// datagram); they must read exactly what decodeNetconsole reads, or decline (then decodeNetconsole
// reads the payload). Declined first; each payload at a non-zero offset, with bytes after it.
const kernelHeaderCases: Array<[string, string, boolean]> = [
  ['release prefix', '6.1.0-56-amd64,6,378,14045975,-;x\n', false],
  ['ncfrag field', '6,378,14045975,-,ncfrag=0/2000;x', false],
  ['caller field', '6,378,14045975,-,caller=T1;x\n', false],
  ['two flag characters', '6,378,14045975,-c;x\n', false],
  ['flag is a comma', '6,378,14045975,,;x\n', false],
  ['flag is a semicolon', '6,378,14045975,;;x\n', false],
  ['flag is a control byte', '6,378,14045975,\x01;x\n', false],
  ['flag over 127', '6,378,14045975,\xe9;x\n', false],
  ['prefix over 1023', '1024,1,2,-;x\n', false],
  ['17 digits', '6,12345678901234567,1,-;x\n', false],
  ['no semicolon', '6,378,14045975,-\n', false],
  ['cut after the flag', '6,378,14045975,-', false],
  ['cut after usec', '6,378,14045975,', false],
  ['empty seq', '6,,14045975,-;x\n', false],
  ['plain', '[   45.287505] x\n', false],
  ['syslog', '<13>Jan  1 00:00:00 h x\n', false],
  ['common', '6,378,14045975,-;sysrq: Show Regs\n', true],
  ['continuation flags', '4,1,2,c;x', true],
  ['16 digits', '1023,1234567890123456,0,+;x\n', true],
  ['empty body', '6,378,14045975,-;', true],
];
for (const [name, payload, taken] of kernelHeaderCases) {
  test(`decodeKernelHeader ${taken ? 'reads' : 'declines'} as decodeNetconsole: ${name}`, t => {
    const b = Buffer.from(`junk${payload}\0\0;,`, 'latin1');
    const off = 4,
      end = 4 + Buffer.byteLength(payload, 'latin1');
    const v = newKernelHeaderView();
    t.is(decodeKernelHeader(b, off, end, v), taken);
    if (!taken) return; // decodeNetconsole reads it, as before
    const r = decodeNetconsole(b, off, end);
    if (r.kind !== 'extended') return t.fail(r.kind);
    t.deepEqual(v.header, r.header);
    t.is(v.bodyOff, r.bodyOff);
  });
}

const plainCases: Array<[string, string]> = [
  ['NUL byte', '[   45.287505] a\0b\n'],
  ['printk time', '[   45.287505] sysrq: Show Regs\n'],
  ['no space after the time', '[45.287505]x'],
  ['short fraction', '[    1.5] x\n'],
  ['not a time', '[ abc ] x\n'],
  ['bracket only', '['],
  ['text', 'hello world'],
];
for (const [name, payload] of plainCases) {
  test(`decodePlain reads as decodeNetconsole: ${name}`, t => {
    const b = Buffer.from(`junk${payload}\0\0`, 'latin1');
    const off = 4,
      end = 4 + Buffer.byteLength(payload, 'latin1');
    const v = newPlainView();
    const nul = decodePlain(b, off, end, v);
    const r = decodeNetconsole(b, off, end);
    if (nul >= 0) return t.is(r.kind, 'malformed');
    if (r.kind !== 'plain') return t.fail(r.kind);
    t.deepEqual(
      { printkUsec: v.printkUsec < 0 ? undefined : v.printkUsec, bodyOff: v.bodyOff, newline: v.newline },
      { printkUsec: r.printkUsec, bodyOff: r.bodyOff, newline: r.newline },
    );
  });
}
