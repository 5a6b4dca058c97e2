// Message bodies (JT/T 808-2019 §8, 2013 where it differs) against frames from public JT/T 808
// servers' test data; platform messages are checked byte for byte against theirs.
import { describe, expect, it } from 'vitest';
import { gbkDecode, gbkEncode } from '../../../gateways/jt808/jt808-bytes.js';
import { decodeFrame, encodeFrame, type Jt808Frame } from '../../../gateways/jt808/jt808-frame.js';
import {
  MSG,
  decodeAuthentication,
  decodeGeneralReply,
  decodeRegistration,
  decodeText,
  encodeAuthentication,
  encodeGeneralReply,
  encodeRegisterReply,
  encodeRegistration,
  encodeText,
} from '../../../gateways/jt808/jt808-messages.js';
import { fixture, inner } from './jt808-fixtures.js';

const frame = (name: string): Jt808Frame => {
  const r = decodeFrame(inner(name));
  if (!r.ok) throw new Error(r.reason);
  return r.frame;
};

describe('0x0100 registration, Table 8', () => {
  it('2013: province @0, city @2, maker BYTE[5] @4, model BYTE[20] @9, id BYTE[7] @29, colour @36, plate @37 (GBK)', () => {
    const f = frame('0100-2013');
    expect(decodeRegistration(f.body, f.header.version)).toEqual({
      province: 40,
      city: 50,
      manufacturer: '1234',
      model: 'smallchi123',
      terminalId: 'CHI123',
      plateColor: 1,
      plate: '粤A12345',
      layout: 2013,
    });
  });

  it('2011: model BYTE[8] @9, id @17, colour @24, plate @25 (a body shorter than the 2013 fields)', () => {
    const f = frame('0100-2011');
    expect(decodeRegistration(f.body, f.header.version)).toMatchObject({
      model: 'tk12345',
      terminalId: 'CHI123',
      plateColor: 1,
      plate: '粤A12345',
      layout: 2011,
    });
  });

  it('2019: maker BYTE[11] @4, model BYTE[30] @15, id BYTE[30] @45, colour @75, plate @76, from a terminal', () => {
    const f = frame('0100-2019-real-terminal');
    expect(f.header.terminalNo).toBe('00000000022222222222');
    expect(decodeRegistration(f.body, 2019)).toMatchObject({ manufacturer: '000Koike002', plateColor: 2, plate: '粤A12346', layout: 2019 });
  });

  it('the terminal side encodes the 2013 frame byte for byte', () => {
    const body = encodeRegistration(
      { province: 40, city: 50, manufacturer: '1234', model: 'smallchi123', terminalId: 'CHI123', plateColor: 1, plate: '粤A12345' },
      2013,
    );
    expect(encodeFrame({ msgId: MSG.register, version: 2013, terminalNo: '000123456789', seq: 10 }, body)).toEqual(fixture('0100-2013'));
  });
});

describe('0x8100 registration reply, Table 9: serial @0, result @2, auth code STRING @3 on success only', () => {
  it('success with its code, byte for byte', () => {
    const body = encodeRegisterReply({ replySeq: 100, result: 0, authCode: '123456' });
    expect(encodeFrame({ msgId: MSG.registerReply, version: 2013, terminalNo: '012345678900', seq: 10 }, body)).toEqual(
      fixture('8100-2013-ok'),
    );
  });

  it('refusal 4 (no such terminal) carries no code, byte for byte', () => {
    const body = encodeRegisterReply({ replySeq: 100, result: 4, authCode: 'never-sent' });
    expect(encodeFrame({ msgId: MSG.registerReply, version: 2013, terminalNo: '012345678900', seq: 10 }, body)).toEqual(
      fixture('8100-2013-refused'),
    );
  });
});

describe('0x0102 authentication, §8.8', () => {
  it('2013: the code is the whole body', () => {
    const f = frame('0102-2013');
    expect(decodeAuthentication(f.body, 2013)).toEqual({ code: '456121111' });
    expect(
      encodeFrame(
        { msgId: MSG.auth, version: 2013, terminalNo: '012345678900', seq: 12345 },
        encodeAuthentication({ code: '456121111' }, 2013),
      ),
    ).toEqual(fixture('0102-2013'));
  });

  it('2019: length n @0, code @1, IMEI BYTE[15] @1+n, software version BYTE[20] @16+n', () => {
    const body = fixture('0102-2019-body');
    expect(decodeAuthentication(body, 2019)).toEqual({ code: '45612', imei: '1234567890abcde', softwareVersion: 'v2.0.0' });
    expect(encodeAuthentication({ code: '45612', imei: '1234567890abcde', softwareVersion: 'v2.0.0' }, 2019)).toEqual(body);
  });

  it('2019: a body shorter than its fields is a reasoned rejection', () => {
    expect(() => decodeAuthentication(fixture('0102-2019-body').subarray(0, 30), 2019)).toThrow(/short_body: software version/);
  });
});

describe('0x0001 / 0x8001 general replies, §8.1-8.2: serial @0, message id @2, result @4', () => {
  it('reads the terminal reply to a heartbeat', () => {
    const f = frame('0001-2013');
    expect(decodeGeneralReply(f.body)).toEqual({ replySeq: 1000, replyMsgId: 0x0002, result: 0 });
  });

  it('encodes the platform reply to a location, byte for byte', () => {
    const body = encodeGeneralReply({ replySeq: 100, replyMsgId: 0x0200, result: 0 });
    expect(encodeFrame({ msgId: MSG.platformReply, version: 2013, terminalNo: '012345678900', seq: 10 }, body)).toEqual(
      fixture('8001-2013'),
    );
  });
});

describe('0x8300 text, §8.36: flag @0, [2019: text type @1], text STRING (GBK)', () => {
  it('2013, byte for byte', () => {
    const body = encodeText({ flag: 5, text: 'smallchi 518' }, 2013);
    expect(encodeFrame({ msgId: MSG.text, version: 2013, terminalNo: '012345678900', seq: 1 }, body)).toEqual(fixture('8300-2013'));
  });

  it('2019 with Chinese text in GBK, byte for byte', () => {
    const body = encodeText({ flag: 1, textType: 1, text: 'HelloWorld 汉字 GBK 编码' }, 2019);
    expect(encodeFrame({ msgId: MSG.text, version: 2019, protocolVersion: 1, terminalNo: '00000000013912344329', seq: 0 }, body)).toEqual(
      fixture('8300-2019-gbk'),
    );
    expect(decodeText(body, 2019)).toEqual({ flag: 1, textType: 1, text: 'HelloWorld 汉字 GBK 编码' });
  });

  it('cuts a long text to fit one package without splitting a character', () => {
    const long = '请到幸福路12号处理排水沟堵塞。'.repeat(80);
    const body = encodeText({ flag: 4, text: long }, 2013, 1000);
    expect(body.length).toBeLessThanOrEqual(1001);
    const text = decodeText(body, 2013).text;
    expect(text.endsWith('…')).toBe(true);
    expect(long.startsWith(text.slice(0, -1))).toBe(true);
  });
});

describe('GBK', () => {
  it('encodes what the decoder reads, and a character GBK lacks as ?', () => {
    expect(gbkEncode('粤A12345').toString('hex')).toBe('d4c14131323334 35'.replace(' ', ''));
    expect(gbkDecode(gbkEncode('网格员张三 · 幸福社区'))).toBe('网格员张三 · 幸福社区');
    expect(gbkEncode('😀').toString()).toBe('?');
  });
});
