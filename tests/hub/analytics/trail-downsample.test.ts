import { describe, expect, it } from 'vitest';
import { downsample } from '../../../hub/analytics/trail-downsample.js';

interface P {
  x: number;
  y: number;
  i: number;
}
const planar = (p: P): [number, number] => [p.x, p.y];
const pts = (xy: [number, number][]): P[] => xy.map(([x, y], i) => ({ x, y, i }));

describe('downsample', () => {
  it('returns the input when it already fits', () => {
    const line = pts([
      [0, 0],
      [1, 0],
      [2, 0],
    ]);
    expect(downsample(line, 3, planar)).toEqual(line);
  });

  it('keeps only the ends of a straight line', () => {
    const line = pts(Array.from({ length: 100 }, (_, i): [number, number] => [i, 0]));
    expect(downsample(line, 10, planar).map((p) => p.i)).toEqual([0, 99]);
  });

  it('keeps the corner of an L first', () => {
    // (0,0)…(10,0) then (10,1)…(10,10): the corner (10,0), index 10, deviates most (7.07).
    const l = pts([
      ...Array.from({ length: 11 }, (_, i): [number, number] => [i, 0]),
      ...Array.from({ length: 10 }, (_, i): [number, number] => [10, i + 1]),
    ]);
    expect(downsample(l, 3, planar).map((p) => p.i)).toEqual([0, 10, 20]);
  });

  it('never exceeds the budget and keeps time order', () => {
    // A zig-zag: every interior point deviates, so the budget is what stops it.
    const zig = pts(Array.from({ length: 1000 }, (_, i): [number, number] => [i, (i * 7919) % 13]));
    const out = downsample(zig, 50, planar);
    expect(out).toHaveLength(50);
    expect(out.map((p) => p.i)).toEqual([...out.map((p) => p.i)].sort((a, b) => a - b));
    expect(out[0].i).toBe(0);
    expect(out[49].i).toBe(999);
  });

  it('rejects a budget under 2', () => {
    expect(() =>
      downsample(
        pts([
          [0, 0],
          [1, 1],
          [2, 2],
        ]),
        1,
        planar,
      ),
    ).toThrow(RangeError);
  });
});
