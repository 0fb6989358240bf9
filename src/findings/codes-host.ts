import type { CodeInfo } from './code-info.js';

/** Codes of the sender, receiver and firewall checks (issue 5). */
export const HOST_CODES: CodeInfo[] = [];
