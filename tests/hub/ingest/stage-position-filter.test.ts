// The position filter's rules (issue 16 item 1), pure: the clock is each message's receive time.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../common/metrics.js';
import { testConfig } from '../../../common/config.js';
import { emptyRows, type PositionRow } from '../../../hub/rows/row-types.js';
import type { IngestContext } from '../../../hub/ingest/ingest-types.js';
import {
  clockAheadReading,
  DEFAULT_FIX_FILTER,
  FixFilter,
  fixFilterSettings,
  positionFilterStage,
} from '../../../hub/ingest/stage-position-filter.js';
import type { FixAnchor } from '../../../hub/rows/fix-heads.js';
import { aPositionRow } from '../../../testkit/builders.js';

const T0 = Date.parse('2026-12-01T08:00:00Z');
/** Metres north of the base point, as degrees of latitude. */
const north = (m: number): number => 27.87 + m / 111_195;

function aRow(over: Partial<PositionRow> = {}): PositionRow {
  return aPositionRow({ deviceId: 'hs-1', workerId: 'w-1', ts: T0, acc: 5, ...over });
}

/** Judges rows one message at a time (each received when its fix was taken, unless said). */
function judgeEach(f: FixFilter, rows: PositionRow[], receivedAt?: number) {
  return rows.map((r) => f.judge(r.deviceId, [r], receivedAt ?? r.ts)[0]!);
}

describe('FixFilter', () => {
  it('refuses a fix beyond the clock-skew allowance and keeps one inside it', () => {
    const f = new FixFilter({ ...DEFAULT_FIX_FILTER, maxFutureS: 60 });
    const now = T0;
    const [inside, beyond, y2099] = f.judge(
      'hs-1',
      [aRow({ ts: now + 59_000 }), aRow({ ts: now + 86_400_000 }), aRow({ ts: Date.parse('2099-01-01T00:00:00Z') })],
      now,
    );
    expect(inside!.refused).toBeUndefined();
    expect(inside!.row.clockAheadMs).toBe(59_000);
    expect(beyond!.refused).toBe("future_fix: 86400 s ahead of the hub's clock");
    expect(y2099!.refused).toMatch(/^future_fix: /);
  });

  it('refuses (0,0) in WGS-84 and what BD-09 (0,0) becomes', () => {
    const f = new FixFilter();
    const [zero, bd09Zero, real] = f.judge(
      'hs-1',
      [aRow({ ts: T0, lat: 0, lon: 0 }), aRow({ ts: T0 + 1000, lat: -0.006004, lon: -0.006505 }), aRow({ ts: T0 + 2000 })],
      T0 + 2000,
    );
    expect(zero!.refused).toMatch(/^zero_fix/);
    expect(bd09Zero!.refused).toMatch(/^zero_fix/);
    expect(real!.refused).toBeUndefined();
  });

  it('flags a fix worse than the accuracy limit; an unknown accuracy is not judged', () => {
    const f = new FixFilter({ ...DEFAULT_FIX_FILTER, maxAccM: 100 });
    const [poor, fine, unknown] = f.judge(
      'hs-1',
      [aRow({ acc: 150 }), aRow({ ts: T0 + 1000, acc: 100 }), aRow({ ts: T0 + 2000, acc: null })],
      T0 + 2000,
    );
    expect(poor!.row.flags).toEqual(['accuracy']);
    expect(fine!.row.flags).toBeUndefined();
    expect(unknown!.row.flags).toBeUndefined();
  });

  it('flags an impossible jump from the previous valid fix, and checks the next one against that same fix', () => {
    const f = new FixFilter({ ...DEFAULT_FIX_FILTER, maxSpeedKmh: 36 }); // 10 m/s
    const v = judgeEach(f, [
      aRow({ ts: T0, acc: 0 }),
      aRow({ ts: T0 + 10_000, lat: north(99), acc: 0 }), // 9.9 m/s
      aRow({ ts: T0 + 20_000, lat: north(5_000), acc: 0 }), // 490 m/s: a jump
      aRow({ ts: T0 + 30_000, lat: north(290), acc: 0 }), // 9.5 m/s from the fix before the jump
    ]);
    expect(v.map((x) => x.row.flags ?? [])).toEqual([[], [], ['jump'], []]);
  });

  it('gives each fix its stated accuracy before calling it a jump (jitter is no jump)', () => {
    const f = new FixFilter({ ...DEFAULT_FIX_FILTER, maxSpeedKmh: 36 });
    // 30 m in 1 s with 20 m accuracy each: inside the two circles.
    const v = judgeEach(f, [aRow({ ts: T0, acc: 20 }), aRow({ ts: T0 + 1000, lat: north(30), acc: 20 })]);
    expect(v[1]!.row.flags).toBeUndefined();
    const g = new FixFilter({ ...DEFAULT_FIX_FILTER, maxSpeedKmh: 36 });
    const w = judgeEach(g, [aRow({ ts: T0, acc: 2 }), aRow({ ts: T0 + 1000, lat: north(30), acc: 2 })]);
    expect(w[1]!.row.flags).toEqual(['jump']);
  });

  it('moves the anchor after three agreeing jumps: a wrong first fix does not flag the true ones for long', () => {
    const f = new FixFilter({ ...DEFAULT_FIX_FILTER, maxSpeedKmh: 36 });
    const wrong = aRow({ ts: T0, lat: north(50_000), acc: 0 });
    const trueOnes = [1, 2, 3, 4].map((k) => aRow({ ts: T0 + k * 10_000, lat: north(k * 50), acc: 0 }));
    const v = judgeEach(f, [wrong, ...trueOnes]);
    expect(v.map((x) => x.row.flags ?? [])).toEqual([[], ['jump'], ['jump'], [], []]);
  });

  it('checks a late fix against the valid fix before it in time, not the newest one', () => {
    const f = new FixFilter({ ...DEFAULT_FIX_FILTER, maxSpeedKmh: 36 });
    judgeEach(f, [aRow({ ts: T0, acc: 0 }), aRow({ ts: T0 + 600_000, lat: north(3_000), acc: 0 })]);
    // A store-and-forward upload from between the two, received after both: 1,000 m in 300 s from
    // T0 is 3.3 m/s (against the newest it would be 2,000 m "backwards in time").
    const now = T0 + 700_000;
    const late = f.judge(
      'hs-1',
      [aRow({ ts: T0 + 300_000, lat: north(1_000), acc: 0 }), aRow({ ts: T0 + 310_000, lat: north(9_000), acc: 0 })],
      now,
    );
    expect(late.map((x) => x.row.flags ?? [])).toEqual([[], ['jump']]);
    expect(late[0]!.row.clockAheadMs).toBe(-400_000);
  });

  it('orders nothing itself but judges a batch in fix order, each against its valid predecessor in the batch', () => {
    const f = new FixFilter({ ...DEFAULT_FIX_FILTER, maxSpeedKmh: 36 });
    const rows = [0, 1, 2, 3].map((k) => aRow({ ts: T0 + k * 10_000, lat: north(k * 90), acc: 0 }));
    expect(f.judge('hs-1', rows, T0 + 3_600_000).map((x) => x.row.flags)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('leaves a fix at the same time as a stored one to the store (the duplicate check), not the jump check', () => {
    const f = new FixFilter({ ...DEFAULT_FIX_FILTER, maxSpeedKmh: 36 });
    f.seed('hs-1', { ts: T0 - 10_000, lat: 27.87, lon: 113.12, acc: 0 });
    const [a, b] = f.judge('hs-1', [aRow({ ts: T0, lat: north(50), acc: 0 }), aRow({ ts: T0, lat: north(60), acc: 0 })], T0);
    expect([a!.row.flags, b!.row.flags]).toEqual([undefined, undefined]);
  });

  it('checks a device’s first fix after a start against its stored head', () => {
    const f = new FixFilter({ ...DEFAULT_FIX_FILTER, maxSpeedKmh: 36 });
    const head: FixAnchor = { ts: T0 - 10_000, lat: 27.87, lon: 113.12, acc: 0 };
    f.seed('hs-1', head);
    expect(f.judge('hs-1', [aRow({ lat: north(5_000), acc: 0 })], T0)[0]!.row.flags).toEqual(['jump']);
    expect(f.judge('hs-2', [aRow({ deviceId: 'hs-2', lat: north(5_000), acc: 0 })], T0)[0]!.row.flags).toBeUndefined();
  });
});

describe('clockAheadReading', () => {
  it('reads a fast clock from a live message, a right one as 0, and nothing from a buffered upload', () => {
    expect(clockAheadReading(86_400_000)).toBe(86_400_000);
    expect(clockAheadReading(1500)).toBe(1500);
    expect(clockAheadReading(300)).toBe(0);
    expect(clockAheadReading(-5_000)).toBe(0);
    expect(clockAheadReading(-3_600_000)).toBeUndefined();
  });
});

describe('positionFilterStage', () => {
  const ctxOf = (rows: PositionRow[], receivedAt: number, payload = Buffer.from('{"fixes":[]}')): IngestContext => ({
    topic: 'grid/v1/devices/hs-1/location',
    payload,
    receivedAt,
    channel: 'location',
    deviceId: 'hs-1',
    device: { id: 'hs-1', kind: 'handset', workerId: 'w-1', gridCode: null, lat: null, lon: null },
    rows: { ...emptyRows(), positions: rows },
  });

  it('takes its settings from the config (names and defaults)', () => {
    expect(fixFilterSettings(testConfig())).toEqual(DEFAULT_FIX_FILTER);
    expect(fixFilterSettings(testConfig({ FIX_MAX_FUTURE_S: '5', FIX_MAX_SPEED_KMH: '80', FIX_MAX_ACC_M: '50' }))).toEqual({
      maxFutureS: 5,
      maxSpeedKmh: 80,
      maxAccM: 50,
    });
  });

  it('turns refused fixes of a batch into dead letters with a counter, keeps the good and flagged ones', async () => {
    const metrics = new Metrics();
    const stage = positionFilterStage({ metrics, settings: { ...DEFAULT_FIX_FILTER, maxAccM: 100 } });
    const now = T0 + 60_000;
    const ctx = ctxOf(
      [
        aRow({ ts: T0 }),
        aRow({ ts: T0 + 1000, acc: 500 }),
        aRow({ ts: T0 + 2000, lat: 0, lon: 0 }),
        aRow({ ts: Date.parse('2099-01-01T00:00:00Z') }),
      ],
      now,
    );
    expect(await stage.run(ctx)).toBeUndefined();
    expect(ctx.rows.positions.map((r) => [r.ts, r.flags])).toEqual([
      [T0, undefined],
      [T0 + 1000, ['accuracy']],
    ]);
    expect(ctx.rows.deadLetters.map((d) => d.reason.split(':')[0])).toEqual(['zero_fix', 'future_fix']);
    const future = ctx.rows.deadLetters[1]!;
    expect(JSON.parse(future.payload.toString()).ts).toBe(Date.parse('2099-01-01T00:00:00Z'));
    expect(future.clockAheadMs).toBe(Date.parse('2099-01-01T00:00:00Z') - now);
    expect(metrics.get('ingest_fixes_rejected_total', { reason: 'future_fix' })).toBe(1);
    expect(metrics.get('ingest_fixes_rejected_total', { reason: 'zero_fix' })).toBe(1);
    expect(metrics.get('ingest_fixes_flagged_total', { reason: 'accuracy' })).toBe(1);
    // The handset's clock shows in a gauge: its newest fix was far ahead.
    expect(metrics.snapshot().ingest_devices_clock_ahead).toBe(1);
  });

  it('keeps the original payload as the dead letter of a one-fix message', async () => {
    const stage = positionFilterStage();
    const payload = Buffer.from(JSON.stringify({ ts: T0 + 86_400_000, lat: 27.87, lon: 113.12 }));
    const ctx = ctxOf([aRow({ ts: T0 + 86_400_000 })], T0, payload);
    await stage.run(ctx);
    expect(ctx.rows.positions).toEqual([]);
    expect(ctx.rows.deadLetters).toHaveLength(1);
    expect(ctx.rows.deadLetters[0]!.payload).toBe(payload);
  });

  it('seeds each device from the stored heads once, before the first judgement', async () => {
    let loads = 0;
    const stage = positionFilterStage({
      settings: { ...DEFAULT_FIX_FILTER, maxSpeedKmh: 36 },
      heads: { load: async () => (loads++, new Map([['hs-1', { ts: T0 - 10_000, lat: 27.87, lon: 113.12, acc: 0 }]])) },
    });
    const a = ctxOf([aRow({ lat: north(5_000), acc: 0 })], T0);
    const b = ctxOf([aRow({ ts: T0 + 10_000, lat: north(50), acc: 0 })], T0 + 10_000);
    await stage.run(a);
    await stage.run(b);
    expect([a.rows.positions[0]!.flags, b.rows.positions[0]!.flags, loads]).toEqual([['jump'], undefined, 1]);
  });

  it('passes other channels untouched', async () => {
    const ctx = { ...ctxOf([], T0), channel: 'status' as const };
    expect(await positionFilterStage().run(ctx)).toBeUndefined();
  });
});
