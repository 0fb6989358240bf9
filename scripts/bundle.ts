/**
 * Bundles the program the package installs, dist/bundle/netdiag.js, from tsc's output in
 * dist/src: the same JavaScript the tests load module by module, joined into a few files. Run
 * by the build after tsc (npm run build, make).
 *
 * Why: Node's ESM loader resolves, reads and compiles each file on its own, and that was most of
 * the start-up: analyze of a one-packet capture loaded 55 files. Bundled with code splitting it
 * loads 17 (the commands, the filter compiler, the report thread and verify's fleet stay loaded
 * only when used), some 35 ms and a third of the instructions above `node -e 0` less. One
 * single file (no splitting) was slower: V8 then parses all of netdiag at start, and the
 * packages' static imports (yaml) load at start too.
 *
 * Entry points: the program, and the two files that netdiag starts by path (the report thread's
 * worker, new URL('./report-worker.js', import.meta.url); the capture process,
 * './capture-child.js'). Everything lands flat in dist/bundle/, so those URLs resolve there as
 * they do in dist/src. The packages (ora, yaml; cap and koffi, native and optional) stay
 * imports of node_modules, loaded by Node as before.
 */
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(dist, 'bundle');

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: {
    netdiag: path.join(dist, 'src/cli.js'),
    'report-worker': path.join(dist, 'src/report/report-worker.js'),
    'capture-child': path.join(dist, 'src/capture/capture-child.js'),
  },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
chmodSync(path.join(outdir, 'netdiag.js'), 0o755);
