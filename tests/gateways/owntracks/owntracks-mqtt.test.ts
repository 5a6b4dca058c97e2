// OwnTracks in MQTT mode through the real node (system.ts: Aedes on port 0, the ingest sink, the
// hub, the embedded TimescaleDB): the app's payloads published by mosquitto_pub and MQTT.js as the
// app publishes them; the PUBACK after the row; a repeat stored once; the last will; the ACL.
import type mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '../../../system.js';
import { eventually } from '../../../testkit/builders.js';
import { connectDevice, startTestSystem } from '../../../testkit/test-system.js';
import { fixture, fixtureWith } from './owntracks-fixtures.js';
import { mosquittoPub, mosquittoSubOne, registerPhone, type Phone } from './owntracks-support.js';

let sys: RunningSystem;
let a: Phone;
let b: Phone;
const clients: MqttClient[] = [];
let tst = Math.floor(Date.now() / 1000) - 24 * 3600;
/** A fix time not used before, in the past day, 10 minutes after the last one: the fixtures lie
 *  up to 2 km apart, and closer in time the position filter would store them flagged (a jump). */
const nextTst = () => (tst += 600);

const q = async (sql: string, params: unknown[]) => (await sys.db.pool.query(sql, params)).rows;
const positionAt = (id: string, s: number) =>
  q('SELECT lat, lon, acc, alt, speed, heading, battery, worker_id FROM positions WHERE device_id = $1 AND ts = to_timestamp($2)', [id, s]);

async function phoneClient(p: Phone, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await connectDevice(sys, p.id, p.secret, extra);
  clients.push(c);
  return c;
}

function closed(c: MqttClient): Promise<void> {
  return new Promise((resolve) => (c.connected ? c.once('close', () => resolve()) : resolve()));
}

/** The SUBACK code the broker granted (MQTT.js rejects on 0x80: read it from the error). */
async function granted(c: MqttClient, topic: string): Promise<number> {
  try {
    return (await c.subscribeAsync(topic, { qos: 1 }))[0]!.qos;
  } catch (err) {
    const packet = (err as { packet?: { granted?: number[] } }).packet;
    if (!packet?.granted) throw err;
    return packet.granted[0]!;
  }
}

beforeAll(async () => {
  sys = await startTestSystem();
  a = await registerPhone(sys, 'ot-a');
  b = await registerPhone(sys, 'ot-b');
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.end(true);
  await sys?.stop();
});

describe('OwnTracks MQTT mode', () => {
  it('mosquitto_pub of a location: acknowledged, stored as a fix of the worker (km/h → m/s), dot online', async () => {
    const s = nextTst();
    const r = await mosquittoPub(sys, a, 'owntracks/ot-a/phone', fixtureWith('location-android.json', { tst: s }));
    expect(r.code, r.stderr).toBe(0);
    // mosquitto_pub exits after the PUBACK: the row is there now.
    expect(await positionAt('ot-a', s)).toEqual([
      { lat: 27.87123, lon: 113.12456, acc: 12, alt: 61, speed: expect.closeTo(1.39, 5), heading: 270, battery: 87, worker_id: 'w-ot-a' },
    ]);
    expect(await q(`SELECT online FROM device_status WHERE device_id = 'ot-a' AND kind = 'presence'`, [])).toEqual([{ online: true }]);
    expect(sys.hub.live.byDevice('ot-a')).toMatchObject({ online: true, lat: 27.87123 });
  });

  it('the PUBACK comes once the fix is committed (MQTT.js, observed at the PUBACK)', async () => {
    const c = await phoneClient(a);
    const s = nextTst();
    await c.publishAsync('owntracks/ot-a/phone', fixtureWith('location-minimal.json', { tst: s }), { qos: 1 });
    const rows = await positionAt('ot-a', s);
    // What the app left out stays unknown.
    expect(rows).toEqual([
      { lat: 27.86, lon: 113.11, acc: null, alt: null, speed: null, heading: null, battery: null, worker_id: 'w-ot-a' },
    ]);
  });

  it('a repeated location and a repeated transition are stored once', async () => {
    const s = nextTst();
    const fix = fixtureWith('location-ios.json', { tst: s, lat: 27.8702, lon: 113.1203 });
    const transition = fixtureWith('transition-enter.json', { tst: s });
    for (let i = 0; i < 2; i++) {
      expect((await mosquittoPub(sys, a, 'owntracks/ot-a/phone', fix)).code).toBe(0);
      expect((await mosquittoPub(sys, a, 'owntracks/ot-a/phone/event', transition)).code).toBe(0);
    }
    expect(await q(`SELECT count(*)::int AS n FROM positions WHERE device_id = 'ot-a' AND ts = to_timestamp($1)`, [s])).toEqual([{ n: 1 }]);
    const events = await q(
      `SELECT type, event_key, data->>'region' AS region FROM device_events WHERE device_id = 'ot-a' AND ts = to_timestamp($1)`,
      [s],
    );
    expect(events).toEqual([{ type: 'handset.geofence_enter', event_key: `owntracks:enter:f7676c:${s}`, region: '幸福社区服务站' }]);
  });

  it('a waypoint is a dead letter with its reason, acknowledged, and the connection stays', async () => {
    const c = await phoneClient(b);
    await c.publishAsync('owntracks/ot-b/phone/waypoint', fixture('waypoint.json'), { qos: 1 });
    expect(await q(`SELECT topic, reason FROM dead_letters WHERE device_id = 'ot-b'`, [])).toEqual([
      { topic: 'owntracks/ot-b/phone/waypoint', reason: 'owntracks_unsupported_type: waypoint' },
    ]);
    expect(sys.metrics.get('owntracks_rejected_total', { reason: 'owntracks_unsupported_type' })).toBeGreaterThan(0);
    const s = nextTst();
    await c.publishAsync('owntracks/ot-b/phone', fixtureWith('location-minimal.json', { tst: s }), { qos: 1 });
    expect(c.connected).toBe(true);
    expect(await positionAt('ot-b', s)).toHaveLength(1);
  });

  it('the last will marks the phone offline', async () => {
    const c = await phoneClient(b, { will: { topic: 'owntracks/ot-b/phone', payload: fixture('lwt.json'), qos: 1, retain: false } });
    await c.publishAsync('owntracks/ot-b/phone', fixtureWith('location-minimal.json', { tst: nextTst() }), { qos: 1 });
    expect(sys.hub.live.byDevice('ot-b')?.online).toBe(true);
    c.stream.destroy(); // the network goes, not a DISCONNECT: the broker publishes the will
    await eventually(
      () => sys.hub.live.byDevice('ot-b')?.online,
      (v) => v === false,
      15_000,
      'ot-b offline',
    );
    const last = await q(`SELECT online FROM device_status WHERE device_id = 'ot-b' AND kind = 'presence' ORDER BY ts DESC LIMIT 1`, []);
    expect(last).toEqual([{ online: false }]);
  });

  it('another subscriber (the service account) still gets the original OwnTracks message', async () => {
    const watch = await mosquittoSubOne(sys, { id: sys.service.username, secret: sys.service.password }, 'owntracks/#');
    const payload = fixtureWith('location-minimal.json', { tst: nextTst() });
    expect((await mosquittoPub(sys, a, 'owntracks/ot-a/phone', payload)).code).toBe(0);
    const got = await watch.message;
    expect(got.stdout).toContain(`owntracks/ot-a/phone ${payload.toString()}`);
  });
});

describe('OwnTracks ACL', () => {
  it('refuses a wrong secret like any device (CONNACK 4)', async () => {
    const r = await mosquittoPub(sys, { id: 'ot-a', secret: 'not-the-secret' }, 'owntracks/ot-a/phone', fixture('location-minimal.json'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not authori[sz]ed|bad user name or password/i);
  });

  it("publishing under another phone's prefix closes the connection and stores nothing", async () => {
    const c = await phoneClient(a);
    const gone = closed(c);
    const s = nextTst();
    c.publish('owntracks/ot-b/phone', fixtureWith('location-minimal.json', { tst: s }), { qos: 1 });
    await gone;
    expect(sys.metrics.get('mqtt_acl_denied_total', { op: 'publish', reason: 'foreign_device' })).toBeGreaterThan(0);
    expect(await positionAt('ot-b', s)).toEqual([]);
  });

  it('an OwnTracks phone may not use the native topics', async () => {
    const c = await phoneClient(a);
    const gone = closed(c);
    c.publish('grid/v1/devices/ot-a/location', JSON.stringify({ ts: Date.now(), lat: 27.86, lon: 113.11 }), { qos: 1 });
    await gone;
    expect(sys.metrics.get('mqtt_acl_denied_total', { op: 'publish', reason: 'unknown_topic' })).toBeGreaterThan(0);
  });

  it('subscribes to its own cmd topic only', async () => {
    const c = await phoneClient(a);
    expect(await granted(c, 'owntracks/ot-a/phone/cmd')).toBe(1);
    expect(await granted(c, 'owntracks/+/+')).toBe(128);
    expect(await granted(c, 'owntracks/ot-b/phone/cmd')).toBe(128);
    expect(await granted(c, 'grid/v1/devices/ot-a/tasks')).toBe(128);
    expect(c.connected).toBe(true);
  });
});
