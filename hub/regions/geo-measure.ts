// Small metric helpers shared by the region checks, the grid locator, dispatch matching, the
// position filter and the trail distances (the one haversine of the hub).
// Grids are a few hundred metres across and a district a few tens of km, so a local
// equirectangular projection (fixed reference latitude) is accurate to well under 1 % there,
// far better than handset GPS; haversine is used where one exact distance is reported.
import type { MultiPolygon, Polygon, Position } from 'geojson';

/** Mean Earth radius (IUGG), metres. */
export const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

export interface Projection {
  readonly refLat: number;
  x(lon: number): number;
  y(lat: number): number;
}

/** Equirectangular projection to metres around `refLat`; linear per axis, so boxes stay boxes. */
export function localProjection(refLat: number): Projection {
  const kx = EARTH_RADIUS_M * RAD * Math.cos(refLat * RAD);
  const ky = EARTH_RADIUS_M * RAD;
  return { refLat, x: (lon) => lon * kx, y: (lat) => lat * ky };
}

/** Great-circle distance in metres. */
export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Distance from (px,py) to the segment (ax,ay)-(bx,by), all in the same planar unit. */
export function pointSegmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? 0 : ((px - ax) * dx + (py - ay) * dy) / len2;
  t = t < 0 ? 0 : Math.min(t, 1);
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Every ring of a Polygon or MultiPolygon (outer rings and holes). */
export function ringsOf(geometry: Polygon | MultiPolygon): Position[][] {
  return geometry.type === 'Polygon' ? geometry.coordinates : geometry.coordinates.flat();
}

/** Distance in metres (projected) from a point to the nearest edge of any ring. */
export function distanceToEdgesM(lon: number, lat: number, geometry: Polygon | MultiPolygon, proj: Projection): number {
  const px = proj.x(lon);
  const py = proj.y(lat);
  let best = Infinity;
  for (const ring of ringsOf(geometry)) {
    const n = ring.length;
    for (let i = 0; i < n; i++) {
      const a = ring[i];
      // Includes the closing edge whether or not the ring repeats its first position.
      const b = ring[(i + 1) % n];
      const d = pointSegmentDistance(px, py, proj.x(a[0]), proj.y(a[1]), proj.x(b[0]), proj.y(b[1]));
      if (d < best) best = d;
    }
  }
  return best;
}

export interface BBox {
  minLon: number;
  minLat: number;
  maxLon: number;
  maxLat: number;
}

export function bboxOf(geometry: Polygon | MultiPolygon): BBox {
  const box: BBox = { minLon: Infinity, minLat: Infinity, maxLon: -Infinity, maxLat: -Infinity };
  for (const ring of ringsOf(geometry)) {
    for (const [lon, lat] of ring) {
      if (lon < box.minLon) box.minLon = lon;
      if (lat < box.minLat) box.minLat = lat;
      if (lon > box.maxLon) box.maxLon = lon;
      if (lat > box.maxLat) box.maxLat = lat;
    }
  }
  return box;
}

/** True when first and last positions are equal (GeoJSON RFC 7946 §3.1.6). */
export function ringIsClosed(ring: readonly Position[]): boolean {
  if (ring.length === 0) return false;
  const a = ring[0];
  const b = ring[ring.length - 1];
  return a[0] === b[0] && a[1] === b[1];
}

/** A copy with every ring closed, for libraries that require it (turf, point-in-polygon-hao). */
export function closeRings<G extends Polygon | MultiPolygon>(geometry: G): G {
  const close = (ring: Position[]): Position[] => (ringIsClosed(ring) ? ring : [...ring, ring[0]]);
  if (geometry.type === 'Polygon') {
    return { ...geometry, coordinates: geometry.coordinates.map(close) };
  }
  return { ...geometry, coordinates: (geometry as MultiPolygon).coordinates.map((p) => p.map(close)) } as G;
}
