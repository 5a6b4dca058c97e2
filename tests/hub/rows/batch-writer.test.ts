// The batch writer: messages' rows are committed together, at most BATCH_MAX_ROWS a commit (a
// message is never split), each message acknowledged only after the commit that holds it, in
// arrival order; a failed commit acknowledges nothing and is retried with the same rows.
// The pool is a stand-in that records each INSERT (the embedded engine's path: one statement).
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../common/metrics.js';
import { silentLogger } from '../../../common/logger.js';
import { BatchWriter } from '../../../hub/rows/batch-writer.js';
import { emptyRows, type Rows } from '../../../hub/rows/row-types.js';
import { aPositionRow } from '../../../testkit/builders.js';

const T0 = Date.now() + 3_600_000; // in an hour that has not ended: no trail hour goes stale

function fixes(deviceId: string, n: number, from = 0): Rows {
  const positions = Array.from({ length: n }, (_, i) => aPositionRow({ deviceId, ts: T0 + (from + i) * 1000 }));
  return { ...emptyRows(), positions };
}

function writerOver(maxRows: number, failFirst = 0, o: { maxWaitMs?: number; commitMs?: number } = {}) {
  const commits: string[][] = [];
  const log: string[] = [];
  let failures = failFirst;
  const pool = {
    query: async (_sql: string, params: unknown[]) => {
      if (o.commitMs) await new Promise((r) => setTimeout(r, o.commitMs));
      if (failures-- > 0) throw new Error('database away');
      const devices = params[0] as string[];
      commits.push(devices);
      log.push(`commit ${devices.length}`);
      return { rowCount: devices.length, rows: [] };
    },
  } as unknown as pg.Pool;
  const committed: number[] = [];
  const writer = new BatchWriter({
    pool,
    maxRows,
    maxWaitMs: o.maxWaitMs ?? 5,
    copyPositions: false,
    metrics: new Metrics(),
    logger: silentLogger,
    onCommitted: (rows) => committed.push(rows.positions.length),
    onPressure: () => undefined,
  });
  const send = (id: string, rows: Rows) => new Promise<void>((resolve) => writer.enqueue(rows, () => (log.push(`ack ${id}`), resolve())));
  return { writer, commits, committed, log, send };
}

describe('batch writer', () => {
  it('commits at most maxRows a commit without splitting a message, and acks each after its commit, in order', async () => {
    const { writer, commits, committed, log, send } = writerOver(3);
    const acks = [send('a', fixes('a', 1)), send('b', fixes('b', 1)), send('c', fixes('c', 2)), send('d', fixes('d', 1))];
    acks.push(send('e', fixes('e', 1)));
    await Promise.all(acks);
    await writer.drain();
    // a, b and c reach 4 rows (c is not split); d and e wait for the next commit.
    expect(commits).toEqual([
      ['a', 'b', 'c', 'c'],
      ['d', 'e'],
    ]);
    expect(committed).toEqual([4, 2]);
    expect(log).toEqual(['commit 4', 'ack a', 'ack b', 'ack c', 'commit 2', 'ack d', 'ack e']);
    expect(writer.backlog.rows).toBe(0);
  });

  it('commits a message that came during a commit right after it once it has waited maxWaitMs, not maxWaitMs later', async () => {
    // Commits take 300 ms; rows may wait 200 ms. b comes 50 ms into a's commit: by the end of that
    // commit it has waited 250 ms, so its own commit starts at once (it used to wait another 200 ms).
    const { send } = writerOver(1000, 0, { maxWaitMs: 200, commitMs: 300 });
    const t0 = performance.now();
    const a = send('a', fixes('a', 1));
    await new Promise((r) => setTimeout(r, 250));
    const b = send('b', fixes('b', 1));
    await a;
    const aAt = performance.now() - t0;
    await b;
    const bAt = performance.now() - t0;
    // a: 200 ms wait + 300 ms commit; b: right after, one more commit (not 200 ms + the commit).
    expect(aAt).toBeGreaterThanOrEqual(495);
    expect(bAt - aAt).toBeGreaterThanOrEqual(295);
    expect(bAt - aAt).toBeLessThan(450);
  });

  it('acks nothing while a commit fails, then commits the same rows once', async () => {
    const { writer, commits, log, send } = writerOver(10, 1);
    const a = send('a', fixes('a', 2));
    const b = send('b', { ...fixes('b', 1), deadLetters: [] });
    await Promise.all([a, b]);
    expect(log).toEqual(['commit 3', 'ack a', 'ack b']);
    expect(commits).toEqual([['a', 'a', 'b']]);
    expect(writer.backlog.failing).toBe(false);
  });
});
