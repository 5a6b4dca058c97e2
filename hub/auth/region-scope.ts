// Which screens may see what: a screen's scope is a region code, and a thing (worker, alert,
// incident, alarm) belongs to a grid. The screen sees it when its scope is the grid or one of the
// grid's ancestors (regions(code, parent_code)). Ancestor chains are computed once per grid and
// cached, so routing a position costs a map lookup, not a tree walk.
import type pg from 'pg';
import type { LiveSnapshot } from '../../protocol/socket-events.js';

/** The room of screens that see everything (auth off, or a hub-wide service view). */
export const ALL_SCOPE = '*';
const RELOAD_MIN_GAP_MS = 5000;

export class RegionScopes {
  private parent = new Map<string, string | null>();
  private chains = new Map<string, readonly string[]>();
  private roots: string[] = [];
  private lastLoad = 0;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly now: () => number = Date.now,
  ) {}

  async load(): Promise<void> {
    const r = await this.pool.query<{ code: string; parent_code: string | null }>('SELECT code, parent_code FROM regions');
    this.parent = new Map(r.rows.map((row) => [row.code, row.parent_code]));
    this.roots = r.rows.filter((row) => row.parent_code === null).map((row) => row.code);
    this.chains = new Map();
    this.lastLoad = this.now();
  }

  /** Regions added after start (an import) are picked up on the first miss, at most every 5 s. */
  private reloadSoon(): void {
    if (this.loading || this.now() - this.lastLoad < RELOAD_MIN_GAP_MS) return;
    this.loading = this.load().finally(() => (this.loading = null));
    this.loading.catch(() => undefined);
  }

  has(code: string): boolean {
    return this.parent.has(code);
  }

  /**
   * The rooms a thing in this grid goes to: the grid, each ancestor up to the district, and the
   * all-seeing room. A thing with no grid goes to the root regions (the district screen still owns
   * it, DESIGN §4: nothing is left unowned) and the all-seeing room.
   */
  rooms(gridCode: string | null): readonly string[] {
    if (gridCode === null) return [...this.roots, ALL_SCOPE];
    const cached = this.chains.get(gridCode);
    if (cached) return cached;
    if (!this.parent.has(gridCode)) {
      this.reloadSoon();
      return [gridCode, ALL_SCOPE]; // not cached: becomes a full chain after the reload
    }
    const chain: string[] = [];
    const seen = new Set<string>();
    for (let c: string | null | undefined = gridCode; c != null && !seen.has(c); c = this.parent.get(c)) {
      seen.add(c);
      chain.push(c);
    }
    chain.push(ALL_SCOPE);
    this.chains.set(gridCode, chain);
    return chain;
  }

  /**
   * Whether a scope sees the whole tree (the all-seeing room, or the district when it is the sole
   * root): what hub-wide settings (the region tree, the SLA table, dead letters) need.
   */
  isWholeTree(scope: string): boolean {
    return scope === ALL_SCOPE || (this.roots.length === 1 && this.roots[0] === scope);
  }

  /** Whether a screen scoped to `scope` may see a thing in `gridCode`. */
  covers(scope: string, gridCode: string | null): boolean {
    return scope === ALL_SCOPE || this.rooms(gridCode).includes(scope);
  }

  /** The snapshot cut down to a scope, by the same rule as the live routing. */
  filterSnapshot(s: LiveSnapshot, scope: string): LiveSnapshot {
    if (scope === ALL_SCOPE) return s;
    return {
      serverTime: s.serverTime,
      workers: s.workers.filter((w) => this.covers(scope, w.gridCode)),
      alerts: s.alerts.filter((a) => this.covers(scope, a.gridCode)),
      incidents: s.incidents.filter((i) => this.covers(scope, i.gridCode)),
      alarms: s.alarms.filter((a) => this.covers(scope, a.gridCode)),
    };
  }
}
