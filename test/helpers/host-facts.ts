/** What the host-check tests share: fixtures/checks files, a fact with its source, the codes found. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Finding } from '../../src/findings/finding.js';
import { projectRoot } from './cli.js';

/** A file of fixtures/checks, by its path there. */
export const fx = (p: string): string => readFileSync(path.join(projectRoot, 'fixtures/checks', p), 'utf8');

/** A fact as collection hands it over: the text and where it came from. */
export const f = (text: string, from: string) => ({ text, from });

/** The codes of the errors and warnings (info left out), sorted: what a case's `codes` lists. */
export const problemCodes = (r: { findings: readonly Finding[] }): string[] =>
  r.findings
    .filter(x => x.severity !== 'info')
    .map(x => x.code)
    .sort();
