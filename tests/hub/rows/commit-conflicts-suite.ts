// Conflicting duplicates and flagged fixes in the batch commit (issue 16 items 1 and 2), run by
// commit-rows.test.ts on each engine and path: COPY on a PostgreSQL server, the INSERT embedded.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { commitRows } from '../../../hub/rows/commit-rows.js';
import { emptyRows, type PositionRow, type Rows } from '../../../hub/rows/row-types.js';
import type { OpenedEngine } from '../analytics/engines.js';

const t0 = Date.parse('2026-11-25T09:00:00Z');

function fix(deviceId: string, i: number, over: Partial<PositionRow> = {}): PositionRow {
  return {
    deviceId,
    workerId: 'w-x',
    ts: t0 + i * 1000,
    lat: 27.87 + i * 1e-5,
    lon: 113.12,
    acc: 5,
    alt: null,
    speed: null,
    heading: null,
    battery: 90,
    seq: i,
    ...over,
  };
}
const range = (deviceId: string, from: number, to: number): PositionRow[] =>
  Array.from({ length: to - from }, (_, k) => fix(deviceId, from + k));
const only = (positions: PositionRow[]): Rows => ({ ...emptyRows(), positions });

export function conflictSuite(engine: () => OpenedEngine, copy: boolean): void {
  const q = async <T>(sql: string, args: unknown[] = []): Promise<T[]> => (await engine().db.pool.query(sql, args)).rows as T[];
  const letters = () =>
    q<{ device_id: string; reason: string; topic: string; payload: Buffer }>(
      `SELECT device_id, reason, topic, payload FROM dead_letters ORDER BY id`,
    );

  it('keeps the stored fix and dead-letters another position at its device and time, with both positions', async () => {
    await commitRows(engine().db.pool, only(range('hs-d1', 0, 10)), { copy });
    const rival = fix('hs-d1', 4, { lat: 28.5, seq: 99 });
    const rows = only([...range('hs-d1', 8, 12), rival]);
    const out = await commitRows(engine().db.pool, rows, { copy });
    expect(out).toEqual({ copyFellBack: copy, conflictingDuplicates: 1 });
    const stored = await q<{ lat: number; n: number }>(
      `SELECT lat, (SELECT count(*)::int FROM positions WHERE device_id = 'hs-d1') AS n FROM positions WHERE device_id = 'hs-d1' AND ts = $1`,
      [new Date(rival.ts)],
    );
    expect(stored).toEqual([{ lat: fix('hs-d1', 4).lat, n: 12 }]);
    const [letter, ...rest] = await letters();
    expect(rest).toEqual([]);
    expect(letter!.device_id).toBe('hs-d1');
    expect(letter!.reason).toMatch(/^conflicting_duplicate: /);
    expect(JSON.parse(letter!.payload.toString())).toMatchObject({
      fix: { ts: rival.ts, lat: 28.5, seq: 99 },
      kept: { lat: fix('hs-d1', 4).lat },
    });
    // Listeners (the live state) see what was committed: the loser left the positions.
    expect(rows.positions).not.toContain(rival);
    expect(rows.deadLetters).toHaveLength(1);
  });

  it('treats an exact repeat as a silent no-op, also when only the hub-side columns differ', async () => {
    await commitRows(engine().db.pool, only(range('hs-d2', 0, 5)), { copy });
    const again = range('hs-d2', 0, 5).map((r, i) => (i === 2 ? { ...r, workerId: 'w-other', inGrid: true, battery: 10 } : r));
    expect(await commitRows(engine().db.pool, only(again), { copy })).toEqual({ copyFellBack: copy, conflictingDuplicates: 0 });
    expect(await letters()).toEqual([]);
  });

  it('settles repeats inside one batch: the first stays, an exact repeat goes silently, another position is a dead letter', async () => {
    const first = fix('hs-d3', 1);
    const rival = fix('hs-d3', 1, { lon: 113.5 });
    const rows = only([fix('hs-d3', 0), first, { ...first }, rival, fix('hs-d3', 2)]);
    // No stored fix is repeated, so the COPY goes through: the batch's own repeats never reach it.
    expect(await commitRows(engine().db.pool, rows, { copy })).toEqual({ copyFellBack: false, conflictingDuplicates: 1 });
    expect(await q(`SELECT seq::int, lon FROM positions WHERE device_id = 'hs-d3' ORDER BY ts`)).toEqual([
      { seq: 0, lon: 113.12 },
      { seq: 1, lon: 113.12 },
      { seq: 2, lon: 113.12 },
    ]);
    expect((await letters()).map((l) => l.reason.split(':')[0])).toEqual(['conflicting_duplicate']);
  });

  it('detects conflicts in a batch that writes other tables too (one transaction)', async () => {
    await commitRows(engine().db.pool, only(range('hs-d4', 0, 3)), { copy });
    const mixed: Rows = {
      ...only([fix('hs-d4', 1, { lat: 30 }), fix('hs-d4', 3)]),
      statuses: [{ deviceId: 'hs-d4', workerId: null, ts: t0, kind: 'status', duty: 'on', battery: 80, online: null }],
    };
    expect(await commitRows(engine().db.pool, mixed, { copy, now: t0 + 3 * 3_600_000 })).toEqual({
      copyFellBack: copy,
      conflictingDuplicates: 1,
    });
    expect(await q(`SELECT count(*)::int AS n FROM positions WHERE device_id = 'hs-d4'`)).toEqual([{ n: 4 }]);
    expect(await q(`SELECT count(*)::int AS n FROM device_status`)).toEqual([{ n: 1 }]);
    expect((await letters()).map((l) => l.reason.split(':')[0])).toEqual(['conflicting_duplicate']);
  });

  it('stores flagged fixes apart from positions, once, and judges their duplicates against both tables', async () => {
    await commitRows(engine().db.pool, only(range('hs-d5', 0, 3)), { copy });
    const jump = fix('hs-d5', 10, { lat: 29, flags: ['jump'] });
    const poor = fix('hs-d5', 11, { acc: 900, flags: ['accuracy', 'jump'] });
    const sameAsValid = fix('hs-d5', 1, { flags: ['jump'] }); // a stored valid fix judged again: nothing
    const rivalOfValid = fix('hs-d5', 2, { lat: 31, flags: ['jump'] });
    const out = await commitRows(engine().db.pool, only([fix('hs-d5', 3), jump, poor, sameAsValid, rivalOfValid]), { copy });
    expect(out.conflictingDuplicates).toBe(1);
    expect(await q(`SELECT count(*)::int AS n FROM positions WHERE device_id = 'hs-d5'`)).toEqual([{ n: 4 }]);
    expect(await q(`SELECT seq::int, flags FROM positions_flagged ORDER BY ts`)).toEqual([
      { seq: 10, flags: ['jump'] },
      { seq: 11, flags: ['accuracy', 'jump'] },
    ]);
    // Again: the same flagged fixes are no-ops; a flagged rival of a flagged fix is a conflict.
    const again = await commitRows(engine().db.pool, only([{ ...jump }, fix('hs-d5', 11, { lat: 33, flags: ['jump'] })]), { copy });
    expect(again.conflictingDuplicates).toBe(1);
    expect(await q(`SELECT count(*)::int AS n FROM positions_flagged`)).toEqual([{ n: 2 }]);
    expect((await letters()).map((l) => l.reason.split(':')[0])).toEqual(['conflicting_duplicate', 'conflicting_duplicate']);
  });

  it('migration 031 moves fixes from the future out of positions into dead letters', async () => {
    const future = fix('hs-d6', 0, { ts: Date.parse('2099-01-01T00:00:00Z') });
    const tomorrow = fix('hs-d6', 0, { ts: Date.now() + 86_400_000 });
    await commitRows(engine().db.pool, only([fix('hs-d6', 0), future, tomorrow]), { copy });
    const sql = readFileSync(new URL('../../../storage/migrations/031_position_flags.sql', import.meta.url), 'utf8');
    await engine().db.pool.query(sql.slice(sql.indexOf('WITH moved AS')));
    expect(await q(`SELECT seq::int FROM positions WHERE device_id = 'hs-d6'`)).toEqual([{ seq: 0 }]);
    const moved = await letters();
    expect(moved.map((l) => [l.topic, l.reason.split(':')[0], JSON.parse(l.payload.toString()).ts]).sort()).toEqual(
      [
        ['positions', 'future_fix', future.ts],
        ['positions', 'future_fix', tomorrow.ts],
      ].sort(),
    );
  });
}
