/**
 * The fleet run with fake ssh, host and capture adapters (the real ones run against the lab in
 * verify-fleet.e2e.test.ts): one capture shared by every sender, each sender's own marker and
 * verdict, unreachable and stuck senders that do not stop the others, the output's order and
 * exit codes. Frames are synthesised with the project's encoders.
 */
import test from 'ava';
import type { ExecResult, HostExec } from '../src/io/host-exec.js';
import type { PacketSink } from '../src/capture/sink.js';
import { SourceDemux } from '../src/capture/demux.js';
import { canonicalIp } from '../src/decode/addr.js';
import { udpFragments, udpFrame } from './helpers/frames.js';
import { formatPlain } from '../src/decode/netconsole.js';
import { CLIError } from '../src/errors.js';
import { runVerify } from '../src/verify/run.js';
import type { VerifyReport } from '../src/verify/judge.js';
import { filteredSink } from '../src/io/bpf-compile.js';
import { runFleet, snapshotter, type FleetDeps, type FleetResult } from '../src/verify/fleet.js';
import { fleetDoc, fleetExitCode, formatFleetJson, formatFleetText } from '../src/verify/fleet-report.js';
import { PLAIN } from '../src/report/style.js';
import { fx } from './helpers/host-facts.js';

const RECV_MAC = '02:99:00:00:00:01';
const ok = (stdout: string): ExecResult => ({ stdout, stderr: '', code: 0 });
const fail = (code: number, stderr = ''): ExecResult => ({ stdout: '', stderr, code });

type Kind = 'healthy' | 'wrong-mac' | 'unreachable' | 'stuck' | 'silent';

/** A sender's address, what it is, and the source its datagrams arrive from when a router translates it (NAT). */
type Fake = { ip: string; kind: Kind; nat?: { ip: string; port: number } };

function fleetDeps(
  kinds: Record<string, Fake>,
  log: { captures: string[]; receiverRuns: number; done: FleetResult[]; fullRuns?: number },
): FleetDeps {
  let sink: PacketSink | undefined;
  let n = 0;
  const answer = (argv: string[]): ExecResult => {
    {
      const cmd = argv.join(' ');
      if (cmd === 'iptables-save -c') log.receiverRuns++;
      if (cmd === 'ss -ulnp') log.fullRuns = (log.fullRuns ?? 0) + 1;
      const route = /^ip route get (\S+)$/.exec(cmd);
      if (route) return ok(`${route[1]} dev eth9 src 10.99.0.1 uid 0\n    cache\n`);
      if (cmd === 'ip -j addr show' || cmd === 'ip -j addr show dev eth9')
        return ok(
          JSON.stringify([
            {
              ifname: 'eth9',
              flags: ['UP', 'LOWER_UP'],
              address: RECV_MAC,
              addr_info: [{ family: 'inet', local: '10.99.0.1', prefixlen: 24 }],
            },
          ]),
        );
      return fail(127);
    }
  };
  const receiver: HostExec = { run: argv => Promise.resolve(answer(argv)), readFile: () => Promise.resolve(null) };
  return {
    connect(s) {
      const { ip, kind, nat } = kinds[s.destination]!;
      return {
        lastError: kind === 'unreachable' ? `ssh: connect to host ${ip} port 22: Connection refused` : undefined,
        run(argv): Promise<ExecResult> {
          const cmd = argv.join(' ');
          if (kind === 'unreachable')
            return Promise.resolve(fail(255, 'ssh: connect to host port 22: Connection refused'));
          if (kind === 'stuck') return new Promise<ExecResult>(() => {});
          if (cmd.startsWith('sh -c id -u')) return Promise.resolve(ok(`0\n10.99.0.1 40000 ${ip} 22\n`));
          const m = /echo (netdiag-verify-\S+) > \/dev\/kmsg/.exec(cmd);
          if (m) {
            if (kind !== 'silent') {
              // Behind NAT, something the sender logged just before the test comes first.
              for (const [text, delay] of [
                ...(nat ? ([['before the test', 5]] as const) : []),
                [m[1]!, 15],
                ['sysrq: Show Regs', 20],
              ] as const) {
                setTimeout(() => {
                  const f = udpFrame({
                    srcIp: nat?.ip ?? ip,
                    dstIp: '10.99.0.1',
                    srcPort: nat?.port ?? 6665,
                    dstPort: 514,
                    dstMac: kind === 'wrong-mac' ? '52:54:00:de:ad:00' : RECV_MAC,
                    payload: formatPlain(text, 1),
                  });
                  sink?.packet(f, 0, f.length, f.length, Math.floor(Date.now() / 1000), 0, 1);
                }, delay);
              }
            }
            return Promise.resolve(ok(''));
          }
          return Promise.resolve(fail(1));
        },
        readFile: () => Promise.resolve(null),
        close: () => Promise.resolve(),
      };
    },
    receiver,
    openCapture(iface, filter, s) {
      log.captures.push(`${iface} ${filter}`);
      sink = s;
      return { stop() {}, now: () => ({ sec: Math.floor(Date.now() / 1000), nsec: 0 }) };
    },
    fileSize: () => Promise.resolve(undefined),
    readFrom: () => Promise.resolve(undefined),
    clock: () => performance.now(),
    sleep: ms => new Promise(r => setTimeout(r, ms)),
    marker: () => `netdiag-verify-${(++n).toString(16).padStart(12, '0')}`,
    onResult: r => log.done.push(r),
  };
}

const base = { timeoutSec: 2, trigger: 'p', forks: 3, budgetSec: 6 };

// Failures first.
test('no senders, or a bad trigger: refused before anything runs', async t => {
  const log = { captures: [], receiverRuns: 0, done: [] };
  await t.throwsAsync(runFleet({ ...base, senders: [] }, fleetDeps({}, log)), {
    instanceOf: CLIError,
    message: /no senders/,
  });
  await t.throwsAsync(
    runFleet({ ...base, trigger: 'pp', senders: [{ name: 'a', destination: 'a' }] }, fleetDeps({}, log)),
    { message: /--trigger/ },
  );
  t.is(log.receiverRuns, 0);
});

test('the daemon stops during the run: its socket gone after the test is the root cause, not the log file', async t => {
  const log = { captures: [] as string[], receiverRuns: 0, done: [] as FleetResult[] };
  const d = fleetDeps({ 'root@web1': { ip: '10.99.0.11', kind: 'healthy' } }, log);
  // rsyslogd listened when the facts were collected (the first read), and not after the test.
  let udpReads = 0;
  const files: Record<string, string> = {
    '/etc/rsyslog.conf': 'module(load="imudp")\ninput(type="imudp" port="514")\n*.* /var/log/syslog\n',
  };
  d.receiver = {
    ...d.receiver,
    readFile: p =>
      Promise.resolve(
        p === '/proc/net/udp'
          ? fx(udpReads++ ? 'generated/proc-net-udp-none.txt' : 'generated/proc-net-udp-any.txt')
          : (files[p] ?? null),
      ),
  };
  const out = await runFleet(
    {
      ...base,
      syslogConfig: '/etc/rsyslog.conf',
      logFile: '/var/log/syslog',
      senders: [{ name: 'web1', destination: 'root@web1' }],
    },
    { ...d, fileSize: () => Promise.resolve(0), readFrom: () => Promise.resolve('') },
  );
  const r = out.results[0]!.outcome;
  t.is(r?.report.rootCause?.code, 'receiver-not-listening', JSON.stringify(r?.report.rootCause));
});

test('mixed fleet: each sender its own verdict; unreachable and stuck ones do not stop the others; one capture', async t => {
  const kinds: Record<string, { ip: string; kind: Kind }> = {
    'root@web1': { ip: '10.99.0.11', kind: 'healthy' },
    'root@web2': { ip: '10.99.0.12', kind: 'wrong-mac' },
    'root@gone': { ip: '10.99.0.13', kind: 'unreachable' },
    'root@web3': { ip: '10.99.0.14', kind: 'healthy' },
    'root@hung': { ip: '10.99.0.15', kind: 'stuck' },
    'root@mute': { ip: '10.99.0.16', kind: 'silent' },
  };
  const log = { captures: [] as string[], receiverRuns: 0, done: [] as FleetResult[], fullRuns: 0 };
  const senders = Object.keys(kinds).map(d => ({ name: d.replace('root@', ''), destination: d }));
  const t0 = performance.now();
  const out = await runFleet({ ...base, senders }, fleetDeps(kinds, log));
  const wall = performance.now() - t0;

  t.deepEqual(
    out.results.map(r => r.sender.name),
    ['web1', 'web2', 'gone', 'web3', 'hung', 'mute'],
    'in the order given',
  );
  const by = Object.fromEntries(out.results.map(r => [r.sender.name, r]));
  t.true(by.web1!.outcome!.report.ok, JSON.stringify(by.web1!.outcome?.report.rootCause));
  t.true(by.web3!.outcome!.report.ok);
  t.is(by.web2!.outcome!.report.rootCause?.code, 'dst-mac-mismatch');
  // Nothing arrives from it, and its (fake) configuration names no target: that is the first hop that
  // fails, and the wire after it is not reached.
  t.false(by.mute!.outcome!.report.ok);
  t.is(by.mute!.outcome!.report.rootCause?.code, 'netconsole-no-target');
  t.is(by.mute!.outcome!.report.checks.find(c => c.id === 'verify.wire')?.status, 'skip');
  t.is(by.gone!.outcome, undefined);
  t.regex(by.gone!.error!, /Connection refused/);
  t.regex(by.hung!.error!, /no verdict within 6 s/);
  // Each its own marker, each its own packets: web1 saw exactly its two datagrams, numbered from 1.
  const markers = out.results.flatMap(r => (r.outcome ? [r.outcome.marker] : []));
  t.is(new Set(markers).size, markers.length);
  t.regex(by.web1!.outcome!.report.checks.find(c => c.id === 'verify.wire')!.detail, /packets #1\)/);
  t.deepEqual(log.captures, ['eth9 udp or icmp or icmp6'], 'one capture for the run');
  t.is(log.done.length, 6);
  t.true(
    log.receiverRuns >= 2 && log.receiverRuns <= 5,
    `this host's counters: once before, and after in waves (${log.receiverRuns} collections)`,
  );
  t.is(log.fullRuns, 1, "this host's facts (sockets, configuration) once for the run");
  t.true(wall < 6000 + 3000, `bounded by the stuck sender's budget, not the sum (${Math.round(wall)} ms)`);
  t.is(fleetExitCode(out.results), 1);

  const text = formatFleetText(out, PLAIN);
  const rows = text
    .split('\n')
    .slice(1, 7)
    .map(l => l.split(/\s+/)[0]);
  t.deepEqual(rows, ['web2', 'mute', 'gone', 'hung', 'web1', 'web3'], 'broken first, then not checked, then working');
  t.regex(text, /^web2: .*\(dst-mac-mismatch\)\n {2}fix: /m);
  t.regex(text, /FAIL: 6 senders: 2 work, 2 broken, 2 could not be checked/);
  // A PASS whose log file could not be looked at (these fakes have none) says so; one whose log
  // file held the marker says nothing more.
  t.is(by.web1!.outcome!.report.checks.find(c => c.id === 'verify.log')?.status, 'unknown');
  t.regex(text, /^web1 +PASS +log file not checked +\d+ ms$/m);
  const seen = structuredClone(out);
  const web1 = seen.results.find(r => r.sender.name === 'web1')!;
  Object.assign(
    web1.outcome!.report.checks.find(c => c.id === 'verify.log')!,
    {
      status: 'pass',
      detail: 'the marker is in /var/log/syslog',
    },
  );
  t.regex(formatFleetText(seen, PLAIN), /^web1 +PASS +\d+ ms$/m);
  t.is(text.match(/^this host \(receiver\)/gm)?.length, 1, "the receiver's checks once");

  const json = JSON.parse(formatFleetJson(out)) as {
    ok: boolean;
    results: Array<Record<string, unknown>>;
    receiver: { captures: string[] };
  };
  t.false(json.ok);
  t.deepEqual(
    json.results.map(r => [r.name, r.ok, r.error === null]),
    [
      ['web1', true, true],
      ['web2', false, true],
      ['gone', false, false],
      ['web3', true, true],
      ['hung', false, false],
      ['mute', false, true],
    ],
  );
  t.deepEqual(json.receiver.captures, ['eth9']);
});

test('behind one NAT router: each sender found by its marker, told apart by port, and judged as a single verify judges it', async t => {
  const kinds: Record<string, Fake> = {
    'root@web1': { ip: '10.99.0.11', kind: 'healthy', nat: { ip: NAT, port: 6665 } },
    'root@web2': { ip: '10.99.0.12', kind: 'healthy', nat: { ip: NAT, port: 40123 } },
    'root@web3': { ip: '10.99.0.13', kind: 'wrong-mac', nat: { ip: NAT, port: 40124 } },
    'root@web4': { ip: '10.99.0.14', kind: 'healthy' },
  };
  const log = { captures: [] as string[], receiverRuns: 0, done: [] as FleetResult[] };
  const senders = Object.keys(kinds).map(d => ({ name: d.replace('root@', ''), destination: d }));
  const deps = fleetDeps(kinds, log);
  const out = await runFleet({ ...base, forks: 4, senders }, deps);
  const by = Object.fromEntries(out.results.map(r => [r.sender.name, r.outcome!]));
  const wire = (o: (typeof by)[string]) => o.report.checks.find(c => c.id === 'verify.wire')!;
  t.true(by.web1!.report.ok, JSON.stringify(by.web1!.report.rootCause));
  t.true(by.web2!.report.ok, JSON.stringify(by.web2!.report.rootCause));
  t.true(by.web4!.report.ok);
  t.is(by.web3!.report.rootCause?.code, 'dst-mac-mismatch');
  t.regex(
    wire(by.web1!).detail,
    /from 10\.99\.0\.254:6665, not 10\.99\.0\.11: a router on the way translates the source \(NAT\)/,
  );
  t.regex(wire(by.web2!).detail, /from 10\.99\.0\.254:40123, not 10\.99\.0\.12: /);
  t.notRegex(wire(by.web4!).detail, /NAT/);

  // The fleet's capture takes what a single verify's takes of a translated source: a datagram from
  // any address to the port, and an IPv4 fragment after the first (it has no port).
  t.deepEqual(log.captures.length, 1);
  const taken = payloads();
  const filter = filteredSink(taken.sink, log.captures[0]!.replace(/^\S+ /, ''));
  const frag = udpFragments(
    { srcIp: NAT, dstIp: '10.99.0.1', srcPort: 6665, dstPort: 514, payload: formatPlain('y'.repeat(300), 1) },
    128,
    5,
  );
  for (const f of [natFrame(40999, 'z\n'), ...frag]) filter.packet(f, 0, f.length, f.length, 0, 0, 1);
  t.is(taken.got.length, 1 + frag.length);

  // Each alone, as a single verify: the same verdict, the same checks.
  const same = (r: VerifyReport) =>
    r.checks.map(
      c => `${c.id} ${c.status}${c.id === 'verify.wire' ? ` ${c.detail.replace(/\d+ ms|#\d+/g, 'N')}` : ''}`,
    );
  for (const s of senders) {
    const alone = await runVerify(
      { destination: s.destination, timeoutSec: base.timeoutSec, trigger: base.trigger },
      { ...deps, sender: deps.connect(s), step: () => {} },
    );
    t.is(alone.report.ok, by[s.name]!.report.ok, s.name);
    t.is(alone.report.rootCause?.code, by[s.name]!.report.rootCause?.code, s.name);
    t.deepEqual(same(by[s.name]!.report), same(alone.report), s.name);
  }
});

test('Ctrl-C: no new sender starts, those under way end now as "interrupted", the finished keep their verdict', async t => {
  const kinds: Record<string, { ip: string; kind: Kind }> = {
    'root@a': { ip: '10.99.0.31', kind: 'healthy' },
    'root@b': { ip: '10.99.0.32', kind: 'stuck' },
    'root@c': { ip: '10.99.0.33', kind: 'healthy' },
  };
  const log = { captures: [] as string[], receiverRuns: 0, done: [] as FleetResult[] };
  let stop!: () => void;
  const stopped = new Promise<void>(r => (stop = r));
  const deps = { ...fleetDeps(kinds, log), stop: stopped };
  const senders = Object.keys(kinds).map(d => ({ name: d, destination: d }));
  const t0 = performance.now();
  const run = runFleet({ ...base, forks: 2, budgetSec: 60, senders }, deps);
  // a finishes quickly; b hangs; then the user presses Ctrl-C while c waits for a fork.
  await new Promise(r => setTimeout(r, 1500));
  stop();
  const out = await run;
  t.true(out.interrupted);
  t.true(performance.now() - t0 < 30_000, "not the stuck sender's 60 s budget");
  t.deepEqual(
    out.results.map(r => r.outcome?.report.ok ?? r.error),
    [true, 'interrupted', out.results[2]!.outcome ? true : 'interrupted'],
  );
  t.regex(formatFleetText(out, PLAIN), /, interrupted\)\n$/);
  t.true((JSON.parse(formatFleetJson(out)) as { interrupted: boolean }).interrupted);
});

test('two entries for one sender IP take turns and both get a verdict', async t => {
  const kinds: Record<string, { ip: string; kind: Kind }> = {
    'root@a': { ip: '10.99.0.21', kind: 'healthy' },
    'admin@a': { ip: '10.99.0.21', kind: 'healthy' },
  };
  const log = { captures: [] as string[], receiverRuns: 0, done: [] as FleetResult[] };
  const out = await runFleet(
    {
      ...base,
      senders: [
        { name: 'a', destination: 'root@a' },
        { name: 'a2', destination: 'admin@a' },
      ],
    },
    fleetDeps(kinds, log),
  );
  t.deepEqual(
    out.results.map(r => r.outcome?.report.ok ?? r.error),
    [true, true],
  );
  t.is(fleetExitCode(out.results), 0);
});

test('exit codes: 1 when any is broken, 2 when none is but some could not be checked, 0 when all work', t => {
  const works = {
    sender: { name: 'a', destination: 'a' },
    outcome: { report: { ok: true } },
    elapsedMs: 1,
  } as unknown as FleetResult;
  const broken = { ...works, outcome: { report: { ok: false } } } as unknown as FleetResult;
  const gone = { sender: { name: 'b', destination: 'b' }, error: 'x', elapsedMs: 1 } as FleetResult;
  t.is(fleetExitCode([works, gone, broken]), 1);
  t.is(fleetExitCode([works, gone]), 2);
  t.is(fleetExitCode([works, works]), 0);
  t.deepEqual(Object.keys(fleetDoc(gone)), [
    'sender',
    'senderIp',
    'iface',
    'port',
    'logFile',
    'marker',
    'ok',
    'roundTripMs',
    'elapsedMs',
    'rootCause',
    'checks',
    'findings',
    'name',
    'error',
  ]);
});

test("demux: each IP's datagrams to its own sink, ICMP errors by their destination, strangers counted", t => {
  const d = new SourceDemux();
  const got = { a: 0, b: 0 };
  t.true(d.add('10.0.0.2', { packet: () => void got.a++ }));
  t.true(d.add('10.0.0.3', { packet: () => void got.b++ }));
  t.false(d.add('10.0.0.3', { packet() {} }));
  const send = (src: string) => {
    const f = udpFrame({ srcIp: src, dstIp: '10.0.0.1', srcPort: 6665, dstPort: 514, payload: Buffer.from('x\n') });
    d.packet(f, 0, f.length, f.length, 0, 0, 1);
  };
  send('10.0.0.2');
  send('10.0.0.2');
  send('10.0.0.3');
  send('10.0.0.9');
  d.remove('10.0.0.2');
  send('10.0.0.2');
  t.deepEqual(got, { a: 2, b: 1 });
  t.is(d.unclaimed, 2);
});

/** A sink that records each packet's UDP payload (or `frag@OFFSET` for an IPv4 fragment after the first). */
function payloads(): { sink: PacketSink; got: string[] } {
  const got: string[] = [];
  return {
    got,
    sink: {
      packet(buf, offset, caplen) {
        const f = Buffer.from(buf.subarray(offset, offset + caplen));
        const fragOff = (f.readUInt16BE(20) & 0x1fff) * 8;
        got.push(
          fragOff
            ? `frag@${fragOff}`
            : f
                .subarray(42)
                .toString('latin1')
                .replace(/^\[[^\]]*\] /, '')
                .replace(/\n$/, ''),
        );
      },
    },
  };
}

/** The same for IPv6 frames (no fragments). */
function payloads6(): { sink: PacketSink; got: string[] } {
  const got: string[] = [];
  return {
    got,
    sink: {
      packet(buf, offset, caplen) {
        const f = Buffer.from(buf.subarray(offset, offset + caplen));
        got.push(
          f
            .subarray(14 + 40 + 8)
            .toString('latin1')
            .replace(/^\[[^\]]*\] /, '')
            .replace(/\n$/, ''),
        );
      },
    },
  };
}

const NAT = '10.99.0.254';
const natFrame = (srcPort: number, text: string, dstPort = 514, srcIp = NAT) =>
  udpFrame({ srcIp, dstIp: '10.99.0.1', srcPort, dstPort, payload: formatPlain(text, 1) });
const feed = (d: SourceDemux, ...frames: Buffer[]) => {
  for (const f of frames) d.packet(f, 0, f.length, f.length, 0, 0, 1);
};

// Failures first.
test('demux, NAT: a source no marker claims reaches nobody; neither does a marker to a port not watched, nor one of a sender gone', t => {
  const d = new SourceDemux();
  const a = payloads();
  t.true(d.add('10.99.0.11', a.sink, { marker: 'netdiag-verify-aaaa', ports: [514] }));
  feed(
    d,
    natFrame(6665, 'someone else'),
    natFrame(6666, 'netdiag-verify-aaaa', 5514),
    natFrame(6667, 'netdiag-verify-bbbb'),
  );
  t.deepEqual(a.got, []);
  t.is(d.unclaimed, 3);
  d.remove('10.99.0.11');
  t.deepEqual(d.keeping, { packets: 0, bytes: 0 }, 'nobody left to claim: nothing kept');
  feed(d, natFrame(6665, 'netdiag-verify-aaaa'));
  t.deepEqual(a.got, [], 'its marker after it was removed claims nothing');
  t.is(d.unclaimed, 4);
});

test('demux, NAT: what is kept of unknown sources is bounded, in packets and in bytes; the oldest go first', t => {
  const d = new SourceDemux();
  const a = payloads();
  d.add('10.99.0.11', a.sink, { marker: 'netdiag-verify-aaaa', ports: [514] });
  // Anyone may send to 514: 20,000 datagrams from 20,000 sources.
  for (let i = 0; i < 20_000; i++)
    feed(d, natFrame(1024 + i, `noise ${i} ${'x'.repeat(200)}`, 514, `10.98.${i >> 8}.${i & 255}`));
  t.true(d.keeping.packets <= 1024, `${d.keeping.packets} packets kept`);
  t.true(d.keeping.bytes <= 1 << 20, `${d.keeping.bytes} bytes kept`);
  t.is(d.unclaimed, 20_000);

  const small = new SourceDemux({ packets: 3, bytes: 1 << 20 });
  const b = payloads();
  small.add('10.99.0.12', b.sink, { marker: 'netdiag-verify-bbbb', ports: [514] });
  feed(small, natFrame(6665, 'one'), natFrame(6665, 'two'), natFrame(6665, 'three'), natFrame(6665, 'four'));
  t.is(small.keeping.packets, 3);
  feed(small, natFrame(6665, 'netdiag-verify-bbbb'));
  t.deepEqual(b.got, ['two', 'three', 'four', 'netdiag-verify-bbbb'], 'the oldest was let go');
  t.is(small.unclaimed, 1);
  t.deepEqual(small.keeping, { packets: 0, bytes: 0 });
});

test('demux, NAT: senders behind one router are told apart by port; what their source sent before the marker follows, in order', t => {
  const d = new SourceDemux();
  const a = payloads(),
    b = payloads(),
    own = payloads();
  d.add('10.99.0.11', a.sink, { marker: 'netdiag-verify-aaaa', ports: [514] });
  d.add('10.99.0.12', b.sink, { marker: 'netdiag-verify-bbbb', ports: [514] });
  d.add('10.99.0.13', own.sink, { marker: 'netdiag-verify-cccc', ports: [514] });
  // Masquerade keeps 6665 for the first sender and maps the second one's to another port.
  feed(
    d,
    natFrame(6665, 'a before'),
    natFrame(40123, 'b before'),
    natFrame(6665, 'netdiag-verify-aaaa'),
    natFrame(6665, 'sysrq: Show Regs a'),
    natFrame(40123, 'netdiag-verify-bbbb'),
    natFrame(6665, 'a after'),
    natFrame(40123, 'sysrq: Show Regs b'),
    natFrame(6665, 'to another port', 53),
    natFrame(6665, 'own', 514, '10.99.0.13'),
  );
  t.deepEqual(a.got, ['a before', 'netdiag-verify-aaaa', 'sysrq: Show Regs a', 'a after', 'to another port']);
  t.deepEqual(b.got, ['b before', 'netdiag-verify-bbbb', 'sysrq: Show Regs b']);
  t.deepEqual(own.got, ['own'], 'a sender not behind the router: by its own address, as before');
  t.is(d.unclaimed, 0);
  // Gone: its translated source goes to nobody, the other's still to it.
  d.remove('10.99.0.11');
  feed(d, natFrame(6665, 'late a'), natFrame(40123, 'late b'));
  t.is(a.got.length, 5);
  t.deepEqual(b.got.slice(3), ['late b']);
});

test('demux, NAT over IPv6: the translated source is claimed by its marker as over IPv4', t => {
  const d = new SourceDemux();
  const a = payloads6();
  d.add('fd99::2', a.sink, { marker: 'netdiag-verify-aaaa', ports: [514] });
  const f = (srcPort: number, text: string) =>
    udpFrame({ srcIp: 'fd99:1::fe', dstIp: 'fd99:1::1', srcPort, dstPort: 514, payload: formatPlain(text, 1) });
  feed(d, f(6665, 'before'), f(6666, 'another source'), f(6665, 'netdiag-verify-aaaa'), f(6665, 'after'));
  t.deepEqual(a.got, ['before', 'netdiag-verify-aaaa', 'after']);
  t.is(d.unclaimed, 1);
});

test('demux, NAT: the later IPv4 fragments of a translated datagram follow its first one, also those that came before the claim', t => {
  const d = new SourceDemux();
  const a = payloads();
  d.add('10.99.0.11', a.sink, { marker: 'netdiag-verify-aaaa', ports: [514] });
  const spec = { srcIp: NAT, dstIp: '10.99.0.1', srcPort: 6665, dstPort: 514 };
  // A long message through a router with a small MTU, its later fragments first; another from
  // the same router's other source whose fragments are nobody's.
  const early = udpFragments({ ...spec, payload: formatPlain(`early ${'e'.repeat(300)}`, 1) }, 128, 7);
  const other = udpFragments({ ...spec, srcPort: 40000, payload: formatPlain('x'.repeat(300), 1) }, 128, 8);
  feed(d, ...early.slice(1), early[0]!, ...other);
  feed(d, natFrame(6665, 'netdiag-verify-aaaa'));
  const late = udpFragments({ ...spec, payload: formatPlain(`late ${'l'.repeat(300)}`, 1) }, 128, 9);
  feed(d, late[0]!, ...late.slice(1));
  t.deepEqual(
    a.got.map(g => g.replace(/(early|late) [el]+[\s\S]*/, '$1')),
    ['frag@128', 'frag@256', 'early', 'netdiag-verify-aaaa', 'late', 'frag@128', 'frag@256'],
  );
  t.is(d.unclaimed, other.length);

  // The marker's own datagram fragmented (6.17's userdata make it long), its later fragments first.
  const m = new SourceDemux();
  const b = payloads();
  m.add('10.99.0.12', b.sink, { marker: 'netdiag-verify-bbbb', ports: [514] });
  const marked = udpFragments({ ...spec, payload: formatPlain(`netdiag-verify-bbbb ${'u'.repeat(300)}`, 1) }, 128, 11);
  feed(m, ...marked.slice(1), marked[0]!);
  t.deepEqual(
    b.got.map(g => g.slice(0, 19)),
    ['frag@128', 'frag@256', 'netdiag-verify-bbbb'],
  );
  t.is(m.unclaimed, 0);
});

test('snapshots: who asks while one runs shares the next; who asks after it started shares it', async t => {
  let runs = 0;
  let now = 0;
  const snap = snapshotter(
    async () => {
      runs++;
      await new Promise(r => setTimeout(r, 30));
      return { notes: [String(runs)] };
    },
    () => now,
  );
  const a = snap(0);
  await new Promise(r => setTimeout(r, 5));
  const a2 = snap(0);
  now = 10;
  const [b, c] = [snap(10), snap(10)];
  t.deepEqual(await a, { notes: ['1'] });
  t.is(await a2, await a, 'started at or after 0: shared');
  t.deepEqual(await b, { notes: ['2'] });
  t.is(await b, await c);
  t.is(await snap(8), await b, 'the latest started after 8');
  t.is(runs, 2);
});

test('snapshots with a hold: whoever asks while the next one holds shares it; without asking, none runs', async t => {
  let runs = 0;
  let now = 0;
  let release!: () => void;
  const held = new Promise<void>(r => (release = r));
  const snap = snapshotter(
    () => {
      runs++;
      return Promise.resolve({ notes: [String(runs)] });
    },
    () => now,
    () => held,
  );
  const a = snap(0);
  now = 5;
  const b = snap(5);
  now = 9;
  const c = snap(9);
  await new Promise(r => setTimeout(r, 10));
  t.is(runs, 0, 'held: not started yet');
  release();
  t.deepEqual(await a, { notes: ['1'] });
  t.is(await b, await a);
  t.is(await c, await a, 'asked at 9, before it started: shared');
  t.is(runs, 1);
});

test('an IPv6 sender written another way is the same sender on the wire', t => {
  const cases: Array<[string, string]> = [
    ['fd99:0::2', 'fd99::2'],
    ['FD99::0:2', 'fd99::2'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['10.0.0.1', '10.0.0.1'],
    ['1::2::3', '1::2::3'],
  ];
  for (const [given, want] of cases) t.is(canonicalIp(given), want, given);
  const d = new SourceDemux();
  let got = 0;
  t.true(d.add('fd99:0:0::2', { packet: () => void got++ }));
  t.false(d.add('fd99::2', { packet() {} }));
  const f = udpFrame({ srcIp: 'fd99::2', dstIp: 'fd99::1', srcPort: 6665, dstPort: 514, payload: Buffer.from('x\n') });
  d.packet(f, 0, f.length, f.length, 0, 0, 1);
  t.is(got, 1);
});

test('a capture that cannot be opened is said once and stops the run (exit 2), not every sender "could not be checked"', async t => {
  const kinds: Record<string, { ip: string; kind: Kind }> = {
    'root@a': { ip: '10.99.0.41', kind: 'healthy' },
    'root@b': { ip: '10.99.0.42', kind: 'healthy' },
    'root@c': { ip: '10.99.0.43', kind: 'healthy' },
  };
  const log = { captures: [] as string[], receiverRuns: 0, done: [] as FleetResult[] };
  const deps = fleetDeps(kinds, log);
  let opened = 0;
  deps.openCapture = () => {
    opened++;
    return Promise.reject(new CLIError("cannot capture on eth9: You don't have permission to capture on that device"));
  };
  const senders = Object.keys(kinds).map(d => ({ name: d.replace('root@', ''), destination: d }));
  await t.throwsAsync(runFleet({ ...base, forks: 1, senders }, deps), {
    instanceOf: CLIError,
    message: "cannot capture on eth9: You don't have permission to capture on that device",
  });
  t.is(opened, 1, 'tried once');
  t.true(log.done.length <= 1, `no sender after it started (${log.done.length} finished)`);
});
