// Who could take a case, found without scanning every worker: a map grid → workers and a KDBush
// over live positions (projected metres). Zhuzhou runs 3,390 workers on 3,261 grids "on one map"
// (DESIGN §1); the target is 34,000 on duty with p99 ranking under 5 ms.
// Rebuild every few seconds from live state. Between rebuilds the records are read live (duty,
// online, load, position are taken from the objects at query time); only the *set* of neighbours
// comes from build-time positions, and the search radius carries a margin for that and for the
// projection (see geo-measure).
import KDBush from 'kdbush';
import { localProjection, type Projection } from '../regions/geo-measure.js';
import type { WorkerRole } from '../../protocol/worker-roles.js';

export interface LivePosition {
  lat: number;
  lon: number;
  /** Fix time, epoch ms. */
  ts: number;
}

export interface DispatchWorker {
  id: string;
  role: WorkerRole;
  gridCodes: readonly string[];
  /** Category codes handled; '*' = all, 'door.*' = a family. */
  categories: readonly string[];
  duty: 'on' | 'off';
  online: boolean;
  position: LivePosition | null;
  /** Open tasks right now. */
  load: number;
}

const EMPTY: readonly number[] = Object.freeze([]);

export class WorkerIndex {
  private constructor(
    readonly workers: readonly DispatchWorker[],
    private readonly grid: ReadonlyMap<string, readonly number[]>,
    private readonly kd: KDBush | null,
    private readonly kdIds: Uint32Array,
    private readonly proj: Projection,
    readonly builtAt: number,
  ) {}

  static build(workers: readonly DispatchWorker[], builtAt: number, refLat?: number): WorkerIndex {
    const grid = new Map<string, number[]>();
    workers.forEach((w, i) => {
      for (const g of w.gridCodes) {
        const list = grid.get(g);
        if (list) list.push(i);
        else grid.set(g, [i]);
      }
    });
    const placed = workers.flatMap((w, i) => (w.position ? [i] : []));
    const lat0 = refLat ?? (placed.length ? placed.reduce((s, i) => s + (workers[i].position as LivePosition).lat, 0) / placed.length : 0);
    const proj = localProjection(lat0);
    let kd: KDBush | null = null;
    if (placed.length > 0) {
      kd = new KDBush(placed.length);
      for (const i of placed) {
        const p = workers[i].position as LivePosition;
        kd.add(proj.x(p.lon), proj.y(p.lat));
      }
      kd.finish();
    }
    return new WorkerIndex(workers, grid, kd, Uint32Array.from(placed), proj, builtAt);
  }

  /** Indexes (into `workers`) of the workers answering for `gridCode`. */
  inGrid(gridCode: string): readonly number[] {
    return this.grid.get(gridCode) ?? EMPTY;
  }

  /**
   * Indexes of workers whose build-time position is within about `radiusM` of the point. A superset:
   * the caller re-checks the exact distance on the live position.
   */
  near(lat: number, lon: number, radiusM: number): number[] {
    if (!this.kd) return [];
    // 5 % + 50 m margin: projection error over a city and movement since the last rebuild.
    const hits = this.kd.within(this.proj.x(lon), this.proj.y(lat), radiusM * 1.05 + 50);
    return hits.map((k) => this.kdIds[k]);
  }
}
