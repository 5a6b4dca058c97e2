// Day two of a new user (issue 13): `npm start` on the embedded TimescaleDB with the simulated
// district, stopped, started again on the same ./data, killed with SIGKILL, started again. Each
// start must come up ready with the data kept and ingest resuming. Reopening a data directory used
// to fail every TimescaleDB policy call ('not supported under the current "timescale" license')
// because the engine loaded the library lazily; the old reopen test never called one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { scrapeMetric } from '../../testkit/metrics-scrape.js';
import { openDatabase } from '../../storage/database.js';
import { eventually } from '../../testkit/builders.js';
import { startNode, type NodeProcess } from '../../testkit/node-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'gdh-restart-'));
let node: NodeProcess | null = null;
afterAll(async () => {
  if (node) await node.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const env = {
  DATA_DIR: dataDir,
  SIM: 'true',
  SIM_HANDSETS: '12',
  SIM_FIX_EVERY_S: '0.5',
  MQTT_PORT: '0',
  HTTP_PORT: '0',
  BATCH_MAX_WAIT_MS: '100',
};

/** Fixes this node process has committed, from its own /metrics. */
async function committedFixes(url: string): Promise<number> {
  return (await scrapeMetric(url, 'ingest_accepted_total{channel="location"}')) ?? 0;
}

async function positionsOnDisk(): Promise<number> {
  const db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: dataDir }, silentLogger);
  try {
    return (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM positions')).rows[0]!.n;
  } finally {
    await db.close();
  }
}

async function startAndSeeIngest(): Promise<NodeProcess> {
  const n = await startNode(env, 120_000);
  expect((await fetch(`${n.httpUrl}/health/ready`)).status).toBe(200);
  await eventually(
    () => committedFixes(n.httpUrl),
    (c) => c >= 30,
    60_000,
    'simulated handsets committing fixes',
  );
  // The demo accounts still sign in: seeding the district again changed nothing it must not.
  const login = await fetch(`${n.httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'grid-admin-2026' }),
  });
  expect(login.status).toBe(200);
  return n;
}

it('starts, stops, starts again, survives a kill -9 and starts again on the same data', async () => {
  node = await startAndSeeIngest();
  const first = await node.stop('SIGTERM');
  node = null;
  expect(first.code).toBe(0);
  // Most of the ≥ 30 location messages became positions (the position filter may set a few apart).
  const afterFirst = await positionsOnDisk();
  expect(afterFirst).toBeGreaterThan(0);

  node = await startAndSeeIngest();
  await node.stop('SIGKILL');
  node = null;

  node = await startAndSeeIngest();
  const last = await node.stop('SIGTERM');
  node = null;
  expect(last.code).toBe(0);
  // Kept across every start, and grown by what the later runs committed (≥ 30 messages each).
  expect(await positionsOnDisk()).toBeGreaterThan(afterFirst);
}, 600_000);
