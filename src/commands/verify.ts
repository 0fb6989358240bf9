/** netdiag verify --sender HOST: a kernel message from the sender followed to this host's log. */
import { openLiveCaptureProcess, prepareLiveCaptureProcess } from '../capture/live-process.js';
import { CLIError, EXIT_FINDINGS, EXIT_OK } from '../errors.js';
import { escapeText, safeJson } from '../report/escape.js';
import type { PacketSink } from '../capture/sink.js';
import { localExec } from '../io/local-exec.js';
import { fileSize, listFiles, readFrom } from '../io/log-file.js';
import { sshExec } from '../io/ssh-exec.js';
import { chooseStyle } from '../report/style.js';
import { createProgress, type Progress } from '../ui/progress.js';
import { exitCodeFor } from '../ui/signals.js';
import { runVerify } from '../verify/run.js';
import type { LiveHandle } from '../verify/types.js';
import { formatVerifyJson, formatVerifyText } from '../verify/report.js';
import { colorOption, port, readableFile, seconds, text } from './_shared.js';
import { defineCommand, flag, list, option, type Parser } from './command.js';

/**
 * The capture buffer for one sender: the filter passes only its datagrams and the capture process
 * drains the ring at once, so 16 MiB holds any burst a trigger makes; sniff's 128 MiB would cost
 * about 0.9 s of CPU to allocate, more than the rest of a verify.
 */
const VERIFY_BUFFER_MIB = 16;

/** An ssh destination: not an option to ssh, no spaces. */
const destination: Parser<string> = raw => {
  if (raw.startsWith('-') || /\s/.test(raw))
    throw new CLIError(`verify: '${escapeText(raw)}' is not an ssh destination`);
  return raw;
};

const forks: Parser<number> = (raw, flag) => {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 500) {
    throw new CLIError(`${flag}: '${escapeText(raw)}' is not a number of parallel senders (1-500)`);
  }
  return n;
};

export default defineCommand({
  name: 'verify',
  summary:
    'Trigger a kernel message on the sender over ssh, watch it cross the wire and land in the log, and name the broken link.',
  synopsis: ['--sender [user@]host [options]', '(--sender DEST)... | --inventory FILE [--limit PATTERN] [options]'],
  options: {
    sender: list({
      hint: '[user@]host',
      parse: destination,
      description: 'the netconsole sender, as ssh reaches it (your ~/.ssh/config applies); repeat for several',
    }),
    inventory: option({
      hint: 'FILE',
      parse: text,
      complete: 'file',
      description: 'check every host of an Ansible inventory (INI or YAML) or a list of ssh destinations, one per line',
    }),
    limit: option({
      hint: 'PATTERN',
      parse: text,
      description: "only the inventory hosts Ansible's --limit would pick (web*, dbservers:!db3, prod:&east)",
    }),
    forks: option({ hint: 'N', parse: forks, default: 10, description: 'senders checked at once' }),
    iface: option({
      hint: 'IFACE',
      short: 'i',
      parse: text,
      complete: 'interface',
      description: 'capture interface; default: the one the route to the sender uses',
    }),
    port: option({
      hint: 'N',
      parse: port,
      description: "the syslog port; default: the sender's configured target port, else 514",
    }),
    'log-file': option({
      hint: 'PATH',
      parse: text,
      complete: 'file',
      description: 'where the syslog daemon writes; default: from its configuration',
    }),
    'syslog-config': option({
      hint: 'FILE',
      parse: text,
      complete: 'file',
      description: "the syslog daemon's configuration, when not /etc/rsyslog.conf or syslog-ng.conf",
    }),
    timeout: option({ hint: 'S', parse: seconds(600), default: 10, description: 'how long to wait for the messages' }),
    trigger: option({
      hint: 'C',
      parse: text,
      default: 'p',
      defaultText: 'p: "Show Regs"',
      description: 'the sysrq command character to trigger',
    }),
    identity: option({ hint: 'FILE', parse: readableFile, complete: 'file', description: 'ssh -i FILE' }),
    'ssh-option': list({ hint: 'OPT', parse: text, description: 'ssh -o OPT (repeatable)' }),
    json: flag('machine output (several senders: {ok, results, receiver})'),
    jsonl: flag('several senders: one JSON document per sender as each finishes'),
    quiet: flag('no progress on stderr'),
    color: colorOption,
  },
  examples: [
    ['netdiag verify --sender root@web1', "trigger a message on web1 and follow it to this host's log"],
    ['netdiag verify --sender web1 -i eth1 --log-file /var/log/netconsole.log', 'the same, saying where to look'],
    ['netdiag verify --inventory hosts.ini --limit web', 'every sender of an Ansible group, 10 at a time'],
  ],
  async run({ values }, io) {
    const senders = values.sender;
    if (!senders.length && values.inventory === undefined)
      throw new CLIError('verify: --sender [user@]host is required');
    const common = {
      timeoutSec: values.timeout,
      trigger: values.trigger,
      ...(values.iface ? { iface: values.iface } : {}),
      ...(values.port !== undefined ? { port: values.port } : {}),
      ...(values['log-file'] ? { logFile: values['log-file'] } : {}),
      ...(values['syslog-config'] ? { syslogConfig: values['syslog-config'] } : {}),
    };
    const fleet = senders.length > 1 || values.inventory !== undefined || values.limit !== undefined;
    if (fleet || values.jsonl) {
      return (await import('./verify-fleet.js')).runFleetCommand(values, io, common);
    }
    const destination = senders[0]!;
    const json = values.json;
    const progress = await createProgress(io.stderr, !json && !values.quiet, 'verify');
    const sender = sshExec({
      destination,
      ...(values.identity !== undefined ? { identity: values.identity } : {}),
      ...(values['ssh-option'].length ? { options: values['ssh-option'] } : {}),
      onWarning: line => warnAbove(progress, io.stderr, `ssh ${destination}: ${line}`),
    });
    // What an interrupted run knew and what it must stop: the steps done, the capture.
    const steps: string[] = [];
    const captures: LiveHandle[] = [];
    const prepared: Array<() => void> = [];
    let packets = 0;
    const counted = (sink: PacketSink): PacketSink => ({
      packet(...a) {
        packets++;
        sink.packet(...a);
      },
    });
    const kept = async (h: LiveHandle | Promise<LiveHandle>) => {
      const handle = await h;
      captures.push(handle);
      return handle;
    };
    const t0 = performance.now();
    try {
      const work = runVerify(
        { destination, ...common },
        {
          sender,
          receiver: localExec(),
          openCapture: (iface, filter, sink) =>
            kept(openLiveCaptureProcess({ iface, filter, bufferMiB: VERIFY_BUFFER_MIB }, counted(sink))),
          prepareCapture: () => {
            const p = prepareLiveCaptureProcess();
            prepared.push(() => p.cancel());
            return {
              open: (iface, filter, sink) =>
                kept(p.open({ iface, filter, bufferMiB: VERIFY_BUFFER_MIB }, counted(sink))),
              cancel: () => p.cancel(),
            };
          },
          fileSize,
          readFrom,
          listFiles,
          clock: () => performance.now(),
          sleep: ms => new Promise(r => setTimeout(r, ms)),
          step: text => {
            steps.push(text);
            progress.text(text);
          },
        },
      );
      const first = await Promise.race([
        work.then(outcome => ({ outcome })),
        io.interrupted.then(signal => ({ signal })),
      ]);
      if ('signal' in first) {
        // Stop what runs (the capture process, ssh and its control master: `finally`), then say
        // what was known. runVerify is abandoned: the process exits once this returns.
        progress.stop();
        work.catch(() => {});
        for (const c of prepared) c();
        for (const c of captures) c.stop();
        await Promise.race([
          Promise.all(captures.map(c => c.stopped?.() ?? Promise.resolve())),
          new Promise(r => setTimeout(r, 2000)),
        ]);
        const elapsedMs = Math.round(performance.now() - t0);
        io.stdout.write(
          json
            ? `${safeJson({ sender: destination, ok: false, interrupted: first.signal, during: steps.at(-1) ?? null, steps, capturedPackets: captures.length ? packets : null, elapsedMs })}\n`
            : interruptedText(destination, first.signal, steps, captures.length ? packets : undefined, elapsedMs),
        );
        return exitCodeFor(first.signal);
      }
      const outcome = first.outcome;
      progress.stop();
      io.stdout.write(
        json
          ? formatVerifyJson(outcome, destination)
          : formatVerifyText(outcome, destination, chooseStyle(io.stdout, io.env, values.color)),
      );
      return outcome.report.ok ? EXIT_OK : EXIT_FINDINGS;
    } finally {
      progress.stop();
      await sender.close();
    }
  },
});

/** A line on stderr while the spinner may be drawn there: the spinner is cleared first. */
function warnAbove(progress: Progress, stderr: NodeJS.WritableStream, line: string): void {
  progress.clear();
  stderr.write(`netdiag: warning: ${escapeText(line)}\n`);
  progress.render();
}

/** What an interrupted verify prints: where it was, what it had done, no verdict. */
function interruptedText(
  destination: string,
  signal: string,
  steps: string[],
  packets: number | undefined,
  elapsedMs: number,
): string {
  const how = signal === 'SIGTERM' ? 'SIGTERM' : 'Ctrl-C (SIGINT)';
  const during = steps.at(-1);
  let s = `verify ${escapeText(destination)}: interrupted by ${how}${during ? ` while ${escapeText(during)}` : ''} after ${(elapsedMs / 1000).toFixed(1)} s: no verdict\n`;
  if (steps.length > 1) s += `  done before: ${steps.slice(0, -1).map(escapeText).join('; ')}\n`;
  if (packets !== undefined)
    s += `  capture: ${packets} packet${packets === 1 ? '' : 's'} captured so far (its UDP, ICMP errors back to it)\n`;
  return s;
}
