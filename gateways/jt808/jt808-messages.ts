// Message bodies other than locations (JT/T 808-2019 §8; 2013 where it differs). Offsets are in the
// body. Strings are GBK; fixed BYTE[n] fields are padded with NUL.
import { ByteReader, ByteWriter, gbkDecode, gbkEncode } from './jt808-bytes.js';
import type { Jt808Version } from './jt808-frame.js';

export const MSG = {
  terminalReply: 0x0001,
  heartbeat: 0x0002,
  logout: 0x0003,
  register: 0x0100,
  auth: 0x0102,
  location: 0x0200,
  batch: 0x0704,
  platformReply: 0x8001,
  registerReply: 0x8100,
  text: 0x8300,
} as const;

/** 0x8001 result (§8.2): 0 success/confirm, 1 failure, 2 message error, 3 not supported, 4 alarm handled. */
export const REPLY = { ok: 0, failure: 1, messageError: 2, unsupported: 3, alarmConfirmed: 4 } as const;
export type ReplyResult = (typeof REPLY)[keyof typeof REPLY];

/** 0x8100 result (§8.6): 0 success, 1 vehicle registered, 2 no such vehicle, 3 terminal registered, 4 no such terminal. */
export type RegisterResult = 0 | 1 | 2 | 3 | 4;

const text = (b: Buffer): string => gbkDecode(b).trim();

export interface Registration {
  province: number;
  city: number;
  manufacturer: string;
  model: string;
  terminalId: string;
  plateColor: number;
  plate: string;
  /** Which layout the body had: 2011 (model BYTE[8]), 2013 (BYTE[20]) or 2019 (wider fields). */
  layout: 2011 | 2013 | 2019;
}

/**
 * 0x0100 (§8.5, Table 8). 2013: @0 province WORD, @2 city WORD, @4 maker BYTE[5], @9 model BYTE[20],
 * @29 terminal id BYTE[7], @36 plate colour BYTE, @37 plate STRING. 2019: maker BYTE[11] @4, model
 * BYTE[30] @15, id BYTE[30] @45, colour @75, plate @76. 2011 terminals (model BYTE[8]) still exist:
 * without the 2019 flag, a body shorter than the 2013 fields is read as 2011.
 */
export function decodeRegistration(body: Buffer, version: Jt808Version): Registration {
  const r = new ByteReader(body);
  const province = r.u16('province');
  const city = r.u16('city');
  const layout: Registration['layout'] = version === 2019 ? 2019 : body.length >= 37 ? 2013 : 2011;
  const [maker, model, id] = layout === 2019 ? [11, 30, 30] : layout === 2013 ? [5, 20, 7] : [5, 8, 7];
  return {
    province,
    city,
    manufacturer: text(r.bytes(maker, 'manufacturer')),
    model: text(r.bytes(model, 'terminal model')),
    terminalId: text(r.bytes(id, 'terminal id')),
    plateColor: r.u8('plate colour'),
    plate: text(r.rest()),
    layout,
  };
}

export function encodeRegistration(reg: Omit<Registration, 'layout'>, version: Jt808Version): Buffer {
  const [maker, model, id] = version === 2019 ? [11, 30, 30] : [5, 20, 7];
  return new ByteWriter()
    .u16(reg.province)
    .u16(reg.city)
    .fixed(gbkEncode(reg.manufacturer), maker)
    .fixed(gbkEncode(reg.model), model)
    .fixed(gbkEncode(reg.terminalId), id)
    .u8(reg.plateColor)
    .bytes(gbkEncode(reg.plate))
    .done();
}

export interface Authentication {
  code: string;
  imei?: string;
  softwareVersion?: string;
}

/** 0x0102 (§8.8). 2013: the code is the whole body. 2019: @0 length n, @1 code, @1+n IMEI BYTE[15], @16+n version BYTE[20]. */
export function decodeAuthentication(body: Buffer, version: Jt808Version): Authentication {
  if (version === 2013) return { code: gbkDecode(body) };
  const r = new ByteReader(body);
  const n = r.u8('auth code length');
  return {
    code: gbkDecode(r.bytes(n, 'auth code')),
    imei: text(r.bytes(15, 'IMEI')),
    softwareVersion: text(r.bytes(20, 'software version')),
  };
}

export function encodeAuthentication(a: Authentication, version: Jt808Version): Buffer {
  const code = gbkEncode(a.code);
  if (version === 2013) return code;
  return new ByteWriter()
    .u8(code.length)
    .bytes(code)
    .fixed(Buffer.from(a.imei ?? ''), 15)
    .fixed(Buffer.from(a.softwareVersion ?? ''), 20)
    .done();
}

export interface GeneralReply {
  replySeq: number;
  replyMsgId: number;
  result: number;
}

/** 0x0001 terminal reply and 0x8001 platform reply share one body (§8.1, §8.2): @0 seq, @2 msg id, @4 result. */
export function decodeGeneralReply(body: Buffer): GeneralReply {
  const r = new ByteReader(body);
  return { replySeq: r.u16('reply serial number'), replyMsgId: r.u16('reply message id'), result: r.u8('result') };
}

export function encodeGeneralReply(g: GeneralReply): Buffer {
  return new ByteWriter().u16(g.replySeq).u16(g.replyMsgId).u8(g.result).done();
}

export interface RegisterReply {
  replySeq: number;
  result: RegisterResult;
  authCode?: string;
}

/** 0x8100 (§8.6): @0 reply serial number WORD, @2 result BYTE, @3 auth code STRING (only on success). */
export function encodeRegisterReply(r: RegisterReply): Buffer {
  const w = new ByteWriter().u16(r.replySeq).u8(r.result);
  if (r.result === 0 && r.authCode) w.bytes(gbkEncode(r.authCode));
  return w.done();
}

export function decodeRegisterReply(body: Buffer): RegisterReply {
  const r = new ByteReader(body);
  const replySeq = r.u16('reply serial number');
  const result = r.u8('result') as RegisterResult;
  return result === 0 ? { replySeq, result, authCode: gbkDecode(r.rest()) } : { replySeq, result };
}

export interface TextMessage {
  /** §8.36 flag bits: 0 urgent (2013), 2 show on the terminal display, 3 read aloud (TTS). */
  flag: number;
  /** 2019 only: 1 notice, 2 service. */
  textType?: number;
  text: string;
}

export const TEXT_FLAG = { urgent: 0x01, display: 0x04, tts: 0x08 } as const;

/** 0x8300 (§8.36): @0 flag BYTE, [2019: @1 text type BYTE], then the text STRING. */
export function encodeText(t: TextMessage, version: Jt808Version, maxBytes = 1000): Buffer {
  const w = new ByteWriter().u8(t.flag);
  if (version === 2019) w.u8(t.textType ?? 1);
  return w.bytes(truncateGbk(t.text, maxBytes)).done();
}

export function decodeText(body: Buffer, version: Jt808Version): TextMessage {
  const r = new ByteReader(body);
  const flag = r.u8('flag');
  const textType = version === 2019 ? r.u8('text type') : undefined;
  return { flag, ...(textType === undefined ? {} : { textType }), text: gbkDecode(r.rest()) };
}

/** GBK bytes of at most `max`, never cutting a character in half. */
function truncateGbk(s: string, max: number): Buffer {
  let out = gbkEncode(s);
  if (out.length <= max) return out;
  let chars = [...s];
  while (out.length > max && chars.length > 0) {
    chars = chars.slice(0, Math.max(0, chars.length - Math.ceil((out.length - max) / 2)));
    out = gbkEncode(`${chars.join('')}…`);
  }
  return out.length <= max ? out : Buffer.alloc(0);
}
