import test from 'ava';
import path from 'node:path';
import { clockTime, isoTime, offsetText, printkTime, TextTime } from '../src/report/time.js';
import { projectRoot, runCli } from './helpers/cli.js';

test('times beyond what a date can hold are shown as seconds, never thrown (a damaged capture)', t => {
  t.is(isoTime({ sec: 1e13, nsec: 0 }), '@10000000000000.000000Z');
  t.is(clockTime({ sec: -1e13, nsec: 5000 }), '@-10000000000000.000005');
});

test('ISO time in UTC with micro or nanoseconds; printk time as dmesg', t => {
  t.is(isoTime({ sec: 1_764_000_000, nsec: 250_000 }), '2025-11-24T16:00:00.000250Z');
  t.is(isoTime({ sec: 1_764_000_000, nsec: 250_001 }), '2025-11-24T16:00:00.000250001Z');
  t.is(printkTime(45_287_505), '[   45.287505]');
  t.is(printkTime(123_456_000_001), '[123456.000001]');
});

test('offsets as ±hh:mm; the text clock in UTC or local; spans with the date', t => {
  t.is(offsetText(60), '+01:00');
  t.is(offsetText(-330), '-05:30');
  t.is(offsetText(0), '+00:00');
  const utc = new TextTime(true);
  t.is(utc.clockTime({ sec: 1_764_000_000, nsec: 250_000 }), '16:00:00.000250');
  t.is(utc.dateTime({ sec: 1_764_000_000, nsec: 1 }), '2025-11-24 16:00:00.000000001');
  t.is(utc.dateTime({ sec: 1e13, nsec: 0 }), '@10000000000000.000000');
  t.is(utc.zone(0), 'UTC (+00:00)');
});

// The capture's one message was sent at 2026-11-24 13:39:09.378951 UTC (winter in both zones).
const sysrq = path.join(projectRoot, 'fixtures/real/linux-6.1.0-56-amd64-extended-sysrq-p.pcap');

test('text times follow TZ as tcpdump does, the zone named once at the top; --utc and -u print UTC', t => {
  const cases: Array<[string, string[], string, string]> = [
    ['Europe/Berlin', [], 'CET (+01:00)', '14:39:09.378951'],
    ['America/New_York', [], 'EST (-05:00)', '08:39:09.378951'],
    ['Asia/Kolkata', [], '(+05:30)', '19:09:09.378951'],
    ['UTC', [], 'UTC (+00:00)', '13:39:09.378951'],
    ['Europe/Berlin', ['--utc'], 'UTC (+00:00)', '13:39:09.378951'],
    ['America/New_York', ['-u'], 'UTC (+00:00)', '13:39:09.378951'],
  ];
  for (const [tz, args, zone, clock] of cases) {
    const r = runCli(['analyze', ...args, sysrq], { env: { TZ: tz } });
    t.is(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    t.true(lines[0]!.startsWith('times in ') && lines[0]!.endsWith(zone), `${tz} ${args.join(' ')}: ${lines[0]}`);
    t.is(lines.filter(l => l.startsWith('times in ')).length, 1);
    t.true(lines[1]!.startsWith(`${clock} 10.99.0.2:6665 info `), lines[1]);
    t.true(r.stdout.includes(`2026-11-24 ${clock} .. 2026-11-24 ${clock}`), 'the span has the full date at both ends');
  }
});

test('JSON times are ISO 8601 UTC whatever TZ is', t => {
  const a = runCli(['analyze', '--json', sysrq], { env: { TZ: 'Asia/Kolkata' } });
  const b = runCli(['analyze', '--json', sysrq], { env: { TZ: 'UTC' } });
  t.is(a.stdout, b.stdout);
  t.regex(a.stdout, /"time":"2026-11-24T13:39:09\.378951Z"/);
});
