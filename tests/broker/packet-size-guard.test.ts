// The packet size guard and the cap on connections waiting for their CONNACK, without sockets
// (issue 16 items 4 and 5); the same on the real broker: tests/hostile/connect-limits.test.ts.
import { describe, expect, it } from 'vitest';
import { PacketSizeGuard, UnauthenticatedConnections } from '../../broker/packet-size-guard.js';
import { aedesRefusalReason } from '../../broker/aedes-refusals.js';
import { remainingLength } from '../../testkit/hostile/hostile-sockets.js';

/** Feeds `chunks` to a guard as a socket would; what passed and what was cut. */
function feed(guard: PacketSizeGuard, chunks: Buffer[]): { passed: number; error: string | null } {
  let passed = 0;
  for (const c of chunks) {
    const refused = guard.check(c);
    if (refused) return { passed, error: refused.message };
    passed += c.length;
  }
  return { passed, error: null };
}

const publish = (bodyBytes: number): Buffer =>
  Buffer.concat([Buffer.from([0x30]), remainingLength(bodyBytes), Buffer.alloc(bodyBytes, 0x61)]);

describe('PacketSizeGuard', () => {
  it('before authentication, counts every byte: the packet that would pass the cap is cut at its header', () => {
    const cuts: Array<[number, string, number]> = [];
    const guard = new PacketSizeGuard(1 << 20, (announced, kind, max) => cuts.push([announced, kind, max]), 100);
    // 60 + 2 bytes pass, then a header announcing 50 more: 62 + 2 + 50 > 100.
    const r = feed(guard, [publish(60), publish(50)]);
    expect(r.error).toMatch(/over 100 bytes/);
    expect(cuts).toEqual([[50, 'oversize_connect', 100]]);
  });

  it('after authenticated(), measures each packet on its own against the normal cap', () => {
    const cuts: string[] = [];
    const guard = new PacketSizeGuard(1000, (_a, kind) => cuts.push(kind), 100);
    guard.authenticated();
    const r = feed(guard, [publish(900), publish(900), publish(900)]);
    expect(r.error).toBeNull();
    expect(r.passed).toBe(3 * 903);
    const big = new PacketSizeGuard(1000, (_a, kind) => cuts.push(kind), 100);
    big.authenticated();
    expect(feed(big, [publish(1001)]).error).toMatch(/over 1000/);
    expect(cuts).toEqual(['oversize_packet']);
  });

  it('cuts a Remaining Length of more than four bytes (malformed, §2.2.3)', () => {
    const cuts: number[] = [];
    const guard = new PacketSizeGuard(1000, (announced) => cuts.push(announced));
    expect(feed(guard, [Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])]).error).not.toBeNull();
    expect(cuts).toEqual([-1]);
  });

  it('reads a fixed header split over chunks, byte by byte, with a multi-byte Remaining Length', () => {
    const cuts: number[] = [];
    const guard = new PacketSizeGuard(20_000, (announced) => cuts.push(announced));
    guard.authenticated();
    // 16,384 = 0x80 0x80 0x01: three length bytes; then a packet announcing 20,001 bytes.
    const ok = publish(16_384);
    const bytes = [...ok.subarray(0, 4)].map((b) => Buffer.from([b]));
    expect(feed(guard, [...bytes, ok.subarray(4), publish(10)]).error).toBeNull();
    const over = publish(20_001).subarray(0, 4);
    expect(feed(guard, [over.subarray(0, 1), over.subarray(1, 2), over.subarray(2)]).error).toMatch(/over 20000/);
    expect(cuts).toEqual([20_001]);
  });

  it('calls the idle callback once no packet has started for the limit, restarted by each packet', async () => {
    const guard = new PacketSizeGuard(1000, () => undefined);
    const t0 = Date.now();
    const idle = new Promise<number>((resolve) => guard.closeWhenIdle(150, () => resolve(Date.now() - t0)));
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      expect(guard.check(publish(1))).toBeNull();
    }
    expect(await idle).toBeGreaterThanOrEqual(300 + 150 - 20);
    guard.stop();
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
