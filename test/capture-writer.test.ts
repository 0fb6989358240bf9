/**
 * The capture writer: files it writes are read back by tcpdump (libpcap), tshark and netdiag's
 * own reader with the same packets and timestamps; a file is whole at every flush, before close.
 * Packets here are SYNTHESISED with test/helpers/frames.ts.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readCaptureFile } from '../src/capture/file-source.js';
import { nanosecondsHighLow } from '../src/capture/format.js';
import { formatForPath, openCaptureWriter } from '../src/capture/pcap-writer.js';
import { udpFrame } from './helpers/frames.js';
import { haveCommand, requiring } from './helpers/prereq.js';
import { RecordingSink } from './helpers/synth-capture.js';

function tmp(t: { teardown(f: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-writer-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Synthesised: three datagrams with timestamps that exercise the sub-second part.
const frames = [
  {
    frame: udpFrame({
      srcIp: '10.99.1.1',
      dstIp: '10.99.1.2',
      srcPort: 6665,
      dstPort: 6666,
      payload: '6,1,100,-;first\n',
    }),
    sec: 1700000000,
    nsec: 0,
  },
  {
    frame: udpFrame({
      srcIp: '10.99.1.1',
      dstIp: '10.99.1.2',
      srcPort: 6665,
      dstPort: 6666,
      payload: '6,2,200,-;second\n',
    }),
    sec: 1700000000,
    nsec: 999_999_999,
  },
  {
    frame: udpFrame({ srcIp: '10.99.1.1', dstIp: '10.99.1.2', srcPort: 6665, dstPort: 514, payload: 'x'.repeat(1401) }),
    sec: 1800000001,
    nsec: 123_456_789,
  },
];

function writeAll(file: string, opts: { bufferBytes?: number; close?: boolean } = {}) {
  const w = openCaptureWriter(file, {
    linkType: 1,
    iface: 'veth1',
    ...(opts.bufferBytes ? { bufferBytes: opts.bufferBytes } : {}),
  });
  // Each frame at a non-zero offset in a bigger buffer, as live sources hand them.
  for (const f of frames) {
    const big = Buffer.concat([Buffer.alloc(7, 0xee), f.frame, Buffer.alloc(5, 0xee)]);
    w.packet(big, 7, f.frame.length, f.frame.length, f.sec, f.nsec, 1);
  }
  if (opts.close !== false) w.close();
  return w;
}

test('nanosecondsHighLow is exact (compared with BigInt arithmetic)', t => {
  const cases: Array<[number, number]> = [
    [0, 0],
    [0, 999_999_999],
    [1, 0],
    [4, 294_967_295],
    [4, 294_967_296],
    [1700000000, 1],
    [1800000001, 123_456_789],
    [4102444800, 999_999_999],
    [2 ** 32 - 1, 999_999_999],
  ];
  for (const [sec, nsec] of cases) {
    const want = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
    const [hi, lo] = nanosecondsHighLow(sec, nsec);
    t.is((BigInt(hi) << 32n) + BigInt(lo), want, `${sec}.${nsec}`);
    t.true(lo >= 0 && lo < 2 ** 32 && Number.isInteger(lo));
  }
});

test('format follows the file name', t => {
  const cases: Array<[string, 'pcap' | 'pcapng']> = [
    ['x.pcapng', 'pcapng'],
    ['X.PCAPNG', 'pcapng'],
    ['x.pcap', 'pcap'],
    ['x', 'pcap'],
    ['x.pcapng.gz', 'pcap'],
  ];
  for (const [p, want] of cases) t.is(formatForPath(p), want, p);
});

for (const ext of ['pcap', 'pcapng'] as const) {
  test(`${ext}: netdiag's reader gets the same packets and timestamps`, async t => {
    const file = path.join(tmp(t), `w.${ext}`);
    writeAll(file);
    const sink = new RecordingSink();
    const summary = await readCaptureFile(file, sink);
    t.is(summary.format, ext);
    t.false(summary.truncated);
    t.deepEqual(sink.violations, []);
    t.is(sink.got.length, frames.length);
    frames.forEach((f, i) => {
      const g = sink.got[i]!;
      t.is(g.hex, f.frame.toString('hex'));
      t.is(g.linkType, 1);
      t.is(g.sec, f.sec);
      // Classic pcap keeps microseconds, pcapng (if_tsresol 9) nanoseconds.
      t.is(g.nsec, ext === 'pcap' ? Math.floor(f.nsec / 1000) * 1000 : f.nsec);
    });
  });

  requiring([[haveCommand('tcpdump'), 'tcpdump']])(`${ext}: tcpdump reads it whole, with the same times`, t => {
    const file = path.join(tmp(t), `w.${ext}`);
    writeAll(file);
    const r = spawnSync('tcpdump', ['-r', file, '-n', '-tt', '--nano'], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    });
    t.is(r.status, 0, r.stderr);
    t.notRegex(r.stderr, /truncated|error/i);
    const lines = r.stdout.trim().split('\n');
    t.is(lines.length, 3);
    const nano = (f: (typeof frames)[number]) =>
      `${f.sec}.${String(ext === 'pcap' ? Math.floor(f.nsec / 1000) * 1000 : f.nsec).padStart(9, '0')}`;
    t.true(lines[0]!.startsWith(`${nano(frames[0]!)} IP 10.99.1.1.6665 > 10.99.1.2.6666: UDP, length 16`), lines[0]);
    t.true(lines[1]!.startsWith(`${nano(frames[1]!)} IP 10.99.1.1.6665 > 10.99.1.2.6666: UDP, length 17`), lines[1]);
    t.true(lines[2]!.startsWith(`${nano(frames[2]!)} IP 10.99.1.1.6665 > 10.99.1.2.514: `), lines[2]);
  });

  requiring([[haveCommand('tshark'), 'tshark']])(
    `${ext}: tshark reads it: lengths, ports, nanoseconds and interface name`,
    t => {
      const file = path.join(tmp(t), `w.${ext}`);
      writeAll(file);
      const r = spawnSync(
        'tshark',
        [
          '-r',
          file,
          '-T',
          'fields',
          '-e',
          'frame.len',
          '-e',
          'frame.time_epoch',
          '-e',
          'udp.dstport',
          '-e',
          'frame.interface_name',
        ],
        { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', HOME: tmpdir() } },
      );
      t.is(r.status, 0, r.stderr);
      const rows = r.stdout
        .trim()
        .split('\n')
        .map(l => l.split('\t'));
      t.deepEqual(
        rows.map(r => Number(r[0])),
        frames.map(f => f.frame.length),
      );
      t.deepEqual(
        rows.map(r => r[2]),
        ['6666', '6666', '514'],
      );
      if (ext === 'pcapng') {
        t.is(rows[2]![1], '1800000001.123456789');
        t.is(rows[0]![3], 'veth1');
      }
    },
  );
}

test('whole at every flush: before close, the file holds whole records only', async t => {
  const file = path.join(tmp(t), 'open.pcap');
  // The smallest buffer (64 KiB + 64) fills after 45 of these 1,459-byte frames and is flushed
  // then, records whole; the rest wait in memory until flush().
  const w = openCaptureWriter(file, { linkType: 1, bufferBytes: 1 });
  const f = frames[2]!.frame;
  for (let i = 0; i < 60; i++) w.packet(f, 0, f.length, f.length, 1800000000 + i, 0, 1);
  let sink = new RecordingSink();
  let summary = await readCaptureFile(file, sink);
  t.false(summary.truncated, summary.truncation);
  t.is(sink.got.length, Math.floor((65536 + 64) / (16 + f.length)));
  w.flush();
  sink = new RecordingSink();
  summary = await readCaptureFile(file, sink);
  t.false(summary.truncated);
  t.is(sink.got.length, 60);
  t.deepEqual(
    sink.got.map(g => g.sec),
    Array.from({ length: 60 }, (_, i) => 1800000000 + i),
  );
  w.close();
  w.close();
  t.is(statSync(file).size, 24 + 60 * (16 + f.length));
});

test('the periodic flush writes buffered packets without close', async t => {
  const file = path.join(tmp(t), 'timer.pcapng');
  const w = openCaptureWriter(file, { linkType: 1, flushIntervalMs: 50 });
  w.packet(frames[0]!.frame, 0, frames[0]!.frame.length, frames[0]!.frame.length, 1, 2, 1);
  const before = readFileSync(file).length;
  await new Promise(r => setTimeout(r, 200));
  const after = readFileSync(file).length;
  w.close();
  t.true(after > before, `${before} -> ${after}`);
  const sink = new RecordingSink();
  await readCaptureFile(file, sink);
  t.is(sink.got.length, 1);
});

test('a write error (disk full) is reported, not thrown from the timer; the file descriptor is closed', async t => {
  let writes = 0;
  let closed = 0;
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const fs = {
    openSync: () => 42,
    writeSync: (_fd: number, _b: unknown, _o?: unknown, len?: unknown) => {
      if (++writes > 1) throw enospc; // the header fits, nothing after it
      return len as number;
    },
    closeSync: () => {
      closed++;
    },
  } as never;
  const errors: string[] = [];
  const w = openCaptureWriter('x.pcap', { linkType: 1, fs, flushIntervalMs: 20, onError: e => errors.push(e.code!) });
  const f = frames[0]!.frame;
  w.packet(f, 0, f.length, f.length, 1, 0, 1);
  await new Promise(r => setTimeout(r, 100));
  t.deepEqual(errors, ['ENOSPC'], 'reported once');
  t.throws(() => w.packet(f, 0, f.length, f.length, 1, 0, 1), { message: /ENOSPC/ });
  t.throws(() => w.close(), { message: /ENOSPC/ });
  t.is(closed, 1);
  t.notThrows(() => w.close(), 'second close does nothing');
});
