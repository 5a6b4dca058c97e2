// OwnTracks → the native wire contract (protocol/schemas.ts). Pure: a payload in, native messages
// (channel + body, already checked against the contract) or a rejection reason out. The sink
// (owntracks-sink.ts) submits the messages to the hub or dead-letters the original payload.
//
// location   → a fix: tst (epoch s) → ts (ms); vel (km/h) → speed (m/s, the contract's unit, as
//              the native handsets and the JT/T 808 gateway send it); cog → heading; batt → battery;
//              acc, alt as they are; bs, conn, created_at, t kept as extra fields. The apps leave
//              out acc, alt, cog, vac and vel when they are zero (booklet): absent stays unknown,
//              it never becomes 0. Coordinates are WGS-84: both apps report the platform location
//              (CoreLocation, Android's location providers), never GCJ-02.
// lwt        → presence offline, dated when the hub received it (its tst is when the app connected).
// transition → a device event `handset.geofence_enter` / `handset.geofence_leave`, its eventId made
//              of the region and the transition time, so a message sent twice is stored once.
// others     → a rejection naming the `_type` (the sink keeps it as a dead letter).
import { createHash } from 'node:crypto';
import { alertSchema, fixSchema, presenceSchema } from '../../protocol/schemas.js';
import type { UpstreamChannel } from '../../protocol/topics.js';
import { OT_OTHER_TYPES, otLocationSchema, otLwtSchema, otTransitionSchema } from './owntracks-messages.js';

export interface NativeMessage {
  channel: Extract<UpstreamChannel, 'location' | 'presence' | 'events'>;
  body: Record<string, unknown>;
}

export type Translation =
  | { ok: true; type: 'location' | 'lwt' | 'transition'; messages: NativeMessage[] }
  /** `reason` is `label: detail`; the label alone goes on the counter. */
  | { ok: false; type: string | null; reason: string };

// A single fix is checked against the fix schema itself (the location union would only say "invalid input").
const SCHEMA = { location: fixSchema, presence: presenceSchema, events: alertSchema } as const;

function reject(type: string | null, reason: string): Translation {
  return { ok: false, type, reason };
}

/** A number inside [min, max], else undefined: a strange element is dropped, the message kept. */
function num(v: unknown, min: number, max: number): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : undefined;
}

function str(v: unknown, max: number): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined;
}

function put(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

/** The first problem zod found, short enough for a dead letter's reason. */
function firstIssue(err: { issues: { path: PropertyKey[]; message: string }[] }): string {
  const i = err.issues[0];
  return i ? `${i.path.map(String).join('.') || '(payload)'}: ${i.message}`.slice(0, 200) : 'invalid';
}

/** Checks a translated body against the contract, so a bad value is refused here, with the original payload. */
function checked(type: 'location' | 'lwt' | 'transition', messages: NativeMessage[]): Translation {
  for (const m of messages) {
    const r = SCHEMA[m.channel].safeParse(m.body);
    if (!r.success) return reject(type, `owntracks_invalid: ${firstIssue(r.error)}`);
  }
  return { ok: true, type, messages };
}

export function locationFix(l: Record<string, unknown> & { lat: number; lon: number; tst: number }): Record<string, unknown> {
  const fix: Record<string, unknown> = { ts: Math.round(l.tst * 1000), lat: l.lat, lon: l.lon, crs: 'wgs84' };
  put(fix, 'acc', num(l.acc, 0, 100_000));
  // The contract bounds altitude to -1000..20000 m; a wild value is dropped, not the fix.
  put(fix, 'alt', num(l.alt, -1000, 20_000));
  const vel = num(l.vel, 0, 3600); // iOS says -1 for "no speed"
  if (vel !== undefined) {
    fix.speed = Math.round((vel / 3.6) * 100) / 100;
    fix.speedKmh = vel;
  }
  const cog = num(l.cog, 0, 360); // iOS says -1 for "no course"
  if (cog !== undefined) fix.heading = cog % 360;
  put(fix, 'battery', num(l.batt, 0, 100));
  // Extras, as the app sent them: battery status (0 unknown, 1 unplugged, 2 charging, 3 full),
  // connectivity (w wifi, o offline, m mobile), message creation time (epoch s), trigger.
  put(fix, 'bs', num(l.bs, 0, 3));
  put(fix, 'conn', str(l.conn, 8));
  put(fix, 'created_at', num(l.created_at, 0, 1e11));
  put(fix, 't', str(l.t, 8));
  fix.source = 'owntracks';
  return fix;
}

/** eventId: the transition, the region (rid, else its creation time, else a hash of its name) and the time. */
export function transitionEventId(t: {
  event: string;
  tst: number;
  rid?: string | undefined;
  wtst?: number | undefined;
  desc?: string | undefined;
}): string {
  const region =
    t.rid ??
    (t.wtst !== undefined
      ? `w${Math.round(t.wtst)}`
      : t.desc
        ? `d${createHash('sha256').update(t.desc).digest('hex').slice(0, 12)}`
        : 'region');
  return `owntracks:${t.event}:${region.slice(0, 64)}:${Math.round(t.tst)}`;
}

/** Translates one OwnTracks payload; `receivedAt` (ms) dates a last will. */
export function translateOwnTracks(payload: Buffer, receivedAt: number): Translation {
  if (payload.length === 0) return reject(null, 'owntracks_empty: zero-length payload (the app clearing a retained message)');
  let data: unknown;
  try {
    data = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return reject(null, `owntracks_bad_json: ${(err as Error).message.slice(0, 120)}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return reject(null, 'owntracks_not_object: the payload must be one JSON object');
  const type = (data as { _type?: unknown })._type;
  if (typeof type !== 'string') return reject(null, 'owntracks_no_type: no _type element');

  switch (type) {
    case 'location': {
      const r = otLocationSchema.safeParse(data);
      if (!r.success) return reject(type, `owntracks_invalid: ${firstIssue(r.error)}`);
      return checked(type, [{ channel: 'location', body: locationFix(r.data) }]);
    }
    case 'lwt': {
      const r = otLwtSchema.safeParse(data);
      if (!r.success) return reject(type, `owntracks_invalid: ${firstIssue(r.error)}`);
      const body: Record<string, unknown> = { online: false, ts: receivedAt, source: 'owntracks' };
      if (r.data.tst !== undefined) body.connectedAt = Math.round(r.data.tst * 1000);
      return checked(type, [{ channel: 'presence', body }]);
    }
    case 'transition': {
      const r = otTransitionSchema.safeParse(data);
      if (!r.success) return reject(type, `owntracks_invalid: ${firstIssue(r.error)}`);
      const t = r.data;
      const where: Record<string, unknown> = { source: 'owntracks' };
      put(where, 'region', t.desc);
      put(where, 'rid', t.rid);
      put(where, 'wtst', t.wtst);
      const lat = num(t.lat, -90, 90);
      const lon = num(t.lon, -180, 180);
      // Where it happened, when the app says so (dispatch places a handset's event there).
      if (lat !== undefined && lon !== undefined) Object.assign(where, { lat, lon, crs: 'wgs84' });
      put(where, 'acc', num(t.acc, 0, 100_000));
      put(where, 't', str(t.t, 8));
      const body = {
        ts: Math.round(t.tst * 1000),
        type: `handset.geofence_${t.event}`,
        eventId: transitionEventId(t),
        severity: 'info',
        data: where,
      };
      return checked(type, [{ channel: 'events', body }]);
    }
    default:
      if ((OT_OTHER_TYPES as readonly string[]).includes(type)) {
        const why = type === 'encrypted' ? ' (turn payload encryption off in the app)' : '';
        return reject(type, `owntracks_unsupported_type: ${type}${why}`);
      }
      return reject(type.slice(0, 40), `owntracks_unknown_type: ${type.slice(0, 40)}`);
  }
}
