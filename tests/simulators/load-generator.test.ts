// The load mode against a real (bare) Aedes broker: every QoS 1 fix is acknowledged, carries seq and
// sentAt, and refused credentials are counted, not thrown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locationSchema } from '../../protocol/schemas.js';
import { startLoad, type LoadProgress } from '../../simulators/load-generator.js';
import { startTestBroker, type TestBroker } from './aedes-broker.js';
import { Collector } from './mqtt-collector.js';

let broker: TestBroker;
let collector: Collector;
beforeAll(async () => {
  // Accepts the anonymous collector and any device whose password is its id reversed; everything
  // else gets "not authorised".
  broker = await startTestBroker((_client, username, password, done) =>
    done(null, username === undefined || password?.toString() === [...username].reverse().join('')),
  );
  collector = await Collector.start(broker.url);
});
afterAll(async () => {
  await collector?.stop();
  await broker?.close();
});

const devices = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => {
    const id = `${prefix}-${String(i + 1).padStart(4, '0')}`;
    return { id, secret: [...id].reverse().join('') };
  });

describe('load generator', () => {
  it('publishes fixes at the rate asked, in waves, and counts every PUBACK', async () => {
    const progress: LoadProgress[] = [];
    const fleet = devices(60, 'ld');
    const result = await startLoad({
      host: '127.0.0.1',
      port: broker.port,
      devices: fleet,
      rateHz: 5,
      durationS: 1.5,
      topicRoot: 'grid/v1',
      waveSize: 25,
      progressEveryMs: 250,
      onProgress: (p) => progress.push(p),
    });
    expect(result.errors).toBe(0);
    expect(result.connected).toBe(60);
    // 60 devices × 5 Hz × ~1.5 s, less the connect time of the later waves.
    expect(result.sent).toBeGreaterThan(60 * 5);
    expect(result.acked).toBe(result.sent);
    expect(result.ackLatencyMs?.p50).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThan(2);

    await collector.until(() => collector.messages.filter((m) => m.deviceId.startsWith('ld-')).length >= result.sent);
    const mine = collector.messages.filter((m) => m.deviceId.startsWith('ld-'));
    for (const m of mine) {
      const fix = locationSchema.parse(m.json);
      expect('fixes' in fix).toBe(false);
      expect(typeof (fix as { sentAt?: unknown }).sentAt).toBe('number');
    }
    // Per device: seq 0..n-1, no gap, no duplicate, ts strictly rising.
    for (const d of fleet) {
      const fixes = mine.filter((m) => m.deviceId === d.id).map((m) => m.json as { seq: number; ts: number });
      expect(fixes.map((f) => f.seq)).toEqual(fixes.map((_, i) => i));
      expect(fixes.every((f, i) => i === 0 || f.ts > (fixes[i - 1] as { ts: number }).ts)).toBe(true);
    }
  });

  it('counts refused connections as errors and still ends on time', async () => {
    const good = devices(5, 'ok');
    const bad = devices(5, 'no').map((d) => ({ ...d, secret: 'wrong' }));
    const result = await startLoad({
      host: '127.0.0.1',
      port: broker.port,
      devices: [...good, ...bad],
      rateHz: 2,
      durationS: 0.5,
      topicRoot: 'grid/v1',
    });
    expect(result.connected).toBe(5);
    expect(result.errorsByKind['connack-5']).toBe(5);
    expect(result.acked).toBe(result.sent);
    expect(result.elapsedS).toBeLessThan(5);
  });

  it('stops early on abort', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const run = startLoad({
      host: '127.0.0.1',
      port: broker.port,
      devices: devices(10, 'ab'),
      rateHz: 2,
      durationS: 60,
      topicRoot: 'grid/v1',
      signal: ac.signal,
      onProgress: () => ac.abort(),
      progressEveryMs: 100,
    });
    const result = await run;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.acked).toBe(result.sent);
  });

  it('with retryConnect, tries a failed connect again until it is in, but never wrong credentials', async () => {
    // A broker that is "unavailable" (CONNACK 3) to each device's first attempt, as a saturated node
    // that sheds connects would be, and refuses one device's secret for good.
    const attempts = new Map<string, number>();
    const shedding = await startTestBroker((_client, username, password, done) => {
      const id = username ?? '';
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      if (password?.toString() !== [...id].reverse().join('')) return done(null, false);
      if (n === 1) return done(Object.assign(new Error('busy'), { returnCode: 3 as const }), false);
      done(null, true);
    });
    try {
      const fleet = [...devices(8, 'rt'), { id: 'rt-bad', secret: 'wrong' }];
      const once = await startLoad({
        host: '127.0.0.1',
        port: shedding.port,
        devices: fleet,
        rateHz: 2,
        durationS: 0.3,
        topicRoot: 'grid/v1',
      });
      expect(once.connected).toBe(0);
      expect(once.errorsByKind['connack-3']).toBe(8);

      attempts.clear();
      const retried = await startLoad({
        host: '127.0.0.1',
        port: shedding.port,
        devices: fleet,
        rateHz: 2,
        durationS: 3,
        topicRoot: 'grid/v1',
        retryConnect: true,
      });
      expect(retried.connected).toBe(8);
      expect(retried.errorsByKind['connack-3']).toBe(8);
      expect(retried.errorsByKind['connack-5']).toBe(1);
      expect(attempts.get('rt-bad')).toBe(1);
      expect(retried.acked).toBeGreaterThan(0);
      expect(retried.acked).toBe(retried.sent);
    } finally {
      await shedding.close();
    }
  });
});
