// Issue 16, item 5: connections that never go away. MQTT 3.1.1 lets a client ask for keepalive 0
// ("never time out") or up to 18 h; the broker honours at most MAX_KEEPALIVE_S (600 s) and closes
// a client that asked for 0 or more after 1.5 × that without a packet, publishing its will, like
// Aedes' own keepalive. Here the ceiling is 1 s (closed after 1.5 s of silence); the production
// default is checked on the real system.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { Metrics } from '../../common/metrics.js';
import { silentLogger } from '../../common/logger.js';
import { ephemeralDeviceSecretKey } from '../../common/secrets.js';
import { openDatabase, type Database } from '../../storage/database.js';
import { upsertDevices } from '../../storage/device-store.js';
import { MAX_KEEPALIVE_S, startBroker, type RunningBroker } from '../../broker/mqtt-broker.js';
import { eventually } from '../../testkit/builders.js';
import { connectBytes, openSocket, packetsOf, type OpenSocket } from '../../testkit/hostile/hostile-sockets.js';
import { hostilePacket } from './support/fixtures.js';
import { startHostileSystem, type HostileSystem } from './support/hostile-system.js';

const key = ephemeralDeviceSecretKey();
const devices = ['hs-k1', 'hs-k2', 'hs-k3', 'hs-k4', 'hs-k5'].map((id) => ({
  id,
  kind: 'handset' as const,
  secret: `${id}-secret-0123456789abcdef`,
}));
const IDLE_MS = 1500;
let db: Database;
let broker: RunningBroker;
const metrics = new Metrics();
const ingested: string[] = [];

beforeAll(async () => {
  db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
  await upsertDevices(db.pool, devices, key);
  broker = await startBroker({
    host: '127.0.0.1',
    port: 0,
    topicRoot: 'grid/v1',
    service: { username: 'hub', password: 'idle-test-password-123' },
    pool: db.pool,
    metrics,
    logger: silentLogger,
    deviceSecretKey: key,
    maxKeepaliveS: 1,
    ingest: async (topic) => void ingested.push(topic),
  });
});
afterAll(async () => {
  await broker?.stop();
  await db?.close();
});

/** A device connected over a raw socket with the given keepalive and a presence will. */
async function device(id: string, keepalive: number): Promise<{ s: OpenSocket; connectedAt: number }> {
  const s = await openSocket(broker.port);
  const packets = packetsOf(s.socket);
  const secret = devices.find((d) => d.id === id)!.secret;
  const connect = mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive,
    clientId: id,
    username: id,
    password: Buffer.from(secret),
    will: { topic: `grid/v1/devices/${id}/presence`, payload: Buffer.from('{"online":false,"ts":1}'), qos: 1, retain: true },
  });
  s.socket.write(connect);
  expect(await packets.next('connack')).toMatchObject({ returnCode: 0 });
  return { s, connectedAt: Date.now() };
}

const idleClosed = (): number => metrics.get('mqtt_clients_closed_total', { reason: 'idle' });

describe('server idle limit', () => {
  it('closes a silent client with keepalive 0 after 1.5 × the ceiling, and publishes its will', async () => {
    const before = idleClosed();
    const { s, connectedAt } = await device('hs-k1', 0);
    await s.closed;
    const after = Date.now() - connectedAt;
    expect(after).toBeGreaterThanOrEqual(IDLE_MS - 100);
    expect(after).toBeLessThan(IDLE_MS + 2000);
    expect(idleClosed()).toBe(before + 1);
    // The will goes out as the broker closes the client (Aedes' close), a moment after the socket.
    await eventually(
      () => ingested,
      (t) => t.includes('grid/v1/devices/hs-k1/presence'),
      5000,
      'the will',
    );
  });

  it('treats a keepalive above the ceiling (65535 s) as the ceiling', async () => {
    const before = idleClosed();
    const { s, connectedAt } = await device('hs-k2', 65535);
    await s.closed;
    expect(Date.now() - connectedAt).toBeLessThan(IDLE_MS + 2000);
    expect(idleClosed()).toBe(before + 1);
  });

  it('keeps a keepalive 0 client that sends a packet now and then, and closes it once it stops', async () => {
    const { s, connectedAt } = await device('hs-k3', 0);
    const packets = packetsOf(s.socket);
    // Four PINGREQs 600 ms apart: 2.4 s in all, past the 1.5 s limit, never 1.5 s without a packet.
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 600));
      s.socket.write(mqttPacket.generate({ cmd: 'pingreq' }));
      await packets.next('pingresp');
    }
    expect(s.socket.destroyed).toBe(false);
    await s.closed;
    expect(Date.now() - connectedAt).toBeGreaterThan(2400 + IDLE_MS - 200);
  });

  it('does not count the bytes of a packet that never ends as activity', async () => {
    const { s, connectedAt } = await device('hs-k4', 0);
    // A PUBLISH header announcing 100 bytes, then one byte every 200 ms (a slowloris).
    s.socket.write(Buffer.from([0x30, 100]));
    const drip = setInterval(() => !s.socket.destroyed && s.socket.write(Buffer.from([0x61])), 200);
    await s.closed;
    clearInterval(drip);
    expect(Date.now() - connectedAt).toBeLessThan(IDLE_MS + 2000);
  });

  it("leaves a keepalive within the ceiling to Aedes' own timer (1.5 × keepalive)", async () => {
    const before = idleClosed();
    const { s, connectedAt } = await device('hs-k5', 1);
    await s.closed;
    expect(Date.now() - connectedAt).toBeLessThan(IDLE_MS + 2000);
    expect(idleClosed()).toBe(before);
  });
});

describe('the production default', () => {
  let h: HostileSystem;
  beforeAll(async () => {
    h = await startHostileSystem(['h1']);
  });
  afterAll(async () => h?.sys.stop());

  it(`caps keepalive 0 and 65535 at ${MAX_KEEPALIVE_S} s on the real system, and leaves 60 alone`, async () => {
    for (const name of ['connect-keepalive-0', 'connect-keepalive-max']) {
      const s = await openSocket(h.sys.broker.port);
      const packets = packetsOf(s.socket);
      // The fixtures carry hs-h1's credentials (startHostileSystem registers it).
      s.socket.write(hostilePacket(name));
      const connack = await packets.next('connack');
      expect(connack).toMatchObject({ returnCode: 0 });
      s.socket.destroy();
    }
    expect(h.sys.metrics.get('mqtt_keepalive_capped_total')).toBe(2);
    const s = await openSocket(h.sys.broker.port);
    const packets = packetsOf(s.socket);
    s.socket.write(connectBytes({ clientId: 'hs-h1', username: 'hs-h1', password: 'secret-hs-h1-0123456789', keepalive: 60 }));
    expect(await packets.next('connack')).toMatchObject({ returnCode: 0 });
    expect(h.sys.metrics.get('mqtt_keepalive_capped_total')).toBe(2);
    s.socket.destroy();
  });
});
