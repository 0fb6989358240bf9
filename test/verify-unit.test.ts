/**
 * verify's timing and error paths with fake ssh, host and capture adapters (the real ones are
 * exercised against the lab in verify.e2e.test.ts). The frames the fake capture delivers are
 * synthesised with the project's encoders.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { listFiles } from '../src/io/log-file.js';
import type { ExecResult, HostExec } from '../src/io/host-exec.js';
import type { PacketSink } from '../src/capture/sink.js';
import { udpFrame } from './helpers/frames.js';
import { formatPlain } from '../src/decode/netconsole.js';
import { CLIError } from '../src/errors.js';
import { runVerify } from '../src/verify/run.js';
import type { VerifyDeps } from '../src/verify/types.js';
import { fx } from './helpers/host-facts.js';

const RECV_MAC = '02:99:00:00:00:01';
const MARKER = 'netdiag-verify-feedc0ffee00';
const ok = (stdout: string): ExecResult => ({ stdout, stderr: '', code: 0 });
const fail = (code: number, stderr = ''): ExecResult => ({ stdout: '', stderr, code });

interface Scenario {
  ssh?: ExecResult;
  uid?: string;
  sudo?: boolean;
  trigger?: ExecResult;
  /**
   * The sender holds the facts' session (ssh-exec's `session`): `log` records what happened to it
   * (`held`, `fired`, `cancelled`) and to other sessions (`run trigger`).
   */
  held?: string[];
  /** What arrives after the trigger: texts, with the destination MAC and delay. */
  arrivals?: Array<{ text: string; dstMac?: string; delayMs: number }>;
  /** This host's /proc/net/udp before the trigger and after it (a daemon that stops during the test). */
  udp?: { before: string; after: string };
  /** The source the datagrams arrive from (a NAT router's address); default the sender's 10.99.0.2. */
  srcIp?: string;
  /** This host's /etc/rsyslog.conf (default: with udp given, one writing /var/log/syslog). */
  rsyslog?: string;
  /** Log files: their text before the trigger, and lines the daemon appends when the datagrams arrive. */
  files?: Record<string, { before: string; written?: string }>;
  /** Every command this host ran, and every read of a log file (`read PATH@OFFSET`). */
  calls?: string[];
}

function deps(sc: Scenario, stepLog: string[] = []): VerifyDeps {
  let sink: PacketSink | undefined;
  let triggered = false;
  const sender: VerifyDeps['sender'] = {
    lastError: sc.ssh?.code === 255 ? 'ssh: connect to host 10.99.0.2 port 22: Connection refused' : undefined,
    setSudo() {},
    run: argv => {
      if (argv.join(' ').includes('/proc/sysrq-trigger')) sc.held?.push('run trigger');
      return Promise.resolve(senderAnswer(argv));
    },
    readFile: () => Promise.resolve(null),
  };
  if (sc.held) {
    const log = sc.held;
    // No batch answers, then its ready line; fired, it runs the trigger the script ends with.
    sender.session = (argv, readyLine) => {
      log.push('held');
      let go!: (line: boolean) => void;
      const fired = new Promise<boolean>(r => (go = r));
      const head = `\n${readyLine}\n`;
      const result = fired.then(yes => {
        if (!yes) return ok(head);
        const trig = senderAnswer(['sh', '-c', argv[2]!.slice(argv[2]!.indexOf('/proc/sysrq-trigger'))]);
        return { ...trig, stdout: head + trig.stdout };
      });
      return {
        ready: Promise.resolve(ok(head)),
        fire: () => (log.push('fired'), go(true)),
        cancel: () => (log.push('cancelled'), go(false)),
        result,
      };
    };
  }
  function senderAnswer(argv: string[]): ExecResult {
    {
      const cmd = argv.join(' ');
      if (cmd.startsWith('sh -c id -u')) return sc.ssh ?? ok(`${sc.uid ?? '0'}\n10.99.0.1 40000 10.99.0.2 22\n`);
      if (cmd === 'true') return sc.sudo === false ? fail(1, 'sudo: a password is required') : ok('');
      if (cmd.includes('/proc/sysrq-trigger')) {
        triggered = true;
        const r = sc.trigger ?? ok('');
        if (r.code === 0) {
          for (const a of sc.arrivals ?? []) {
            setTimeout(() => {
              const f = udpFrame({
                srcIp: sc.srcIp ?? '10.99.0.2',
                dstIp: '10.99.0.1',
                srcPort: 6665,
                dstPort: 514,
                dstMac: a.dstMac ?? RECV_MAC,
                payload: formatPlain(a.text, 1),
              });
              sink?.packet(f, 0, f.length, f.length, Math.floor(Date.now() / 1000), 0, 1);
              for (const file of Object.values(sc.files ?? {})) if (file.written) file.before += file.written;
            }, a.delayMs);
          }
        }
        return r;
      }
      return fail(1);
    }
  }
  const receiver: HostExec = {
    run: argv => Promise.resolve(receiverAnswer(argv)),
    readFile: p =>
      Promise.resolve(
        p === '/proc/net/udp' && sc.udp
          ? triggered
            ? sc.udp.after
            : sc.udp.before
          : p === '/etc/rsyslog.conf' && sc.rsyslog
            ? sc.rsyslog
            : p === '/etc/rsyslog.conf' && sc.udp
              ? 'module(load="imudp")\ninput(type="imudp" port="514")\n*.* /var/log/syslog\n'
              : null,
      ),
  };
  function receiverAnswer(argv: string[]): ExecResult {
    {
      const cmd = argv.join(' ');
      sc.calls?.push(cmd);
      if (cmd === 'ip route get 10.99.1.254') return ok('10.99.1.254 dev eth9 src 10.99.0.1 uid 0\n    cache\n');
      if (cmd === 'ip route get 10.99.0.2') return ok('10.99.0.2 dev eth9 src 10.99.0.1 uid 0\n    cache\n');
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
  }
  return {
    sender,
    receiver,
    openCapture(_iface, _filter, s) {
      sink = s;
      return {
        stop() {
          sink = undefined;
        },
        now: () => ({ sec: Math.floor(Date.now() / 1000), nsec: 0 }),
      };
    },
    fileSize: p => Promise.resolve(sc.files?.[p]?.before.length),
    readFrom: (p, off) => {
      sc.calls?.push(`read ${p}@${off}`);
      return Promise.resolve(sc.files?.[p]?.before.slice(off));
    },
    ...(sc.files
      ? {
          listFiles: (pattern: string) => {
            const re = new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')}$`);
            return Promise.resolve(Object.keys(sc.files!).filter(f => re.test(f)));
          },
        }
      : {}),
    clock: () => performance.now(),
    sleep: ms => new Promise(r => setTimeout(r, ms)),
    step: s => stepLog.push(s),
    marker: () => MARKER,
  };
}

const opts = { destination: 'root@10.99.0.2', timeoutSec: 1, trigger: 'p' };

// Failures first.
test("ssh cannot connect: one line with ssh's reason, exit 2", async t => {
  const e = await t.throwsAsync(
    runVerify(opts, deps({ ssh: fail(255, 'ssh: connect to host 10.99.0.2 port 22: Connection refused') })),
  );
  t.true(e instanceof CLIError);
  t.is((e as CLIError).exitCode, 2);
  t.is(e.message, 'ssh root@10.99.0.2: ssh: connect to host 10.99.0.2 port 22: Connection refused');
});

test('not root and no sudo: says what is needed', async t => {
  const e = await t.throwsAsync(runVerify(opts, deps({ uid: '1000', sudo: false })));
  t.regex(e.message, /needs root on the sender.*sudo -n' is not available/);
});

test('a bad trigger character is refused before anything runs', async t => {
  const log: string[] = [];
  await t.throwsAsync(runVerify({ ...opts, trigger: 'p; rm -rf /' }, deps({}, log)), { message: /--trigger/ });
  t.deepEqual(log, []);
});

test('the trigger fails: root cause trigger-failed, without waiting for the timeout', async t => {
  const t0 = performance.now();
  const out = await runVerify(
    { ...opts, timeoutSec: 5 },
    deps({ trigger: fail(1, 'sh: /proc/sysrq-trigger: Permission denied') }),
  );
  t.is(out.report.rootCause?.code, 'trigger-failed');
  t.true(performance.now() - t0 < 3000);
});

test('nothing arrives: not-on-wire after the timeout', async t => {
  const t0 = performance.now();
  const out = await runVerify(opts, deps({ arrivals: [] }));
  t.false(out.report.ok);
  t.true(performance.now() - t0 >= 1000);
  // The fake sender has no netconsole configuration at all: that is the root cause, and the wire,
  // a later hop, is not reached (not a failure of its own).
  t.is(out.report.rootCause?.code, 'netconsole-no-target');
  t.is(out.report.checks.find(c => c.id === 'verify.wire')?.status, 'skip');
});

test('only the sysrq line arrives: the marker was filtered', async t => {
  const out = await runVerify(opts, deps({ arrivals: [{ text: 'sysrq: Show Regs', delayMs: 20 }] }));
  t.false(out.report.ok);
  t.is(out.report.rootCause?.code, 'marker-filtered');
});

test('the daemon stops during the test: its socket gone after the trigger is the root cause, not the log file', async t => {
  // As on the lab: rsyslogd listened, the marker and the sysrq line reached its socket, it was killed.
  const out = await runVerify(
    { ...opts, syslogConfig: '/etc/rsyslog.conf', logFile: '/var/log/syslog' },
    {
      ...deps({
        arrivals: [
          { text: MARKER, delayMs: 30 },
          { text: 'sysrq: Show Regs', delayMs: 40 },
        ],
        udp: { before: fx('generated/proc-net-udp-any.txt'), after: fx('generated/proc-net-udp-none.txt') },
      }),
      fileSize: () => Promise.resolve(0),
      readFrom: () => Promise.resolve(''),
    },
  );
  t.false(out.report.ok);
  t.is(out.report.rootCause?.code, 'receiver-not-listening', JSON.stringify(out.report.rootCause));
  t.true(
    out.report.rootCause!.evidence.some(e =>
      /listened on 0\.0\.0\.0:514 when the test began, and nothing listens after it/.test(e),
    ),
    JSON.stringify(out.report.rootCause!.evidence),
  );
});

test('both arrive to the right MAC: pass, with the round-trip time', async t => {
  const out = await runVerify(
    opts,
    deps({
      arrivals: [
        { text: MARKER, delayMs: 30 },
        { text: 'sysrq: Show Regs', delayMs: 40 },
      ],
    }),
  );
  t.true(out.report.ok, JSON.stringify(out.report.rootCause));
  t.true(out.report.roundTripMs! >= 20 && out.report.roundTripMs! < 1000);
  t.is(out.iface, 'eth9');
});

test('they arrive to another MAC: dst-mac-mismatch is the root cause', async t => {
  const out = await runVerify(
    opts,
    deps({
      arrivals: [
        { text: MARKER, dstMac: '52:54:00:de:ad:00', delayMs: 10 },
        { text: 'sysrq: Show Regs', dstMac: '52:54:00:de:ad:00', delayMs: 10 },
      ],
    }),
  );
  t.is(out.report.rootCause?.code, 'dst-mac-mismatch');
  t.regex(out.report.rootCause!.hint, new RegExp(RECV_MAC));
});

test('the marker arrives late, the sysrq line never: judged after a short grace, not the full timeout', async t => {
  const t0 = performance.now();
  const out = await runVerify({ ...opts, timeoutSec: 5 }, deps({ arrivals: [{ text: MARKER, delayMs: 50 }] }));
  t.true(
    out.report.ok,
    JSON.stringify(out.report.checks.filter(c => c.status !== 'pass').map(c => [c.id, c.status, c.detail])),
  );
  t.true(performance.now() - t0 < 3000);
});

test("the facts' session triggers when the sender answered as root: no session of its own", async t => {
  const held: string[] = [];
  const out = await runVerify(
    opts,
    deps({
      held,
      arrivals: [
        { text: MARKER, delayMs: 30 },
        { text: 'sysrq: Show Regs', delayMs: 40 },
      ],
    }),
  );
  t.true(out.report.ok, JSON.stringify(out.report.rootCause));
  t.deepEqual(held.slice(0, 2), ['held', 'fired']);
  t.false(held.includes('run trigger'));
});

test("not root (sudo): the facts' session is let go and the trigger has a session of its own", async t => {
  const held: string[] = [];
  const out = await runVerify(
    opts,
    deps({
      held,
      uid: '1000',
      arrivals: [
        { text: MARKER, delayMs: 30 },
        { text: 'sysrq: Show Regs', delayMs: 40 },
      ],
    }),
  );
  t.true(out.report.ok, JSON.stringify(out.report.rootCause));
  t.deepEqual(held.slice(0, 2), ['held', 'cancelled']);
  t.false(held.includes('fired'));
  t.true(held.includes('run trigger'));
});

test('listFiles: a pattern with * inside path segments names the files that exist, bounded', async t => {
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-list-'));
  try {
    for (const h of ['db1', 'web2', 'web3']) {
      mkdirSync(path.join(dir, h));
      writeFileSync(path.join(dir, h, '2026-kern.log'), 'x\n');
    }
    writeFileSync(path.join(dir, 'web2', 'other.log'), 'x\n');
    mkdirSync(path.join(dir, 'web4', '2026-kern.log'), { recursive: true }); // a directory, not a file
    t.deepEqual(
      (await listFiles(`${dir}/*/*-kern.log`)).sort(),
      ['db1', 'web2', 'web3'].map(h => path.join(dir, h, '2026-kern.log')),
    );
    t.deepEqual(await listFiles(`${dir}/web*/2026-kern.log`, 2).then(l => l.length), 2);
    t.deepEqual(await listFiles(`${dir}/nothere/*.log`), []);
    t.deepEqual(await listFiles(`${dir}/db1/2026-kern.log`), [path.join(dir, 'db1', '2026-kern.log')]);
    // A log server with more hosts than the limit: the file written last is among those named.
    for (let i = 0; i < 100; i++) {
      mkdirSync(path.join(dir, `h${i}`));
      writeFileSync(path.join(dir, `h${i}`, '2026-kern.log'), 'x\n');
      utimesSync(path.join(dir, `h${i}`, '2026-kern.log'), 1_700_000_000 + i, 1_700_000_000 + i);
    }
    writeFileSync(path.join(dir, 'web3', '2026-kern.log'), 'the test wrote here\n');
    const newest = await listFiles(`${dir}/*/*-kern.log`, 5);
    t.is(newest.length, 5);
    t.is(newest[0], path.join(dir, 'web3', '2026-kern.log'));
    t.is((await listFiles(`${dir}/*/*-kern.log`, 4096)).length, 103);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- behind a NAT router: the datagrams arrive from the router's address ---------------------

const NAT_ARRIVALS = [
  { text: MARKER, delayMs: 20 },
  { text: 'sysrq: Show Regs', delayMs: 30 },
];
const natLine = (text: string) => `2026-12-04T02:07:00+00:00 10.99.1.254  [    0.000001] ${text}\n`;

test("NAT, rsyslog writing a file per %fromhost-ip%: the marker is looked for in the translated address's file, read from where it stood", async t => {
  // Walked on the lab (--router --router-nat): rsyslog wrote remote/10.99.1.254/kern.log; verify
  // looked for remote/10.99.0.2/kern.log and said it cannot be read.
  const calls: string[] = [];
  const old = natLine('an older line from the router');
  const out = await runVerify(
    opts,
    deps({
      srcIp: '10.99.1.254',
      rsyslog:
        'module(load="imudp")\ninput(type="imudp" port="514")\n' +
        'template(name="PerHost" type="string" string="/var/log/remote/%FROMHOST-IP%/kern.log")\n' +
        '*.* action(type="omfile" dynaFile="PerHost")\n',
      files: {
        '/var/log/remote/10.99.1.254/kern.log': { before: old, written: natLine(MARKER) + natLine('sysrq: Show Regs') },
        '/var/log/remote/10.99.0.9/kern.log': { before: natLine('another host') },
      },
      arrivals: NAT_ARRIVALS,
      calls,
    }),
  );
  t.true(out.report.ok, JSON.stringify(out.report.rootCause));
  t.is(out.logFile, '/var/log/remote/10.99.1.254/kern.log');
  t.regex(
    out.report.checks.find(c => c.id === 'verify.log')!.detail,
    /the marker is in \/var\/log\/remote\/10\.99\.1\.254\/kern\.log/,
  );
  t.true(calls.includes(`read /var/log/remote/10.99.1.254/kern.log@${old.length}`), calls.join(' | '));
  // The route back that rp_filter checks is the translated address's.
  t.true(calls.includes('ip route get 10.99.1.254'));
});

test("NAT, rsyslog writing only what comes from the router's address: that file is watched, though the sender's own address selects none", async t => {
  const calls: string[] = [];
  const before = natLine('an older line');
  const out = await runVerify(
    opts,
    deps({
      srcIp: '10.99.1.254',
      rsyslog:
        'module(load="imudp")\ninput(type="imudp" port="514")\n' +
        'if $fromhost-ip == "10.99.1.254" then {\n  action(type="omfile" file="/var/log/netconsole.log")\n  stop\n}\n',
      files: { '/var/log/netconsole.log': { before, written: natLine(MARKER) + natLine('sysrq: Show Regs') } },
      arrivals: NAT_ARRIVALS,
      calls,
    }),
  );
  t.true(out.report.ok, JSON.stringify(out.report.rootCause));
  t.is(out.logFile, '/var/log/netconsole.log');
  t.true(calls.includes(`read /var/log/netconsole.log@${before.length}`), calls.join(' | '));
});

test("no NAT, a template on %fromhost-ip%: the sender's own file, as before", async t => {
  const calls: string[] = [];
  const line = (x: string) => `2026-12-04T02:07:00+00:00 10.99.0.2  [    0.000001] ${x}\n`;
  const out = await runVerify(
    opts,
    deps({
      rsyslog:
        'module(load="imudp")\ninput(type="imudp" port="514")\n' +
        'template(name="PerHost" type="string" string="/var/log/remote/%FROMHOST-IP%/kern.log")\n' +
        '*.* action(type="omfile" dynaFile="PerHost")\n',
      files: {
        '/var/log/remote/10.99.0.2/kern.log': { before: line('old'), written: line(MARKER) + line('sysrq: Show Regs') },
      },
      arrivals: NAT_ARRIVALS,
      calls,
    }),
  );
  t.true(out.report.ok, JSON.stringify(out.report.rootCause));
  t.is(out.logFile, '/var/log/remote/10.99.0.2/kern.log');
  t.false(calls.some(c => c.startsWith('ip route get 10.99.1.254')));
});
