// Small local geometry for the simulators: metres on a flat tangent plane (fine over a few km),
// and sampling points inside a polygon.
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import gcoordModule from 'gcoord';
import type { Polygon } from 'geojson';
import type { Rng } from './rng.js';

const M_PER_DEG_LAT = 111_320;

export interface LatLon {
  lat: number;
  lon: number;
}

/** Metres east and north of `origin`. */
export function toLocal(origin: LatLon, p: LatLon): { x: number; y: number } {
  const k = Math.cos((origin.lat * Math.PI) / 180);
  return { x: (p.lon - origin.lon) * M_PER_DEG_LAT * k, y: (p.lat - origin.lat) * M_PER_DEG_LAT };
}

export function fromLocal(origin: LatLon, x: number, y: number): LatLon {
  const k = Math.cos((origin.lat * Math.PI) / 180);
  return { lat: origin.lat + y / M_PER_DEG_LAT, lon: origin.lon + x / (M_PER_DEG_LAT * k) };
}

export function insidePolygon(p: LatLon, polygon: Polygon): boolean {
  return booleanPointInPolygon([p.lon, p.lat], polygon);
}

/**
 * A uniform point strictly inside the polygon, `marginM` metres or more from its bbox edges,
 * by rejection from the bounding box (our polygons are near-rectangles, so few draws are wasted).
 */
export function samplePointIn(polygon: Polygon, rng: Rng, marginM = 0): LatLon {
  const ring = polygon.coordinates[0] ?? [];
  let [minLon, minLat, maxLon, maxLat] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [lon, lat] of ring) {
    if (lon === undefined || lat === undefined) continue;
    minLon = Math.min(minLon, lon);
    maxLon = Math.max(maxLon, lon);
    minLat = Math.min(minLat, lat);
    maxLat = Math.max(maxLat, lat);
  }
  const dLat = marginM / M_PER_DEG_LAT;
  const dLon = marginM / (M_PER_DEG_LAT * Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180));
  for (let i = 0; i < 1000; i++) {
    const p = { lat: rng.float(minLat + dLat, maxLat - dLat), lon: rng.float(minLon + dLon, maxLon - dLon) };
    if (booleanPointInPolygon([p.lon, p.lat], polygon, { ignoreBoundary: true })) return p;
  }
  throw new Error('samplePointIn: polygon too thin to sample');
}

/** Rounds to 7 decimals (~1 cm): what a handset would report, and short JSON. */
export function round7(x: number): number {
  return Math.round(x * 1e7) / 1e7;
}

// gcoord's types declare an ES default export, but under Node its CommonJS module.exports is the API
// itself, so the default import is the API at run time while TypeScript sees it one level down.
type Gcoord = typeof gcoordModule.default;
const gcoord: Gcoord = (gcoordModule as unknown as { default?: Gcoord }).default ?? (gcoordModule as unknown as Gcoord);

/** WGS-84 to GCJ-02, the offset datum Chinese handset SDKs and maps report in. */
export function wgs84ToGcj02(p: LatLon): LatLon {
  const [lon, lat] = gcoord.transform<[number, number]>([p.lon, p.lat], gcoord.WGS84, gcoord.GCJ02);
  return { lat, lon };
}

/** GCJ-02 back to WGS-84 (gcoord's iterative inverse, well under a metre). */
export function gcj02ToWgs84(p: LatLon): LatLon {
  const [lon, lat] = gcoord.transform<[number, number]>([p.lon, p.lat], gcoord.GCJ02, gcoord.WGS84);
  return { lat, lon };
}
