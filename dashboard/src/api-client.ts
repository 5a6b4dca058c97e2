// The two HTTP reads the screen makes at start. The payloads are not in protocol/ yet, so they are
// checked here at runtime (a half-deployed hub must not crash the screen) and typed narrowly.
import type { AuditEntryView, IncidentDetailView, KpiTiles, OfferView } from '../../protocol/http-api.js';
import type { Feature, FeatureCollection, MultiPolygon, Polygon } from 'geojson';
import { LEVELS_TO_GRID, type LevelToGrid } from '../../protocol/region-levels.js';

/** The screen draws the tree down to the grid; units and cells under a grid are dropped (and counted). */
export type RegionLevel = LevelToGrid;

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

/** An HTTP failure with its status, so callers can tell "route not there yet" (404) from the rest. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Called on any 401: the session ended (expired, logged out elsewhere); main shows the login. */
let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

// Same origin: the session rides in its httpOnly cookie, which script never reads.
async function request(method: string, path: string, body?: unknown): Promise<unknown> {
  const init: RequestInit = { method, headers: { accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 401 && !path.startsWith('/api/auth/')) onUnauthorized();
  if (!res.ok) {
    let message = `${method} ${path}: HTTP ${res.status}`;
    try {
      const err = (await res.json()) as { error?: { message?: string } };
      if (typeof err.error?.message === 'string') message = err.error.message;
    } catch {
      // not JSON: keep the status line
    }
    throw new HttpError(res.status, message);
  }
  return res.json();
}

export function getJson(path: string): Promise<unknown> {
  return request('GET', path);
}

export function postJson(path: string, body?: unknown): Promise<unknown> {
  return request('POST', path, body ?? {});
}

/** PATCH, DELETE and the rest (the device registry, src/devices-api.ts). */
export function sendJson(method: 'PATCH' | 'DELETE' | 'PUT', path: string, body?: unknown): Promise<unknown> {
  return request(method, path, body);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
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
    (LEVELS_TO_GRID as readonly unknown[]).includes(p.level)
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

// ---- Session (hub/auth/auth-plugin.ts) -------------------------------------------------------

export interface SessionUser {
  id: string;
  username: string;
  displayName: string;
  role: 'admin' | 'operator' | 'viewer';
  scope: string;
  scopeName: string | null;
  scopeLevel: string | null;
}

export interface Me {
  authRequired: boolean;
  user: SessionUser | null;
}

/** Who we are. A hub without the auth routes (older, or the dev server) means "no login". */
export async function fetchMe(): Promise<Me> {
  try {
    const body = await getJson('/api/auth/me');
    if (!isRecord(body)) return { authRequired: false, user: null };
    return { authRequired: body.authRequired === true, user: isRecord(body.user) ? (body.user as unknown as SessionUser) : null };
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) return { authRequired: false, user: null };
    throw err;
  }
}

export async function login(username: string, password: string): Promise<SessionUser> {
  const body = await postJson('/api/auth/login', { username, password });
  if (!isRecord(body) || !isRecord(body.user)) throw new Error('login: unexpected reply');
  return body.user as unknown as SessionUser;
}

export async function logout(): Promise<void> {
  await postJson('/api/auth/logout');
}

// ---- Trail replay (hub/analytics/trail-query.ts) ---------------------------------------------

export interface TrailStop {
  lat: number;
  lon: number;
  start: number;
  end: number;
  durationS: number;
}

export interface DayTrail {
  /** [lat, lon, epoch ms, outside own grid] per kept vertex, in time order. */
  points: Array<{ lat: number; lon: number; ts: number; outside: boolean }>;
  stops: TrailStop[];
  fixes: number;
  distanceM: number;
}

export async function fetchTrail(workerId: string, from: Date, to: Date, maxPoints = 3000): Promise<DayTrail> {
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), maxPoints: String(maxPoints) });
  const body = await getJson(`/api/workers/${encodeURIComponent(workerId)}/trail?${q}`);
  const out: DayTrail = { points: [], stops: [], fixes: 0, distanceM: 0 };
  if (!isRecord(body) || !Array.isArray(body.features)) return out;
  for (const f of body.features as unknown[]) {
    if (!isRecord(f) || !isRecord(f.properties)) continue;
    const p = f.properties;
    const g = isRecord(f.geometry) ? f.geometry : null;
    if (p.kind === 'trail') {
      out.fixes = Number(p.fixes) || 0;
      out.distanceM = Number(p.distanceM) || 0;
      const coords = g && Array.isArray(g.coordinates) ? (g.coordinates as number[][]) : [];
      const times = Array.isArray(p.coordTimes) ? (p.coordTimes as string[]) : [];
      const outside = Array.isArray(p.outsideOwnGrid) ? (p.outsideOwnGrid as boolean[]) : [];
      coords.forEach((c, i) =>
        out.points.push({ lon: c[0] ?? 0, lat: c[1] ?? 0, ts: Date.parse(times[i] ?? ''), outside: outside[i] === true }),
      );
    } else if (p.kind === 'stop' && g && Array.isArray(g.coordinates)) {
      const c = g.coordinates as number[];
      out.stops.push({
        lon: c[0] ?? 0,
        lat: c[1] ?? 0,
        start: Date.parse(String(p.start)),
        end: Date.parse(String(p.end)),
        durationS: Number(p.durationS) || 0,
      });
    }
  }
  return out;
}

// ---- Incidents and alarms (the lead's dispatch routes; contract in the issue-4 brief) ---------

export type { AuditEntryView as AuditEntry, OfferView } from '../../protocol/http-api.js';
export type IncidentDetail = Pick<IncidentDetailView, 'audit' | 'offers'>;

export async function fetchIncidentDetail(id: string): Promise<IncidentDetail> {
  const body = await getJson(`/api/incidents/${encodeURIComponent(id)}`);
  if (!isRecord(body)) return { audit: [], offers: [] };
  return {
    audit: Array.isArray(body.audit) ? (body.audit as AuditEntryView[]) : [],
    offers: Array.isArray(body.offers) ? (body.offers as OfferView[]) : [],
  };
}

export interface Category {
  code: string;
  nameZh: string;
  nameEn: string;
}

export async function fetchCategories(): Promise<Category[]> {
  try {
    const body = await getJson('/api/categories');
    if (!isRecord(body) || !Array.isArray(body.items)) return [];
    return (body.items as unknown[]).filter((c): c is Category => isRecord(c) && typeof c.code === 'string');
  } catch {
    return []; // the route may not be there yet; codes are shown as sent
  }
}

export async function ackAlarm(id: number): Promise<void> {
  await postJson(`/api/alarms/${id}/ack`);
}

// ---- KPI tiles (GET /api/kpis/tiles, another engineer's route) -------------------------------

export type { KpiTiles };

export async function fetchKpis(scope: string | null): Promise<KpiTiles> {
  const q = scope === null ? '' : `?scope=${encodeURIComponent(scope)}`;
  const body = await getJson(`/api/kpis/tiles${q}`);
  if (!isRecord(body)) throw new Error('kpis: unexpected reply');
  // Accept the tiles at the top level or under `tiles`, whichever the route settles on.
  return (isRecord(body.tiles) ? body.tiles : body) as unknown as KpiTiles;
}
