/**
 * What verify is asked (VerifyOptions), what it may touch (VerifyDeps: every effect, so tests run
 * it with fakes and the command with ssh, this host and libpcap) and what it answers
 * (VerifyOutcome). Shared by the single run (run.ts) and the fleet run (fleet.ts).
 */
import type { PacketSink } from '../capture/sink.js';
import type { HostExec } from '../io/host-exec.js';
import type { HeldSession, PreparedCommand } from '../io/ssh-exec.js';
import type { Timestamp } from '../pipeline/types.js';
import type { VerifyReport } from './judge.js';

export interface VerifyOptions {
  /** `[user@]host` as ssh takes it. */
  destination: string;
  /** Capture interface; default: the one the route to the sender uses. */
  iface?: string;
  /** The syslog port; default: the sender's configured target port, else 514. */
  port?: number;
  /** The file the syslog daemon writes; default: what its configuration says. */
  logFile?: string;
  /** The syslog daemon's configuration file, when not the default one. */
  syslogConfig?: string;
  timeoutSec: number;
  /** The sysrq command character. @default 'p' */
  trigger: string;
}

export interface LiveHandle {
  stop(): void;
  now(): Timestamp;
  /** Resolves once every packet captured before stop() was handed on. */
  stopped?(): Promise<void>;
}

export type SenderExec = HostExec & {
  lastError?: string;
  setSudo?(on: boolean): void;
  /** Starts a command and holds it until fired (ssh-exec's `prepare`); without it the trigger is run when needed. */
  prepare?(argv: string[]): PreparedCommand;
  /** Starts a command with its stdin held (ssh-exec's `session`): the facts' script, which then triggers. */
  session?(argv: string[], readyLine: string, timeoutMs?: number): HeldSession;
};

export interface VerifyDeps {
  sender: SenderExec;
  receiver: HostExec;
  openCapture(iface: string, filter: string, sink: PacketSink): LiveHandle | Promise<LiveHandle>;
  /** Starts the capture's process before the interface is known; `open` then takes the place of openCapture. */
  prepareCapture?(): { open(iface: string, filter: string, sink: PacketSink): Promise<LiveHandle>; cancel(): void };
  /** Size of a local file, or undefined when it cannot be read. */
  fileSize(path: string): Promise<number | undefined>;
  /** A local file's bytes from `offset` on (at most a few MiB), or undefined. */
  readFrom(path: string, offset: number): Promise<string | undefined>;
  /**
   * The files a pattern names (`*` within a path segment), newest first, at most `limit` (default
   * 64); without it, a templated log file is not watched.
   */
  listFiles?(pattern: string, limit?: number): Promise<string[]>;
  clock(): number;
  sleep(ms: number): Promise<void>;
  step(text: string): void;
  marker?(): string;
}

/** Another target of the sender on this host, judged from the same test (targets.ts). */
export interface OtherTargetOutcome {
  /** `eth0 -> 10.99.0.1:5514`. */
  target: string;
  port: number;
  report: VerifyReport;
}

export interface VerifyOutcome {
  report: VerifyReport;
  /** The sender's other targets on this host, each judged as its own path; absent when it has one. */
  others?: OtherTargetOutcome[];
  marker: string;
  senderIp: string;
  iface: string;
  port: number;
  logFile?: string;
  elapsedMs: number;
}
