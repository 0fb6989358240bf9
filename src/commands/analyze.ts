/** netdiag analyze FILE: a capture file through the pipeline into the report. */
import { readCaptureFile } from '../capture/file-source.js';
import { CLIError } from '../errors.js';
import { createPipeline } from '../pipeline/pipeline.js';
import { Reporter } from '../report/reporter.js';
import { escapeText } from '../report/escape.js';
import { bytesText, createProgress } from '../ui/progress.js';
import { exitCodeFor } from '../ui/signals.js';
import { analysisOptions, analysisSettings } from './_shared.js';
import { defineCommand } from './command.js';

/** Bytes per read: small enough that the report of one chunk stays small and a stop is quick. */
const CHUNK = 1024 * 1024;
/** How often the progress line's text changes (ora redraws its frame on its own). */
const PROGRESS_MS = 100;

export default defineCommand({
  name: 'analyze',
  summary: 'Analyze a capture file (pcap, pcapng, either gzip-compressed) for netconsole traffic.',
  options: analysisOptions,
  operand: { hint: 'FILE', description: 'the capture file: pcap or pcapng, gzip-compressed or not', complete: 'file' },
  examples: [
    ['netdiag analyze capture.pcap', 'every netconsole message in the capture, then the summary and findings'],
    [
      'netdiag analyze --netconsole 6665@10.0.0.2/eth0,6666@10.0.0.1/52:54:00:ab:cd:ef cap.pcap.gz',
      "also compare the traffic with the sender's configuration",
    ],
  ],
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new CLIError('analyze: give exactly one capture file (netdiag analyze FILE)');
    const path = positionals[0]!;
    const settings = analysisSettings(values, io);
    for (const w of settings.warnings) io.stderr.write(`netdiag: warning: ${escapeText(w)}\n`);
    const reporter = new Reporter(io.stdout, settings);
    const pipeline = createPipeline({
      ...settings.pipeline,
      ...(reporter.wantsMessages ? { onMessage: reporter.message } : {}),
    });
    const name = escapeText(path);
    const progress = await createProgress(io.stderr, true, `reading ${name}`);
    // The report and the spinner on one terminal: the spinner steps aside for each write.
    if (progress.shown && io.stdout.isTTY)
      reporter.out.around = { before: () => progress.clear(), after: () => progress.render() };

    // Ctrl-C or SIGTERM: stop after the chunk in hand, and report what was read.
    let interrupted: string | undefined;
    const stop = new AbortController();
    void io.interrupted.then(sig => {
      interrupted = sig;
      stop.abort();
    });
    const started = Date.now();
    let shownAt = 0;
    try {
      const summary = await readCaptureFile(path, pipeline, {
        chunkSize: CHUNK,
        signal: stop.signal,
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
          await reporter.out.drain(io.interrupted);
          await new Promise(setImmediate);
        },
      });
      progress.stop();
      const code = reporter.finish(
        { path, summary, ...(interrupted ? { interrupted } : {}) },
        pipeline.finish(summary),
      );
      return interrupted ? exitCodeFor(interrupted) : code;
    } catch (e) {
      progress.stop();
      throw e;
    }
  },
});
