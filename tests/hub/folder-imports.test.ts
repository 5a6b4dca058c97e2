// The architecture as a test (issue 17 item 2, STYLE.md "No two folders import each other"): the
// import lines of the source, read as text, must keep the folders' one-way order. A cycle between
// hub/ folders means something lives in the wrong room; broker/ and hub/ meet only in system.ts;
// the command screen's code (dashboard/src) takes nothing of ours but the wire contract.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));

/** Every .ts file under a folder of the repository, as repository paths with forward slashes. */
function sourcesUnder(folder: string): string[] {
  const entries = readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

// `import … from '…'`, `export … from '…'` (across lines), `import '…'` and `import('…')`.
const SPECIFIER = /\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g;

/** The repository paths a file imports by relative path (packages are left out). */
function relativeImports(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    out.push(
      normalize(join(dirname(file), spec))
        .split(sep)
        .join('/'),
    );
  }
  return out;
}

/** The folder directly under hub/ that a path belongs to; files at hub/'s top level are `hub.ts`'s room. */
function hubFolder(path: string): string | null {
  const parts = path.split('/');
  if (parts[0] !== 'hub') return null;
  return parts.length > 2 ? parts[1] : '(hub root)';
}

/** Folder → folders it imports, with one example import per edge for the failure message. */
type Graph = Map<string, Map<string, string>>;

/** The groups of folders that import each other, directly or around a loop (Tarjan's strongly connected components). */
function cycles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

function hubGraph(): Graph {
  const graph: Graph = new Map();
  for (const file of sourcesUnder('hub')) {
    const from = hubFolder(file)!;
    if (!graph.has(from)) graph.set(from, new Map());
    for (const target of relativeImports(file, readFileSync(join(ROOT, file), 'utf8'))) {
      const to = hubFolder(target);
      if (to === null || to === from) continue;
      if (!graph.get(from)!.has(to)) graph.get(from)!.set(to, `${file} → ${target}`);
    }
  }
  return graph;
}

/** Each file of `folder` that imports a path under one of `forbidden`, as "file → path". */
function importsInto(folder: string, forbidden: (target: string) => boolean): string[] {
  const bad: string[] = [];
  for (const file of sourcesUnder(folder)) {
    for (const target of relativeImports(file, readFileSync(join(ROOT, file), 'utf8'))) {
      if (forbidden(target)) bad.push(`${file} → ${target}`);
    }
  }
  return bad;
}

describe('folder imports', () => {
  it('finds a cycle when there is one (the check itself)', () => {
    const g: Graph = new Map([
      ['a', new Map([['b', '']])],
      ['b', new Map([['c', '']])],
      ['c', new Map([['a', '']])],
      ['d', new Map([['a', '']])],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c']]);
    g.get('c')!.delete('a');
    expect(cycles(g)).toEqual([]);
    expect(
      relativeImports(
        'hub/x/a.ts',
        "import type {\n  A,\n} from '../y/b.js';\nexport { c } from './c.js';\nconst d = await import('../../common/d.js');\nimport 'fastify';",
      ),
    ).toEqual(['hub/y/b.js', 'hub/x/c.js', 'common/d.js']);
  });

  it('no two hub/ folders import each other, directly or around a loop', () => {
    const graph = hubGraph();
    expect(graph.size).toBeGreaterThan(5);
    const explained = cycles(graph).map((group) =>
      group
        .map(
          (f) =>
            `${f} → ${[...graph.get(f)!]
              .filter(([to]) => group.includes(to))
              .map(([, example]) => example)
              .join('; ')}`,
        )
        .join('\n'),
    );
    expect(explained).toEqual([]);
  });

  it('broker/ and hub/ never import each other (system.ts wires them)', () => {
    expect(importsInto('broker', (t) => t.startsWith('hub/'))).toEqual([]);
    expect(importsInto('hub', (t) => t.startsWith('broker/'))).toEqual([]);
  });

  it('the command screen (dashboard/src) imports nothing of ours but protocol/', () => {
    const files = sourcesUnder('dashboard/src');
    expect(files.length).toBeGreaterThan(0);
    expect(importsInto('dashboard/src', (t) => !t.startsWith('dashboard/src/') && !t.startsWith('protocol/'))).toEqual([]);
  });
});
