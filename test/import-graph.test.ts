/**
 * The shape of src/ as a graph of imports: no cycle (type-only imports included, since a cycle
 * of types is still two modules that cannot be understood apart), and the pure layers (decoders,
 * pipeline, findings, capture-file decoding) import no Node I/O module.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './helpers/cli.js';

const src = path.join(projectRoot, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** Every `import ... from '...'` and `export ... from '...'`, type-only ones included. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*'([^']+)'/gms)].map(m => m[1]!);
}

const files = sources(src);
const graph = new Map(
  files.map(f => [
    f,
    imports(f)
      .filter(s => s.startsWith('.'))
      .map(s => path.resolve(path.dirname(f), s.replace(/\.js$/, '.ts'))),
  ]),
);

function cycles(): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === 'open')
        found.push([...stack.slice(stack.indexOf(d)), d].map(f => path.relative(src, f)).join(' → '));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

test('the import graph is read (the test can see what it checks)', t => {
  t.true(files.length > 40, `${files.length} files`);
  t.true(graph.get(path.join(src, 'pipeline/pipeline.ts'))!.includes(path.join(src, 'pipeline/wire-findings.ts')));
});

test('no import cycle in src/, type-only imports included', t => {
  t.deepEqual(cycles(), []);
});

test('decoders, pipeline, findings and capture-file decoding import no Node I/O module', t => {
  const pure = files.filter(
    f =>
      /\/src\/(decode|pipeline|findings)\//.test(f) ||
      /\/src\/capture\/(reader|pcap-records|pcapng-blocks|format|sink|filter)\.ts$/.test(f),
  );
  const bad = pure.flatMap(f =>
    imports(f)
      .filter(s => /^node:(fs|child_process|net|dgram|os|process|worker_threads)/.test(s))
      .map(s => `${path.relative(src, f)}: ${s}`),
  );
  t.deepEqual(bad, []);
});
