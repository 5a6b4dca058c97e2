import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { fixSchema, locationSchema, statusSchema, type Fix } from '../../protocol/schemas.js';
import { buildDemoDistrict, regionPolygon, type DemoHandset } from '../../simulators/demo-district.js';
import { HandsetModel, type HandsetOutput } from '../../simulators/handset-model.js';
import { createRng } from '../../simulators/rng.js';

const district = buildDemoDistrict({ seed: 7, handsets: 4 });
const T0 = Date.parse('2026-11-25T08:00:00+08:00');

function model(handset: DemoHandset, extra: Partial<ConstructorParameters<typeof HandsetModel>[0]> = {}) {
  return new HandsetModel({
    handset,
    polygon: regionPolygon(district, handset.gridCode),
    rng: createRng(`m:${handset.id}`),
    startMs: T0,
    fixEveryS: 2,
    ...extra,
  });
}

/** Runs the model second by second, reconnecting at once when it says the network is back. */
function run(m: HandsetModel, clock: ManualClock, seconds: number): HandsetOutput[] {
  const out: HandsetOutput[] = [];
  for (let i = 0; i < seconds; i++) {
    clock.advance(1000);
    for (const o of m.tick(clock.now())) {
      out.push(o);
      if (o.kind === 'go-online') out.push(...m.onConnected(clock.now()));
    }
  }
  return out;
}

describe('handset model', () => {
  it('makes one valid fix per period, with a rising seq and a slowly draining battery', () => {
    const clock = new ManualClock(T0);
    const m = model(district.handsets[0] as DemoHandset, { flakyShare: 0 });
    const out = run(m, clock, 3600);
    const fixes = out.flatMap((o) => (o.kind === 'fix' ? [o.payload] : []));
    expect(fixes.length).toBeGreaterThanOrEqual(1799);
    expect(fixes.length).toBeLessThanOrEqual(1800);
    for (const f of fixes) expect(fixSchema.safeParse(f).success).toBe(true);
    expect(fixes.map((f) => f.seq)).toEqual(fixes.map((_, i) => i));
    for (let i = 1; i < fixes.length; i++) expect((fixes[i] as Fix).ts - (fixes[i - 1] as Fix).ts).toBe(2000);
    const first = fixes[0]?.battery ?? 0;
    const last = fixes[fixes.length - 1]?.battery ?? 0;
    expect(first - last).toBeGreaterThanOrEqual(2);
    expect(first - last).toBeLessThanOrEqual(9);
    const statuses = out.flatMap((o) => (o.kind === 'status' ? [o.payload] : []));
    expect(statuses.length).toBeGreaterThanOrEqual(59);
    for (const s of statuses) expect(statusSchema.parse(s).duty).toBe('on');
  });

  it('reports GCJ-02 with crs when the handset SDK does, WGS-84 without it otherwise', () => {
    const h = district.handsets[0] as DemoHandset;
    const take = (crs: DemoHandset['crs']) =>
      run(model({ ...h, crs }, { flakyShare: 0 }), new ManualClock(T0), 10).flatMap((o) => (o.kind === 'fix' ? [o.payload] : []))[0];
    const wgs = take('wgs84');
    const gcj = take('gcj02');
    expect(wgs?.crs).toBeUndefined();
    expect(gcj?.crs).toBe('gcj02');
    // Same walk, same instant: GCJ-02 sits a few hundred metres off in China.
    const offsetM = Math.hypot(((gcj?.lon ?? 0) - (wgs?.lon ?? 0)) * 98_400, ((gcj?.lat ?? 0) - (wgs?.lat ?? 0)) * 111_320);
    expect(offsetM).toBeGreaterThan(100);
    expect(offsetM).toBeLessThan(1000);
  });

  it('goes offline, buffers, and uploads the buffer as out-of-order {fixes} batches that validate', () => {
    const clock = new ManualClock(T0);
    const m = model(district.handsets[1] as DemoHandset, { flakyShare: 1, outageEveryS: 120, outageS: [60, 90], batchSize: 10 });
    expect(m.flaky).toBe(true);
    const out = run(m, clock, 1800);
    const kinds = out.map((o) => o.kind);
    expect(kinds).toContain('go-offline');
    expect(kinds).toContain('go-online');
    const batches = out.flatMap((o) => (o.kind === 'batch' ? [o.payload] : []));
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) {
      const parsed = locationSchema.parse(JSON.parse(JSON.stringify(b)));
      expect('fixes' in parsed).toBe(true);
      expect(b.fixes.length).toBeLessThanOrEqual(10);
    }
    const batched = batches.flatMap((b) => b.fixes);
    const ts = batched.map((f) => f.ts);
    expect(ts).not.toEqual([...ts].sort((a, b) => a - b));
    // Nothing lost, nothing doubled: live and uploaded fixes together are every seq exactly once.
    const live = out.flatMap((o) => (o.kind === 'fix' ? [o.payload] : []));
    const seqs = [...live, ...batched].map((f) => f.seq ?? -1).sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    // While offline it publishes nothing; what it took then is exactly what it uploads.
    let offline = false;
    let takenOffline = 0;
    for (const o of out) {
      if (o.kind === 'go-offline') offline = true;
      if (o.kind === 'go-online') offline = false;
      if (offline) expect(o.kind).not.toMatch(/^(fix|status|batch)$/);
    }
    takenOffline = seqs.length - live.length;
    expect(batched.length).toBe(takenOffline);
    expect(m.buffered).toBe(offline ? m.buffered : 0);
  });

  it('replays identically for the same seed', () => {
    const h = district.handsets[2] as DemoHandset;
    const a = run(model(h, { flakyShare: 1, outageEveryS: 60 }), new ManualClock(T0), 600);
    const b = run(model(h, { flakyShare: 1, outageEveryS: 60 }), new ManualClock(T0), 600);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});
