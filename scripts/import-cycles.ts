/**
 * Fails when the modules under a folder (default src/) import each other in a cycle, type-only
 * imports and re-exports included (tsc erases those, so this reads the TypeScript sources).
 * Usage: node dist/scripts/import-cycles.js [DIR]. Prints each cycle as a chain of paths.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** The project files a module imports: relative specifiers only, `./x.js` meaning `./x.ts`. */
function importsOf(file: string, text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles
    .map(f => f.fileName)
    .filter(s => s.startsWith('.'))
    .map(s => path.normalize(path.join(path.dirname(file), s.replace(/\.js$/, '.ts'))));
}

/** Cycles found by depth-first search (at least one in every set of modules that import each other). */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const norm = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(norm.join(' '), norm);
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return [...cycles.values()];
}

const dir = process.argv[2] ?? 'src';
const graph = new Map<string, string[]>();
for (const file of sources(dir).sort()) graph.set(file, importsOf(file, readFileSync(file, 'utf8')));
const cycles = findCycles(graph);
for (const c of cycles) console.error(`import cycle: ${[...c, c[0]].join(' -> ')}`);
if (cycles.length) {
  console.error(`${cycles.length} import cycle(s) in ${dir}/ (type-only imports count: move the shared types down)`);
  process.exitCode = 1;
}
