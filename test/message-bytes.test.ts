/**
 * plainTextKind (src/pipeline/message-bytes.ts), which decides whether a message's text goes on
 * as its bytes, reads four bytes at a time: it answers what a byte-by-byte reading answers for
 * every byte value at every place in a word, at every alignment, inside a bigger buffer.
 */
import test from 'ava';
import { decodeExtendedBody } from '../src/decode/netconsole-body.js';
import { plainDictionaryEnd, plainTextKind } from '../src/pipeline/message-bytes.js';

function oneByOne(buf: Uint8Array, off: number, end: number): number {
  let quote = 0;
  for (let i = off; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return -1;
    if (c === 0x22) quote = 1;
  }
  return quote;
}

test('every byte value, at every place of texts of 1 to 13 bytes, at offsets 0 to 4', t => {
  // A shared pool's Buffer (byteOffset > 0) and a plain Uint8Array.
  const pooled = Buffer.from('x'.repeat(64));
  const plain = new Uint8Array(64);
  let checked = 0;
  const wrong: string[] = [];
  for (const buf of [pooled, plain]) {
    for (let len = 1; len <= 13; len++) {
      for (let off = 0; off <= 4; off++) {
        for (let at = 0; at < len; at++) {
          for (let b = 0; b < 256; b++) {
            buf.fill(0x61); // 'a'
            buf[off + len] = 0x01; // a bad byte just past the end must not count
            buf[off + at] = b;
            const want = oneByOne(buf, off, off + len);
            const got = plainTextKind(buf, off, off + len);
            checked++;
            if (got !== want && wrong.length < 5) wrong.push(`byte ${b} at ${at} of ${len} at offset ${off}: ${got}`);
          }
        }
      }
    }
  }
  t.deepEqual(wrong, []);
  t.is(checked, 2 * 91 * 5 * 256);
});

test('two odd bytes in one word, a quote and a bad byte: the bad one wins', t => {
  const buf = Buffer.from('abcd"efg\\hij');
  t.is(plainTextKind(buf, 0, 4), 0);
  t.is(plainTextKind(buf, 0, 8), 1);
  t.is(plainTextKind(buf, 0, 12), -1);
  t.is(plainTextKind(Buffer.from('ab\x7f"'), 0, 4), -1);
  t.is(plainTextKind(Buffer.from('ab\xff"', 'latin1'), 0, 4), -1);
  t.is(plainTextKind(Buffer.from('~ ~ '), 0, 4), 0);
});

test('plainDictionaryEnd: refused lines first, then dictionaries decodeExtendedBody makes into dict alone, in order', t => {
  const cases: Array<[string, string, Record<string, string> | undefined]> = [
    ['empty line', '\n', undefined],
    ['no leading space', 'SUBSYSTEM=a\n', undefined],
    ['another key', ' role=db\n', undefined],
    ['a key that only begins like one', ' SUBSYSTEMS=a\n', undefined],
    ['no =', ' DEVICE\n', undefined],
    ['repeated key', ' SUBSYSTEM=a\n SUBSYSTEM=b\n', undefined],
    ['space in the value', ' SUBSYSTEM=a b\n', undefined],
    ['quote in the value', ' SUBSYSTEM=a"b\n', undefined],
    ['escape in the value', ' SUBSYSTEM=a\\x41\n', undefined],
    ['control byte', ' SUBSYSTEM=a\x01\n', undefined],
    ['DEL', ' SUBSYSTEM=a\x7f\n', undefined],
    ['UTF-8', ' SUBSYSTEM=caf\xc3\xa9\n', undefined],
    ['sysdata after', ' SUBSYSTEM=a\n cpu=1\n', undefined],
    ['an empty line after', ' SUBSYSTEM=a\n\n', undefined],
    ['one line', ' SUBSYSTEM=bench\n', { SUBSYSTEM: 'bench' }],
    ['no final newline', ' SUBSYSTEM=bench', { SUBSYSTEM: 'bench' }],
    ['both keys', ' SUBSYSTEM=usb\n DEVICE=+usb:1-1\n', { SUBSYSTEM: 'usb', DEVICE: '+usb:1-1' }],
    ['DEVICE first', ' DEVICE=c1:2\n SUBSYSTEM=tty\n', { DEVICE: 'c1:2', SUBSYSTEM: 'tty' }],
    ['empty value', ' SUBSYSTEM=\n', { SUBSYSTEM: '' }],
    ['= in the value', ' DEVICE=a=b\n', { DEVICE: 'a=b' }],
  ];
  for (const [name, lines, dict] of cases) {
    // inside a bigger buffer, after a text
    const buf = Buffer.from(`pad;text\n${lines}`, 'latin1');
    const from = 'pad;text\n'.length;
    const end = plainDictionaryEnd(buf, from, buf.length);
    if (dict === undefined) {
      t.is(end, -1, name);
      continue;
    }
    t.is(end, lines.endsWith('\n') ? buf.length - 1 : buf.length, name);
    const body = decodeExtendedBody(buf.subarray(4));
    t.deepEqual({ ...body.dict }, dict, name);
    t.deepEqual(Object.keys(body.dict ?? {}), Object.keys(dict), name);
    t.is(body.userdata, undefined, name);
    t.is(body.sysdata, undefined, name);
    t.is(body.lines, undefined, name);
  }
});
