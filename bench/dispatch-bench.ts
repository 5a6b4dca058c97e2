// Dispatch ranking micro-benchmark: `npx tsx bench/dispatch-bench.ts`.
// ~3,300 synthetic grids (Zhuzhou: 3,261 grids, 3,390 workers, DESIGN §1), 3,400 and 34,000 on-duty
// workers with live positions, 2,000 seeded incidents. Target: p99 < 5 ms per ranking at 34,000.
// Baseline in the same run: the same ranking by a full scan of every worker (rankCandidatesByScan).
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Polygon } from 'geojson';
import { ManualClock } from '../common/clock.js';
import { rankCandidates, rankCandidatesByScan, type MatchOptions } from '../hub/dispatch/dispatch-matching.js';
import type { Incident } from '../hub/dispatch/incident-state-machine.js';
import type { WorkerRole } from '../protocol/worker-roles.js';
import { WorkerIndex, type DispatchWorker } from '../hub/dispatch/worker-index.js';
import { buildGridLocator } from '../hub/regions/grid-locator.js';
import { createRng } from '../simulators/rng.js';

const SEED = 20240930;
const COLS = 58;
const ROWS = 57; // 3,306 grids
const CELL_DEG = 0.005; // ≈ 500 m × 440 m at 27.8°N: a 400-household city grid
const LAT0 = 27.7;
const LON0 = 112.98;
const INCIDENTS = 2000;
const BASELINE_INCIDENTS = 300; // the full scan is slow; a sample gives its median
const T0 = Date.UTC(2024, 8, 30, 1, 0, 0);
const clock = new ManualClock(T0);

const gridCode = (c: number, r: number): string => `G${String(r).padStart(3, '0')}${String(c).padStart(3, '0')}`;
/** Communities are 3 × 3 blocks of grids: the level-2 scope. */
const communityGrids = (c: number, r: number): string[] => {
  const out: string[] = [];
  const c0 = c - (c % 3);
  const r0 = r - (r % 3);
  for (let dr = 0; dr < 3; dr++) for (let dc = 0; dc < 3; dc++) if (c0 + dc < COLS && r0 + dr < ROWS) out.push(gridCode(c0 + dc, r0 + dr));
  return out;
};

function grids(): { code: string; geometry: Polygon }[] {
  const out: { code: string; geometry: Polygon }[] = [];
  for (let r = 0; r < ROWS; r++) {
    for (let c = 0; c < COLS; c++) {
      const [x, y] = [LON0 + c * CELL_DEG, LAT0 + r * CELL_DEG];
      out.push({
        code: gridCode(c, r),
        geometry: {
          type: 'Polygon',
          coordinates: [
            [
              [x, y],
              [x + CELL_DEG, y],
              [x + CELL_DEG, y + CELL_DEG],
              [x, y + CELL_DEG],
              [x, y],
            ],
          ],
        },
      });
    }
  }
  return out;
}

function workers(n: number): DispatchWorker[] {
  const rng = createRng(`${SEED}:workers:${n}`);
  const roles: (readonly [WorkerRole, number])[] = [
    ['grid_worker', 85],
    ['grid_leader', 8],
    ['community_police', 5],
    ['command', 2],
  ];
  return Array.from({ length: n }, (_, i) => {
    const c = rng.int(0, COLS - 1);
    const r = rng.int(0, ROWS - 1);
    return {
      id: `w${String(i).padStart(6, '0')}`,
      role: rng.weighted(roles),
      gridCodes: [gridCode(c, r)],
      categories: rng.chance(0.8) ? ['*'] : [rng.pick(['drain', 'noise', 'door.*', 'camera.*'])],
      duty: 'on',
      online: true,
      position: { lat: LAT0 + (r + rng.next()) * CELL_DEG, lon: LON0 + (c + rng.next()) * CELL_DEG, ts: T0 - rng.int(0, 180_000) },
      load: rng.int(0, 4),
    };
  });
}

interface Case {
  incident: Incident;
  options: MatchOptions;
}

function incidents(): Case[] {
  const rng = createRng(`${SEED}:incidents`);
  const locator = buildGridLocator(grids());
  return Array.from({ length: INCIDENTS }, (_, i) => {
    const lat = LAT0 + rng.float(0, ROWS * CELL_DEG);
    const lon = LON0 + rng.float(0, COLS * CELL_DEG);
    const { gridCode: g } = locator.locate(lon, lat);
    const level = rng.weighted([
      [0, 80],
      [1, 10],
      [2, 10],
    ] as const);
    const [c, r] = [Number(g.slice(4, 7)), Number(g.slice(1, 4))];
    const incident: Incident = {
      id: `i${i}`,
      source: 'resident',
      category: rng.pick(['drain', 'noise', 'door.forced', 'camera.fire', 'garbage']),
      priority: 'normal',
      lat,
      lon,
      gridCode: g,
      state: 'reported',
      version: 1,
      escalationLevel: level,
      assigneeId: null,
      triedWorkerIds: [],
      reporterId: null,
      reopenCount: 0,
      rating: null,
      createdAt: T0,
      updatedAt: T0,
      slaStartedAt: T0,
    };
    return { incident, options: { scopeGridCodes: level === 2 ? communityGrids(c, r) : [g], neighbourRadiusM: 1500 } };
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function time(run: () => unknown): number {
  const t = performance.now();
  run();
  return performance.now() - t;
}

function bench(n: number, cases: Case[]): void {
  const ws = workers(n);
  const buildMs = time(() => WorkerIndex.build(ws, T0));
  const index = WorkerIndex.build(ws, T0);
  for (const k of cases) rankCandidates(k.incident, index, k.options, clock); // warm-up (JIT), one full pass
  let found = 0;
  const raw = cases.map((k) =>
    time(() => {
      found += rankCandidates(k.incident, index, k.options, clock).length;
    }),
  );
  // Two more passes; the per-incident minimum strips preemption by other processes on a shared box.
  const best = raw.slice();
  for (let pass = 0; pass < 2; pass++)
    cases.forEach((k, i) => {
      best[i] = Math.min(
        best[i],
        time(() => rankCandidates(k.incident, index, k.options, clock)),
      );
    });
  const samples = raw.slice().sort((a, b) => a - b);
  const bestSorted = best.sort((a, b) => a - b);
  const total = samples.reduce((s, x) => s + x, 0);

  const base = cases.slice(0, BASELINE_INCIDENTS);
  for (const k of base.slice(0, 20)) rankCandidatesByScan(k.incident, ws, k.options, clock); // warm-up
  const baseSamples = base.map((k) => time(() => rankCandidatesByScan(k.incident, ws, k.options, clock))).sort((a, b) => a - b);
  // Same answers, or the speed-up means nothing.
  for (const k of base.slice(0, 50)) {
    if (
      JSON.stringify(rankCandidates(k.incident, index, k.options, clock)) !==
      JSON.stringify(rankCandidatesByScan(k.incident, ws, k.options, clock))
    ) {
      throw new Error(`index and scan disagree on ${k.incident.id}`);
    }
  }
  const p50 = percentile(samples, 50);
  const b50 = percentile(baseSamples, 50);
  console.log(
    `${String(n).padStart(6)} workers | index p50 ${p50.toFixed(3)} ms  p99 ${percentile(samples, 99).toFixed(3)} ms  ` +
      `max ${samples[samples.length - 1].toFixed(3)} ms  ${Math.round((cases.length / total) * 1000)} rankings/s  ` +
      `(${(found / cases.length).toFixed(1)} candidates/ranking, index build ${buildMs.toFixed(1)} ms)\n` +
      `${' '.repeat(6)}         | index, best of 3 passes per incident: p50 ${percentile(bestSorted, 50).toFixed(3)} ms  p99 ${percentile(bestSorted, 99).toFixed(3)} ms\n` +
      `${' '.repeat(6)}         | full-scan baseline p50 ${b50.toFixed(3)} ms  p99 ${percentile(baseSamples, 99).toFixed(3)} ms  ` +
      `${Math.round((base.length / baseSamples.reduce((s, x) => s + x, 0)) * 1000)} rankings/s  → index is ${(b50 / p50).toFixed(0)}× faster at p50`,
  );
}

const cases = incidents();
console.log(
  `dispatch ranking bench — ${new Date().toISOString()} — node ${process.version} — ${cpus()[0]?.model ?? 'cpu?'} × ${cpus().length}`,
);
console.log(
  `load average before: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} (other processes inflate the single-pass p99)`,
);
console.log(
  `${COLS * ROWS} grids, ${INCIDENTS} incidents (80 % grid level, 10 % grid leader, 10 % community scope), radius 1500 m, seed ${SEED}`,
);
for (const n of [3400, 34000]) bench(n, cases);
