/** netdiag analyze FILE: a capture file through the pipeline into the report. */
import { readCaptureFile } from '../capture/file-source.js';
import { CLIError } from '../errors.js';
import { createPipeline } from '../pipeline/pipeline.js';
import { Reporter } from '../report/reporter.js';
import { escapeText } from '../report/escape.js';
import { createProgress } from '../ui/progress.js';
import { analysisOptions, analysisSettings } from './_shared.js';
import { defineCommand } from './command.js';

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
    const progress = await createProgress(io.stderr, settings.format === 'text', `reading ${escapeText(path)}`);
    try {
      const summary = await readCaptureFile(path, pipeline, {
        onProgress: (read, total) => {
          if (total) {
            const percent = Math.round((read / total) * 100);
            progress.text(`reading ${escapeText(path)}: ${percent}%, ${pipeline.counters().packets} packets`);
          }
          return reporter.out.drain();
        },
      });
      progress.stop();
      return reporter.finish({ path, summary }, pipeline.finish(summary));
    } catch (e) {
      progress.stop();
      throw e;
    }
  },
});
