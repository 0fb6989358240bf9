/**
 * Ctrl-C and SIGTERM on a real terminal with the spinner on, as a user meets them: each command
 * runs on a pseudo-terminal of 100x30 (script + stty, test/helpers/pty.ts) with CI=true in its
 * environment (ora alone would then turn the spinner off; netdiag decides itself), and Ctrl-C is
 * typed on the terminal, so the line discipline sends SIGINT to the whole foreground group (the
 * capture process and ssh clients too), as a keyboard does. SIGTERM goes to netdiag alone.
 *
 * sniff runs in a network namespace of the test's own (a veth pair), with datagrams from the
 * other end; verify runs in the lab's log-server namespace against real kernels in QEMU whose
 * netconsole is not loaded, so it waits for its marker until interrupted: one sender, and a fleet
 * of two from an inventory (two ssh connections, one shared capture).
 */
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ExecutionContext } from 'ava';
import { cliPath } from './helpers/cli.js';
import { createNsPair, sendFrom, type NsPair } from './helpers/netns.js';
import { onPty, plain, until, type PtyRun } from './helpers/pty.js';
import { canNetns, haveCommand, isRoot, requiring } from './helpers/prereq.js';
import {
  inventoryLine,
  labDown,
  labRequirements,
  labUp,
  senderArgs,
  verifyArgv,
  verifyOnLab,
  writeInventory,
  type LabState,
} from './lab-driver.js';

const netnsTest = requiring([
  [isRoot(), 'root'],
  [canNetns(), 'network namespaces (ip netns)'],
  [haveCommand('script'), 'script (util-linux) for a pseudo-terminal'],
  [haveCommand('stty'), 'stty (coreutils)'],
  [haveCommand('tcpdump'), 'tcpdump (reads the -w file back)'],
]);
const labTest = requiring(labRequirements([haveCommand('script'), 'script (util-linux) for a pseudo-terminal']));

/** CI=true as in CI, colours off so the screen is easy to read; TZ pinned. */
const env = { ...process.env, CI: 'true', NO_COLOR: '1', TZ: 'UTC', TERM: 'xterm' };
/** A spinner frame of ora's default (dots) followed by the text netdiag gives it. */
const spinnerShowing = (screen: string, text: string) => new RegExp(`[\u2800-\u28ff] ${text}`).test(plain(screen));

function newPair(t: ExecutionContext, tag: string): NsPair {
  const pair = createNsPair(tag);
  t.teardown(() => pair.destroy());
  return pair;
}

function started(t: ExecutionContext, run: PtyRun): PtyRun {
  t.teardown(() => run.dispose());
  return run;
}

/** A UDP socket that receives (and discards) on `port` in `ns`, so the receiver sends no ICMP. */
function listen(t: ExecutionContext, pair: NsPair, ns: string, port: number): void {
  const code = `require('dgram').createSocket('udp4').bind(${port})`;
  const p = pair.spawn(ns, process.execPath, ['-e', code], { stdio: 'ignore' });
  t.teardown(() => {
    p.kill('SIGKILL');
  });
}

function sniffOnPty(t: ExecutionContext, pair: NsPair, args: string[], stdoutTo?: string): PtyRun {
  return started(
    t,
    onPty(['ip', 'netns', 'exec', pair.receiver.ns, process.execPath, cliPath, 'sniff', pair.receiver.dev, ...args], {
      env,
      ...(stdoutTo ? { stdoutTo } : {}),
    }),
  );
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

netnsTest.serial(
  'sniff on a terminal, spinner on: Ctrl-C prints the messages, summary and findings, exit 1 (port unreachable)',
  async t => {
    const pair = newPair(t, 'pint');
    const { sender: s, receiver: r } = pair;
    const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-pty-w-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const written = path.join(dir, 'capture.pcap');
    const run = sniffOnPty(t, pair, ['-w', written]);
    await until('sniff listening', () => run.screen().includes('listening on'));
    await until('the spinner', () => spinnerShowing(run.screen(), 'capturing on veth1'));
    // Nothing listens on the receiver: it answers ICMP port unreachable (an error finding).
    sendFrom(pair, s.ns, { to: r.ip, port: 6666, payloads: ['6,7,100,-;typed before Ctrl-C\n'] });
    await until('the message line', () => run.screen().includes('typed before Ctrl-C'));
    await until('the spinner counting it', () => spinnerShowing(run.screen(), 'capturing on veth1: [1-9]\\d* packets'));
    run.type('\x03');
    const end = await run.ended;
    const screen = plain(end.screen);
    t.deepEqual([end.code, end.signal], [1, null], screen);
    t.regex(screen, /^capture: veth1 \(live\): 2 packets, 1 netconsole-port datagrams, 1 messages$/m);
    t.regex(screen, /error +port-unreachable/);
    t.regex(screen, /^FAIL: 1 error/m);
    t.regex(screen, /^netdiag: 2 packets captured on veth1 in [\d.]+ s/m);
    // The -w file is flushed and whole: tcpdump reads both packets.
    const td = execFileSync('tcpdump', ['-r', written, '-n'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    t.is(td.trim().split('\n').length, 2, td);
    t.regex(td, /UDP, length \d+\n.*ICMP .* udp port 6666 unreachable/);
  },
);

netnsTest.serial(
  'sniff on a terminal, spinner on: SIGTERM prints the summary, exit 0 when nothing is wrong',
  async t => {
    const pair = newPair(t, 'pterm');
    const { sender: s, receiver: r } = pair;
    listen(t, pair, r.ns, 6666);
    const run = sniffOnPty(t, pair, []);
    await until('sniff listening', () => run.screen().includes('listening on'));
    await until('the spinner', () => spinnerShowing(run.screen(), 'capturing on veth1'));
    sendFrom(pair, s.ns, { to: r.ip, port: 6666, payloads: ['6,7,100,-;before SIGTERM\n', '6,8,200,-;and another\n'] });
    await until('the message lines', () => run.screen().includes('and another'));
    process.kill(await run.pid(), 'SIGTERM');
    const end = await run.ended;
    const screen = plain(end.screen);
    t.deepEqual([end.code, end.signal], [0, null], screen);
    t.regex(screen, /^capture: veth1 \(live\): 2 packets, 2 netconsole-port datagrams, 2 messages$/m);
    t.regex(screen, /^OK on the wire: 0 errors/m);
  },
);

netnsTest.serial(
  'sniff: a second Ctrl-C exits at once (130) while the first waits for a stdout nobody reads',
  async t => {
    const pair = newPair(t, 'pdbl');
    const { sender: s, receiver: r } = pair;
    listen(t, pair, r.ns, 6666);
    // stdout into a FIFO the test holds open and never reads: the report cannot be written.
    const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-pty-fifo-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const fifo = path.join(dir, 'out');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    t.teardown(() => closeSync(reader));
    const run = sniffOnPty(t, pair, [], fifo);
    await until('sniff listening', () => run.screen().includes('listening on'));
    await until('the spinner', () => spinnerShowing(run.screen(), 'capturing on veth1'));
    t.is(sendFrom(pair, s.ns, { to: r.ip, port: 6666, burst: 5000, burstBatch: 100, gapMs: 2 }), 5000);
    await until('the datagrams counted', () => spinnerShowing(run.screen(), 'capturing on veth1: [1-9]\\d{3} packets'));
    const pid = await run.pid();
    run.type('\x03');
    await until('the capture closed', () => /packets captured on veth1/.test(run.screen()));
    await new Promise(res => setTimeout(res, 1000));
    t.true(alive(pid), 'after the first Ctrl-C sniff still waits to write its report');
    const t0 = Date.now();
    run.type('\x03');
    const end = await run.ended;
    t.deepEqual([end.code, end.signal], [130, null], plain(end.screen));
    t.true(Date.now() - t0 < 3000, `exited ${Date.now() - t0} ms after the second Ctrl-C`);
  },
);

// verify: one lab, three interruptions.

/** The processes whose command line mentions `dir` (the ssh control master lives at dir/netdiag-ssh-*\/cm). */
function processesMentioning(dir: string): string[] {
  const found: string[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir)) found.push(`${p}: ${cmd.trim()}`);
    } catch {
      // gone
    }
  }
  return found;
}

/**
 * verify's private ssh directories under `dir` (one per sender, for its ControlPath). Since the
 * held session is its own control master and ends after the trigger (71d6245), no ssh process need
 * run while verify waits for the marker; the directory is what must be there, and gone after.
 */
function sshDirs(dir: string): string[] {
  return readdirSync(dir).filter(n => n.startsWith('netdiag-ssh-'));
}

/** Children of `pid` running the capture process (capture-child.js). */
function captureChildren(pid: number): number[] {
  const kids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('capture-child.js')) kids.push(Number(p));
    } catch {
      // gone
    }
  }
  return kids;
}

function verifyOnPty(t: ExecutionContext, s: LabState, tmp: string, extra: string[] = []): PtyRun {
  return started(
    t,
    onPty(verifyArgv(s, [...senderArgs(s.ssh), '--timeout', '120', ...extra]), {
      // TMPDIR: verify's private ssh directory is made in the test's, so it (and any ssh process naming it) is found.
      env: { ...env, TMPDIR: tmp },
    }),
  );
}

/**
 * Starts verify and waits until it is triggering (capture open, ssh directory made) as the spinner
 * shows; with --json (no spinner) until its private ssh directory and capture process are there.
 */
async function triggering(t: ExecutionContext, s: LabState, tmp: string, extra: string[] = []) {
  const run = verifyOnPty(t, s, tmp, extra);
  const pid = await run.pid();
  const ready = extra.includes('--json')
    ? () => captureChildren(pid).length > 0 && sshDirs(tmp).length > 0
    : () => spinnerShowing(run.screen(), 'triggering');
  await until('verify triggering', ready, 90_000).catch((e: Error) => {
    const ps = execFileSync('ps', ['-eo', 'pid,ppid,stat,wchan:20,args'], { encoding: 'utf8' })
      .split('\n')
      .filter(l => /script|cli\.js|pty-wrap|ssh |capture-child/.test(l))
      .join('\n');
    throw new Error(`${e.message}: ${plain(run.screen()).slice(-1500)}\n${ps}`);
  });
  t.is(sshDirs(tmp).length, 1, "verify's private ssh directory");
  const captures = captureChildren(pid);
  t.is(captures.length, 1, 'one capture process');
  return { run, pid, captures };
}

async function noneLeft(t: ExecutionContext, tmp: string, captures: number[]): Promise<void> {
  // Give what was told to stop a moment (a process being reaped), then nothing may be left.
  // A capture process left alone notices its parent gone within a second of running; on a loaded
  // machine (CI at load 10) that second can be several: wait for all three, then assert each.
  await until(
    'the ssh processes, their directory and the capture process gone',
    () => processesMentioning(tmp).length === 0 && readdirSync(tmp).length === 0 && !captures.some(alive),
    15000,
  ).catch(() => {});
  t.deepEqual(processesMentioning(tmp), [], 'no ssh process (control master) left');
  t.deepEqual(captures.filter(alive), [], 'the capture process ended');
  t.deepEqual(readdirSync(tmp), [], "verify's private ssh directory removed");
}

labTest.serial(
  "verify on a terminal: Ctrl-C, SIGTERM and a double Ctrl-C clean up and say what they knew, one sender and a fleet of two; ssh's host key warnings are shown",
  async t => {
    const name = `sigv${process.pid % 1000}`;
    // Two guests: the single verifies use the first, the fleet run both.
    const s = await labUp(name, ['--guests', '2', '--no-netconsole']);
    try {
      const tmp = mkdtempSync(path.join(tmpdir(), 'netdiag-sig-'));
      t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

      // Ctrl-C typed on the terminal.
      {
        const { run, captures } = await triggering(t, s, tmp);
        const t0 = Date.now();
        run.type('\x03');
        const end = await run.ended;
        const screen = plain(end.screen);
        t.deepEqual([end.code, end.signal], [130, null], screen);
        t.true(Date.now() - t0 < 5000, `ended ${Date.now() - t0} ms after Ctrl-C`);
        t.regex(
          screen,
          // Ctrl-C ends the trigger's ssh session too (the same process group): verify may have
          // gone on to the log file by the time it reads the signal.
          new RegExp(
            `^verify root@${s.ssh.host}: interrupted by Ctrl-C \\(SIGINT\\) while (triggering: marker and sysrq p on root@${s.ssh.host}|looking for the marker in \\S+; collecting the counters again) after [\\d.]+ s: no verdict$`,
            'm',
          ),
        );
        t.regex(screen, /^ {2}done before: connecting to .*; capturing on [^;]+(; triggering: .*)?$/m);
        t.regex(screen, /^ {2}capture: \d+ packets? captured so far/m);
        await noneLeft(t, tmp, captures);
      }
      // SIGTERM to netdiag alone: the capture process and ssh are not signalled by anyone else.
      {
        const { run, pid, captures } = await triggering(t, s, tmp, ['--json']);
        process.kill(pid, 'SIGTERM');
        const end = await run.ended;
        t.deepEqual([end.code, end.signal], [143, null], plain(end.screen));
        const doc = JSON.parse(/^\{.*\}$/m.exec(plain(end.screen))?.[0] ?? '{}') as Record<string, unknown>;
        t.like(doc, { sender: `root@${s.ssh.host}`, ok: false, interrupted: 'SIGTERM' });
        // No spinner with --json: it was stopped somewhere after its ssh connection was up.
        t.regex(String(doc.during), /^(connecting to|collecting the sender's facts|capturing on|triggering)/);
        t.is((doc.steps as string[]).at(-1), doc.during as string);
        await noneLeft(t, tmp, captures);
      }
      // Two Ctrl-C at once: the second exits at once, and the master still goes with the process.
      {
        const { run, captures } = await triggering(t, s, tmp);
        run.type('\x03');
        run.type('\x03');
        const end = await run.ended;
        t.deepEqual([end.code, end.signal], [130, null], plain(end.screen));
        await noneLeft(t, tmp, captures);
      }
      // A fleet run of both guests, spinner on: ssh's warning for the second (its host key added to
      // a fresh known_hosts) shows once above the spinner; Ctrl-C ends both senders' ssh, their
      // control masters and the shared capture, and the table says what was checked.
      {
        // The inventory and the fresh known_hosts outside TMPDIR, which must be left empty.
        const own = mkdtempSync(path.join(tmpdir(), 'netdiag-sigf-'));
        t.teardown(() => rmSync(own, { recursive: true, force: true }));
        const fresh = path.join(own, 'known_hosts');
        writeFileSync(fresh, '');
        const [g1, g2] = s.guests.map(g => g.ssh);
        const inv = writeInventory(own, [
          '[lab]',
          inventoryLine('guest1', g1!),
          `guest2 ansible_host=${g2!.host} ansible_user=root ansible_ssh_private_key_file=${g2!.identityFile} ansible_ssh_common_args='-o UserKnownHostsFile=${fresh} -o StrictHostKeyChecking=accept-new'`,
        ]);
        const run = started(
          t,
          onPty(verifyArgv(s, ['--inventory', inv, '--timeout', '120']), { env: { ...env, TMPDIR: tmp } }),
        );
        const pid = await run.pid();
        const added = `netdiag: warning: ssh root@${g2!.host}: Warning: Permanently added '${g2!.host}' (ED25519) to the list of known hosts.`;
        await until(
          'both senders connected, the capture open, the spinner and the warning showing',
          () =>
            sshDirs(tmp).length === 2 &&
            captureChildren(pid).length === 1 &&
            spinnerShowing(run.screen(), '0/2 senders checked') &&
            plain(run.screen()).includes(added),
          90_000,
        ).catch((e: Error) => {
          throw new Error(`${e.message}: ${plain(run.screen()).slice(-1500)}`);
        });
        const captures = captureChildren(pid);
        // Both senders are waiting for their marker (netconsole is not loaded): give the triggers a moment.
        await new Promise(res => setTimeout(res, 1500));
        const t0 = Date.now();
        run.type('\x03');
        const end = await run.ended;
        const screen = plain(end.screen);
        t.deepEqual([end.code, end.signal], [130, null], screen);
        t.true(Date.now() - t0 < 5000, `ended ${Date.now() - t0} ms after Ctrl-C`);
        t.is(screen.split('\n').filter(l => l.includes('Permanently added')).length, 1, screen);
        t.true(screen.split('\n').includes(added), screen);
        t.regex(screen, /^guest1 +not checked +interrupted *$/m);
        t.regex(screen, /^guest2 +not checked +interrupted *$/m);
        t.regex(screen, /2 senders: 0 work, 0 broken, 2 could not be checked \([\d.]+ s in all, interrupted\)$/m);
        await noneLeft(t, tmp, captures);
      }
      // ssh's own warnings reach the user's stderr: a host key added (accept-new), a host key changed.
      {
        const verifyWith = (...sshOptions: string[]) =>
          verifyOnLab(s, [
            '--sender',
            `root@${s.ssh.host}`,
            '--identity',
            s.ssh.identityFile,
            ...sshOptions.flatMap(o => ['--ssh-option', o]),
            '--timeout',
            '1',
            '--json',
          ]);
        const fresh = path.join(tmp, 'known_hosts_empty');
        writeFileSync(fresh, '');
        const added = await verifyWith(`UserKnownHostsFile=${fresh}`, 'StrictHostKeyChecking=accept-new');
        t.is(added.code, 1, added.stderr);
        const addedLines = added.stderr.split('\n').filter(l => l.includes('Permanently added'));
        t.deepEqual(
          addedLines,
          [
            `netdiag: warning: ssh root@${s.ssh.host}: Warning: Permanently added '${s.ssh.host}' (ED25519) to the list of known hosts.`,
          ],
          added.stderr,
        );
        // A known_hosts entry with another key for the guest: ssh refuses, and says why.
        execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'other')]);
        const other = readFileSync(path.join(tmp, 'other.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
        const wrong = path.join(tmp, 'known_hosts_wrong');
        writeFileSync(wrong, `${s.ssh.host} ${other}\n`);
        const changed = await verifyWith(`UserKnownHostsFile=${wrong}`);
        t.is(changed.code, 2, changed.stderr);
        t.regex(changed.stderr, /^netdiag: warning: ssh \S+: @ +WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! +@$/m);
        t.regex(
          changed.stderr,
          /^netdiag: warning: ssh \S+: Host key for \S+ has changed and you have requested strict checking\.$/m,
        );
        t.regex(changed.stderr, /^netdiag: ssh root@\S+: Host key verification failed\.$/m);
        t.is(changed.stdout, '');
        for (const f of ['known_hosts_empty', 'known_hosts_wrong', 'other', 'other.pub']) rmSync(path.join(tmp, f));
      }
    } finally {
      await labDown(name);
    }
  },
);
