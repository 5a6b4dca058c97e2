// A complaint from HTTP through the handset's MQTT offer and back to closed (issue 3 item 9), with
// the real broker, real MQTT clients and the embedded TimescaleDB; then the resident who is not
// satisfied (seed 001: "群众不满意，坚决不销号").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '../../../system.js';
import { eventually } from '../../../testkit/builders.js';
import { startTestSystem } from '../../../testkit/test-system.js';
import { G1, IN_G1, TestHandset, incidentDetail, postJson, seedBorderDistrict } from './border-district.js';

describe('dispatch: complaint → offer → closed', () => {
  let sys: RunningSystem;
  let hs: TestHandset;
  const t0 = Date.now();

  beforeAll(async () => {
    sys = await startTestSystem();
    await seedBorderDistrict(sys);
    hs = await TestHandset.connect(sys, 'w-g1', { lat: IN_G1.lat + 0.001, lon: IN_G1.lon }, t0);
  }, 60_000);

  afterAll(async () => {
    await hs?.close();
    await sys?.stop();
  });

  const stateOf = (id: string, state: string) =>
    eventually(
      () => incidentDetail(sys, id),
      (d) => d.incident.state === state,
      15_000,
      `incident ${id} ${state}`,
    );

  it('offers a resident complaint to the grid worker on the handset, and follows it to closed', async () => {
    const filed = await postJson<{ id: string; token: string; gridCode: string }>(sys, '/api/complaints', {
      category: 'garbage',
      description: '楼下垃圾三天没清运',
      lat: IN_G1.lat,
      lon: IN_G1.lon,
      phone: '13800000000',
    });
    expect(filed.status).toBe(201);
    expect(filed.body.gridCode).toBe(G1);
    const id = filed.body.id;

    const offer = await hs.next((m) => m.kind === 'offer' && m.incidentId === id);
    expect(offer).toMatchObject({ category: 'garbage', lat: IN_G1.lat, lon: IN_G1.lon });
    let d = await incidentDetail(sys, id);
    expect(d.incident).toMatchObject({ state: 'dispatched', assigneeId: 'w-g1' });
    // "Why this worker": the score parts are stored with the offer.
    expect(d.offers).toHaveLength(1);
    expect(d.offers[0]).toMatchObject({ taskId: offer.taskId, workerId: 'w-g1', via: 'own_grid', status: 'pending' });
    expect(d.offers[0].parts.responsibility).toBe(1);
    expect(d.offers[0].parts.distance).toBeGreaterThan(0.5);

    await hs.reply(offer.taskId, 'accept', Date.now());
    await stateOf(id, 'accepted');
    await hs.reply(offer.taskId, 'arrived', Date.now() + 1);
    await stateOf(id, 'on_site');
    await hs.reply(offer.taskId, 'resolved', Date.now() + 2, { note: '已联系环卫清运' });
    await stateOf(id, 'resolved');

    // The resident follows the case with the receipt, then rates it: satisfied closes it.
    const status = await fetch(`${sys.httpUrl}/api/complaints/${id}/status?token=${filed.body.token}`).then((r) => r.json());
    expect(status.state).toBe('resolved');
    const wrong = await postJson(sys, `/api/complaints/${id}/rating`, { token: 'not-the-receipt-token', score: 5 });
    expect(wrong.status).toBe(403);
    const rated = await postJson<{ state: string; rating: string }>(sys, `/api/complaints/${id}/rating`, {
      token: filed.body.token,
      score: 5,
    });
    expect(rated.body).toMatchObject({ state: 'closed', rating: 'satisfied' });

    d = await incidentDetail(sys, id);
    expect(d.audit.map((a) => a.action)).toEqual(['report', 'dispatch', 'accept', 'arrive', 'resolve', 'verify', 'close']);
    expect(d.audit.map((a) => a.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(d.audit.find((a) => a.action === 'resolve')?.reason).toBe('已联系环卫清运');
    expect(d.offers[0].status).toBe('accepted');
    // The screen's list never carries the resident's phone.
    const list = await fetch(`${sys.httpUrl}/api/incidents?state=closed`).then((r) => r.text());
    expect(list).toContain(id);
    expect(list).not.toContain('13800000000');
  });

  it('reopens an unsatisfied case and offers it again, with a fresh SLA clock', async () => {
    const filed = await postJson<{ id: string; token: string }>(sys, '/api/complaints', {
      category: 'noise',
      lat: IN_G1.lat,
      lon: IN_G1.lon,
    });
    const id = filed.body.id;
    const first = await hs.next((m) => m.kind === 'offer' && m.incidentId === id);
    await hs.reply(first.taskId, 'accept', Date.now());
    await stateOf(id, 'accepted');
    await hs.reply(first.taskId, 'resolved', Date.now() + 1);
    await stateOf(id, 'resolved');

    const unhappy = await postJson<{ state: string }>(sys, `/api/complaints/${id}/rating`, {
      token: filed.body.token,
      score: 1,
      comment: '还是很吵',
    });
    expect(unhappy.status).toBe(200);
    // Reopened and at once offered again: the same worker may take it in the new round.
    const again = await hs.next((m) => m.kind === 'offer' && m.incidentId === id && m.taskId !== first.taskId);
    const d = await incidentDetail(sys, id);
    expect(d.incident.state).toBe('dispatched');
    expect(d.incident.rating).toBe('unsatisfied');
    expect(d.audit.map((a) => a.action)).toEqual(['report', 'dispatch', 'accept', 'resolve', 'reopen', 'dispatch']);
    expect(d.audit.find((a) => a.action === 'reopen')?.reason).toContain('还是很吵');
    expect(d.offers.map((o) => o.taskId)).toEqual([first.taskId, again.taskId]);
    // Unsatisfied can never close it: a second bad rating while it is open is refused.
    const early = await postJson(sys, `/api/complaints/${id}/rating`, { token: filed.body.token, score: 2 });
    expect(early.status).toBe(409);
  });

  it("an admin changes a category's SLA and the next case gets the new deadlines; a bad table is refused", async () => {
    const cats = await fetch(`${sys.httpUrl}/api/categories`).then(
      (r) =>
        r.json() as Promise<{
          items: {
            code: string;
            nameZh: string;
            nameEn: string;
            defaultPriority: string;
            tier: string;
            deadlines: Record<string, object>;
          }[];
        }>,
    );
    const parking = cats.items.find((c) => c.code === 'parking')!;
    const tighter = { ...parking, deadlines: { ...parking.deadlines, normal: { acceptMin: 5, arriveMin: 20, resolveMin: 120 } } };
    const put = await fetch(`${sys.httpUrl}/api/categories/parking`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tighter),
    });
    expect(put.status).toBe(200);
    const filed = await postJson<{ id: string; resolveBy: number }>(sys, '/api/complaints', {
      category: 'parking',
      lat: IN_G1.lat,
      lon: IN_G1.lon,
    });
    const d = await incidentDetail(sys, filed.body.id);
    const created = d.audit[0] as unknown as { at: number };
    expect(filed.body.resolveBy - created.at).toBe(120 * 60_000);
    // accept ≤ arrive ≤ resolve, or the table is refused and nothing changes.
    const bad = { ...parking, deadlines: { ...parking.deadlines, normal: { acceptMin: 50, arriveMin: 20, resolveMin: 120 } } };
    const refused = await fetch(`${sys.httpUrl}/api/categories/parking`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(bad),
    });
    expect(refused.status).toBe(422);
    const after = await fetch(`${sys.httpUrl}/api/categories`).then(
      (r) => r.json() as Promise<{ items: { code: string; deadlines: { normal: { acceptMin: number } } }[] }>,
    );
    expect(after.items.find((c) => c.code === 'parking')!.deadlines.normal.acceptMin).toBe(5);
  });

  it('turns a patrol report from the handset into an incident, photos and all', async () => {
    await hs.publish('reports', {
      ts: Date.now(),
      reportId: 'r-1',
      category: 'hazard',
      description: '井盖松动',
      lat: IN_G1.lat,
      lon: IN_G1.lon,
      photos: ['oss://grid/photos/r-1.jpg'],
    });
    const offer = await hs.next((m) => m.kind === 'offer' && m.category === 'hazard');
    const r = await fetch(`${sys.httpUrl}/api/incidents/${offer.incidentId}`).then((x) => x.json());
    expect(r.incident).toMatchObject({
      source: 'patrol_report',
      gridCode: G1,
      description: '井盖松动',
      photos: ['oss://grid/photos/r-1.jpg'],
    });
    expect(r.audit[0]).toMatchObject({ action: 'report', actorKind: 'worker', actorId: 'w-g1' });
    // The live snapshot a screen gets on connect carries the open case.
    const snap = await fetch(`${sys.httpUrl}/api/live`).then((x) => x.json());
    expect(snap.incidents.map((i: { id: string }) => i.id)).toContain(offer.incidentId);
  });

  it('folds repeated door alerts into one incident with a count', async () => {
    const door = await (await import('mqtt')).default.connectAsync(sys.mqttUrl, {
      clientId: 'door-1',
      username: 'door-1',
      password: 'secret-door-1-0123456789',
      reconnectPeriod: 0,
    });
    const topic = `${sys.config.TOPIC_ROOT}/devices/door-1/events`;
    for (let i = 0; i < 3; i++)
      await door.publishAsync(topic, JSON.stringify({ ts: t0 + 10_000 + i * 1000, type: 'door.held_open', eventId: `ev-${i}` }), {
        qos: 1,
      });
    await door.endAsync();
    const list = await eventually(
      () =>
        fetch(`${sys.httpUrl}/api/incidents?category=door.held_open`).then(
          (r) => r.json() as Promise<{ items: { id: string; foldCount: number; gridCode: string; source: string }[] }>,
        ),
      (l) => l.items.length === 1 && l.items[0].foldCount === 3,
      15_000,
      'one folded door incident',
    );
    expect(list.items[0]).toMatchObject({ gridCode: G1, source: 'device_alert' });
  });

  // Last: it changes the region tree under the other tests.
  it('moves an open case whose grid a region import removed to its new owner, with an audit entry', async () => {
    const east = await postJson<{ id: string; gridCode: string }>(sys, '/api/complaints', {
      category: 'streetlight',
      lat: 27.871,
      lon: 113.13,
    });
    expect(east.body.gridCode).toBe('D02001001');
    const rect = [
      [
        [113.1, 27.86],
        [113.14, 27.86],
        [113.14, 27.88],
        [113.1, 27.88],
        [113.1, 27.86],
      ],
    ];
    const f = (code: string, parent: string | null, level: string) => ({
      type: 'Feature',
      properties: { code, parent, level, name: code },
      geometry: { type: 'Polygon', coordinates: rect },
    });
    const tree = {
      type: 'FeatureCollection',
      features: [f('D', null, 'district'), f('D01', 'D', 'street'), f('D01001', 'D01', 'community'), f(G1, 'D01001', 'grid')],
    };
    const put = await fetch(`${sys.httpUrl}/api/regions`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tree),
    });
    const reply = await put.json();
    expect(put.status, JSON.stringify(reply)).toBe(200);
    expect(reply.openIncidentsInRemovedGrids.map((x: { id: string }) => x.id)).toContain(east.body.id);
    const d = await eventually(
      () => incidentDetail(sys, east.body.id),
      (x) => x.incident.gridCode === G1,
      15_000,
      'relocated',
    );
    const moved = d.audit.find((a) => a.action === 'relocate');
    expect(moved?.detail).toEqual({ fromGrid: 'D02001001', toGrid: G1 });
    expect(d.audit.map((a) => a.version)).toEqual(d.audit.map((_, i) => i + 1));
  });
});
