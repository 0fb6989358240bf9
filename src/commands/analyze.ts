/** netdiag analyze FILE [EXPRESSION]: a capture file (or stdin), filtered, through the pipeline into the report. */
import { fstatSync } from 'node:fs';
import { readCaptureFile } from '../capture/file-source.js';
import { CLIError } from '../errors.js';
import { createPipeline } from '../pipeline/pipeline.js';
import { Reporter } from '../report/reporter.js';
import type { ReportThread } from '../report/report-thread.js';
import { PLAIN, type Style } from '../report/style.js';
import { escapeText } from '../report/escape.js';
import { bytesText, createProgress } from '../ui/progress.js';
import { exitCodeFor } from '../ui/signals.js';
import type { PacketSink } from '../capture/sink.js';
import { widenPipe } from '../io/pipe-size.js';
import { analysisOptions, analysisSettings, count, text } from './_shared.js';
import { type CommandIO, defineCommand, option } from './command.js';

/** Bytes per read: small enough that the report of one chunk stays small and a stop is quick. */
const CHUNK = 1024 * 1024;
/** How often the progress line's text changes (ora redraws its frame on its own). */
const PROGRESS_MS = 100;

export default defineCommand({
  name: 'analyze',
  summary: 'Analyze a capture file (pcap, pcapng, either gzip-compressed) for netconsole traffic.',
  synopsis: ['[options] [FILE | -] [EXPRESSION]', '[options] -r FILE [EXPRESSION]'],
  options: {
    read: option({
      hint: 'FILE',
      short: 'r',
      parse: text,
      complete: 'file',
      description: 'the capture file, as tcpdump -r takes it (- is standard input)',
    }),
    ...analysisOptions,
    count: option({ hint: 'N', short: 'c', parse: count, description: 'stop after N packets (after the filter)' }),
  },
  operand: {
    hint: '[FILE] [EXPRESSION]',
    description:
      'the capture file: pcap or pcapng, gzip-compressed or not; - or none with a pipe on stdin reads standard ' +
      "input; then a filter in tcpdump's syntax, e.g. udp src port 6666 (compiled by libpcap through tcpdump)",
    complete: 'file',
  },
  examples: [
    ['netdiag analyze capture.pcap', 'every netconsole message in the capture, then the summary and findings'],
    [
      'zcat capture.pcap.gz | netdiag analyze - host 10.0.0.2',
      'from standard input, only the packets to or from 10.0.0.2',
    ],
    [
      'netdiag analyze --netconsole 6665@10.0.0.2/eth0,6666@10.0.0.1/52:54:00:ab:cd:ef cap.pcap.gz',
      "also compare the traffic with the sender's configuration",
    ],
  ],
  async run({ values, positionals }, io) {
    const source = captureSource(values.read, positionals);
    const { path } = source;
    const settings = analysisSettings(values, io);
    // Loaded only when used (a filter, the report's thread): every module loaded is start-up time,
    // which is a third of a million-datagram -q run.
    const bpf = source.filter === undefined ? undefined : await import('../io/bpf-compile.js');
    if (bpf && source.filter) bpf.compileFilter(source.filter, 1); // a filter that does not compile fails now, by name
    for (const w of settings.warnings) io.stderr.write(`netdiag: warning: ${escapeText(w)}\n`);
    const reporter = new Reporter(io.stdout, settings);
    // Ctrl-C or SIGTERM, or a reader gone: stop after the chunk in hand, and report what was read.
    const stop = new AbortController();
    const thread: ReportThread | undefined =
      reporter.wantsMessages && useThread(settings.style, io)
        ? new (await import('../report/report-thread.js')).ReportThread(
            { format: settings.format, verbose: settings.verbose, utc: settings.utc, fd: 1 },
            () => stop.abort(),
          )
        : undefined;
    const to = thread ?? reporter;
    // Every message into a pipe: a bigger pipe buffer, fewer waits for its reader (the report
    // thread asks for it itself, while this one starts reading).
    if (reporter.wantsMessages && !thread && io.stdout === process.stdout) widenPipe(1);
    const pipeline = createPipeline({
      ...settings.pipeline,
      ...(reporter.wantsMessages ? { onMessage: to.message, onMessageBytes: to.messageBytes } : {}),
      // The writers check a text as they copy it (text-bytes.ts, json-bytes.ts): not scanned twice.
      messageBytesChecked: !thread,
      // The reporter writes ncfrag messages and dictionaries as bytes too; the thread's batches do not.
      messageBytesJoined: !thread,
    });
    // Counted after the filter; -c N: the first N packets, then stop reading.
    const enough = new AbortController();
    const limit = values.count ?? Infinity;
    let passed = 0;
    const limited: PacketSink = {
      packet(...args) {
        if (passed >= limit) return;
        pipeline.packet(...args);
        if (++passed === limit) enough.abort();
      },
    };
    const sink = bpf && source.filter ? bpf.filteredSink(limited, source.filter) : limited;
    const name = escapeText(path);
    const progress = await createProgress(io.stderr, true, `reading ${name}`);
    // The report and the spinner on one terminal: the spinner steps aside for each write.
    if (progress.shown && io.stdout.isTTY)
      reporter.out.around = { before: () => progress.clear(), after: () => progress.render() };

    let interrupted: string | undefined;
    void io.interrupted.then(sig => {
      interrupted = sig;
      stop.abort();
    });
    const started = Date.now();
    let shownAt = 0;
    try {
      const read = await readCaptureFile(path, sink, {
        chunkSize: CHUNK,
        signal: AbortSignal.any([stop.signal, enough.signal]),
        ...(source.stdin ? { fd: 0 } : {}),
        onProgress: async (read, total) => {
          const now = Date.now();
          if (progress.shown && now - shownAt >= PROGRESS_MS) {
            shownAt = now;
            const n = pipeline.counters();
            const where = total ? `${Math.floor((read / total) * 100)}%` : bytesText(read);
            const rate =
              now > started
                ? `, ${Math.round(n.packets / ((now - started) / 1000)).toLocaleString('en')} packets/s`
                : '';
            progress.text(
              `reading ${name}: ${where}, ${n.packets.toLocaleString('en')} packets, ${n.messages.toLocaleString('en')} messages${rate}`,
            );
          }
          // A slow reader of stdout holds reading back; otherwise let the event loop run (the
          // spinner, the signals) once per chunk.
          await (thread ?? reporter.out).drain(io.interrupted);
          await new Promise(setImmediate);
        },
      });
      progress.stop();
      if (thread) reporter.resume(await thread.finish());
      const summary =
        source.filter === undefined && values.count === undefined
          ? read
          : {
              ...read,
              packets: passed,
              ...(source.filter ? { detail: `${read.detail ?? read.format}, filter: ${source.filter}` } : {}),
            };
      const code = reporter.finish(
        { path, summary, ...(interrupted ? { interrupted } : {}) },
        pipeline.finish(summary),
      );
      return interrupted ? exitCodeFor(interrupted) : code;
    } catch (e) {
      progress.stop();
      thread?.close();
      // Nothing on a standard input nobody named: the user forgot the file.
      if (source.implicit && e instanceof CLIError && e.message.endsWith('empty file, not a capture')) {
        throw new CLIError(NO_FILE);
      }
      throw e;
    }
  },
});

const NO_FILE = 'analyze: give exactly one capture file (netdiag analyze FILE, or ... | netdiag analyze -)';

/**
 * Where the capture comes from, as tcpdump takes it: `-r FILE` (then every operand is the filter),
 * else the first operand (`-` for standard input), else standard input when it is a pipe or file.
 */
function captureSource(
  read: string | undefined,
  operands: string[],
): { path: string; stdin: boolean; implicit: boolean; filter?: string } {
  let path = read;
  let rest = operands;
  if (path === undefined && operands.length) [path, ...rest] = operands;
  if (path === undefined) {
    if (!stdinIsData()) throw new CLIError(NO_FILE);
    return { path: 'stdin', stdin: true, implicit: true };
  }
  const filter = rest.join(' ').trim();
  return { path: path === '-' ? 'stdin' : path, stdin: path === '-', implicit: false, ...(filter ? { filter } : {}) };
}

/**
 * Whether the messages are written by a thread of their own (report-thread.ts): only when asked
 * (NETDIAG_REPORT_THREAD=1; `make bench` shows both), into a pipe or a file, without colour.
 * One thread is the default in every format: the thread takes the main thread's part of a --jsonl
 * run from some 1.0 s to 0.6-0.7 s of CPU, but adds 0.3-0.45 s of its own (the handover, a second
 * heap, the worker's start and its own JIT warm-up), so it bought no wall time on an idle second
 * core and cost it on a busy one. Measured: 2026-12-04 01:55 (load 0), 1M bench capture, --jsonl
 * 0.63 s wall and 1.08 s CPU with it, 0.66 s and 0.75 s without; 5M 4.31 s (7.12 s CPU) with it,
 * 4.26 s (4.56 s) without; at 02:34 (load 7), after the JSON writer's cuts, one thread 0.84-1.11
 * s of CPU and the thread 1.32-1.66 s. Until then it was chosen for --json and --jsonl while a
 * core was free (the load average and /proc/loadavg's runnable tasks), which on this 2-core
 * machine shared with other work lost as often as it won. Text never took it: its lines cost less
 * to write than to hand over, and a handover that copied no text would not change that (16:20,
 * instructions under callgrind: the main thread keeps at least 95% of one thread's work):
 * docs/architecture.md.
 */
function useThread(style: Style, io: CommandIO): boolean {
  if (io.env.NETDIAG_REPORT_THREAD !== '1' || style !== PLAIN || io.stdout !== process.stdout) return false;
  try {
    const out = fstatSync(1);
    return out.isFIFO() || out.isFile();
  } catch {
    return false;
  }
}

/** Standard input is a pipe, a file or a socket (not a terminal, not /dev/null). */
function stdinIsData(): boolean {
  try {
    const st = fstatSync(0);
    return st.isFIFO() || st.isFile() || st.isSocket();
  } catch {
    return false;
  }
}
