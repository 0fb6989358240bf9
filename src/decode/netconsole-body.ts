/**
 * The body of a netconsole record, after its header (netconsole.ts): an extended body's text and
 * its ` KEY=value` lines (dictionary, userdata, sysdata), the kernel's `\xNN` escaping both ways,
 * and a plain record's repeated printk stamps. Pure.
 */
const NL = 0x0a,
  SPACE = 0x20;

/**
 * An extended body's parts: the text, then ` KEY=value` lines which are, in the kernel's order,
 * the record's dictionary (printk's `SUBSYSTEM=`, `DEVICE=`), the target's userdata (configfs
 * `userdata/<key>/value`, 6.9 and later) and its sysdata (`cpu`, `taskname`, `release`, `msgid`,
 * 6.14 and later, always last and in that order). The wire does not mark where one part ends, so:
 * the dictionary is the leading run of SUBSYSTEM and DEVICE; sysdata is the trailing run of its
 * keys in their order, each once, with a value of its kind (digits for cpu and msgid); userdata is
 * what lies between. A key repeated inside one part (no kernel sends that) keeps its first value,
 * and then every line is also kept in `lines`, so nothing is lost.
 */
export interface ExtendedBody {
  text: string;
  dict?: Record<string, string>;
  userdata?: Record<string, string>;
  sysdata?: Record<string, string>;
  /** Every ` KEY=value` line in order, only when a key repeated inside one part. */
  lines?: string[];
  escaped: boolean;
}

const DICT_KEYS = new Set(['SUBSYSTEM', 'DEVICE']);
/** Sysdata keys in the order netconsole appends them, and what each value looks like. */
const SYSDATA: ReadonlyArray<[string, RegExp]> = [
  ['cpu', /^\d{1,6}$/],
  ['taskname', /^.{0,15}$/],
  ['release', /^[\w.+~-]{1,64}$/],
  ['msgid', /^\d{1,20}$/],
];

/** The text, dictionary, userdata and sysdata of an extended body (`text\n KEY=value\n...`), `\xNN` decoded. */
export function decodeExtendedBody(body: Uint8Array): ExtendedBody {
  let nl = body.indexOf(NL);
  if (nl < 0) nl = body.length;
  const escaped = body.indexOf(0x5c) >= 0;
  // Most records: no escape, nothing after the text's newline.
  const text = escaped ? unescapeKernel(body, 0, nl) : Buffer.from(body.buffer, body.byteOffset, nl).toString('utf8');
  if (nl + 1 >= body.length) return { text, escaped };
  const pairs: Array<[string, string]> = [];
  let p = nl + 1;
  while (p < body.length) {
    let e = body.indexOf(NL, p);
    if (e < 0) e = body.length;
    if (body[p] === SPACE) {
      const line = unescapeKernel(body, p + 1, e);
      const eq = line.indexOf('=');
      if (eq > 0) pairs.push([line.slice(0, eq), line.slice(eq + 1)]);
    }
    p = e + 1;
  }
  if (pairs.length === 0) return { text, escaped };
  // The dictionary: the leading SUBSYSTEM/DEVICE lines.
  let d = 0;
  const seen = new Set<string>();
  while (d < pairs.length && DICT_KEYS.has(pairs[d]![0]) && !seen.has(pairs[d]![0])) seen.add(pairs[d++]![0]);
  // Sysdata: from the end, keys in strictly falling order of SYSDATA, values of their kind.
  let s = pairs.length;
  let below = SYSDATA.length;
  while (s > d) {
    const [k, v] = pairs[s - 1]!;
    const i = SYSDATA.findIndex(([key]) => key === k);
    if (i < 0 || i >= below || !SYSDATA[i]![1].test(v)) break;
    below = i;
    s--;
  }
  const out: ExtendedBody = { text, escaped };
  let repeated = false;
  const part = (from: number, to: number): Record<string, string> | undefined => {
    if (from >= to) return undefined;
    const o = Object.create(null) as Record<string, string>;
    for (let i = from; i < to; i++) {
      const [k, v] = pairs[i]!;
      if (k in o) repeated = true;
      else o[k] = v;
    }
    return o;
  };
  const dict = part(0, d),
    userdata = part(d, s),
    sysdata = part(s, pairs.length);
  if (dict) out.dict = dict;
  if (userdata) out.userdata = userdata;
  if (sysdata) out.sysdata = sysdata;
  if (repeated) out.lines = pairs.map(([k, v]) => `${k}=${v}`);
  return out;
}

/**
 * A plain record of several lines repeats printk's time stamp before each continuation line
 * (`[   29.268853] first\n[   29.268853] second`): that stamp is the format's, not the text's.
 * Returns `text` without it; `printkUsec` is the record's time (from its first line).
 */
export function stripContinuationStamps(text: string, printkUsec: number): string {
  if (!text.includes('\n[')) return text;
  const sec = Math.floor(printkUsec / 1e6);
  const stamp = `\n[${String(sec).padStart(5, ' ')}.${String(printkUsec - sec * 1e6).padStart(6, '0')}] `;
  return text.split(stamp).join('\n');
}

const fromHex = (c: number) =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;

/** Decodes the kernel's `\xNN` escapes and then UTF-8 (invalid sequences become U+FFFD). */
export function unescapeKernel(buf: Uint8Array, start: number, end: number): string {
  const src = Buffer.from(buf.buffer, buf.byteOffset + start, end - start);
  if (src.indexOf(0x5c) < 0) return src.toString('utf8');
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === 0x5c && i + 3 < src.length + 0 && src[i + 1] === 0x78) {
      const h = fromHex(src[i + 2]!),
        l = fromHex(src[i + 3]!);
      if (h >= 0 && l >= 0) {
        out[n++] = (h << 4) | l;
        i += 3;
        continue;
      }
    }
    out[n++] = c;
  }
  return out.toString('utf8', 0, n);
}

/** The kernel's escaping of extended text: bytes < 0x20 (but not in dictionary separators), >= 0x7f, and `\`. */
export function escapeKernel(bytes: Uint8Array): string {
  let s = '';
  for (const c of bytes) {
    s += c < 0x20 || c >= 0x7f || c === 0x5c ? `\\x${c.toString(16).padStart(2, '0')}` : String.fromCharCode(c);
  }
  return s;
}
