// JT/T 808 framing: 0x7E delimiters, the 0x7D escapes, the XOR check code, and the message header of
// the 2013 and 2019 editions. References are to JT/T 808-2019 (2013 where it differs):
//   §4.4.1  identifier 0x7E; 0x7E ↔ 0x7D 0x02, 0x7D ↔ 0x7D 0x01 (escape after the check code is made)
//   §4.4.3  header, Table 2: msgId WORD @0, attribute WORD @2, [2019: version BYTE @4],
//           terminal BCD[6] @4 (2013) / BCD[10] @5 (2019), seq WORD @10 / @15, package item @12 / @17
//   Fig. 2  attribute: bits 0-9 body length, 10-12 encryption, 13 split, 14 version flag (2019), 15 reserved
//   §4.4.4  check code: XOR of every byte from the header to the end of the body
import { ByteReader, ByteWriter, bcdToDigits, digitsToBcd, Jt808DecodeError } from './jt808-bytes.js';

export const FLAG = 0x7e;
const ESC = 0x7d;

export const MAX_BODY_BYTES = 0x3ff;
/** Longest unescaped frame: 2019 header with a package item (21) + body (1023) + check code. */
export const MAX_RAW_FRAME_BYTES = 21 + MAX_BODY_BYTES + 1;
/** Longest escaped frame between the delimiters (every byte escaped): anything longer is not JT/T 808. */
export const MAX_ESCAPED_FRAME_BYTES = 2 * MAX_RAW_FRAME_BYTES;

export type Jt808Version = 2013 | 2019;

export interface Jt808Header {
  msgId: number;
  bodyLength: number;
  /** Fig. 2 bits 10-12; 0 = plain, bit 10 = RSA. */
  encryption: number;
  split: { total: number; index: number } | null;
  /** 2013 also covers 2011: the same header; only the bodies of 0x0100 differ. */
  version: Jt808Version;
  /** 2019 only: the protocol version byte (1 for the first 2019 edition). */
  protocolVersion: number | null;
  /** The terminal number as sent: 12 digits (2013) or 20 digits (2019). */
  terminalNo: string;
  seq: number;
}

export interface Jt808Frame {
  header: Jt808Header;
  body: Buffer;
}

export type FrameResult = { ok: true; frame: Jt808Frame } | { ok: false; reason: string; header?: Jt808Header };

/**
 * The terminal's identity for lookups: the digits without leading zeros, so a phone number reads
 * the same whether a 2013 terminal sends it in 12 digits or a 2019 one in 20.
 */
export function terminalKey(terminalNo: string): string {
  return terminalNo.replace(/^0+(?=\d)/, '');
}

export function unescape(b: Buffer): Buffer {
  if (b.indexOf(ESC) < 0) return b;
  const out = Buffer.alloc(b.length);
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c !== ESC) {
      out[n++] = c;
      continue;
    }
    const next = b[++i];
    if (next === 0x02) out[n++] = FLAG;
    else if (next === 0x01) out[n++] = ESC;
    else
      throw new Jt808DecodeError(
        `bad_escape: 0x7D followed by ${next === undefined ? 'the end of the frame' : `0x${next.toString(16).padStart(2, '0')}`} at offset ${i - 1}`,
      );
  }
  return out.subarray(0, n);
}

export function escape(b: Buffer): Buffer {
  let extra = 0;
  for (const c of b) if (c === FLAG || c === ESC) extra++;
  if (extra === 0) return b;
  const out = Buffer.alloc(b.length + extra);
  let n = 0;
  for (const c of b) {
    if (c === FLAG) (out[n++] = ESC), (out[n++] = 0x02);
    else if (c === ESC) (out[n++] = ESC), (out[n++] = 0x01);
    else out[n++] = c;
  }
  return out;
}

export function checkCode(b: Buffer, end = b.length): number {
  let x = 0;
  for (let i = 0; i < end; i++) x ^= b[i]!;
  return x;
}

function readHeader(r: ByteReader, layout: Jt808Version): Jt808Header {
  const msgId = r.u16('message id');
  const attr = r.u16('message body attribute');
  const is2019 = layout === 2019;
  const protocolVersion = is2019 ? r.u8('protocol version') : null;
  const raw = r.bytes(is2019 ? 10 : 6, 'terminal number');
  const terminalNo = bcdToDigits(raw);
  if (terminalNo === null) throw new Jt808DecodeError(`bad_bcd: terminal number ${raw.toString('hex')} is not BCD`);
  const seq = r.u16('message serial number');
  let split: Jt808Header['split'] = null;
  if (attr & 0x2000) {
    const total = r.u16('package total');
    const index = r.u16('package index');
    if (total < 1 || index < 1 || index > total) throw new Jt808DecodeError(`bad_package_item: package ${index} of ${total}`);
    split = { total, index };
  }
  return {
    msgId,
    bodyLength: attr & MAX_BODY_BYTES,
    encryption: (attr >> 10) & 0x7,
    split,
    version: layout,
    protocolVersion,
    terminalNo,
    seq,
  };
}

type Parsed = { header: Jt808Header; body: Buffer } | { error: string; header?: Jt808Header };

function parse(raw: Buffer, layout: Jt808Version): Parsed {
  const r = new ByteReader(raw.subarray(0, raw.length - 1));
  let header: Jt808Header;
  try {
    header = readHeader(r, layout);
  } catch (err) {
    if (err instanceof Jt808DecodeError) return { error: err.reason };
    throw err;
  }
  const body = r.rest();
  if (body.length !== header.bodyLength)
    return { error: `body_length: the attribute says ${header.bodyLength} bytes, the frame holds ${body.length}`, header };
  return { header, body };
}

/**
 * One frame, as found between two 0x7E (delimiters not included): unescaped, check code verified,
 * header read, body length checked against the attribute. A rejection names the reason and, when
 * the header could be read, carries it so the caller can answer 0x8001 "message error" (result 2).
 *
 * Some 2013 terminals set attribute bit 14 (reserved in 2013) and still send the 6-byte header
 * (SmallChi/JT808 keeps a "JTT2013Force" mode for them). When the 2019 reading fails and the 2013
 * reading fits the frame exactly (BCD terminal number, body length), the frame is read as 2013.
 */
export function decodeFrame(escaped: Buffer): FrameResult {
  let raw: Buffer;
  try {
    raw = unescape(escaped);
  } catch (err) {
    if (err instanceof Jt808DecodeError) return { ok: false, reason: err.reason };
    throw err;
  }
  if (raw.length < 13) return { ok: false, reason: `too_short: ${raw.length} bytes, a header alone is 12` };
  const flagged2019 = (raw.readUInt16BE(2) & 0x4000) !== 0;
  let p = parse(raw, flagged2019 ? 2019 : 2013);
  if ('error' in p && flagged2019) {
    const as2013 = parse(raw, 2013);
    if (!('error' in as2013)) p = as2013;
  }
  const expected = checkCode(raw, raw.length - 1);
  const got = raw[raw.length - 1]!;
  if (expected !== got)
    return {
      ok: false,
      reason: `bad_checksum: check code 0x${hex2(got)}, the bytes XOR to 0x${hex2(expected)}`,
      ...('header' in p && p.header ? { header: p.header } : {}),
    };
  if ('error' in p) return { ok: false, reason: p.error, ...(p.header ? { header: p.header } : {}) };
  if (p.header.encryption !== 0)
    return { ok: false, reason: `encrypted: encryption bits ${p.header.encryption} (RSA) are not supported`, header: p.header };
  return { ok: true, frame: p };
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

export interface OutgoingHeader {
  msgId: number;
  version: Jt808Version;
  /** 2019 only; default 1. */
  protocolVersion?: number | null;
  terminalNo: string;
  seq: number;
  split?: { total: number; index: number } | null;
}

/** A whole frame, delimiters included, escaped; the body must fit one package (≤ 1023 bytes). */
export function encodeFrame(h: OutgoingHeader, body: Buffer = Buffer.alloc(0)): Buffer {
  if (body.length > MAX_BODY_BYTES) throw new Error(`body of ${body.length} bytes needs split packages (max ${MAX_BODY_BYTES})`);
  const attr = body.length | (h.split ? 0x2000 : 0) | (h.version === 2019 ? 0x4000 : 0);
  const w = new ByteWriter().u16(h.msgId).u16(attr);
  if (h.version === 2019) w.u8(h.protocolVersion ?? 1);
  w.bytes(digitsToBcd(h.terminalNo, h.version === 2019 ? 10 : 6)).u16(h.seq);
  if (h.split) w.u16(h.split.total).u16(h.split.index);
  const raw = w.bytes(body).done();
  const withCheck = Buffer.concat([raw, Buffer.from([checkCode(raw)])]);
  return Buffer.concat([Buffer.from([FLAG]), escape(withCheck), Buffer.from([FLAG])]);
}

/** A long body as split packages (attribute bit 13), with consecutive serial numbers from `seq`. */
export function encodeSplit(h: Omit<OutgoingHeader, 'split'>, body: Buffer, maxBody = MAX_BODY_BYTES): Buffer[] {
  const total = Math.max(1, Math.ceil(body.length / maxBody));
  const frames: Buffer[] = [];
  for (let i = 0; i < total; i++) {
    frames.push(
      encodeFrame({ ...h, seq: (h.seq + i) & 0xffff, split: { total, index: i + 1 } }, body.subarray(i * maxBody, (i + 1) * maxBody)),
    );
  }
  return frames;
}

export type SplitterOutput = { frames: Buffer[]; garbageBytes: number; overflow: boolean };

/**
 * Cuts a TCP byte stream into frames. Bytes outside a frame are counted and dropped; two 0x7E in a
 * row (the end of one frame, the start of the next, after a lost sync) are not an empty frame. A
 * frame longer than `maxFrameBytes` is `overflow`: the caller closes the connection, nothing of it
 * is kept (a peer that never sends the closing 0x7E cannot make us buffer without bound).
 */
export class FrameSplitter {
  private parts: Buffer[] = [];
  private length = 0;
  private inFrame = false;

  constructor(private readonly maxFrameBytes = MAX_ESCAPED_FRAME_BYTES) {}

  push(chunk: Buffer): SplitterOutput {
    const out: SplitterOutput = { frames: [], garbageBytes: 0, overflow: false };
    let pos = 0;
    while (pos < chunk.length) {
      const flag = chunk.indexOf(FLAG, pos);
      if (!this.inFrame) {
        if (flag < 0) {
          out.garbageBytes += chunk.length - pos;
          return out;
        }
        out.garbageBytes += flag - pos;
        this.inFrame = true;
        pos = flag + 1;
        continue;
      }
      const end = flag < 0 ? chunk.length : flag;
      if (end > pos) {
        this.parts.push(chunk.subarray(pos, end));
        this.length += end - pos;
      }
      if (this.length > this.maxFrameBytes) {
        this.reset();
        out.overflow = true;
        return out;
      }
      if (flag < 0) return out;
      pos = flag + 1;
      if (this.length === 0) continue; // 7E 7E: this flag opens the next frame
      out.frames.push(this.parts.length === 1 ? Buffer.from(this.parts[0]!) : Buffer.concat(this.parts, this.length));
      this.reset();
    }
    return out;
  }

  private reset(): void {
    this.parts = [];
    this.length = 0;
    this.inFrame = false;
  }
}
