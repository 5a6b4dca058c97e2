// Compression and retention policies at start (issue 13, item 6): the same jobs start after start,
// a changed age changes that policy and nothing else, and a change that fails changes nothing.
// On the embedded TimescaleDB (data on disk, reopened) and on the suites' PostgreSQL server (a
// plain one by default: no policies at all; TEST_DATABASE_URL's TimescaleDB server: the same checks).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { openDatabase, type Database } from '../../../storage/database.js';
import {
  applyStoragePolicies,
  DEFAULT_STORAGE_POLICY,
  syncStoragePolicies,
  type StoragePolicyConfig,
} from '../../../hub/upkeep/storage-policies.js';
import { postgresServer, postgresServerName } from '../analytics/engines.js';

interface Job {
  id: number;
  age: string;
}

/** The positions policy jobs as TimescaleDB lists them. */
async function jobs(pool: pg.Pool): Promise<{ compression?: Job; retention?: Job; count: number }> {
  const r = await pool.query<{ job_id: number; proc_name: string; age: string }>(
    `SELECT job_id, proc_name, coalesce(config ->> 'compress_after', config ->> 'drop_after') AS age
       FROM timescaledb_information.jobs WHERE hypertable_name = 'positions' ORDER BY job_id`,
  );
  const pick = (proc: string) => {
    const j = r.rows.find((x) => x.proc_name === proc);
    return j && { id: j.job_id, age: j.age };
  };
  return { compression: pick('policy_compression'), retention: pick('policy_retention'), count: r.rowCount ?? 0 };
}

/**
 * Ten starts, each applying the default policies as the hub does (`reopen(i)`: whether start i
 * closes and opens the database again), then config changes. Closes what it opened.
 */
async function policyChecks(open: () => Promise<Database>, reopen: (i: number) => boolean): Promise<void> {
  let db = await open();
  const before = await jobs(db.pool);
  // Migration 010 made both with the defaults on the first start.
  expect(before).toMatchObject({ compression: { age: '7 days' }, retention: { age: '180 days' }, count: 2 });
  for (let i = 0; i < 10; i++) {
    if (i > 0 && reopen(i)) {
      await db.close();
      db = await open();
    }
    // What the hub calls at every start (hub/hub.ts).
    expect(await applyStoragePolicies(db.pool, db.timescale, DEFAULT_STORAGE_POLICY)).toBe(true);
    expect(await jobs(db.pool)).toEqual(before);
  }
  expect(await syncStoragePolicies(db.pool, DEFAULT_STORAGE_POLICY)).toEqual([
    { policy: 'compression', action: 'kept', jobId: before.compression!.id },
    { policy: 'retention', action: 'kept', jobId: before.retention!.id },
  ]);
  // A new compression age: that job's config changes in place, retention is left alone.
  const changed: StoragePolicyConfig = { compressAfter: '2 days', retainRawFor: '180 days' };
  expect(await syncStoragePolicies(db.pool, changed)).toEqual([
    { policy: 'compression', action: 'altered', jobId: before.compression!.id },
    { policy: 'retention', action: 'kept', jobId: before.retention!.id },
  ]);
  expect(await jobs(db.pool)).toEqual({ ...before, compression: { id: before.compression!.id, age: '2 days' } });
  // The same age written another way is no change.
  expect((await syncStoragePolicies(db.pool, { compressAfter: '48 hours', retainRawFor: '180 days' })).map((c) => c.action)).toEqual([
    'kept',
    'kept',
  ]);
  // Atomic: the compression change is undone when the retention change after it fails.
  await expect(syncStoragePolicies(db.pool, { compressAfter: '3 days', retainRawFor: 'not an interval' })).rejects.toThrow(/interval/);
  expect((await jobs(db.pool)).compression).toEqual({ id: before.compression!.id, age: '2 days' });
  // A policy someone removed by hand comes back, the other one stays.
  await db.pool.query(`SELECT remove_retention_policy('positions')`);
  const back = await syncStoragePolicies(db.pool, changed);
  expect(back.map((c) => [c.policy, c.action])).toEqual([
    ['compression', 'kept'],
    ['retention', 'added'],
  ]);
  expect(await jobs(db.pool)).toMatchObject({
    compression: { id: before.compression!.id, age: '2 days' },
    retention: { id: back[1].jobId, age: '180 days' },
    count: 2,
  });
  await db.close();
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('storage policies on the embedded TimescaleDB', () => {
  it('keeps the same jobs over ten starts and a restart, changes only what the config changes, atomically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grid-policies-'));
    dirs.push(dir);
    // An embedded start takes seconds: the database is reopened from disk once, at start 5.
    await policyChecks(
      () => openDatabase({ DATA_DIR: dir }, silentLogger),
      (i) => i === 5,
    );
  }, 120_000);
});

describe(`storage policies on ${postgresServerName}`, () => {
  it('applies the policies where TimescaleDB is, keeping its jobs over ten starts; none on plain PostgreSQL', async () => {
    const engine = await postgresServer();
    try {
      if (engine.db.timescale) {
        // Ten real starts: a server opens in well under a second.
        await policyChecks(
          () => openDatabase({ DATABASE_URL: engine.url, DATA_DIR: '' }, silentLogger),
          () => true,
        );
        return;
      }
      for (let i = 0; i < 10; i++)
        expect(await applyStoragePolicies(engine.db.pool, engine.db.timescale, DEFAULT_STORAGE_POLICY)).toBe(false);
      const schemas = await engine.db.pool.query(`SELECT 1 FROM pg_namespace WHERE nspname LIKE 'timescaledb%'`);
      expect(schemas.rowCount).toBe(0);
    } finally {
      await engine.stop();
    }
  }, 120_000);
});
