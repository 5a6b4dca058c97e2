// Rejection log lines for a flood: at most `perKey` lines per key (a reason, an address) in each
// window, and at most `total` overall; what is left out is counted and reported on the key's next
// line. A storm is counted by the metrics and stays visible in the log without becoming the log.
// Windows are aligned to the clock (second 12:00:01.000–.999, …), as the ingest runner, the
// position filter and the gateways counted them before they shared this class.
import { systemClock, type Clock } from './clock.js';

export interface LogBudgetOptions {
  /** Lines per key per window. */
  perKey: number;
  /** Window length; 1000 (per second) unless said. */
  windowMs?: number;
  /** Lines per window over all keys; unlimited unless said. */
  total?: number;
  clock?: Clock;
}

/** At most this many rejection log lines per reason per second (ingest, position filter, gateways). */
export const LOG_PER_REASON_PER_S = 5;

export class LogBudget {
  private readonly perKey: number;
  private readonly windowMs: number;
  private readonly total: number;
  private readonly clock: Clock;
  private window = Number.NaN;
  private spent = 0;
  private readonly perKeySpent = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(opts: LogBudgetOptions) {
    this.perKey = opts.perKey;
    this.windowMs = opts.windowMs ?? 1000;
    this.total = opts.total ?? Number.POSITIVE_INFINITY;
    this.clock = opts.clock ?? systemClock;
  }

  /** A budget of LOG_PER_REASON_PER_S lines per reason per second. */
  static perReasonPerSecond(clock?: Clock): LogBudget {
    return new LogBudget({ perKey: LOG_PER_REASON_PER_S, clock });
  }

  /** null: stay silent; else log now, with how many lines of this key were left out before. */
  take(key: string): { suppressed: number } | null {
    const window = Math.floor(this.clock.now() / this.windowMs);
    if (window !== this.window) {
      this.window = window;
      this.spent = 0;
      this.perKeySpent.clear();
    }
    const mine = this.perKeySpent.get(key) ?? 0;
    if (mine >= this.perKey || this.spent >= this.total) {
      // Bounded: a flood of distinct keys must not grow this map without end.
      if (this.suppressed.size < 10_000 || this.suppressed.has(key)) this.suppressed.set(key, (this.suppressed.get(key) ?? 0) + 1);
      return null;
    }
    this.perKeySpent.set(key, mine + 1);
    this.spent++;
    const left = this.suppressed.get(key) ?? 0;
    this.suppressed.delete(key);
    return { suppressed: left };
  }
}
