// A device's recent valid fixes, as the position filter remembers them (stage-position-filter.ts):
// ascending by time, in one Float64Array (ts, lat, lon, acc per fix) instead of an object per fix.
// Those objects lived 16 to 32 fixes, long enough to survive every young-generation GC and be
// copied into the old generation, one per valid fix; GC is ~11 % of a node's busy time at 2,500
// fixes/s. The numbers in an array cost no GC at all.
const FIELDS = 4;

export class RecentFixes {
  private buf: Float64Array;
  private n = 0;

  constructor(private readonly keep: number) {
    this.buf = new Float64Array(2 * keep * FIELDS);
  }

  get length(): number {
    return this.n;
  }

  ts(i: number): number {
    return this.buf[i * FIELDS]!;
  }

  lat(i: number): number {
    return this.buf[i * FIELDS + 1]!;
  }

  lon(i: number): number {
    return this.buf[i * FIELDS + 2]!;
  }

  /** The fix's stated accuracy, 0 when it stated none (as the jump check counts it). */
  acc(i: number): number {
    return this.buf[i * FIELDS + 3]!;
  }

  /** The index of the newest fix strictly before ts (a fix at the same time is a duplicate), or -1. */
  before(ts: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ts(mid) < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Inserts in time order, after the fixes at the same time. */
  insert(ts: number, lat: number, lon: number, acc: number | null): void {
    if ((this.n + 1) * FIELDS > this.buf.length) {
      // A long store-and-forward batch: room for it until the next trim.
      const grown = new Float64Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    let i = this.n;
    while (i > 0 && this.ts(i - 1) > ts) i--;
    if (i < this.n) this.buf.copyWithin((i + 1) * FIELDS, i * FIELDS, this.n * FIELDS);
    const o = i * FIELDS;
    this.buf[o] = ts;
    this.buf[o + 1] = lat;
    this.buf[o + 2] = lon;
    this.buf[o + 3] = acc ?? 0;
    this.n++;
  }

  /** Keeps the newest `keep` once twice as many are held (one move per `keep` fixes, not per fix). */
  trim(): void {
    if (this.n < 2 * this.keep) return;
    const from = (this.n - this.keep) * FIELDS;
    if (this.buf.length > 2 * this.keep * FIELDS) {
      const small = new Float64Array(2 * this.keep * FIELDS);
      small.set(this.buf.subarray(from, this.n * FIELDS));
      this.buf = small;
    } else {
      this.buf.copyWithin(0, from, this.n * FIELDS);
    }
    this.n = this.keep;
  }
}
