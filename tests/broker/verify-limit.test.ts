// Password-guessing backoff (issue 16 item 9) and the scrypt queue, as pure logic with a clock.
import { describe, expect, it } from 'vitest';
import { ConcurrencyLimit, FailureBackoff } from '../../broker/verify-limit.js';
import { LogBudget } from '../../common/log-budget.js';

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('FailureBackoff', () => {
  it('answers the first failures of an address and id at once, then doubles the delay up to the cap', () => {
    const c = clock();
    const b = new FailureBackoff({ pairFree: 3, addressFree: 100, firstDelayMs: 500, maxDelayMs: 4000 }, c.now);
    const delays = Array.from({ length: 8 }, () => b.failed('10.0.0.1', 'hs-1').delayMs);
    expect(delays).toEqual([0, 0, 0, 500, 1000, 2000, 4000, 4000]);
    expect(b.failed('10.0.0.1', 'hs-1').scope).toBe('pair');
  });

  it('never holds another address back for the same id (the real device connects from its own)', () => {
    const b = new FailureBackoff({ pairFree: 3, addressFree: 100 });
    for (let i = 0; i < 20; i++) b.failed('10.0.0.1', 'hs-1');
    const other = b.failed('10.0.0.2', 'hs-1');
    expect(other.delayMs).toBe(0);
    // …but the id's failures from everywhere are counted for the log.
    expect(other.idFailures).toBe(21);
  });

  it('slows one address that tries many ids', () => {
    const b = new FailureBackoff({ pairFree: 3, addressFree: 10, firstDelayMs: 100, maxDelayMs: 8000 });
    const delays = Array.from({ length: 13 }, (_, i) => b.failed('10.0.0.9', `hs-${i}`));
    expect(delays.slice(0, 10).every((d) => d.delayMs === 0)).toBe(true);
    expect(delays.slice(10).map((d) => [d.delayMs, d.scope])).toEqual([
      [100, 'address'],
      [200, 'address'],
      [400, 'address'],
    ]);
  });

  it('forgives an address and id after its right secret, and forgets quiet counters', () => {
    const c = clock();
    const b = new FailureBackoff({ pairFree: 1, addressFree: 100, firstDelayMs: 100, forgetAfterMs: 60_000 }, c.now);
    b.failed('a', 'hs-1');
    expect(b.failed('a', 'hs-1').delayMs).toBe(100);
    expect(b.suspect('a', 'hs-1')).toBe(true);
    b.succeeded('a', 'hs-1');
    expect(b.suspect('a', 'hs-1')).toBe(false);
    expect(b.failed('a', 'hs-1').delayMs).toBe(0);
    expect(b.failed('a', 'hs-1').delayMs).toBe(100);
    c.advance(60_001);
    expect(b.failed('a', 'hs-1').pairFailures).toBe(1);
  });

  it('caps the refusals held per address and overall', () => {
    const b = new FailureBackoff({ maxHeldPerAddress: 2, maxHeld: 3 });
    expect([b.hold('a'), b.hold('a'), b.hold('a')]).toEqual([true, true, false]);
    expect([b.hold('b'), b.hold('c')]).toEqual([true, false]);
    expect(b.held).toBe(3);
    b.release('a');
    expect(b.hold('c')).toBe(true);
  });

  it('keeps a bounded number of counters, forgetting the least recently failed', () => {
    const b = new FailureBackoff({ pairFree: 0, addressFree: 1000, maxTracked: 3, firstDelayMs: 10 });
    b.failed('a', '1');
    b.failed('a', '2');
    b.failed('a', '3');
    b.failed('a', '1'); // 1 is fresh again
    b.failed('a', '4'); // evicts 2
    expect(b.failed('a', '2').pairFailures).toBe(1);
    expect(b.failed('a', '1').pairFailures).toBe(3);
  });
});

describe('ConcurrencyLimit priorities', () => {
  it('starts waiting high-priority checks before low ones, FIFO within each', async () => {
    const limit = new ConcurrencyLimit(1);
    const order: string[] = [];
    let release!: () => void;
    const first = limit.run(() => new Promise<void>((r) => (release = r)));
    const runs = [
      limit.run(async () => void order.push('low-1'), 'low'),
      limit.run(async () => void order.push('high-1')),
      limit.run(async () => void order.push('low-2'), 'low'),
      limit.run(async () => void order.push('high-2'), 'high'),
    ];
    expect(limit.queued).toBe(4);
    await new Promise((r) => setImmediate(r)); // the first task has started
    release();
    await first;
    await Promise.all(runs);
    expect(order).toEqual(['high-1', 'high-2', 'low-1', 'low-2']);
    expect(limit.peak).toBe(1);
  });
});

describe('LogBudget (common/log-budget.ts) as the broker sets it', () => {
  it('lets a few lines per key and window through and reports what it left out', () => {
    const c = clock();
    const budget = new LogBudget({ perKey: 2, total: 3, windowMs: 60_000, windows: 'start', clock: c });
    expect(budget.take('a')).toEqual({ suppressed: 0 });
    expect(budget.take('a')).toEqual({ suppressed: 0 });
    expect(budget.take('a')).toBeNull();
    expect(budget.take('a')).toBeNull();
    expect(budget.take('b')).toEqual({ suppressed: 0 });
    expect(budget.take('c')).toBeNull(); // the window's total is spent
    c.advance(60_000);
    expect(budget.take('a')).toEqual({ suppressed: 2 });
  });
});
