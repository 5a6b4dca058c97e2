// Which packed trail hours a batch makes stale: pure, with an injected "now".
import { describe, expect, it } from 'vitest';
import { endedHours, HOUR_MS } from '../../../hub/rows/trail-hours-stale.js';
import type { PositionRow } from '../../../hub/rows/row-types.js';
import { aPositionRow } from '../../../testkit/builders.js';

const T = Date.parse('2026-11-26T10:00:00Z');
const at = (workerId: string | null, ts: number): PositionRow => aPositionRow({ deviceId: 'hs', workerId, ts, lat: 0, lon: 0 });

describe('endedHours', () => {
  it('is null for a live batch: every fix in the current hour', () => {
    expect(endedHours([at('w1', T), at('w2', T + 59 * 60_000)], T + 59 * 60_000 + 59_999)).toBeNull();
  });

  it('lists each (worker, hour) of fixes in ended hours once, UTC-aligned', () => {
    const now = T + 10 * 60_000;
    const rows = [at('w1', T - 1), at('w1', T - 30 * 60_000), at('w2', T - 1), at('w1', T - HOUR_MS - 1), at(null, T - 5), at('w1', T + 1)];
    expect(endedHours(rows, now)).toEqual({ workers: ['w1', 'w2', 'w1'], hours: [T - HOUR_MS, T - HOUR_MS, T - 2 * HOUR_MS] });
  });

  it('counts an hour as ended from its last millisecond on', () => {
    expect(endedHours([at('w1', T - 1)], T - 1)).toBeNull();
    expect(endedHours([at('w1', T - 1)], T)).toEqual({ workers: ['w1'], hours: [T - HOUR_MS] });
  });
});
