// Byte-level pieces of JT/T 808: big-endian WORD/DWORD, BCD[n] (8421 code), GBK strings, and a
// bounds-checked reader so a short or lying body becomes a rejection, never a RangeError deep inside.
// JT/T 808-2019 §4.2 (data types) and §4.3 (network byte order).

/** Thrown by the reader on a short body; decoders turn it into a rejection with this reason. */
export class Jt808DecodeError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export class ByteReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length)
      throw new Jt808DecodeError(`short_body: ${what} needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`);
  }
  u8(what = 'BYTE'): number {
    this.need(1, what);
    return this.buf.readUInt8(this.pos++);
  }
  u16(what = 'WORD'): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(what = 'DWORD'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number, what = `BYTE[${n}]`): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  rest(): Buffer {
    const v = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return v;
  }
}

export class ByteWriter {
  private readonly parts: Buffer[] = [];
  u8(v: number): this {
    this.parts.push(Buffer.from([v & 0xff]));
    return this;
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v & 0xffff);
    this.parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  bytes(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  /** A fixed-width field: cut or right-padded with zero bytes (the standard's BYTE[n] strings). */
  fixed(b: Buffer, n: number): this {
    const out = Buffer.alloc(n);
    b.copy(out, 0, 0, Math.min(n, b.length));
    this.parts.push(out);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** BCD[n] → digit string; null if a nibble is not a decimal digit (a corrupt or non-BCD field). */
export function bcdToDigits(b: Buffer): string | null {
  let s = '';
  for (const byte of b) {
    const hi = byte >> 4;
    const lo = byte & 0x0f;
    if (hi > 9 || lo > 9) return null;
    s += String(hi) + String(lo);
  }
  return s;
}

/** Digits → BCD[n], left-padded with zeros; throws on non-digits or too many digits (our bug). */
export function digitsToBcd(digits: string, n: number): Buffer {
  if (!/^\d*$/.test(digits) || digits.length > n * 2) throw new Error(`BCD[${n}] cannot hold "${digits}"`);
  const padded = digits.padStart(n * 2, '0');
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = (Number(padded[2 * i]) << 4) | Number(padded[2 * i + 1]);
  return out;
}

// GBK: Node decodes it natively (WHATWG encoding); it cannot encode it, so the reverse table is built
// once, on first use, from the decoder itself (about 22,000 two-byte codes, a few tens of ms).
const gbkDecoder = new TextDecoder('gbk');
let gbkTable: Map<string, number> | null = null;

function gbkReverse(): Map<string, number> {
  if (gbkTable) return gbkTable;
  const table = new Map<string, number>();
  const pair = Buffer.alloc(2);
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      pair[0] = lead;
      pair[1] = trail;
      const ch = gbkDecoder.decode(pair);
      if (ch.length === 1 && ch !== '\ufffd' && !table.has(ch)) table.set(ch, (lead << 8) | trail);
    }
  }
  gbkTable = table;
  return table;
}

/** GBK bytes → string; stops at the first NUL (STRING fields are NUL-terminated or NUL-padded). */
export function gbkDecode(b: Buffer): string {
  const nul = b.indexOf(0);
  return gbkDecoder.decode(nul >= 0 ? b.subarray(0, nul) : b);
}

/** String → GBK bytes; a character GBK lacks becomes '?' (a terminal's screen could not show it). */
export function gbkEncode(s: string): Buffer {
  const out: number[] = [];
  let table: Map<string, number> | null = null;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      out.push(cp);
      continue;
    }
    table ??= gbkReverse();
    const code = table.get(ch);
    if (code === undefined) out.push(0x3f);
    else out.push(code >> 8, code & 0xff);
  }
  return Buffer.from(out);
}
