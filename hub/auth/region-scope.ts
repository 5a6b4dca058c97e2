// Which screens may see what: a screen's scope is a region code, and a thing (worker, alert,
// incident, alarm) belongs to a grid. The screen sees it when its scope is the grid or one of the
// grid's ancestors. The chains come from the hub's region directory (loaded once per change) and
// are cached per grid, so routing a position costs a map lookup, not a tree walk.
import type { LiveSnapshot } from '../../protocol/socket-events.js';

/** The room of screens that see everything (auth off, or a hub-wide service view). */
export const ALL_SCOPE = '*';

/**
 * What the scope rule needs of the region tree: the hub's one directory of it
 * (hub/regions/region-directory.ts), loaded once per change. Declared here so that auth imports
 * nothing else of the hub.
 */
export interface RegionLookup {
  /** Loads so far: derived answers are dropped when it moves. */
  readonly version: number;
  readonly roots: readonly string[];
  /** The code, its parent, … up to its root; empty for a code the tree does not have. */
  ancestry(code: string): readonly string[];
  /** The scope and every region under it. */
  under(scope: string): readonly string[];
  /** Whether the code is the sole root. */
  isWholeTree(code: string): boolean;
}

export class RegionScopes {
  private rooms_ = new Map<string, readonly string[]>();
  private seen = -1;

  constructor(readonly regions: RegionLookup) {}

  /**
   * The rooms a thing in this grid goes to: the grid, each ancestor up to the district, and the
   * all-seeing room. A thing with no grid goes to the root regions (the district screen still owns
   * it, DESIGN §4: nothing is left unowned) and the all-seeing room.
   */
  rooms(gridCode: string | null): readonly string[] {
    if (gridCode === null) return [...this.regions.roots, ALL_SCOPE];
    if (this.seen !== this.regions.version) {
      this.rooms_ = new Map();
      this.seen = this.regions.version;
    }
    const cached = this.rooms_.get(gridCode);
    if (cached) return cached;
    const chain = this.regions.ancestry(gridCode);
    // Not cached: a code the tree does not have yet (the directory reads the table again soon).
    if (chain.length === 0) return [gridCode, ALL_SCOPE];
    const rooms = [...chain, ALL_SCOPE];
    this.rooms_.set(gridCode, rooms);
    return rooms;
  }

  /**
   * Whether a scope sees the whole tree (the all-seeing room, or the district when it is the sole
   * root): what hub-wide settings (the region tree, the SLA table, dead letters) need.
   */
  isWholeTree(scope: string): boolean {
    return scope === ALL_SCOPE || this.regions.isWholeTree(scope);
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
