/**
 * Ctrl-C (SIGINT) and SIGTERM for every command, in one place.
 *
 * The first signal is a request: `stopped` resolves with its name, and a long-running command
 * (analyze, sniff, verify) stops what it is doing, prints what it has and returns
 * `exitCodeFor(signal)` (130 for SIGINT, 143 for SIGTERM) or its own documented code. A second
 * signal exits at once with that code, whatever the command is doing.
 *
 * Why the listeners stay installed for the life of the process (`process.on`, never `once`):
 * ora hides the cursor through `restore-cursor`, which loads `signal-exit`. signal-exit's own
 * SIGINT listener re-raises the signal with the default action (the process dies of SIGINT,
 * printing nothing) whenever it finds itself the only listener left. A `process.once` handler
 * is removed before it runs, so on the first Ctrl-C with a spinner on screen signal-exit saw
 * itself alone and killed the process. With these listeners always there it never does, and it
 * still restores the cursor when we exit (it wraps process.exit).
 *
 * Usage: `const signals = stopSignals(); await Promise.race([work, signals.stopped])`. The watcher
 * is made once per process (every caller gets the same one), so a command may call it even when
 * the entry point already did.
 */

type StopSignal = 'SIGINT' | 'SIGTERM';

const SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM'];

/** The exit status a shell reports for a process ended by `sig`: 128 + the signal's number. */
export function exitCodeFor(sig: string): number {
  return sig === 'SIGTERM' ? 143 : 130;
}

/** What the watcher needs of `process` (a test hands in an EventEmitter with an `exit`). */
export interface SignalTarget {
  on(event: StopSignal, listener: () => void): unknown;
  removeListener(event: StopSignal, listener: () => void): unknown;
  exit(code: number): never | void;
}

export interface StopSignals {
  /** Resolves with the first SIGINT or SIGTERM received. Never rejects. */
  readonly stopped: Promise<StopSignal>;
  /** The first signal received, or undefined while none came. */
  readonly received: StopSignal | undefined;
  /** Removes the listeners (tests; a process that exits does not need to). */
  dispose(): void;
}

/** Installs the listeners on `target` and returns the watcher (see the file comment). */
export function watchStopSignals(target: SignalTarget): StopSignals {
  let received: StopSignal | undefined;
  let resolve!: (s: StopSignal) => void;
  const stopped = new Promise<StopSignal>(r => (resolve = r));
  const listeners = SIGNALS.map(sig => {
    const listener = () => {
      if (received !== undefined) {
        // The user asked twice: whatever the command is still doing (writing a report to a
        // reader that does not read, waiting for ssh), stop now.
        target.exit(exitCodeFor(sig));
        return;
      }
      received = sig;
      resolve(sig);
    };
    target.on(sig, listener);
    return [sig, listener] as const;
  });
  return {
    stopped,
    get received() {
      return received;
    },
    dispose() {
      for (const [sig, l] of listeners) target.removeListener(sig, l);
    },
  };
}

const perTarget = new WeakMap<SignalTarget, StopSignals>();

/** The process's one watcher, installed on first use. */
export function stopSignals(target: SignalTarget = process): StopSignals {
  let w = perTarget.get(target);
  if (!w) perTarget.set(target, (w = watchStopSignals(target)));
  return w;
}
