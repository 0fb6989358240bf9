/**
 * /etc/sysconfig/netconsole, the CentOS/RHEL (initscripts) netconsole service's settings: a shell
 * fragment the init script sources before it runs
 *
 *   modprobe netconsole netconsole=$LOCALPORT@$LOCALADDR/$DEV,$SYSLOGPORT@$SYSLOGADDR/$SYSLOGMACADDR
 *
 * Facts from the init script (initscripts' rc.d/init.d/netconsole): it sets LOCALPORT=6666 and
 * SYSLOGPORT=514 before sourcing this file; DEV and LOCALADDR come from `ip route get SYSLOGADDR`
 * when DEV is empty; SYSLOGADDR must be set (else it exits with "Server address not specified");
 * a SYSLOGADDR that is not a dotted IPv4 address is resolved with `host` (IPv4 "has address" only);
 * an empty SYSLOGMACADDR is resolved with arping to the next hop (the gateway when the route has
 * `via`), and the service fails when that gets no reply.
 *
 * Pure: no I/O. Bad lines are returned as errors/warnings with line numbers, never thrown.
 */
import type { NetconsoleTarget } from './target.js';
import { ipFamily, normalizeMac, parsePort } from './netconsole-spec.js';

/** The init script's defaults (not the kernel's: the kernel's local port default is 6665). */
const SYSCONFIG_DEFAULT_LOCAL_PORT = 6666;
const SYSCONFIG_DEFAULT_SYSLOG_PORT = 514;

const SYSCONFIG_KEYS = ['DEV', 'SYSLOGADDR', 'SYSLOGPORT', 'SYSLOGMACADDR', 'LOCALPORT'] as const;
type SysconfigKey = (typeof SYSCONFIG_KEYS)[number];

interface SysconfigAssignment {
  key: string;
  value: string;
  line: number;
}

export interface SysconfigNetconsole {
  /** The one target the service would load; absent when SYSLOGADDR is not set. */
  targets: NetconsoleTarget[];
  /** Every assignment in file order (known and unknown keys), for evidence. */
  assignments: SysconfigAssignment[];
  /** The effective line of each known key (the last assignment wins, as in the shell). */
  lines: Partial<Record<SysconfigKey, number>>;
  /** Problems that stop the service or make the kernel refuse the parameter: `FILE:LINE: ...`. */
  errors: string[];
  /** Things that work but are probably not what was meant: `FILE:LINE: ...`. */
  warnings: string[];
}

/**
 * Reads one shell value: bare word, 'single' or "double" quoted, or a mix of them glued together,
 * up to an unquoted space or `#`. Returns the value, the rest of the line, and what it could not
 * take literally (a `$` expansion or a backquote).
 */
function readShellWord(s: string): { value: string; rest: string; unterminated?: boolean; expansion?: boolean } {
  let i = 0;
  let value = '';
  let expansion = false;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === ';') break;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return { value, rest: '', unterminated: true };
      value += s.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let closed = false;
      while (j < s.length) {
        const d = s[j]!;
        if (d === '\\' && j + 1 < s.length && '"\\$`'.includes(s[j + 1]!)) {
          value += s[j + 1];
          j += 2;
          continue;
        }
        if (d === '"') {
          closed = true;
          break;
        }
        if (d === '$' || d === '`') expansion = true;
        value += d;
        j++;
      }
      if (!closed) return { value, rest: '', unterminated: true };
      i = j + 1;
    } else if (c === '\\' && i + 1 < s.length) {
      value += s[i + 1];
      i += 2;
    } else {
      if (c === '$' || c === '`') expansion = true;
      value += c;
      i++;
    }
  }
  return { value, rest: s.slice(i), expansion };
}

/**
 * Parses /etc/sysconfig/netconsole.
 *
 * @param text the file's contents
 * @param source its path, for evidence
 */
export function parseSysconfigNetconsole(text: string, source = '/etc/sysconfig/netconsole'): SysconfigNetconsole {
  const assignments: SysconfigAssignment[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  const lines: Partial<Record<SysconfigKey, number>> = {};
  const values: Partial<Record<SysconfigKey, string>> = {};
  const known = new Set<string>(SYSCONFIG_KEYS);

  const rows = text.split(/\r?\n/);
  rows.forEach((raw, idx) => {
    const lineNo = idx + 1;
    const at = `${source}:${lineNo}`;
    let s = raw.trim();
    if (s === '' || s.startsWith('#')) return;
    if (/^export\s+/.test(s)) s = s.replace(/^export\s+/, '');
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(\s*)=(\s*)(.*)$/.exec(s);
    if (!m) {
      warnings.push(
        `${at}: not an assignment, the init script would run it as a command: ${JSON.stringify(raw.trim().slice(0, 80))}`,
      );
      return;
    }
    const [, key, sp1, sp2, rhs] = m as unknown as [string, string, string, string, string];
    if (sp1 !== '' || sp2 !== '') {
      errors.push(`${at}: spaces around '=' in ${key}: the shell does not assign it (write ${key}=value)`);
      return;
    }
    const w = readShellWord(rhs);
    if (w.unterminated) {
      errors.push(`${at}: unterminated quote in ${key}`);
      return;
    }
    const rest = w.rest.trim();
    if (rest !== '' && !rest.startsWith('#')) {
      warnings.push(
        `${at}: text after the value of ${key} is ignored here (the shell would run it): ${JSON.stringify(rest.slice(0, 60))}`,
      );
    }
    if (w.expansion) warnings.push(`${at}: ${key} uses a shell expansion ($ or \`), taken literally here`);
    assignments.push({ key, value: w.value, line: lineNo });
    if (!known.has(key)) {
      warnings.push(`${at}: unknown key ${key} (the netconsole init script reads only ${SYSCONFIG_KEYS.join(', ')})`);
      return;
    }
    const k = key as SysconfigKey;
    if (lines[k] !== undefined) warnings.push(`${at}: ${key} set again (line ${lines[k]} is overridden)`);
    lines[k] = lineNo;
    values[k] = w.value;
  });

  const at = (k: SysconfigKey) => `${source}:${lines[k]}`;
  const explicit: NetconsoleTarget['explicit'] = [];

  let localPort = SYSCONFIG_DEFAULT_LOCAL_PORT;
  if (values.LOCALPORT !== undefined && values.LOCALPORT !== '') {
    const n = parsePort(values.LOCALPORT);
    if (n === undefined)
      errors.push(`${at('LOCALPORT')}: bad LOCALPORT ${JSON.stringify(values.LOCALPORT)} (want 1-65535)`);
    else {
      localPort = n;
      explicit.push('localPort');
    }
  }
  let remotePort = SYSCONFIG_DEFAULT_SYSLOG_PORT;
  if (values.SYSLOGPORT !== undefined && values.SYSLOGPORT !== '') {
    const n = parsePort(values.SYSLOGPORT);
    if (n === undefined)
      errors.push(`${at('SYSLOGPORT')}: bad SYSLOGPORT ${JSON.stringify(values.SYSLOGPORT)} (want 1-65535)`);
    else {
      remotePort = n;
      explicit.push('remotePort');
    }
  }
  let dev: string | undefined;
  if (values.DEV !== undefined && values.DEV !== '') {
    if (values.DEV.length > 15 || /[\s/,@]/.test(values.DEV))
      errors.push(`${at('DEV')}: bad DEV ${JSON.stringify(values.DEV)} (an interface name, at most 15 characters)`);
    else {
      dev = values.DEV;
      explicit.push('dev');
    }
  }
  let remoteMac: string | undefined;
  if (values.SYSLOGMACADDR !== undefined && values.SYSLOGMACADDR !== '') {
    remoteMac = normalizeMac(values.SYSLOGMACADDR);
    if (!remoteMac)
      errors.push(
        `${at('SYSLOGMACADDR')}: bad SYSLOGMACADDR ${JSON.stringify(values.SYSLOGMACADDR)} (want six colon-separated hex pairs, e.g. 00:11:22:33:44:55)`,
      );
    else explicit.push('remoteMac');
  }

  const targets: NetconsoleTarget[] = [];
  const addr = values.SYSLOGADDR;
  if (addr === undefined || addr === '') {
    errors.push(
      lines.SYSLOGADDR !== undefined
        ? `${at('SYSLOGADDR')}: SYSLOGADDR is empty: the init script refuses to start ("Server address not specified")`
        : `${source}: SYSLOGADDR is not set: the init script refuses to start ("Server address not specified")`,
    );
  } else {
    const fam = ipFamily(addr);
    let ok = true;
    if (fam === 6) {
      errors.push(
        `${at('SYSLOGADDR')}: SYSLOGADDR ${JSON.stringify(addr)} is IPv6: the init script handles only IPv4 (it treats it as a host name, fails to resolve it, and refuses to start)`,
      );
    } else if (fam === 0) {
      if (
        !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(addr) ||
        addr.length > 253
      ) {
        errors.push(`${at('SYSLOGADDR')}: bad SYSLOGADDR ${JSON.stringify(addr)} (an IPv4 address or a host name)`);
        ok = false;
      } else if (/^[0-9.]+$/.test(addr)) {
        errors.push(`${at('SYSLOGADDR')}: bad SYSLOGADDR ${JSON.stringify(addr)} (not a valid IPv4 address)`);
        ok = false;
      } else {
        warnings.push(
          `${at('SYSLOGADDR')}: SYSLOGADDR ${JSON.stringify(addr)} is a host name: the init script resolves it once, at start, with 'host' (IPv4 only)`,
        );
      }
    }
    if (ok) {
      explicit.push('remoteIp');
      const t: NetconsoleTarget = {
        source,
        line: lines.SYSLOGADDR!,
        extended: false,
        release: false,
        localPort,
        remotePort,
        remoteIp: fam === 0 ? addr : addr.toLowerCase(),
        explicit,
      };
      if (dev !== undefined) t.dev = dev;
      if (remoteMac !== undefined) t.remoteMac = remoteMac;
      targets.push(t);
    }
  }
  return { targets, assignments, lines, errors, warnings };
}

/** Writes a target as a sysconfig file (for round-trip tests and for fixes the user can paste). */
export function formatSysconfigNetconsole(t: NetconsoleTarget): string {
  const out: string[] = [];
  if (t.explicit.includes('localPort')) out.push(`LOCALPORT=${t.localPort}`);
  if (t.dev !== undefined && t.explicit.includes('dev')) out.push(`DEV=${t.dev}`);
  out.push(`SYSLOGADDR=${t.remoteIp}`);
  if (t.explicit.includes('remotePort')) out.push(`SYSLOGPORT=${t.remotePort}`);
  if (t.remoteMac !== undefined && t.explicit.includes('remoteMac')) out.push(`SYSLOGMACADDR=${t.remoteMac}`);
  return out.join('\n') + '\n';
}
