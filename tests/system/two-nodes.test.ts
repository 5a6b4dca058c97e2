// Two nodes (two `main.ts` processes, as on two machines behind a TCP balancer) on one PostgreSQL
// server and one Redis (issue 14): a screen on node B sees a worker whose handset is on node A; a
// case filed on B is offered to that handset on A; a handset that reconnects to B takes over its
// session (A closes the old connection); with Redis stopped, ingest on A goes on, and the screen on
// B catches up by itself once Redis is back; a region tree imported through B is read again on A;
// a case filed on B reaches the screen of a JT/T 808 terminal connected to A, as text, and when
// that terminal connects again through B, A closes its old connection without marking it offline.
import mqtt, { type MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { deviceSecretKey } from '../../common/secrets.js';
import { Jt808Terminal } from '../../simulators/jt808-terminal.js';
import { upsertDevices, upsertWorkers } from '../../storage/device-store.js';
import { LIVE_NAMESPACE, type ServerToClientEvents } from '../../protocol/socket-events.js';
import { taskMessageSchema, type TaskMessage } from '../../protocol/schemas.js';
import { openDatabase, type Database } from '../../storage/database.js';
import type { RunningSystem } from '../../system.js';
import { startPostgres, type PostgresServer } from '../../testkit/postgres-server.js';
import { startRedis, type RedisServer } from '../../testkit/redis-server.js';
import { freePort } from '../../testkit/free-port.js';
import { eventually } from '../../testkit/builders.js';
import { G2, IN_G1, secretOf, seedBorderDistrict } from '../hub/dispatch/border-district.js';
import { scrapeMetric } from '../../testkit/metrics-scrape.js';
import { startNode, type NodeProcess } from '../../testkit/node-process.js';

let pg: PostgresServer;
let redis: RedisServer;
let db: Database;
let a: NodeProcess;
let b: NodeProcess;
let screen: Socket<ServerToClientEvents>;
/** A screen on A too: a district has command screens on every node. */
let screenA: Socket<ServerToClientEvents>;
const clients: MqttClient[] = [];
const seen: { workerId: string; ts: number }[] = [];

const KEY = 'two-nodes-test-key-0123456789abcdef0123';
/** A JT/T 808 terminal of a worker in G2, connected to node A in the last test. */
const TERMINAL = '13800000077';
let terminal: Jt808Terminal | undefined;
const jt808Port = new Map<NodeProcess, number>();

async function nodeEnv(): Promise<Record<string, string>> {
  return {
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    SIM: 'false',
    AUTH_REQUIRED: 'false',
    DEVICE_SECRET_KEY: KEY,
    JT808_PORT: String(await freePort()),
    MQTT_PORT: String(await freePort()),
    HTTP_PORT: String(await freePort()),
    BATCH_MAX_WAIT_MS: '20',
    DISPATCH_SWEEP_MS: '200',
  };
}

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  db = await openDatabase({ DATABASE_URL: pg.url, DATA_DIR: '' }, silentLogger);
  await seedBorderDistrict({ db, hub: { reloadRegistry: async () => undefined } } as unknown as RunningSystem);
  // A JT/T 808 terminal's worker, alone on duty in G2 (the last test).
  await upsertWorkers(db.pool, [{ id: 'w-jt', name: '北斗网格员', role: 'grid_worker', gridCodes: [G2] }]);
  await db.pool.query(`UPDATE workers SET duty = 'on' WHERE id = 'w-jt'`);
  await upsertDevices(
    db.pool,
    [{ id: 'jt-1', kind: 'handset', secret: 'jt-1-secret-0123456789', workerId: 'w-jt', protocol: 'jt808', protocolId: TERMINAL }],
    deviceSecretKey(KEY),
  );
  const envA = await nodeEnv();
  a = await startNode(envA);
  jt808Port.set(a, Number(envA.JT808_PORT));
  // B pushes its own positions only every 10 s: what it forwards from A must not wait for that.
  const envB = await nodeEnv();
  b = await startNode({ ...envB, PUSH_INTERVAL_MS: '10000' });
  jt808Port.set(b, Number(envB.JT808_PORT));
  screen = io(`${b.httpUrl}${LIVE_NAMESPACE}`, { transports: ['websocket'] }) as unknown as Socket<ServerToClientEvents>;
  screen.on('positions', (batch) => seen.push(...batch.items.map((i) => ({ workerId: i.workerId, ts: i.ts }))));
  await new Promise<void>((resolve) => screen.once('snapshot', () => resolve()));
  screenA = io(`${a.httpUrl}${LIVE_NAMESPACE}`, { transports: ['websocket'] }) as unknown as Socket<ServerToClientEvents>;
  await new Promise<void>((resolve) => screenA.once('snapshot', () => resolve()));
}, 180_000);

afterAll(async () => {
  screen?.close();
  screenA?.close();
  for (const c of clients) c.end(true);
  terminal?.destroy();
  await Promise.all([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
  await db?.close();
  await Promise.all([pg?.stop(), redis?.stop()]);
});

async function handset(
  node: NodeProcess,
  deviceId: string,
  opts: { clean?: boolean } = {},
): Promise<{ client: MqttClient; tasks: TaskMessage[] }> {
  const client = await mqtt.connectAsync(node.mqttUrl, {
    clientId: deviceId,
    username: deviceId,
    password: secretOf(deviceId),
    clean: opts.clean ?? true,
    reconnectPeriod: 0,
  });
  clients.push(client);
  const tasks: TaskMessage[] = [];
  client.on('message', (_t, p) => tasks.push(taskMessageSchema.parse(JSON.parse(p.toString()))));
  await client.subscribeAsync(`grid/v1/devices/${deviceId}/tasks`, { qos: 1 });
  return { client, tasks };
}

const publish = (c: MqttClient, deviceId: string, channel: string, body: object) =>
  c.publishAsync(`grid/v1/devices/${deviceId}/${channel}`, JSON.stringify(body), { qos: 1 });

it('shows on node B a worker whose handset is on node A, and offers a case filed on B to that handset', async () => {
  const t = Date.now();
  const h = await handset(a, 'hs-w-g1');
  await publish(h.client, 'hs-w-g1', 'presence', { online: true, ts: t });
  await publish(h.client, 'hs-w-g1', 'status', { ts: t, duty: 'on', battery: 90 });
  await publish(h.client, 'hs-w-g1', 'location', { ts: t, lat: IN_G1.lat + 0.001, lon: IN_G1.lon, acc: 5 });
  await eventually(
    () => seen.some((s) => s.workerId === 'w-g1' && s.ts === t),
    (ok) => ok,
    15_000,
    'the screen on B to see w-g1',
  );
  // Each position reaches B's screen once: B pushes what it applied from A; A's own screen pushes
  // stay on A (they used to cross Redis as well: with a screen on A, B's screens got every fix of A twice).
  for (const next of [t + 1, t + 2]) {
    await publish(h.client, 'hs-w-g1', 'location', { ts: next, lat: IN_G1.lat + 0.001, lon: IN_G1.lon, acc: 5 });
    await eventually(
      () => seen.some((s) => s.workerId === 'w-g1' && s.ts === next),
      (ok) => ok,
      15_000,
      'the next fix on B',
    );
  }
  expect(seen.filter((s) => s.workerId === 'w-g1' && s.ts === t)).toHaveLength(1);

  const filed = await fetch(`${b.httpUrl}/api/complaints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ category: 'garbage', description: '两节点测试', lat: IN_G1.lat, lon: IN_G1.lon }),
  });
  expect(filed.status).toBe(201);
  const { id } = (await filed.json()) as { id: string };
  const offer = await eventually(
    () => h.tasks.find((m) => m.kind === 'offer' && m.incidentId === id),
    (m) => m !== undefined,
    20_000,
    'the offer on the handset on A',
  );
  expect(offer?.category).toBe('garbage');
});

it("pushes A's positions to the screen on B as they arrive, not at B's next push interval", async () => {
  // A fix of a handset on B shows when B's own interval comes round: that is B's flush.
  const onB = await handset(b, 'hs-lead-1');
  const t = Date.now();
  await publish(onB.client, 'hs-lead-1', 'location', { ts: t, lat: IN_G1.lat, lon: IN_G1.lon - 0.001, acc: 5 });
  await eventually(
    () => seen.some((s) => s.workerId === 'lead-1' && s.ts === t),
    (ok) => ok,
    15_000,
    "B's own flush",
  );
  const flushedAt = Date.now();
  const onA = await handset(a, 'hs-w-g1b');
  const t2 = Date.now();
  // Where the next test's fixes of this handset are: no jump for the position filter to refuse.
  await publish(onA.client, 'hs-w-g1b', 'location', { ts: t2, lat: IN_G1.lat, lon: IN_G1.lon + 0.001, acc: 5 });
  await eventually(
    () => seen.some((s) => s.workerId === 'w-g1b' && s.ts === t2),
    (ok) => ok,
    15_000,
    "A's fix on the screen on B",
  );
  // Before, it waited in B for B's next flush, 10 s after the last one.
  expect(Date.now() - flushedAt).toBeLessThan(5_000);
  onA.client.end(true);
});

it('closes the old connection on A when the handset reconnects to B', async () => {
  const first = await handset(a, 'hs-w-g2');
  const closed = new Promise<void>((resolve) => first.client.once('close', () => resolve()));
  await handset(b, 'hs-w-g2');
  await closed;
});

it('keeps ingesting on A while Redis is down, and B catches up once Redis is back', async () => {
  const h = await handset(a, 'hs-w-g1b');
  const port = redis.port;
  await redis.stop();
  const t = Date.now();
  // Acknowledged means stored, Redis or not.
  await publish(h.client, 'hs-w-g1b', 'location', { ts: t, lat: IN_G1.lat, lon: IN_G1.lon + 0.001, acc: 5 });
  const row = await db.pool.query(`SELECT 1 FROM positions WHERE device_id = 'hs-w-g1b' AND ts = to_timestamp($1 / 1000.0)`, [t]);
  expect(row.rowCount).toBe(1);
  redis = await startRedis({ port });
  // The nodes reconnect by themselves; the next fixes reach the screen on B again.
  await eventually(
    async () => {
      const now = Date.now();
      await publish(h.client, 'hs-w-g1b', 'location', { ts: now, lat: IN_G1.lat, lon: IN_G1.lon + 0.001, acc: 5 });
      await new Promise((r) => setTimeout(r, 300));
      return seen.some((s) => s.workerId === 'w-g1b' && s.ts === now);
    },
    (ok) => ok,
    30_000,
    'positions from A on the screen on B after Redis came back',
  );
}, 60_000);

it('cuts off on node A a device disabled through node B', async () => {
  const h = await handset(a, 'hs-cmd-1');
  const closed = new Promise<void>((resolve) => h.client.once('close', () => resolve()));
  const r = await fetch(`${b.httpUrl}/api/devices/hs-cmd-1`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ enabled: false }),
  });
  expect(r.status).toBe(200);
  await closed;
});

it('reads on node A a region tree imported through node B', async () => {
  const tree = (await (await fetch(`${b.httpUrl}/api/regions`)).json()) as { features: { properties: { code: string; name: string } }[] };
  for (const f of tree.features) if (f.properties.code === 'D02') f.properties.name = '东街道（新）';
  const put = await fetch(`${b.httpUrl}/api/regions`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(tree),
  });
  expect(put.status, await put.text()).toBe(200);
  // No code is new to A, so only B's regions-changed notice makes A's directory read the tree again.
  const range = 'from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z';
  await eventually(
    async () => ((await (await fetch(`${a.httpUrl}/api/kpis?scope=D02&${range}`)).json()) as { scope?: { name: string } }).scope?.name,
    (name) => name === '东街道（新）',
    15_000,
    'the new name of D02 on node A',
  );
});

it('shows a case filed on B on the screen of a JT/T 808 terminal connected to A, and B records its answer', async () => {
  terminal = await Jt808Terminal.connect({ host: '127.0.0.1', port: jt808Port.get(a)!, terminalNo: TERMINAL, version: 2013 });
  expect((await terminal.register()).result).toBe(0);
  expect(await terminal.authenticate()).toBe(0);
  const IN_G2 = { lat: 27.871, lon: 113.13 };
  const ts = Math.floor(Date.now() / 1000) * 1000;
  expect(await terminal.location({ ...IN_G2, ts })).toBe(0);
  // B knows where the worker is (forwarded by A) before it dispatches.
  await eventually(
    () => seen.some((s) => s.workerId === 'w-jt' && s.ts === ts),
    (ok) => ok,
    15_000,
    'the screen on B to see w-jt',
  );

  const filed = await fetch(`${b.httpUrl}/api/complaints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ category: 'garbage', description: '东社区两节点终端测试', ...IN_G2 }),
  });
  expect(filed.status).toBe(201);
  const { id } = (await filed.json()) as { id: string };
  // Node B holds no connection of the terminal's: the text crosses to A, which sends the 0x8300.
  const nextText = () =>
    Promise.race([
      terminal!.nextText(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no text on the terminal on A within 20 s')), 20_000)),
    ]);
  let text = await nextText();
  while (!text.text.includes(`事件号${id}`)) text = await nextText();
  expect(text.text).toContain('东社区两节点终端测试');
  // The terminal's 0x0001 came back through A: B marks the offer delivered (published).
  const offer = await eventually(
    async () =>
      (
        (await (await fetch(`${b.httpUrl}/api/incidents/${id}`)).json()) as {
          offers: { workerId: string; deviceId: string; publishedAt: number | null }[];
        }
      ).offers[0],
    (o) => o?.publishedAt != null,
    15_000,
    'the offer delivered, on B',
  );
  expect(offer).toMatchObject({ workerId: 'w-jt', deviceId: 'jt-1' });
}, 60_000);

it('closes the old connection on A when the JT/T 808 terminal connects again through B, and keeps it online', async () => {
  expect(terminal?.isClosed).toBe(false);
  // A phone that changed networks: a new connection, to B this time; the old socket is still open.
  const again = await Jt808Terminal.connect({
    host: '127.0.0.1',
    port: jt808Port.get(b)!,
    terminalNo: TERMINAL,
    version: 2013,
    authCode: terminal!.authCode!,
  });
  try {
    expect(await again.authenticate()).toBe(0);
    await Promise.race([
      terminal!.closed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('A kept the old connection for 15 s')), 15_000)),
    ]);
    const metricOf = async (node: NodeProcess, name: string) => (await scrapeMetric(node.httpUrl, name)) ?? Number.NaN;
    expect(await metricOf(a, 'jt808_taken_over_total')).toBe(1);
    // A has finished with the old connection (its close handling done), and stored no offline presence.
    await eventually(
      () => metricOf(a, 'jt808_connections'),
      (n) => n === 0,
      10_000,
      'no JT/T 808 connection left on A',
    );
    const last = await db.pool.query<{ online: boolean }>(
      `SELECT online FROM device_status WHERE device_id = 'jt-1' AND kind = 'presence' ORDER BY ts DESC LIMIT 1`,
    );
    expect(last.rows[0]?.online).toBe(true);
    // B holds the terminal now: its fixes are acknowledged after commit there.
    expect(await again.location({ lat: 27.871, lon: 113.13, ts: Math.floor(Date.now() / 1000) * 1000 })).toBe(0);
  } finally {
    again.destroy();
  }
}, 60_000);
