import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { describe, expect, it } from 'vitest';
import { buildDemoDistrict, demoSecret, type DemoDistrict, type RegionFeature } from '../../simulators/demo-district.js';
import { samplePointIn } from '../../simulators/geo-local.js';
import { createRng } from '../../simulators/rng.js';
import { directedEdges, isConvexCcw, isSimpleRing, reverseEdge, signedArea } from './geometry-checks.js';

const SEED = 20261125;
const district = buildDemoDistrict({ seed: SEED, handsets: 24 });
const byLevel = (d: DemoDistrict, level: string): RegionFeature[] => d.regions.features.filter((f) => f.properties.level === level);
const ringOf = (f: RegionFeature) => f.geometry.coordinates[0] ?? [];
const grids = byLevel(district, 'grid');

describe('demo district', () => {
  it('is the same for the same seed and different for another', () => {
    expect(JSON.stringify(buildDemoDistrict({ seed: SEED, handsets: 24 }))).toBe(JSON.stringify(district));
    const other = buildDemoDistrict({ seed: SEED + 1, handsets: 24 });
    expect(JSON.stringify(other.regions)).not.toBe(JSON.stringify(district.regions));
    expect(other.workers.map((w) => w.name)).not.toEqual(district.workers.map((w) => w.name));
    expect(other.handsets[0]?.secret).not.toBe(district.handsets[0]?.secret);
  });

  it('has the tree 1 district → 3 streets → 2-3 communities → 3-4 grids, parents listed first', () => {
    expect(byLevel(district, 'district')).toHaveLength(1);
    const streets = byLevel(district, 'street');
    expect(streets).toHaveLength(3);
    const seen = new Set<string>();
    for (const f of district.regions.features) {
      const { code, parent, name } = f.properties;
      if (parent !== null) {
        expect(seen.has(parent), `${code}'s parent ${parent} comes first`).toBe(true);
        expect(code.startsWith(parent)).toBe(true);
      }
      expect(name).toMatch(/[\u4e00-\u9fff]/);
      seen.add(code);
      expect(Object.keys(f.properties).sort()).toEqual(['code', 'level', 'name', 'parent']);
    }
    for (const s of streets) {
      const communities = district.regions.features.filter((f) => f.properties.parent === s.properties.code);
      expect(communities.length).toBeGreaterThanOrEqual(2);
      expect(communities.length).toBeLessThanOrEqual(3);
      for (const c of communities) {
        const n = grids.filter((g) => g.properties.parent === c.properties.code).length;
        expect(n).toBeGreaterThanOrEqual(3);
        expect(n).toBeLessThanOrEqual(4);
      }
    }
    expect(grids.length).toBeGreaterThanOrEqual(18);
    expect(grids.length).toBeLessThanOrEqual(36);
  });

  it('has valid grid polygons: closed, simple, counter-clockwise, convex, a few hundred metres across', () => {
    for (const g of grids) {
      const ring = ringOf(g);
      expect(ring.length).toBeGreaterThanOrEqual(5);
      expect(ring[0]).toEqual(ring[ring.length - 1]);
      expect(isSimpleRing(ring)).toBe(true);
      expect(signedArea(ring)).toBeGreaterThan(0);
      expect(isConvexCcw(ring)).toBe(true);
      const lons = ring.map((p) => p[0] as number);
      const widthM = (Math.max(...lons) - Math.min(...lons)) * 98_400;
      expect(widthM).toBeGreaterThan(200);
      expect(widthM).toBeLessThan(600);
    }
  });

  it('lets neighbouring grids share edges exactly; the only unshared edges are the district outline', () => {
    const owners = new Map<string, string[]>();
    for (const g of grids) for (const e of directedEdges(ringOf(g))) owners.set(e, [...(owners.get(e) ?? []), g.properties.code]);
    const outline = new Set(directedEdges(ringOf(byLevel(district, 'district')[0] as RegionFeature)));
    let shared = 0;
    for (const [edge, codes] of owners) {
      expect(codes).toHaveLength(1); // no two grids run along the same edge the same way: no overlap
      const twin = owners.get(reverseEdge(edge));
      if (twin) shared++;
      else expect(outline.has(edge), `edge ${edge} of ${codes[0]} is shared or on the outline`).toBe(true);
    }
    expect(shared).toBeGreaterThan(grids.length);
    // And every outline edge is some grid's edge.
    for (const e of outline) expect(owners.has(e)).toBe(true);
  });

  it('makes every parent exactly the union of its children', () => {
    const rng = createRng('coverage');
    for (const parent of district.regions.features.filter((f) => f.properties.level !== 'grid')) {
      const kids = district.regions.features.filter((f) => f.properties.parent === parent.properties.code);
      expect(kids.length).toBeGreaterThan(0);
      // Edge algebra: the children's edges minus their shared (twin) edges are the parent's outline.
      const kidEdges = new Set(kids.flatMap((k) => directedEdges(ringOf(k))));
      const outer = [...kidEdges].filter((e) => !kidEdges.has(reverseEdge(e))).sort();
      expect(outer).toEqual(directedEdges(ringOf(parent)).sort());
      // Sampling: points of a child lie in the parent; points of the parent lie in exactly one child.
      for (const k of kids) {
        for (let i = 0; i < 20; i++) {
          const p = samplePointIn(k.geometry, rng);
          expect(booleanPointInPolygon([p.lon, p.lat], parent.geometry)).toBe(true);
        }
      }
      for (let i = 0; i < 100; i++) {
        const p = samplePointIn(parent.geometry, rng);
        expect(kids.filter((k) => booleanPointInPolygon([p.lon, p.lat], k.geometry))).toHaveLength(1);
      }
    }
  });

  it('staffs every grid and community and issues exactly the configured handsets', () => {
    for (const g of grids) {
      const n = district.workers.filter((w) => w.role === 'grid_worker' && w.gridCodes.includes(g.properties.code)).length;
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(2);
    }
    for (const c of byLevel(district, 'community')) {
      expect(
        district.workers.filter((w) => w.role === 'grid_leader' && w.gridCodes.some((code) => code.startsWith(c.properties.code))),
      ).toHaveLength(1);
    }
    expect(district.workers.some((w) => w.role === 'community_police')).toBe(true);
    expect(district.workers.some((w) => w.role === 'department_staff')).toBe(true);
    for (const w of district.workers) expect(w.name).toMatch(/^[\u4e00-\u9fff]{2,4}$/);

    expect(district.handsets).toHaveLength(24);
    expect(new Set(district.handsets.map((h) => h.workerId)).size).toBe(24);
    // One per grid first: 24 handsets land in 24 different grids.
    expect(new Set(district.handsets.map((h) => h.gridCode)).size).toBe(24);
    expect(district.handsets.some((h) => h.crs === 'gcj02')).toBe(true);
    expect(buildDemoDistrict({ seed: SEED, handsets: 0 }).handsets).toHaveLength(0);
  });

  it('derives ids and demo secrets deterministically', () => {
    const devices = [...district.handsets, ...district.doors, ...district.cameras];
    expect(district.handsets[0]?.id).toBe('hs-0001');
    expect(district.doors[0]?.id).toBe('door-0001');
    expect(district.cameras[0]?.id).toBe('cam-0001');
    for (const d of devices) {
      expect(d.secret).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(d.secret).toBe(demoSecret(SEED, d.id));
    }
    expect(new Set(devices.map((d) => d.secret)).size).toBe(devices.length);
  });

  it('places doors and cameras inside their grids', () => {
    const polygons = new Map(grids.map((g) => [g.properties.code, g.geometry]));
    expect(district.doors.length).toBeGreaterThan(grids.length / 2);
    expect(district.cameras.length).toBeGreaterThan(0);
    for (const d of [...district.doors, ...district.cameras]) {
      const polygon = polygons.get(d.gridCode);
      expect(polygon).toBeDefined();
      expect(booleanPointInPolygon([d.lon, d.lat], polygon as NonNullable<typeof polygon>)).toBe(true);
    }
  });

  it('grows by whole streets for more handsets and keeps the first streets as they were', () => {
    const big = buildDemoDistrict({ seed: SEED, handsets: 400 });
    expect(big.handsets).toHaveLength(400);
    expect(byLevel(big, 'street').length).toBeGreaterThan(3);
    const shape = (d: DemoDistrict) =>
      byLevel(d, 'grid')
        .slice(0, grids.length)
        .map((f) => [f.properties.code, f.properties.name]);
    expect(shape(big)).toEqual(shape(district));
    // Still one outline without gaps: the district ring is the union of all grids (see above), simple.
    expect(isSimpleRing(ringOf(byLevel(big, 'district')[0] as RegionFeature))).toBe(true);
  });
});
