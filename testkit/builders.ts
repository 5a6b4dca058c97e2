// Builders for valid objects; tests override only what they are about.
import type pg from 'pg';
import { upsertDevices, upsertWorkers } from '../storage/device-store.js';
import type { DeviceKind } from '../protocol/topics.js';
import type { PositionRow } from '../hub/rows/row-types.js';

let clock = Date.parse('2026-11-25T08:00:00Z');

/** A valid fix near Zhuzhou, one second after the previous one built. */
export function aFix(over: Record<string, unknown> = {}): Record<string, unknown> {
  clock += 1000;
  return { ts: clock, lat: 27.87, lon: 113.12, acc: 5, battery: 80, ...over };
}

export function anAlert(over: Record<string, unknown> = {}): Record<string, unknown> {
  clock += 1000;
  return { ts: clock, type: 'door.forced', severity: 'high', confidence: 0.9, ...over };
}

/** A stored position row with every optional reading empty. */
export function aPositionRow(over: Partial<PositionRow> & Pick<PositionRow, 'deviceId' | 'ts'>): PositionRow {
  return {
    workerId: null,
    lat: 27.87,
    lon: 113.12,
    acc: null,
    alt: null,
    speed: null,
    heading: null,
    battery: null,
    seq: null,
    ...over,
  };
}

export interface TestDevice {
  id: string;
  secret: string;
  kind: DeviceKind;
  workerId: string | null;
}

/** Registers one worker with a handset, a door and a camera per id suffix. */
export async function registerDevices(pool: Pick<pg.Pool, 'query'>, suffixes: string[]): Promise<Record<string, TestDevice>> {
  const out: Record<string, TestDevice> = {};
  await pool.query(
    `INSERT INTO regions (code, parent_code, level, name, geometry) VALUES
       ('T', NULL, 'district', '测试区', '{"type":"Polygon","coordinates":[[[113,27.8],[113.2,27.8],[113.2,27.9],[113,27.9],[113,27.8]]]}')
     ON CONFLICT DO NOTHING`,
  );
  await upsertWorkers(
    pool,
    suffixes.map((s) => ({ id: `w-${s}`, name: `网格员${s}`, role: 'grid_worker' as const, gridCodes: ['T'] })),
  );
  const devices = suffixes.flatMap((s) => [
    { id: `hs-${s}`, kind: 'handset' as const, secret: `secret-hs-${s}-0123456789`, workerId: `w-${s}` },
    { id: `door-${s}`, kind: 'door' as const, secret: `secret-door-${s}-0123456789`, workerId: null },
    { id: `cam-${s}`, kind: 'camera' as const, secret: `secret-cam-${s}-0123456789`, workerId: null },
  ]);
  await upsertDevices(
    pool,
    devices.map((d) => ({ ...d, gridCode: d.workerId ? null : 'T', lat: d.workerId ? null : 27.85, lon: d.workerId ? null : 113.1 })),
  );
  for (const d of devices) out[d.id] = d;
  return out;
}

/** Polls a condition without fixed sleeps: each retry waits for the next macrotask burst. */
export async function eventually<T>(read: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
