import type { CodeInfo, Severity } from './code-info.js';
import { ALL_CODES, type FindingCode } from './codes.js';
import type { Finding } from './finding.js';

export { ALL_CODES, type FindingCode };

const byCode = new Map<string, CodeInfo<FindingCode>>();
for (const info of ALL_CODES) {
  if (byCode.has(info.code)) throw new Error(`duplicate finding code ${info.code}`);
  byCode.set(info.code, info);
}

export function codeInfo(code: string): CodeInfo<FindingCode> | undefined {
  return byCode.get(code);
}

/** Builds a finding whose severity comes from the catalog unless given. Unknown codes are a bug. */
export function finding(
  code: FindingCode,
  fields: {
    summary: string;
    hint?: string;
    evidence?: string[];
    packets?: number[];
    subject?: string;
    severity?: Severity;
  },
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
