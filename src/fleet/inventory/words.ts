/**
 * The small lexical pieces Ansible's inventory formats share: shell-style word splitting (as
 * Python's shlex in POSIX mode, which the INI format and `ansible_ssh_common_args` use), a quoted
 * Python string literal, and host ranges (`web[01:20]`, `db-[a:c]`). Pure.
 */

/**
 * Splits a line into words as a POSIX shell would (quotes, backslashes; `#` starts a comment when
 * asked). Throws a message on an open quote.
 */
export function splitWords(line: string, comments = false): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error('no closing quotation');
      word += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1]!)) j++;
        word += line[j];
      }
      if (j >= line.length) throw new Error('no closing quotation');
      i = j;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new Error('no escaped character');
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '#' && comments && !inWord) {
      break;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** A value as Ansible's INI reader keeps it: a whole quoted string loses its quotes, anything else stays as written. */
export function unquoteValue(v: string): string {
  const s = v.trim();
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s.at(-1) === s[0]) {
    const inner = s.slice(1, -1);
    if (!inner.includes(s[0])) return inner.replace(/\\(.)/g, '$1');
  }
  return s;
}

/** At most this many host names from one line's ranges: `web[0:99999999]` is a mistake, not a fleet. */
const MAX_RANGE_HOSTS = 100_000;

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * Expands the host ranges in a name, left to right: `web[01:03]` → web01 web02 web03,
 * `[a:c].example` → a.example b.example c.example, `[0:10:5]` with a stride. A begin with a leading
 * zero fixes the width (and the end must have the same width), as in Ansible. Throws a message.
 */
export function expandHostRange(name: string, limit = MAX_RANGE_HOSTS): string[] {
  const open = name.indexOf('[');
  if (open < 0) {
    if (name.includes(']')) throw new Error(`unbalanced ']' in host name '${name}'`);
    return [name];
  }
  const close = name.indexOf(']', open);
  if (close < 0) throw new Error(`unbalanced '[' in host name '${name}'`);
  const head = name.slice(0, open),
    tail = name.slice(close + 1);
  const bounds = name.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3)
    throw new Error(`host range '[${bounds.join(':')}]' is not [begin:end] or [begin:end:step]`);
  const beg = bounds[0] || '0',
    end = bounds[1]!;
  const stepText = bounds[2] ?? '1';
  if (!end) throw new Error(`host range '[${bounds.join(':')}]' has no end`);
  if (!/^[1-9]\d*$/.test(stepText)) throw new Error(`host range step '${stepText}' is not a positive number`);
  const step = Number(stepText);
  let values: string[];
  if (/^\d+$/.test(beg) && /^\d+$/.test(end)) {
    const width = beg.length > 1 && beg[0] === '0' ? beg.length : 0;
    if (width && end.length !== width)
      throw new Error(`host range '[${beg}:${end}]': a begin with a leading zero needs an end of the same width`);
    const b = Number(beg),
      e = Number(end);
    if (b > e) throw new Error(`host range '[${beg}:${end}]' ends before it begins`);
    if ((e - b) / step + 1 > limit) throw new Error(`host range '[${beg}:${end}]' makes more than ${limit} names`);
    values = [];
    for (let i = b; i <= e; i += step) values.push(width ? String(i).padStart(width, '0') : String(i));
  } else if (/^[a-zA-Z]$/.test(beg) && /^[a-zA-Z]$/.test(end)) {
    const b = LETTERS.indexOf(beg),
      e = LETTERS.indexOf(end);
    if (b > e) throw new Error(`host range '[${beg}:${end}]' ends before it begins`);
    values = [];
    for (let i = b; i <= e; i += step) values.push(LETTERS[i]!);
  } else {
    throw new Error(`host range '[${bounds.join(':')}]' is neither numbers nor single letters`);
  }
  const out: string[] = [];
  for (const v of values) {
    for (const n of expandHostRange(`${head}${v}${tail}`, limit)) {
      out.push(n);
      if (out.length > limit) throw new Error(`host range in '${name}' makes more than ${limit} names`);
    }
  }
  return out;
}

/** A `*`, `?`, `[seq]`, `[!seq]` pattern (Python's fnmatch, case-sensitive) as a RegExp. */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let set = glob.slice(i + 1, end);
      const negate = set[0] === '!';
      if (negate) set = set.slice(1);
      re += `[${negate ? '^' : ''}${set.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}
