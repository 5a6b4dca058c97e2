import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import {
  categoryFitness,
  rankCandidates,
  rankCandidatesByScan,
  type MatchOptions,
  type RankedCandidate,
} from '../../../hub/dispatch/dispatch-matching.js';
import { WorkerIndex, type DispatchWorker } from '../../../hub/dispatch/worker-index.js';
import { createRng } from '../../../simulators/rng.js';
import { anIncident, aWorker, T0 } from './builders.js';

const clock = new ManualClock(T0);
const incident = anIncident({ lat: 27.83, lon: 113.12, gridCode: 'G1', category: 'drain' });
const M = 1 / 111_195; // one metre of latitude in degrees

function rank(workers: DispatchWorker[], options: MatchOptions = {}, inc = incident): RankedCandidate[] {
  const viaIndex = rankCandidates(inc, WorkerIndex.build(workers, T0), options, clock);
  // The index must never change the answer, only the speed.
  expect(viaIndex).toEqual(rankCandidatesByScan(inc, workers, options, clock));
  return viaIndex;
}
const ids = (r: RankedCandidate[]): string[] => r.map((c) => c.workerId);

describe('rankCandidates', () => {
  it('prefers the own grid worker to a closer neighbour (人在格中走，事在格中办)', () => {
    const r = rank([
      aWorker({ id: 'near-neighbour', gridCodes: ['G2'], position: { lat: 27.83 + 10 * M, lon: 113.12, ts: T0 } }),
      aWorker({ id: 'own-far', gridCodes: ['G1'], position: { lat: 27.83 + 1400 * M, lon: 113.12, ts: T0 - 14 * 60_000 }, load: 5 }),
    ]);
    expect(ids(r)).toEqual(['own-far', 'near-neighbour']);
    expect(r.map((c) => c.via)).toEqual(['own_grid', 'neighbour']);
    expect(r[1].total).toBeGreaterThan(r[0].total); // the score alone would not have said so
  });

  it('can rank by score alone when asked', () => {
    const r = rank(
      [
        aWorker({ id: 'near-neighbour', gridCodes: ['G2'], position: { lat: 27.83 + 10 * M, lon: 113.12, ts: T0 } }),
        aWorker({ id: 'own-far', gridCodes: ['G1'], position: { lat: 27.83 + 1400 * M, lon: 113.12, ts: T0 - 14 * 60_000 }, load: 5 }),
      ],
      { ownGridFirst: false },
    );
    expect(ids(r)).toEqual(['near-neighbour', 'own-far']);
  });

  it('skips off-duty, offline, wrong-role and already-tried workers', () => {
    const r = rank(
      [
        aWorker({ id: 'ok' }),
        aWorker({ id: 'off-duty', duty: 'off' }),
        aWorker({ id: 'offline', online: false }),
        aWorker({ id: 'leader', role: 'grid_leader' }),
        aWorker({ id: 'tried' }),
      ],
      {},
      anIncident({ triedWorkerIds: ['tried'] }),
    );
    expect(ids(r)).toEqual(['ok']);
  });

  it('takes the roles of the escalation level: grid leaders at level 1', () => {
    const ws = [aWorker({ id: 'worker' }), aWorker({ id: 'leader', role: 'grid_leader' })];
    expect(ids(rank(ws, {}, anIncident({ escalationLevel: 1 })))).toEqual(['leader']);
    expect(ids(rank(ws, { allowedRoles: ['grid_worker', 'grid_leader'] }))).toEqual(['leader', 'worker']);
  });

  it('filters by category and scores fitness: exact > family > anything', () => {
    expect(categoryFitness(['drain'], 'drain')).toBe(1);
    expect(categoryFitness(['door.*'], 'door.forced')).toBe(0.8);
    expect(categoryFitness(['*'], 'door.forced')).toBe(0.6);
    expect(categoryFitness(['noise', 'door.*'], 'camera.fire')).toBe(0);
    const r = rank([
      aWorker({ id: 'a-any', categories: ['*'] }),
      aWorker({ id: 'b-drain', categories: ['drain', 'road'] }),
      aWorker({ id: 'c-noise', categories: ['noise'] }),
    ]);
    expect(ids(r)).toEqual(['b-drain', 'a-any']);
    expect(r.map((c) => c.parts.fitness)).toEqual([1, 0.6]);
  });

  it('breaks exact ties by worker id, whatever the input order', () => {
    const ws = ['w-c', 'w-a', 'w-b', 'w-d'].map((id) => aWorker({ id }));
    const rng = createRng('tie-break');
    for (let i = 0; i < 10; i++) expect(ids(rank(rng.shuffle(ws)))).toEqual(['w-a', 'w-b', 'w-c', 'w-d']);
  });

  it('penalises a stale position and lets only fresh ones make a neighbour', () => {
    const r = rank([
      aWorker({ id: 'a-stale', position: { lat: 27.83, lon: 113.12, ts: T0 - 10 * 60_000 } }),
      aWorker({ id: 'b-fresh', position: { lat: 27.83, lon: 113.12, ts: T0 - 30_000 } }),
      aWorker({ id: 'c-none', position: null }),
      aWorker({ id: 'd-stale-neighbour', gridCodes: ['G2'], position: { lat: 27.83, lon: 113.12, ts: T0 - 60 * 60_000 } }),
    ]);
    expect(ids(r)).toEqual(['b-fresh', 'a-stale', 'c-none']);
    expect(r[0].parts.freshness).toBe(1);
    expect(r[1].parts.freshness).toBeGreaterThan(0);
    expect(r[1].parts.freshness).toBeLessThan(1);
    expect(r[2]).toMatchObject({ distanceM: null, positionAgeMs: null, parts: { distance: 0, freshness: 0 } });
  });

  it('counts load and distance, and keeps neighbours inside the radius only', () => {
    const r = rank([
      aWorker({ id: 'busy', load: 4 }),
      aWorker({ id: 'idle', load: 0 }),
      aWorker({ id: 'n-1400m', gridCodes: ['G9'], position: { lat: 27.83 + 1400 * M, lon: 113.12, ts: T0 } }),
      aWorker({ id: 'n-1600m', gridCodes: ['G9'], position: { lat: 27.83 + 1600 * M, lon: 113.12, ts: T0 } }),
    ]);
    expect(ids(r)).toEqual(['idle', 'busy', 'n-1400m']);
    expect(r[0].parts.load).toBe(1);
    expect(r[1].parts.load).toBeCloseTo(0.2, 10);
    expect(r[2].distanceM).toBeCloseTo(1400, 0);
    expect(
      ids(
        rank([aWorker({ id: 'n', gridCodes: ['G9'], position: { lat: 27.83 + 1600 * M, lon: 113.12, ts: T0 } })], {
          neighbourRadiusM: 2000,
        }),
      ),
    ).toEqual(['n']);
  });

  it('at community level takes the community grids as scope, own grid still first', () => {
    const inc = anIncident({ escalationLevel: 2 });
    const r = rank(
      [
        aWorker({ id: 'same-community', gridCodes: ['G2'], position: null }),
        aWorker({ id: 'own', gridCodes: ['G1'], position: null }),
        aWorker({ id: 'elsewhere', gridCodes: ['G7'], position: null }),
      ],
      { scopeGridCodes: ['G1', 'G2', 'G3'] },
      inc,
    );
    expect(r.map((c) => [c.workerId, c.via, c.parts.responsibility])).toEqual([
      ['own', 'own_grid', 1],
      ['same-community', 'scope', 0.5],
    ]);
  });

  it('keeps every score part and the total in [0,1], and honours the limit', () => {
    const rng = createRng('parts');
    const ws = Array.from({ length: 60 }, (_, i) =>
      aWorker({
        id: `w${i}`,
        gridCodes: [rng.pick(['G1', 'G2'])],
        load: rng.int(0, 9),
        position: rng.chance(0.1)
          ? null
          : { lat: 27.83 + rng.float(-0.01, 0.01), lon: 113.12 + rng.float(-0.01, 0.01), ts: T0 - rng.int(0, 3_600_000) },
      }),
    );
    const r = rank(ws, { limit: 100 });
    expect(r.length).toBeGreaterThan(10);
    for (const c of r) for (const v of [c.total, ...Object.values(c.parts)]) expect(v >= 0 && v <= 1).toBe(true);
    expect(rank(ws)).toHaveLength(10);
  });

  it('matches the full scan on a seeded random town (index changes speed, not answers)', () => {
    const rng = createRng('index-vs-scan');
    const grids = Array.from({ length: 100 }, (_, i) => `G${i}`);
    const ws = Array.from({ length: 1000 }, (_, i) =>
      aWorker({
        id: `w${String(i).padStart(4, '0')}`,
        role: rng.weighted([
          ['grid_worker', 8],
          ['grid_leader', 1],
          ['community_police', 1],
        ] as const),
        gridCodes: [rng.pick(grids)],
        categories: rng.chance(0.7) ? ['*'] : [rng.pick(['drain', 'noise', 'door.*'])],
        duty: rng.chance(0.9) ? 'on' : 'off',
        online: rng.chance(0.95),
        load: rng.int(0, 6),
        position: rng.chance(0.05)
          ? null
          : { lat: 27.8 + rng.float(0, 0.1), lon: 113.1 + rng.float(0, 0.1), ts: T0 - rng.int(0, 1_800_000) },
      }),
    );
    for (let k = 0; k < 100; k++) {
      const inc = anIncident({
        id: `i${k}`,
        gridCode: rng.pick(grids),
        lat: 27.8 + rng.float(0, 0.1),
        lon: 113.1 + rng.float(0, 0.1),
        category: rng.pick(['drain', 'noise', 'door.forced', 'camera.fire']),
        escalationLevel: rng.pick([0, 0, 0, 1, 2]),
      });
      rank(ws, { scopeGridCodes: [inc.gridCode, rng.pick(grids)], limit: 25 }, inc); // asserts equality inside
    }
  });
});
