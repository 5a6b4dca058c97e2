// The bench's position history and the measuring helpers every part of bench:storage shares: a
// seeded walk per worker, one fix per 10 s, from a fixed Shanghai day, so every run writes and
// reads the same rows.
import type { PositionRow } from '../../hub/rows/row-types.js';
import { shanghaiDayStart } from '../../hub/analytics/coverage-cells.js';
import { createRng } from '../../simulators/rng.js';

export const FIX_MS = 10_000;
export const PER_DAY = 86_400_000 / FIX_MS;
export const DAY0 = shanghaiDayStart('2026-10-01');
/** The district's month: 3,400 workers × 30 days, for the extrapolation. */
export const TARGET_ROWS = 3400 * 30 * PER_DAY;

/** The project's one seeded PRNG (simulators/rng.ts), as a bare function. */
export function rng(seed: number): () => number {
  const r = createRng(seed);
  return () => r.next();
}

/** Every worker walks (≈1.4 m/s random walk) in its own grid; rows in arrival order, time-major. */
export function history(workers: number, days: number): PositionRow[] {
  const rand = rng(42);
  const pos = Array.from({ length: workers }, (_, w) => ({ lat: 27.8 + (w % 60) * 0.003, lon: 113.0 + Math.floor(w / 60) * 0.003 }));
  const rows: PositionRow[] = [];
  for (let s = 0; s < days * PER_DAY; s++) {
    const ts = DAY0 + s * FIX_MS;
    for (let w = 0; w < workers; w++) {
      const p = pos[w];
      p.lat += (rand() - 0.5) * 0.00025;
      p.lon += (rand() - 0.5) * 0.00025;
      const id = String(w).padStart(5, '0');
      rows.push({
        deviceId: `hs-${id}`,
        workerId: `w-${id}`,
        ts,
        lat: p.lat,
        lon: p.lon,
        acc: 5,
        alt: null,
        speed: 1.4,
        heading: null,
        battery: 80,
        seq: s,
      });
    }
  }
  return rows;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export function pct(xs: number[], p: number): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export const f0 = (x: number | null) => (x === null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
export const f1 = (x: number) => x.toFixed(1);
