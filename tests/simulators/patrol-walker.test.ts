import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { describe, expect, it } from 'vitest';
import { buildDemoDistrict } from '../../simulators/demo-district.js';
import { toLocal } from '../../simulators/geo-local.js';
import { PatrolWalker } from '../../simulators/patrol-walker.js';
import { createRng } from '../../simulators/rng.js';

const district = buildDemoDistrict({ seed: 42, handsets: 6 });
const grids = district.regions.features.filter((f) => f.properties.level === 'grid').slice(0, 4);

describe('patrol walker', () => {
  it('stays inside its grid, at walking speed, through half a shift of one-second steps', () => {
    for (const grid of grids) {
      const walker = new PatrolWalker(grid.geometry, createRng(`walk:${grid.properties.code}`));
      let prev = walker.state;
      let moved = 0;
      let movingSteps = 0;
      // Collected, then asserted once: an expect() per step would dominate the run time.
      const bad: string[] = [];
      for (let step = 0; step < 4 * 3600; step++) {
        const s = walker.advance(1);
        const local = toLocal(prev, s);
        const d = Math.hypot(local.x, local.y);
        if (!booleanPointInPolygon([s.lon, s.lat], grid.geometry)) bad.push(`step ${step} outside at ${s.lat},${s.lon}`);
        if (d > 1.5 + 1e-6) bad.push(`step ${step} jumped ${d} m`);
        if (!(s.heading >= 0 && s.heading < 360)) bad.push(`step ${step} heading ${s.heading}`);
        if (s.speed > 0) {
          if (s.speed < 1.2 || s.speed > 1.5) bad.push(`step ${step} speed ${s.speed}`);
          moved += d;
          movingSteps++;
        }
        prev = s;
      }
      expect(bad.slice(0, 5)).toEqual([]);
      // Mostly walking, sometimes lingering; corners shorten a step a little.
      expect(movingSteps).toBeGreaterThan(3600 * 2);
      expect(moved / movingSteps).toBeGreaterThan(1.1);
    }
  });

  it('replays the same walk for the same seed', () => {
    const grid = grids[0];
    if (!grid) throw new Error('no grid');
    const a = new PatrolWalker(grid.geometry, createRng('same'));
    const b = new PatrolWalker(grid.geometry, createRng('same'));
    const c = new PatrolWalker(grid.geometry, createRng('other'));
    for (let i = 0; i < 500; i++) {
      a.advance(2);
      b.advance(2);
      c.advance(2);
    }
    expect(a.state).toEqual(b.state);
    expect(a.state).not.toEqual(c.state);
  });
});
