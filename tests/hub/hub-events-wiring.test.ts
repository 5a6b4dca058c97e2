// The hub's services talk through its event bus (hub/hub-events.ts), on the real system: broker,
// MQTT handset, HTTP API, embedded TimescaleDB. Each event is heard when the thing happens, and
// what listens to it (live state, the screens' push, the directory) has acted when its sender
// goes on: an HTTP reply comes after the hub reloaded or updated its live state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '../../system.js';
import type { HubEventName, HubEvents } from '../../hub/hub-events.js';
import { ALL_SCOPE } from '../../hub/auth/region-scope.js';
import { eventually } from '../../testkit/builders.js';
import { startTestSystem } from '../../testkit/test-system.js';
import { G1, IN_G1, TestHandset, postJson, seedBorderDistrict } from './dispatch/border-district.js';

describe('hub event bus, wired', () => {
  let sys: RunningSystem;
  let hs: TestHandset | undefined;
  // What the bus said, per event, in order.
  const heard: { [K in HubEventName]: HubEvents[K][] } = {
    rowsCommitted: [],
    incidentChanged: [],
    alarmChanged: [],
    registryChanged: [],
    dutyChanged: [],
    tasksListener: [],
  };
  const of = <K extends HubEventName>(name: K): HubEvents[K][] => heard[name];

  beforeAll(async () => {
    sys = await startTestSystem();
    const bus = sys.hub.events;
    bus.on('rowsCommitted', (...args) => void heard.rowsCommitted.push(args));
    bus.on('incidentChanged', (...args) => void heard.incidentChanged.push(args));
    bus.on('alarmChanged', (...args) => void heard.alarmChanged.push(args));
    bus.on('registryChanged', (...args) => void heard.registryChanged.push(args));
    bus.on('dutyChanged', (...args) => void heard.dutyChanged.push(args));
    bus.on('tasksListener', (...args) => void heard.tasksListener.push(args));
    await seedBorderDistrict(sys);
  }, 120_000);

  afterAll(async () => {
    await hs?.close();
    await sys?.stop();
  });

  it("rows committed: a handset's status and fix, heard after the live state took them", async () => {
    const t0 = Date.now();
    hs = await TestHandset.connect(sys, 'w-g1', { lat: IN_G1.lat + 0.001, lon: IN_G1.lon }, t0);
    // Its first session on this broker: subscribing to its tasks is heard (its open offers go out again).
    expect(of('tasksListener')).toContainEqual(['hs-w-g1']);
    const rows = of('rowsCommitted').map(([r]) => r);
    expect(
      rows.some((r) => r.statuses.some((s) => s.deviceId === 'hs-w-g1' && s.kind === 'status' && s.duty === 'on' && s.ts === t0)),
    ).toBe(true);
    expect(rows.some((r) => r.positions.some((p) => p.deviceId === 'hs-w-g1' && p.ts === t0))).toBe(true);
    expect(sys.hub.live.workers.get('w-g1')).toMatchObject({ online: true, duty: 'on', ts: t0 });
  });

  it('incident changed: a complaint reported, then dispatched to the grid worker; an alarm acknowledged', async () => {
    const filed = await postJson<{ id: string }>(sys, '/api/complaints', { category: 'garbage', lat: IN_G1.lat, lon: IN_G1.lon });
    expect(filed.status).toBe(201);
    const id = filed.body.id;
    await hs!.next((m) => m.kind === 'offer' && m.incidentId === id);
    const views = await eventually(
      () =>
        of('incidentChanged')
          .map(([v]) => v)
          .filter((v) => v.id === id),
      (v) => v.some((x) => x.state === 'dispatched'),
      15_000,
      'dispatched heard',
    );
    expect(views.map((v) => v.version)).toEqual([...views.map((v) => v.version)].sort((a, b) => a - b));
    expect(views.at(-1)).toMatchObject({ gridCode: G1, state: 'dispatched', assigneeId: 'w-g1' });

    const alarm = await sys.db.pool.query<{ id: number }>(
      `INSERT INTO incident_alarms (incident_id, stage, level, raised_at) VALUES ($1, 'accept', 0, now()) RETURNING id`,
      [id],
    );
    const alarmId = alarm.rows[0]!.id;
    const acked = await postJson<{ alarm: { acknowledgedAt: number | null } }>(sys, `/api/alarms/${alarmId}/ack`, {});
    expect(acked.status).toBe(200);
    expect(
      of('alarmChanged')
        .map(([a]) => a)
        .find((a) => a.id === alarmId),
    ).toMatchObject({ incidentId: id, gridCode: G1, acknowledgedAt: acked.body.alarm.acknowledgedAt });
  });

  it("duty changed: an operator's change is heard, and the live state has it when the reply comes", async () => {
    const r = await fetch(`${sys.httpUrl}/api/workers/w-g2/duty`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duty: 'on' }),
    });
    expect(r.status).toBe(200);
    expect(of('dutyChanged')).toContainEqual(['w-g2', 'on']);
    expect(sys.hub.live.workers.get('w-g2')?.duty).toBe('on');
  });

  it('registry changed: a new device, reloaded into the directory before the listeners after it hear it', async () => {
    let knownWhenHeard: boolean | null = null;
    const off = sys.hub.events.on('registryChanged', (c) => {
      if (c.kind === 'device' && c.deviceId === 'hs-new') knownWhenHeard = sys.hub.devices.get('hs-new') !== undefined;
    });
    await sys.hub.deviceRegistry.create(
      { id: 'hs-new', kind: 'handset', protocol: 'native', workerId: 'w-g2' },
      { id: 'test-admin', role: 'admin', scope: ALL_SCOPE },
    );
    off();
    expect(of('registryChanged')).toContainEqual([{ kind: 'device', deviceId: 'hs-new', change: 'updated' }]);
    expect(knownWhenHeard).toBe(true);
  });
});
