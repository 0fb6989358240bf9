/**
 * Golden reports: `netdiag analyze` on the real captures in fixtures/real (a Debian 6.1 kernel
 * in the lab; see fixtures/real/README.md) must print exactly fixtures/golden/NAME.txt. The
 * golden files were read and checked by hand when written; after a deliberate change to the
 * report, regenerate with UPDATE_GOLDEN=1 and read the diff. The facts each capture is known to
 * hold (from how it was made) are also asserted directly, so a golden file cannot bless a wrong
 * report by itself. Run in this process (the reports are what is under test); one capture also
 * through the program, which must print the same bytes.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot, runCli, runMain } from './helpers/cli.js';

// Text times are local (as tcpdump's): the golden reports are pinned to UTC, and say so. (This
// worker's own zone: Node takes a change of TZ at once.)
process.env.TZ = 'UTC';

const real = path.join(projectRoot, 'fixtures/real');
const synth = path.join(projectRoot, 'fixtures/synthesised');
const goldenDir = path.join(projectRoot, 'fixtures/golden');
const captures = existsSync(real)
  ? readdirSync(real)
      .filter(f => f.endsWith('.pcap'))
      .sort()
  : [];
const synthesised = existsSync(synth)
  ? readdirSync(synth)
      .filter(f => f.endsWith('.synth.pcap'))
      .sort()
  : [];

test('there are real captures to check', t => {
  t.true(captures.length >= 10, `fixtures/real has ${captures.length} captures`);
});

/** The golden file of a capture, written first when UPDATE_GOLDEN=1. */
function golden(file: string, report: string): string {
  const want = path.join(goldenDir, path.basename(file).replace(/\.pcap$/, '.txt'));
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(want, report);
  }
  return existsSync(want) ? readFileSync(want, 'utf8') : `no golden file ${want}: run UPDATE_GOLDEN=1 and review it`;
}

for (const file of [...captures.map(f => `real/${f}`), ...synthesised.map(f => `synthesised/${f}`)]) {
  test(`golden text report: ${file}`, async t => {
    // The path as given is in the report: relative to the project, where ava runs its tests.
    const r = await runMain(['analyze', `fixtures/${file}`]);
    t.true(r.code === 0 || r.code === 1, r.stderr);
    t.true(r.stdout.startsWith('times in UTC (+00:00)\n'), 'the zone is named once, at the top');
    t.is(r.stdout, golden(file, r.stdout));
  });
}

test('the program prints the golden report too, to its last byte, and exits 0', t => {
  const file = `real/${captures.find(c => c.endsWith('-plain-boot.pcap'))}`;
  const r = runCli(['analyze', `fixtures/${file}`], { cwd: projectRoot, env: { TZ: 'UTC' } });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, golden(file, r.stdout));
});

async function json(file: string, ...args: string[]) {
  const r = await runMain(['analyze', '--json', ...args, path.join(real, file)]);
  return {
    code: r.code,
    doc: JSON.parse(r.stdout) as {
      messages: Array<{ text: string; fragments: number; seq?: number; level?: number; mode: string }>;
      senders: Array<{ mode: string; packets: number; messages: number; kernel?: string; seqGaps?: number }>;
      findings: Array<{ code: string; severity: string }>;
    },
  };
}
const find = (name: string) => captures.find(c => c.endsWith(name))!;

test('plain boot log: one message per datagram, from Linux version on, nothing wrong', async t => {
  const { code, doc } = await json(find('-plain-boot.pcap'));
  t.is(code, 0);
  t.is(doc.senders[0]!.mode, 'plain');
  t.is(doc.senders[0]!.messages, doc.senders[0]!.packets);
  t.regex(doc.messages[0]!.text, /^Linux version 6\.1\.0-/);
  t.regex(doc.senders[0]!.kernel!, /^Linux version 6\.1\.0-/);
  t.deepEqual(doc.findings, []);
});

test('extended boot log: levels and sequence numbers; gaps are reported as possibly filtered', async t => {
  const { code, doc } = await json(find('-extended-boot.pcap'));
  t.is(code, 0);
  t.is(doc.senders[0]!.mode, 'extended');
  t.is(doc.messages[0]!.seq, 0);
  t.regex(doc.messages[0]!.text, /^Linux version/);
  t.true(doc.messages.every(m => typeof m.level === 'number'));
  // The 6.1 default console level leaves out KERN_DEBUG records: gaps that are not loss.
  t.deepEqual(
    doc.findings.map(f => f.code),
    ['seq-gap'],
  );
  t.is(doc.findings[0]!.severity, 'warning');
});

test('extended ncfrag: three pieces make the one /dev/kmsg record, escapes decoded', async t => {
  const { doc } = await json(find('-extended-fragmented.pcap'));
  t.is(doc.messages.length, 1);
  const m = doc.messages[0]!;
  t.is(m.fragments, 3);
  t.true(m.text.startsWith('ndlab-fragment-test begin '));
  t.true(m.text.endsWith(' end'));
  t.is(m.text.length, 'ndlab-fragment-test begin '.length + 700 + ' end'.length);
  t.is([...m.text.slice(26, 726)].filter(c => c === '\x01').length, 700);
});

test('sysrq p over ssh: only the Show Regs line, in both modes', async t => {
  for (const name of ['-plain-sysrq-p.pcap', '-extended-sysrq-p.pcap']) {
    const { doc } = await json(find(name));
    t.deepEqual(
      doc.messages.map(m => m.text),
      ['sysrq: Show Regs'],
    );
  }
});

test('wrong MAC: frames to the wrong MAC are found against the configuration', async t => {
  const { code, doc } = await json(
    find('-wrong-mac.pcap'),
    '--netconsole',
    '6665@10.99.0.2/eth0,514@10.99.0.1/02:99:00:00:00:01',
  );
  t.is(code, 1);
  t.deepEqual(
    doc.findings.map(f => f.code),
    ['dst-mac-mismatch'],
  );
});

test('behind a router (6.17, captured past it): the configured router MAC is not judged against the last hop', async t => {
  // The spec names the router's sender-side MAC, as it must; the frames here come from the
  // router's other port to the receiver, TTL 63. Before netdiag read the TTL it reported
  // dst-mac-mismatch twice and told the user to set the receiver's MAC: the harmful fix.
  const routerMac = '6665@10.99.0.2/eth0,514@10.99.1.1/02:99:00:00:00:fe';
  const file = captures.find(c => c.startsWith('linux-6.17') && c.endsWith('-routed.pcap'))!;
  t.truthy(file, 'the 6.17 routed capture is in fixtures/real');
  for (const spec of [routerMac, '6665@10.99.0.2/eth0,514@10.99.1.1/02:99:de:ad:be:ef']) {
    const r = await runMain(['analyze', '--json', '--netconsole', spec, path.join(real, file)]);
    const doc = JSON.parse(r.stdout) as {
      senders: Array<{ routers?: number; ttl?: number; dstMac?: string }>;
      findings: Array<{ code: string }>;
      coverage: { compared: string[]; notCompared: string[] };
    };
    t.is(r.code, 0, spec);
    t.deepEqual(doc.findings, [], spec);
    t.like(doc.senders[0], { routers: 1, ttl: 63, dstMac: '02:99:00:01:00:01' });
    t.true(
      doc.coverage.notCompared.some(l =>
        /configured remote MAC for 10\.99\.1\.1: .*1 router \(TTL 63; netconsole sends 64\)/.test(l),
      ),
      doc.coverage.notCompared.join('\n'),
    );
    t.false(doc.coverage.compared.some(l => l.includes('against the configuration')));
  }
  const text = await runMain(['analyze', '-q', path.join(real, file)]);
  t.regex(text.stdout, /02:99:00:01:00:fe → 02:99:00:01:00:01 {2}through 1 router \(TTL 63\)/);
  // Straight from the sender (TTL 64), a wrong configured MAC is still an error (above), and no
  // sender line speaks of routers.
  const direct = await runMain(['analyze', '-q', path.join(real, find('-wrong-mac.pcap'))]);
  t.notRegex(direct.stdout, /router/);
});

test('nothing listening, or REJECT: ICMP port unreachable is an error', async t => {
  for (const name of ['-port-unreachable.pcap', '-iptables-reject.pcap']) {
    const { code, doc } = await json(find(name));
    t.is(code, 1);
    t.deepEqual(
      doc.findings.map(f => f.code),
      ['port-unreachable'],
    );
  }
});

test('synthesised old-kernel capture: one datagram per printk is joined, and the 1000-byte cut too', async t => {
  const r = await runMain(['analyze', '--json', path.join(synth, 'centos5-split-lines.synth.pcap')]);
  const doc = JSON.parse(r.stdout) as {
    messages: Array<{ text: string; fragments: number }>;
    findings: Array<{ code: string; summary: string }>;
  };
  t.deepEqual(
    doc.messages.slice(0, 2).map(m => [m.text, m.fragments]),
    [
      ['SysRq : Show Regs', 2],
      ['', 1],
    ],
  );
  t.is(doc.messages[5]!.text, ' EFLAGS: 00000246    Not tainted  (2.6.18-398.el5 #1)');
  t.is(doc.messages[7]!.text.length, 'WARNING: '.length + 981);
  t.deepEqual(
    doc.findings.map(f => f.code),
    ['split-line', 'split-line'],
  );
  t.regex(doc.findings[0]!.summary, /one datagram per printk call/);
  t.regex(doc.findings[1]!.summary, /over 1000 bytes cut by netconsole/);
});
