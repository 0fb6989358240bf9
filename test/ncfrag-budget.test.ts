/**
 * NcfragBudget keeps the bodies of ncfrag messages handed on for the next ones
 * (src/pipeline/ncfrag.ts): what it hands out is zeroed and never more than a quarter larger
 * than asked, and messages reassembled in a row into reused bodies come out whole, each with its
 * own bytes (a shorter one after a longer one, an incomplete one after a whole one).
 */
import test from 'ava';
import type { ExtendedHeader } from '../src/decode/netconsole.js';
import { NcfragBudget, NcfragReassembly } from '../src/pipeline/ncfrag.js';

test('take: zeroed, a spare only when at most a quarter larger, the larger spares kept', t => {
  const budget = new NcfragBudget();
  const a = budget.take(3000);
  t.is(a.length, 3000);
  a.fill(0x41);
  budget.give(a);
  t.not(budget.take(2000), a, 'a spare 1.5 times larger is not used');
  const b = budget.take(2500);
  t.is(b, a, 'a spare 1.2 times larger is used');
  t.true(
    b.subarray(0, 2500).every(x => x === 0),
    'zeroed as far as asked',
  );
  t.not(budget.take(3001), a, 'a smaller spare is not used');
  // at most 8 spares; a ninth larger one takes the smallest one's place
  for (let n = 1000; n <= 8000; n += 1000) budget.give(Buffer.alloc(n));
  const big = Buffer.alloc(9000);
  budget.give(big);
  t.is(budget.take(1000).length, 1000, 'the 1000-byte spare was dropped for the larger one');
  t.is(budget.take(8500), big);
});

function header(seq: number, offset: number, total: number): ExtendedHeader {
  return { facility: 0, level: 6, seq, usec: seq, flags: '-', frag: { offset, total } };
}

test('messages reassembled in a row into reused bodies: each its own bytes, whole or incomplete', t => {
  const got: Array<[string, boolean]> = [];
  const r = new NcfragReassembly(new NcfragBudget(), (_h, body, end, _time, _packets, _pieces, incomplete) =>
    got.push([Buffer.from(body.subarray(0, end)).toString('latin1'), incomplete]),
  );
  const texts = ['a'.repeat(2400), 'b'.repeat(2000), 'c'.repeat(2300), 'd'.repeat(1950)];
  let no = 1;
  for (const [seq, text] of texts.entries()) {
    const body = Buffer.from(text);
    // pieces of 1000 bytes, the last first
    const offs = [];
    for (let o = 0; o < body.length; o += 1000) offs.push(o);
    for (const o of offs.reverse())
      r.add(header(seq, o, body.length), body, o, Math.min(body.length, o + 1000), { sec: 1, nsec: 0 }, no++);
  }
  // one whose middle piece never comes: given up at the end with what arrived
  const e = Buffer.from('e'.repeat(1000) + 'f'.repeat(1000) + 'g'.repeat(100));
  r.add(header(9, 0, e.length), e, 0, 1000, { sec: 1, nsec: 0 }, no++);
  r.add(header(9, 2000, e.length), e, 2000, 2100, { sec: 1, nsec: 0 }, no);
  r.flush();
  t.deepEqual(got, [...texts.map(s => [s, false] as [string, boolean]), ['e'.repeat(1000) + 'g'.repeat(100), true]]);
});
