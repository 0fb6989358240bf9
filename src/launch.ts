/**
 * The program the package installs, dist/bundle/netdiag.cjs (scripts/bundle.ts makes it and
 * netdiag-main.cjs, all of cli.ts's code in one CommonJS file). It compiles netdiag-main.cjs with
 * V8's code cache, netdiag-main.cache, which the build wrote after running netdiag on a real
 * capture: the functions a run needs come from the cache instead of V8's parser and compiler.
 * Node 20 caches no ES module's code, hence CommonJS; the bundle has no import() (scripts/bundle.ts
 * makes them require()), which code compiled this way cannot run. A cache that V8 rejects (another Node, other
 * V8 flags) or a missing one only costs the compilation it would have saved.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

export const MAIN_FILE = 'netdiag-main.cjs';
export const CACHE_FILE = 'netdiag-main.cache';
/** The name scripts/bundle.ts gives import.meta.url in netdiag-main.cjs: this program's URL, passed in. */
export const URL_PARAMETER = '__netdiag_url';

type Wrapper = (exports: object, require: NodeJS.Require, module: { exports: object }, url: string) => void;

/**
 * netdiag-main.cjs in `dir`, compiled (from `cachedData` when V8 takes it), ready to run as `program`.
 * @public scripts/bundle.ts calls it in the bundled netdiag.cjs to write the cache.
 */
export function compileMain(dir: string, cachedData?: Buffer): { script: vm.Script; run(program: string): void } {
  const file = path.join(dir, MAIN_FILE);
  // The first line (esbuild keeps cli.ts's #!) stays, empty, so that line numbers hold.
  const source = readFileSync(file, 'utf8').replace(/^#!.*/, '');
  const script = new vm.Script(`(function (exports, require, module, ${URL_PARAMETER}) {${source}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  return {
    script,
    run(program) {
      const module = { exports: {} };
      (script.runInThisContext() as Wrapper)(module.exports, createRequire(file), module, pathToFileURL(program).href);
    },
  };
}

function readCache(dir: string): Buffer | undefined {
  try {
    return readFileSync(path.join(dir, CACHE_FILE));
  } catch {
    return undefined;
  }
}

const self = fileURLToPath(import.meta.url);
const entry = process.argv[1];
// Run as the program (under any name: the bin symlink too), not loaded by the build to make the cache.
if (entry && realpathSync(entry) === realpathSync(self)) {
  const dir = path.dirname(self);
  compileMain(dir, readCache(dir)).run(self);
}
