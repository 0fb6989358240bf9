/**
 * Machine output. `--json` is one document; its `messages` array comes first and is streamed, so
 * memory stays flat for any capture. `--jsonl` is one message per line. The shapes are documented
 * in docs/json.md and are stable.
 */
import type { CaptureSummary } from '../capture/sink.js';
import type { AnalysisResult, Message, SenderSummary } from '../pipeline/types.js';
import { isoTime } from './time.js';
import { safeJson } from './escape.js';

export interface JsonMessage {
  sender: string;
  time: string;
  mode: Message['mode'];
  text: string;
  fragments: number;
  packets: number[];
  level?: number;
  facility?: number;
  seq?: number;
  usec?: number;
  dict?: Record<string, string>;
  release?: string;
  hostname?: string;
  app?: string;
  incomplete?: boolean;
  dst: string;
  srcMac?: string;
  dstMac?: string;
}

export function messageJson(m: Message): JsonMessage {
  const j: JsonMessage = { sender: m.sender, time: isoTime(m.time), mode: m.mode, text: m.text, fragments: m.fragments, packets: m.packets, dst: m.dstIp.includes(':') ? `[${m.dstIp}]:${m.dstPort}` : `${m.dstIp}:${m.dstPort}` };
  if (m.level !== undefined) j.level = m.level;
  if (m.facility !== undefined) j.facility = m.facility;
  if (m.seq !== undefined) j.seq = m.seq;
  if (m.usec !== undefined) j.usec = m.usec;
  if (m.dict) j.dict = m.dict;
  if (m.release !== undefined) j.release = m.release;
  if (m.hostname !== undefined) j.hostname = m.hostname;
  if (m.app !== undefined) j.app = m.app;
  if (m.incomplete) j.incomplete = true;
  if (m.srcMac) j.srcMac = m.srcMac;
  if (m.dstMac) j.dstMac = m.dstMac;
  return j;
}

export function senderJson(s: SenderSummary): Record<string, unknown> {
  return { ...s, first: isoTime(s.first), last: isoTime(s.last) };
}

type CaptureJson = { path: string; format: CaptureSummary['format'] | 'live'; packets: number; truncated: boolean; truncation?: string };

/** Everything of the `--json` document but `messages`. */
export function documentTailObject(capture: CaptureJson, result: AnalysisResult): Record<string, unknown> {
  const errors = result.findings.filter(f => f.severity === 'error').length;
  return {
    capture,
    summary: { packets: result.packets, datagrams: result.datagrams, messages: result.messages, senders: result.senders.length, errors, warnings: result.findings.filter(f => f.severity === 'warning').length, ok: errors === 0 },
    senders: result.senders.map(senderJson),
    findings: result.findings,
  };
}

/** The parts of the `--json` document after `messages`, as text that follows `"messages":[...],`. */
export function documentTail(capture: CaptureJson, result: AnalysisResult): string {
  return safeJson(documentTailObject(capture, result)).slice(1); // drop '{': it follows the messages array
}
