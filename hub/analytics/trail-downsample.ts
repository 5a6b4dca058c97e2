// Server-side downsampling of a trail to at most maxPoints. Douglas–Peucker run top-down with a
// point budget instead of a tolerance: the segment whose farthest point deviates most is split
// first, so corners survive and straight stretches thin out; the ends are always kept and the
// result stays in time order.
import type { Track } from './geo-distance.js';
import { EARTH_RADIUS_M } from '../regions/geo-measure.js';

export type PlanarFn<P> = (p: P) => [number, number];

const RAD = Math.PI / 180;
const METRES_PER_DEG = EARTH_RADIUS_M * RAD;
/** Below this (planar units: metres for trails) a point is on the line, up to float rounding; squared. */
const MIN_DEVIATION_2 = 1e-12;

interface Span {
  from: number;
  to: number;
  /** Index of the farthest interior point, -1 when none. */
  worst: number;
  /** Squared distance of that point from the chord (only compared, so no square root). */
  deviation: number;
}

/** Keeps at most maxPoints (≥ 2) of the points, in order. */
export function downsample<P>(points: readonly P[], maxPoints: number, planar: PlanarFn<P>): P[] {
  return downsampleIndices(points, maxPoints, planar).map((i) => points[i]);
}

/** The indices (ascending) of the points downsample keeps. */
export function downsampleIndices<P>(points: readonly P[], maxPoints: number, planar: PlanarFn<P>): number[] {
  if (maxPoints < 2) throw new RangeError('maxPoints must be at least 2');
  if (points.length <= maxPoints) return points.map((_, i) => i);
  const n = points.length;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const [x, y] = planar(points[i]);
    xs[i] = x;
    ys[i] = y;
  }
  return keepIndices(xs, ys, n, maxPoints);
}

// The planar copy of a track, reused from call to call (downsampleTrack runs to completion
// without yielding): see track-scratch.ts for why the trail API avoids new typed arrays.
let planarX = new Float64Array(0);
let planarY = new Float64Array(0);

/** downsampleIndices for a track, in equirectangular metres around its first fix. */
export function downsampleTrack(t: Track, maxPoints: number): number[] {
  if (maxPoints < 2) throw new RangeError('maxPoints must be at least 2');
  const n = t.length;
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  if (planarX.length < n) {
    planarX = new Float64Array(Math.max(n, Math.ceil(planarX.length * 1.5)));
    planarY = new Float64Array(planarX.length);
  }
  const kx = METRES_PER_DEG * Math.cos(t.lat[0] * RAD);
  for (let i = 0; i < n; i++) {
    planarX[i] = t.lon[i] * kx;
    planarY[i] = t.lat[i] * METRES_PER_DEG;
  }
  return keepIndices(planarX, planarY, n, maxPoints);
}

// Flat typed arrays and squared distances: the first version (tuples, Math.hypot) spent most of
// a full-day trail's 8–18 ms allocating and in hypot (bench:storage, BENCHMARKS.md). The first n
// entries of xs and ys are the points.
function keepIndices(xs: Float64Array, ys: Float64Array, n: number, maxPoints: number): number[] {
  const span = (from: number, to: number): Span => {
    const ax = xs[from];
    const ay = ys[from];
    const dx = xs[to] - ax;
    const dy = ys[to] - ay;
    const len2 = dx * dx + dy * dy;
    let worst = -1;
    let deviation = -1;
    for (let i = from + 1; i < to; i++) {
      const px = xs[i] - ax;
      const py = ys[i] - ay;
      let t = len2 === 0 ? 0 : (px * dx + py * dy) / len2;
      t = t < 0 ? 0 : Math.min(t, 1);
      const ex = px - t * dx;
      const ey = py - t * dy;
      const d2 = ex * ex + ey * ey;
      if (d2 > deviation) {
        deviation = d2;
        worst = i;
      }
    }
    return { from, to, worst, deviation };
  };
  const keep = new Uint8Array(n);
  keep[0] = 1;
  keep[n - 1] = 1;
  let kept = 2;
  const open = new SpanHeap();
  open.push(span(0, n - 1));
  while (kept < maxPoints && open.size > 0) {
    const s = open.pop();
    // Nothing deviates any more: extra points would add no shape, so stop under budget.
    if (s.worst < 0 || s.deviation <= MIN_DEVIATION_2) break;
    keep[s.worst] = 1;
    kept++;
    const left = span(s.from, s.worst);
    const right = span(s.worst, s.to);
    if (left.deviation > MIN_DEVIATION_2) open.push(left);
    if (right.deviation > MIN_DEVIATION_2) open.push(right);
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i] === 1) out.push(i);
  return out;
}

/** Max-heap of spans by deviation: a full-day trail (8,640 fixes, budget 2,000) in a few ms. */
class SpanHeap {
  private readonly items: Span[] = [];

  get size(): number {
    return this.items.length;
  }

  push(s: Span): void {
    const a = this.items;
    a.push(s);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (a[parent].deviation >= a[i].deviation) break;
      [a[parent], a[i]] = [a[i], a[parent]];
      i = parent;
    }
  }

  pop(): Span {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l].deviation > a[m].deviation) m = l;
        if (r < a.length && a[r].deviation > a[m].deviation) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
