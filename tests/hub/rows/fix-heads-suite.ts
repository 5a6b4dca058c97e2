// The position filter's stored heads (hub/rows/fix-heads.ts), run by commit-rows.test.ts on each
// engine: each device's newest valid fix of the last day, none from the future, none flagged.
import { expect, it } from 'vitest';
import { commitRows } from '../../../hub/rows/commit-rows.js';
import { storedFixHeads } from '../../../hub/rows/fix-heads.js';
import { emptyRows, type PositionRow } from '../../../hub/rows/row-types.js';
import type { OpenedEngine } from '../analytics/engines.js';
import { aPositionRow } from '../../../testkit/builders.js';

export function fixHeadsSuite(engine: () => OpenedEngine, copy: boolean): void {
  it('reads each device’s newest stored valid fix of the last day as the filter’s anchor', async () => {
    const pool = engine().db.pool;
    await pool.query(`INSERT INTO devices (id, kind, secret_hash) VALUES ('hs-h1', 'handset', 'x'), ('hs-h2', 'handset', 'x'), ('hs-h3', 'handset', 'x')
                      ON CONFLICT DO NOTHING`);
    const now = Date.parse('2026-11-26T08:00:00Z');
    const row = (deviceId: string, ts: number, over: Partial<PositionRow> = {}): PositionRow =>
      aPositionRow({ deviceId, ts, acc: 4, ...over });
    await commitRows(
      pool,
      {
        ...emptyRows(),
        positions: [
          row('hs-h1', now - 60_000, { lat: 27.1 }),
          row('hs-h1', now - 10_000, { lat: 27.2 }),
          row('hs-h1', now + 3_600_000, { lat: 27.3 }), // ahead of the asked time: not a head
          row('hs-h1', now - 5_000, { lat: 27.4, flags: ['jump'] }), // flagged: not a head
          row('hs-h2', now - 2 * 86_400_000), // older than a day: no head
        ],
      },
      { copy, now },
    );
    const heads = await storedFixHeads(pool).load(now);
    expect([...heads]).toEqual([['hs-h1', { ts: now - 10_000, lat: 27.2, lon: 113.12, acc: 4 }]]);
  });
}
