/**
 * Bundles the program the package installs into dist/bundle/, from tsc's output in dist/src:
 * the same JavaScript the tests load module by module, joined into few files. Run by the build
 * after tsc (npm run build, make).
 *
 * Why: start-up. Node's ESM loader resolves, reads and compiles each file on its own, and that
 * was most of netdiag's fixed cost: analyze of a one-packet capture loaded 55 files.
 * - netdiag.cjs (src/launch.ts) is the program: it compiles netdiag-main.cjs, all of cli.ts's
 *   code in one CommonJS file (modules still run only when imported), from netdiag-main.cache,
 *   V8's code cache, which this script writes after running netdiag on real captures. CommonJS
 *   because Node 20 keeps no code cache for ES modules. A single ES module file without the cache
 *   was slower than the files split: V8 then parses all of netdiag at start.
 * - report-worker.js and capture-child.js, the files netdiag starts by path (the report thread,
 *   new URL('./report-worker.js', import.meta.url); the capture process), are ES modules with
 *   their shared code in chunk-*.js. Everything lands flat in dist/bundle/, so those URLs resolve
 *   there as they do in dist/src.
 * The packages (ora, yaml; cap and koffi, native and optional) stay imports of node_modules.
 */
import { build, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_FILE, MAIN_FILE, URL_PARAMETER } from '../src/launch.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(dist, '..');
const outdir = path.join(dist, 'bundle');
const program = path.join(outdir, 'netdiag.cjs');
/**
 * import() of a package or a Node module (ora, node:zlib) as require() in netdiag-main.cjs: code
 * compiled by vm.Script has no import() of its own (Node rejects it, and with a code cache even
 * the experimental way fails), and Node 20.19 requires ES modules such as ora.
 */
const importAsRequire: Plugin = {
  name: 'import-as-require',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, args =>
      args.kind === 'dynamic-import' ? { path: args.path, namespace: 'import-as-require' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'import-as-require' }, args => ({
      contents: `const m = require(${JSON.stringify(args.path)}); export default m.default ?? m; export * from ${JSON.stringify(args.path)};`,
      loader: 'js',
      resolveDir: root,
    }));
  },
};
const common = { bundle: true, platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning' } as const;

rmSync(outdir, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: {
    'report-worker': path.join(dist, 'src/report/report-worker.js'),
    'capture-child': path.join(dist, 'src/capture/capture-child.js'),
  },
  outdir,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  format: 'esm',
});
await build({
  ...common,
  entryPoints: [path.join(dist, 'src/cli.js')],
  outfile: path.join(outdir, MAIN_FILE),
  format: 'cjs',
  define: { 'import.meta.url': URL_PARAMETER },
  plugins: [importAsRequire],
});
await build({
  ...common,
  entryPoints: [path.join(dist, 'src/launch.js')],
  outfile: program,
  format: 'cjs',
  banner: { js: '#!/usr/bin/env node\nconst __launch_url = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__launch_url' },
});
chmodSync(program, 0o755);
if (/\bimport\(/.test(readFileSync(path.join(outdir, MAIN_FILE), 'utf8')))
  throw new Error(`bundle: an import() is left in ${MAIN_FILE}: netdiag would fail there`);

// The code cache: netdiag run on real captures the way users run analyze, each run starting from
// the cache the run before wrote, so that it holds the functions of them all.
const captures = [
  'linux-6.1.0-56-amd64-plain-boot.pcap',
  'linux-6.17.13+deb13-amd64-extended-fragmented-userdata.pcap',
];
const runs = captures.flatMap(c => [[], ['-q'], ['--json'], ['--jsonl']].map(o => ['analyze', ...o, c]));
const train = `
const { readFileSync, writeFileSync } = require('node:fs');
const { compileMain } = require(${JSON.stringify(program)});
const [dir, cache, ...args] = process.argv.slice(1);
let cached;
try { cached = readFileSync(cache); } catch {}
const main = compileMain(dir, cached);
process.on('exit', () => writeFileSync(cache, main.script.createCachedData()));
process.argv = [process.argv[0], ${JSON.stringify(program)}, ...args];
main.run(${JSON.stringify(program)});
`;
for (const args of runs) {
  const r = spawnSync(process.execPath, ['-e', train, outdir, path.join(outdir, CACHE_FILE), ...args], {
    cwd: path.join(root, 'fixtures/real'),
    env: { ...process.env, NO_COLOR: '1', NETDIAG_REPORT_THREAD: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0 && r.status !== 1) throw new Error(`bundle: netdiag ${args.join(' ')}: ${r.status}: ${r.stderr}`);
}
if (!existsSync(path.join(outdir, CACHE_FILE))) throw new Error('bundle: no code cache written');
