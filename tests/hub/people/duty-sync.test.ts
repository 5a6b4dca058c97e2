// Handset duty (the `status` topic) reaches workers.duty: real broker, real MQTT client, the hub's
// commit listener as the lead wires it, the embedded TimescaleDB.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { registerDevices, type TestDevice } from '../../../testkit/builders.js';
import { connectDevice, startTestSystem } from '../../../testkit/test-system.js';
import type { RunningSystem } from '../../../system.js';
import type { StatusRow } from '../../../hub/rows/row-types.js';
import { syncDutyFromStatuses, type DutyChanged } from '../../../hub/people/duty-sync.js';
import { setWorkerDuty } from '../../../hub/people/worker-store.js';

let sys: RunningSystem;
let dev: Record<string, TestDevice>;
let hs: MqttClient;
const T0 = Date.parse('2026-11-25T08:00:00Z');
const min = (n: number) => T0 + n * 60_000;

/** The committed rows of a status as ingest hands them to commit listeners. */
const status = (deviceId: string, workerId: string, ts: number, duty: 'on' | 'off'): StatusRow => ({
  deviceId,
  workerId,
  ts,
  kind: 'status',
  duty,
  battery: null,
  online: null,
});

async function commitStatus(deviceId: string, workerId: string, ts: number, duty: 'on' | 'off'): Promise<DutyChanged[]> {
  await sys.db.pool.query(`INSERT INTO device_status (device_id, ts, kind, duty) VALUES ($1, $2, 'status', $3)`, [
    deviceId,
    new Date(ts),
    duty,
  ]);
  return syncDutyFromStatuses(sys.db.pool, [status(deviceId, workerId, ts, duty)]);
}

async function dutyOf(workerId: string): Promise<{ duty: string; since: number | null }> {
  const r = await sys.db.pool.query('SELECT duty, duty_since FROM workers WHERE id = $1', [workerId]);
  return { duty: r.rows[0].duty, since: r.rows[0].duty_since?.getTime() ?? null };
}

beforeAll(async () => {
  sys = await startTestSystem();
  dev = await registerDevices(sys.db.pool, ['d1', 'd2']);
  await sys.hub.reloadRegistry();
  hs = await connectDevice(sys, 'hs-d1', dev['hs-d1']!.secret);
});
afterAll(async () => {
  await hs?.endAsync();
  await sys?.stop();
});

describe('duty sync', () => {
  beforeEach(async () => {
    await sys.db.pool.query(`DELETE FROM device_status WHERE kind = 'status'; UPDATE workers SET duty = 'off', duty_since = NULL`);
  });

  it('a status published by the handset sets workers.duty once committed', async () => {
    const ts = Date.now();
    const synced = new Promise<void>((resolve, reject) => {
      sys.hub.onCommit((rows) => {
        if (!rows.statuses.some((s) => s.deviceId === 'hs-d1' && s.ts === ts)) return;
        syncDutyFromStatuses(sys.db.pool, rows.statuses).then(() => resolve(), reject);
      });
    });
    await hs.publishAsync('grid/v1/devices/hs-d1/status', JSON.stringify({ ts, duty: 'on', battery: 64 }), { qos: 1 });
    await synced;
    expect(await dutyOf('w-d1')).toEqual({ duty: 'on', since: ts });
    expect((await dutyOf('w-d2')).duty).toBe('off');
  });

  it('changes duty only when it differs, and keeps duty_since through heartbeats', async () => {
    expect(await commitStatus('hs-d2', 'w-d2', min(0), 'on')).toEqual([{ workerId: 'w-d2', duty: 'on', since: min(0) }]);
    expect(await commitStatus('hs-d2', 'w-d2', min(5), 'on')).toEqual([]);
    expect(await dutyOf('w-d2')).toEqual({ duty: 'on', since: min(0) });
    expect(await commitStatus('hs-d2', 'w-d2', min(9), 'off')).toEqual([{ workerId: 'w-d2', duty: 'off', since: min(9) }]);
  });

  it('an older status uploaded late (store-and-forward) does not undo a newer one', async () => {
    await commitStatus('hs-d2', 'w-d2', min(0), 'on');
    await commitStatus('hs-d2', 'w-d2', min(10), 'on');
    expect(await commitStatus('hs-d2', 'w-d2', min(5), 'off')).toEqual([]);
    expect(await dutyOf('w-d2')).toEqual({ duty: 'on', since: min(0) });
  });

  it('an operator setting duty by the API wins over older handset statuses, and a newer one wins over it', async () => {
    await commitStatus('hs-d2', 'w-d2', min(0), 'on');
    await setWorkerDuty(sys.db.pool, 'w-d2', 'off', min(20));
    expect(await commitStatus('hs-d2', 'w-d2', min(15), 'on')).toEqual([]);
    expect(await dutyOf('w-d2')).toEqual({ duty: 'off', since: min(20) });
    expect(await commitStatus('hs-d2', 'w-d2', min(25), 'on')).toEqual([{ workerId: 'w-d2', duty: 'on', since: min(25) }]);
  });

  it('ignores presence rows and devices without a worker', async () => {
    const presence: StatusRow = {
      deviceId: 'hs-d2',
      workerId: 'w-d2',
      ts: min(1),
      kind: 'presence',
      duty: null,
      battery: null,
      online: true,
    };
    expect(await syncDutyFromStatuses(sys.db.pool, [presence, { ...status('door-d2', 'x', min(1), 'on'), workerId: null }])).toEqual([]);
  });
});
