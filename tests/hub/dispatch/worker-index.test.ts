import { describe, expect, it } from 'vitest';
import { WorkerIndex } from '../../../hub/dispatch/worker-index.js';
import { haversineM } from '../../../hub/regions/geo-measure.js';
import { createRng } from '../../../simulators/rng.js';
import { aWorker, T0 } from './builders.js';

describe('WorkerIndex', () => {
  const rng = createRng('worker-index');
  const workers = Array.from({ length: 2000 }, (_, i) =>
    aWorker({
      id: `w${i}`,
      gridCodes: i % 7 === 0 ? [`G${i % 50}`, `G${(i + 1) % 50}`] : [`G${i % 50}`],
      position: i % 20 === 0 ? null : { lat: 27.7 + rng.float(0, 0.2), lon: 113.0 + rng.float(0, 0.2), ts: T0 },
    }),
  );
  const index = WorkerIndex.build(workers, T0);

  it('lists the workers answering for a grid, including those with several grids', () => {
    const inG3 = index.inGrid('G3').map((i) => workers[i].id);
    expect(inG3).toEqual(workers.filter((w) => w.gridCodes.includes('G3')).map((w) => w.id));
    expect(index.inGrid('nope')).toEqual([]);
  });

  it('finds every positioned worker within the radius (a superset the caller trims)', () => {
    for (let k = 0; k < 50; k++) {
      const lat = 27.7 + rng.float(0, 0.2);
      const lon = 113.0 + rng.float(0, 0.2);
      const found = new Set(index.near(lat, lon, 1500));
      workers.forEach((w, i) => {
        if (w.position && haversineM(lat, lon, w.position.lat, w.position.lon) <= 1500) expect(found.has(i)).toBe(true);
      });
    }
  });

  it('copes with nobody positioned', () => {
    expect(WorkerIndex.build([aWorker({ id: 'a', position: null })], T0).near(27.8, 113.1, 1500)).toEqual([]);
  });
});
