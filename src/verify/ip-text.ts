/**
 * `ip route get` and `ip neigh show` as iproute2 prints them, written from the JSON of
 * `ip -d -j route get` and `ip -d -j neigh show`: verify asks those in the sender's one `ip`
 * process with the links and addresses (`ip -d -j -batch`, one program start fewer on the
 * sender), while its checks, and the evidence users see, read the plain text. Only what is known
 * to print the same is written: any other field (a nexthop object, route flags, cache details, a
 * neighbour flag not listed here) gives no text at all, and the command is then asked alone. Pure.
 */
import type { BatchAnswers } from '../io/batch-exec.js';

type Json = Record<string, unknown>;

/**
 * One field of a route, in iproute2's text (without -d: a unicast type, the main table, the boot
 * protocol and the global scope are not printed); undefined when not known.
 */
function routeField(key: string, v: unknown): string | undefined {
  const s = typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  switch (key) {
    case 'type':
      return s === 'unicast' ? '' : s && `${s} `;
    case 'dst':
      return s && `${s} `;
    case 'from':
      return s && `from ${s} `;
    case 'gateway':
      return s && `via ${s} `;
    case 'dev':
      return s && `dev ${s} `;
    case 'table':
      return s === 'main' ? '' : s && `table ${s} `;
    case 'protocol':
      return s === 'boot' ? '' : s && `proto ${s} `;
    case 'scope':
      return s === 'global' ? '' : s && `scope ${s} `;
    case 'prefsrc':
      return s && `src ${s} `;
    case 'metric':
      return s && `metric ${s} `;
    case 'uid':
      return s && `uid ${s} `;
    case 'flags':
      return Array.isArray(v) && v.length === 0 ? '' : undefined;
    case 'cache':
      // The cached route's flags, as `    cache <local> ` on a line of its own.
      if (!Array.isArray(v) || v.length > 1 || (v.length === 1 && typeof v[0] !== 'string')) return undefined;
      return `\n    cache ${v.length ? `<${String(v[0])}> ` : ''}`;
    case 'pref':
      return s && `pref ${s}`;
    default:
      return undefined;
  }
}

/** `ip route get` from `ip -d -j route get` (one route), or undefined when any field is not known. */
export function routeGetText(json: string): string | undefined {
  const routes = parse(json);
  if (routes?.length !== 1) return undefined;
  let out = '';
  const keys = Object.keys(routes[0]!);
  for (const [i, key] of keys.entries()) {
    const text = routeField(key, routes[0]![key]);
    // `pref` ends the line without a space: nothing may follow it.
    if (text === undefined || (key === 'pref' && i !== keys.length - 1)) return undefined;
    out += text;
  }
  return `${out}\n`;
}

/** One field of a neighbour entry in iproute2's text; undefined when not known. */
function neighField(key: string, v: unknown): string | undefined {
  const s = typeof v === 'string' ? v : undefined;
  switch (key) {
    case 'dst':
      return s && `${s} `;
    case 'dev':
      return s && `dev ${s} `;
    case 'lladdr':
      return s && `lladdr ${s} `;
    case 'router':
    case 'proxy':
      return v === null ? `${key} ` : undefined;
    case 'state':
      return Array.isArray(v) && v.every(x => typeof x === 'string') ? v.map(x => `${x} `).join('') : undefined;
    default:
      return undefined;
  }
}

/** `ip neigh show` from `ip -d -j neigh show`, or undefined when any field is not known. */
export function neighText(json: string): string | undefined {
  const entries = parse(json);
  if (!entries) return undefined;
  let out = '';
  for (const n of entries) {
    for (const key of Object.keys(n)) {
      const text = neighField(key, n[key]);
      if (text === undefined) return undefined;
      out += text;
    }
    out += '\n';
  }
  return out;
}

function parse(json: string): Json[] | undefined {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) && v.every(x => typeof x === 'object' && x !== null && !Array.isArray(x))
      ? (v as Json[])
      : undefined;
  } catch {
    return undefined;
  }
}

const JSON_IP = 'ip -d -j ';

/**
 * Adds to a batch's answers `ip route get X` and `ip neigh show` written from their
 * `ip -d -j` answers (a failed one as it failed: its error is the same words), unless the answers
 * hold them already or the JSON has what the text cannot be written from.
 */
export function addIpText(answers: BatchAnswers): BatchAnswers {
  for (const [key, a] of [...answers]) {
    if (!key.startsWith(`C ${JSON_IP}`)) continue;
    const cmd = key.slice(2 + JSON_IP.length);
    const plain = `C ip ${cmd}`;
    const render = cmd.startsWith('route get ') ? routeGetText : cmd === 'neigh show' ? neighText : undefined;
    if (!render || answers.has(plain)) continue;
    if (a.code !== 0) {
      const err = answers.get(`S ${JSON_IP}${cmd}`);
      answers.set(plain, a);
      if (err) answers.set(`S ip ${cmd}`, err);
      continue;
    }
    const text = render(a.text);
    if (text !== undefined) answers.set(plain, { text, code: 0 });
  }
  return answers;
}
