/** netdiag analyze FILE [EXPRESSION]: a capture file (or stdin), filtered, through the pipeline into the report. */
import { fstatSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { readCaptureFile } from '../capture/file-source.js';
import { CLIError } from '../errors.js';
import { createPipeline } from '../pipeline/pipeline.js';
import { Reporter, type ReportFormat } from '../report/reporter.js';
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
      reporter.wantsMessages && useThread(settings.format, settings.style, io)
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
 * Whether the messages are written by a thread of their own (report-thread.ts): into a pipe or a
 * file, without colour; by default for --json and --jsonl only while a whole core is free (see
 * coreFree); NETDIAG_REPORT_THREAD=1 or 0 decides instead; `make bench` shows both. The thread
 * takes the main thread's part from some 1.0 s to 0.6-0.7 s of CPU (1M bench capture, 13:54, load
 * 7-8), but costs 0.2-0.45 s more CPU in all (the handover, a second heap, the worker's start and
 * its own JIT warm-up), which a machine whose other core is busy pays in time. The rule before
 * (the last minute's load average below the number of cores) chose it on a busy machine: at 13:30
 * (load 2.4 at the start) --jsonl 1.50 s by default (the thread), 1.08 s in one thread; at
 * 13:46-13:49 (load 5.5-6.5, four runs each) --jsonl one thread 1.12-1.40 s (CPU 1.05-1.26 s),
 * thread 1.45-1.92 s (1.28-1.59 s); --json one thread 1.02-2.05 s (0.99-1.22 s), thread 0.83-1.97
 * s (1.29-1.57 s). At load 0.8-1.4 (13:36) the thread won 5 pairs of 6 (--jsonl 1.19-2.37 s
 * against 1.38-1.74 s, --json 1.18-1.75 s against 1.52-2.02 s). Text keeps one thread: its lines
 * cost less to write than to hand over, and a handover that copied no text would not change that
 * (16:20-17:00, instructions under callgrind with V8 single-threaded, 1M bench capture, text into
 * a file): one thread 6,782M in all; with the thread, its main thread alone 7,303M (batches
 * written, not sent), 6,478M with the text left out of the batch (what records pointing into
 * shared read chunks would write), 6,474M with no common message handed over at all. The main
 * thread keeps at least 95% of one thread's work, and the other adds 4.9G of its own (7,898M and
 * 4,898M, the thread as it runs): docs/architecture.md.
 */
function useThread(format: ReportFormat, style: Style, io: CommandIO): boolean {
  const want = io.env.NETDIAG_REPORT_THREAD;
  if (want === '0' || style !== PLAIN || io.stdout !== process.stdout) return false;
  if (want !== '1' && (format === 'text' || !coreFree())) return false;
  try {
    const out = fstatSync(1);
    return out.isFIFO() || out.isFile();
  } catch {
    return false;
  }
}

/**
 * A whole core free, on average and now: the last minute's load average below the cores less
 * one, and fewer tasks runnable at this moment than cores, this one counted (/proc/loadavg's
 * fourth field). The load average alone lags: a machine busy for the last seconds still shows a
 * low one.
 */
function coreFree(): boolean {
  const cores = availableParallelism();
  if (cores < 2) return false;
  try {
    const [load, running] = readFileSync('/proc/loadavg', 'latin1').split(' ');
    return Number(load) < cores - 1 && Number(running?.split('/')[0]) < cores;
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
