// The region tree as the running hub knows it: read from the `regions` table once per change and
// handed to everything that asks about regions (issue 17 item 3), instead of each asking the table:
// what a code is (name, level, parent), which regions lie under a scope (a screen's area, a KPI
// scope), which ancestors a grid has (the live rooms it goes to), which grid owns a point (the
// locator, built on first use). The import and edit paths call `load()` after they commit; other
// nodes hear of it through the hub's regions-changed notice (hub.ts, docs/decisions/014). A code
// never seen before makes it look for that code in the table (at most every 5 s, as the live scopes
// always did) and read the whole tree again only when it is there, so regions written behind the
// hub's back (the regions CLI straight into the database) are found when first asked about, and a
// code that is nowhere (a worker's grid an import removed, a mistyped scope) costs one indexed
// lookup per 5 s, never a reload of every polygon.
import type pg from 'pg';
import type { RegionLevel } from '../../protocol/region-levels.js';
import { gridLocatorFromTree, type GridLocator } from './grid-locator.js';
import { parseRegions, type Region, type RegionTree } from './region-tree.js';
import type { RegionRow } from './region-store.js';

const RELOAD_MIN_GAP_MS = 5000;
const EMPTY_TREE: RegionTree = { regions: [], byCode: new Map(), children: new Map(), roots: [] };

type DirectoryRow = Omit<RegionRow, 'props'>;

/** The tree and what is derived from it, dropped whole on every load. */
interface Derived {
  chains: Map<string, readonly string[]>;
  under: Map<string, readonly string[]>;
  locator?: GridLocator | null;
}

export class RegionDirectory {
  private current: RegionTree = EMPTY_TREE;
  private derived: Derived = { chains: new Map(), under: new Map() };
  /** When the table was last read or looked into for a missing code. */
  private lastLook = Number.NEGATIVE_INFINITY;
  private loading: Promise<unknown> | null = null;
  private readonly listeners = new Set<() => void>();
  /** Loads so far: a reader that caches its own derivation compares this. */
  version = 0;

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reads the whole tree (after an import or an edit, and at start); one statement. */
  async load(): Promise<void> {
    const r = await this.pool.query<DirectoryRow>('SELECT code, parent_code, level, name, geometry FROM regions');
    const features = r.rows.map((x) => ({
      type: 'Feature',
      properties: { code: x.code, parent: x.parent_code, level: x.level, name: x.name },
      geometry: x.geometry,
    }));
    // The table holds what an import accepted: the structure is read back, not judged again.
    this.current = features.length > 0 ? parseRegions({ type: 'FeatureCollection', features }, { skipGeometry: true }).tree : EMPTY_TREE;
    this.derived = { chains: new Map(), under: new Map() };
    this.lastLook = this.now();
    this.version += 1;
    for (const fn of this.listeners) fn();
  }

  /** Called after each load (a reader that keeps something derived drops it). */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A code this hub has never seen: if the table has it now, read the tree again (looked for once per 5 s at most). */
  private reloadSoon(code: string): void {
    if (this.loading || this.now() - this.lastLook < RELOAD_MIN_GAP_MS) return;
    this.lastLook = this.now();
    this.loading = this.pool
      .query<{ found: boolean }>('SELECT EXISTS (SELECT 1 FROM regions WHERE code = $1) AS found', [code])
      .then((r) => (r.rows[0]?.found ? this.load() : undefined))
      .finally(() => (this.loading = null));
    this.loading.catch(() => undefined);
  }

  get tree(): RegionTree {
    return this.current;
  }

  get size(): number {
    return this.current.regions.length;
  }

  get roots(): readonly string[] {
    return this.current.roots;
  }

  /** The district when the tree has exactly one root: the natural default scope. */
  soleRoot(): string | null {
    return this.current.roots.length === 1 ? this.current.roots[0] : null;
  }

  /** Whether `code` is the whole tree: the sole root (hub-wide settings and KPI fast paths need it). */
  isWholeTree(code: string): boolean {
    return this.soleRoot() === code;
  }

  /** The region, or undefined when the table does not have it (a miss makes the table read again soon). */
  get(code: string): Region | undefined {
    const r = this.current.byCode.get(code);
    if (!r) this.reloadSoon(code);
    return r;
  }

  has(code: string): boolean {
    return this.get(code) !== undefined;
  }

  /** Codes at one level, sorted (string order, as the grid locator and roster keep them). */
  atLevel(level: RegionLevel): string[] {
    return this.current.regions
      .filter((r) => r.level === level)
      .map((r) => r.code)
      .sort();
  }

  /**
   * `code`, its parent, and so on up to its root; empty for an unknown code. Cached per code until
   * the next load, so routing a position to its screens costs a map lookup, not a tree walk.
   */
  ancestry(code: string): readonly string[] {
    const cached = this.derived.chains.get(code);
    if (cached) return cached;
    if (!this.has(code)) return [];
    const chain: string[] = [];
    const seen = new Set<string>();
    for (let c: string | null | undefined = code; c != null && !seen.has(c); c = this.current.byCode.get(c)?.parent) {
      seen.add(c);
      chain.push(c);
    }
    this.derived.chains.set(code, chain);
    return chain;
  }

  /** Whether `code` is `scope` or lies under it. */
  covers(scope: string, code: string): boolean {
    return code === scope || this.ancestry(code).includes(scope);
  }

  /**
   * `scope` and every region under it, at any level, sorted; `[scope]` alone for a code the tree
   * does not have. The one answer to "what lies in this area" (a screen's lists, a KPI scope).
   */
  under(scope: string): readonly string[] {
    const cached = this.derived.under.get(scope);
    if (cached) return cached;
    const out: string[] = [];
    const seen = new Set<string>();
    const stack = [scope];
    while (stack.length > 0) {
      const c = stack.pop() as string;
      if (seen.has(c)) continue;
      seen.add(c);
      out.push(c);
      stack.push(...(this.current.children.get(c) ?? []));
    }
    if (!this.current.byCode.has(scope)) this.reloadSoon(scope);
    const sorted = out.sort();
    this.derived.under.set(scope, sorted);
    return sorted;
  }

  /** Which grid owns a point; null while the tree has no grid. Built on first use after each load. */
  locator(): GridLocator | null {
    if (this.derived.locator === undefined) {
      this.derived.locator = this.current.regions.some((r) => r.level === 'grid') ? gridLocatorFromTree(this.current) : null;
    }
    return this.derived.locator;
  }
}
