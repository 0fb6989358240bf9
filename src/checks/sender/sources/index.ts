/**
 * The sender configuration sources, in the order their targets are preferred. A new source is one
 * module implementing SenderSource (types.ts) and one row here: its facts get their field in
 * SenderFacts from this list, the collector collects it, and the sender checks read it.
 */
import type { HostExec } from '../../../io/host-exec.js';
import type { SenderSource, SourceRead } from './types.js';
import { sysconfigSource } from './sysconfig.js';
import { modprobeSource } from './modprobe.js';
import { cmdlineSource } from './cmdline.js';
import { configfsSource } from './configfs.js';

export const SENDER_SOURCES = [sysconfigSource, modprobeSource, cmdlineSource, configfsSource] as const;

type AnySource = (typeof SENDER_SOURCES)[number];

/** Each source's facts, under its key: the source part of SenderFacts. */
export type SourceFacts = { [S in AnySource as S['key']]?: S extends SenderSource<string, infer F> ? F : never };

/** Every source's facts, collected in the list's order. */
export async function collectSources(exec: HostExec, notes: string[]): Promise<SourceFacts> {
  const facts: Record<string, unknown> = {};
  for (const s of SENDER_SOURCES) {
    const f = await s.collect(exec, notes);
    if (f !== undefined) facts[s.key] = f;
  }
  return facts;
}

/** A source's read of the facts, or undefined when it collected nothing. */
export function readSource(s: AnySource, facts: SourceFacts): SourceRead | undefined {
  const f = facts[s.key];
  // The key ties the facts to their source (SourceFacts is derived from this list).
  return f === undefined ? undefined : (s as SenderSource<string, typeof f>).read(f);
}

/** The evidence line of a source that was read but names no target. */
export function nothingFound(s: AnySource, facts: SourceFacts): string | undefined {
  const f = facts[s.key];
  return f === undefined ? undefined : (s as SenderSource<string, typeof f>).nothingFound(f);
}

export type { SenderSource, SourceRead };
