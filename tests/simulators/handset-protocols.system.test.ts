// One simulated handset per foreign protocol against a real node (issue 15 §4): the same patrol
// model through the OwnTracks and JT/T 808 transports, including an outage. The OwnTracks phone
// drops off (its `lwt` will records it offline), queues its fixes and sends them one by one when
// back; the JT/T 808 terminal drops off (the gateway records it offline), authenticates again with
// the code it registered for once, and uploads the outage as blind-area batches (0x0704). Every fix
// the model made is stored, once. A task text (0x8300) reaches the terminal's screen.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';
import { buildDemoDistrict, regionPolygon, type DemoHandset } from '../../simulators/demo-district.js';
import { HandsetSim } from '../../simulators/handset-sim.js';
import { createRng } from '../../simulators/rng.js';
import { seedDistrict } from '../../simulators/seed-district.js';
import type { RunningSystem } from '../../system.js';
import { eventually } from '../../testkit/builders.js';
import { startTestSystem } from '../../testkit/test-system.js';

const district = buildDemoDistrict({ seed: 7, handsets: 6, mixEvery: 6 });
let sys: RunningSystem;

beforeAll(async () => {
  sys = await startTestSystem();
  await seedDistrict(sys.db.pool, district);
  await sys.hub.reloadRegistry();
}, 60_000);

afterAll(async () => {
  await sys?.stop();
});

function handsetOf(protocol: 'owntracks' | 'jt808'): DemoHandset {
  const h = district.handsets.find((x) => x.protocol === protocol);
  if (!h) throw new Error(`no ${protocol} handset`);
  return h;
}

async function presence(deviceId: string): Promise<boolean[]> {
  const r = await sys.db.pool.query<{ online: boolean }>(
    `SELECT online FROM device_status WHERE device_id = $1 AND kind = 'presence' ORDER BY ts, online`,
    [deviceId],
  );
  return r.rows.map((x) => x.online);
}

async function storedFixes(deviceId: string): Promise<number> {
  return (await sys.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM positions WHERE device_id = $1`, [deviceId])).rows[0]!.n;
}

/** A handset on a manual clock ten minutes in the past (fixes are never from the future), flaky. */
function sim(h: DemoHandset, clock: ManualClock): HandsetSim {
  return new HandsetSim({
    mqttUrl: sys.mqttUrl,
    topicRoot: sys.config.TOPIC_ROOT,
    handset: h,
    polygon: regionPolygon(district, h.gridCode),
    clock,
    logger: silentLogger,
    rng: createRng(`protocols:${h.id}`),
    fixEveryS: 2,
    model: { flakyShare: 1, outageEveryS: 20, outageS: [30, 40], batchSize: 5 },
    jt808: { host: '127.0.0.1', port: sys.jt808.port },
  });
}

/** Steps the clock 2 s at a time until the handset does `kind`. */
function stepUntil(s: HandsetSim, clock: ManualClock, kind: string): void {
  for (let i = 0; i < 1000; i++) {
    clock.advance(2000);
    let seen = false;
    const spy = (o: { kind: string }) => (seen ||= o.kind === kind);
    s.on('output', spy);
    s.tick();
    s.off('output', spy);
    if (seen) return;
  }
  throw new Error(`no ${kind} within 1000 steps`);
}

describe('handsets in other protocols, through an outage', { timeout: 60_000 }, () => {
  for (const protocol of ['owntracks', 'jt808'] as const) {
    it(`${protocol}: offline on the outage, back, and every fix stored once`, async () => {
      const h = handsetOf(protocol);
      const clock = new ManualClock(Date.now() - 10 * 60_000);
      const s = sim(h, clock);
      s.start();
      await s.whenConnected();
      stepUntil(s, clock, 'go-offline');
      await eventually(
        () => presence(h.id),
        (p) => p.at(-1) === false,
        15_000,
        `${h.id} recorded offline`,
      );
      stepUntil(s, clock, 'go-online');
      await once(s, 'connect');
      expect(s.stats.batchedFixes).toBeGreaterThanOrEqual(10);
      // Fixes are 2 s apart: whole-second protocols keep every one of them apart too.
      const made = s.stats.fixes + s.stats.batchedFixes;
      await eventually(
        () => storedFixes(h.id),
        (n) => n >= made,
        15_000,
        `${made} fixes of ${h.id}`,
      );
      expect(await storedFixes(h.id)).toBe(made);
      expect((await presence(h.id)).at(-1)).toBe(true);
      if (protocol === 'jt808') {
        // Registered once; the outage's fixes came up as blind-area batches.
        expect(sys.metrics.get('jt808_registrations_total', { result: '0' })).toBe(1);
        expect(sys.metrics.get('jt808_frames_total', { msg: '0x0704' })).toBeGreaterThan(0);
        // A task text on the terminal's screen: the terminal confirms it, the sim hands it on.
        const shown = once(s, 'text');
        expect(await sys.jt808.sendText(h.id, '新任务：垃圾堆放，请前往处理')).toBe('delivered');
        s.tick();
        const [text] = (await shown) as [{ text: string }];
        expect(text.text).toBe('新任务：垃圾堆放，请前往处理');
        expect(s.stats.texts).toBe(1);
      } else {
        expect(sys.metrics.get('owntracks_messages_total', { type: 'lwt', mode: 'mqtt' })).toBeGreaterThanOrEqual(1);
      }
      await s.stop();
      await eventually(
        () => presence(h.id),
        (p) => p.at(-1) === false,
        15_000,
        `${h.id} offline after the stop`,
      );
    });
  }
});
