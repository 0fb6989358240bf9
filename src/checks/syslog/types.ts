/**
 * A syslog daemon's configuration as the receiver checks need it: the UDP inputs in effect, the
 * lines that would enable UDP but do not (for the fix), and the files netconsole messages land in;
 * and the interface each daemon's module implements (daemons.ts lists them). Pure.
 */
import type { FactText } from '../host/facts.js';
import type { LineForm } from './line-forms.js';

export interface UdpInput {
  port: number;
  /** Bound address; undefined means all addresses. */
  address?: string;
  from: string;
  line: number;
  text: string;
  /** rsyslog: the ruleset bound to the input. */
  ruleset?: string;
  /** syslog-ng: the source's name. */
  source?: string;
  /**
   * rsyslog imudp `RateLimit.Interval` (seconds, > 0) and `RateLimit.Burst`: past `burst` messages
   * in `interval` seconds, the input drops the rest, whoever sent them.
   */
  rateLimit?: { interval: number; burst: number };
}

export interface LogDestination {
  /** A file path, or a description (`@@remote`, `dynaFile RemoteLogs`). */
  file: string;
  /** The selector or filter, as written. */
  selector: string;
  from: string;
  line: number;
  /**
   * Whether a remote netconsole message (user.notice from the network) goes here: true, false, or
   * 'maybe' (filters netdiag does not evaluate).
   */
  netconsole: boolean | 'maybe';
  /** rsyslog: the ruleset the rule is in; undefined for the default one. */
  ruleset?: string;
  /** A `stop` or `~` before this rule that ends netconsole's messages' way: they never reach it. */
  discardedBy?: { from: string; line: number; text: string };
}

/** What a daemon's rules are judged for: the sender's address and the forms its lines take. */
interface SyslogParseContext {
  senderIp?: string;
  forms?: readonly LineForm[];
}

export interface SyslogConfig {
  /** The daemon's name, as in the registry (daemons.ts). */
  daemon: string;
  /** The main configuration file read (the default one, or `--syslog-config FILE`), for fixes. */
  mainFile?: string;
  /** UDP inputs that are in effect. */
  udpInputs: UdpInput[];
  /** Lines that would enable UDP but are commented out, or are without effect (input without module): for the fix. */
  disabledUdp: Array<{ from: string; line: number; text: string; why: string }>;
  destinations: LogDestination[];
  /**
   * rsyslog: whether an output other than a file is configured anywhere (forwarding, a program, a
   * call to another ruleset): then messages that no file rule takes may still go somewhere.
   * Undefined where netdiag does not tell (other daemons).
   */
  otherOutputs?: boolean;
  /** rsyslog $AllowedSender UDP lists. */
  allowedSenders: Array<{ spec: string[]; from: string; line: number }>;
  warnings: string[];
  /** The fix of a warning (by its text) where the daemon knows one; else the catalog's. */
  warningFixes?: Map<string, string>;
}

/**
 * The rules a message received on UDP `port` passes: those of the rulesets its inputs on that port
 * are bound to (rsyslog), the default one for an unbound input; all of them when no input is on
 * the port (nothing to tell them apart by).
 */
export function destinationsFor(cfg: SyslogConfig, port: number): LogDestination[] {
  const inputs = cfg.udpInputs.filter(i => i.port === port);
  if (!inputs.length) return cfg.destinations;
  const rulesets = new Set(inputs.map(i => i.ruleset));
  return cfg.destinations.filter(d => rulesets.has(d.ruleset));
}

/** One syslog daemon: where its configuration is, how to read it, and how to fix it. */
export interface SyslogDaemon {
  /** Its name: the key of its files in ReceiverFacts.syslog, and SyslogConfig.daemon. */
  name: string;
  /** The main configuration file, followed through its include directives. */
  mainConfig?: {
    path: string;
    /** The files (or globs) a configuration text includes, as written. */
    includes: (text: string) => string[];
    /** The directory relative includes are resolved against. */
    relativeTo: string;
  };
  /** Other files read as they are (no includes). */
  otherFiles?: readonly string[];
  /** Whether `--syslog-config FILE` is this daemon's (the first daemon takes any other). */
  ownsConfigPath?(path: string): boolean;
  /** Whether a `--syslog-config FILE` whose path no daemon claims is this daemon's, by its text. */
  ownsConfigText?(text: string): boolean;
  /** Whether the process `ss -p` names on the port is this daemon. */
  ownsProcess: RegExp;
  /**
   * Judged only when no other daemon's configuration was found or its process holds the port
   * (sysklogd's option files linger on systems that run another daemon).
   */
  fallback?: boolean;
  /** Its configuration from the files read (main first, then includes), or undefined when they say nothing. */
  parse(files: FactText[], ctx?: SyslogParseContext): SyslogConfig | undefined;
  /** The one-line fix that turns on UDP reception on `port`. */
  enableUdpFix(port: number, cfg: SyslogConfig): string;
  /**
   * The one-line fix for an input on another port than `port` (netconsole's): the input's port made
   * `port`, or the sender's made the input's. Without it, the catalog's (rsyslog's, for 514 and 6666).
   */
  portFix?: (input: UdpInput, port: number) => string;
  /** The one-line fix for an input bound to one address (127.0.0.1) that should take every address. */
  listenAnywhereFix(input: UdpInput): string;
  /**
   * `syslog-filtered`'s summary word for a discard and its fix: write netconsole's messages (from
   * `senderIp`) before anything else, before `discard` (a `FILE:LINE`) when one throws them away.
   * Without it, rsyslog's (`stop`, an `if $fromhost-ip` rule).
   */
  filtered?: { discard: string; fix(cfg: SyslogConfig, senderIp: string | undefined, discard?: string): string };
  /** The service to start when it is configured but not running. */
  service: string;
  /** The command that checks its configuration without starting it (`rsyslogd -N1`), if it has one. */
  syntaxCheck?: string;
}
