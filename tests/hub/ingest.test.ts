// Ingest end to end: real MQTT clients → Aedes → hub → embedded TimescaleDB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { aFix, anAlert, registerDevices, type TestDevice } from '../../testkit/builders.js';
import { committedCount, connectDevice, nextCommit, startTestSystem } from '../../testkit/test-system.js';
import { fromWgs84 } from '../../common/crs.js';
import type { RunningSystem } from '../../system.js';

let sys: RunningSystem;
let dev: Record<string, TestDevice>;
let hs: MqttClient;
const topic = (id: string, ch: string) => `grid/v1/devices/${id}/${ch}`;

beforeAll(async () => {
  sys = await startTestSystem();
  dev = await registerDevices(sys.db.pool, ['i1', 'i2', 'i3']);
  await sys.hub.reloadRegistry();
  hs = await connectDevice(sys, 'hs-i1', dev['hs-i1']!.secret);
});
afterAll(async () => {
  await hs?.endAsync();
  await sys?.stop();
});

async function positions(deviceId: string) {
  const r = await sys.db.pool.query(`SELECT ts, lat, lon, seq FROM positions WHERE device_id = $1 ORDER BY ts`, [deviceId]);
  return r.rows as { ts: Date; lat: number; lon: number; seq: number | null }[];
}

describe('ingest', () => {
  it('stores a fix exactly once even when it is delivered twice', async () => {
    const fix = aFix({ seq: 1 });
    const done = committedCount(sys, 'positions', 2);
    await hs.publishAsync(topic('hs-i1', 'location'), JSON.stringify(fix), { qos: 1 });
    await hs.publishAsync(topic('hs-i1', 'location'), JSON.stringify(fix), { qos: 1 });
    await done;
    const rows = await positions('hs-i1');
    expect(rows.filter((r) => r.ts.getTime() === fix.ts)).toHaveLength(1);
  });

  it('turns an out-of-order store-and-forward batch into an ordered trail, overlapping fixes once', async () => {
    const c = await connectDevice(sys, 'hs-i2', dev['hs-i2']!.secret);
    const fixes = Array.from({ length: 50 }, (_, i) => aFix({ seq: i, lat: 27.87 + i * 1e-4 }));
    const shuffled = [...fixes].reverse();
    const done = committedCount(sys, 'positions', 80);
    await c.publishAsync(topic('hs-i2', 'location'), JSON.stringify({ fixes: shuffled.slice(0, 30) }), { qos: 1 });
    await c.publishAsync(topic('hs-i2', 'location'), JSON.stringify({ fixes: shuffled.slice(0, 50) }), { qos: 1 });
    await done;
    const rows = await positions('hs-i2');
    expect(rows).toHaveLength(50);
    expect(rows.map((r) => r.seq)).toEqual(fixes.map((_, i) => i));
    // The live dot shows the newest fix, not the last one to arrive.
    expect(sys.hub.live.byDevice('hs-i2')?.ts).toBe(fixes[49]!.ts);
    await c.endAsync();
  });

  it('converts GCJ-02 fixes to WGS-84 before storing', async () => {
    const [lon, lat] = fromWgs84(113.12, 27.87, 'gcj02');
    const fix = aFix({ lat, lon, crs: 'gcj02' });
    const done = nextCommit(sys, (r) => r.positions.some((p) => p.ts === fix.ts));
    await hs.publishAsync(topic('hs-i1', 'location'), JSON.stringify(fix), { qos: 1 });
    await done;
    const row = (await positions('hs-i1')).find((r) => r.ts.getTime() === fix.ts)!;
    expect(row.lat).toBeCloseTo(27.87, 5);
    expect(row.lon).toBeCloseTo(113.12, 5);
    expect(Math.abs(lon - 113.12)).toBeGreaterThan(1e-3); // the input really was shifted
  });

  it("marks each fix inside or outside its worker's own area, for the time-in-grid rollup", async () => {
    // Apart in time as they are in space: 72 km in a second would be a GPS jump, stored flagged
    // and out of every rollup (stage-position-filter.ts); in two hours it is a drive.
    const base = aFix().ts as number;
    const inside = aFix({ lat: 27.85, lon: 113.1, ts: base + 10 * 60_000 });
    const outside = aFix({ lat: 28.5, lon: 113.1, ts: base + 2 * 3_600_000 });
    const done = nextCommit(sys, (r) => r.positions.some((p) => p.ts === outside.ts));
    await hs.publishAsync(topic('hs-i1', 'location'), JSON.stringify({ fixes: [inside, outside] }), { qos: 1 });
    await done;
    const r = await sys.db.pool.query<{ ts: Date; in_grid: boolean | null }>(
      `SELECT ts, in_grid FROM positions WHERE device_id = 'hs-i1' AND ts = ANY ($1::timestamptz[]) ORDER BY ts`,
      [[new Date(inside.ts as number), new Date(outside.ts as number)]],
    );
    // aFix hands out increasing times: inside is the earlier fix.
    expect(r.rows.map((x) => [x.ts.getTime(), x.in_grid])).toEqual([
      [inside.ts, true],
      [outside.ts, false],
    ]);
  });

  it('dead-letters malformed JSON, wrong schema and oversize payloads while valid traffic still lands', async () => {
    const good = Array.from({ length: 20 }, () => aFix());
    const bad: [string, string | Buffer][] = [
      [topic('hs-i1', 'location'), '{"ts": 1, "lat":'],
      [topic('hs-i1', 'location'), JSON.stringify({ ts: Date.now(), lat: 200, lon: 113 })],
      [topic('hs-i1', 'status'), JSON.stringify({ ts: Date.now(), duty: 'maybe' })],
      [topic('hs-i1', 'location'), Buffer.alloc(300 * 1024, 0x20)],
      [topic('hs-i1', 'location'), JSON.stringify({ fixes: [] })],
    ];
    const before = sys.metrics.total('ingest_rejected_total');
    const done = committedCount(sys, 'positions', good.length);
    const dead = committedCount(sys, 'deadLetters', bad.length);
    for (let i = 0; i < good.length; i++) {
      const b = bad[i];
      if (b) void hs.publishAsync(b[0], b[1], { qos: 1 });
      void hs.publishAsync(topic('hs-i1', 'location'), JSON.stringify(good[i]), { qos: 1 });
    }
    await Promise.all([done, dead]);
    const stored = await positions('hs-i1');
    for (const g of good) expect(stored.some((r) => r.ts.getTime() === g.ts)).toBe(true);
    const letters = await sys.db.pool.query(`SELECT reason, size FROM dead_letters WHERE device_id = 'hs-i1' ORDER BY id`);
    const reasons = letters.rows.map((r) => r.reason as string);
    expect(reasons).toContain('bad_json');
    expect(reasons.some((r) => r.startsWith('schema: lat'))).toBe(true);
    expect(reasons.some((r) => r.startsWith('schema: duty'))).toBe(true);
    expect(reasons).toContain('oversize');
    expect(letters.rows.find((r) => r.reason === 'oversize')!.size).toBe(300 * 1024);
    expect(sys.metrics.total('ingest_rejected_total') - before).toBe(bad.length);
  });

  it('stores door and camera alerts idempotently by event id and pushes them to live state', async () => {
    const door = await connectDevice(sys, 'door-i3', dev['door-i3']!.secret);
    const alert = anAlert({ eventId: 'evt-1' });
    const done = committedCount(sys, 'events', 2);
    await door.publishAsync(topic('door-i3', 'events'), JSON.stringify(alert), { qos: 1 });
    await door.publishAsync(topic('door-i3', 'events'), JSON.stringify(alert), { qos: 1 });
    await done;
    const r = await sys.db.pool.query(`SELECT type, grid_code FROM device_events WHERE device_id = 'door-i3'`);
    expect(r.rows).toEqual([{ type: 'door.forced', grid_code: 'T' }]);
    expect(sys.hub.live.snapshot().alerts.some((a) => a.deviceId === 'door-i3')).toBe(true);
    await door.endAsync();
  });

  it('records duty from the status topic', async () => {
    const done = nextCommit(sys, (r) => r.statuses.some((s) => s.deviceId === 'hs-i1' && s.duty === 'on'));
    await hs.publishAsync(topic('hs-i1', 'status'), JSON.stringify({ ts: Date.now(), duty: 'on', battery: 77 }), { qos: 1 });
    await done;
    expect(sys.hub.live.byDevice('hs-i1')?.duty).toBe('on');
  });
});
