// Incidents dispatched per second through the real dispatch path (issue 3 item 10): locate the grid,
// rank candidates, plan, commit the version-checked transaction (incident, audit, offer, deadlines).
// `npx tsx bench/dispatch-db-bench.ts [--incidents 1000] [--handsets 3400]` (run by bench:dispatch).
// Engines: the embedded TimescaleDB, and PostgreSQL when its binaries are installed (harness).
// Baseline in the same run, same server: a bare one-row INSERT transaction (the commit floor).
import { performance } from 'node:perf_hooks';
import { cpus } from 'node:os';
import { ManualClock } from '../common/clock.js';
import { testConfig } from '../common/config.js';
import { silentLogger } from '../common/logger.js';
import { Metrics } from '../common/metrics.js';
import { DispatchService } from '../hub/dispatch/dispatch-service.js';
import { RegionDirectory } from '../hub/regions/region-directory.js';
import { LiveState } from '../hub/live/live-state.js';
import { openDatabase, type Database } from '../storage/database.js';
import { seedDemoDistrict } from '../simulators/simulation.js';
import { createRng } from '../simulators/rng.js';
import { pgBinariesAvailable, startPostgres } from '../testkit/postgres-server.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const INCIDENTS = arg('incidents', 1000);
const HANDSETS = arg('handsets', 3400);
const ADVANCE_MS = arg('advance-ms', 5000);
const CATEGORIES = ['garbage', 'noise', 'parking', 'drain', 'hazard', 'streetlight', 'dispute', 'road'];

const pct = (s: number[], p: number): number => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];

async function run(label: string, db: Database): Promise<void> {
  const clock = new ManualClock(Date.parse('2026-11-25T01:00:00Z'));
  const config = testConfig({ SIM_HANDSETS: String(HANDSETS) });
  const district = await seedDemoDistrict(db.pool, config);
  const live = new LiveState(() => clock.now());
  await live.load(db.pool);
  // Everyone on duty, online, somewhere in their grid a minute ago.
  const rng = createRng('dispatch-db-bench');
  const box = district.regions.features.find((f) => f.properties.level === 'district')!.geometry.coordinates[0];
  const lons = box.map((p) => p[0]);
  const lats = box.map((p) => p[1]);
  const inBox = () => ({
    lon: Math.min(...lons) + rng.next() * (Math.max(...lons) - Math.min(...lons)),
    lat: Math.min(...lats) + rng.next() * (Math.max(...lats) - Math.min(...lats)),
  });
  for (const w of live.workers.values()) Object.assign(w, { ...inBox(), ts: clock.now() - 60_000, online: true, duty: 'on' });
  const regions = new RegionDirectory(db.pool);
  await regions.load();
  const dispatch = new DispatchService({
    pool: db.pool,
    clock,
    config,
    live,
    publisher: null,
    metrics: new Metrics(),
    logger: silentLogger,
    regions,
    notify: { incident: () => undefined, alarm: () => undefined },
  });
  await dispatch.start();
  await dispatch.stop(); // no timer: the bench drives it

  // Baseline: the same number of one-row transactions into a scratch table.
  await db.pool.query('CREATE TABLE IF NOT EXISTS bench_floor (id serial PRIMARY KEY, body jsonb)');
  const floor: number[] = [];
  for (let i = 0; i < INCIDENTS; i++) {
    const c = await db.pool.connect();
    const t = performance.now();
    await c.query('BEGIN');
    await c.query('INSERT INTO bench_floor (body) VALUES ($1)', [JSON.stringify({ i })]);
    await c.query('COMMIT');
    floor.push(performance.now() - t);
    c.release();
  }

  const samples: number[] = [];
  let offered = 0;
  const t0 = performance.now();
  for (let i = 0; i < INCIDENTS; i++) {
    const t = performance.now();
    const x = await dispatch.intake.operatorReport('bench', { category: rng.pick(CATEGORIES), ...inBox() });
    samples.push(performance.now() - t);
    if (x.state === 'dispatched') offered++;
    clock.advance(ADVANCE_MS);
  }
  const total = (performance.now() - t0) / 1000;
  samples.sort((a, b) => a - b);
  floor.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(22)} | ${INCIDENTS} incidents, ${live.workers.size} workers: ${(INCIDENTS / total).toFixed(0)} incidents/s, ` +
      `p50 ${pct(samples, 50).toFixed(2)} ms p99 ${pct(samples, 99).toFixed(2)} ms, ${offered} offered at once | ` +
      `bare INSERT transaction p50 ${pct(floor, 50).toFixed(2)} ms → dispatch costs ${(pct(samples, 50) / pct(floor, 50)).toFixed(1)}× the commit floor`,
  );
}

console.log(`dispatch DB bench — ${new Date().toISOString()} — node ${process.version} — ${cpus()[0]?.model ?? 'cpu?'} × ${cpus().length}`);
const embedded = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
try {
  await run('embedded TimescaleDB', embedded);
} finally {
  await embedded.close();
}
if (pgBinariesAvailable()) {
  const server = await startPostgres();
  const db = await openDatabase({ DATABASE_URL: server.url, DATA_DIR: '' }, silentLogger);
  try {
    await run('PostgreSQL', db);
  } finally {
    await db.close();
    await server.stop();
  }
} else {
  console.log('PostgreSQL binaries not found: run scripts/ensure-test-deps.sh for the second engine');
}
