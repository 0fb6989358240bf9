/**
 * analyze on a large capture, run as the real CLI in a child process: a reader that stops
 * reading holds analyze back (its file position stops, its memory stays bounded); Ctrl-C then
 * gives a complete, valid report marked interrupted and exit 130 (143 for SIGTERM); a second
 * Ctrl-C exits at once; on a terminal (a real pty with a window size) the progress line moves
 * while the file is read; with stderr not a terminal nothing is written there.
 * The capture is synthesised (bench/gen-capture.ts), 150,000 datagrams.
 */
import test from 'ava';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateCapture } from '../bench/gen-capture.js';
import { cliPath, runCli } from './helpers/cli.js';
import { onPty, plain, until } from './helpers/pty.js';
import { haveCommand, requiring } from './helpers/prereq.js';

const DATAGRAMS = 150_000;
const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-interrupt-'));
const capture = path.join(dir, 'bench.synth.pcap');
generateCapture(capture, DATAGRAMS);
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** Where the child is in the capture file (its read offset), from /proc. */
function filePosition(pid: number): number | undefined {
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== capture) continue;
      return Number(/^pos:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))![1]);
    } catch {
      // closed meanwhile
    }
  }
  return undefined;
}

/** Peak resident memory of the child so far, in MiB. */
function peakRssMiB(pid: number): number {
  return Number(/^VmHWM:\s*(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** Waits until the child has read some of the file and then stopped reading (stdout not read). */
async function pausedPosition(child: ChildProcess): Promise<number> {
  let last = -1;
  for (let i = 0; i < 600; i++) {
    await sleep(100);
    const pos = filePosition(child.pid!);
    if (pos !== undefined && pos > 0 && pos === last) {
      await sleep(500);
      if (filePosition(child.pid!) === pos) return pos;
    }
    last = pos ?? -1;
  }
  throw new Error('analyze never paused reading while its stdout was not read');
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise(resolve => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function collect(stream: NodeJS.ReadableStream): Promise<string> {
  const parts: Buffer[] = [];
  stream.on('data', (b: Buffer) => parts.push(b));
  return new Promise(resolve => stream.once('end', () => resolve(Buffer.concat(parts).toString('utf8'))));
}

test.serial(
  'a reader that does not read stops analyze reading, memory stays bounded; Ctrl-C then prints a valid --json document marked interrupted, exit 130',
  async t => {
    const child = spawn(process.execPath, [cliPath, 'analyze', '--json', capture], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const done = exited(child);
    const pos = await pausedPosition(child);
    const size = readFileSync(capture).length;
    t.true(pos < size / 2, `reading paused at ${pos} of ${size} bytes`);
    const rss = peakRssMiB(child.pid!);
    t.true(rss <= 100, `peak RSS ${rss.toFixed(0)} MiB while paused`);
    child.kill('SIGINT');
    const [out, err] = [collect(child.stdout), collect(child.stderr)];
    const { code, signal } = await done;
    t.is(signal, null);
    t.is(code, 130, await err);
    const doc = JSON.parse(await out) as {
      interrupted?: boolean;
      messages: unknown[];
      capture: { packets: number; truncated: boolean };
      summary: { packets: number; messages: number };
    };
    t.is(doc.interrupted, true);
    t.true(doc.capture.packets > 0 && doc.capture.packets < DATAGRAMS, `${doc.capture.packets} packets read`);
    t.false(doc.capture.truncated, 'a stop is not damage');
    t.is(doc.messages.length, doc.summary.messages);
  },
);

test.serial(
  'SIGTERM: the text report says it was interrupted, exit 143; a second Ctrl-C exits at once even when stdout is not read',
  async t => {
    const child = spawn(process.execPath, [cliPath, 'analyze', capture], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TZ: 'UTC' },
    });
    const done = exited(child);
    await pausedPosition(child);
    child.kill('SIGTERM');
    const out = collect(child.stdout);
    const { code } = await done;
    t.is(code, 143);
    const text = await out;
    t.true(text.startsWith('times in UTC (+00:00)\n'));
    t.regex(text, /\ninterrupted by SIGTERM: this report covers only what was read before\n/);
    t.regex(text, /\n(OK on the wire|FAIL): \d+ errors?, \d+ warnings?/);

    // The report waits for a reader that never reads: the second Ctrl-C does not.
    const stuck = spawn(process.execPath, [cliPath, 'analyze', '--jsonl', capture], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const stuckDone = exited(stuck);
    await pausedPosition(stuck);
    stuck.kill('SIGINT');
    await sleep(1000);
    t.is(stuck.exitCode, null, 'still waiting to write its report');
    stuck.kill('SIGINT');
    t.deepEqual(await stuckDone, { code: 130, signal: null });
    stuck.stdout.destroy();
  },
);

test('with stderr not a terminal, analyze writes nothing there', t => {
  const r = runCli(['analyze', '-q', capture]);
  t.true(r.code === 0 || r.code === 1);
  t.is(r.stderr, '');
});

const withPty = requiring([
  [haveCommand('script'), 'script (util-linux) for a pseudo-terminal'],
  [haveCommand('pv'), 'pv (Debian package pv) for a slow reader'],
]);

withPty('on a terminal the progress line moves while the file is read (percent, packets, rate), in --jsonl mode', t => {
  // stderr on a pty of 100 columns (so ora draws), stdout into a reader of 20 MB/s.
  const cmd = `stty cols 100 rows 30; exec ${process.execPath} ${cliPath} analyze --jsonl ${capture} | pv -q -L 20m > /dev/null`;
  const r = spawnSync('script', ['-qefc', cmd, '/dev/null'], {
    encoding: 'utf8',
    timeout: 120_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.is(r.status, 0, r.stderr);
  const screens = r.stdout.split(/\r|\n|\x1b\[[0-9;?]*[A-Za-z]/).filter(s => s.includes('reading '));
  const percents = new Set<number>();
  const packets: number[] = [];
  for (const s of screens) {
    const m = /: (\d+)%, ([\d,]+) packets, ([\d,]+) messages, ([\d,]+) packets\/s/.exec(s);
    if (!m) continue;
    percents.add(Number(m[1]));
    packets.push(Number(m[2]!.replace(/,/g, '')));
  }
  t.true(percents.size >= 3, `progress showed ${[...percents].join(', ')} %`);
  t.deepEqual(
    packets,
    [...packets].sort((a, b) => a - b),
    'packet counts only grow',
  );
  t.true(screens.length > percents.size, 'the spinner is redrawn between text changes');
});

withPty(
  'on a terminal with the spinner on, Ctrl-C typed on the pty: the text report ends marked interrupted, exit 130',
  async t => {
    // stdout into a FIFO drained at 1 MB/s (so the run lasts), stderr on a 100x30 pty with CI=true
    // (netdiag, not ora, decides the spinner); Ctrl-C goes through the line discipline as typed.
    const fifoDir = mkdtempSync(path.join(tmpdir(), 'netdiag-apty-'));
    t.teardown(() => rmSync(fifoDir, { recursive: true, force: true }));
    const fifo = path.join(fifoDir, 'out');
    const report = path.join(fifoDir, 'report.txt');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('sh', ['-c', 'exec pv -q -L 1m < "$0" > "$1"', fifo, report], { stdio: 'ignore' });
    const readerDone = new Promise(resolve => reader.once('close', resolve));
    t.teardown(() => {
      if (reader.exitCode === null) reader.kill('SIGKILL');
    });
    const run = onPty([process.execPath, cliPath, 'analyze', capture], {
      env: { ...process.env, CI: 'true', NO_COLOR: '1', TZ: 'UTC', TERM: 'xterm' },
      stdoutTo: fifo,
    });
    t.teardown(() => run.dispose());
    await until(
      'the spinner reading the file',
      () => /[\u2800-\u28ff] reading .*: \d+%/.test(plain(run.screen())),
      60_000,
    );
    run.type('\x03');
    const end = await run.ended;
    await readerDone;
    const screen = plain(end.screen);
    t.deepEqual([end.code, end.signal], [130, null], screen);
    t.notRegex(screen, /\n\s+at .*\(|Error:/, 'no stack trace on the terminal');
    const text = readFileSync(report, 'utf8');
    t.true(text.startsWith('times in UTC (+00:00)\n'), text.slice(0, 200));
    t.regex(text, /\ninterrupted by Ctrl-C \(SIGINT\): this report covers only what was read before\n/);
    t.regex(text, /\n(OK on the wire|FAIL): \d+ errors?, \d+ warnings?/);
  },
);
