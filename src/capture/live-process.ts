/**
 * Live capture in a process of its own (capture-child.ts), read back here as a pcap stream
 * through the same decoder as capture files. The capture process only drains libpcap, so a busy
 * or stalled main process (decoding, a slow terminal, GC) cannot make the kernel drop a burst;
 * the backlog waits in the pipe and in the capture process's memory instead.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { CLIError } from '../errors.js';
import { CaptureDecoder } from './reader.js';
import type { PacketSink } from './sink.js';
import type { LiveCapture, LiveCaptureOptions, LiveStats } from './live.js';

const childScript = fileURLToPath(new URL('./capture-child.js', import.meta.url));

export interface ProcessCapture extends LiveCapture {
  /** Resolves when the capture process has ended and every packet it captured was handed on. */
  stopped(): Promise<void>;
}

export function openLiveCaptureProcess(opts: LiveCaptureOptions, sink: PacketSink): Promise<ProcessCapture> {
  return prepareLiveCaptureProcess().open(opts, sink);
}

/** A capture process started before its interface is known (node's start-up, ~0.3 s, overlaps other work). */
export interface PreparedCapture {
  open(opts: LiveCaptureOptions, sink: PacketSink): Promise<ProcessCapture>;
  /** Ends the process when it was never opened. */
  cancel(): void;
}

/**
 * The pipe the pcap stream comes through: a FIFO made in a private directory (mode 0700) and
 * removed at once, both ends open. A FIFO, not spawn's 'pipe' (a socket pair read into a fresh
 * 64 KiB buffer per read), so that this process can read it into one buffer of its own
 * (net.Socket's onread): reading 200 MB cost 68 ms of CPU that way and 415 to 578 ms through
 * child.stdout (perf on sniff -q: reading the pipe, page faults on the fresh buffers included,
 * was about a third of the main process's CPU).
 * Undefined when it cannot be made (no mkfifo, no writable temporary directory): then spawn's pipe.
 */
function capturePipe(): { read: number; write: number } | undefined {
  let dir: string | undefined;
  try {
    dir = mkdtempSync(path.join(tmpdir(), 'netdiag-capture-'));
    const fifo = path.join(dir, 'pcap');
    execFileSync('mkfifo', ['-m', '600', fifo], { stdio: 'ignore' });
    // Non-blocking, so that opening does not wait for a writer; then the writer's end opens at once.
    const read = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    return { read, write: openSync(fifo, constants.O_WRONLY) };
  } catch {
    return undefined;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes read from the pipe at a time (the pipe holds 64 KiB unless grown). */
const READ_BUFFER = 256 * 1024;

export function prepareLiveCaptureProcess(): PreparedCapture {
  const pipe = capturePipe();
  const child = spawn(process.execPath, [...process.execArgv, childScript], {
    stdio: ['pipe', pipe ? pipe.write : 'pipe', 'inherit', 'pipe'],
  });
  // The child holds the writing end now; ours would keep the stream from ending.
  if (pipe) closeSync(pipe.write);
  child.stdin!.on('error', () => {});
  let spawnError: Error | undefined;
  child.on('error', e => (spawnError = e));
  let used = false;
  return {
    cancel() {
      if (used) return;
      child.stdin!.end();
      if (pipe) closeSync(pipe.read);
    },
    open(opts: LiveCaptureOptions, sink: PacketSink): Promise<ProcessCapture> {
      if (used) return Promise.reject(new Error('a prepared capture opens once'));
      used = true;
      return new Promise((resolve, reject) => {
        const stats: LiveStats = { packets: 0, bytes: 0, truncated: 0 };
        const counting: PacketSink = {
          packet(buf, offset, caplen, origlen, tsSec, tsNsec, linkType) {
            stats.packets++;
            stats.bytes += caplen;
            if (origlen > caplen) stats.truncated++;
            sink.packet(buf, offset, caplen, origlen, tsSec, tsNsec, linkType);
          },
        };
        const decoder = new CaptureDecoder(counting);
        let opened: ProcessCapture | undefined;
        let failure: CLIError | undefined;
        let stopping = false;
        /** Why the capture process ended by itself (GONE), if it says. */
        let gone: string | undefined;
        let endedBy!: (why: string) => void;
        const endedItself = new Promise<string>(r => (endedBy = r));

        let outEnded!: () => void;
        const ended = new Promise<void>(r => (outEnded = r));
        // Each read is decoded at once, in place: the decoder copies only a record cut between reads.
        const onread: OnReadOpts = {
          buffer: Buffer.allocUnsafe(READ_BUFFER),
          callback: (n, buf) => (decoder.push(buf.subarray(0, n)), true),
        };
        // Node's Socket constructor takes onread as net.connect does (used here on Node 20); the type
        // definitions list it only for connect.
        const socketOpts: SocketConstructorOpts & { onread: OnReadOpts } = {
          fd: pipe?.read ?? -1,
          readable: true,
          writable: false,
          onread,
        };
        const stream = pipe ? new Socket(socketOpts) : child.stdout!.on('data', (chunk: Buffer) => decoder.push(chunk));
        stream.on('end', () => outEnded());
        stream.on('error', () => outEnded());

        let controlText = '';
        (child.stdio[3] as Readable).on('data', (b: Buffer) => {
          controlText += b.toString('utf8');
          let nl: number;
          while ((nl = controlText.indexOf('\n')) >= 0) {
            const line = controlText.slice(0, nl);
            controlText = controlText.slice(nl + 1);
            const space = line.indexOf(' ');
            const kind = line.slice(0, space),
              rest = line.slice(space + 1);
            if (kind === 'ERROR') {
              const m = /^(\d+) (.*)$/.exec(rest);
              failure = new CLIError(m ? m[2]! : rest, m ? Number(m[1]) : 2);
            } else if (kind === 'GONE') {
              gone = rest;
            } else if (kind === 'OPEN') {
              const info = JSON.parse(rest) as {
                iface: string;
                filter: string;
                linkType: number;
                linkName: string;
                snaplen: number;
              };
              opened = {
                ...info,
                stop() {
                  if (stopping) return;
                  stopping = true;
                  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
                },
                stats: () => ({ ...stats }),
                now() {
                  const ms = Date.now();
                  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
                },
                stopped: () => exited.then(() => ended),
                ended: () => endedItself,
              };
              resolve(opened);
            } else if (kind === 'STATS') {
              const end = JSON.parse(rest) as Required<Pick<LiveStats, 'dropped' | 'kernel' | 'peakBacklog'>> & {
                cpu: { user: number; system: number };
              };
              stats.dropped = end.dropped;
              stats.peakBacklog = end.peakBacklog;
              stats.kernel = end.kernel;
              stats.cpuMicros = end.cpu;
            }
          }
        });
        const exited = new Promise<void>(r => child.on('exit', () => r()));
        if (spawnError) reject(new CLIError(`cannot start the capture process: ${spawnError.message}`));
        child.on('error', e => reject(new CLIError(`cannot start the capture process: ${e.message}`)));
        if (child.exitCode !== null || child.signalCode !== null)
          reject(
            new CLIError(
              `the capture process ended before the capture opened (${child.signalCode ?? `exit ${child.exitCode}`})`,
              2,
            ),
          );
        child.stdin!.write(`${JSON.stringify(opts)}\n`);
        child.on('exit', (code, signal) => {
          // Not asked to stop: the interface went away, or the process died (cap's addon aborts).
          // Exit 0 without GONE is a stop all the same: Ctrl-C on a terminal reaches this process
          // too, and it may end before netdiag's own SIGINT handler has asked it to.
          if (opened && !stopping && (gone !== undefined || signal !== null || code !== 0))
            endedBy(gone ?? `the capture process ended unexpectedly (${signal ?? `exit ${code}`})`);
          if (!opened)
            reject(
              failure ??
                new CLIError(`the capture process ended before the capture opened (${signal ?? `exit ${code}`})`, 2),
            );
        });
      });
    },
  };
}
