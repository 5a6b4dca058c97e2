import { describe, expect, it } from 'vitest';
import { buildGridLocator, gridLocatorFromTree, type GridShape } from '../../../hub/regions/grid-locator.js';
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { distanceToEdgesM, haversineM, localProjection } from '../../../hub/regions/geo-measure.js';
import { parseRegions, regionsAtLevel } from '../../../hub/regions/region-tree.js';
import { createRng } from '../../../simulators/rng.js';
import { fixture } from './fixtures.js';

const { tree } = parseRegions(fixture('two-streets.geojson'), { skipGeometry: true });
const grids: GridShape[] = regionsAtLevel(tree, 'grid').map((r) => ({ code: r.code, geometry: r.geometry }));
const A1 = '430211001001-01'; // 东风街道
const A2 = '430211001001-02';
const B1 = '430211002001-01'; // 建设街道
const B2 = '430211002001-02';
const B3 = '430211002001-03'; // the enclave in B2's hole

/** Owners of a point under many seeded load orders of the same grids. */
function ownersUnderShuffles(lon: number, lat: number, rounds = 20): Set<string> {
  const rng = createRng('drain-on-the-border');
  const owners = new Set<string>();
  for (let i = 0; i < rounds; i++) owners.add(buildGridLocator(rng.shuffle(grids)).locate(lon, lat).gridCode);
  return owners;
}

describe('grid locator', () => {
  const locator = gridLocatorFromTree(tree);

  it('puts a point inside one grid in that grid, unflagged', () => {
    expect(locator.locate(113.12, 27.82)).toEqual({ gridCode: A1, flagged: null });
    expect(locator.locate(113.14, 27.81)).toEqual({ gridCode: A1, flagged: null }); // second part of the MultiPolygon
    expect(locator.locate(113.19, 27.855)).toEqual({ gridCode: B2, flagged: null });
  });

  it('gives a point in a hole to the grid filling the hole, not the grid around it', () => {
    expect(locator.locate(113.185, 27.845)).toEqual({ gridCode: B3, flagged: null });
  });

  it('the drain on the border of two streets: a point on the shared edge gets exactly one owner, whatever the load order', () => {
    // Vertical edges and vertices are exactly representable: these points are ON both boundaries.
    const onEdge: [number, number, string, string][] = [
      [113.15, 27.8, A1, B1], // a vertex both streets share on the district border
      [113.16, 27.83, A1, B1], // the four-grid vertex where the streets' border bends
      [113.155, 27.845, A2, B2], // on the diagonal border (may round to one side: still one owner)
      [113.18, 27.845, B2, B3], // the enclave's edge
    ];
    for (const [lon, lat, expected, other] of onEdge) {
      const owners = ownersUnderShuffles(lon, lat);
      expect(owners.size, `${lon},${lat}`).toBe(1);
      const owner = [...owners][0];
      expect([expected, other]).toContain(owner);
      expect(locator.locate(lon, lat).flagged).toBeNull();
    }
    // Exact shared points go to the lowest code, and the others are named for the audit.
    expect(locator.locate(113.16, 27.83)).toEqual({ gridCode: A1, flagged: null, tiedWith: [A2, B1, B2] });
    expect(locator.locate(113.18, 27.845)).toMatchObject({ gridCode: B2, tiedWith: [B3] });
  });

  it('walks both bent street borders: every point on them has one owner, stable under shuffles', () => {
    const rng = createRng('border-walk');
    const borders: [number, number, number, number][] = [
      [113.15, 27.8, 113.16, 27.83],
      [113.16, 27.83, 113.15, 27.86],
    ];
    for (let k = 0; k < 40; k++) {
      const [x0, y0, x1, y1] = borders[k % 2];
      const t = rng.next();
      const lon = x0 + (x1 - x0) * t;
      const lat = y0 + (y1 - y0) * t;
      const owners = ownersUnderShuffles(lon, lat, 6);
      expect(owners.size).toBe(1);
      expect([A1, A2, B1, B2]).toContain([...owners][0]);
    }
  });

  it('sends a point outside every grid to the nearest one, flagged with the distance', () => {
    const east = locator.locate(113.25, 27.845);
    expect(east.gridCode).toBe(B2);
    expect(east.flagged).toBe('outside');
    const expected = haversineM(27.845, 113.25, 27.845, 113.2);
    expect(Math.abs((east.distanceM ?? 0) - expected) / expected).toBeLessThan(0.01);

    expect(locator.locate(113.05, 27.815)).toMatchObject({ gridCode: A1, flagged: 'outside' });
    // Equidistant from two grids (level with their shared vertex): the lowest code, every order.
    expect(locator.locate(113.3, 27.83)).toMatchObject({ gridCode: B1, flagged: 'outside' });
    expect(ownersUnderShuffles(113.3, 27.83)).toEqual(new Set([B1]));
    // Far away still has an owner: nobody's case is ever unowned (DESIGN §4).
    expect(locator.locate(100, 40).flagged).toBe('outside');
  });

  it('agrees with a brute-force scan, whatever the load order, on random points in and around the district', () => {
    const rng = createRng('locator-vs-scan');
    const shuffled = buildGridLocator(createRng(7).shuffle(grids));
    const proj = localProjection(27.83);
    const sorted = [...grids].sort((a, b) => (a.code < b.code ? -1 : 1));
    for (let i = 0; i < 500; i++) {
      const lon = rng.float(113.05, 113.25);
      const lat = rng.float(27.75, 27.91);
      const got = shuffled.locate(lon, lat);
      expect(got).toEqual(locator.locate(lon, lat));
      const containing = sorted.filter((g) => booleanPointInPolygon([lon, lat], g.geometry));
      if (containing.length > 0) {
        expect(got.gridCode).toBe(containing[0].code);
        continue;
      }
      const dists = sorted.map((g) => distanceToEdgesM(lon, lat, g.geometry, proj));
      const min = Math.min(...dists);
      expect(got.gridCode).toBe(sorted[dists.indexOf(min)].code);
      expect(Math.abs((got.distanceM ?? -1) - min)).toBeLessThan(1); // reference latitude differs slightly
    }
  });

  it('refuses to build without grids or with a duplicate code', () => {
    expect(() => buildGridLocator([])).toThrow(/at least one grid/);
    expect(() => buildGridLocator([grids[0], grids[0]])).toThrow(/duplicate/);
  });
});
