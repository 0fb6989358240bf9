/**
 * A sender configuration source: one place netconsole takes targets from (a file, the kernel
 * command line, configfs). Each source module collects its own facts through a HostExec and reads
 * them into targets; sources/index.ts lists them. The kernel log (what the kernel really uses) is
 * not a source: it is judged against them (../kernel-log.ts).
 */
import type { NetconsoleTarget } from '../../../config/target.js';
import type { HostExec } from '../../../io/host-exec.js';

/** The sysdata switches under `userdata/` (6.9 and later): what the kernel appends to each message. */
export const SYSDATA_SWITCHES = ['cpu_nr', 'taskname', 'release', 'msgid'] as const;
export type Sysdata = (typeof SYSDATA_SWITCHES)[number];

/** What a target appends to each message beyond the text (6.9 and later), and its send errors. */
export interface TargetExtras {
  /** `transmit_errors` (6.13 and later): packets the kernel could not send, since the target was made. */
  transmitErrors?: number;
  /** Its userdata entries (`userdata/KEY/value`), sent as ` KEY=VALUE` lines. */
  userdata: Array<{ key: string; value: string }>;
  /** The sysdata switches that are on (`userdata/cpu_nr_enabled` ...); undefined when the kernel has none. */
  sysdata?: Sysdata[];
}

/** What a source says. */
export interface SourceRead {
  targets: Array<{
    target: NetconsoleTarget;
    /** configfs: the target's directory name, and whether it is enabled. */
    name?: string;
    enabled?: boolean;
    /** Where the enable switch is, for evidence. */
    from?: string;
    /** configfs: what it appends to messages, and its send errors. */
    extras?: TargetExtras;
  }>;
  /** What the kernel or the init script would refuse: `FILE:LINE: ...`. */
  errors: string[];
  /** What works but is probably not meant. */
  warnings: string[];
}

export interface SenderSource<K extends string = string, F = unknown> {
  /** Its key in SenderFacts, where its collected facts are. */
  key: K;
  /** Reads its facts on the sender; undefined when there are none. Notes say what could not be read. */
  collect(exec: HostExec, notes: string[]): Promise<F | undefined>;
  /** Its targets from its facts. */
  read(facts: F): SourceRead;
  /** The evidence line when it was read but names no target. */
  nothingFound(facts: F): string;
  /** Its targets live in the running kernel and can be disabled (configfs); others are files read at load time. */
  live?: boolean;
  /** A target of this source without a MAC, with nothing running: the MAC is resolved at start (said, not judged). */
  macResolvedAtStart?: string;
}
