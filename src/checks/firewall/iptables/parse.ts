/**
 * `iptables-save -c` / `ip6tables-save -c` output as tables, chains and rules, each rule with its
 * line and counters for evidence. Pure; a line it does not understand is an error string.
 */
import { splitQuoted } from '../../host/words.js';

export interface IptRule {
  table: string;
  chain: string;
  /** The rule as printed, without counters: `-A INPUT -p udp ... -j DROP`. */
  text: string;
  line: number;
  counters?: { packets: number; bytes: number };
  args: string[];
}

export interface IptChain {
  name: string;
  /** ACCEPT/DROP for built-in chains; undefined (`-`) for user chains. */
  policy?: string;
  counters?: { packets: number; bytes: number };
  line: number;
  rules: IptRule[];
}

export interface IptTable {
  name: string;
  chains: Map<string, IptChain>;
}

export interface IptablesSave {
  tables: Map<string, IptTable>;
  /** `nf_tables` or `legacy` when the header says so. */
  backend?: 'nf_tables' | 'legacy';
  errors: string[];
}

/** Splits a rule line as iptables-restore does (iptables-save quotes comments with double quotes). */
export function splitArgs(s: string): string[] {
  return splitQuoted(s, { quotes: `"'`, blank: /[ \t]/, backslashInDouble: true });
}

export function parseIptablesSave(text: string): IptablesSave {
  const tables = new Map<string, IptTable>();
  const errors: string[] = [];
  let backend: IptablesSave['backend'];
  let table: IptTable | undefined;
  text.split('\n').forEach((raw, idx) => {
    const n = idx + 1;
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      if (/\(nf_tables\)/.test(line)) backend = 'nf_tables';
      else if (/\(legacy\)/.test(line)) backend = 'legacy';
      return;
    }
    if (line.startsWith('*')) {
      const name = line.slice(1);
      table = tables.get(name) ?? { name, chains: new Map() };
      tables.set(name, table);
      return;
    }
    if (line === 'COMMIT') {
      table = undefined;
      return;
    }
    if (!table) {
      errors.push(`line ${n}: outside a table: ${JSON.stringify(line.slice(0, 60))}`);
      return;
    }
    let m = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?/.exec(line);
    if (m) {
      const c: IptChain = { name: m[1]!, line: n, rules: [] };
      if (m[2] !== '-') c.policy = m[2]!;
      if (m[3] !== undefined) c.counters = { packets: Number(m[3]), bytes: Number(m[4]) };
      table.chains.set(c.name, c);
      return;
    }
    m = /^(?:\[(\d+):(\d+)\]\s+)?(-A\s+(\S+)(.*))$/.exec(line);
    if (m) {
      const chainName = m[4]!;
      let chain = table.chains.get(chainName);
      if (!chain) {
        chain = { name: chainName, line: n, rules: [] };
        table.chains.set(chainName, chain);
      }
      const rule: IptRule = {
        table: table.name,
        chain: chainName,
        text: m[3]!.trim(),
        line: n,
        args: splitArgs(m[5]!.trim()),
      };
      if (m[1] !== undefined) rule.counters = { packets: Number(m[1]), bytes: Number(m[2]) };
      chain.rules.push(rule);
      return;
    }
    errors.push(`line ${n}: not understood: ${JSON.stringify(line.slice(0, 60))}`);
  });
  const r: IptablesSave = { tables, errors };
  if (backend) r.backend = backend;
  return r;
}
