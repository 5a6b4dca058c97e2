// Plain planar checks on lon/lat rings (a few km: the curvature is irrelevant for these tests).
import type { Position } from 'geojson';

export function signedArea(ring: readonly Position[]): number {
  let a = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    const [x1, y1] = ring[i] as [number, number];
    const [x2, y2] = ring[i + 1] as [number, number];
    a += x1 * y2 - x2 * y1;
  }
  return a / 2;
}

function cross(o: Position, a: Position, b: Position): number {
  return (
    ((a[0] as number) - (o[0] as number)) * ((b[1] as number) - (o[1] as number)) -
    ((a[1] as number) - (o[1] as number)) * ((b[0] as number) - (o[0] as number))
  );
}

function segmentsCross(p1: Position, p2: Position, q1: Position, q2: Position): boolean {
  const d1 = cross(q1, q2, p1);
  const d2 = cross(q1, q2, p2);
  const d3 = cross(p1, p2, q1);
  const d4 = cross(p1, p2, q2);
  return d1 * d2 < 0 && d3 * d4 < 0;
}

/** True when no two non-adjacent edges of the closed ring intersect and no vertex repeats. */
export function isSimpleRing(ring: readonly Position[]): boolean {
  const n = ring.length - 1;
  const seen = new Set(ring.slice(0, n).map((p) => p.join(',')));
  if (seen.size !== n) return false;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (j === i + 1 || (i === 0 && j === n - 1)) continue;
      if (segmentsCross(ring[i] as Position, ring[i + 1] as Position, ring[j] as Position, ring[j + 1] as Position)) return false;
    }
  }
  return true;
}

/** Every turn of a counter-clockwise ring is a left turn. */
export function isConvexCcw(ring: readonly Position[]): boolean {
  const n = ring.length - 1;
  for (let i = 0; i < n; i++) {
    if (cross(ring[i] as Position, ring[(i + 1) % n] as Position, ring[(i + 2) % n] as Position) <= 0) return false;
  }
  return true;
}

/** Directed edges of a closed ring as "lon,lat>lon,lat" keys. */
export function directedEdges(ring: readonly Position[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < ring.length; i++) out.push(`${(ring[i] as Position).join(',')}>${(ring[i + 1] as Position).join(',')}`);
  return out;
}

export function reverseEdge(e: string): string {
  const [a, b] = e.split('>');
  return `${b}>${a}`;
}
