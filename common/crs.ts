// Chinese coordinate systems. Handset SDKs report GCJ-02 (AMap, Tencent) or BD-09 (Baidu); we
// store WGS-84 (DESIGN §3). gcoord does the maths.
import * as gcoordNs from 'gcoord';
import type { Crs } from '../protocol/schemas.js';

// gcoord ships CommonJS whose typings declare an ES default export that NodeNext cannot see:
// take `.default` at runtime and describe the two members we use.
interface Gcoord {
  transform(input: [number, number], from: string, to: string): [number, number];
  WGS84: string;
  GCJ02: string;
  BD09: string;
}
const gcoord: Gcoord = (gcoordNs as unknown as { default: Gcoord }).default;

function crsType(crs: Crs) {
  return crs === 'gcj02' ? gcoord.GCJ02 : crs === 'bd09' ? gcoord.BD09 : gcoord.WGS84;
}

export function toWgs84(lon: number, lat: number, crs: Crs | undefined): [number, number] {
  if (!crs || crs === 'wgs84') return [lon, lat];
  const [x, y] = gcoord.transform([lon, lat], crsType(crs), gcoord.WGS84);
  return [x, y];
}

export function fromWgs84(lon: number, lat: number, crs: Crs): [number, number] {
  if (crs === 'wgs84') return [lon, lat];
  const [x, y] = gcoord.transform([lon, lat], gcoord.WGS84, crsType(crs));
  return [x, y];
}
