// A small district for dispatch integration tests: two streets meeting on the meridian 113.12 E
// (seed 000: the drain on the border of two streets), one community and one grid each, the people
// who answer for them, their handsets, and a door. Handsets are real MQTT clients of the real broker.
import mqtt, { type MqttClient } from 'mqtt';
import type pg from 'pg';
import { upsertDevices, upsertWorkers, type NewWorker } from '../../../storage/device-store.js';
import { deviceTopic } from '../../../protocol/topics.js';
import { taskMessageSchema, type TaskMessage } from '../../../protocol/schemas.js';
import type { RunningSystem } from '../../../system.js';
import { eventually } from '../../../testkit/builders.js';

const rect = (w: number, s: number, e: number, n: number) => ({
  type: 'Polygon',
  coordinates: [
    [
      [w, s],
      [e, s],
      [e, n],
      [w, n],
      [w, s],
    ],
  ],
});

export const G1 = 'D01001001'; // west of the border: owns points on it (lowest code)
export const G2 = 'D02001001';
export const BORDER = { lat: 27.87, lon: 113.12 };
export const IN_G1 = { lat: 27.871, lon: 113.11 };

const REGIONS: [string, string | null, string, string, object][] = [
  ['D', null, 'district', '测试区', rect(113.1, 27.86, 113.14, 27.88)],
  ['D01', 'D', 'street', '西街道', rect(113.1, 27.86, 113.12, 27.88)],
  ['D02', 'D', 'street', '东街道', rect(113.12, 27.86, 113.14, 27.88)],
  ['D01001', 'D01', 'community', '西社区', rect(113.1, 27.86, 113.12, 27.88)],
  ['D02001', 'D02', 'community', '东社区', rect(113.12, 27.86, 113.14, 27.88)],
  [G1, 'D01001', 'grid', '西社区第一网格', rect(113.1, 27.86, 113.12, 27.88)],
  [G2, 'D02001', 'grid', '东社区第一网格', rect(113.12, 27.86, 113.14, 27.88)],
];

export const WORKERS: NewWorker[] = [
  { id: 'w-g1', name: '张网格', role: 'grid_worker', gridCodes: [G1] },
  { id: 'w-g1b', name: '李网格', role: 'grid_worker', gridCodes: [G1] },
  { id: 'w-g2', name: '王网格', role: 'grid_worker', gridCodes: [G2] },
  { id: 'lead-1', name: '赵网格长', role: 'grid_leader', gridCodes: [G1] },
  { id: 'cmd-1', name: '西街道指挥中心', role: 'command', gridCodes: [G1] },
];

export const secretOf = (deviceId: string): string => `secret-${deviceId}-0123456789`;

export async function seedBorderDistrict(sys: RunningSystem): Promise<void> {
  const pool: Pick<pg.Pool, 'query'> = sys.db.pool;
  for (const [code, parent, level, name, geometry] of REGIONS) {
    await pool.query('INSERT INTO regions (code, parent_code, level, name, geometry) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
      code,
      parent,
      level,
      name,
      JSON.stringify(geometry),
    ]);
  }
  await upsertWorkers(pool, WORKERS);
  await upsertDevices(pool, [
    ...WORKERS.map((w) => ({ id: `hs-${w.id}`, kind: 'handset' as const, secret: secretOf(`hs-${w.id}`), workerId: w.id })),
    { id: 'door-1', kind: 'door' as const, secret: secretOf('door-1'), gridCode: G1, lat: 27.872, lon: 113.105 },
  ]);
  await sys.hub.reloadRegistry();
}

/** A worker's handset: on duty, online, at a place, collecting its task messages. */
export class TestHandset {
  readonly tasks: TaskMessage[] = [];
  private waiters: { pick: (m: TaskMessage) => boolean; resolve: (m: TaskMessage) => void }[] = [];

  private constructor(
    readonly workerId: string,
    readonly deviceId: string,
    readonly client: MqttClient,
    private readonly root: string,
  ) {
    client.on('message', (_topic, payload) => {
      const m = taskMessageSchema.parse(JSON.parse(payload.toString()));
      this.tasks.push(m);
      this.waiters = this.waiters.filter((w) => (w.pick(m) ? (w.resolve(m), false) : true));
    });
  }

  static async connect(sys: RunningSystem, workerId: string, at: { lat: number; lon: number }, fixTs: number): Promise<TestHandset> {
    const deviceId = `hs-${workerId}`;
    const root = sys.config.TOPIC_ROOT;
    const client = await mqtt.connectAsync(sys.mqttUrl, {
      clientId: deviceId,
      username: deviceId,
      password: secretOf(deviceId),
      clean: false,
      reconnectPeriod: 0,
    });
    await client.subscribeAsync(deviceTopic(root, deviceId, 'tasks'), { qos: 1 });
    const h = new TestHandset(workerId, deviceId, client, root);
    await h.publish('presence', { online: true, ts: fixTs });
    await h.publish('status', { ts: fixTs, duty: 'on', battery: 90 });
    await h.publish('location', { ts: fixTs, lat: at.lat, lon: at.lon, acc: 5 });
    await eventually(
      () => sys.hub.live.workers.get(workerId),
      (w) => !!w && w.online && w.duty === 'on' && w.ts === fixTs,
      15_000,
      `${workerId} live`,
    );
    return h;
  }

  publish(channel: 'presence' | 'status' | 'location' | 'task-replies' | 'reports', body: object): Promise<unknown> {
    return this.client.publishAsync(deviceTopic(this.root, this.deviceId, channel), JSON.stringify(body), { qos: 1 });
  }

  /** Resolves with the first task message (already received or coming) that `pick` accepts. */
  next(pick: (m: TaskMessage) => boolean): Promise<TaskMessage> {
    const seen = this.tasks.find(pick);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ pick, resolve }));
  }

  reply(taskId: string, reply: 'accept' | 'decline' | 'arrived' | 'resolved', ts: number, extra: object = {}): Promise<unknown> {
    return this.publish('task-replies', { ts, taskId, reply, ...extra });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** GET /api/incidents/:id as JSON. */
export async function incidentDetail(sys: RunningSystem, id: string): Promise<IncidentDetail> {
  const r = await fetch(`${sys.httpUrl}/api/incidents/${id}`);
  if (!r.ok) throw new Error(`GET incident ${id}: ${r.status}`);
  return (await r.json()) as IncidentDetail;
}

export interface IncidentDetail {
  incident: {
    id: string;
    state: string;
    version: number;
    gridCode: string;
    escalationLevel: number;
    assigneeId: string | null;
    overdue: string[];
    rating: string | null;
  };
  audit: {
    version: number;
    action: string;
    fromState: string | null;
    toState: string;
    actorKind: string;
    actorId: string;
    reason: string | null;
    detail: Record<string, unknown> | null;
  }[];
  offers: { taskId: string; workerId: string; via: string; status: string; parts: Record<string, number>; level: number }[];
}

export async function postJson<T = Record<string, unknown>>(
  sys: RunningSystem,
  path: string,
  body: unknown,
): Promise<{ status: number; body: T }> {
  const r = await fetch(`${sys.httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as T };
}
