// Reused memory for one trail at a time (trailGeoJson), so that a trail read allocates no typed
// arrays. A full day was ~1 MB of them per call (the slices' bytes, three columns, the planar
// copy in the downsampler); V8 counts that external memory toward its next full collection, and
// those collections (concurrent marking on the same two cores as the embedded database's thread)
// were the trail API's p99 (bench:storage, BENCHMARKS.md). Only for code that uses the track
// synchronously and lets go of it before its next await.
import type { Track } from './geo-distance.js';

/** PostgreSQL's timestamp epoch, 2000-01-01 UTC, in Unix ms. */
export const PG_EPOCH_MS = 946_684_800_000;

export class TrackScratch {
  private bytes = Buffer.alloc(0);
  private ts = new Float64Array(0);
  private lat = new Float64Array(0);
  private lon = new Float64Array(0);

  /**
   * Decodes base64 text (PostgreSQL's encode(…, 'base64'), line breaks and all) holding 24-byte
   * records (see unpackRecords) into the reused columns, slice after slice. The Track is valid
   * until the next call; its columns may be longer than its length.
   */
  fromBase64(slices: readonly string[]): Track {
    let size = 0;
    for (const s of slices) size += Math.ceil((s.length * 3) / 4);
    if (this.bytes.length < size) this.bytes = Buffer.alloc(grow(this.bytes.length, size));
    let off = 0;
    for (const s of slices) off += this.bytes.write(s, off, 'base64');
    const n = off / 24;
    if (this.ts.length < n) {
      const cap = grow(this.ts.length, n);
      this.ts = new Float64Array(cap);
      this.lat = new Float64Array(cap);
      this.lon = new Float64Array(cap);
    }
    const t: Track = { length: n, ts: this.ts, lat: this.lat, lon: this.lon };
    unpackRecords(this.bytes, 0, n, t, 0);
    return t;
  }
}

const grow = (have: number, need: number) => Math.max(need, Math.ceil(have * 1.5));

/**
 * Decodes n records of trail_fixes_packed from b at byte offset `from` into t's columns at index
 * `at`: timestamptz_send (int8 µs since 2000-01-01, big-endian), then lat and lon as float8. The
 * int8 is read as two 32-bit halves: exact within 285 years of 2000 (2^53 µs), and no BigInt per fix.
 */
export function unpackRecords(b: Buffer, from: number, n: number, t: Track, at: number): void {
  for (let i = at, o = from, end = at + n; i < end; i++, o += 24) {
    t.ts[i] = PG_EPOCH_MS + Math.round((b.readInt32BE(o) * 4_294_967_296 + b.readUInt32BE(o + 4)) / 1000);
    t.lat[i] = b.readDoubleBE(o + 8);
    t.lon[i] = b.readDoubleBE(o + 16);
  }
}
