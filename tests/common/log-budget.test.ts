// The shared rate-limited log: lines per key per clock-aligned window, an overall cap, and the
// count of lines left out, driven by a manual clock.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { LOG_PER_REASON_PER_S, LogBudget } from '../../common/log-budget.js';

const takes = (b: LogBudget, key: string, n: number): number =>
  Array.from({ length: n }, () => b.take(key)).filter((x) => x !== null).length;

describe('LogBudget', () => {
  it('lets LOG_PER_REASON_PER_S lines per reason through in one second, each reason on its own', () => {
    const clock = new ManualClock(1_000_000);
    const b = LogBudget.perReasonPerSecond(clock);
    expect(LOG_PER_REASON_PER_S).toBe(5);
    expect(takes(b, 'bad_json', 50)).toBe(5);
    expect(takes(b, 'too_large', 50)).toBe(5);
  });

  it('windows follow the clock second, not the first line: 999 ms and 1000 ms are two seconds', () => {
    const clock = new ManualClock(5_999);
    const b = LogBudget.perReasonPerSecond(clock);
    expect(takes(b, 'r', 10)).toBe(5);
    clock.advance(1);
    expect(takes(b, 'r', 10)).toBe(5);
    clock.advance(999);
    expect(takes(b, 'r', 10)).toBe(0);
  });

  it('reports the lines left out on the next line of that key', () => {
    const clock = new ManualClock(0);
    const b = new LogBudget({ perKey: 2, clock });
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a')]).toEqual([{ suppressed: 0 }, { suppressed: 0 }, null, null]);
    clock.advance(1000);
    expect(b.take('a')).toEqual({ suppressed: 2 });
    expect(b.take('a')).toEqual({ suppressed: 0 });
  });

  it('caps all keys together when a total is given', () => {
    const clock = new ManualClock(0);
    const b = new LogBudget({ perKey: 5, total: 7, windowMs: 60_000, clock });
    expect(takes(b, 'x', 5) + takes(b, 'y', 5)).toBe(7);
    clock.advance(59_999);
    expect(takes(b, 'z', 5)).toBe(0);
    clock.advance(1);
    expect(takes(b, 'z', 5)).toBe(5);
  });
});

describe("LogBudget windows: 'start'", () => {
  it('counts a window from the start and then from the first line after it ended, not on clock minutes', () => {
    const clock = new ManualClock(59_000);
    const b = new LogBudget({ perKey: 5, windowMs: 60_000, windows: 'start', clock });
    expect(takes(b, 'a', 3)).toBe(3);
    clock.advance(2_000); // a clock minute has turned; the window has not
    expect(takes(b, 'a', 10)).toBe(2);
    clock.advance(57_999);
    expect(takes(b, 'a', 1)).toBe(0);
    clock.advance(1); // 60 s after the start
    expect(b.take('a')).toEqual({ suppressed: 9 });
    clock.advance(30_000); // the new window began at that line, 30 s ago
    expect(takes(b, 'a', 10)).toBe(4);
  });
});
