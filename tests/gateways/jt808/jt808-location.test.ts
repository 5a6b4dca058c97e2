// 0x0200 location report and 0x0704 batch upload (JT/T 808-2019 §8.18, §8.49; Tables 23-27)
// against frames captured from terminals and published with the open-source JT/T 808 servers.
import { describe, expect, it } from 'vitest';
import { decodeFrame, unescape, type Jt808Frame } from '../../../gateways/jt808/jt808-frame.js';
import {
  BATCH_BLIND_AREA,
  bcdTimeToEpoch,
  decodeBatch,
  decodeLocation,
  encodeBatch,
  encodeLocation,
} from '../../../gateways/jt808/jt808-location.js';
import { inner } from './jt808-fixtures.js';

const frame = (name: string): Jt808Frame => {
  const r = decodeFrame(inner(name));
  if (!r.ok) throw new Error(r.reason);
  return r.frame;
};
const itemIds = (items: { id: number }[]) => items.map((i) => i.id);

describe('0x0200 basic information, Table 23', () => {
  it('alarm @0, status @4, lat @8 and lon @12 in 1e-6°, altitude @16 m, speed @18 in 0.1 km/h, course @20, time @22 BCD GMT+8', () => {
    const loc = decodeLocation(frame('0200-2013-escapes').body);
    expect(loc).toMatchObject({
      alarm: 1,
      status: 2,
      lat: 12.222222,
      lon: 132.444444,
      altitudeM: 40,
      speedKmh: 6,
      course: 0,
      timeBcd: '181015101010',
    });
    // 2018-10-15 10:10:10 in China is 02:10:10 UTC.
    expect(loc.ts).toBe(Date.UTC(2018, 9, 15, 2, 10, 10));
  });

  it("a terminal's report: 22.76875 N 113.792664 E, 30 m, course 224, 2018-09-16 10:35:37 +08", () => {
    const loc = decodeLocation(frame('0200-2013-real-terminal').body);
    expect(loc).toMatchObject({ alarm: 0, lat: 22.76875, lon: 113.792664, altitudeM: 30, speedKmh: 0, course: 224 });
    expect(new Date(loc.ts!).toISOString()).toBe('2018-09-16T02:35:37.000Z');
  });

  it('Table 25 status bit 2 (south) makes the latitude negative; bit 3 (west) the longitude', () => {
    const loc = decodeLocation(frame('0200-2019-alarms-south').body);
    expect(loc.status & 0b110).toBe(0b110); // positioned, south
    expect(loc.lat).toBe(-31.234567);
    expect(loc.lon).toBe(121.987654);
    const west = decodeLocation(encodeLocation({ lat: 40.7, lon: -74.01, ts: Date.UTC(2026, 0, 1) }));
    expect(west.status & 0b1000).toBe(0b1000);
    expect(west.lon).toBe(-74.01);
  });

  it('2019 frame from a terminal: same body layout, items 0x14/0x15 (JT/T 1078 video alarms) kept raw', () => {
    const loc = decodeLocation(frame('0200-2019-real-terminal').body);
    expect(loc).toMatchObject({ lat: 34.82613, lon: 113.551741, altitudeM: 19, course: 2, mileageKm: 364.6, signal: 69, satellites: 8 });
    expect(new Date(loc.ts!).toISOString()).toBe('2022-07-20T02:39:57.000Z');
    expect(itemIds(loc.items)).toEqual([0x01, 0x02, 0x03, 0x25, 0x30, 0x31, 0x14, 0x15]);
    expect(loc.items.find((i) => i.id === 0x15)?.data.toString('hex')).toBe('0000000c');
  });
});

describe('0x0200 additional items, Tables 26-27: id BYTE, length BYTE, data', () => {
  it('0x01 mileage DWORD in 0.1 km, 0x30 signal BYTE, 0x31 satellites BYTE', () => {
    const loc = decodeLocation(frame('0200-2013-real-terminal').body);
    expect(loc).toMatchObject({ mileageKm: 34726.1, signal: 29, satellites: 13 });
    expect(itemIds(loc.items)).toEqual([0x01, 0x02, 0x03, 0x25, 0x2b, 0x30, 0x31]);
  });

  it('keeps vendor items raw: GPS51 0xFB (battery 95 %, 12.87 V, charging)', () => {
    // The frame's attribute is wrong (see the framing test); its body, as published, is sound.
    const raw = unescape(inner('0200-2013-gps51-battery'));
    const loc = decodeLocation(raw.subarray(12, raw.length - 1));
    expect(loc.items.find((i) => i.id === 0xfb)?.data.toString('hex')).toBe('5f050701');
  });

  it('an item running past the body ends the items with a reason; the basic information stands', () => {
    const body = Buffer.concat([encodeLocation({ lat: 27.87, lon: 113.12, ts: Date.UTC(2026, 10, 25) }), Buffer.from('3004aabb', 'hex')]);
    const loc = decodeLocation(body);
    expect(loc.lat).toBe(27.87);
    expect(loc.itemsError).toBe('item_truncated: item 0x30 says 4 bytes, 2 left');
  });

  it('a body shorter than the 28 bytes of basic information is a reasoned rejection', () => {
    expect(() => decodeLocation(Buffer.alloc(27))).toThrow(/short_body: time needs 6 bytes at offset 22/);
  });
});

describe('time @22: BCD[6] YYMMDDhhmmss in GMT+8', () => {
  it('turns China time into UTC epoch ms', () => {
    expect(bcdTimeToEpoch('261125080000')).toEqual({ ts: Date.UTC(2026, 10, 25, 0, 0, 0) });
    expect(bcdTimeToEpoch('260101000000')).toEqual({ ts: Date.UTC(2025, 11, 31, 16, 0, 0) });
  });

  it('refuses times that are not times (an unfixed receiver sends zeros)', () => {
    expect(bcdTimeToEpoch('000000000000')).toEqual({ error: 'bad_time: 000000000000' });
    expect(bcdTimeToEpoch('260231120000')).toEqual({ error: 'bad_time: 260231120000' });
    expect(bcdTimeToEpoch(null)).toEqual({ error: 'bad_time: not BCD' });
  });

  it('encodes the time it decodes', () => {
    const ts = Date.UTC(2026, 10, 25, 8, 30, 15);
    expect(decodeLocation(encodeLocation({ lat: 1, lon: 1, ts })).ts).toBe(ts);
  });
});

describe('0x0704 batch upload, §8.49: count @0 WORD, type @2 BYTE, then length WORD + 0x0200 body per item', () => {
  it('type 0 (normal), 2013', () => {
    const b = decodeBatch(frame('0704-2013-normal').body);
    expect(b.type).toBe(0);
    expect(b.locations.map((l) => [l.alarm, l.lat, l.lon, l.speedKmh, l.course, l.mileageKm])).toEqual([
      [1, 12.222222, 132.444444, 6, 0, 10],
      [2, 13.333333, 132.555555, 5.4, 120, 9.6],
    ]);
  });

  it('type 0 (normal), 2019', () => {
    const f = frame('0704-2019-normal');
    expect(f.header.version).toBe(2019);
    const b = decodeBatch(f.body);
    expect(b.locations.map((l) => [l.lat, l.lon, l.altitudeM, new Date(l.ts!).toISOString()])).toEqual([
      [31.000562, 121.451372, 666, '2024-10-29T13:39:03.000Z'],
      [31.000563, 121.451373, 777, '2024-10-29T13:39:03.000Z'],
    ]);
  });

  it('type 1 (blind-area supplement): the readable item of a terminal capture, vendor items kept raw', () => {
    // The published capture lost 4 bytes of its second item; the first one is whole.
    const raw = unescape(inner('0704-2013-blind-area-real'));
    const partial = decodeBatch(raw.subarray(12, raw.length - 1));
    expect(partial.type).toBe(BATCH_BLIND_AREA);
    expect(partial.errors).toEqual([{ index: 1, reason: 'short_body: batch item 1 says 233 bytes, 229 left' }]);
    const [first] = partial.locations;
    expect(first).toMatchObject({ lat: 23.417058, lon: 101.61476, altitudeM: 1380, speedKmh: 69, course: 100, mileageKm: 34546.2 });
    expect(itemIds(first!.items)).toEqual([0x01, 0x03, 0xea, 0xec]);
    // Re-framed whole with a second fix, it reads cleanly.
    const whole = decodeBatch(
      encodeBatch(BATCH_BLIND_AREA, [
        encodeLocation({ ...first!, ts: first!.ts!, items: first!.items }),
        encodeLocation({ lat: 23.4, lon: 101.6, ts: first!.ts! + 2000 }),
      ]),
    );
    expect(whole.errors).toEqual([]);
    expect(whole.locations).toHaveLength(2);
    expect(whole.locations[0]!.items).toEqual(first!.items);
  });

  it('bytes after the last item, or an unknown type, are rejected', () => {
    const body = encodeBatch(0, [encodeLocation({ lat: 1, lon: 1, ts: Date.UTC(2026, 0, 1) })]);
    expect(() => decodeBatch(Buffer.concat([body, Buffer.from([0])]))).toThrow(/^body_length: 1 bytes after the last of 1 batch items/);
    const typed = Buffer.from(body);
    typed[2] = 7;
    expect(() => decodeBatch(typed)).toThrow(/^bad_batch_type: 7/);
  });
});
