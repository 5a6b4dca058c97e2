import { describe, expect, it } from 'vitest';
import { unpackTrack } from '../../../hub/analytics/trail-query.js';
import { TrackScratch } from '../../../hub/analytics/track-scratch.js';

/** What trail_fixes_packed sends per fix: timestamptz_send (int8 µs since 2000-01-01), lat, lon. */
function record(ms: number, lat: number, lon: number): Buffer {
  const b = Buffer.alloc(24);
  b.writeBigInt64BE(BigInt(ms - Date.UTC(2000, 0, 1)) * 1000n, 0);
  b.writeDoubleBE(lat, 8);
  b.writeDoubleBE(lon, 16);
  return b;
}

describe('unpackTrack', () => {
  it('decodes times on both sides of 2000 and coordinates exactly', () => {
    const fixes: [number, number, number][] = [
      [Date.UTC(1999, 11, 31, 23, 59, 59, 999), 27.870000000000001, 113.12345678901234],
      [Date.UTC(2026, 10, 25, 8, 0, 0, 123), -33.5, -70.25],
      [Date.UTC(2100, 0, 1), 0, 0],
    ];
    const [a, b, c] = fixes.map(([ms, lat, lon]) => record(ms, lat, lon));
    // In slices, as trail_read_slices sends them: the order carries over from one to the next.
    const t = unpackTrack([Buffer.concat([a, b]), c]);
    expect(t.length).toBe(3);
    expect(Array.from(t.ts)).toEqual(fixes.map((f) => f[0]));
    expect(Array.from(t.lat)).toEqual(fixes.map((f) => f[1]));
    expect(Array.from(t.lon)).toEqual(fixes.map((f) => f[2]));
  });

  it('is empty for no fixes (no slices, or an empty one)', () => {
    expect(unpackTrack([]).length).toBe(0);
    expect(unpackTrack([Buffer.alloc(0)]).length).toBe(0);
  });
});

describe('TrackScratch', () => {
  // As PostgreSQL's encode(…, 'base64') writes it: a line break every 76 characters.
  const b64 = (b: Buffer) => b.toString('base64').replace(/.{76}/g, '$&\n');
  const walk = (n: number, t0: number) => Array.from({ length: n }, (_, i) => record(t0 + i * 10_000, 27.8 + i * 1e-5, 113 - i * 1e-5));

  it('decodes slices of base64 text in order, reusing its memory for the next trail', () => {
    const scratch = new TrackScratch();
    const long = walk(1000, Date.UTC(2026, 10, 25));
    const a = scratch.fromBase64([b64(Buffer.concat(long.slice(0, 600))), b64(Buffer.concat(long.slice(600)))]);
    expect(a.length).toBe(1000);
    expect(Array.from(a.ts.subarray(0, a.length))).toEqual(Array.from(unpackTrack([Buffer.concat(long)]).ts));
    const short = walk(3, Date.UTC(2026, 10, 26));
    const b = scratch.fromBase64([b64(Buffer.concat(short))]);
    // The same columns, now holding the shorter trail at their start.
    expect(b.ts).toBe(a.ts);
    expect(b.length).toBe(3);
    expect(Array.from(b.lat.subarray(0, 3))).toEqual([27.8, 27.8 + 1e-5, 27.8 + 2e-5]);
    expect(scratch.fromBase64([]).length).toBe(0);
  });
});
