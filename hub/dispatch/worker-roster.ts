// Who can be offered work right now: the workers table (role, grids, categories) joined with live
// state (position, presence, duty) and the open load. Rebuilt into a WorkerIndex at most every
// `maxAgeMs`; between rebuilds the index reads the same records, which live updates keep current.
import type pg from 'pg';
import type { Clock } from '../../common/clock.js';
import type { TaskReach } from '../../protocol/http-api.js';
import type { LiveState } from '../live/live-state.js';
import { WorkerIndex, type DispatchWorker } from './worker-index.js';
import type { WorkerRole } from '../../protocol/worker-roles.js';
import type { RegionDirectory } from '../regions/region-directory.js';
import { loadsByWorker } from './incident-store.js';

interface WorkerAttrs {
  id: string;
  role: WorkerRole;
  gridCodes: string[];
  categories: string[];
}

export class WorkerRoster {
  private attrs: WorkerAttrs[] = [];
  private allGrids: string[] = [];
  private index: WorkerIndex | null = null;
  private loads = new Map<string, number>();

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly regions: RegionDirectory,
    private readonly live: LiveState,
    private readonly clock: Clock,
    private readonly maxAgeMs = 2000,
    /** How a device takes offers (the task publisher knows each device's protocol). */
    private readonly reachOfDevice: (deviceId: string) => TaskReach = () => 'device',
  ) {}

  /** Re-reads the workers table and the grid list (after an import or a roster change). */
  async load(): Promise<void> {
    const r = await this.pool.query('SELECT id, role, grid_codes, categories FROM workers ORDER BY id');
    this.attrs = r.rows.map((w) => ({
      id: w.id,
      role: w.role,
      gridCodes: w.grid_codes,
      categories: w.categories.length ? w.categories : ['*'],
    }));
    this.allGrids = this.regions.atLevel('grid');
    this.index = null;
  }

  roleOf(workerId: string): WorkerRole | undefined {
    return this.attrs.find((a) => a.id === workerId)?.role;
  }

  deviceOf(workerId: string): string | null {
    return this.live.workers.get(workerId)?.deviceId ?? null;
  }

  /** How the worker's offers reach them; null when they have no handset. */
  reachOf(workerId: string): TaskReach | null {
    const d = this.deviceOf(workerId);
    return d === null ? null : this.reachOfDevice(d);
  }

  /** One more open task for a worker, before the next rebuild sees it in the database. */
  addLoad(workerId: string, delta: number): void {
    this.loads.set(workerId, Math.max(0, (this.loads.get(workerId) ?? 0) + delta));
    this.index = null;
  }

  /** `q`: the caller's transaction (the embedded engine has one connection: never ask the pool inside one). */
  async current(q: Pick<pg.Pool, 'query'> = this.pool): Promise<WorkerIndex> {
    const now = this.clock.now();
    if (this.index && now - this.index.builtAt < this.maxAgeMs && now >= this.index.builtAt) return this.index;
    this.loads = await loadsByWorker(q);
    const workers: DispatchWorker[] = this.attrs.map((a) => {
      const l = this.live.workers.get(a.id);
      return {
        id: a.id,
        role: a.role,
        // Department staff and command answer for the whole district (no grids of their own).
        gridCodes: a.gridCodes.length ? a.gridCodes : this.allGrids,
        categories: a.categories,
        duty: l?.duty ?? 'off',
        online: l?.online ?? false,
        position: l && l.lat !== null && l.lon !== null && l.ts !== null ? { lat: l.lat, lon: l.lon, ts: l.ts } : null,
        load: this.loads.get(a.id) ?? 0,
      };
    });
    this.index = WorkerIndex.build(workers, now);
    return this.index;
  }
}
