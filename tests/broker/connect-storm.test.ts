// A connect storm: every device connects at once (issue 14, "device secrets at connect speed").
// Rows in the HMAC form cost no scrypt at all; rows still in the scrypt form are verified by scrypt
// once, never more at once than the cap, and rewritten, so the next broker checks them by HMAC; a
// storm of wrong secrets neither holds up legitimate devices nor gets ahead of them in the queue.
import { randomBytes, scryptSync } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { Metrics } from '../../common/metrics.js';
import { silentLogger } from '../../common/logger.js';
import { ephemeralDeviceSecretKey } from '../../common/secrets.js';
import { openDatabase, type Database } from '../../storage/database.js';
import { upsertDevices } from '../../storage/device-store.js';
import { startBroker, type BrokerOptions, type RunningBroker } from '../../broker/mqtt-broker.js';
import { ConcurrencyLimit } from '../../broker/verify-limit.js';
import { eventually, registerDevices, type TestDevice } from '../../testkit/builders.js';

const service = { username: 'hub', password: 'storm-test-password-123' };
const CAP = 2;
const key = ephemeralDeviceSecretKey();
let db: Database;
const brokers: RunningBroker[] = [];
let legacy: TestDevice[];
let fresh: { id: string; secret: string }[];

beforeAll(async () => {
  db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
  // 20 suffixes → 60 devices (a handset, a door and a camera each), stored as scrypt: as before issue 14.
  legacy = Object.values(
    await registerDevices(
      db.pool,
      Array.from({ length: 20 }, (_, i) => `s${i}`),
    ),
  );
  fresh = Array.from({ length: 60 }, (_, i) => ({ id: `hm-${i}`, secret: `fresh-secret-${i}-0123456789abcdef` }));
  await upsertDevices(
    db.pool,
    fresh.map((d) => ({ ...d, kind: 'handset' as const })),
    key,
  );
});
afterAll(async () => {
  for (const b of brokers) await b.stop();
  await db?.close();
});

async function broker(extra: Partial<BrokerOptions> = {}): Promise<{ broker: RunningBroker; metrics: Metrics }> {
  const metrics = new Metrics();
  const b = await startBroker({
    host: '127.0.0.1',
    port: 0,
    topicRoot: 'grid/v1',
    service,
    pool: db.pool,
    metrics,
    logger: silentLogger,
    maxVerifications: CAP,
    ingest: async () => undefined,
    deviceSecretKey: key,
    ...extra,
  });
  brokers.push(b);
  return { broker: b, metrics };
}

/** CONNECT with the given secret from `from`; resolves with the CONNACK's return code, then disconnects. */
function connack(port: number, d: { id: string; secret: string }, from = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
    const parser = mqttParser();
    parser.on('packet', (p) => {
      if (p.cmd !== 'connack') return;
      resolve(p.returnCode ?? -1);
      socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
    });
    socket.on('data', (b) => parser.parse(b));
    socket.on('error', reject);
    socket.on('close', () => resolve(-1));
    socket.on('connect', () =>
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId: d.id,
          clean: true,
          keepalive: 60,
          username: d.id,
          password: Buffer.from(d.secret),
        }),
      ),
    );
  });
}
const mqttParser = () => mqttPacket.parser({ protocolVersion: 4 });

async function storedForms(ids: string[]): Promise<string[]> {
  const r = await db.pool.query<{ secret_hash: string }>('SELECT secret_hash FROM devices WHERE id = ANY($1::text[])', [ids]);
  return r.rows.map((x) => x.secret_hash.split('$')[0]!);
}

describe('connect storm', () => {
  it('lets every device with an HMAC row in without a single scrypt check', async () => {
    const { broker: b, metrics } = await broker();
    const codes = await Promise.all(fresh.map((d) => connack(b.port, d)));
    expect(codes).toEqual(fresh.map(() => 0));
    expect(metrics.get('mqtt_auth_verifications_total', { via: 'scrypt' })).toBe(0);
    expect(metrics.get('mqtt_auth_verifications_total', { via: 'hmac' })).toBe(fresh.length);
    expect(await connack(b.port, { id: fresh[0]!.id, secret: 'not-the-secret-at-all' })).toBe(4);
  });

  it('verifies scrypt rows once under the cap, rewrites them, and the next broker needs no scrypt', async () => {
    const first = await broker();
    const codes = await Promise.all(legacy.map((d) => connack(first.broker.port, d)));
    expect(codes).toEqual(legacy.map(() => 0));
    expect(first.broker.verifications.peak).toBe(CAP); // the storm filled the cap and never went past it
    expect(first.broker.verifications.queued).toBe(0);
    expect(first.metrics.get('mqtt_auth_verifications_total', { via: 'scrypt' })).toBe(legacy.length);
    // Written in batches shortly after the CONNACKs.
    await eventually(
      () => storedForms(legacy.map((d) => d.id)),
      (forms) => forms.every((f) => f === 'hmac-sha256'),
      10_000,
      'rows in the HMAC form',
    );
    expect(first.metrics.get('mqtt_auth_secrets_migrated_total')).toBe(legacy.length);
    // A reconnect on this broker and every connect on a new one: HMAC only.
    expect(await connack(first.broker.port, legacy[0]!)).toBe(0);
    const second = await broker();
    expect(await Promise.all(legacy.map((d) => connack(second.broker.port, d)))).toEqual(legacy.map(() => 0));
    expect(second.metrics.get('mqtt_auth_verifications_total', { via: 'scrypt' })).toBe(0);
    expect(await connack(second.broker.port, { id: legacy[1]!.id, secret: 'wrong' })).toBe(4);
  });

  it('refuses HMAC rows written under another key, and says so in a counter', async () => {
    const { broker: b, metrics } = await broker({ deviceSecretKey: ephemeralDeviceSecretKey() });
    expect(await connack(b.port, fresh[1]!)).toBe(4);
    expect(metrics.get('mqtt_auth_key_mismatch_total')).toBe(1);
  });

  it('answers legitimate devices while a storm of wrong secrets is held back', async () => {
    const { broker: b, metrics } = await broker({ authBackoff: { pairFree: 1, addressFree: 1000, firstDelayMs: 5000, maxDelayMs: 5000 } });
    const target = fresh[2]!;
    // The attacker (127.0.0.2) fails once for free, then every guess is held for 5 s.
    expect(await connack(b.port, { id: target.id, secret: 'guess-0' }, '127.0.0.2')).toBe(4);
    const storm = Array.from({ length: 20 }, (_, i) => connack(b.port, { id: target.id, secret: `guess-${i + 1}` }, '127.0.0.2'));
    await eventually(
      () => metrics.snapshot().mqtt_auth_refusals_held ?? 0,
      (n) => n === 20,
      10_000,
      '20 refusals held',
    );
    // Meanwhile every device, the attacked one included, connects from its own address.
    const legit = await Promise.all(fresh.map((d) => connack(b.port, d)));
    expect(legit).toEqual(fresh.map(() => 0));
    expect(metrics.snapshot().mqtt_auth_refusals_held).toBe(20); // all still held: the legit ones did not wait for them
    expect(await Promise.all(storm)).toEqual(storm.map(() => 4));
    expect(metrics.get('mqtt_auth_backoff_total', { scope: 'pair' })).toBe(20);
  });

  it('checks a legitimate scrypt row before the queued scrypt checks of an address that already failed', async () => {
    // Rows from an older cost setting (N = 16384, tens of milliseconds each, as the stored string
    // says): slow enough that the storm's checks queue up while the legitimate devices arrive.
    const rows = Array.from({ length: 8 }, (_, i) => ({ id: `lq-${i}`, secret: `legacy-queue-secret-${i}-0123456` }));
    for (const r of rows) {
      const salt = randomBytes(16);
      const hash = scryptSync(r.secret, salt, 32, { N: 16384, r: 8, p: 1 });
      await db.pool.query(`INSERT INTO devices (id, kind, secret_hash) VALUES ($1, 'handset', $2)`, [
        r.id,
        `scrypt$16384$8$1$${salt.toString('base64url')}$${hash.toString('base64url')}`,
      ]);
    }
    const { broker: b } = await broker({ maxVerifications: 1, authBackoff: { pairFree: 1000, addressFree: 1000 } });
    // The attacker has failed once for lq-0 (so its later guesses for lq-0 are suspect) …
    expect(await connack(b.port, { id: 'lq-0', secret: 'guess' }, '127.0.0.2')).toBe(4);
    const order: string[] = [];
    const storm = Array.from({ length: 40 }, (_, i) =>
      connack(b.port, { id: 'lq-0', secret: `guess-${i}` }, '127.0.0.2').then((c) => order.push(`storm:${c}`)),
    );
    await eventually(
      () => b.verifications.queued,
      (n) => n >= 30,
      10_000,
      'the storm queued',
    );
    // … and then the legitimate devices arrive, behind the queued guesses.
    const legit = rows.slice(1).map((d) => connack(b.port, d).then((c) => order.push(`legit:${c}`)));
    await Promise.all([...storm, ...legit]);
    const lastLegit = order.lastIndexOf('legit:0');
    expect(order.filter((o) => o === 'legit:0')).toHaveLength(7);
    // In arrival order all 40 guesses would come first; by priority only those that ran before the
    // legitimate CONNECTs reached the queue (a few milliseconds of scrypt each) do.
    expect(order.slice(0, lastLegit).filter((o) => o.startsWith('storm')).length).toBeLessThan(20);
    expect(order.filter((o) => o === 'storm:4')).toHaveLength(40);
  });
});

describe('ConcurrencyLimit', () => {
  it('runs waiting tasks in arrival order and releases on failure', async () => {
    const limit = new ConcurrencyLimit(1);
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const tasks = [0, 1, 2].map((i) =>
      limit.run(
        () =>
          new Promise<void>((resolve, reject) => {
            order.push(i);
            gates.push(i === 1 ? () => reject(new Error('boom')) : resolve);
          }),
      ),
    );
    await Promise.resolve();
    expect(order).toEqual([0]);
    expect(limit.queued).toBe(2);
    gates[0]!();
    await tasks[0];
    await new Promise((r) => setImmediate(r));
    gates[1]!();
    await expect(tasks[1]).rejects.toThrow('boom');
    await new Promise((r) => setImmediate(r));
    gates[2]!();
    await tasks[2];
    expect(order).toEqual([0, 1, 2]);
    expect(limit.peak).toBe(1);
    expect(limit.running).toBe(0);
  });
});
