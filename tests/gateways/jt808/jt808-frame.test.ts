// Framing and the message header (JT/T 808-2019 §4.4; 2013 where it differs), against frames from
// public JT/T 808 servers' test data (fixtures/, each file names its source).
import { describe, expect, it } from 'vitest';
import {
  FrameSplitter,
  MAX_ESCAPED_FRAME_BYTES,
  checkCode,
  decodeFrame,
  encodeFrame,
  encodeSplit,
  escape,
  terminalKey,
  unescape,
} from '../../../gateways/jt808/jt808-frame.js';
import { fixture, inner } from './jt808-fixtures.js';

const ok = (b: Buffer) => {
  const r = decodeFrame(b);
  if (!r.ok) throw new Error(`rejected: ${r.reason}`);
  return r.frame;
};
const reason = (b: Buffer) => {
  const r = decodeFrame(b);
  if (r.ok) throw new Error('accepted');
  return r.reason;
};

describe('§4.4.1 escapes: 0x7E ↔ 0x7D 0x02, 0x7D ↔ 0x7D 0x01', () => {
  it('undoes both escapes of a real frame (serial number 0x007E, item value 0x007D)', () => {
    const f = ok(inner('0200-2013-escapes'));
    expect(f.header.seq).toBe(0x7e);
    expect(f.body.subarray(-2).toString('hex')).toBe('007d');
  });

  it('reads a check code that is itself 0x7E, sent as 7D 02', () => {
    const f = ok(inner('0002-2013-check-code-7e'));
    expect(f.header).toMatchObject({ msgId: 0x0002, terminalNo: '040021679287', seq: 43, bodyLength: 0 });
  });

  it('round-trips every byte value through escape/unescape', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(escape(all).includes(0x7e)).toBe(false);
    expect(unescape(escape(all))).toEqual(all);
  });

  it('rejects 0x7D followed by anything but 01/02, with the offset', () => {
    const good = inner('0003-2013');
    const bad = Buffer.concat([good.subarray(0, 4), Buffer.from([0x7d, 0x03]), good.subarray(4)]);
    expect(reason(bad)).toMatch(/^bad_escape: 0x7D followed by 0x03 at offset 4/);
  });
});

describe('§4.4.4 check code: XOR from the header to the end of the body', () => {
  it('accepts the real frames whose code is right', () => {
    for (const name of ['0001-2013', '0002-2019', '0003-2013', '0100-2013', '0102-2013', '0200-2019-real-terminal', '0704-2019-normal']) {
      expect(decodeFrame(inner(name)).ok, name).toBe(true);
    }
  });

  it('rejects a wrong check code with both values, and still reads the header to answer it', () => {
    const b = Buffer.from(inner('0200-2013-real-terminal'));
    b[20] ^= 0x01; // one bit of the alarm flags flipped in transit
    const r = decodeFrame(b);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toMatch(/^bad_checksum: check code 0x97, the bytes XOR to 0x96$/);
    expect(r.header).toMatchObject({ msgId: 0x0200, terminalNo: '040021682087' });
  });

  it('rejects a real blind-area capture that lost bytes on the way (its check code no longer matches)', () => {
    expect(reason(inner('0704-2013-blind-area-real'))).toMatch(/^bad_checksum/);
  });
});

describe('§4.4.3 Table 2: the 2013 header (12 bytes) and the 2019 header (17 bytes)', () => {
  it('2013: msgId @0, attribute @2, BCD[6] terminal @4, serial @10', () => {
    const f = ok(inner('0102-2013'));
    expect(f.header).toEqual({
      msgId: 0x0102,
      bodyLength: 9,
      encryption: 0,
      split: null,
      version: 2013,
      protocolVersion: null,
      terminalNo: '012345678900',
      seq: 12345,
    });
  });

  it('2019: attribute bit 14, version byte @4, BCD[10] terminal @5, serial @15', () => {
    const f = ok(inner('0200-2019-real-terminal'));
    expect(f.header).toMatchObject({
      msgId: 0x0200,
      version: 2019,
      protocolVersion: 1,
      terminalNo: '00000000013419905507',
      seq: 0x0212,
      bodyLength: 66,
    });
    expect(terminalKey(f.header.terminalNo)).toBe('13419905507');
  });

  it('one terminal number, one key, whatever the edition: leading zeros dropped', () => {
    expect(terminalKey('013800138000')).toBe('13800138000');
    expect(terminalKey('00000000013800138000')).toBe('13800138000');
    expect(terminalKey('000000000000')).toBe('0');
  });

  it('reads a 2013 terminal that sets the reserved bit 14 as 2013, when only that reading fits the frame', () => {
    const f = ok(inner('0200-2019-flag-on-2013-header'));
    expect(f.header).toMatchObject({ version: 2013, terminalNo: '010030000681', bodyLength: 108 });
  });

  it('Fig. 2 bits 0-9: a body longer or shorter than the attribute says is rejected', () => {
    // A frame edited by hand upstream: an item appended, the attribute left at 47 (check code redone).
    expect(reason(inner('0200-2013-gps51-battery'))).toBe('body_length: the attribute says 47 bytes, the frame holds 53');
  });

  it('Fig. 2 bits 10-12: an RSA-encrypted body is refused, not misread', () => {
    const raw = encodeFrame({ msgId: 0x0200, version: 2013, terminalNo: '13800138000', seq: 1 }, Buffer.alloc(28));
    const b = unescape(raw.subarray(1, raw.length - 1));
    b[2] |= 0x04; // bit 10
    b[b.length - 1] = checkCode(b, b.length - 1);
    expect(reason(escape(b))).toMatch(/^encrypted/);
  });

  it('rejects frames too short to hold a header, and a non-BCD terminal number', () => {
    expect(reason(Buffer.from('0002000001', 'hex'))).toMatch(/^too_short/);
    const raw = encodeFrame({ msgId: 2, version: 2013, terminalNo: '1', seq: 1 });
    const b = unescape(raw.subarray(1, raw.length - 1));
    b[4] = 0xab;
    b[b.length - 1] = checkCode(b, b.length - 1);
    expect(reason(escape(b))).toMatch(/^bad_bcd/);
  });

  it('encodes what it decodes, in both editions, split item included', () => {
    for (const version of [2013, 2019] as const) {
      const body = Buffer.from('7e7d00ff', 'hex');
      const frame = encodeFrame({ msgId: 0x0704, version, terminalNo: '13800138000', seq: 65535, split: { total: 3, index: 2 } }, body);
      const f = ok(frame.subarray(1, frame.length - 1));
      expect(f.header).toMatchObject({ msgId: 0x0704, version, seq: 65535, split: { total: 3, index: 2 }, bodyLength: 4 });
      expect(f.body).toEqual(body);
    }
  });

  it('a split item with index 0 or beyond the total is rejected', () => {
    const raw = encodeFrame({ msgId: 0x0704, version: 2013, terminalNo: '1', seq: 1, split: { total: 2, index: 1 } }, Buffer.alloc(2));
    const b = unescape(raw.subarray(1, raw.length - 1));
    b.writeUInt16BE(3, 14); // index 3 of 2
    b[b.length - 1] = checkCode(b, b.length - 1);
    expect(reason(escape(b))).toBe('bad_package_item: package 3 of 2');
  });

  it('splits a long body into packages with consecutive serial numbers (bit 13)', () => {
    const frames = encodeSplit({ msgId: 0x0704, version: 2019, terminalNo: '13800138000', seq: 65534 }, Buffer.alloc(2500, 1));
    const headers = frames.map((f) => ok(f.subarray(1, f.length - 1)).header);
    expect(headers.map((h) => [h.seq, h.split?.index, h.split?.total, h.bodyLength])).toEqual([
      [65534, 1, 3, 1023],
      [65535, 2, 3, 1023],
      [0, 3, 3, 454],
    ]);
  });
});

describe('FrameSplitter: a TCP stream into frames', () => {
  it('finds frames split across chunks and several in one chunk, and drops bytes outside frames', () => {
    const a = fixture('0002-2013-check-code-7e');
    const b = fixture('0200-2013-escapes');
    const stream = Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n'), a, b, a]);
    const s = new FrameSplitter();
    const frames: Buffer[] = [];
    let garbage = 0;
    for (let i = 0; i < stream.length; i += 7) {
      const out = s.push(stream.subarray(i, i + 7));
      frames.push(...out.frames);
      garbage += out.garbageBytes;
    }
    expect(frames).toEqual([inner('0002-2013-check-code-7e'), inner('0200-2013-escapes'), inner('0002-2013-check-code-7e')]);
    expect(garbage).toBe(16);
  });

  it('resynchronises after a lost start: the 7E 7E between two frames is not an empty frame', () => {
    const b = fixture('0003-2013');
    const s = new FrameSplitter();
    const out = s.push(Buffer.concat([b.subarray(5), b]));
    expect(out.frames).toEqual([inner('0003-2013')]);
  });

  it(`overflows (the caller closes) past the largest legal frame, ${MAX_ESCAPED_FRAME_BYTES} escaped bytes, without buffering more`, () => {
    const s = new FrameSplitter();
    expect(s.push(Buffer.concat([Buffer.from([0x7e]), Buffer.alloc(MAX_ESCAPED_FRAME_BYTES, 1)])).overflow).toBe(false);
    expect(s.push(Buffer.alloc(1, 1)).overflow).toBe(true);
    // After an overflow the splitter waits for the next 0x7E: it holds nothing.
    expect(s.push(fixture('0003-2013')).frames).toEqual([inner('0003-2013')]);
  });
});
