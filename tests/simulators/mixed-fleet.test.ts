// The demo's mixed fleet (issue 15 §4), without I/O: which handsets speak which protocol, and that
// each transport's payload is what the hub's own gateway reads back into the same fix.
import { describe, expect, it } from 'vitest';
import { toFix } from '../../gateways/jt808/jt808-translate.js';
import { decodeLocation, encodeLocation } from '../../gateways/jt808/jt808-location.js';
import { translateOwnTracks } from '../../gateways/owntracks/owntracks-translate.js';
import { fixSchema, type Fix } from '../../protocol/schemas.js';
import { buildDemoDistrict, DEMO_MIX_EVERY, demoDistrictFromConfig } from '../../simulators/demo-district.js';
import { jt808Edition, jt808Location } from '../../simulators/jt808-transport.js';
import { ownTracksLocation } from '../../simulators/owntracks-transport.js';
import { protocolIdOf } from '../../simulators/seed-district.js';
import { withoutTerminals } from '../../simulators/simulation.js';

const SEED = 20261125;

describe('the demo fleet', () => {
  const mixed = buildDemoDistrict({ seed: SEED, handsets: 40, mixEvery: 6 });
  const plain = buildDemoDistrict({ seed: SEED, handsets: 40 });

  it('has one OwnTracks phone and one JT/T 808 terminal in every six handsets, the same for the same seed', () => {
    for (let start = 0; start + 6 <= mixed.handsets.length; start += 6) {
      const block = mixed.handsets.slice(start, start + 6).map((h) => h.protocol);
      expect(
        block.filter((p) => p === 'owntracks'),
        `block at ${start}`,
      ).toHaveLength(1);
      expect(
        block.filter((p) => p === 'jt808'),
        `block at ${start}`,
      ).toHaveLength(1);
    }
    expect(JSON.stringify(buildDemoDistrict({ seed: SEED, handsets: 40, mixEvery: 6 }))).toBe(JSON.stringify(mixed));
    const other = buildDemoDistrict({ seed: SEED + 1, handsets: 40, mixEvery: 6 });
    expect(other.handsets.map((h) => h.protocol)).not.toEqual(mixed.handsets.map((h) => h.protocol));
  });

  it('is what npm start seeds (demoDistrictFromConfig), and all native without a mix', () => {
    expect(DEMO_MIX_EVERY).toBe(6);
    const started = demoDistrictFromConfig({ SIM_SEED: SEED, SIM_HANDSETS: 12 });
    expect(started.handsets.filter((h) => h.protocol === 'owntracks')).toHaveLength(2);
    expect(started.handsets.filter((h) => h.protocol === 'jt808')).toHaveLength(2);
    expect(plain.handsets.every((h) => h.protocol === 'native' && h.terminalNo === undefined)).toBe(true);
  });

  it('leaves the native handsets as they were; the others report WGS-84 and carry their identity', () => {
    mixed.handsets.forEach((h, i) => {
      const p = plain.handsets[i]!;
      expect({ id: h.id, secret: h.secret, workerId: h.workerId, gridCode: h.gridCode }).toEqual({
        id: p.id,
        secret: p.secret,
        workerId: p.workerId,
        gridCode: p.gridCode,
      });
      if (h.protocol === 'native') expect(h.crs).toBe(p.crs);
      else expect(h.crs).toBe('wgs84');
    });
    const terminals = mixed.handsets.filter((h) => h.protocol === 'jt808');
    expect(new Set(terminals.map((h) => h.terminalNo)).size).toBe(terminals.length);
    for (const h of terminals) {
      expect(h.terminalNo).toMatch(/^139\d{8}$/);
      expect(protocolIdOf(h)).toBe(h.terminalNo);
    }
    // Both editions of the standard are in the demo.
    expect(new Set(terminals.map((h) => jt808Edition(h.terminalNo!)))).toEqual(new Set([2013, 2019]));
    for (const h of mixed.handsets.filter((x) => x.protocol === 'owntracks')) expect(protocolIdOf(h)).toBe(`${h.id}/phone`);
    for (const h of mixed.handsets.filter((x) => x.protocol === 'native')) expect(protocolIdOf(h)).toBeNull();
  });

  it('plays its JT/T 808 terminals as native handsets when the gateway port is not known (JT808_PORT=0)', () => {
    const played = withoutTerminals(mixed);
    expect(played.handsets.filter((h) => h.protocol === 'jt808')).toEqual([]);
    expect(played.handsets.filter((h) => h.protocol === 'owntracks')).toEqual(mixed.handsets.filter((h) => h.protocol === 'owntracks'));
    played.handsets.forEach((h, i) => {
      const m = mixed.handsets[i]!;
      expect({ id: h.id, workerId: h.workerId, gridCode: h.gridCode, crs: h.crs }).toEqual({
        id: m.id,
        workerId: m.workerId,
        gridCode: m.gridCode,
        crs: m.crs,
      });
      if (m.protocol === 'jt808') expect(protocolIdOf(h)).toBeNull();
    });
  });
});

/** Both protocols date a fix to the whole second. */
const SECOND = Date.parse('2026-11-25T02:03:04Z');
const FIX: Fix = {
  ts: Date.parse('2026-11-25T02:03:04.500Z'),
  lat: 27.8712345,
  lon: 113.1234567,
  acc: 6,
  alt: 52,
  speed: 1.39,
  heading: 271,
  battery: 83,
  seq: 7,
};

describe('transports speak the real protocols', () => {
  it('OwnTracks: the app JSON the hub translates back into the fix (whole seconds, km/h)', () => {
    const payload = ownTracksLocation(FIX, '01', FIX.ts as number);
    expect(payload).toMatchObject({
      _type: 'location',
      tid: '01',
      tst: SECOND / 1000,
      acc: 6,
      alt: 52,
      vel: 5,
      cog: 271,
      batt: 83,
      conn: 'm',
    });
    const t = translateOwnTracks(Buffer.from(JSON.stringify(payload)), FIX.ts as number);
    if (!t.ok) throw new Error(t.reason);
    expect(t.messages.map((m) => m.channel)).toEqual(['location']);
    const fix = fixSchema.parse(t.messages[0]!.body) as Record<string, unknown>;
    expect(fix).toMatchObject({ ts: SECOND, lat: FIX.lat, lon: FIX.lon, acc: 6, alt: 52, heading: 271, battery: 83, crs: 'wgs84' });
    expect(fix.speed).toBeCloseTo(1.39, 1);
  });

  it('OwnTracks: elements the app leaves out when zero stay out', () => {
    const payload = ownTracksLocation({ ...FIX, speed: 0, heading: 0, alt: 0 }, '01', FIX.ts as number);
    expect(payload).not.toHaveProperty('vel');
    expect(payload).not.toHaveProperty('cog');
    expect(payload).not.toHaveProperty('alt');
  });

  it('JT/T 808: the 0x0200 body the gateway decodes into the fix, battery from item 0xFB', () => {
    const loc = decodeLocation(encodeLocation(jt808Location(FIX)));
    const out = toFix(loc);
    if (!('fix' in out)) throw new Error(out.skip);
    expect(out.fix).toMatchObject({ ts: SECOND, crs: 'wgs84', alt: 52, heading: 271, battery: 83 });
    expect(out.fix.lat).toBeCloseTo(FIX.lat, 6);
    expect(out.fix.lon).toBeCloseTo(FIX.lon, 6);
    expect(out.fix.speed).toBeCloseTo(1.39, 1);
    expect(loc.satellites).toBeGreaterThanOrEqual(4);
  });
});
