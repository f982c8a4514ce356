/**
 * The project's own import check, on the sources (src/**.ts): no module imports itself through others
 * (no circles), and no import points back up the pipeline. The folder order is ARCHITECTURE.md's folder
 * table: commands > pipeline > procedure > observe > render > pki > output > model > input > etcd > leaves; a
 * module may import its own folder and any folder below its own, never one above. Type-only imports
 * count too: a type is part of what a stage hands on.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './helpers.js';

const src = path.join(repoRoot, 'src');

/** Highest first, as ARCHITECTURE.md's folder table lists them; src/cli.ts (the executable) is on top. */
const ORDER = ['cli.ts', 'commands', 'pipeline.ts', 'procedure', 'observe', 'render', 'pki', 'output', 'model', 'input', 'etcd', 'leaves'] as const;

/** The folder (or top-level module) of a file below src/, as ORDER names it: any other top-level file is a leaf. */
function layerOf(file: string): string {
  const first = file.split('/')[0] ?? '';
  return file.includes('/') || (ORDER as readonly string[]).includes(first) ? first : 'leaves';
}
const rank = (file: string): number => ORDER.length - ORDER.indexOf(layerOf(file) as (typeof ORDER)[number]);

/** Every .ts file below src/, '/'-separated, relative to src/. */
function sources(dir = ''): string[] {
  return readdirSync(path.join(src, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    return e.isDirectory() ? sources(rel) : e.name.endsWith('.ts') ? [rel] : [];
  });
}

/** The src/ modules a file imports (static, re-exports and import()), '/'-separated, relative to src/. */
export function importsOf(file: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)|(?:^|\n)\s*import\s*'([^']+)'/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)).replace(/\.js$/, '.ts'));
}

function graph(): Map<string, string[]> {
  return new Map(sources().map((f) => [f, importsOf(f, readFileSync(path.join(src, f), 'utf8'))]));
}

/** The import circles of a graph, each as the path that closes it (a -> b -> a). */
function circles(g: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const to of g.get(f) ?? []) {
      if (state.get(to) === 'open') found.push([...stack.slice(stack.indexOf(to)), to]);
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of [...g.keys()].sort()) if (!state.has(f)) visit(f);
  return found;
}

test('the import check reads every form of import and resolves it below src/', () => {
  const text = `import a from './a.js';\nimport type { B } from '../model/b.js';\nexport { c } from './c.js';\nimport {\n  d,\n} from '../etcd/d.js';\nconst e = await import('./e.js');\nimport 'node:fs';\nimport x from 'yargs';\n`;
  assert.deepEqual(importsOf('pki/store.ts', text), ['pki/a.ts', 'model/b.ts', 'pki/c.ts', 'etcd/d.ts', 'pki/e.ts']);
  assert.deepEqual([layerOf('messages.ts'), layerOf('pipeline.ts'), layerOf('pki/store.ts')], ['leaves', 'pipeline.ts', 'pki']);
  assert.deepEqual(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c', 'a']]);
});

test('every import of src/ resolves to a module there', () => {
  const g = graph();
  for (const [from, tos] of g) for (const to of tos) assert.ok(g.has(to), `${from} imports ${to}, which is not a module of src/`);
  assert.ok(g.size > 40, `${g.size} modules`);
});

test('src/ has no import circles', () => {
  assert.deepEqual(circles(graph()).map((c) => c.join(' -> ')), []);
});

test('no import points back up the pipeline (ARCHITECTURE.md folder table)', () => {
  const up: string[] = [];
  for (const [from, tos] of graph()) {
    for (const to of tos) if (layerOf(to) !== layerOf(from) && rank(to) > rank(from)) up.push(`${from} (${layerOf(from)}) imports ${to} (${layerOf(to)})`);
  }
  assert.deepEqual(up, []);
});
