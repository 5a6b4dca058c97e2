// The packet size guard and the cap on connections waiting for their CONNACK, without sockets
// (issue 16 items 4 and 5); the same on the real broker: tests/hostile/connect-limits.test.ts.
import { finished } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PacketSizeGuard, UnauthenticatedConnections } from '../../broker/packet-size-guard.js';
import { aedesRefusalReason } from '../../broker/mqtt-broker.js';
import { remainingLength } from '../../testkit/hostile/hostile-sockets.js';

/** Feeds `chunks` to a guard; resolves with what passed and what was cut. */
async function feed(guard: PacketSizeGuard, chunks: Buffer[]): Promise<{ passed: number; error: string | null }> {
  let passed = 0;
  guard.on('data', (b: Buffer) => (passed += b.length));
  const error = await new Promise<string | null>((resolve) => {
    finished(guard, (err) => resolve(err ? err.message : null));
    for (const c of chunks) guard.write(c);
    guard.end();
  });
  return { passed, error };
}

const publish = (bodyBytes: number): Buffer =>
  Buffer.concat([Buffer.from([0x30]), remainingLength(bodyBytes), Buffer.alloc(bodyBytes, 0x61)]);

describe('PacketSizeGuard', () => {
  it('before authentication, counts every byte: the packet that would pass the cap is cut at its header', async () => {
    const cuts: Array<[number, string, number]> = [];
    const guard = new PacketSizeGuard(1 << 20, (announced, kind, max) => cuts.push([announced, kind, max]), 100);
    // 60 + 2 bytes pass, then a header announcing 50 more: 62 + 2 + 50 > 100.
    const r = await feed(guard, [publish(60), publish(50)]);
    expect(r.error).toMatch(/over 100 bytes/);
    expect(cuts).toEqual([[50, 'oversize_connect', 100]]);
  });

  it('after authenticated(), measures each packet on its own against the normal cap', async () => {
    const cuts: string[] = [];
    const guard = new PacketSizeGuard(1000, (_a, kind) => cuts.push(kind), 100);
    guard.authenticated();
    const r = await feed(guard, [publish(900), publish(900), publish(900)]);
    expect(r.error).toBeNull();
    expect(r.passed).toBe(3 * 903);
    const big = new PacketSizeGuard(1000, (_a, kind) => cuts.push(kind), 100);
    big.authenticated();
    expect((await feed(big, [publish(1001)])).error).toMatch(/over 1000/);
    expect(cuts).toEqual(['oversize_packet']);
  });

  it('cuts a Remaining Length of more than four bytes (malformed, §2.2.3)', async () => {
    const cuts: number[] = [];
    const guard = new PacketSizeGuard(1000, (announced) => cuts.push(announced));
    expect((await feed(guard, [Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])])).error).not.toBeNull();
    expect(cuts).toEqual([-1]);
  });

  it('calls the idle callback once no packet has started for the limit, restarted by each packet', async () => {
    const guard = new PacketSizeGuard(1000, () => undefined);
    guard.on('data', () => undefined);
    const t0 = Date.now();
    const idle = new Promise<number>((resolve) => guard.closeWhenIdle(150, () => resolve(Date.now() - t0)));
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      guard.write(publish(1));
    }
    expect(await idle).toBeGreaterThanOrEqual(300 + 150 - 20);
    guard.destroy();
  });
});

describe('UnauthenticatedConnections', () => {
  it('caps per address and in all, and frees a slot once (authenticated or closed)', () => {
    const u = new UnauthenticatedConnections({ total: 3, perAddress: 2 });
    const [a, b, c, d] = [{}, {}, {}, {}];
    expect(u.admit(a, 'x')).toBeNull();
    expect(u.admit(b, 'x')).toBeNull();
    expect(u.admit(c, 'x')).toBe('address');
    expect(u.admit(c, 'y')).toBeNull();
    expect(u.admit(d, 'z')).toBe('total');
    u.release(a);
    u.release(a);
    expect(u.size).toBe(2);
    expect(u.admit(d, 'x')).toBeNull();
  });
});

describe('aedesRefusalReason', () => {
  it("names Aedes' own refusals by their error message, and nothing else", () => {
    expect(aedesRefusalReason('empty topic not allowed in PUBLISH')).toBe('empty_topic');
    expect(aedesRefusalReason('# is not allowed in PUBLISH')).toBe('wildcard_in_publish');
    expect(aedesRefusalReason('+ is not allowed in PUBLISH')).toBe('wildcard_in_publish');
    expect(aedesRefusalReason('topic has too many levels')).toBe('too_many_levels');
    expect(aedesRefusalReason('+ is only allowed in subscribe between /')).toBe('bad_topic_filter');
    expect(aedesRefusalReason('Invalid protocol')).toBe('protocol_violation');
    expect(aedesRefusalReason('publish refused: foreign_device')).toBeNull(); // the ACL counts its own
    expect(aedesRefusalReason('read ECONNRESET')).toBeNull();
    expect(aedesRefusalReason('keep alive timeout')).toBeNull();
  });
});
