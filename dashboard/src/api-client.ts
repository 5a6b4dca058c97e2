// The two HTTP reads the screen makes at start. The payloads are not in protocol/ yet, so they are
// checked here at runtime (a half-deployed hub must not crash the screen) and typed narrowly.
import type { Feature, FeatureCollection, MultiPolygon, Polygon } from 'geojson';

export const REGION_LEVELS = ['district', 'street', 'community', 'grid'] as const;
export type RegionLevel = (typeof REGION_LEVELS)[number];

export interface RegionProps {
  code: string;
  parent: string | null;
  level: RegionLevel;
  name: string;
}

export type RegionFeature = Feature<Polygon | MultiPolygon, RegionProps>;

export interface DashboardConfig {
  /** An XYZ tile template; null means no base map (the default: the hub runs offline). */
  tileUrl: string | null;
  tileAttribution: string | null;
}

async function getJson(path: string): Promise<unknown> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return res.json();
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isRegionFeature(f: unknown): f is RegionFeature {
  if (!isRecord(f) || f.type !== 'Feature' || !isRecord(f.geometry) || !isRecord(f.properties)) return false;
  const g = f.geometry;
  const p = f.properties;
  return (
    (g.type === 'Polygon' || g.type === 'MultiPolygon') &&
    typeof p.code === 'string' &&
    typeof p.name === 'string' &&
    (REGION_LEVELS as readonly unknown[]).includes(p.level)
  );
}

/** Regions as GeoJSON; features that are not region polygons are dropped and counted. */
export async function fetchRegions(): Promise<{ features: RegionFeature[]; dropped: number }> {
  const body = await getJson('/api/regions');
  if (!isRecord(body) || body.type !== 'FeatureCollection' || !Array.isArray(body.features)) {
    throw new Error('GET /api/regions: not a GeoJSON FeatureCollection');
  }
  const all = (body as unknown as FeatureCollection).features as unknown[];
  const features = all.filter(isRegionFeature);
  for (const f of features) f.properties.parent ??= null;
  return { features, dropped: all.length - features.length };
}

/** Missing or broken config falls back to "no tiles": the screen still works without a base map. */
export async function fetchConfig(): Promise<DashboardConfig> {
  try {
    const body = await getJson('/api/config');
    if (!isRecord(body)) return { tileUrl: null, tileAttribution: null };
    return {
      tileUrl: typeof body.tileUrl === 'string' && body.tileUrl !== '' ? body.tileUrl : null,
      tileAttribution: typeof body.tileAttribution === 'string' ? body.tileAttribution : null,
    };
  } catch {
    return { tileUrl: null, tileAttribution: null };
  }
}
