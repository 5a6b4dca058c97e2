// The ingest's fence (positions.in_grid): a worker's answer is reused while the handset stays
// closer to its last tested point than half the way to the nearest edge. Reused or not, every
// answer must be the polygon test's own; and new grids (a reload) must never get an old answer.
import type { MultiPolygon, Polygon } from 'geojson';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { OwnGridFence, clearance, fence, insideAny } from '../../../hub/regions/own-grid-fence.js';
import type { RegionDirectory } from '../../../hub/regions/region-directory.js';

/** A concave "C" with a square hole in its back, and a small square apart from it. */
const C_SHAPE: Polygon = {
  type: 'Polygon',
  coordinates: [
    [
      [113.0, 27.0],
      [113.1, 27.0],
      [113.1, 27.02],
      [113.02, 27.02],
      [113.02, 27.08],
      [113.1, 27.08],
      [113.1, 27.1],
      [113.0, 27.1],
      [113.0, 27.0],
    ],
    [
      [113.005, 27.045],
      [113.012, 27.045],
      [113.012, 27.055],
      [113.005, 27.055],
      [113.005, 27.045],
    ],
  ],
};
const ISLAND: MultiPolygon = {
  type: 'MultiPolygon',
  coordinates: [
    [
      [
        [113.05, 27.04],
        [113.07, 27.04],
        [113.07, 27.06],
        [113.05, 27.06],
        [113.05, 27.04],
      ],
    ],
  ],
};

async function fenceFor(grids: Record<string, string[]>, shapes: Record<string, Polygon | MultiPolygon>): Promise<OwnGridFence> {
  const f = new OwnGridFence();
  await f.load(
    { query: async () => ({ rows: Object.entries(grids).map(([id, grid_codes]) => ({ id, grid_codes })) }) } as unknown as Pick<
      pg.Pool,
      'query'
    >,
    { get: (code: string) => (shapes[code] ? { geometry: shapes[code] } : undefined) } as unknown as RegionDirectory,
  );
  return f;
}

/** Seeded: the same walk every run. */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('own grid fence', () => {
  it('answers as the polygon test does for every fix of walks that cross edges, holes and corners', async () => {
    const f = await fenceFor({ w1: ['C', 'I'] }, { C: C_SHAPE, I: ISLAND });
    const reference = [fence(C_SHAPE), fence(ISLAND)];
    const next = rng(7);
    let lon = 113.03;
    let lat = 27.05;
    let inside = 0;
    let n = 0;
    for (let step = 0; step < 20_000; step++) {
      // Mostly small steps (a walk), now and then a jump; sometimes exactly onto a vertex or an edge.
      const big = next() < 0.05;
      lon = Math.min(113.12, Math.max(112.98, lon + (next() - 0.5) * (big ? 0.05 : 0.0008)));
      lat = Math.min(27.12, Math.max(26.98, lat + (next() - 0.5) * (big ? 0.05 : 0.0008)));
      const [x, y] = next() < 0.01 ? [113.02, 27.02 + next() * 0.06] : next() < 0.01 ? [113.1, 27.1] : [lon, lat];
      const want = insideAny(reference, x, y);
      expect(f.inside('w1', x, y), `${x},${y}`).toBe(want);
      if (want) inside++;
      n++;
    }
    // The walk really went both ways.
    expect(inside).toBeGreaterThan(n / 10);
    expect(inside).toBeLessThan(n - n / 10);
  });

  it('gives no old answer after a reload with other grids', async () => {
    const shapes = { C: C_SHAPE, I: ISLAND };
    const f = await fenceFor({ w1: ['I'] }, shapes);
    expect(f.inside('w1', 113.06, 27.05)).toBe(true);
    expect(f.inside('w1', 113.0601, 27.0501)).toBe(true); // from the remembered answer
    // The worker's grid is now the C: that point lies in its open mouth.
    await f.load(
      { query: async () => ({ rows: [{ id: 'w1', grid_codes: ['C'] }] }) } as unknown as Pick<pg.Pool, 'query'>,
      { get: (code: string) => ({ geometry: shapes[code as 'C' | 'I'] }) } as unknown as RegionDirectory,
    );
    expect(f.inside('w1', 113.0601, 27.0501)).toBe(false);
    expect(f.inside('w2', 113.0601, 27.0501)).toBeNull();
  });

  it('measures the room to the nearest edge, or to the box of a fence that is away', () => {
    const square = fence(ISLAND);
    expect(clearance([square], 113.06, 27.05)).toBeCloseTo(0.01, 10);
    expect(clearance([square], 113.055, 27.05)).toBeCloseTo(0.005, 10);
    expect(clearance([square], 113.05, 27.05)).toBe(0);
    expect(clearance([square], 113.08, 27.05)).toBeCloseTo(0.01, 10);
  });
});
