// Password guessing (issue 16 item 9) with real MQTT clients (MQTT.js) against the real broker:
// wrong secrets are answered later and later per address and device id, capped; the right secret
// is never held, neither from another address nor from the guessing one; refusals held per address
// are capped; counters count and the log stays a few lines however long the storm.
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../common/metrics.js';
import { silentLogger } from '../../common/logger.js';
import { ephemeralDeviceSecretKey } from '../../common/secrets.js';
import { openDatabase, type Database } from '../../storage/database.js';
import { upsertDevices } from '../../storage/device-store.js';
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.js';
import { eventually } from '../../testkit/builders.js';

const key = ephemeralDeviceSecretKey();
const FIRST = 800;
const MAX = 1600;
const devices = ['hs-a', 'hs-b', 'hs-c', 'hs-off'].map((id) => ({ id, kind: 'handset' as const, secret: `${id}-secret-0123456789abcdef` }));
const secretOf = (id: string): string => devices.find((d) => d.id === id)!.secret;
let db: Database;
let broker: RunningBroker;
const metrics = new Metrics();
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
  await upsertDevices(db.pool, devices, key);
  await db.pool.query(`UPDATE devices SET enabled = false WHERE id = 'hs-off'`);
  const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString())), cb()) });
  broker = await startBroker({
    host: '127.0.0.1',
    port: 0,
    topicRoot: 'grid/v1',
    service: { username: 'hub', password: 'backoff-service-password' },
    pool: db.pool,
    metrics,
    logger: pino({ level: 'info' }, sink),
    ingest: async () => undefined,
    deviceSecretKey: key,
    authBackoff: { pairFree: 2, addressFree: 12, firstDelayMs: FIRST, maxDelayMs: MAX, maxHeldPerAddress: 3 },
  });
});
afterAll(async () => {
  await broker?.stop();
  await db?.close();
});

/** An MQTT.js client whose socket leaves from `from` (each 127.0.0.x is its own address to the broker). */
function attempt(id: string, secret: string, from: string): Promise<{ code: number; ms: number; client: MqttClient | null }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const c = new mqtt.MqttClient(() => net.createConnection({ host: '127.0.0.1', port: broker.port, localAddress: from }), {
      clientId: id,
      username: id,
      password: secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 20_000,
    });
    c.once('connect', () => resolve({ code: 0, ms: performance.now() - t0, client: c }));
    c.once('error', (err) => {
      c.end(true);
      resolve({ code: (err as { code?: number }).code ?? -1, ms: performance.now() - t0, client: null });
    });
    // Closed with no CONNACK at all (the per-address cap).
    c.once('close', () => {
      c.end(true);
      resolve({ code: -1, ms: performance.now() - t0, client: null });
    });
  });
}

async function connected(id: string, from: string): Promise<number> {
  const r = await attempt(id, secretOf(id), from);
  expect(r.code).toBe(0);
  r.client!.end(true);
  return r.ms;
}

describe('password-guessing backoff', () => {
  it('answers wrong secrets later and later for one address and id, capped', async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await attempt('hs-a', `guess-${i}`, '127.0.0.2');
      expect(r.code).toBe(4);
      times.push(r.ms);
    }
    // The first two at once, then 0.8 s, 1.6 s, 1.6 s (the cap).
    expect(times[2]).toBeGreaterThanOrEqual(FIRST - 5);
    expect(times[3]).toBeGreaterThanOrEqual(MAX - 5);
    expect(times[4]).toBeGreaterThanOrEqual(MAX - 5);
    expect(times[4]).toBeLessThan(MAX + 3000);
    expect(Math.max(times[0]!, times[1]!)).toBeLessThan(times[2]!);
    expect(metrics.get('mqtt_auth_backoff_total', { scope: 'pair' })).toBe(3);
  });

  it('never holds the right secret: not from another address, not from the guessing one', async () => {
    // 127.0.0.2 is now past the free failures for hs-a; a fresh guess from there waits 1.6 s …
    const held = attempt('hs-a', 'guess-again', '127.0.0.2');
    await eventually(
      () => metrics.snapshot().mqtt_auth_refusals_held ?? 0,
      (n) => n === 1,
      10_000,
      'the guess held',
    );
    // … while the real device gets in at once from its own address, and from the guessing one too.
    expect(await connected('hs-a', '127.0.0.3')).toBeLessThan(FIRST);
    expect(await connected('hs-a', '127.0.0.2')).toBeLessThan(FIRST);
    expect(metrics.snapshot().mqtt_auth_refusals_held).toBe(1);
    expect((await held).code).toBe(4);
    // Its right secret forgave that address: its next slip is answered at once again.
    expect((await attempt('hs-a', 'a slip', '127.0.0.2')).ms).toBeLessThan(FIRST);
  });

  it('does not count a disabled device with its right secret as a guess (5, not 4, no delay)', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await attempt('hs-off', secretOf('hs-off'), '127.0.0.5');
      expect(r.code).toBe(5);
      expect(r.ms).toBeLessThan(FIRST);
    }
  });

  it('closes, unanswered, what an address tries beyond the refusals it may have held at once', async () => {
    // Past the free failures for hs-b from 127.0.0.4 …
    for (let i = 0; i < 2; i++) expect((await attempt('hs-b', `g${i}`, '127.0.0.4')).code).toBe(4);
    const dropped0 = metrics.get('mqtt_auth_backoff_dropped_total');
    // … five guesses at once: three are held (answered 4 later), two closed without a CONNACK.
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => attempt('hs-b', `p${i}`, '127.0.0.4')));
    expect(results.map((r) => r.code).sort()).toEqual([-1, -1, 4, 4, 4]);
    expect(metrics.get('mqtt_auth_backoff_dropped_total') - dropped0).toBe(2);
    // The real hs-b is not affected, from anywhere.
    expect(await connected('hs-b', '127.0.0.6')).toBeLessThan(FIRST);
  });

  it('slows one address trying many ids, and logs a storm in a few lines', async () => {
    const from = '127.0.0.7';
    const before = lines.filter((l) => l.address === from).length;
    const times: number[] = [];
    // Unknown ids, one each: the pair counters stay low, the address counter climbs past 12.
    for (let i = 0; i < 14; i++) times.push((await attempt(`nobody-${i}`, 'x', from)).ms);
    expect(times[12]).toBeGreaterThanOrEqual(FIRST - 5);
    expect(metrics.get('mqtt_auth_backoff_total', { scope: 'address' })).toBeGreaterThanOrEqual(2);
    const logged = lines.filter((l) => l.address === from && l.msg === 'mqtt connection refused').length - before;
    expect(logged).toBe(5); // per address five lines a minute, whatever the count
    expect(metrics.get('mqtt_auth_total', { result: 'bad_credentials' })).toBeGreaterThanOrEqual(14);
    // The log names the address and the ids, never a password.
    expect(JSON.stringify(lines)).not.toContain('hs-a-secret');
    expect(JSON.stringify(lines)).not.toMatch(/guess-\d/);
  });
});
