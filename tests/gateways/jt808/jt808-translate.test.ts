// JT/T 808 → the native wire contract: fixes (WGS-84, m/s, extras kept), alarm flags (Table 24) →
// handset.* events once per onset with idempotent ids, batches chunked under the contract's limits.
import { describe, expect, it } from 'vitest';
import { alertSchema, locationSchema } from '../../../protocol/schemas.js';
import { decodeFrame, unescape } from '../../../gateways/jt808/jt808-frame.js';
import { decodeLocation, encodeLocation, type LocationInput } from '../../../gateways/jt808/jt808-location.js';
import { alarmEvents, locationPayloads, toFix, type Jt808Fix } from '../../../gateways/jt808/jt808-translate.js';
import { inner } from './jt808-fixtures.js';

const TS = Date.UTC(2026, 10, 25, 8, 0, 0);
const loc = (over: Partial<LocationInput> = {}) => decodeLocation(encodeLocation({ lat: 27.87, lon: 113.12, ts: TS, ...over }));
const fixOf = (l: ReturnType<typeof decodeLocation>, late = false): Jt808Fix => {
  const out = toFix(l, { late });
  if (!('fix' in out)) throw new Error(out.skip);
  return out.fix;
};

describe('location → fix', () => {
  it("a terminal's report becomes a valid contract fix: WGS-84, speed in m/s, the JT/T 808 extras beside it", () => {
    const r = decodeFrame(inner('0200-2013-real-terminal'));
    if (!r.ok) throw new Error(r.reason);
    const fix = fixOf(decodeLocation(r.frame.body));
    expect(fix).toEqual({
      ts: Date.parse('2018-09-16T02:35:37Z'),
      lat: 22.76875,
      lon: 113.792664,
      crs: 'wgs84',
      alt: 30,
      speed: 0,
      speedKmh: 0,
      heading: 224,
      mileageKm: 34726.1,
      satellites: 13,
      signal: 29,
      statusFlags: 0xc00c2,
    });
    expect(locationSchema.safeParse(fix).success).toBe(true);
  });

  it("a terminal's report with status bit 1 clear (Table 25: not positioned) is no fix, though it carries coordinates", () => {
    const r = decodeFrame(inner('0200-2019-real-terminal'));
    if (!r.ok) throw new Error(r.reason);
    const l = decodeLocation(r.frame.body);
    expect(l.lat).toBe(34.82613); // the last position the receiver had
    expect(toFix(l)).toEqual({ skip: 'unpositioned' });
  });

  it('60 km/h is 16.67 m/s (the unit native handsets use); course 0-359 is the heading', () => {
    expect(fixOf(loc({ speedKmh: 60, course: 359 }))).toMatchObject({ speed: 16.67, speedKmh: 60, heading: 359 });
  });

  it("reads the battery from GPS51's vendor item 0xFB", () => {
    const raw = unescape(inner('0200-2013-gps51-battery'));
    expect(fixOf(decodeLocation(raw.subarray(12, raw.length - 1))).battery).toBe(95);
    expect(fixOf(loc({ items: [{ id: 0xfb, data: Buffer.from([180, 5, 7, 0]) }] })).battery).toBeUndefined();
  });

  it('marks a blind-area fix late', () => {
    expect(fixOf(loc(), true).late).toBe(true);
    expect(fixOf(loc()).late).toBeUndefined();
  });

  it('makes no fix of a report without a position (status bit 1), at 0°/0°, or with no real time', () => {
    expect(toFix(loc({ status: 0 }))).toEqual({ skip: 'unpositioned' });
    expect(toFix(loc({ lat: 0, lon: 0 }))).toEqual({ skip: 'unpositioned: 0°/0°' });
    const body = encodeLocation({ lat: 27.87, lon: 113.12, ts: TS });
    body.fill(0, 22, 28);
    expect(toFix(decodeLocation(body))).toEqual({ skip: 'bad_time: 000000000000' });
  });

  it('drops an altitude the contract cannot hold, not the fix', () => {
    const fix = fixOf(loc({ altitudeM: 30000 }));
    expect(fix.alt).toBeUndefined();
    expect(locationSchema.safeParse(fix).success).toBe(true);
  });

  it("chunks a long batch into {fixes} messages within the contract's limits", () => {
    const fixes = Array.from({ length: 1201 }, (_, i) => fixOf(loc({ ts: TS + i * 1000 }), true));
    const payloads = locationPayloads(fixes, 500);
    expect(payloads.map((p) => (p as { fixes: unknown[] }).fixes.length)).toEqual([500, 500, 201]);
    for (const p of payloads) expect(locationSchema.safeParse(p).success).toBe(true);
    expect(locationPayloads([fixes[0]!])).toEqual([fixes[0]]);
  });
});

describe('alarm flags (Table 24) → handset.* events', () => {
  it("bit 0 emergency → handset.sos, critical, with the report's own position", () => {
    const [sos, ...rest] = alarmEvents(0, loc({ alarm: 1 }), TS + 5000);
    expect(rest).toEqual([]);
    expect(sos).toEqual({
      ts: TS,
      type: 'handset.sos',
      eventId: `jt808:handset.sos:${TS}`,
      severity: 'critical',
      data: { source: 'jt808', alarmFlags: 1, statusFlags: 2, lat: 27.87, lon: 113.12, crs: 'wgs84' },
    });
    expect(alertSchema.safeParse(sos).success).toBe(true);
  });

  it('bits 4/6 GNSS faults, 5 antenna cut (tamper), 7 undervoltage, 8 power cut; vehicle bits raise nothing', () => {
    const bits = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 2) | (1 << 18);
    const types = alarmEvents(0, loc({ alarm: bits }), TS).map((e) => e.type);
    expect(types).toEqual(['handset.gnss_fault', 'handset.tamper', 'handset.low_battery', 'handset.power_cut']);
  });

  it('one event per onset: a bit that stays set raises nothing more; set again after clearing, it does', () => {
    expect(alarmEvents(1 << 7, loc({ alarm: 1 << 7 }), TS)).toEqual([]);
    expect(alarmEvents(0, loc({ alarm: 1 << 7 }), TS)).toHaveLength(1);
    expect(alarmEvents(1 << 7, loc({ alarm: (1 << 7) | 1 }), TS).map((e) => e.type)).toEqual(['handset.sos']);
  });

  it('the same report twice gives the same eventId (stored once); another report time, another event', () => {
    const a = alarmEvents(0, loc({ alarm: 1 }), TS)[0]!;
    const b = alarmEvents(0, loc({ alarm: 1 }), TS + 60_000)[0]!;
    const c = alarmEvents(0, loc({ alarm: 1, ts: TS + 1000 }), TS)[0]!;
    expect(b.eventId).toBe(a.eventId);
    expect(c.eventId).not.toBe(a.eventId);
  });

  it('an SOS without a position or time is raised all the same, dated on arrival, with no place', () => {
    const body = encodeLocation({ lat: 0, lon: 0, ts: TS, alarm: 1, status: 0 });
    body.fill(0, 22, 28);
    const [sos] = alarmEvents(0, decodeLocation(body), TS + 1234);
    expect(sos).toMatchObject({ type: 'handset.sos', ts: TS + 1000 });
    expect(sos!.data.lat).toBeUndefined();
  });
});
