// At most `max` password verifications at once; the rest wait in arrival order.
// scrypt runs on libuv's pool (4 threads by default). A connect storm of thousands of handsets
// otherwise keeps every pool thread busy, and on a 2-core machine the four scrypt threads take
// most of the CPU away from the event loop that carries the broker's and the hub's ingest:
// fixes of the devices already connected waited seconds, and handsets of later waves timed out
// (bench:ingest at 3,400 handsets, BENCHMARKS.md). A cap of cores − 1 leaves one core to ingest
// (with a PostgreSQL server; on the embedded engine it did not help yet, decision 006).

export class ConcurrencyLimit {
  private active = 0;
  private highest = 0;
  // FIFO without Array#shift (O(n) on a large array): a head index, compacted now and then.
  private waiting: (() => void)[] = [];
  private head = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`concurrency limit must be a positive integer, got ${max}`);
  }

  /** Verifications running now. */
  get running(): number {
    return this.active;
  }

  /** Waiting for a slot now. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** The most that ever ran at once (tests check it never exceeds `max`). */
  get peak(): number {
    return this.highest;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> | void {
    if (this.active < this.max) {
      this.take();
      return;
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private take(): void {
    this.active++;
    if (this.active > this.highest) this.highest = this.active;
  }

  private release(): void {
    this.active--;
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head]!;
      this.waiting[this.head++] = noop;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      this.take();
      next();
    }
  }
}

function noop(): void {}
