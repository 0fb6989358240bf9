/**
 * The two buffers between cap and the user: PacketQueue (packets waiting to be decoded) and
 * AsyncFdWriter (output waiting to be written). Failures first, then order and content.
 */
import test from 'ava';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PacketQueue } from '../src/capture/packet-queue.js';
import { AsyncFdWriter } from '../src/ui/async-output.js';
import { RecordingSink } from './helpers/synth-capture.js';

function packetOf(i: number, size: number): Buffer {
  const b = Buffer.alloc(size, i & 0xff);
  b.writeUInt32BE(i, 0);
  return b;
}

test('PacketQueue: a full queue drops and counts, and takes packets again once drained', t => {
  const sink = new RecordingSink();
  const turns: Array<() => void> = [];
  const q = new PacketQueue(sink, { maxBytes: 1 << 20, schedule: f => turns.push(f) });
  // 1 MiB holds 699 packets of 1500 bytes; the rest are refused.
  for (let i = 0; i < 1000; i++) q.packet(packetOf(i, 1500), 0, 1500, 1500, i, 0, 1);
  t.is(q.length, 699);
  t.is(q.dropped, 301);
  t.is(q.peak, 699);
  t.is(turns.length, 1, 'one turn scheduled, not one per packet');
  t.is(q.drain(), 699);
  t.is(q.length, 0);
  q.packet(packetOf(5000, 60), 0, 60, 60, 1, 2, 1);
  t.is(q.length, 1);
  t.is(q.dropped, 301);
});

test('PacketQueue: bytes, lengths and times come out in order, across pages, in chunks per turn', t => {
  const sink = new RecordingSink();
  const turns: Array<() => void> = [];
  const q = new PacketQueue(sink, { chunk: 100, schedule: f => turns.push(f) });
  const sizes = [42, 1514, 60, 9000, 1];
  const n = 3000; // about 4.4 MB: several pages
  const big = Buffer.alloc(70000, 0xee);
  for (let i = 0; i < n; i++) {
    const p = packetOf(i, Math.max(4, sizes[i % sizes.length]!));
    p.copy(big, 17); // at an offset inside a reused buffer, as cap hands them
    q.packet(big, 17, p.length, p.length + (i % 2), 1_700_000_000 + i, i * 7, i % 3 === 0 ? 1 : 113);
    big.fill(0xee, 17, 17 + p.length); // the source reuses its buffer: the queue must have copied
  }
  let rounds = 0;
  while (turns.length) {
    turns.shift()!();
    rounds++;
    t.true(sink.got.length <= rounds * 100);
  }
  t.is(rounds, n / 100);
  t.deepEqual(sink.violations, []);
  t.is(sink.got.length, n);
  for (let i = 0; i < n; i++) {
    const g = sink.got[i]!;
    const want = packetOf(i, Math.max(4, sizes[i % sizes.length]!));
    if (
      g.hex !== want.toString('hex') ||
      g.origlen !== want.length + (i % 2) ||
      g.sec !== 1_700_000_000 + i ||
      g.nsec !== i * 7 ||
      g.linkType !== (i % 3 === 0 ? 1 : 113)
    ) {
      t.fail(`packet ${i} differs`);
      return;
    }
  }
  t.pass();
});

test('AsyncFdWriter: EPIPE stops output, reports once, and drained() still resolves', async t => {
  const calls: number[] = [];
  const fs = {
    write: (
      _fd: number,
      _b: Buffer,
      _o: number,
      len: number,
      _p: null,
      cb: (e: NodeJS.ErrnoException | null, n: number) => void,
    ) => {
      calls.push(len);
      setImmediate(() => cb(Object.assign(new Error('EPIPE'), { code: 'EPIPE' }), 0));
    },
  } as never;
  const errors: string[] = [];
  const w = new AsyncFdWriter(1, { onError: e => errors.push(e.code!) }, fs);
  w.write('one\n');
  w.write('two\n');
  await w.drained();
  t.deepEqual(errors, ['EPIPE']);
  w.write('three\n');
  await w.drained();
  t.is(calls.length, 1, 'nothing written after the reader went away');
});

test('AsyncFdWriter: EAGAIN and partial writes are retried; order kept; before/after around each write', async t => {
  const out: Buffer[] = [];
  let first = true;
  const events: string[] = [];
  const fs = {
    write: (
      _fd: number,
      b: Buffer,
      o: number,
      len: number,
      _p: null,
      cb: (e: NodeJS.ErrnoException | null, n: number) => void,
    ) => {
      if (first) {
        first = false;
        setImmediate(() => cb(Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' }), 0));
        return;
      }
      const n = Math.min(len, 2); // a terminal that takes 2 bytes at a time (é is cut in half)
      out.push(Buffer.from(b.subarray(o, o + n)));
      setImmediate(() => cb(null, n));
    },
  } as never;
  const w = new AsyncFdWriter(1, { before: () => events.push('before'), after: () => events.push('after') }, fs);
  w.write('hé llo ');
  w.write('world\n');
  t.true(w.busy);
  w.write('again\n');
  await w.drained();
  t.is(Buffer.concat(out).toString('utf8'), 'hé llo world\nagain\n');
  t.false(w.busy);
  t.is(w.writableLength, 0);
  t.deepEqual(
    events.filter((e, i) => events[i - 1] !== e),
    ['before', 'after', 'before', 'after'],
  );
});

test('AsyncFdWriter: a real file gets every line in order', async t => {
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-out-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'out.txt');
  const fd = openSync(file, 'w');
  const w = new AsyncFdWriter(fd);
  let want = '';
  for (let i = 0; i < 20000; i++) {
    const line = `line ${i} ${'x'.repeat(i % 50)}\n`;
    want += line;
    w.write(line);
  }
  await w.drained();
  closeSync(fd);
  t.is(readFileSync(file, 'utf8'), want);
});
