// Issue 16, item 4: what an unauthenticated client can make the broker hold. Before its CONNACK a
// connection may send PRE_AUTH_MAX_BYTES (8 KiB) in all, cut at the fixed header that would pass
// it; after, each packet may be MAX_PACKET_BYTES. At most 256 connections from one address and
// 4,096 in all may wait for their CONNACK; beyond, a new connection is closed at once, counted and
// logged (a few lines). Real broker and hub; raw sockets replay the fixtures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aFix, eventually } from '../../testkit/builders.js';
import { connectDevice } from '../../testkit/test-system.js';
import { DEFAULT_UNAUTHENTICATED, PRE_AUTH_MAX_BYTES } from '../../broker/packet-size-guard.js';
import { startHostileSystem, linesWith, type HostileSystem } from './support/hostile-system.js';
import { openSocket, packetsOf, writeFiller, type OpenSocket } from '../../testkit/hostile/hostile-sockets.js';
import { hostileFill, hostilePacket } from './support/fixtures.js';

let h: HostileSystem;
beforeAll(async () => {
  h = await startHostileSystem(['h1', 'h2', 'h3']);
});
afterAll(async () => h?.sys.stop());

const waiting = (): number => h.sys.metrics.snapshot().mqtt_unauthenticated_connections ?? -1;
const rejected = (reason: string): number => h.sys.metrics.get('mqtt_rejected_total', { reason });

async function closeAll(sockets: OpenSocket[]): Promise<void> {
  for (const s of sockets) s.socket.destroy();
  await Promise.all(sockets.map((s) => s.closed));
  await eventually(waiting, (n) => n === 0, 15_000, 'no connection waiting for its CONNACK');
}

describe('bytes before authentication', () => {
  it('cuts an unfinished 1 MB CONNECT at its fixed header, counted and logged', async () => {
    const s = await openSocket(h.sys.broker.port);
    s.socket.write(hostilePacket('connect-unfinished-1mb'));
    void writeFiller(s, hostileFill('connect-unfinished-1mb'));
    await s.closed;
    expect(rejected('oversize_connect')).toBe(1);
    expect(linesWith(h.lines, 'oversize_connect')[0]).toMatchObject({ level: 40, announced: 1_040_000, max: PRE_AUTH_MAX_BYTES });
  });

  it('refuses a complete CONNECT over the cap (a 9 KiB will) and lets one under it in', async () => {
    const big = await openSocket(h.sys.broker.port);
    big.socket.write(hostilePacket('connect-will-9k'));
    await big.closed;
    expect(rejected('oversize_connect')).toBe(2);

    const ok = await openSocket(h.sys.broker.port);
    const packets = packetsOf(ok.socket);
    ok.socket.write(hostilePacket('connect-will-6k'));
    expect(await packets.next('connack')).toMatchObject({ returnCode: 0 });
    ok.socket.destroy();
  });

  it('measures each packet against the normal cap once the CONNACK is out: a 20 KiB batch is stored', async () => {
    const hs = await connectDevice(h.sys, 'hs-h2', h.devices['hs-h2']!.secret);
    const fixes = Array.from({ length: 300 }, () => aFix());
    const payload = JSON.stringify({ fixes });
    expect(payload.length).toBeGreaterThan(2 * PRE_AUTH_MAX_BYTES);
    await hs.publishAsync('grid/v1/devices/hs-h2/location', payload, { qos: 1 });
    const r = await h.sys.db.pool.query(`SELECT count(*)::int AS n FROM positions WHERE device_id = 'hs-h2'`);
    expect(r.rows[0].n).toBe(300);
    await hs.endAsync();
  });

  it('cuts a client that pipelines more than the cap behind its CONNECT, before the CONNACK', async () => {
    const s = await openSocket(h.sys.broker.port);
    // CONNECT, then a PUBLISH announcing 9 KiB, in one write: no CONNACK has been sent yet.
    const publish = Buffer.from([0x32, 0x80, 0x48]); // QoS 1 PUBLISH, Remaining Length 9,216
    s.socket.write(Buffer.concat([hostilePacket('connect-keepalive-0'), publish, Buffer.alloc(2048, 0x61)]));
    await s.closed;
    expect(rejected('oversize_connect')).toBe(3);
  });
});

describe('connections waiting for their CONNACK', () => {
  it(`takes at most ${DEFAULT_UNAUTHENTICATED.perAddress} from one address; other addresses still get in`, async () => {
    const port = h.sys.broker.port;
    const silent: OpenSocket[] = [];
    for (let i = 0; i < DEFAULT_UNAUTHENTICATED.perAddress; i++) silent.push(await openSocket(port, '127.0.0.5'));
    await eventually(waiting, (n) => n === DEFAULT_UNAUTHENTICATED.perAddress, 10_000, 'every silent socket accepted');
    const extra = await openSocket(port, '127.0.0.5');
    await extra.closed;
    expect(rejected('too_many_unauthenticated_address')).toBe(1);
    // A device from another address is not affected.
    const hs = await connectDevice(h.sys, 'hs-h1', h.devices['hs-h1']!.secret);
    await hs.endAsync();
    await closeAll(silent);
  });

  it(`takes at most ${DEFAULT_UNAUTHENTICATED.total} in all; a device already in keeps publishing; the log stays short`, {
    timeout: 90_000,
  }, async () => {
    const port = h.sys.broker.port;
    const hs = await connectDevice(h.sys, 'hs-h3', h.devices['hs-h3']!.secret);
    const hosts = Math.ceil(DEFAULT_UNAUTHENTICATED.total / DEFAULT_UNAUTHENTICATED.perAddress);
    const silent: OpenSocket[] = [];
    // In parallel per address: the 10 s connect timeout must not close the first before the last.
    await Promise.all(
      Array.from({ length: hosts }, async (_, k) => {
        for (let i = 0; i < DEFAULT_UNAUTHENTICATED.perAddress; i++) silent.push(await openSocket(port, `127.0.1.${k + 1}`));
      }),
    );
    await eventually(waiting, (n) => n === DEFAULT_UNAUTHENTICATED.total, 10_000, 'every silent socket accepted');
    const refusedBefore = rejected('too_many_unauthenticated');
    const extra = await Promise.all(Array.from({ length: 50 }, () => openSocket(port, '127.0.2.1')));
    await Promise.all(extra.map((s) => s.closed));
    expect(rejected('too_many_unauthenticated') - refusedBefore).toBe(50);
    // Connected devices are not what the cap counts: a fix still goes through and is stored.
    const fix = aFix();
    await hs.publishAsync('grid/v1/devices/hs-h3/location', JSON.stringify(fix), { qos: 1 });
    const r = await h.sys.db.pool.query(`SELECT 1 FROM positions WHERE device_id = 'hs-h3' AND ts = to_timestamp($1 / 1000.0)`, [fix.ts]);
    expect(r.rowCount).toBe(1);
    // 50 refusals from one address: five lines, then silence (counted in `suppressed` later).
    expect(linesWith(h.lines, 'too_many_unauthenticated').length).toBe(5);
    await closeAll(silent);
    // Room again: a new connection is let in.
    const again = await connectDevice(h.sys, 'hs-h1', h.devices['hs-h1']!.secret);
    await again.endAsync();
    await hs.endAsync();
  });
});
