import type { CodeInfo } from './code-info.js';
import type { Finding, Severity } from './finding.js';
import { WIRE_CODES } from './codes-wire.js';
import { HOST_CODES } from './codes-host.js';
import { VERIFY_CODES } from './codes-verify.js';

export type { CodeInfo };

/** Every finding code netdiag can emit, in documentation order. */
export const ALL_CODES: readonly CodeInfo[] = [...WIRE_CODES, ...HOST_CODES, ...VERIFY_CODES];

const byCode = new Map<string, CodeInfo>();
for (const info of ALL_CODES) {
  if (byCode.has(info.code)) throw new Error(`duplicate finding code ${info.code}`);
  byCode.set(info.code, info);
}

export function codeInfo(code: string): CodeInfo | undefined {
  return byCode.get(code);
}

/** Builds a finding whose severity comes from the catalog unless given. Unknown codes are a bug. */
export function finding(
  code: string,
  fields: { summary: string; hint?: string; evidence?: string[]; packets?: number[]; subject?: string; severity?: Severity },
): Finding {
  const info = byCode.get(code);
  if (!info) throw new Error(`unknown finding code ${code}`);
  const f: Finding = {
    code,
    severity: fields.severity ?? info.severity,
    summary: fields.summary,
    evidence: fields.evidence ?? [],
    hint: fields.hint ?? info.fix,
  };
  if (fields.packets) f.packets = fields.packets;
  if (fields.subject) f.subject = fields.subject;
  return f;
}
