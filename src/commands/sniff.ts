import { netconsoleFilter } from '../capture/filter.js';
import { DEFAULT_BUFFER_MIB, defaultInterface, supportsVlanFilter } from '../capture/live.js';
import { formatSessionStats, runLiveSession } from '../capture/live-session.js';
import { CLIError } from '../errors.js';
import { createPipeline } from '../pipeline/pipeline.js';
import { escapeText } from '../report/escape.js';
import { Reporter } from '../report/reporter.js';
import { createLiveStatus } from '../ui/live-status.js';
import { analysisHelp, analysisOptions, analysisSettings } from './_shared.js';
import { defineCommand } from './command.js';

/** A positive number from an option, or a one-line error naming it. */
function positive(values: Record<string, unknown>, name: string, integer: boolean): number | undefined {
  const v = values[name] as string | undefined;
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0) || (integer && !Number.isInteger(n))) {
    throw new CLIError(`--${name}: '${escapeText(v)}' is not a positive ${integer ? 'integer' : 'number'}`);
  }
  return n;
}

export default defineCommand({
  name: 'sniff',
  summary: 'Capture netconsole traffic live on an interface: messages as they arrive, then the summary and findings.',
  usage: 'netdiag sniff [IFACE] [options]',
  options: {
    ...analysisOptions,
    filter: { type: 'string' },
    count: { type: 'string', short: 'c' },
    duration: { type: 'string' },
    write: { type: 'string', short: 'w' },
    buffer: { type: 'string', short: 'B' },
  },
  help: [
    ['IFACE', 'interface to capture on; default: the first up, non-loopback interface with an address, else any'],
    ...analysisHelp,
    ['--filter EXPR', 'capture filter as tcpdump takes it, instead of the netconsole ports + ICMP unreachable + IP fragments'],
    ['-c, --count N', 'stop after N packets'],
    ['--duration S', 'stop after S seconds (Ctrl-C or SIGTERM stop too, and print the summary)'],
    ['-w, --write FILE', 'also write the packets to FILE: pcap, or pcapng when FILE ends in .pcapng'],
    ['-B, --buffer MiB', `kernel capture buffer (default ${DEFAULT_BUFFER_MIB}): what a burst can fill while netdiag decodes`],
  ],
  allowPositionals: true,
  async run({ values, positionals }, io) {
    if (positionals.length > 1) throw new CLIError('sniff: give at most one interface (netdiag sniff [IFACE])');
    const settings = analysisSettings(values, io);
    for (const w of settings.warnings) io.stderr.write(`netdiag: warning: ${escapeText(w)}\n`);
    const count = positive(values, 'count', true);
    const duration = positive(values, 'duration', false);
    const bufferMiB = positive(values, 'buffer', false) ?? DEFAULT_BUFFER_MIB;
    const iface = positionals[0] ?? defaultInterface();
    const userFilter = values.filter as string | undefined;
    const vlan = supportsVlanFilter(iface);
    const filter = userFilter ?? netconsoleFilter(settings.pipeline.ports, { vlan });
    const noVlanFilter = userFilter === undefined && vlan ? netconsoleFilter(settings.pipeline.ports, { vlan: false }) : undefined;

    // Assigned just below; the status calls this only once the reporter exists.
    let reporter: Reporter;
    const status = await createLiveStatus(io, () => reporter.out.flush(), settings.format === 'text', `capturing on ${escapeText(iface)}`);
    reporter = new Reporter(status.stdout, settings);
    const onMessage = reporter.wantsMessages ? (m: Parameters<typeof reporter.message>[0]) => (reporter.message(m), status.scheduleFlush()) : undefined;
    const pipeline = createPipeline({ ...settings.pipeline, ...(onMessage ? { onMessage } : {}) });
    try {
      const result = await runLiveSession({
        capture: { iface, filter, bufferMiB, ...(noVlanFilter ? { noVlanFilter } : {}) },
        sink: pipeline,
        ...(values.write !== undefined ? { writePath: values.write as string } : {}),
        ...(count !== undefined ? { count } : {}),
        ...(duration !== undefined ? { durationMs: duration * 1000 } : {}),
        stop: Promise.race([io.interrupted, status.outputClosed]),
        onOpen: c => io.stderr.write(`netdiag: listening on ${escapeText(c.iface)}, link-type ${c.linkName}, buffer ${bufferMiB} MiB, filter: ${escapeText(c.filter)}\n`),
        onTick: () => {
          const n = pipeline.counters();
          status.text(`capturing on ${escapeText(iface)}: ${n.packets} packets, ${n.messages} messages, ${n.senders} senders`);
        },
      });
      status.stopSpinner();
      const analysis = pipeline.finish();
      io.stderr.write(`netdiag: ${formatSessionStats(result)}\n`);
      const code = reporter.finish({ path: iface }, analysis);
      await status.close();
      return code;
    } finally {
      // After an error only what was already written stays: no half JSON document.
      await status.close({ flush: false });
    }
  },
});
