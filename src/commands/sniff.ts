/** netdiag sniff [IFACE]: a live capture through the pipeline into the report. */
import { netconsoleFilter } from '../capture/filter.js';
import { DEFAULT_BUFFER_MIB, defaultInterface, supportsVlanFilter } from '../capture/live.js';
import { localInterface } from '../capture/local-interface.js';
import { formatSessionStats, runLiveSession } from '../capture/live-session.js';
import { watchedPorts } from '../config/target.js';
import { CLIError } from '../errors.js';
import { createPipeline } from '../pipeline/pipeline.js';
import { escapeText } from '../report/escape.js';
import { Reporter } from '../report/reporter.js';
import { createLiveStatus } from '../ui/live-status.js';
import { analysisOptions, analysisSettings, count, positive, seconds, text } from './_shared.js';
import { defineCommand, flag, option } from './command.js';
import { isInterface, listInterfaces } from '../io/interfaces.js';
import { stdoutFile } from '../io/stdout-file.js';

export default defineCommand({
  name: 'sniff',
  summary: 'Capture netconsole traffic live on an interface: messages as they arrive, then the summary and findings.',
  synopsis: ['[options] [IFACE] [EXPRESSION]', '[options] -i IFACE [EXPRESSION]', '-D'],
  operand: {
    hint: '[IFACE] [EXPRESSION]',
    description:
      'interface to capture on (default: the first up, non-loopback interface with an address, else any), ' +
      "then a filter in tcpdump's syntax that narrows the capture, e.g. host 10.0.0.2",
    complete: 'interface',
  },
  options: {
    iface: option({
      hint: 'IFACE',
      short: 'i',
      parse: text,
      complete: 'interface',
      description: 'interface to capture on, as tcpdump -i takes it (then every operand is the filter)',
    }),
    'list-interfaces': flag('list the interfaces with their state and addresses, as tcpdump -D does', 'D'),
    ...analysisOptions,
    filter: option({
      hint: 'EXPR',
      parse: text,
      description:
        'capture filter as tcpdump takes it, instead of the netconsole ports + ICMP unreachable + IP fragments',
    }),
    count: option({ hint: 'N', short: 'c', parse: count, description: 'stop after N packets' }),
    duration: option({
      hint: 'S',
      parse: seconds(),
      description: 'stop after S seconds (Ctrl-C or SIGTERM stop too, and print the summary)',
    }),
    write: option({
      hint: 'FILE',
      short: 'w',
      parse: text,
      complete: 'file',
      description:
        'also write the packets to FILE: pcap, or pcapng when FILE ends in .pcapng; - writes pcap to stdout ' +
        '(the report then goes to stderr)',
    }),
    buffer: option({
      hint: 'MiB',
      short: 'B',
      parse: positive,
      default: DEFAULT_BUFFER_MIB,
      description: 'kernel capture buffer: what a burst can fill while netdiag decodes',
    }),
    backlog: option({
      hint: 'MiB',
      parse: positive,
      default: 256,
      description:
        "memory for packets read from the kernel's buffer that wait to be decoded; beyond it they are dropped " +
        'and counted on the stop line',
    }),
  },
  examples: [
    ['netdiag sniff eth1', 'messages as they arrive on eth1; Ctrl-C prints the summary and findings'],
    ['netdiag sniff -c 100 -w netconsole.pcap eth1', 'stop after 100 packets, keeping them in a capture file'],
    ['netdiag sniff -i eth1 host 10.0.0.2', 'only what 10.0.0.2 sends or receives'],
    ['netdiag sniff -D', 'the interfaces to choose from'],
  ],
  async run({ values, positionals }, io0) {
    if (values['list-interfaces']) {
      io0.stdout.write(
        listInterfaces()
          .map(l => escapeText(l) + '\n')
          .join(''),
      );
      return 0;
    }
    const { iface: named, expression } = interfaceAndFilter(values.iface, positionals);
    // -w -: the capture goes to stdout, so the report goes to stderr.
    const toStdout = values.write === '-';
    const io = toStdout ? { ...io0, stdout: io0.stderr } : io0;
    const settings = analysisSettings(values, io);
    for (const w of settings.warnings) io.stderr.write(`netdiag: warning: ${escapeText(w)}\n`);
    const { count, duration, buffer: bufferMiB, backlog: backlogMiB } = values;
    const iface = named ?? defaultInterface();
    const userFilter = values.filter;
    const vlan = supportsVlanFilter(iface);
    // A trailing expression narrows what is captured, as tcpdump's does: both must match.
    const narrowed = (base: string) => (expression ? `(${base}) and (${expression})` : base);
    // The same ports the pipeline watches: a configured target's port is captured too.
    const watched = watchedPorts(settings.pipeline.ports, settings.pipeline.targets);
    const filter = narrowed(userFilter ?? netconsoleFilter(watched, { vlan }));
    const noVlanFilter =
      userFilter === undefined && vlan ? narrowed(netconsoleFilter(watched, { vlan: false })) : undefined;

    // Assigned just below; the status calls this only once the reporter exists.
    let reporter: Reporter;
    const status = await createLiveStatus(
      io,
      () => reporter.out.flush(),
      settings.format === 'text',
      `capturing on ${escapeText(iface)}`,
    );
    reporter = new Reporter(status.stdout, settings);
    const onMessage = reporter.wantsMessages
      ? (m: Parameters<typeof reporter.message>[0]) => (reporter.message(m), status.scheduleFlush())
      : undefined;
    // The interface's own MAC and addresses let the wire be judged without any configuration.
    const local = localInterface(iface);
    const pipeline = createPipeline({
      ...settings.pipeline,
      ...(local ? { local } : {}),
      ...(onMessage ? { onMessage } : {}),
    });
    try {
      const result = await runLiveSession({
        capture: { iface, filter, bufferMiB, backlogMiB, ...(noVlanFilter ? { noVlanFilter } : {}) },
        sink: pipeline,
        ...(values.write !== undefined ? { writePath: values.write } : {}),
        ...(toStdout ? { writeFs: stdoutFile } : {}),
        ...(count !== undefined ? { count } : {}),
        ...(duration !== undefined ? { durationMs: duration * 1000 } : {}),
        stop: Promise.race([io.interrupted, status.outputClosed]),
        onOpen: c =>
          io.stderr.write(
            `netdiag: listening on ${escapeText(c.iface)}, link-type ${c.linkName}, buffer ${bufferMiB} MiB, filter: ${escapeText(c.filter)}\n`,
          ),
        onTick: () => {
          const n = pipeline.counters();
          status.text(
            `capturing on ${escapeText(iface)}: ${n.packets} packets, ${n.messages} messages, ${n.senders} senders`,
          );
        },
      });
      status.stopSpinner();
      const analysis = pipeline.finish();
      io.stderr.write(`netdiag: ${formatSessionStats(result)}\n`);
      const code = reporter.finish({ path: iface }, analysis);
      await status.close();
      // What was captured is reported; then why the capture stopped early, as an error.
      if (result.ended !== undefined) {
        io.stderr.write(`netdiag: the capture on ${escapeText(iface)} ended: ${escapeText(result.ended)}\n`);
        return 2;
      }
      return code;
    } finally {
      // After an error only what was already written stays: no half JSON document.
      await status.close({ flush: false });
    }
  },
});

/**
 * `-i IFACE` makes every operand the filter; otherwise the first operand is the interface when
 * one has that name (or it is the only operand), and the rest is the filter.
 */
function interfaceAndFilter(iface: string | undefined, operands: string[]): { iface?: string; expression?: string } {
  let rest = operands;
  if (iface === undefined && operands.length && (operands.length === 1 || isInterface(operands[0]!))) {
    [iface, ...rest] = operands;
  }
  const expression = rest.join(' ').trim();
  if (rest.length === 1 && isInterface(rest[0]!))
    throw new CLIError('sniff: give at most one interface (netdiag sniff [IFACE])');
  return { ...(iface !== undefined ? { iface } : {}), ...(expression ? { expression } : {}) };
}
