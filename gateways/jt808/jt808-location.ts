// Location report 0x0200 and batch upload 0x0704 (JT/T 808-2019 §8.18, §8.49; the same in 2013).
// Basic information, Table 23 (offsets in the body):
//   @0 alarm flags DWORD (Table 24)   @4 status DWORD (Table 25: bit 1 positioned, 2 south, 3 west)
//   @8 latitude DWORD, 1e-6°          @12 longitude DWORD, 1e-6°
//   @16 altitude WORD, m              @18 speed WORD, 0.1 km/h    @20 course WORD, 0-359, north = 0
//   @22 time BCD[6] YYMMDDhhmmss in GMT+8
//   @28 additional items (Tables 26/27): id BYTE, length BYTE, data — 0x01 mileage DWORD 0.1 km,
//       0x30 signal strength BYTE, 0x31 GNSS satellites BYTE; 0xE1-0xFF are the vendor's own.
// Batch 0x0704: count WORD, type BYTE (0 normal batch, 1 blind-area supplement), then per item a
// length WORD and a 0x0200 body.
import { ByteReader, ByteWriter, Jt808DecodeError, bcdToDigits, digitsToBcd } from './jt808-bytes.js';

export const STATUS_POSITIONED = 1 << 1;
export const STATUS_SOUTH = 1 << 2;
export const STATUS_WEST = 1 << 3;
/** China Standard Time: the standard's clock (§8.18 "时间 … GMT+8"). */
const GMT8_MS = 8 * 3_600_000;

export interface LocationItem {
  id: number;
  data: Buffer;
}

export interface Jt808Location {
  alarm: number;
  status: number;
  /** Degrees, negative when the status says south / west. */
  lat: number;
  lon: number;
  altitudeM: number;
  speedKmh: number;
  course: number;
  /** Fix time, epoch ms UTC; null when the BCD time is not a real time (the reason is in timeError). */
  ts: number | null;
  timeError?: string;
  timeBcd: string;
  /** Every additional item in order, raw: known and unknown alike (nothing is thrown away). */
  items: LocationItem[];
  /** Set when the items run past the body: the basic information still counts. */
  itemsError?: string;
  mileageKm?: number;
  signal?: number;
  satellites?: number;
}

/** BCD YYMMDDhhmmss (GMT+8) → epoch ms UTC, or the reason it is not a time. */
export function bcdTimeToEpoch(digits: string | null): { ts: number } | { error: string } {
  if (digits === null) return { error: 'bad_time: not BCD' };
  const [yy, mo, dd, hh, mi, ss] = [0, 2, 4, 6, 8, 10].map((i) => Number(digits.slice(i, i + 2))) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59) return { error: `bad_time: ${digits}` };
  const local = Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss);
  // Date.UTC rolls 31 Feb over into March; a real time round-trips.
  if (new Date(local).getUTCDate() !== dd) return { error: `bad_time: ${digits}` };
  return { ts: local - GMT8_MS };
}

export function epochToBcdTime(ts: number): Buffer {
  const d = new Date(ts + GMT8_MS);
  const two = (n: number) => String(n).padStart(2, '0');
  return digitsToBcd(
    `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`,
    6,
  );
}

/** Decodes a 0x0200 body (or one item of a 0x0704). Throws Jt808DecodeError on a short body. */
export function decodeLocation(body: Buffer): Jt808Location {
  const r = new ByteReader(body);
  const alarm = r.u32('alarm flags');
  const status = r.u32('status');
  const latE6 = r.u32('latitude');
  const lonE6 = r.u32('longitude');
  // WORD in the standard; read signed so the rare point below sea level is not 65 km up.
  const altitudeM = (r.u16('altitude') << 16) >> 16;
  const speed = r.u16('speed');
  const course = r.u16('course');
  const timeBcd = r.bytes(6, 'time');
  const digits = bcdToDigits(timeBcd);
  const time = bcdTimeToEpoch(digits);
  const loc: Jt808Location = {
    alarm,
    status,
    lat: ((status & STATUS_SOUTH ? -1 : 1) * latE6) / 1e6,
    lon: ((status & STATUS_WEST ? -1 : 1) * lonE6) / 1e6,
    altitudeM,
    speedKmh: speed / 10,
    course,
    ts: 'ts' in time ? time.ts : null,
    timeBcd: digits ?? timeBcd.toString('hex'),
    items: [],
  };
  if ('error' in time) loc.timeError = time.error;
  while (r.remaining > 0) {
    if (r.remaining < 2) {
      loc.itemsError = `item_truncated: ${r.remaining} byte left at offset ${r.offset}`;
      break;
    }
    const id = r.u8();
    const len = r.u8();
    if (len > r.remaining) {
      loc.itemsError = `item_truncated: item 0x${id.toString(16)} says ${len} bytes, ${r.remaining} left`;
      break;
    }
    const data = Buffer.from(r.bytes(len));
    loc.items.push({ id, data });
    if (id === 0x01 && len === 4) loc.mileageKm = data.readUInt32BE(0) / 10;
    else if (id === 0x30 && len === 1) loc.signal = data[0];
    else if (id === 0x31 && len === 1) loc.satellites = data[0];
  }
  return loc;
}

export interface LocationInput {
  alarm?: number;
  status?: number;
  lat: number;
  lon: number;
  altitudeM?: number;
  speedKmh?: number;
  course?: number;
  ts: number;
  items?: LocationItem[];
}

/** Encodes a 0x0200 body; the south/west bits follow the signs (terminals and tests use it). */
export function encodeLocation(l: LocationInput): Buffer {
  let status = (l.status ?? STATUS_POSITIONED) & ~(STATUS_SOUTH | STATUS_WEST);
  if (l.lat < 0) status |= STATUS_SOUTH;
  if (l.lon < 0) status |= STATUS_WEST;
  const w = new ByteWriter()
    .u32(l.alarm ?? 0)
    .u32(status)
    .u32(Math.round(Math.abs(l.lat) * 1e6))
    .u32(Math.round(Math.abs(l.lon) * 1e6))
    .u16(Math.round(l.altitudeM ?? 0))
    .u16(Math.round((l.speedKmh ?? 0) * 10))
    .u16(Math.round(l.course ?? 0))
    .bytes(epochToBcdTime(l.ts));
  for (const it of l.items ?? []) w.u8(it.id).u8(it.data.length).bytes(it.data);
  return w.done();
}

export const BATCH_NORMAL = 0;
export const BATCH_BLIND_AREA = 1;

export interface Jt808Batch {
  type: number;
  locations: Jt808Location[];
  /** Items that could not be read, by index, with the reason (the gateway refuses such a batch whole). */
  errors: { index: number; reason: string }[];
}

export function decodeBatch(body: Buffer): Jt808Batch {
  const r = new ByteReader(body);
  const count = r.u16('item count');
  const type = r.u8('location data type');
  if (type !== BATCH_NORMAL && type !== BATCH_BLIND_AREA) throw new Jt808DecodeError(`bad_batch_type: ${type}`);
  const batch: Jt808Batch = { type, locations: [], errors: [] };
  for (let i = 0; i < count; i++) {
    // A truncated item ends the reading; the items before it are kept and the caller decides.
    if (r.remaining < 2) {
      batch.errors.push({ index: i, reason: `short_body: batch says ${count} items, found ${i}` });
      return batch;
    }
    const len = r.u16('item length');
    if (len > r.remaining) {
      batch.errors.push({ index: i, reason: `short_body: batch item ${i} says ${len} bytes, ${r.remaining} left` });
      return batch;
    }
    try {
      batch.locations.push(decodeLocation(r.bytes(len)));
    } catch (err) {
      if (!(err instanceof Jt808DecodeError)) throw err;
      batch.errors.push({ index: i, reason: err.reason });
    }
  }
  if (r.remaining > 0) throw new Jt808DecodeError(`body_length: ${r.remaining} bytes after the last of ${count} batch items`);
  return batch;
}

export function encodeBatch(type: number, bodies: Buffer[]): Buffer {
  const w = new ByteWriter().u16(bodies.length).u8(type);
  for (const b of bodies) w.u16(b.length).bytes(b);
  return w.done();
}
