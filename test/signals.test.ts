import test from 'ava';
import { EventEmitter } from 'node:events';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { exitCodeFor, stopSignals, watchStopSignals, type SignalTarget } from '../src/ui/signals.js';
import { projectRoot } from './helpers/cli.js';

function fakeProcess() {
  const e = new EventEmitter() as EventEmitter & SignalTarget & { exits: number[] };
  e.exits = [];
  e.exit = (code: number) => void e.exits.push(code);
  return e;
}

test('exit codes: 128 + signal number', t => {
  t.is(exitCodeFor('SIGINT'), 130);
  t.is(exitCodeFor('SIGTERM'), 143);
});

test('a second signal exits at once with its code; the first only asks', async t => {
  for (const [first, second, code] of [
    ['SIGINT', 'SIGINT', 130],
    ['SIGTERM', 'SIGINT', 130],
    ['SIGINT', 'SIGTERM', 143],
  ] as const) {
    const p = fakeProcess();
    const w = watchStopSignals(p);
    t.is(w.received, undefined);
    p.emit(first);
    t.is(await w.stopped, first);
    t.is(w.received, first);
    t.deepEqual(p.exits, []);
    p.emit(second);
    t.deepEqual(p.exits, [code]);
    w.dispose();
    t.is(p.listenerCount('SIGINT') + p.listenerCount('SIGTERM'), 0);
  }
});

test('one watcher per process, however many callers', t => {
  const p = fakeProcess();
  t.is(stopSignals(p), stopSignals(p));
  t.is(p.listenerCount('SIGINT'), 1);
  stopSignals(p).dispose();
});

// The bug this mechanism exists for: signal-exit (loaded by ora's cursor handling) re-raises a
// signal when it finds itself the only listener. A real process, real signals.
test('with signal-exit loaded (as ora loads it), the first SIGINT does not kill the process', t => {
  const signals = path.join(projectRoot, 'dist/src/ui/signals.js');
  const script = `
    import { stopSignals } from ${JSON.stringify(signals)};
    // As in netdiag: our listeners first (cli.ts), ora's signal-exit later (the spinner starts).
    const w = stopSignals();
    const { onExit } = await import('signal-exit');
    onExit(() => {}, { alwaysLast: true });
    w.stopped.then(sig => { process.stdout.write('stopped by ' + sig + '\\n'); process.kill(process.pid, 'SIGINT'); });
    setTimeout(() => process.kill(process.pid, 'SIGINT'), 50);
    setTimeout(() => { process.stdout.write('still running\\n'); process.exit(0); }, 5000);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: projectRoot,
    encoding: 'utf8',
    timeout: 20_000,
  });
  t.is(r.signal, null, 'the process died of the signal');
  t.is(r.stdout, 'stopped by SIGINT\n');
  t.is(r.status, 130, 'the second SIGINT exits with 130');
});
