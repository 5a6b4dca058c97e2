// Issue 16, item 6: the cases of the Paho interoperability client tests for MQTT 3.1.1
// (eclipse/paho.mqtt.testing, interoperability/client_test.py) ported to MQTT.js and raw sockets,
// against the broker in conformance test mode (anonymous clients; `test/nosubscribe` refused). The
// Python suite itself, unchanged, passes too: tests/hostile/run-paho.sh (10/10, see README).
// Waits are for events: where a test proves that something did NOT arrive, a marker message sent
// after it on the same path arrives first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { startConformanceBroker } from './conformance-broker.js';
import { openSocket, packetsOf } from '../../testkit/hostile/hostile-sockets.js';
import { hostilePacket } from './support/fixtures.js';
import { startHostileSystem, type HostileSystem } from './support/hostile-system.js';

const topics = ['TopicA', 'TopicA/B', 'Topic/C', 'TopicA/C', '/TopicA'] as const;
const wildtopics = ['TopicA/+', '+/C', '#', '/#', '/+', '+/+', 'TopicA/#'] as const;

let b: Awaited<ReturnType<typeof startConformanceBroker>>;
const open: MqttClient[] = [];
beforeAll(async () => {
  b = await startConformanceBroker();
});
afterAll(async () => {
  for (const c of open) c.end(true);
  await b?.stop();
});

interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

type Client = MqttClient & { got: Received[]; sessionPresent: boolean; next(n?: number): Promise<Received[]> };

/** An MQTT.js client that records every message from before its CONNACK (a persistent session's
 *  queue may arrive in the same read as the CONNACK). */
async function client(clientId: string, opts: IClientOptions = {}): Promise<Client> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${b.broker.port}`, { clientId, reconnectPeriod: 0, protocolVersion: 4, ...opts }) as Client;
  open.push(c);
  c.got = [];
  const waiters: Array<() => void> = [];
  c.on('message', (topic, payload, packet) => {
    c.got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain });
    for (const w of waiters.splice(0)) w();
  });
  /** Resolves once `n` messages in all have arrived. */
  c.next = (n = 1) =>
    new Promise((resolve) => {
      const check = () => (c.got.length >= n ? resolve(c.got) : waiters.push(check));
      check();
    });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', (connack) => ((c.sessionPresent = connack.sessionPresent), resolve()));
    c.once('error', reject);
  });
  return c;
}

/** CONNECT over a raw socket; resolves with the CONNACK's code, or -1 if closed without one. */
async function rawConnack(bytes: Buffer): Promise<number> {
  const s = await openSocket(b.broker.port);
  const packets = packetsOf(s.socket);
  s.socket.write(bytes);
  const code = await packets.next('connack').then(
    (p) => (p as mqttPacket.IConnackPacket).returnCode ?? -1,
    () => -1,
  );
  s.socket.destroy();
  return code;
}

describe('Paho client_test.py, MQTT 3.1.1', () => {
  it('basic: QoS 0, 1 and 2 round trip; a second CONNECT and a wrong protocol name are refused', async () => {
    const a = await client('myclientid');
    await a.subscribeAsync(topics[0], { qos: 2 });
    await a.publishAsync(topics[0], 'qos 0', { qos: 0 });
    await a.publishAsync(topics[0], 'qos 1', { qos: 1 });
    await a.publishAsync(topics[0], 'qos 2', { qos: 2 });
    expect((await a.next(3)).map((m) => m.payload).sort()).toEqual(['qos 0', 'qos 1', 'qos 2']);
    await a.endAsync();

    const connect = mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      keepalive: 0,
      clientId: 'myclientid',
    });
    const s = await openSocket(b.broker.port);
    const packets = packetsOf(s.socket);
    s.socket.write(connect);
    expect(await packets.next('connack')).toMatchObject({ returnCode: 0 });
    s.socket.write(connect); // [MQTT-3.1.0-2]
    await s.closed;
    // Protocol name "hj" instead of "MQTT" (§3.1.2.1): closed without a CONNACK. The same packet
    // from the level byte on, behind a 2-byte name and a Remaining Length 2 shorter.
    const hj = Buffer.concat([Buffer.from([0x10, connect[1]! - 2, 0, 2]), Buffer.from('hj'), connect.subarray(8)]);
    expect(await rawConnack(hj)).toBe(-1);
  });

  it('retained messages: three kept and sent to a later subscriber, then cleared by empty payloads', async () => {
    const a = await client('myclientid');
    await a.publishAsync(topics[1], 'qos 0', { qos: 0, retain: true });
    await a.publishAsync(topics[2], 'qos 1', { qos: 1, retain: true });
    await a.publishAsync(topics[3], 'qos 2', { qos: 2, retain: true });
    await a.subscribeAsync(wildtopics[5], { qos: 2 });
    const got = await a.next(3);
    expect(got.every((m) => m.retain)).toBe(true);
    await a.endAsync();

    const c = await client('myclientid');
    for (const t of [topics[1], topics[2], topics[3]]) await c.publishAsync(t, '', { qos: 1, retain: true });
    await c.subscribeAsync(wildtopics[5], { qos: 2 });
    await c.publishAsync(topics[1], 'marker', { qos: 1 });
    expect(await c.next(1)).toEqual([{ topic: topics[1], payload: 'marker', qos: 1, retain: false }]);
    await c.endAsync();
  });

  it('will message: published when a client drops without DISCONNECT', async () => {
    const bc = await client('myclientid2', { clean: false });
    await bc.subscribeAsync(topics[2], { qos: 2 });
    const a = await client('myclientid', {
      will: { topic: topics[2], payload: Buffer.from('client not disconnected'), qos: 2, retain: false },
    });
    a.stream.destroy();
    expect((await bc.next(1))[0]).toMatchObject({ topic: topics[2], payload: 'client not disconnected' });
    await bc.endAsync();
  });

  it('zero-length client id: refused with 2 without a clean session, accepted with one', async () => {
    expect(await rawConnack(hostilePacket('connect-empty-id-persistent'))).toBe(2);
    const c = await client('', { clean: true });
    expect(c.connected).toBe(true);
    await c.endAsync();
  });

  it('offline message queueing: QoS 1 and 2 kept for a persistent session, session present', async () => {
    const a = await client('myclientid', { clean: false });
    await a.subscribeAsync(wildtopics[5], { qos: 2 });
    await a.endAsync();
    const bc = await client('myclientid2', { clean: true });
    await bc.publishAsync(topics[1], 'qos 0', { qos: 0 });
    await bc.publishAsync(topics[2], 'qos 1', { qos: 1 });
    await bc.publishAsync(topics[3], 'qos 2', { qos: 2 });
    await bc.endAsync();
    const back = await client('myclientid', { clean: false });
    expect(back.sessionPresent).toBe(true);
    // Paho accepts 2 or 3 (QoS 0 queued or not); Aedes keeps QoS 1 and 2 only.
    expect((await back.next(2)).map((m) => m.payload).sort()).toEqual(['qos 1', 'qos 2']);
    await back.endAsync();
    // Clean the session for the next cases.
    await (await client('myclientid', { clean: true })).endAsync();
  });

  it('overlapping subscriptions: one message at the highest QoS (or one per subscription)', async () => {
    const a = await client('myclientid');
    await a.subscribeAsync({ [wildtopics[6]]: { qos: 2 }, [wildtopics[0]]: { qos: 1 } });
    await a.publishAsync(topics[3], 'overlapping topic filters', { qos: 2 });
    await a.publishAsync(topics[0], 'marker', { qos: 1 }); // matches neither filter: never arrives
    await a.publishAsync(topics[1], 'marker 2', { qos: 1 });
    const got = await a.next(2);
    const overlapping = got.filter((m) => m.topic === topics[3]);
    expect([1, 2]).toContain(overlapping.length);
    if (overlapping.length === 1) expect(overlapping[0]!.qos).toBe(2);
    else expect(overlapping.map((m) => m.qos).sort()).toEqual([1, 2]);
    await a.endAsync();
  });

  it('keepalive: a client silent past 1.5 × its keepalive is closed and its will published', async () => {
    const bc = await client('myclientid2', { keepalive: 0 });
    await bc.subscribeAsync(topics[4], { qos: 2 });
    // MQTT.js would ping: a raw client with keepalive 1 s that says nothing after its CONNECT.
    const s = await openSocket(b.broker.port);
    s.socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 1,
        clientId: 'myclientid',
        will: { topic: topics[4], payload: Buffer.from('keepalive expiry'), qos: 2, retain: false },
      }),
    );
    await s.closed;
    expect((await bc.next(1))[0]).toMatchObject({ topic: topics[4], payload: 'keepalive expiry' });
    await bc.endAsync();
  });

  it('redelivery on reconnect: unacknowledged QoS 1 and 2 are sent again to a persistent session', async () => {
    // A subscriber that never acknowledges (Paho's pause()): a raw socket.
    const connect = mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: false,
      keepalive: 0,
      clientId: 'myclientid2',
    });
    const s1 = await openSocket(b.broker.port);
    const p1 = packetsOf(s1.socket);
    s1.socket.write(connect);
    await p1.next('connack');
    s1.socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: wildtopics[6], qos: 2 }] }));
    await p1.next('suback');
    const pub = await client('myclientid');
    await pub.publishAsync(topics[1], '', { qos: 1 });
    await pub.publishAsync(topics[3], '', { qos: 2 });
    await p1.next('publish');
    await p1.next('publish');
    s1.socket.write(mqttPacket.generate({ cmd: 'disconnect' }));
    await s1.closed;

    const s2 = await openSocket(b.broker.port);
    const p2 = packetsOf(s2.socket);
    s2.socket.write(connect);
    expect(await p2.next('connack')).toMatchObject({ sessionPresent: true });
    const again = [(await p2.next('publish')) as mqttPacket.IPublishPacket, (await p2.next('publish')) as mqttPacket.IPublishPacket];
    // Paho checks that both come again. Their DUP flag is 0 here: Aedes re-sends the stored packet
    // as it was, although [MQTT-3.3.1-1] asks for 1 on a re-delivery (reported, not fixed here).
    expect(again.map((p) => [p.topic, p.qos]).sort()).toEqual([
      [topics[1], 1],
      [topics[3], 2],
    ]);
    s2.socket.destroy();
    await pub.endAsync();
    await (await client('myclientid2', { clean: true })).endAsync();
  });

  it('subscribe failure: test/nosubscribe is refused with 0x80', async () => {
    const a = await client('myclientid');
    const granted = await a.subscribeAsync('test/nosubscribe', { qos: 2 }).then(
      (g) => g[0]!.qos,
      (err: { packet?: { granted?: number[] } }) => err.packet?.granted?.[0],
    );
    expect(granted).toBe(0x80);
    await a.endAsync();
  });

  it('$ topics: a publish to $TopicA/B is acknowledged but matches no leading wildcard', async () => {
    const bc = await client('myclientid2');
    await bc.subscribeAsync([wildtopics[5], wildtopics[2]], { qos: 2 });
    await bc.publishAsync(`$${topics[1]}`, '', { qos: 1 });
    await bc.publishAsync(topics[1], 'marker', { qos: 1 });
    // `+/+` and `#` both match the marker: one copy per subscription or one at all; never the $ topic.
    await bc.next(1);
    await bc.publishAsync(topics[0], 'marker 2', { qos: 1 });
    const got = await bc.next(bc.got.length + 1);
    expect(got.some((m) => m.topic.startsWith('$'))).toBe(false);
    await bc.endAsync();
  });

  it('unsubscribe: messages stop for the filter unsubscribed, not for the others', async () => {
    const bc = await client('myclientid2');
    for (const t of [topics[0], topics[1], topics[2]]) await bc.subscribeAsync(t, { qos: 2 });
    await bc.unsubscribeAsync(topics[0]);
    const a = await client('myclientid');
    for (const t of [topics[0], topics[1], topics[2]]) await a.publishAsync(t, '', { qos: 1 });
    const got = await bc.next(2);
    expect(got.map((m) => m.topic).sort()).toEqual([topics[2], topics[1]].sort());
    await a.endAsync();
    await bc.endAsync();
  });
});

describe('production defaults are not weakened', () => {
  let h: HostileSystem;
  beforeAll(async () => {
    h = await startHostileSystem(['h1']);
  });
  afterAll(async () => h?.sys.stop());

  it('refuses the same anonymous client with return code 4 on the real system', async () => {
    const s = await openSocket(h.sys.broker.port);
    const packets = packetsOf(s.socket);
    s.socket.write(
      mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId: 'myclientid' }),
    );
    expect(await packets.next('connack')).toMatchObject({ returnCode: 4 });
    await s.closed;
    expect(h.sys.metrics.get('mqtt_auth_total', { result: 'anonymous' })).toBe(0);
  });
});
