// Position filters end to end (issue 16 item 1): real MQTT clients → Aedes → hub → embedded
// TimescaleDB → /api/live, the trail API and the activity rollup. A fix from 2099 (and one a day
// ahead) must never become a position, move a dot or count anywhere; later real fixes still move
// the dot; the handset's fast clock shows on /api/live; an impossible jump is stored flagged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { registerDevices, type TestDevice } from '../../testkit/builders.js';
import { connectDevice, nextCommit, startTestSystem } from '../../testkit/test-system.js';
import { rollupActivity } from '../../hub/analytics/activity-query.js';
import type { Rows } from '../../hub/rows/row-types.js';
import type { RunningSystem } from '../../system.js';

let sys: RunningSystem;
let dev: Record<string, TestDevice>;
let hs: MqttClient;
const topic = (id: string) => `grid/v1/devices/${id}/location`;
const Y2099 = Date.parse('2099-01-01T00:00:00Z');

beforeAll(async () => {
  sys = await startTestSystem();
  dev = await registerDevices(sys.db.pool, ['f1', 'f2']);
  await sys.hub.reloadRegistry();
  hs = await connectDevice(sys, 'hs-f1', dev['hs-f1']!.secret);
});
afterAll(async () => {
  await hs?.endAsync();
  await sys?.stop();
});

/** Publishes and resolves with the commit that carries the message's rows (or its dead letters). */
async function send(c: MqttClient, id: string, body: object, pick: (r: Rows) => boolean): Promise<Rows> {
  const done = nextCommit(sys, pick);
  await c.publishAsync(topic(id), JSON.stringify(body), { qos: 1 });
  return done;
}

async function liveWorker(id: string): Promise<{ ts: number | null; lat: number | null; clockAheadS?: number | null }> {
  const r = await fetch(`${sys.httpUrl}/api/live`);
  const body = (await r.json()) as { workers: { workerId: string; ts: number | null; lat: number | null; clockAheadS?: number | null }[] };
  return body.workers.find((w) => w.workerId === id)!;
}

describe('position filter', () => {
  it('never stores, shows or counts a fix from the future, shows the fast clock, and lets newer real fixes move the dot', async () => {
    const now = Date.now();
    const a = { ts: now - 40_000, lat: 27.87, lon: 113.12, acc: 5 };
    await send(hs, 'hs-f1', a, (r) => r.positions.some((p) => p.ts === a.ts));
    expect(await liveWorker('w-f1')).toMatchObject({ ts: a.ts, clockAheadS: 0 });

    const byDevice = (r: Rows) => r.deadLetters.some((d) => d.deviceId === 'hs-f1');
    await send(hs, 'hs-f1', { ts: Y2099, lat: 27.88, lon: 113.12, acc: 5 }, byDevice);
    const tomorrow = Date.now() + 86_400_000;
    await send(hs, 'hs-f1', { ts: new Date(tomorrow).toISOString(), lat: 27.88, lon: 113.12, acc: 5 }, byDevice);
    const fast = await liveWorker('w-f1');
    // The dot stays where it was; the card says the handset's clock is a day ahead.
    expect(fast.ts).toBe(a.ts);
    expect(Math.abs(fast.clockAheadS! - 86_400)).toBeLessThanOrEqual(2);

    // The clock is put right: newer real fixes (a store-and-forward batch, out of order) move the dot.
    const b = { ts: now - 30_000, lat: 27.8701, lon: 113.12, acc: 5 };
    const c = { ts: now - 20_000, lat: 27.8702, lon: 113.12, acc: 5 };
    await send(hs, 'hs-f1', { fixes: [c, b] }, (r) => r.positions.some((p) => p.ts === c.ts));
    expect(await liveWorker('w-f1')).toMatchObject({ ts: c.ts, lat: c.lat, clockAheadS: 0 });

    const pool = sys.db.pool;
    const stored = await pool.query<{ ts: Date }>(`SELECT ts FROM positions WHERE device_id = 'hs-f1' ORDER BY ts`);
    expect(stored.rows.map((r) => r.ts.getTime())).toEqual([a.ts, b.ts, c.ts]);
    expect((await pool.query(`SELECT 1 FROM positions_flagged WHERE device_id = 'hs-f1'`)).rowCount).toBe(0);
    const letters = await pool.query<{ reason: string }>(`SELECT reason FROM dead_letters WHERE device_id = 'hs-f1' ORDER BY id`);
    expect(letters.rows.map((r) => r.reason.split(':')[0])).toEqual(['future_fix', 'future_fix']);

    // KPIs: the activity rollup over the real hours and over 2099 counts the three real fixes only.
    await rollupActivity(pool, now - 2 * 3_600_000, now + 3_600_000);
    await rollupActivity(pool, Y2099, Y2099 + 3_600_000);
    const activity = async (from: number, to: number) => {
      const r = await fetch(
        `${sys.httpUrl}/api/workers/w-f1/activity?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&bucket=hour`,
      );
      return ((await r.json()) as { items: { fixes: number }[] }).items;
    };
    expect((await activity(now - 2 * 3_600_000, now + 3_600_000)).reduce((n, h) => n + h.fixes, 0)).toBe(3);
    expect(await activity(Y2099 - 86_400_000, Y2099 + 86_400_000)).toEqual([]);
    const trail = await fetch(
      `${sys.httpUrl}/api/workers/w-f1/trail?from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 3_600_000).toISOString()}`,
    );
    expect(((await trail.json()) as { features: { properties: { fixes?: number } }[] }).features[0]!.properties.fixes).toBe(3);

    // A 2099 row already in positions (written before the filter existed) does not hold the dot
    // after a restart either: the live state is rebuilt from positions not ahead of the clock.
    await pool.query(`INSERT INTO positions (device_id, ts, worker_id, lat, lon) VALUES ('hs-f1', $1, 'w-f1', 27.9, 113.12)`, [
      new Date(Y2099),
    ]);
    await sys.hub.reloadRegistry();
    expect(await liveWorker('w-f1')).toMatchObject({ ts: c.ts, lat: c.lat });
  });

  it('stores an impossible jump flagged: no position, no dot', async () => {
    const c2 = await connectDevice(sys, 'hs-f2', dev['hs-f2']!.secret);
    const now = Date.now();
    const home = { ts: now - 20_000, lat: 27.85, lon: 113.1, acc: 5 };
    await send(c2, 'hs-f2', home, (r) => r.positions.some((p) => p.ts === home.ts));
    // 55 km in ten seconds.
    const jump = { ts: now - 10_000, lat: 28.35, lon: 113.1, acc: 5 };
    await send(c2, 'hs-f2', jump, (r) => r.positions.some((p) => p.ts === jump.ts));
    expect(await liveWorker('w-f2')).toMatchObject({ ts: home.ts, lat: home.lat });
    const flagged = await sys.db.pool.query(`SELECT lat, flags FROM positions_flagged WHERE device_id = 'hs-f2'`);
    expect(flagged.rows).toEqual([{ lat: jump.lat, flags: ['jump'] }]);
    expect((await sys.db.pool.query(`SELECT 1 FROM positions WHERE device_id = 'hs-f2'`)).rowCount).toBe(1);
    await c2.endAsync();
  });
});
