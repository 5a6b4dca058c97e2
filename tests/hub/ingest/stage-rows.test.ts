// The rows stage: each channel's payload becomes its rows, positions in WGS-84 and fix-time order,
// each marked inside or outside the worker's own grids; alerts, reports and task replies also go to
// dispatch's inbox.
import { describe, expect, it } from 'vitest';
import { toWgs84 } from '../../../common/crs.js';
import type { DeviceInfo } from '../../../hub/rows/row-types.js';
import { rowsStage } from '../../../hub/ingest/stage-rows.js';
import type { Channel } from '../../../protocol/topics.js';
import { DOOR, HANDSET, T0, aContext } from './ingest-context.js';

/** The worker's own grid: everything east of 113.12 (the stage asks, it does not decide). */
const fence = { inside: (workerId: string | null, lon: number) => workerId === 'w-1' && lon > 113.12 };
const stage = rowsStage(fence);

function run(device: DeviceInfo, channel: Channel, data: unknown) {
  const ctx = aContext({ device, channel, data, deviceId: device.id });
  return { outcome: stage.run(ctx), rows: ctx.rows };
}

describe('rows stage', () => {
  it('turns one fix into one position row, WGS-84 kept as sent', () => {
    const { outcome, rows } = run(HANDSET, 'location', { ts: T0, lat: 27.87, lon: 113.13, acc: 5, battery: 80, seq: 7 });
    expect(outcome).toBeUndefined();
    expect(rows.positions).toEqual([
      {
        deviceId: 'hs-1',
        workerId: 'w-1',
        ts: T0,
        lat: 27.87,
        lon: 113.13,
        acc: 5,
        alt: null,
        speed: null,
        heading: null,
        battery: 80,
        seq: 7,
        inGrid: true,
      },
    ]);
    expect(rows.inbox).toEqual([]);
  });

  it('orders a store-and-forward batch by fix time and converts GCJ-02 and BD-09 to WGS-84', () => {
    const { rows } = run(HANDSET, 'location', {
      fixes: [
        { ts: T0 + 2000, lat: 27.87, lon: 113.13, crs: 'gcj02' },
        { ts: T0, lat: 27.87, lon: 113.11 },
        { ts: T0 + 1000, lat: 27.87, lon: 113.13, crs: 'bd09' },
      ],
    });
    expect(rows.positions.map((p) => p.ts)).toEqual([T0, T0 + 1000, T0 + 2000]);
    const [wgs, bd09, gcj02] = rows.positions;
    expect([wgs!.lon, wgs!.lat]).toEqual([113.11, 27.87]);
    expect([bd09!.lon, bd09!.lat]).toEqual(toWgs84(113.13, 27.87, 'bd09'));
    expect([gcj02!.lon, gcj02!.lat]).toEqual(toWgs84(113.13, 27.87, 'gcj02'));
    // The shift is hundreds of metres: a stage that forgot it would put the worker in the wrong street.
    expect(Math.abs(gcj02!.lon - 113.13)).toBeGreaterThan(0.003);
    // Inside or outside is asked with the converted coordinates.
    expect(rows.positions.map((p) => p.inGrid)).toEqual([false, fence.inside('w-1', bd09!.lon), fence.inside('w-1', gcj02!.lon)]);
  });

  it("makes an alert an event row at the device's place and an inbox entry for dispatch", () => {
    const alert = { ts: T0, type: 'door.forced', eventId: 'e-1', severity: 'high', confidence: 0.9 };
    const { rows } = run(DOOR, 'events', alert);
    expect(rows.events).toEqual([
      {
        deviceId: 'door-1',
        deviceKind: 'door',
        ts: T0,
        eventKey: 'e-1',
        type: 'door.forced',
        severity: 'high',
        confidence: 0.9,
        snapshot: null,
        data: null,
        lat: 27.85,
        lon: 113.1,
        gridCode: 'G1',
      },
    ]);
    expect(rows.inbox).toEqual([
      {
        deviceId: 'door-1',
        channel: 'events',
        key: 'e-1',
        ts: T0,
        body: { ...alert, deviceKind: 'door', lat: 27.85, lon: 113.1, gridCode: 'G1' },
      },
    ]);
  });

  it('keys an alert without an event id by its type (one incident per device and type)', () => {
    const { rows } = run(DOOR, 'events', { ts: T0, type: 'door.held_open' });
    expect(rows.events[0]!.eventKey).toBe('door.held_open');
    expect(rows.inbox[0]!.key).toBe('door.held_open');
  });

  it('turns status and presence into status rows of their kind', () => {
    expect(run(HANDSET, 'status', { ts: T0, duty: 'on', battery: 55 }).rows.statuses).toEqual([
      { deviceId: 'hs-1', workerId: 'w-1', ts: T0, kind: 'status', duty: 'on', battery: 55, online: null },
    ]);
    expect(run(DOOR, 'presence', { ts: T0, online: false }).rows.statuses).toEqual([
      { deviceId: 'door-1', workerId: null, ts: T0, kind: 'presence', duty: null, battery: null, online: false },
    ]);
  });

  it("puts a worker's report into the inbox in WGS-84, and a task reply as sent", () => {
    const report = { ts: T0, category: 'garbage', lat: 27.87, lon: 113.13, crs: 'gcj02' };
    const [lon, lat] = toWgs84(113.13, 27.87, 'gcj02');
    expect(run(HANDSET, 'reports', report).rows.inbox).toEqual([
      { deviceId: 'hs-1', channel: 'reports', key: '', ts: T0, body: { ...report, lon, lat, crs: 'wgs84' } },
    ]);
    const reply = { ts: T0, taskId: 't-1', reply: 'accept' };
    expect(run(HANDSET, 'task-replies', reply).rows.inbox).toEqual([
      { deviceId: 'hs-1', channel: 'task-replies', key: '', ts: T0, body: reply },
    ]);
  });

  it('refuses a channel it has no rows for', () => {
    const { outcome, rows } = run(HANDSET, 'tasks', { ts: T0 });
    expect(outcome).toEqual({ reject: 'unknown_channel' });
    expect(Object.values(rows).every((r) => r.length === 0)).toBe(true);
  });
});
