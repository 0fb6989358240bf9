import { DEFAULT_BUFFER_MIB } from '../capture/live.js';
import { openLiveCaptureProcess, prepareLiveCaptureProcess } from '../capture/live-process.js';
import { parsePorts } from '../config/load.js';
import { CLIError, EXIT_FINDINGS, EXIT_OK } from '../errors.js';
import { localExec } from '../io/local-exec.js';
import { fileSize, readFrom } from '../io/log-file.js';
import { sshExec } from '../io/ssh-exec.js';
import { chooseStyle } from '../report/style.js';
import { createProgress } from '../ui/progress.js';
import { runVerify } from '../verify/run.js';
import { formatVerifyJson, formatVerifyText } from '../verify/report.js';
import { defineCommand } from './command.js';

export default defineCommand({
  name: 'verify',
  summary: 'Trigger a kernel message on the sender over ssh, watch it cross the wire and land in the log, and name the broken link.',
  usage: 'netdiag verify --sender [user@]host [options]  |  netdiag verify (--sender DEST)... | --inventory FILE [--limit PATTERN] [options]',
  options: {
    sender: { type: 'string', multiple: true },
    inventory: { type: 'string' },
    limit: { type: 'string' },
    forks: { type: 'string' },
    jsonl: { type: 'boolean' },
    iface: { type: 'string', short: 'i' },
    port: { type: 'string' },
    'log-file': { type: 'string' },
    'syslog-config': { type: 'string' },
    timeout: { type: 'string' },
    trigger: { type: 'string' },
    identity: { type: 'string' },
    'ssh-option': { type: 'string', multiple: true },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
  help: [
    ['--sender [user@]host', 'the netconsole sender, as ssh reaches it (your ~/.ssh/config applies); repeat for several'],
    ['--inventory FILE', 'check every host of an Ansible inventory (INI or YAML) or a list of ssh destinations, one per line'],
    ['--limit PATTERN', 'only the inventory hosts Ansible\'s --limit would pick (web*, dbservers:!db3, prod:&east)'],
    ['--forks N', 'senders checked at once (default 10)'],
    ['-i, --iface IFACE', 'capture interface; default: the one the route to the sender uses'],
    ['--port N', 'the syslog port; default: the sender\'s configured target port, else 514'],
    ['--log-file PATH', 'where the syslog daemon writes; default: from its configuration'],
    ['--syslog-config FILE', 'the syslog daemon\'s configuration, when not /etc/rsyslog.conf or syslog-ng.conf'],
    ['--timeout S', 'how long to wait for the messages (default 10)'],
    ['--trigger C', 'the sysrq command character to trigger (default p: "Show Regs")'],
    ['--identity FILE', 'ssh -i FILE'],
    ['--ssh-option OPT', 'ssh -o OPT (repeatable)'],
    ['--json', 'machine output (several senders: {ok, results, receiver})'],
    ['--jsonl', 'several senders: one JSON document per sender as each finishes'],
    ['--quiet', 'no progress on stderr'],
  ],
  allowPositionals: false,
  async run({ values }, io) {
    const senders = (values.sender as string[] | undefined) ?? [];
    if (!senders.length && values.inventory === undefined) throw new CLIError('verify: --sender [user@]host is required');
    const timeoutSec = values.timeout === undefined ? 10 : Number(values.timeout);
    if (!(Number.isInteger(timeoutSec) && timeoutSec >= 1 && timeoutSec <= 600)) throw new CLIError(`--timeout: '${values.timeout}' is not a number of seconds (1-600)`);
    const port = parsePorts(values.port === undefined ? undefined : [values.port as string])?.[0];
    const common = {
      timeoutSec, trigger: (values.trigger as string | undefined) ?? 'p',
      ...(values.iface ? { iface: values.iface as string } : {}),
      ...(port ? { port } : {}),
      ...(values['log-file'] ? { logFile: values['log-file'] as string } : {}),
      ...(values['syslog-config'] ? { syslogConfig: values['syslog-config'] as string } : {}),
    };
    if (senders.length > 1 || values.inventory !== undefined || values.limit !== undefined || values.forks !== undefined || values.jsonl) {
      return (await import('./verify-fleet.js')).runFleetCommand(values, io, common);
    }
    const destination = senders[0]!;
    if (destination.startsWith('-') || /\s/.test(destination)) throw new CLIError(`verify: '${destination}' is not an ssh destination`);
    const json = values.json === true;
    const progress = await createProgress(io.stderr, !json && values.quiet !== true, 'verify');
    const sender = sshExec({
      destination,
      ...(values.identity ? { identity: values.identity as string } : {}),
      ...(values['ssh-option'] ? { options: values['ssh-option'] as string[] } : {}),
    });
    try {
      const outcome = await runVerify(
        { destination, ...common },
        {
          sender,
          receiver: localExec(),
          openCapture: (iface, filter, sink) => openLiveCaptureProcess({ iface, filter, bufferMiB: DEFAULT_BUFFER_MIB }, sink),
          prepareCapture: () => {
            const p = prepareLiveCaptureProcess();
            return { open: (iface, filter, sink) => p.open({ iface, filter, bufferMiB: DEFAULT_BUFFER_MIB }, sink), cancel: () => p.cancel() };
          },
          fileSize,
          readFrom,
          clock: () => performance.now(),
          sleep: ms => new Promise(r => setTimeout(r, ms)),
          step: text => progress.text(text),
        },
      );
      progress.stop();
      io.stdout.write(json ? formatVerifyJson(outcome, destination) : formatVerifyText(outcome, destination, chooseStyle(io.stdout, io.env)));
      return outcome.report.ok ? EXIT_OK : EXIT_FINDINGS;
    } finally {
      progress.stop();
      await sender.close();
    }
  },
});
