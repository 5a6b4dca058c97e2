// Deadlines live in the database and are swept by due time (issue 3 items 5, 6, 9): decline and
// no-answer move the case on; the drain on the border of two streets (seed 000) gets exactly one
// owner and, when nobody accepts, climbs the ladder and raises exactly one overdue alarm on the
// command screens. Real broker, real MQTT handsets, real Socket.IO client, a manual clock.
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { LIVE_NAMESPACE, type AlarmView } from '../../../protocol/socket-events.js';
import type { RunningSystem } from '../../../system.js';
import { startTestSystem } from '../../../testkit/test-system.js';
import { BORDER, G1, G2, IN_G1, TestHandset, incidentDetail, postJson, seedBorderDistrict } from './border-district.js';

const MIN = 60_000;

describe('dispatch deadlines', () => {
  const clock = new ManualClock(Date.now());
  let sys: RunningSystem;
  const hs: Record<string, TestHandset> = {};
  let screen: Socket;
  const alarms: AlarmView[] = [];

  beforeAll(async () => {
    sys = await startTestSystem({ DISPATCH_OFFER_TIMEOUT_S: '180', DISPATCH_SWEEP_MS: '60000' }, { clock });
    await seedBorderDistrict(sys);
    const t = clock.now();
    hs['w-g1'] = await TestHandset.connect(sys, 'w-g1', { lat: BORDER.lat, lon: BORDER.lon - 0.002 }, t);
    hs['w-g1b'] = await TestHandset.connect(sys, 'w-g1b', IN_G1, t);
    hs['w-g2'] = await TestHandset.connect(sys, 'w-g2', { lat: BORDER.lat, lon: BORDER.lon + 0.002 }, t);
    hs['cmd-1'] = await TestHandset.connect(sys, 'cmd-1', { lat: BORDER.lat + 0.005, lon: BORDER.lon - 0.005 }, t);
    screen = io(`${sys.httpUrl}${LIVE_NAMESPACE}`, { transports: ['websocket'] });
    screen.on('alarm', (a: AlarmView) => alarms.push(a));
    await new Promise<void>((resolve) => screen.once('snapshot', () => resolve()));
  }, 60_000);

  afterAll(async () => {
    screen?.close();
    for (const h of Object.values(hs)) await h.close();
    await sys?.stop();
  });

  /** Moves the clock and runs what fell due, as the sweeper's timer would. */
  async function advance(ms: number): Promise<void> {
    clock.advance(ms);
    sys.hub.dispatch.poke();
    await sys.hub.dispatch.settled();
  }

  it('a decline goes straight to the next candidate; no answer goes to the next one after the offer window', async () => {
    const filed = await postJson<{ id: string }>(sys, '/api/complaints', { category: 'garbage', lat: IN_G1.lat, lon: IN_G1.lon });
    const id = filed.body.id;
    // Both grid workers own G1; w-g1b stands on the spot, so the distance part makes it first.
    const first = await hs['w-g1b'].next((m) => m.kind === 'offer' && m.incidentId === id);
    await hs['w-g1b'].reply(first.taskId, 'decline', clock.now(), { reason: '正在处理另一起事件' });
    const second = await hs['w-g1'].next((m) => m.kind === 'offer' && m.incidentId === id);

    await advance(179_000);
    expect((await incidentDetail(sys, id)).incident.assigneeId).toBe('w-g1');
    await advance(2_000);
    // The offer window passed: the handset is told, and the case moves on (a neighbour over the border).
    await hs['w-g1'].next((m) => m.kind === 'cancel' && m.taskId === second.taskId);
    const d = await incidentDetail(sys, id);
    expect(d.offers.map((o) => [o.workerId, o.status])).toEqual([
      ['w-g1b', 'declined'],
      ['w-g1', 'timed_out'],
      ['w-g2', 'pending'],
    ]);
    expect(d.offers[2].via).toBe('neighbour');
    expect(d.audit.map((a) => a.action)).toEqual(['report', 'dispatch', 'decline', 'dispatch', 'offer_timeout', 'dispatch']);
    expect(d.audit[2].reason).toBe('正在处理另一起事件');
    await hs['w-g2'].reply(d.offers[2].taskId, 'accept', clock.now());
  });

  it('the drain on the street border: one owner, the ladder, and exactly one overdue alarm', async () => {
    const filed = await postJson<{ id: string; gridCode: string }>(sys, '/api/complaints', {
      category: 'drain',
      description: '两街交界处下水道堵塞',
      lat: BORDER.lat,
      lon: BORDER.lon,
    });
    const id = filed.body.id;
    // On the shared edge: the lowest grid code owns it, deterministically; the tie is in the audit.
    expect(filed.body.gridCode).toBe(G1);
    let d = await incidentDetail(sys, id);
    expect(d.audit[0].detail).toMatchObject({ sharedEdgeWith: G2 });
    // A drain is a community matter (SLA tier): it starts at rung 2.
    expect(d.incident.escalationLevel).toBe(2);

    // Nobody accepts: each offer runs out in turn.
    for (let i = 0; i < 6 && (await incidentDetail(sys, id)).incident.escalationLevel < 3; i++) await advance(181_000);
    d = await incidentDetail(sys, id);
    expect(d.incident.escalationLevel).toBe(3);
    const escalation = d.audit.find((a) => a.action === 'escalate');
    expect(escalation?.reason).toBe('no_candidates');
    // Street command is offered it at the top rung.
    const top = d.offers.at(-1);
    expect(top).toMatchObject({ workerId: 'cmd-1', level: 3, status: 'pending' });

    // Past the accept deadline (60 min for a normal drain): the overdue alarm, once.
    expect(alarms.filter((a) => a.incidentId === id && a.stage === 'accept')).toHaveLength(0);
    await advance(60 * MIN);
    const overdue = await incidentDetail(sys, id);
    expect(overdue.incident.overdue).toContain('accept');
    await advance(MIN);
    await advance(10 * MIN);
    const accepts = alarms.filter((a) => a.incidentId === id && a.stage === 'accept');
    expect(accepts).toHaveLength(1);
    expect(accepts[0]).toMatchObject({ gridCode: G1, level: 3 });
    const open = await fetch(`${sys.httpUrl}/api/alarms`).then((r) => r.json() as Promise<{ items: AlarmView[] }>);
    expect(open.items.filter((a) => a.incidentId === id && a.stage === 'accept')).toHaveLength(1);
    // Never nobody: still owned by G1, held by street command, routed again while it waits.
    const end = await incidentDetail(sys, id);
    expect(end.incident.gridCode).toBe(G1);
    expect(end.incident.escalationLevel).toBe(3);
    expect(['reported', 'dispatched', 'escalated']).toContain(end.incident.state);
    const pending = await sys.db.pool.query(
      `SELECT count(*)::int AS n FROM incident_deadlines WHERE incident_id = $1 AND fired_at IS NULL`,
      [id],
    );
    expect(pending.rows[0].n).toBeGreaterThan(0);

    // The operator acknowledges the alarm; every screen hears it.
    const ack = await postJson<{ alarm: AlarmView }>(sys, `/api/alarms/${accepts[0].id}/ack`, {});
    expect(ack.body.alarm.acknowledgedAt).not.toBeNull();
  });
});
