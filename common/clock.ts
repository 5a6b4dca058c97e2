// One injectable clock. Production uses the system clock; tests pass a manual one.

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export class ManualClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/**
 * Simulated time running `speed` times faster than real time from `startMs` (sim:day plays a day
 * in minutes). Every part that must agree on "now" (hub dispatch, deadlines, simulators) shares one
 * instance. It can be held still (while the system starts, and at the end so the figures are read
 * at one instant). `realNow` is injectable so tests can drive it from a manual clock.
 */
export class ScaledClock implements Clock {
  /** Simulated time at the last resume (or the start), and the real time it was taken at. */
  private base: number;
  private realAt: number;
  private held: boolean;
  constructor(
    readonly startMs: number,
    readonly speed: number,
    opts: { paused?: boolean; realNow?: () => number } = {},
  ) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`ScaledClock: speed must be a positive number, got ${speed}`);
    this.realNow = opts.realNow ?? (() => Date.now());
    this.base = startMs;
    this.realAt = this.realNow();
    this.held = opts.paused ?? false;
  }
  private readonly realNow: () => number;
  now(): number {
    return this.held ? this.base : this.base + Math.floor((this.realNow() - this.realAt) * this.speed);
  }
  get paused(): boolean {
    return this.held;
  }
  /** Holds simulated time where it is. */
  pause(): void {
    if (this.held) return;
    this.base = this.now();
    this.held = true;
  }
  /** Lets simulated time run again from where it was held. */
  resume(): void {
    if (!this.held) return;
    this.realAt = this.realNow();
    this.held = false;
  }
  /** Simulated milliseconds elapsed since startMs. */
  elapsedMs(): number {
    return this.now() - this.startMs;
  }
  /** Real milliseconds that `simMs` simulated milliseconds take (for timers that must wait in real time). */
  toRealMs(simMs: number): number {
    return simMs / this.speed;
  }
}
