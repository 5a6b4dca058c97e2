// Residents' decisions, pure and seeded: when complaints come (day profile), where (inside, on a
// shared grid border, just outside the district), what, and how they rate.
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { describe, expect, it } from 'vitest';
import { buildDemoDistrict } from '../../simulators/demo-district.js';
import { fromLocal, toLocal, type LatLon } from '../../simulators/geo-local.js';
import {
  DEFAULT_RESIDENT_BEHAVIOUR,
  HOURLY_PROFILE,
  hourInShanghai,
  newComplaint,
  nextComplaintAt,
  ratingFor,
} from '../../simulators/resident-model.js';
import { createRng } from '../../simulators/rng.js';

const district = buildDemoDistrict({ seed: 5, handsets: 4 });
const grids = district.regions.features.filter((f) => f.properties.level === 'grid');
const outer = district.regions.features.find((f) => f.properties.level === 'district')?.geometry;
const T0 = Date.parse('2026-11-25T00:00:00+08:00');
const gridsAround = (p: LatLon, m: number): Set<string> => {
  const codes = new Set<string>();
  for (const [dx, dy] of [
    [m, 0],
    [-m, 0],
    [0, m],
    [0, -m],
  ] as const) {
    const q = fromLocal(p, dx, dy);
    for (const g of grids) if (booleanPointInPolygon([q.lon, q.lat], g.geometry, { ignoreBoundary: true })) codes.add(g.properties.code);
  }
  return codes;
};
/** Metres from p to the nearest edge of the district's outline. */
function toOutlineM(p: LatLon): number {
  const ring = outer?.coordinates[0] ?? [];
  let best = Infinity;
  for (let i = 0; i + 1 < ring.length; i++) {
    const a = toLocal(p, { lon: ring[i]?.[0] ?? 0, lat: ring[i]?.[1] ?? 0 });
    const b = toLocal(p, { lon: ring[i + 1]?.[0] ?? 0, lat: ring[i + 1]?.[1] ?? 0 });
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const t = Math.max(0, Math.min(1, -(a.x * dx + a.y * dy) / (dx * dx + dy * dy || 1)));
    best = Math.min(best, Math.hypot(a.x + t * dx, a.y + t * dy));
  }
  return best;
}

describe('resident model', () => {
  it('files at the configured rate on average, few at night, most in the morning and evening', () => {
    const rng = createRng('arrivals');
    const byHour = new Array<number>(24).fill(0);
    let t = T0;
    let n = 0;
    const days = 30;
    for (;;) {
      t = nextComplaintAt(t, rng, 4);
      if (t >= T0 + days * 86_400_000) break;
      byHour[hourInShanghai(t)] = (byHour[hourInShanghai(t)] ?? 0) + 1;
      n++;
    }
    expect(n / (days * 24)).toBeGreaterThan(3.6);
    expect(n / (days * 24)).toBeLessThan(4.4);
    const at = (h: number) => (byHour[h] ?? 0) / days;
    expect(at(3)).toBeLessThan(1);
    expect(at(10)).toBeGreaterThan(4);
    expect(HOURLY_PROFILE.reduce((a, b) => a + b, 0) / 24).toBeCloseTo(1, 6);
  });

  it('places most complaints inside a grid, some exactly on a border two grids share, a few just outside', () => {
    const rng = createRng('places');
    const count = { inside: 0, border: 0, outside: 0 };
    const bad: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const c = newComplaint(district, rng);
      count[c.place]++;
      const around = gridsAround(c, 0.5);
      const inDistrict = booleanPointInPolygon([c.lon, c.lat], outer ?? { type: 'Polygon', coordinates: [] });
      // Inside: strictly inside exactly one grid (it may still fall close to an edge by chance).
      if (c.place === 'inside' && (gridsAround(c, 0).size !== 1 || !inDistrict)) bad.push(`inside ${c.lat},${c.lon}`);
      if (c.place === 'border' && around.size < 2) bad.push(`border ${c.lat},${c.lon} near ${around.size} grids`);
      if (c.place === 'outside' && (inDistrict || toOutlineM(c) < 14 || toOutlineM(c) > 251))
        bad.push(`outside ${c.lat},${c.lon} at ${toOutlineM(c)} m`);
      if (!/^1[3-9]\d{9}$/.test(c.phone) || !c.name || !c.description) bad.push(`contact ${c.phone} ${c.name}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(count.border / 1500).toBeGreaterThan(0.09);
    expect(count.border / 1500).toBeLessThan(0.15);
    expect(count.outside / 1500).toBeGreaterThan(0.04);
    expect(count.outside / 1500).toBeLessThan(0.08);
  });

  it('rates mostly satisfied, sometimes unsatisfied (reopens), rarely not at all, and ends by the third round', () => {
    const rng = createRng('ratings');
    const first = Array.from({ length: 5000 }, () => ratingFor(0, rng));
    const silent = first.filter((d) => d.kind === 'silent').length / 5000;
    const unhappy = first.filter((d) => d.kind === 'rate' && d.score <= 2).length / 5000;
    expect(silent).toBeCloseTo(DEFAULT_RESIDENT_BEHAVIOUR.silentShare, 1);
    expect(unhappy).toBeGreaterThan(0.09);
    expect(unhappy).toBeLessThan(0.15);
    for (const d of first) if (d.kind === 'rate') expect(d.score <= 2 ? Boolean(d.comment) : d.score >= 3).toBe(true);
    const again = Array.from({ length: 5000 }, () => ratingFor(1, rng));
    expect(again.every((d) => d.kind === 'rate')).toBe(true);
    expect(again.filter((d) => d.kind === 'rate' && d.score <= 2).length / 5000).toBeLessThan(0.07);
    expect(Array.from({ length: 1000 }, () => ratingFor(2, rng)).every((d) => d.kind === 'rate' && d.score >= 3)).toBe(true);
  });

  it('is the same for the same seed', () => {
    const a = Array.from({ length: 20 }, (_, i) => newComplaint(district, createRng(`same:${i}`)));
    const b = Array.from({ length: 20 }, (_, i) => newComplaint(district, createRng(`same:${i}`)));
    expect(a).toEqual(b);
  });
});
