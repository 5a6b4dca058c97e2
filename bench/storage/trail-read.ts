// The trail read path measured on the same (worker, day) samples: the API as a hub serves it, the
// hub's read of packed hours (024), positions packed into one row by the server (021), and one
// DataRow per fix (the read before issue 5, the same-run baseline).
import type { Database } from '../../storage/database.js';
import { readRawTrack, readTrack, trailGeoJson } from '../../hub/analytics/trail-query.js';
import type { TimedPoint } from '../../hub/analytics/geo-distance.js';
import { DEFAULT_STOP_RULE } from '../../hub/analytics/trail-stops.js';
import { DAY0, rng, timed } from './storage-history.js';

export interface TrailTimes {
  trail: number[];
  /** readTrack: the packed trail hours (migration 024) and raw positions for the rest. */
  packed: number[];
  /** readRawTrack: positions alone, packed into one row by the server (migration 021). */
  raw: number[];
  rowPerFix: number[];
}

/** Untimed calls of each variant first: the first calls run before V8 has optimised the code (40–77 ms). */
export const WARMUP_CALLS = 3;

/** The read path before issue 5's trail work: one DataRow per fix (the same-run baseline). */
async function readFixesRowPerFix(db: Database, workerId: string, from: number, to: number): Promise<TimedPoint[]> {
  const r = await db.pool.query<[number, number, number]>({
    text: `SELECT (extract(epoch FROM ts) * 1000)::float8 AS t, lat, lon FROM positions
            WHERE worker_id = $1 AND ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0)
            ORDER BY ts, device_id`,
    values: [workerId, from, to],
    rowMode: 'array',
  });
  return r.rows.map(([t, lat, lon]) => ({ ts: Math.round(t), lat, lon }));
}

/**
 * The same (worker, day) samples for every variant, each variant in its own loop: the API first,
 * as a hub serves it (nothing else on the engine between two calls), then the hub's read alone,
 * then the baselines. Interleaved, one variant's garbage came due as collections inside the
 * next one's times: the baselines' (8,640 row objects per call, or one 414 KB hex string that V8
 * puts straight into its large-object space) swung the API's p99 35–65 ms and 50–190 ms before,
 * and even the hub's own read interleaved with the API put the API's p99 at 48–53 ms at 1,000
 * samples (BENCHMARKS.md, Storage, session 6).
 */
export async function sampleTrails(db: Database, workers: number, days: number, n: number, seed: number, full = true): Promise<TrailTimes> {
  const rand = rng(seed);
  const samples = Array.from({ length: n }, () => {
    const workerId = `w-${String(Math.floor(rand() * workers)).padStart(5, '0')}`;
    const from = DAY0 + Math.floor(rand() * days) * 86_400_000;
    return { workerId, from, to: from + 86_400_000 };
  });
  const out: TrailTimes = { trail: [], packed: [], raw: [], rowPerFix: [] };
  const api = (s: (typeof samples)[number]) => trailGeoJson(db.pool, { ...s, maxPoints: 2000, stop: DEFAULT_STOP_RULE });
  for (const s of samples.slice(0, WARMUP_CALLS)) {
    await readTrack(db.pool, s.workerId, s.from, s.to);
    if (full) await api(s);
  }
  if (full) for (const s of samples) out.trail.push((await timed(() => api(s))).ms);
  for (const s of samples) out.packed.push((await timed(() => readTrack(db.pool, s.workerId, s.from, s.to))).ms);
  for (const s of samples) out.raw.push((await timed(() => readRawTrack(db.pool, s.workerId, s.from, s.to))).ms);
  for (const s of samples) out.rowPerFix.push((await timed(() => readFixesRowPerFix(db, s.workerId, s.from, s.to))).ms);
  return out;
}
