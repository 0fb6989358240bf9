/**
 * netdiag sniff against a real kernel: the lab's Debian 6.1 guest (and a 6.17 one with configfs
 * userdata, every sysdata switch and the release) sends netconsole to its
 * log-server namespace, where `netdiag sniff` runs (lab/lab.sh exec); `echo p >
 * /proc/sysrq-trigger` over ssh must show up as the decoded `sysrq: Show Regs` message, with the
 * sender's addresses, and the capture must agree with the netconsole spec the guest was booted with.
 */
import { spawn } from 'node:child_process';
import { requiring } from './helpers/prereq.js';
import { cliPath } from './helpers/cli.js';
import { guest, lab, labDown, labRequirements, labSh, labUp, leftovers, waitFor, type LabState } from './lab-driver.js';

const test = requiring(labRequirements());

interface Line {
  type: string;
  sender?: string;
  text?: string;
  mode?: string;
  level?: number;
  seq?: number;
  usec?: number;
  srcMac?: string;
  dstMac?: string;
  dst?: string;
  release?: string;
  userdata?: Record<string, string>;
  sysdata?: Record<string, string>;
  findings?: Array<{ code: string; severity: string; summary: string }>;
  summary?: { ok: boolean; messages: number };
  senders?: Array<{ routers?: number; ttl?: number }>;
}

/** Starts sniff in the lab's log-server namespace; resolves once it listens. */
async function startSniff(name: string, s: LabState, extra: string[]) {
  const args = [
    'exec',
    name,
    '--',
    process.execPath,
    cliPath,
    'sniff',
    s.receiver.iface,
    '--jsonl',
    '--port',
    String(s.receiver.port),
    ...extra,
  ];
  const proc = spawn(labSh, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null }>(r => proc.once('close', code => r({ code })));
  if (!(await waitFor(() => err.includes('listening on') || proc.exitCode !== null, 20_000, 50)))
    throw new Error(`sniff did not start: ${err}`);
  if (proc.exitCode !== null) throw new Error(`sniff exited: ${err}`);
  const lines = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map(l => JSON.parse(l) as Line);
  return { proc, done, lines, stderr: () => err };
}

const cases: Array<[mode: 'extended' | 'plain', kernel: string, opts: string[]]> = [
  ['extended', '6.1', []],
  ['plain', '6.1', []],
  // 6.17's additions, live: userdata and sysdata lines after the text, the release before the header.
  ['extended', '6.17', ['--configfs', '--release', '--userdata', 'rack=r42', '--sysdata', 'all']],
  // The log server behind a router, the spec naming the router's MAC (right): sniff on the log
  // server sees the frames one hop on, from the router to the receiver, and must not compare
  // them with the configured MAC (it once said dst-mac-mismatch and "set the receiver's MAC").
  ['plain', '6.17', ['--router']],
];
for (const [mode, kernel, opts] of cases) {
  test.serial(
    `lab (${mode}${kernel === '6.1' ? '' : `, ${kernel} ${opts.join(' ')}`}): sysrq p over ssh is sniffed and decoded, consistent with the netconsole spec`,
    async t => {
      t.timeout(240_000);
      const build = await lab(['build'], 600_000);
      t.is(build.code, 0, build.stderr);
      const name = `sniff${mode[0]}${kernel === '6.1' ? '' : '7'}${process.pid % 10000}`;
      let state: LabState | undefined;
      try {
        state = await labUp(name, ['--kernel', kernel, '--mode', mode, ...opts]);
        const s = state;
        // Let the boot-log replay (hundreds of datagrams when netconsole loads) pass first.
        await new Promise(r => setTimeout(r, 1500));
        const sn = await startSniff(name, s, s.netconsole.spec ? ['--netconsole', s.netconsole.spec] : []);
        const p = await guest(name, 'echo p > /proc/sysrq-trigger');
        t.is(p.code, 0, p.stderr);
        const got = await waitFor(
          () => sn.lines().some(l => l.type === 'message' && l.text === 'sysrq: Show Regs'),
          20_000,
        );
        sn.proc.kill('SIGINT');
        const res = await sn.done;
        const lines = sn.lines();
        t.true(got, `sysrq message; stdout: ${JSON.stringify(lines).slice(0, 2000)} stderr: ${sn.stderr()}`);
        const m = lines.find(l => l.type === 'message' && l.text === 'sysrq: Show Regs')!;
        t.is(m.sender, `${s.sender.ip}:${s.netconsole.localPort}`);
        t.is(m.dst, `${s.receiver.ip}:${s.receiver.port}`);
        const routed = opts.includes('--router');
        if (routed) t.not(m.srcMac, s.sender.mac.toLowerCase(), "the router's MAC, not the sender's");
        else t.is(m.srcMac, s.sender.mac.toLowerCase());
        t.is(m.dstMac, s.receiver.mac.toLowerCase());
        t.is(m.mode, mode);
        t.true(typeof m.usec === 'number' && m.usec > 0, 'printk timestamp decoded');
        if (mode === 'extended') {
          t.true(typeof m.seq === 'number' && m.seq > 0, 'sequence number');
          t.is(typeof m.level, 'number');
        }
        if (kernel !== '6.1' && opts.includes('--configfs')) {
          t.is(m.release, s.kernel, 'the release before the extended header');
          t.deepEqual(m.userdata, { rack: 'r42' });
          t.like(m.sysdata, { release: s.kernel });
          t.deepEqual(Object.keys(m.sysdata ?? {}), ['cpu', 'taskname', 'release', 'msgid']);
        }
        const summary = lines.find(l => l.type === 'summary');
        t.truthy(summary, sn.stderr());
        const errors = summary!.findings!.filter(f => f.severity === 'error');
        t.deepEqual(errors, [], 'a working lab has no error finding');
        if (routed) t.like(summary!.senders![0], { routers: 1, ttl: 63 });
        else t.is(summary!.senders![0]!.routers, undefined);
        t.is(res.code, 0);
        t.regex(sn.stderr(), /packets captured on /);
      } finally {
        await labDown(name);
      }
      t.deepEqual(await leftovers(name, state?.qemu.pid, state?.rsyslog.pid), [], 'lab down leaves nothing behind');
    },
  );
}
