/**
 * A bigger buffer for the pipe the report goes into (src/io/pipe-size.ts): a child process asks
 * for it on its standard output, a real pipe, and gets it; a file is left alone; a refusal and a
 * missing koffi come back as reasons, not exceptions.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PIPE_BYTES, widenPipe } from '../src/io/pipe-size.js';
import { projectRoot } from './helpers/cli.js';

const moduleUrl = new URL(`file://${path.join(projectRoot, 'dist/src/io/pipe-size.js')}`).href;
const child = `import(${JSON.stringify(moduleUrl)}).then(m => process.stderr.write(String(m.widenPipe(1))))`;

/** Runs `script` (node -e) with its standard output into a pipe that cat reads (Node's own child pipes are sockets). */
function piped(script: string, args: string[] = []): { status: number | null; stderr: string } {
  return spawnSync('bash', ['-c', '"$NODE" "$@" -e "$SCRIPT" | cat > /dev/null', 'bash', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NODE: process.execPath, SCRIPT: script },
  });
}

function koffiPresent(): boolean {
  try {
    createRequire(import.meta.url)('koffi');
    return true;
  } catch {
    return false;
  }
}

test('standard output that is a pipe gets 1 MiB of buffer (or the reason why not)', t => {
  const r = piped(child);
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, koffiPresent() ? String(PIPE_BYTES) : 'the koffi package is not installed (npm install koffi)');
});

test('a file is not a pipe: left as it is', t => {
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-pipe-size-'));
  try {
    const file = path.join(dir, 'out');
    const fd = openSync(file, 'w');
    const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    t.is(r.stderr, 'not a pipe');
    t.is(readFileSync(file, 'utf8'), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a refusal or a missing FFI is a reason, not an exception', t => {
  const r = piped(
    `import { widenPipe } from ${JSON.stringify(moduleUrl)};
     process.stderr.write(widenPipe(1, 4096, () => () => -1) + '|' + widenPipe(1, 4096, () => 'no FFI here'));`,
    ['--input-type=module'],
  );
  t.is(r.stderr, 'refused|no FFI here');
  t.is(widenPipe(1_000_000), 'not open');
});
