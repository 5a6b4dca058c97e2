// Rejection log lines for a flood: at most `perKey` lines per key (a reason, an address) in each
// window, and at most `total` overall; what is left out is counted and reported on the key's next
// line. A storm is counted by the metrics and stays visible in the log without becoming the log.
// Two ways to draw the windows, each kept as its users counted before they shared this class:
// 'clock' (second 12:00:01.000–.999, …) for the ingest runner, the position filter and the gateways,
// 5 lines per reason per second; 'start' (from the budget's start, then from the first line after a
// window ends) for the broker and the OwnTracks HTTP auth, 5 per address a minute and 60 overall,
// so a burst of refusals in a test or an attack never straddles two windows by chance.
import { systemClock, type Clock } from './clock.js';

export interface LogBudgetOptions {
  /** Lines per key per window. */
  perKey: number;
  /** Window length; 1000 (per second) unless said. */
  windowMs?: number;
  /** Lines per window over all keys; unlimited unless said. */
  total?: number;
  clock?: Clock;
  /** Where windows begin: on multiples of windowMs ('clock', the default) or at the start and then
   *  at the first line after a window has ended ('start'). */
  windows?: 'clock' | 'start';
}

/** At most this many rejection log lines per reason per second (ingest, position filter, gateways). */
export const LOG_PER_REASON_PER_S = 5;

export class LogBudget {
  private readonly perKey: number;
  private readonly windowMs: number;
  private readonly total: number;
  private readonly clock: Clock;
  private readonly aligned: boolean;
  private windowStart: number;
  private spent = 0;
  private readonly perKeySpent = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(opts: LogBudgetOptions) {
    this.perKey = opts.perKey;
    this.windowMs = opts.windowMs ?? 1000;
    this.total = opts.total ?? Number.POSITIVE_INFINITY;
    this.clock = opts.clock ?? systemClock;
    this.aligned = (opts.windows ?? 'clock') === 'clock';
    this.windowStart = this.aligned ? Number.NaN : this.clock.now();
  }

  /** A budget of LOG_PER_REASON_PER_S lines per reason per second. */
  static perReasonPerSecond(clock?: Clock): LogBudget {
    return new LogBudget({ perKey: LOG_PER_REASON_PER_S, clock });
  }

  /** null: stay silent; else log now, with how many lines of this key were left out before. */
  take(key: string): { suppressed: number } | null {
    const now = this.clock.now();
    const start = this.aligned ? Math.floor(now / this.windowMs) * this.windowMs : now;
    if (this.aligned ? start !== this.windowStart : now - this.windowStart >= this.windowMs) {
      this.windowStart = start;
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
