// The load mode in each protocol against a real node (issue 15 §4, `bench:ingest --protocol`):
// OwnTracks JSON on the app's topics through the broker's ingest sink, JT/T 808 terminals that
// register, authenticate and send 0x0200 on the gateway's port. Every acknowledgement (PUBACK,
// 0x8001 result 0) is a stored row, each handset's fix times are distinct whole seconds on its
// own phase, and nothing is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertDevices, upsertWorkers } from '../../storage/device-store.js';
import { loadPhaseMs, startLoad } from '../../simulators/load-generator.js';
import type { LoadDevice, LoadProtocol } from '../../simulators/load-wire.js';
import type { RunningSystem } from '../../system.js';
import { startTestSystem } from '../../testkit/test-system.js';

const N = 12;
let sys: RunningSystem;

function fleet(protocol: LoadProtocol): LoadDevice[] {
  return Array.from({ length: N }, (_, i) => ({
    id: `lp-${protocol}-${i}`,
    secret: `load-protocol-secret-${i}`,
    ...(protocol === 'jt808' ? { terminalNo: `1370000${String(i).padStart(4, '0')}` } : {}),
  }));
}

beforeAll(async () => {
  sys = await startTestSystem();
  for (const protocol of ['native', 'owntracks', 'jt808'] as const) {
    const devs = fleet(protocol);
    await upsertWorkers(
      sys.db.pool,
      devs.map((d) => ({ id: `w-${d.id}`, name: d.id, role: 'grid_worker' as const, gridCodes: [] })),
    );
    await upsertDevices(
      sys.db.pool,
      devs.map((d) => ({
        id: d.id,
        kind: 'handset' as const,
        secret: d.secret,
        workerId: `w-${d.id}`,
        protocol,
        protocolId: d.terminalNo ?? null,
      })),
      sys.deviceSecretKey,
    );
  }
  await sys.hub.reloadRegistry();
}, 60_000);

afterAll(async () => {
  await sys?.stop();
});

async function stored(prefix: string): Promise<{ device_id: string; ts: Date }[]> {
  return (
    await sys.db.pool.query<{ device_id: string; ts: Date }>(
      `SELECT device_id, ts FROM positions WHERE device_id LIKE $1 ORDER BY device_id, ts`,
      [`${prefix}%`],
    )
  ).rows;
}

describe('load generator by protocol, on a real node', { timeout: 60_000 }, () => {
  for (const protocol of ['owntracks', 'jt808'] as const) {
    it(`${protocol}: every acknowledged fix is stored once, on whole seconds at the handset's phase`, async () => {
      const devices = fleet(protocol);
      const port = protocol === 'jt808' ? sys.jt808.port : Number(new URL(sys.mqttUrl).port);
      const started = Date.now();
      const r = await startLoad({
        host: '127.0.0.1',
        port,
        protocol,
        devices,
        rateHz: 1,
        // Half a second over three slots: a pump tick that comes late at the end (a busy CI
        // machine) must not cost the last wave its third fix.
        durationS: 3.5,
        topicRoot: sys.config.TOPIC_ROOT,
        waveSize: 6,
      });
      expect(r.errorsByKind).toEqual({});
      expect(r.connected).toBe(N);
      expect(r.sent).toBeGreaterThanOrEqual(N * 3);
      expect(r.acked).toBe(r.sent);
      const rows = await stored(`lp-${protocol}-`);
      expect(rows).toHaveLength(r.acked);
      devices.forEach((d, i) => {
        const ts = rows.filter((x) => x.device_id === d.id).map((x) => x.ts.getTime());
        expect(ts.length, d.id).toBeGreaterThanOrEqual(3);
        // Whole seconds, one a second, none before the run, none sent before its phase had come.
        for (const [k, t] of ts.entries()) {
          expect(t % 1000).toBe(0);
          expect(t + loadPhaseMs(i, N)).toBeGreaterThanOrEqual(started - 1000);
          if (k > 0) expect(t - ts[k - 1]!).toBe(1000);
        }
      });
      // Through its own door, not the native topics.
      if (protocol === 'owntracks') expect(sys.metrics.get('owntracks_messages_total', { type: 'location', mode: 'mqtt' })).toBe(r.sent);
      else expect(sys.metrics.get('jt808_fixes_total')).toBe(r.sent);
    });
  }

  it('native: unchanged, fixes at the time they are sent with seq and sentAt', async () => {
    const devices = fleet('native');
    const r = await startLoad({
      host: '127.0.0.1',
      port: Number(new URL(sys.mqttUrl).port),
      devices,
      rateHz: 2,
      durationS: 1.5,
      topicRoot: sys.config.TOPIC_ROOT,
    });
    expect(r.errors).toBe(0);
    expect(r.acked).toBe(r.sent);
    expect(await stored('lp-native-')).toHaveLength(r.acked);
  });
});
