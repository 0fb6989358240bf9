/**
 * Tests that need root, network namespaces, QEMU or a Debian package declare it here.
 * Outside CI a missing prerequisite skips the test and prints why; in CI (CI=true) the test
 * runs and fails with the reason, because CI must have everything.
 */
import test, { type TestFn } from 'ava';
import { execFileSync } from 'node:child_process';

const inCI = process.env.CI === 'true';

export function haveCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Can this process make network namespaces? (root, and `ip netns` works) */
export function canNetns(): boolean {
  if (!isRoot() || !haveCommand('ip')) return false;
  const name = `ndprobe${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns `test` when every requirement holds; otherwise, outside CI, a `test.skip` that says
 * why, and in CI a test function whose tests fail with the reason.
 */
export function requiring(reqs: Array<[ok: boolean, what: string]>): TestFn {
  const missing = reqs.filter(([ok]) => !ok).map(([, what]) => what);
  if (missing.length === 0) return test;
  const why = `missing prerequisite: ${missing.join(', ')}`;
  // The suite's hooks (before, after.always, beforeEach...) do nothing: they would set up or take
  // down what cannot be there. Only the tests are declared, skipped or failing.
  const noop = () => undefined;
  const hooks = {
    before: noop,
    beforeEach: noop,
    after: Object.assign(noop, { always: noop }),
    afterEach: Object.assign(() => undefined, { always: noop }),
  };
  if (!inCI) {
    console.log(`skipping: ${why}`);
    const skipping = (title: string) => test.skip(title, noop);
    return Object.assign(skipping, { serial: skipping, skip: skipping }, hooks) as unknown as TestFn;
  }
  const failing = (title: string) => test(title, t => t.fail(`${why} (CI must have it)`));
  return Object.assign(failing, { serial: failing, skip: failing }, hooks) as unknown as TestFn;
}
