// Broker authentication and topic ACL with real MQTT clients against the real broker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { registerDevices, type TestDevice } from '../../testkit/builders.js';
import { connectDevice, startTestSystem } from '../../testkit/test-system.js';
import type { RunningSystem } from '../../system.js';

let sys: RunningSystem;
let dev: Record<string, TestDevice>;
const root = 'grid/v1';

beforeAll(async () => {
  sys = await startTestSystem();
  dev = await registerDevices(sys.db.pool, ['a', 'b']);
  await sys.hub.reloadRegistry();
});
afterAll(async () => sys?.stop());

/** The SUBACK code the broker granted: MQTT.js rejects on 0x80, so read it from the error. */
async function granted(c: MqttClient, topic: string): Promise<number> {
  try {
    return (await c.subscribeAsync(topic, { qos: 1 }))[0]!.qos;
  } catch (err) {
    const packet = (err as { packet?: { granted?: number[] } }).packet;
    if (!packet?.granted) throw err;
    return packet.granted[0]!;
  }
}

function closed(c: MqttClient): Promise<void> {
  return new Promise((resolve) => (c.connected ? c.once('close', () => resolve()) : resolve()));
}

describe('broker authentication', () => {
  it('accepts a registered device with its secret', async () => {
    const c = await connectDevice(sys, 'hs-a', dev['hs-a']!.secret);
    expect(c.connected).toBe(true);
    await c.endAsync();
    expect(sys.metrics.get('mqtt_auth_total', { result: 'ok' })).toBeGreaterThan(0);
  });

  it('refuses a wrong secret with return code 4', async () => {
    await expect(connectDevice(sys, 'hs-a', 'not-the-secret')).rejects.toMatchObject({ code: 4 });
    expect(sys.metrics.get('mqtt_auth_total', { result: 'bad_credentials' })).toBeGreaterThan(0);
  });

  it('refuses an unknown device with return code 4', async () => {
    await expect(connectDevice(sys, 'hs-nobody', 'whatever-secret')).rejects.toMatchObject({ code: 4 });
  });

  it('refuses a client id that is not the device id with return code 5', async () => {
    const p = connectDevice(sys, 'hs-a', dev['hs-a']!.secret, { clientId: 'someone-else' });
    await expect(p).rejects.toMatchObject({ code: 5 });
  });

  it('refuses a device that sends no password', async () => {
    await expect(connectDevice(sys, 'hs-a', '')).rejects.toMatchObject({ code: 4 });
  });
});

describe('topic ACL', () => {
  it('lets a device subscribe to its own tasks only', async () => {
    const c = await connectDevice(sys, 'hs-a', dev['hs-a']!.secret);
    expect(await granted(c, `${root}/devices/hs-a/tasks`)).toBe(1);
    expect(await granted(c, `${root}/devices/hs-b/tasks`)).toBe(128);
    expect(await granted(c, `${root}/devices/+/tasks`)).toBe(128);
    expect(await granted(c, '#')).toBe(128);
    expect(await granted(c, '$SYS/#')).toBe(128);
    expect(c.connected).toBe(true);
    expect(sys.metrics.get('mqtt_acl_denied_total', { op: 'subscribe', reason: 'wildcard' })).toBeGreaterThanOrEqual(2);
    await c.endAsync();
  });

  it("disconnects a device that publishes on another device's topic, and stores nothing", async () => {
    const c = await connectDevice(sys, 'hs-a', dev['hs-a']!.secret);
    const before = (await sys.db.pool.query(`SELECT count(*) AS n FROM positions WHERE device_id = 'hs-b'`)).rows[0].n;
    const gone = closed(c);
    c.publish(`${root}/devices/hs-b/location`, JSON.stringify({ ts: Date.now(), lat: 27.87, lon: 113.12 }), { qos: 1 });
    await gone;
    expect(sys.metrics.get('mqtt_acl_denied_total', { op: 'publish', reason: 'foreign_device' })).toBe(1);
    const after = (await sys.db.pool.query(`SELECT count(*) AS n FROM positions WHERE device_id = 'hs-b'`)).rows[0].n;
    expect(after).toBe(before);
    c.end(true);
  });

  it('refuses a door publishing a location (channel not allowed for its kind)', async () => {
    const c = await connectDevice(sys, 'door-a', dev['door-a']!.secret);
    const gone = closed(c);
    c.publish(`${root}/devices/door-a/location`, JSON.stringify({ ts: Date.now(), lat: 27.87, lon: 113.12 }), { qos: 1 });
    await gone;
    expect(sys.metrics.get('mqtt_acl_denied_total', { op: 'publish', reason: 'channel_not_allowed' })).toBe(1);
    c.end(true);
  });

  it('publishes the last will as presence when a device drops', async () => {
    const watcher = await connectDevice(sys, 'hs-b', dev['hs-b']!.secret);
    const willTopic = `${root}/devices/hs-a/presence`;
    const c = await connectDevice(sys, 'hs-a', dev['hs-a']!.secret, {
      will: { topic: willTopic, payload: Buffer.from(JSON.stringify({ online: false, ts: Date.now() })), qos: 1, retain: true },
    });
    const committed = new Promise<void>((resolve) =>
      sys.hub.onCommit((rows) => rows.statuses.some((s) => s.deviceId === 'hs-a' && s.online === false) && resolve()),
    );
    c.stream.destroy(); // an unclean drop: the broker must publish the will
    await committed;
    expect(sys.hub.live.byDevice('hs-a')?.online).toBe(false);
    await watcher.endAsync();
  });
});
