// The accelerated clock sim:day shares between the hub and the simulators (common/clock.ts).
import { describe, expect, it } from 'vitest';
import { ManualClock, ScaledClock } from '../../common/clock.js';

const T0 = Date.parse('2026-11-25T00:00:00+08:00');

describe('ScaledClock', () => {
  it('runs speed times faster than real time from its start, and can be held and resumed', () => {
    const real = new ManualClock(1_000_000);
    const c = new ScaledClock(T0, 240, { realNow: () => real.now() });
    expect(c.now()).toBe(T0);
    real.advance(1500);
    expect(c.now()).toBe(T0 + 360_000);
    expect(c.elapsedMs()).toBe(360_000);
    c.pause();
    real.advance(10_000);
    expect(c.now()).toBe(T0 + 360_000);
    expect(c.paused).toBe(true);
    c.resume();
    real.advance(250);
    expect(c.now()).toBe(T0 + 420_000);
    expect(c.toRealMs(86_400_000)).toBe(360_000);
  });

  it('can start held (while the system starts) and refuses a speed that is not positive', () => {
    const real = new ManualClock(0);
    const c = new ScaledClock(T0, 100, { paused: true, realNow: () => real.now() });
    real.advance(60_000);
    expect(c.now()).toBe(T0);
    c.resume();
    real.advance(10);
    expect(c.now()).toBe(T0 + 1000);
    expect(() => new ScaledClock(T0, 0)).toThrow(/speed/);
    expect(() => new ScaledClock(T0, Number.NaN)).toThrow(/speed/);
  });
});
