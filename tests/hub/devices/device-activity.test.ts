// What the registry shows of a device's life, from the hub's commits: the newest fix wins (a late
// store-and-forward fix does not move it back), and an answer already given is not changed by the
// fixes committed after it; `devices.last_seen` is written paced (a minute apart per device, at once
// after a presence, a bounded number of rows a statement, everything at stop).
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { DeviceActivity, LAST_SEEN_STEP_MS, MAX_ROWS_PER_FLUSH } from '../../../hub/devices/device-activity.js';
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

  it('writes last_seen a minute apart per device, at once after a presence, in bounded statements, and all at stop', async () => {
    const writes: { ids: string[]; at: string[] }[] = [];
    const recording = {
      query: async (_sql: string, params: [string[], string[]]) => {
        writes.push({ ids: params[0], at: params[1] });
        return { rows: [] };
      },
    } as unknown as Pick<pg.Pool, 'query'>;
    const a = new DeviceActivity(recording, silentLogger);
    const fleet = Array.from({ length: MAX_ROWS_PER_FLUSH + 10 }, (_, i) => `hs-${i}`);
    a.observe(fixes(...fleet.map((id): [string, number, number] => [id, T0, 27.1])), T0);
    // The fleet that came up together: one bounded statement, then the rest.
    await a.flush();
    await a.flush();
    expect(writes.map((w) => w.ids.length)).toEqual([MAX_ROWS_PER_FLUSH, 10]);
    await a.flush();
    expect(writes).toHaveLength(2);

    // Seen again within the minute: not written; a minute after the write: written, with the newest time.
    a.observe(fixes(['hs-1', T0 + 1000, 27.1]), T0 + 30_000);
    await a.flush();
    expect(writes).toHaveLength(2);
    a.observe(fixes(['hs-1', T0 + 2000, 27.1]), T0 + LAST_SEEN_STEP_MS);
    await a.flush();
    expect(writes[2]).toEqual({ ids: ['hs-1'], at: [new Date(T0 + LAST_SEEN_STEP_MS).toISOString()] });

    // A presence (a login) is written at once.
    const presence = emptyRows();
    presence.statuses.push({ deviceId: 'hs-2', workerId: null, ts: T0 + 5000, kind: 'presence', duty: null, battery: null, online: true });
    a.observe(presence, T0 + 5050);
    await a.flush();
    expect(writes[3]).toEqual({ ids: ['hs-2'], at: [new Date(T0 + 5050).toISOString()] });

    // Stop: everyone seen since their last write, however recently.
    a.observe(fixes(['hs-3', T0 + 6000, 27.1]), T0 + 6050);
    await a.stop();
    expect(writes[4]).toEqual({ ids: ['hs-3'], at: [new Date(T0 + 6050).toISOString()] });
  });
});
