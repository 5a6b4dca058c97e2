// What the registry shows of a device's life, from the hub's commits: the newest fix wins (a late
// store-and-forward fix does not move it back), and an answer already given is not changed by the
// fixes committed after it.
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { DeviceActivity } from '../../../hub/devices/device-activity.js';
import { emptyRows, type Rows } from '../../../hub/rows/row-types.js';
import { aPositionRow } from '../../../testkit/builders.js';

const T0 = Date.parse('2026-12-01T08:00:00Z');
const pool = { query: async () => ({ rows: [] }) } as unknown as Pick<pg.Pool, 'query'>;

function fixes(...p: [deviceId: string, ts: number, lat: number][]): Rows {
  const positions = p.map(([deviceId, ts, lat]) => aPositionRow({ deviceId, ts, lat }));
  return { ...emptyRows(), positions };
}

describe('device activity', () => {
  it('keeps the newest fix per device, and hands out answers that later commits leave alone', () => {
    const a = new DeviceActivity(pool, silentLogger);
    a.observe(fixes(['hs-1', T0, 27.1], ['hs-2', T0, 28.1]), T0 + 50);
    const before = a.get('hs-1');
    expect(before).toEqual({ online: null, seenAt: T0 + 50, lastFix: { lat: 27.1, lon: 113.12, ts: T0 } });
    a.observe(fixes(['hs-1', T0 + 1000, 27.2], ['hs-1', T0 - 5000, 26.9]), T0 + 1050);
    expect(a.get('hs-1').lastFix).toEqual({ lat: 27.2, lon: 113.12, ts: T0 + 1000 });
    expect(a.get('hs-1').seenAt).toBe(T0 + 1050);
    expect(before.lastFix).toEqual({ lat: 27.1, lon: 113.12, ts: T0 });
    expect(a.get('hs-2').lastFix).toEqual({ lat: 28.1, lon: 113.12, ts: T0 });
    expect(a.get('hs-3')).toEqual({ online: null, seenAt: null, lastFix: null });
  });
});
