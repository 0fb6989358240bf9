/**
 * Machine output. `--json` is one document; its `messages` array comes first and is streamed, so
 * memory stays flat for any capture. `--jsonl` is one message per line. The shapes are documented
 * in docs/json.md and are stable.
 */
import type { CaptureSummary } from '../capture/sink.js';
import type { AnalysisResult, Message, SenderSummary } from '../pipeline/types.js';
import { isoTime } from './time.js';
import { endpoint } from '../decode/addr.js';
import { safeJson } from './escape.js';

/** The optional message fields `--json` carries, when set. */
const OPTIONAL = [
  'level',
  'facility',
  'seq',
  'usec',
  'dict',
  'userdata',
  'sysdata',
  'dictLines',
  'release',
  'hostname',
  'app',
  'incomplete',
  'srcMac',
  'dstMac',
] as const;

/** A message as JSON: the Message fields (docs/json.md), with `time` as ISO 8601 and `dst` as `ip:port`. */
export type JsonMessage = Pick<Message, 'sender' | 'mode' | 'text' | 'fragments' | 'packets'> &
  Partial<Pick<Message, (typeof OPTIONAL)[number]>> & { time: string; dst: string };

export function messageJson(m: Message): JsonMessage {
  const j: JsonMessage = {
    sender: m.sender,
    time: isoTime(m.time),
    mode: m.mode,
    text: m.text,
    fragments: m.fragments,
    packets: m.packets,
    dst: endpoint(m.dstIp, m.dstPort),
  };
  for (const k of OPTIONAL) if (m[k] !== undefined) (j as Record<string, unknown>)[k] = m[k];
  return j;
}

/** Characters a JSON string may hold as they are: printable ASCII but `"` and `\\`. */
const NEEDS_CARE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

/** A string as safeJson writes it inside a document. */
export function jsonString(s: string): string {
  return NEEDS_CARE.test(s) ? safeJson(s) : `"${s}"`;
}

function jsonValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return jsonString(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return safeJson(v);
  }
}

let lastDstIp = '';
let lastDstPort = -1;
let lastDst = '';

/**
 * `safeJson(messageJson(m))` (with `"type":"message"` first for --jsonl), written directly:
 * the same characters (test/report-lines.test.ts compares them), at a fraction of the cost of
 * building the object and serialising it.
 */
export function messageJsonText(m: Message, jsonl: boolean): string {
  if (m.dstIp !== lastDstIp || m.dstPort !== lastDstPort) {
    lastDstIp = m.dstIp;
    lastDstPort = m.dstPort;
    lastDst = jsonString(endpoint(m.dstIp, m.dstPort));
  }
  let s = `${jsonl ? '{"type":"message","sender":' : '{"sender":'}${jsonString(m.sender)},"time":"${isoTime(m.time)}","mode":${jsonString(m.mode)},"text":${jsonString(m.text)},"fragments":${jsonValue(m.fragments)},"packets":${m.packets.length === 1 ? `[${jsonValue(m.packets[0])}]` : safeJson(m.packets)},"dst":${lastDst}`;
  for (const k of OPTIONAL) {
    const v = m[k];
    if (v !== undefined) s += `,"${k}":${jsonValue(v)}`;
  }
  return `${s}}`;
}

function senderJson(s: SenderSummary): Record<string, unknown> {
  return { ...s, first: isoTime(s.first), last: isoTime(s.last) };
}

type CaptureJson = {
  path: string;
  format: CaptureSummary['format'] | 'live';
  packets: number;
  truncated: boolean;
  truncation?: string;
};

/** Everything of the `--json` document but `messages`. */
export function documentTailObject(capture: CaptureJson, result: AnalysisResult): Record<string, unknown> {
  const errors = result.findings.filter(f => f.severity === 'error').length;
  return {
    capture,
    summary: {
      packets: result.packets,
      datagrams: result.datagrams,
      messages: result.messages,
      senders: result.senders.length,
      errors,
      warnings: result.findings.filter(f => f.severity === 'warning').length,
      ok: errors === 0,
    },
    senders: result.senders.map(senderJson),
    findings: result.findings,
    ...(result.coverage ? { coverage: result.coverage } : {}),
  };
}

/** The parts of the `--json` document after `messages`, as text that follows `"messages":[...],`. */
export function documentTail(capture: CaptureJson, result: AnalysisResult): string {
  return safeJson(documentTailObject(capture, result)).slice(1); // drop '{': it follows the messages array
}
