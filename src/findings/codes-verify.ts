import type { CodeInfo } from './code-info.js';

/** Codes of the triggered end-to-end test (verify). */
export const VERIFY_CODES: CodeInfo[] = [];
