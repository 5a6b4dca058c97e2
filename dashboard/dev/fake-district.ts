// DEV TOOL, not a test and not the simulator: a made-up district for working on the screen
// without the hub. A jittered lattice of grids (shared vertices, so polygons tile exactly),
// 3x3 grids per community, 3x3 communities per street, and workers walking inside their grid.
import type { Feature, FeatureCollection, Polygon } from 'geojson';
import type { AlertView, PositionUpdate, WorkerLive } from '../../protocol/socket-events.js';
import { ALERT_TYPES } from '../../protocol/schemas.js';
import { createRng } from '../../simulators/rng.js';

export interface FakeOptions {
  seed: number;
  /** Grids along each side of the district; rounded up to a multiple of 9 (street = 9x9 grids). */
  side: number;
  workers: number;
  center: [number, number]; // [lat, lon]
  /** Walking pace in m/s; raise it to stress the screen with visibly moving dots. */
  speed: number;
}

interface Props {
  code: string;
  parent: string | null;
  level: 'district' | 'street' | 'community' | 'grid';
  name: string;
}

/** The project's one seeded PRNG (simulators/rng.ts), as a bare function. */
export function rng(seed: number): () => number {
  const r = createRng(seed);
  return () => r.next();
}

const CELL_DEG = 0.004; // about 400 m: a grid of ~400 households in a dense district
const STREETS = ['建设', '建宁', '铜塘湾', '清水塘', '响石岭', '龙头铺', '井墈', '田心', '枫溪'];

export class FakeDistrict {
  readonly side: number;
  readonly regions: FeatureCollection<Polygon, Props>;
  readonly grids: Array<{ code: string; i: number; j: number }> = [];
  private readonly vertex: Array<Array<[number, number]>> = [];
  private readonly walkers: Array<WorkerLive & { heading: number; cell: { i: number; j: number } }> = [];
  private readonly rand: () => number;
  private alertSeq = 0;

  constructor(private readonly opts: FakeOptions) {
    this.rand = rng(opts.seed);
    this.side = Math.max(9, Math.ceil(opts.side / 9) * 9);
    this.buildLattice();
    this.regions = { type: 'FeatureCollection', features: this.buildRegions() };
    this.buildWorkers();
  }

  snapshotWorkers(): WorkerLive[] {
    return this.walkers.map(({ heading: _h, cell: _c, ...w }) => ({ ...w }));
  }

  /** Moves every online worker `dtS` seconds along their heading, bouncing inside their grid. */
  step(dtS: number, now: number, ids?: Set<string>): PositionUpdate[] {
    const out: PositionUpdate[] = [];
    for (const w of this.walkers) {
      if (!w.online || w.lat === null || w.lon === null || (ids && !ids.has(w.workerId))) continue;
      w.heading += (this.rand() - 0.5) * 0.6;
      const metres = this.opts.speed * dtS;
      let lat = w.lat + (Math.cos(w.heading) * metres) / 111_000;
      let lon = w.lon + (Math.sin(w.heading) * metres) / (111_000 * Math.cos((w.lat * Math.PI) / 180));
      const [minLat, minLon] = this.cellOrigin(w.cell.i, w.cell.j);
      if (lat < minLat + 0.0004 || lat > minLat + CELL_DEG - 0.0004 || lon < minLon + 0.0004 || lon > minLon + CELL_DEG - 0.0004) {
        w.heading += Math.PI; // bounce back into the grid
        lat = w.lat;
        lon = w.lon;
      }
      w.lat = lat;
      w.lon = lon;
      w.ts = now;
      out.push({ workerId: w.workerId, lat, lon, ts: now, ...(w.battery !== null ? { battery: w.battery } : {}) });
    }
    return out;
  }

  /** Flips one worker's presence (the screen should recolour a dot). */
  togglePresence(now: number): { deviceId: string; workerId: string; online: boolean; ts: number } | null {
    const w = this.pick();
    if (!w) return null;
    w.online = !w.online;
    return { deviceId: w.deviceId, workerId: w.workerId, online: w.online, ts: now };
  }

  toggleDuty(now: number): { workerId: string; duty: 'on' | 'off'; ts: number } | null {
    const w = this.pick();
    if (!w) return null;
    w.duty = w.duty === 'on' ? 'off' : 'on';
    return { workerId: w.workerId, duty: w.duty, ts: now };
  }

  alert(now: number): AlertView {
    const type = ALERT_TYPES[Math.floor(this.rand() * ALERT_TYPES.length)] ?? 'door.forced';
    const g = this.grids[Math.floor(this.rand() * this.grids.length)] ?? this.grids[0]!;
    const [lat, lon] = this.cellOrigin(g.i, g.j);
    const kind = type.startsWith('door') ? 'door' : 'camera';
    const severities = ['low', 'medium', 'high', 'critical'];
    return {
      id: `dev-${++this.alertSeq}`,
      deviceId: `${kind}-${g.code.slice(-4)}-${1 + Math.floor(this.rand() * 4)}`,
      deviceKind: kind,
      type,
      severity: severities[Math.floor(this.rand() * severities.length)] ?? null,
      ts: now,
      lat: lat + CELL_DEG * (0.2 + 0.6 * this.rand()),
      lon: lon + CELL_DEG * (0.2 + 0.6 * this.rand()),
      gridCode: g.code,
    };
  }

  private pick(): (typeof this.walkers)[number] | undefined {
    return this.walkers[Math.floor(this.rand() * this.walkers.length)];
  }

  private cellOrigin(i: number, j: number): [number, number] {
    const [lat0, lon0] = this.origin();
    return [lat0 + i * CELL_DEG, lon0 + j * CELL_DEG];
  }

  private origin(): [number, number] {
    const half = (this.side * CELL_DEG) / 2;
    return [this.opts.center[0] - half, this.opts.center[1] - half];
  }

  private buildLattice(): void {
    const [lat0, lon0] = this.origin();
    for (let i = 0; i <= this.side; i++) {
      const row: Array<[number, number]> = [];
      for (let j = 0; j <= this.side; j++) {
        const jitter = (): number => (this.rand() - 0.5) * CELL_DEG * 0.35;
        row.push([lon0 + j * CELL_DEG + jitter(), lat0 + i * CELL_DEG + jitter()]);
      }
      this.vertex.push(row);
    }
  }

  /** The ring around lattice block [i0,i1) x [j0,j1), through every shared vertex on its edge. */
  private ring(i0: number, j0: number, i1: number, j1: number): Array<[number, number]> {
    const v = (i: number, j: number): [number, number] => this.vertex[i]![j]!;
    const pts: Array<[number, number]> = [];
    for (let j = j0; j < j1; j++) pts.push(v(i0, j));
    for (let i = i0; i < i1; i++) pts.push(v(i, j1));
    for (let j = j1; j > j0; j--) pts.push(v(i1, j));
    for (let i = i1; i > i0; i--) pts.push(v(i, j0));
    pts.push(v(i0, j0));
    return pts;
  }

  private buildRegions(): Array<Feature<Polygon, Props>> {
    const f = (i0: number, j0: number, size: number, p: Props): Feature<Polygon, Props> => ({
      type: 'Feature',
      properties: p,
      geometry: { type: 'Polygon', coordinates: [this.ring(i0, j0, i0 + size, j0 + size)] },
    });
    const out = [f(0, 0, this.side, { code: '430204', parent: null, level: 'district', name: '石峰区(演示)' })];
    const n = this.side / 9;
    for (let si = 0; si < n; si++) {
      for (let sj = 0; sj < n; sj++) {
        const s = si * n + sj;
        const street = `430204${String(s + 1).padStart(3, '0')}`;
        out.push(
          f(si * 9, sj * 9, 9, {
            code: street,
            parent: '430204',
            level: 'street',
            name: `${STREETS[s % STREETS.length]}街道${s >= STREETS.length ? s : ''}`,
          }),
        );
        for (let c = 0; c < 9; c++) {
          const ci = si * 9 + Math.floor(c / 3) * 3;
          const cj = sj * 9 + (c % 3) * 3;
          const community = `${street}${String(c + 1).padStart(3, '0')}`;
          out.push(
            f(ci, cj, 3, { code: community, parent: street, level: 'community', name: `${STREETS[s % STREETS.length]}${c + 1}社区` }),
          );
          for (let g = 0; g < 9; g++) {
            const gi = ci + Math.floor(g / 3);
            const gj = cj + (g % 3);
            const code = `${community}${String(g + 1).padStart(2, '0')}`;
            this.grids.push({ code, i: gi, j: gj });
            out.push(f(gi, gj, 1, { code, parent: community, level: 'grid', name: `第${g + 1}网格` }));
          }
        }
      }
    }
    return out;
  }

  private buildWorkers(): void {
    for (let k = 0; k < this.opts.workers; k++) {
      const g = this.grids[k % this.grids.length]!;
      const [lat, lon] = this.cellOrigin(g.i, g.j);
      const id = String(k + 1).padStart(4, '0');
      this.walkers.push({
        workerId: `w-${id}`,
        deviceId: `hs-${id}`,
        name: `网格员${id}`,
        role: 'grid_worker',
        gridCode: g.code,
        lat: lat + CELL_DEG * (0.2 + 0.6 * this.rand()),
        lon: lon + CELL_DEG * (0.2 + 0.6 * this.rand()),
        ts: Date.now(),
        battery: Math.round(30 + 70 * this.rand()),
        duty: this.rand() < 0.85 ? 'on' : 'off',
        online: this.rand() < 0.95,
        heading: this.rand() * Math.PI * 2,
        cell: { i: g.i, j: g.j },
      });
    }
  }
}
