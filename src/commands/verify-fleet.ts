/**
 * `netdiag verify` with several senders (`--sender` repeated, `--inventory FILE`, `--limit`):
 * reads the inventory, runs the fleet (src/verify/fleet.ts) with ssh, this host and libpcap, and
 * prints the table, JSON or JSONL. Wiring only; verify.ts hands over here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { openLiveCaptureProcess, prepareLiveCaptureProcess } from '../capture/live-process.js';
import { CLIError } from '../errors.js';
import { InventoryError, parseInventory, selectHosts, sshTarget } from '../fleet/inventory/index.js';
import { applyVarsFiles } from '../fleet/inventory/vars-files.js';
import { readVarsFiles, type FileReader } from '../io/inventory-files.js';
import { localExec } from '../io/local-exec.js';
import { fileSize, listFiles, readFrom } from '../io/log-file.js';
import { sshExec } from '../io/ssh-exec.js';
import { escapeText } from '../report/escape.js';
import { chooseStyle, type ColorMode } from '../report/style.js';
import { createProgress } from '../ui/progress.js';
import { exitCodeFor } from '../ui/signals.js';
import { runFleet, type FleetSender } from '../verify/fleet.js';
import { fleetExitCode, formatFleetJson, formatFleetLine, formatFleetText } from '../verify/fleet-report.js';
import type { VerifyOptions } from '../verify/types.js';
import type { CommandIO } from './command.js';

/**
 * The capture buffer of a fleet run: its filter passes all UDP on the interface (every sender's),
 * and the capture process drains the ring at once; 32 MiB costs about a third of the CPU of
 * sniff's 128 MiB to allocate.
 */
const FLEET_BUFFER_MIB = 32;

interface SenderSsh extends FleetSender {
  port?: number;
  identity?: string;
  args: string[];
}

/** The options of verify that the fleet run reads (verify.ts defines them). */
interface FleetValues {
  sender: string[];
  inventory?: string | undefined;
  limit?: string | undefined;
  forks: number;
  json: boolean;
  jsonl: boolean;
  quiet: boolean;
  identity?: string | undefined;
  'ssh-option': string[];
  color: ColorMode;
}

/** The senders to check: the inventory's (after --limit), then each --sender, in that order. */
export function fleetSenders(
  values: Pick<FleetValues, 'sender' | 'inventory' | 'limit'>,
  fs: FileReader,
): { senders: SenderSsh[]; warnings: string[] } {
  const out: SenderSsh[] = [];
  const warnings: string[] = [];
  const file = values.inventory;
  const limit = values.limit;
  if (limit !== undefined && file === undefined)
    throw new CLIError('--limit selects hosts of an --inventory: give one');
  if (file !== undefined) {
    let text: string;
    try {
      text = fs.readFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CLIError(
        `--inventory ${file}: cannot read (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`,
      );
    }
    try {
      const withVars = applyVarsFiles(parseInventory(text, file), readVarsFiles(file, fs));
      warnings.push(...withVars.warnings);
      const inv = withVars.inventory;
      if (!inv.hosts.length) throw new CLIError(`--inventory ${file}: no hosts in it`);
      const hosts = limit === undefined ? inv.hosts : selectHosts(inv, limit);
      for (const h of hosts) {
        const t = sshTarget(inv, h);
        out.push({
          name: t.name,
          destination: t.destination,
          args: t.args,
          ...(t.port ? { port: t.port } : {}),
          ...(t.identity ? { identity: t.identity } : {}),
        });
      }
    } catch (e) {
      if (e instanceof InventoryError) throw new CLIError(e.message);
      throw e;
    }
  }
  for (const d of values.sender) out.push({ name: d, destination: d, args: [] });
  return { senders: out, warnings };
}

/** node:fs as the inventory reader wants it. */
const nodeFs: FileReader = {
  readFile: p => readFileSync(p, 'utf8'),
  readDir: p => {
    try {
      return readdirSync(p);
    } catch {
      return [];
    }
  },
  isDir: p => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  },
};

export async function runFleetCommand(
  values: FleetValues,
  io: CommandIO,
  base: Omit<VerifyOptions, 'destination'>,
): Promise<number> {
  if (values.json && values.jsonl) throw new CLIError('--json and --jsonl: choose one');
  const forks = values.forks;
  const { senders, warnings } = fleetSenders(values, nodeFs);
  for (const w of warnings) io.stderr.write(`netdiag: warning: ${escapeText(w)}\n`);
  for (const s of senders)
    if (s.destination.startsWith('-') || /\s/.test(s.destination))
      throw new CLIError(`verify: '${s.destination}' is not an ssh destination`);
  const machine = values.json || values.jsonl;
  const progress = await createProgress(io.stderr, !machine && !values.quiet, `0/${senders.length} senders checked`);
  const identity = values.identity;
  const options = values['ssh-option'];
  try {
    const outcome = await runFleet(
      { ...base, senders, forks, budgetSec: base.timeoutSec + 40 },
      {
        connect: s => {
          const ss = s as SenderSsh;
          return sshExec({
            destination: ss.destination,
            options,
            args: ss.args,
            ...((ss.identity ?? identity) ? { identity: (ss.identity ?? identity)! } : {}),
            ...(ss.port ? { port: ss.port } : {}),
            // ssh's own warnings, above the progress line.
            onWarning: line => {
              progress.clear();
              io.stderr.write(`netdiag: warning: ssh ${escapeText(ss.destination)}: ${escapeText(line)}\n`);
              progress.render();
            },
          });
        },
        receiver: localExec(),
        openCapture: (iface, filter, sink) =>
          openLiveCaptureProcess({ iface, filter, bufferMiB: FLEET_BUFFER_MIB }, sink),
        prepareCapture: () => {
          const p = prepareLiveCaptureProcess();
          return {
            open: (iface, filter, sink) => p.open({ iface, filter, bufferMiB: FLEET_BUFFER_MIB }, sink),
            cancel: () => p.cancel(),
          };
        },
        fileSize,
        readFrom,
        listFiles,
        clock: () => performance.now(),
        sleep: ms => new Promise(r => setTimeout(r, ms)),
        onResult: (r, p) => {
          if (values.jsonl) io.stdout.write(formatFleetLine(r));
          progress.text(`${p.checked}/${p.total} senders checked, ${p.broken} broken`);
        },
        stop: io.interrupted,
      },
    );
    progress.stop();
    if (values.json) io.stdout.write(formatFleetJson(outcome));
    else if (!values.jsonl) io.stdout.write(formatFleetText(outcome, chooseStyle(io.stdout, io.env, values.color)));
    // Ctrl-C: what was checked is printed, and the exit says the run was stopped.
    const signal = outcome.interrupted ? await io.interrupted : undefined;
    return signal ? exitCodeFor(signal) : fleetExitCode(outcome.results);
  } finally {
    progress.stop();
  }
}
