/**
 * The buffer between sniff's report and the user: AsyncFdWriter (output waiting to be written).
 * Failures first, then order and content. (Packets waiting to be decoded wait in the capture
 * process: sniff-drops.e2e.)
 */
import test from 'ava';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AsyncFdWriter } from '../src/ui/async-output.js';

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
