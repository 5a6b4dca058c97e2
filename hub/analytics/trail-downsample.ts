// Server-side downsampling of a trail to at most maxPoints. Douglas–Peucker run top-down with a
// point budget instead of a tolerance: the segment whose farthest point deviates most is split
// first, so corners survive and straight stretches thin out; the ends are always kept and the
// result stays in time order.

export interface PlanarFn<P> {
  (p: P): [number, number];
}

const RAD = Math.PI / 180;
/** Below this (planar units: metres for trails) a point is on the line, up to float rounding. */
const MIN_DEVIATION = 1e-6;

/** Equirectangular metres around a reference latitude: accurate to well under 1 % across a district. */
export function lonLatToMetres(refLat: number): PlanarFn<{ lat: number; lon: number }> {
  const kx = 6_371_008.8 * RAD * Math.cos(refLat * RAD);
  const ky = 6_371_008.8 * RAD;
  return (p) => [p.lon * kx, p.lat * ky];
}

function segmentDistance(p: [number, number], a: [number, number], b: [number, number]): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? 0 : ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

interface Span {
  from: number;
  to: number;
  /** Index of the farthest interior point, -1 when none. */
  worst: number;
  deviation: number;
}

/** Keeps at most maxPoints (≥ 2) of the points, in order. */
export function downsample<P>(points: readonly P[], maxPoints: number, planar: PlanarFn<P>): P[] {
  if (maxPoints < 2) throw new RangeError('maxPoints must be at least 2');
  if (points.length <= maxPoints) return points.slice();
  const xy = points.map(planar);
  const span = (from: number, to: number): Span => {
    let worst = -1;
    let deviation = -1;
    for (let i = from + 1; i < to; i++) {
      const d = segmentDistance(xy[i], xy[from], xy[to]);
      if (d > deviation) {
        deviation = d;
        worst = i;
      }
    }
    return { from, to, worst, deviation };
  };
  const keep = new Uint8Array(points.length);
  keep[0] = 1;
  keep[points.length - 1] = 1;
  let kept = 2;
  const open = new SpanHeap();
  open.push(span(0, points.length - 1));
  while (kept < maxPoints && open.size > 0) {
    const s = open.pop();
    // Nothing deviates any more: extra points would add no shape, so stop under budget.
    if (s.worst < 0 || s.deviation <= MIN_DEVIATION) break;
    keep[s.worst] = 1;
    kept++;
    for (const next of [span(s.from, s.worst), span(s.worst, s.to)]) if (next.deviation > MIN_DEVIATION) open.push(next);
  }
  return points.filter((_, i) => keep[i] === 1);
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
