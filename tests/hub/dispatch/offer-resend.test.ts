// An offer made while a handset was away reaches it when it comes back, whatever became of its MQTT
// session: a node that restarted (Aedes keeps sessions in memory), a session on another node, or a
// clean session that never had one. The broker tells the hub when a handset subscribes to its tasks
// with no session here (CONNACK sessionPresent 0), and dispatch sends its open offers again. Before,
// such an offer only timed out and went to the next candidate. A real PostgreSQL server, so the data
// outlives the hub.
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskMessageSchema, type TaskMessage } from '../../../protocol/schemas.js';
import { deviceTopic } from '../../../protocol/topics.js';
import type { RunningSystem } from '../../../system.js';
import { startPostgres, type PostgresServer } from '../../../testkit/postgres-server.js';
import { eventually } from '../../../testkit/builders.js';
import { startTestSystem } from '../../../testkit/test-system.js';
import { IN_G1, TestHandset, postJson, secretOf, seedBorderDistrict } from './border-district.js';

/** A handset that comes back: connects, subscribes to its tasks, and records what arrives. */
async function comeBack(
  sys: RunningSystem,
  deviceId: string,
  clean: boolean,
): Promise<{ client: MqttClient; sessionPresent: boolean; tasks: TaskMessage[] }> {
  const client = mqtt.connect(sys.mqttUrl, {
    clientId: deviceId,
    username: deviceId,
    password: secretOf(deviceId),
    clean,
    reconnectPeriod: 0,
  });
  const tasks: TaskMessage[] = [];
  client.on('message', (_t, p) => tasks.push(taskMessageSchema.parse(JSON.parse(p.toString()))));
  const sessionPresent = await new Promise<boolean>((resolve, reject) => {
    client.once('connect', (connack) => resolve(connack.sessionPresent));
    client.once('error', reject);
  });
  await client.subscribeAsync(deviceTopic(sys.config.TOPIC_ROOT, deviceId, 'tasks'), { qos: 1 });
  return { client, sessionPresent, tasks };
}

describe('open offers reach a handset that comes back with no session', () => {
  let server: PostgresServer;
  let sys: RunningSystem | undefined;
  const env = (): Record<string, string> => ({ DATABASE_URL: server.url, DISPATCH_OFFER_TIMEOUT_S: '600' });
  const clients: MqttClient[] = [];
  /** The first test's handset, still connected. */
  let gone: MqttClient | undefined;

  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await sys?.stop();
    await server?.stop();
  });

  const published = (s: RunningSystem, taskId: string) =>
    eventually(
      async () => (await s.db.pool.query(`SELECT published_at FROM incident_offers WHERE task_id = $1`, [taskId])).rows[0]?.published_at,
      (at) => at != null,
      15_000,
      'the broker took the offer',
    );

  it('after the node restarted (its in-memory session gone), the offer queued there is sent again, once', async () => {
    sys = await startTestSystem(env());
    await seedBorderDistrict(sys);
    const h = await TestHandset.connect(sys, 'w-g1', IN_G1, Date.now());
    await h.close(); // persistent session: the broker queues what comes meanwhile
    const filed = await postJson<{ id: string }>(sys, '/api/complaints', { category: 'garbage', lat: IN_G1.lat, lon: IN_G1.lon });
    const offer = await eventually(
      async () =>
        (await sys!.db.pool.query(`SELECT task_id FROM incident_offers WHERE incident_id = $1`, [filed.body.id])).rows[0]?.task_id as
          | string
          | undefined,
      (id) => id !== undefined,
      15_000,
      'the offer',
    );
    await published(sys, offer!);
    await sys.stop();

    sys = await startTestSystem(env());
    const back = await comeBack(sys, 'hs-w-g1', false);
    clients.push(back.client);
    gone = back.client;
    expect(back.sessionPresent).toBe(false);
    await eventually(
      () => back.tasks.filter((m) => m.kind === 'offer' && m.taskId === offer),
      (l) => l.length === 1,
      15_000,
      'the open offer on the handset',
    );
    const m = back.tasks.find((x) => x.taskId === offer)!;
    expect(m).toMatchObject({ kind: 'offer', incidentId: filed.body.id, category: 'garbage' });
  }, 120_000);

  it('a clean-session handset gets an offer made while it was away when it subscribes again', async () => {
    // w-g1 goes off duty, so the next case in the grid is w-g1b's.
    await gone!.publishAsync(deviceTopic(sys!.config.TOPIC_ROOT, 'hs-w-g1', 'status'), JSON.stringify({ ts: Date.now(), duty: 'off' }), {
      qos: 1,
    });
    await eventually(
      () => sys!.hub.live.workers.get('w-g1')?.duty,
      (d) => d === 'off',
      15_000,
      'w-g1 off duty',
    );
    const first = await comeBack(sys!, 'hs-w-g1b', true);
    await first.client.publishAsync(
      deviceTopic(sys!.config.TOPIC_ROOT, 'hs-w-g1b', 'presence'),
      JSON.stringify({ ts: Date.now(), online: true }),
      { qos: 1 },
    );
    await first.client.publishAsync(
      deviceTopic(sys!.config.TOPIC_ROOT, 'hs-w-g1b', 'status'),
      JSON.stringify({ ts: Date.now(), duty: 'on' }),
      { qos: 1 },
    );
    await first.client.publishAsync(
      deviceTopic(sys!.config.TOPIC_ROOT, 'hs-w-g1b', 'location'),
      JSON.stringify({ ts: Date.now(), lat: IN_G1.lat, lon: IN_G1.lon + 0.0005, acc: 5 }),
      { qos: 1 },
    );
    await eventually(
      () => sys!.hub.live.workers.get('w-g1b'),
      (w) => w?.online === true && w.duty === 'on' && w.lat !== null,
      15_000,
      'w-g1b live',
    );
    await first.client.endAsync();
    const filed = await postJson<{ id: string }>(sys!, '/api/complaints', { category: 'noise', lat: IN_G1.lat, lon: IN_G1.lon });
    const offer = await eventually(
      async () =>
        (
          await sys!.db.pool.query(`SELECT task_id, device_id FROM incident_offers WHERE incident_id = $1 AND status = 'pending'`, [
            filed.body.id,
          ])
        ).rows[0],
      (r) => r !== undefined,
      15_000,
      'the offer',
    );
    expect(offer.device_id).toBe('hs-w-g1b');
    await published(sys!, offer.task_id);
    const back = await comeBack(sys!, 'hs-w-g1b', true);
    clients.push(back.client);
    await eventually(
      () => back.tasks.some((m) => m.kind === 'offer' && m.taskId === offer.task_id),
      (ok) => ok,
      15_000,
      'the offer after the clean reconnect',
    );
  }, 120_000);
});
