// Issue 16, items 6 and 8 on the real broker and hub, replaying the fixtures over raw sockets.
// Item 6: an empty client id without a clean session is refused with return code 2 (MQTT 3.1.1
// §3.1.3-8), before the credentials are looked at. Item 8: the publishes Aedes refuses by itself
// (200-level topics, `#`/`+` in a publish, `$SYS/#`, an empty topic) close the connection and are
// each counted with a reason and said in a warn line; nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { startHostileSystem, linesWith, type HostileSystem } from './support/hostile-system.js';
import { openSocket, packetsOf } from '../../testkit/hostile/hostile-sockets.js';
import { hostilePacket } from './support/fixtures.js';

let h: HostileSystem;
beforeAll(async () => {
  h = await startHostileSystem(['h1']);
});
afterAll(async () => h?.sys.stop());

/** Sends a fixture CONNECT; resolves with the CONNACK's return code and the open socket. */
async function connack(
  fixture: string,
): Promise<{ code: number; s: Awaited<ReturnType<typeof openSocket>>; packets: ReturnType<typeof packetsOf> }> {
  const s = await openSocket(h.sys.broker.port);
  const packets = packetsOf(s.socket);
  s.socket.write(hostilePacket(fixture));
  const p = (await packets.next('connack')) as mqttPacket.IConnackPacket;
  return { code: p.returnCode ?? -1, s, packets };
}

describe('client identifier (item 6)', () => {
  it('refuses an empty client id with clean session 0 with return code 2, even with right credentials', async () => {
    const { code, s } = await connack('connect-empty-id-persistent');
    expect(code).toBe(2);
    await s.closed;
    expect(h.sys.metrics.get('mqtt_auth_total', { result: 'identifier_rejected' })).toBe(1);
    expect(linesWith(h.lines, 'identifier_rejected')).toHaveLength(1);
  });

  it('answers an empty client id with a clean session by the device rule: not this device (5)', async () => {
    const { code, s } = await connack('connect-empty-id-clean');
    expect(code).toBe(5);
    await s.closed;
  });
});

describe("Aedes' own refusals of a publish (item 8)", () => {
  const cases: Array<[fixture: string, reason: string]> = [
    ['publish-200-levels', 'too_many_levels'],
    ['publish-hash', 'wildcard_in_publish'],
    ['publish-plus', 'wildcard_in_publish'],
    ['publish-sys-hash', 'wildcard_in_publish'],
    ['publish-empty-topic', 'empty_topic'],
  ];
  for (const [fixture, reason] of cases) {
    it(`${fixture}: closed, counted as ${reason}, logged, nothing stored`, async () => {
      const before = h.sys.metrics.get('mqtt_rejected_total', { reason });
      const linesBefore = linesWith(h.lines, reason).length;
      const { code, s } = await connack('connect-keepalive-0');
      expect(code).toBe(0);
      s.socket.write(hostilePacket(fixture));
      await s.closed;
      expect(h.sys.metrics.get('mqtt_rejected_total', { reason })).toBe(before + 1);
      const line = linesWith(h.lines, reason).at(-1);
      expect(linesWith(h.lines, reason).length).toBe(linesBefore + 1);
      expect(line).toMatchObject({ level: 40, clientId: 'hs-h1', remote: '127.0.0.1', msg: 'mqtt packet refused: connection closed' });
      const r = await h.sys.db.pool.query(`SELECT count(*)::int AS n FROM positions WHERE device_id = 'hs-h1'`);
      expect(r.rows[0].n).toBe(0);
    });
  }

  it('still lets the device publish a fix afterwards (PUBACK, stored)', async () => {
    const { code, s, packets } = await connack('connect-keepalive-0');
    expect(code).toBe(0);
    s.socket.write(
      mqttPacket.generate({
        cmd: 'publish',
        topic: 'grid/v1/devices/hs-h1/location',
        payload: Buffer.from(JSON.stringify({ ts: Date.now() - 1000, lat: 27.87, lon: 113.12 })),
        qos: 1,
        messageId: 9,
        retain: false,
        dup: false,
      }),
    );
    expect(await packets.next('puback')).toMatchObject({ messageId: 9 });
    const r = await h.sys.db.pool.query(`SELECT count(*)::int AS n FROM positions WHERE device_id = 'hs-h1'`);
    expect(r.rows[0].n).toBe(1);
    s.socket.destroy();
  });
});
