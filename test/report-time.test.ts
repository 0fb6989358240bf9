import test from 'ava';
import { clockTime, isoTime, printkTime } from '../src/report/time.js';

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
