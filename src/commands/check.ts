/**
 * netdiag check: the receiver checks on this host (or on files handed in), and the sender checks on
 * files handed in. Prints a checklist; exit 1 when a check fails, 2 on bad arguments.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { posix, resolve } from 'node:path';
import { ip, port, text } from './_shared.js';
import { defineCommand, flag, option, type Parser } from './command.js';
import { CLIError, EXIT_FINDINGS, EXIT_OK } from '../errors.js';
import { parseNetconsoleSpec } from '../config/netconsole-spec.js';
import type { NetconsoleTarget } from '../config/target.js';
import { collectReceiverFacts, collectSenderFacts, nothingCollected } from '../checks/host/collect.js';
import { runSenderChecks, type SenderReport } from '../checks/sender/run.js';
import { runReceiverChecks, type ReceiverReport } from '../checks/receiver/run.js';
import { printkTimeCtx } from '../checks/syslog/line-forms.js';
import { renderChecklist } from '../report/checklist.js';
import { escapeText, safeJson } from '../report/escape.js';
import { localExec } from '../io/local-exec.js';
import { dirExec } from '../io/dir-exec.js';
import type { HostExec } from '../io/host-exec.js';

/** The one target a `--netconsole` parameter names. */
const netconsoleTarget: Parser<NetconsoleTarget | undefined> = (raw, flag) => {
  const r = parseNetconsoleSpec(raw, flag);
  if (r.errors.length) throw new CLIError(`check: ${r.errors[0]}`);
  return r.targets[0];
};

async function factsDir(path: string, what: string): Promise<string> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw new CLIError(`check: ${what} directory ${escapeText(path)} does not exist`);
  }
  if (!s.isDirectory()) throw new CLIError(`check: ${what} ${escapeText(path)} is not a directory`);
  await readdir(path).catch(() => {
    throw new CLIError(`check: ${what} directory ${escapeText(path)} cannot be read`);
  });
  return path;
}

/**
 * `--syslog-config FILE`, as an absolute path on the receiver: on this host it must be a readable
 * file (said now, in one line, rather than as an unknown check later); in a facts directory it is
 * the receiver's path, found under DIR.
 */
async function syslogConfigPath(raw: string, exec: HostExec, dir: string | undefined): Promise<string> {
  const flag = '--syslog-config';
  if (dir !== undefined) {
    const path = posix.resolve('/', raw);
    if ((await exec.readFile(path)) === null)
      throw new CLIError(`check: ${flag} ${escapeText(raw)}: no such file in --receiver-facts ${escapeText(dir)}`);
    return path;
  }
  const path = resolve(raw);
  let isFile: boolean;
  try {
    const fh = await open(path, 'r');
    isFile = (await fh.stat().finally(() => fh.close())).isFile();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CLIError(`check: ${flag} ${escapeText(raw)}: ${code === 'ENOENT' ? 'no such file' : 'cannot be read'}`);
  }
  if (!isFile) throw new CLIError(`check: ${flag} ${escapeText(raw)}: not a regular file`);
  return path;
}

/** An empty or foreign facts directory checks nothing: that is a usage error (exit 2), not "no check failed". */
function requireFacts(facts: Parameters<typeof nothingCollected>[0], dir: string, what: string): void {
  if (nothingCollected(facts))
    throw new CLIError(
      `check: ${what} ${escapeText(dir)} holds none of the files netdiag reads (layout: docs/checks.md): nothing could be checked`,
    );
}

export default defineCommand({
  name: 'check',
  summary: 'Check this host (the receiver) and, from files, a sender for what breaks netconsole.',
  options: {
    port: option({
      hint: 'N',
      parse: port,
      description: "the UDP port netconsole sends to (default: the target's port, else 514)",
    }),
    netconsole: option({
      hint: 'SPEC',
      parse: netconsoleTarget,
      description: "the sender's netconsole parameter, e.g. @/eth0,514@10.0.0.1/00:11:22:33:44:55",
    }),
    'sender-ip': option({
      hint: 'IP',
      parse: ip,
      description: "the sender's IP, for the firewall and rp_filter checks",
    }),
    'receiver-ip': option({ hint: 'IP', parse: ip, description: "the IP the sender sends to (default: the target's)" }),
    'receiver-facts': option({
      hint: 'DIR',
      parse: text,
      complete: 'directory',
      description: 'judge files from DIR instead of this host (layout: docs/checks.md)',
    }),
    'sender-facts': option({
      hint: 'DIR',
      parse: text,
      complete: 'directory',
      description: 'also run the sender checks on files from DIR',
    }),
    'syslog-config': option({
      hint: 'FILE',
      parse: text,
      complete: 'file',
      description:
        "the receiver's syslog daemon configuration, when not /etc/rsyslog.conf or syslog-ng.conf (rsyslogd -f FILE); only it is read",
    }),
    'sender-only': flag('skip the receiver checks'),
    json: flag('print the checklist as JSON'),
  },
  examples: [
    ['netdiag check --sender-ip 10.0.0.2', 'this host as the receiver: socket, firewall, rp_filter, syslog daemon'],
    ['netdiag check --syslog-config /etc/rsyslog-netconsole.conf', 'the same, for an rsyslogd started with -f'],
    ['netdiag check --sender-facts ./web1 --sender-only', "a sender's configuration, from files copied off it"],
  ],
  async run({ values }, io) {
    const port = values.port;
    let target = values.netconsole;
    const senderDir =
      values['sender-facts'] !== undefined ? await factsDir(values['sender-facts'], '--sender-facts') : undefined;
    const receiverDir =
      values['receiver-facts'] !== undefined ? await factsDir(values['receiver-facts'], '--receiver-facts') : undefined;
    if (values['sender-only'] && values['syslog-config'] !== undefined)
      throw new CLIError('check: --syslog-config is for the receiver checks, which --sender-only skips');
    const receiverExec = receiverDir ? dirExec(receiverDir) : localExec();
    const syslogConfig =
      values['syslog-config'] !== undefined
        ? await syslogConfigPath(values['syslog-config'], receiverExec, receiverDir)
        : undefined;

    let sender: SenderReport | undefined;
    let senderNotes: string[] = [];
    let senderPrintkTime: string | undefined;
    if (senderDir) {
      const facts = await collectSenderFacts(dirExec(senderDir), target ? { remoteIp: target.remoteIp } : {});
      requireFacts(facts, senderDir, '--sender-facts');
      senderNotes = facts.notes;
      senderPrintkTime = facts.printkTime?.text;
      sender = runSenderChecks(facts, { ...(target ? { target } : {}), ...(port ? { port } : {}) });
      if (!target && sender.target) target = sender.target;
    }

    let receiver: ReceiverReport | undefined;
    let receiverNotes: string[] = [];
    if (!values['sender-only']) {
      const senderIp = values['sender-ip'] ?? target?.localIp ?? (sender && senderRouteSrc(sender)) ?? undefined;
      const facts = await collectReceiverFacts(receiverExec, {
        ...(senderIp ? { senderIp } : {}),
        ...(syslogConfig ? { syslogConfig } : {}),
      });
      if (receiverDir) requireFacts(facts, receiverDir, '--receiver-facts');
      receiverNotes = facts.notes;
      receiver = runReceiverChecks(facts, {
        ...(port ? { port } : {}),
        ...(senderIp ? { senderIp } : {}),
        ...(values['receiver-ip'] ? { receiverIp: values['receiver-ip'] } : {}),
        ...(target ? { target } : {}),
        ...printkTimeCtx(senderPrintkTime),
      });
    }

    const failed = [...(sender?.checks ?? []), ...(receiver?.checks ?? [])].some(c => c.status === 'fail');
    if (values.json) {
      const out = {
        ...(sender
          ? {
              sender: {
                target: sender.target ?? null,
                // configfs targets and what each sends beyond the text (userdata, sysdata), its send errors.
                configfs: sender.configfs.map(c => ({
                  name: c.name,
                  enabled: c.enabled ?? null,
                  transmitErrors: c.extras?.transmitErrors ?? null,
                  userdata: c.extras?.userdata ?? [],
                  sysdata: c.extras?.sysdata ?? null,
                })),
                checks: sender.checks,
                notes: senderNotes,
              },
            }
          : {}),
        ...(receiver
          ? {
              receiver: {
                checks: receiver.checks,
                logFiles: receiver.logFiles,
                firewall: receiver.firewall ?? null,
                datagram: receiver.datagram,
                notes: receiverNotes,
              },
            }
          : {}),
        ok: !failed,
      };
      io.stdout.write(safeJson(out, 2) + '\n');
    } else {
      if (sender) {
        io.stdout.write(renderChecklist(`sender (${escapeText(senderDir!)})`, sender.checks));
        if (senderNotes.length) io.stdout.write(`  not collected: ${senderNotes.map(escapeText).join('; ')}\n`);
      }
      if (receiver) {
        io.stdout.write(
          renderChecklist(`receiver (${receiverDir ? escapeText(receiverDir) : 'this host'})`, receiver.checks),
        );
        if (receiver.logFiles.length)
          io.stdout.write(`  messages should land in: ${receiver.logFiles.map(escapeText).join(', ')}\n`);
        if (receiverNotes.length) io.stdout.write(`  not collected: ${receiverNotes.map(escapeText).join('; ')}\n`);
      }
      io.stdout.write(failed ? 'result: a check failed (see the fixes above)\n' : 'result: no check failed\n');
    }
    return failed ? EXIT_FINDINGS : EXIT_OK;
  },
});

function senderRouteSrc(r: SenderReport): string | undefined {
  return r.target?.localIp ?? r.running.find(t => t.localIp)?.localIp;
}
