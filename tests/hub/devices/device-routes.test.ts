// The device registry end to end (issue 15 §1): the real system (broker, hub, embedded database)
// with login on, real MQTT clients. Admins write, others read their scope; the secret is shown once
// and stored only as an HMAC; every change is audited; disabling, deleting or rotating closes the
// device's live connection within a second and refuses its next connect.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertWorkers } from '../../../storage/device-store.js';
import type { DeviceDetailReply, DeviceListReply, DeviceSecretReply, DeviceView } from '../../../protocol/device-api.js';
import type { RunningSystem } from '../../../system.js';
import { login } from '../../support/auth-front.js';
import { eventually } from '../../../testkit/builders.js';
import { connectDevice, startTestSystem } from '../../../testkit/test-system.js';

let sys: RunningSystem;
const tokens: Record<string, string> = {};
const square = (x: number, y: number) =>
  JSON.stringify({
    type: 'Polygon',
    coordinates: [
      [
        [x, y],
        [x + 0.01, y],
        [x + 0.01, y + 0.01],
        [x, y + 0.01],
        [x, y],
      ],
    ],
  });

beforeAll(async () => {
  sys = await startTestSystem({ AUTH_REQUIRED: 'true' });
  const pool = sys.db.pool;
  await pool.query(
    `INSERT INTO regions (code, parent_code, level, name, geometry) VALUES
       ('D', NULL, 'district', '测试区', $1), ('S1', 'D', 'street', '一街道', $1), ('S2', 'D', 'street', '二街道', $2),
       ('C1', 'S1', 'community', '一社区', $1), ('C2', 'S2', 'community', '二社区', $2),
       ('G1', 'C1', 'grid', '一网格', $1), ('G2', 'C2', 'grid', '二网格', $2)`,
    [square(113.1, 27.8), square(113.2, 27.8)],
  );
  await upsertWorkers(pool, [
    { id: 'w1', name: '张三', role: 'grid_worker', gridCodes: ['G1'] },
    { id: 'w2', name: '李四', role: 'grid_worker', gridCodes: ['G2'] },
  ]);
  await sys.hub.auth.users.upsert([
    { id: 'u-admin', username: 'admin', displayName: '管理员', password: 'admin-password-1', role: 'admin', scope: 'D' },
    { id: 'u-admin2', username: 'admin2', displayName: '二街道管理员', password: 'admin2-password-1', role: 'admin', scope: 'S2' },
    { id: 'u-op', username: 'op', displayName: '值班员', password: 'op-password-1', role: 'operator', scope: 'S1' },
    { id: 'u-view', username: 'view', displayName: '只读', password: 'view-password-1', role: 'viewer', scope: 'C1' },
  ]);
  await sys.hub.reloadRegistry();
  for (const [u, p] of [
    ['admin', 'admin-password-1'],
    ['admin2', 'admin2-password-1'],
    ['op', 'op-password-1'],
    ['view', 'view-password-1'],
  ] as const) {
    tokens[u] = (await login(sys.httpUrl, u, p)).token;
  }
});
afterAll(async () => sys?.stop());

async function api<T = Record<string, unknown>>(
  who: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${sys.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Resolves when the client's connection closes; with the time it took from `since`. */
function closedWithin(c: MqttClient, since: () => number): Promise<number> {
  return new Promise((resolve) => c.once('close', () => resolve(performance.now() - since())));
}

const created: Record<string, DeviceSecretReply> = {};

describe('/api/devices', () => {
  it('creates a device for an admin, returns its secret once and stores only an HMAC', async () => {
    const r = await api<DeviceSecretReply>('admin', 'POST', '/api/devices', {
      id: 'hs-w1',
      kind: 'handset',
      workerId: 'w1',
      name: '张三的手机',
      model: 'P40',
    });
    expect(r.status).toBe(201);
    expect(r.body.secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(r.body.device).toMatchObject({
      id: 'hs-w1',
      kind: 'handset',
      protocol: 'native',
      workerName: '张三',
      areaCode: 'G1',
      enabled: true,
      online: false,
      secretForm: 'hmac',
    });
    created['hs-w1'] = r.body;
    const row = (await sys.db.pool.query('SELECT secret_hash FROM devices WHERE id = $1', ['hs-w1'])).rows[0];
    expect(row.secret_hash).toMatch(/^hmac-sha256\$/);
    expect(row.secret_hash).not.toContain(r.body.secret);
    // The reply is not cached anywhere, and a later read never shows the secret again.
    const again = await api<DeviceDetailReply>('admin', 'GET', '/api/devices/hs-w1');
    expect(JSON.stringify(again.body)).not.toContain(r.body.secret);
    expect(again.body.audit).toEqual([expect.objectContaining({ actor: 'u-admin', actorRole: 'admin', action: 'create' })]);
    expect(again.body.audit[0]!.changes).toMatchObject({ kind: [null, 'handset'], workerId: [null, 'w1'] });
    expect(JSON.stringify(again.body.audit)).not.toMatch(/secret_hash|hmac-sha256/);
  });

  it('makes an id when none is given, and takes a door in another grid and a JT/T 808 terminal', async () => {
    const door = await api<DeviceSecretReply>('admin', 'POST', '/api/devices', {
      kind: 'door',
      gridCode: 'G2',
      lat: 27.805,
      lon: 113.205,
      name: '二网格东门',
    });
    expect(door.status).toBe(201);
    expect(door.body.device.id).toMatch(/^door-[0-9a-f]{10}$/);
    created.door = door.body;
    const jt = await api<DeviceSecretReply>('admin', 'POST', '/api/devices', {
      id: 'jt-1',
      kind: 'handset',
      protocol: 'jt808',
      protocolId: '013912345678',
      workerId: 'w2',
    });
    expect(jt.status).toBe(201);
    expect(jt.body.device).toMatchObject({ protocol: 'jt808', protocolId: '013912345678' });
    const sensor = await api<DeviceSecretReply>('admin', 'POST', '/api/devices', {
      id: 'sn-1',
      kind: 'sensor',
      gridCode: 'G1',
      lat: 27.805,
      lon: 113.105,
    });
    expect(sensor.status).toBe(201);
    created['sn-1'] = sensor.body;
  });

  it('refuses bad input with the reasons, and changes nothing', async () => {
    const count = async () => (await sys.db.pool.query('SELECT count(*)::int AS n FROM devices')).rows[0].n as number;
    const before = await count();
    const bad = await api<{ error: { code: string }; issues: string[] }>('admin', 'POST', '/api/devices', {
      id: 'bad id!',
      kind: 'toaster',
      lat: 95,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('DEVICE_INVALID');
    expect(bad.body.issues.join('\n')).toMatch(/id:.*\n?.*kind:/s);
    expect((await api('admin', 'POST', '/api/devices', { kind: 'handset', protocol: 'jt808' })).status).toBe(422);
    expect((await api('admin', 'POST', '/api/devices', { kind: 'handset', workerId: 'nobody' })).body).toMatchObject({
      error: { code: 'DEVICE_UNKNOWN_WORKER' },
    });
    expect((await api('admin', 'POST', '/api/devices', { kind: 'door', gridCode: 'G9' })).body).toMatchObject({
      error: { code: 'DEVICE_UNKNOWN_GRID' },
    });
    expect((await api('admin', 'POST', '/api/devices', { id: 'hs-w1', kind: 'handset' })).status).toBe(409);
    expect(
      (await api('admin', 'POST', '/api/devices', { id: 'jt-2', kind: 'handset', protocol: 'jt808', protocolId: '013912345678' })).body,
    ).toMatchObject({ error: { code: 'DEVICE_PROTOCOL_ID_TAKEN' }, heldBy: 'jt-1' });
    expect((await api('admin', 'PATCH', '/api/devices/hs-w1', {})).status).toBe(422);
    expect(await count()).toBe(before);
    expect(sys.metrics.get('devices_refused_total', { reason: 'DEVICE_INVALID' })).toBeGreaterThanOrEqual(3);
  });

  it('lets operators and viewers read only their scope, and write nothing, whatever the body', async () => {
    const op = await api<DeviceListReply>('op', 'GET', '/api/devices');
    expect(op.body.items.map((d) => d.id).sort()).toEqual(['hs-w1', 'sn-1']);
    const view = await api<DeviceListReply>('view', 'GET', '/api/devices');
    expect(view.body.items.map((d) => d.id).sort()).toEqual(['hs-w1', 'sn-1']);
    expect((await api('view', 'GET', '/api/devices/jt-1')).status).toBe(404);
    expect((await api('op', 'GET', `/api/devices/${created.door!.device.id}`)).status).toBe(404);
    // The role is refused before the body is read: an invalid body gets 403, not 422.
    expect((await api('op', 'POST', '/api/devices', { nonsense: true })).status).toBe(403);
    expect((await api('op', 'PATCH', '/api/devices/hs-w1', { enabled: false })).status).toBe(403);
    expect((await api('op', 'POST', '/api/devices/hs-w1/secret')).status).toBe(403);
    expect((await api('view', 'DELETE', '/api/devices/hs-w1')).status).toBe(403);
    // An admin of another street neither sees nor touches the first street's devices.
    const admin2 = await api<DeviceListReply>('admin2', 'GET', '/api/devices');
    expect(admin2.body.items.map((d) => d.id).sort()).toEqual([created.door!.device.id, 'jt-1'].sort());
    expect((await api('admin2', 'PATCH', '/api/devices/hs-w1', { name: 'x' })).status).toBe(404);
    expect((await api('admin2', 'POST', '/api/devices', { kind: 'door', gridCode: 'G1' })).body).toMatchObject({
      error: { code: 'DEVICE_OUT_OF_SCOPE' },
    });
    // Unauthenticated: nothing.
    expect((await fetch(`${sys.httpUrl}/api/devices`)).status).toBe(401);
  });

  it('filters by kind, protocol, grid (any level) and online, and shows last seen and the last fix', async () => {
    const secret = created['hs-w1']!.secret;
    const c = await connectDevice(sys, 'hs-w1', secret);
    const ts = Date.now();
    await c.publishAsync('grid/v1/devices/hs-w1/presence', JSON.stringify({ online: true, ts }), { qos: 1, retain: true });
    await c.publishAsync('grid/v1/devices/hs-w1/location', JSON.stringify({ ts, lat: 27.805, lon: 113.105, acc: 5 }), { qos: 1 });
    const seen = await eventually(
      () => api<DeviceListReply>('admin', 'GET', '/api/devices?online=true'),
      (r) => r.body.items.some((d) => d.id === 'hs-w1' && d.lastFix !== null),
      10_000,
      'hs-w1 online with its fix',
    );
    const d = seen.body.items.find((x) => x.id === 'hs-w1') as DeviceView;
    expect(d.online).toBe(true);
    expect(d.lastFix).toEqual({ lat: 27.805, lon: 113.105, ts: new Date(ts).toISOString() });
    expect(Date.parse(d.lastSeen!)).toBeGreaterThanOrEqual(ts - 1000);
    const ids = async (q: string) => (await api<DeviceListReply>('admin', 'GET', `/api/devices?${q}`)).body.items.map((x) => x.id).sort();
    expect(await ids('online=true')).toEqual(['hs-w1']);
    expect(await ids('kind=sensor')).toEqual(['sn-1']);
    expect(await ids('protocol=jt808')).toEqual(['jt-1']);
    expect(await ids('grid=S1')).toEqual(['hs-w1', 'sn-1']);
    expect(await ids('grid=G2&kind=door')).toEqual([created.door!.device.id]);
    expect((await api('admin', 'GET', '/api/devices?online=maybe')).status).toBe(422);
    expect((await api('admin', 'GET', '/api/devices?colour=red')).status).toBe(422);
    // A region outside the caller's area is refused, not answered empty.
    expect((await api('op', 'GET', '/api/devices?grid=G2')).status).toBe(403);
    c.end(true);
    // A sensor connects under its own prefix like any device.
    const s = await connectDevice(sys, 'sn-1', created['sn-1']!.secret);
    await s.publishAsync('grid/v1/devices/sn-1/status', JSON.stringify({ ts: Date.now(), battery: 90 }), { qos: 1 });
    s.end(true);
  });

  it('closes the live connection within a second on disable, refuses the next connect, and enables again', async () => {
    const secret = created['hs-w1']!.secret;
    const c = await connectDevice(sys, 'hs-w1', secret);
    let sent = 0;
    const gone = closedWithin(c, () => sent);
    sent = performance.now();
    const r = await api<DeviceView>('admin', 'PATCH', '/api/devices/hs-w1', { enabled: false });
    expect(r.status).toBe(200);
    expect(r.body.enabled).toBe(false);
    expect(await gone).toBeLessThan(1000);
    await expect(connectDevice(sys, 'hs-w1', secret)).rejects.toMatchObject({ code: 5 });
    expect((await api('admin', 'PATCH', '/api/devices/hs-w1', { enabled: true })).status).toBe(200);
    (await connectDevice(sys, 'hs-w1', secret)).end(true);
    const audit = (await api<DeviceDetailReply>('admin', 'GET', '/api/devices/hs-w1')).body.audit.map((a) => a.action);
    expect(audit.slice(0, 2)).toEqual(['enable', 'disable']);
    expect(sys.metrics.get('mqtt_clients_closed_total', { reason: 'disabled' })).toBe(1);
  });

  it('rotates the secret: the old connection closes, the old secret is refused, the new one works', async () => {
    const old = created['hs-w1']!.secret;
    const c = await connectDevice(sys, 'hs-w1', old);
    let sent = 0;
    const gone = closedWithin(c, () => sent);
    sent = performance.now();
    const r = await api<DeviceSecretReply>('admin', 'POST', '/api/devices/hs-w1/secret');
    expect(r.status).toBe(200);
    expect(r.body.secret).not.toBe(old);
    expect(await gone).toBeLessThan(1000);
    await expect(connectDevice(sys, 'hs-w1', old)).rejects.toMatchObject({ code: 4 });
    (await connectDevice(sys, 'hs-w1', r.body.secret)).end(true);
    created['hs-w1'] = r.body;
    // A change that does not concern the broker keeps the connection.
    const kept = await connectDevice(sys, 'hs-w1', r.body.secret);
    expect((await api('admin', 'PATCH', '/api/devices/hs-w1', { name: '新名字', firmware: '2.1.0' })).status).toBe(200);
    await sys.broker.deviceChanged('hs-w1');
    expect(kept.connected).toBe(true);
    kept.end(true);
  });

  it('deletes: the connection closes within a second, the next connect is refused, the audit stays', async () => {
    const c = await connectDevice(sys, 'hs-w1', created['hs-w1']!.secret);
    let sent = 0;
    const gone = closedWithin(c, () => sent);
    sent = performance.now();
    expect((await api('admin', 'DELETE', '/api/devices/hs-w1')).status).toBe(200);
    expect(await gone).toBeLessThan(1000);
    await expect(connectDevice(sys, 'hs-w1', created['hs-w1']!.secret)).rejects.toMatchObject({ code: 4 });
    expect((await api('admin', 'GET', '/api/devices/hs-w1')).status).toBe(404);
    const trail = await sys.db.pool.query(`SELECT action, actor FROM device_audit WHERE device_id = 'hs-w1' ORDER BY id`);
    expect(trail.rows.map((r) => r.action)).toEqual(['create', 'disable', 'enable', 'rotate_secret', 'update', 'delete']);
  });
});
