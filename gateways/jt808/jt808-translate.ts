// JT/T 808 → the native wire contract (protocol/schemas.ts): a location becomes a fix, alarm flags
// become `handset.*` events, connections become presence. Pure functions of their input; the
// gateway validates the result against the contract before it submits it.
import type { AlertPayload } from '../../protocol/schemas.js';
import type { Jt808Location } from './jt808-location.js';
import { STATUS_POSITIONED } from './jt808-location.js';

/**
 * Alarm flag bits (JT/T 808-2019 Table 24, the same bits in 2013) that mean something for a worker's
 * terminal. The others (fatigue driving, route deviation, …) are vehicle alarms: they stay in the
 * fix as `alarmFlags` and raise nothing.
 */
export const ALARM_EVENTS: readonly { bit: number; type: string; severity: NonNullable<AlertPayload['severity']>; why: string }[] = [
  { bit: 0, type: 'handset.sos', severity: 'critical', why: '紧急报警: the alarm button; cleared by the terminal after the reply' },
  { bit: 4, type: 'handset.gnss_fault', severity: 'medium', why: 'GNSS 模块发生故障' },
  { bit: 5, type: 'handset.tamper', severity: 'high', why: 'GNSS 天线未接或被剪断: the antenna cut or pulled' },
  { bit: 6, type: 'handset.gnss_fault', severity: 'medium', why: 'GNSS 天线短路' },
  { bit: 7, type: 'handset.low_battery', severity: 'medium', why: '终端主电源欠压' },
  { bit: 8, type: 'handset.power_cut', severity: 'high', why: '终端主电源掉电' },
];

/** Vendor additional items that carry the battery in percent. 0xFB: GPS51 (percent BYTE, volts WORD 0.01 V, charging BYTE). */
export type BatteryReader = (data: Buffer) => number | null;
export const DEFAULT_BATTERY_ITEMS: Readonly<Record<number, BatteryReader>> = Object.freeze({
  0xfb: (d: Buffer) => (d.length >= 1 && d[0]! <= 100 ? d[0]! : null),
});

/** A fix of the wire contract with the JT/T 808 extras kept beside it (fields may be added, §3). */
export interface Jt808Fix {
  ts: number;
  lat: number;
  lon: number;
  crs: 'wgs84';
  alt?: number;
  /** m/s, as the native handsets send it; the terminal's km/h is kept in speedKmh. */
  speed: number;
  speedKmh: number;
  heading: number;
  battery?: number;
  mileageKm?: number;
  satellites?: number;
  signal?: number;
  alarmFlags?: number;
  statusFlags: number;
  /** A blind-area supplement (0x0704 type 1): stored and forwarded by the terminal, not live. */
  late?: true;
}

export type FixOutcome = { fix: Jt808Fix } | { skip: string };

/**
 * JT/T 808 reports WGS-84 (§8.18: 纬度/经度 "以度为单位", from the GNSS module, no datum shift), so
 * the fix says so. A report without a position (status bit 1 clear), at 0°/0°, or with a time that
 * is not a time becomes no fix; its alarms still count.
 */
export function toFix(
  loc: Jt808Location,
  opts: { late?: boolean; batteryItems?: Readonly<Record<number, BatteryReader>> } = {},
): FixOutcome {
  if ((loc.status & STATUS_POSITIONED) === 0) return { skip: 'unpositioned' };
  if (loc.lat === 0 && loc.lon === 0) return { skip: 'unpositioned: 0°/0°' };
  if (loc.ts === null) return { skip: loc.timeError ?? 'bad_time' };
  if (Math.abs(loc.lat) > 90 || Math.abs(loc.lon) > 180) return { skip: `bad_position: ${loc.lat}, ${loc.lon}` };
  const fix: Jt808Fix = {
    ts: loc.ts,
    lat: loc.lat,
    lon: loc.lon,
    crs: 'wgs84',
    speed: Math.round((loc.speedKmh / 3.6) * 100) / 100,
    speedKmh: loc.speedKmh,
    heading: loc.course % 360,
    statusFlags: loc.status,
  };
  // The contract bounds altitude to -1000..20000 m; a wild value is dropped, not the fix.
  if (loc.altitudeM >= -1000 && loc.altitudeM <= 20000) fix.alt = loc.altitudeM;
  if (loc.mileageKm !== undefined) fix.mileageKm = loc.mileageKm;
  if (loc.satellites !== undefined) fix.satellites = loc.satellites;
  if (loc.signal !== undefined) fix.signal = loc.signal;
  if (loc.alarm !== 0) fix.alarmFlags = loc.alarm;
  const readers = opts.batteryItems ?? DEFAULT_BATTERY_ITEMS;
  for (const item of loc.items) {
    const read = readers[item.id];
    const battery = read ? read(item.data) : null;
    if (battery !== null) fix.battery = battery;
  }
  if (opts.late) fix.late = true;
  return { fix };
}

export interface AlarmEvent {
  ts: number;
  type: string;
  eventId: string;
  severity: NonNullable<AlertPayload['severity']>;
  data: Record<string, unknown>;
}

/**
 * Events for the alarm bits that rose since `prevFlags` (terminals keep a bit set while the
 * condition lasts: one event per onset, not one per report). The eventId is the type and the fix
 * time, so a frame sent twice (no reply reached the terminal) is the same event, stored once.
 * `fallbackTs` dates an alarm whose report has no valid time: it is raised all the same.
 */
export function alarmEvents(prevFlags: number, loc: Jt808Location, fallbackTs: number): AlarmEvent[] {
  const rose = (loc.alarm & ~prevFlags) >>> 0;
  if (rose === 0) return [];
  const ts = loc.ts ?? Math.floor(fallbackTs / 1000) * 1000;
  const positioned = (loc.status & STATUS_POSITIONED) !== 0 && !(loc.lat === 0 && loc.lon === 0);
  const out: AlarmEvent[] = [];
  const seen = new Set<string>();
  for (const a of ALARM_EVENTS) {
    if ((rose & (1 << a.bit)) === 0 || seen.has(a.type)) continue;
    seen.add(a.type);
    const data: Record<string, unknown> = { source: 'jt808', alarmFlags: loc.alarm, statusFlags: loc.status };
    // Where it happened: the report's own position (dispatch puts an SOS there).
    if (positioned) Object.assign(data, { lat: loc.lat, lon: loc.lon, crs: 'wgs84' });
    out.push({ ts, type: a.type, eventId: `jt808:${a.type}:${ts}`, severity: a.severity, data });
  }
  return out;
}

/** The fixes as location payloads of at most `maxFixes` each (one fix alone, or `{fixes}`). */
export function locationPayloads(fixes: Jt808Fix[], maxFixes = 500): unknown[] {
  if (fixes.length === 1) return [fixes[0]];
  const out: unknown[] = [];
  for (let i = 0; i < fixes.length; i += maxFixes) out.push({ fixes: fixes.slice(i, i + maxFixes) });
  return out;
}
