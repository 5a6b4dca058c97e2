// The one-scan setup: configuration JSON per mode, the owntracks:///config?inline= link decoding back
// to it, and a QR code that carries exactly that link.
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import {
  QR_OPTIONS,
  defaultTid,
  ownTracksConfigLink,
  ownTracksConfiguration,
  parseOwnTracksConfigLink,
} from '../../../protocol/owntracks-config.js';
import { ownTracksSetup } from '../../../gateways/owntracks/owntracks-qr.js';

// A secret as the registry issues them (24 random bytes, base64url) with the characters that
// base64 of JSON turns into `+`, `/` and `=`.
const SECRET = 'q-8_ZkP0vW3xYt2Lm9Nr4Bs7Dc1Fg6Hh';

describe('configuration', () => {
  it('MQTT mode: mode 0, the broker, id = username = client id, QoS 1, nothing retained, only its cmd topic', () => {
    const c = ownTracksConfiguration({ deviceId: 'ot-zhang', secret: SECRET, mode: 'mqtt', host: 'hub.example.cn', port: 1883 });
    expect(c).toMatchObject({
      _type: 'configuration',
      mode: 0,
      host: 'hub.example.cn',
      port: 1883,
      tls: false,
      auth: true,
      username: 'ot-zhang',
      password: SECRET,
      clientId: 'ot-zhang',
      deviceId: 'phone',
      tid: 'NG',
      monitoring: 2,
      locatorInterval: 30,
      pubTopicBase: 'owntracks/%u/%d',
      pubQos: 1,
      pubRetain: false,
      sub: true,
      subTopic: 'owntracks/ot-zhang/phone/cmd',
      mqttProtocolLevel: 4,
    });
    expect(c).not.toHaveProperty('url');
  });

  it('HTTP mode: mode 3 and the URL, no broker settings', () => {
    const c = ownTracksConfiguration({
      deviceId: 'ot-li',
      secret: SECRET,
      mode: 'http',
      url: 'https://hub.example.cn/api/owntracks',
      appDevice: 'mi8',
      tid: 'LI',
      monitoring: 1,
    });
    expect(c).toMatchObject({
      _type: 'configuration',
      mode: 3,
      url: 'https://hub.example.cn/api/owntracks',
      auth: true,
      username: 'ot-li',
      password: SECRET,
      deviceId: 'mi8',
      tid: 'LI',
      monitoring: 1,
    });
    for (const k of ['host', 'port', 'clientId', 'pubTopicBase']) expect(c).not.toHaveProperty(k);
  });

  it('refuses a setup that cannot work', () => {
    expect(() => ownTracksConfiguration({ deviceId: 'ot-li', secret: SECRET, mode: 'mqtt' })).toThrow(/host and port/);
    expect(() => ownTracksConfiguration({ deviceId: 'ot-li', secret: SECRET, mode: 'http' })).toThrow(/url/);
    expect(() => ownTracksConfiguration({ deviceId: 'ot/li', secret: SECRET, mode: 'mqtt', host: 'h', port: 1 })).toThrow(/device id/);
    expect(() => ownTracksConfiguration({ deviceId: 'ot-li', secret: SECRET, mode: 'mqtt', host: 'h', port: 1, appDevice: 'a/b' })).toThrow(
      /app device/,
    );
  });

  it('tid defaults to the last two letters or digits of the device id', () => {
    expect(defaultTid('hs-0042')).toBe('42');
    expect(defaultTid('ot.zhang')).toBe('NG');
    expect(defaultTid('x')).toBe('X');
  });
});

describe('link and QR code', () => {
  const config = ownTracksConfiguration({
    deviceId: 'ot-zhang',
    secret: SECRET,
    mode: 'mqtt',
    host: '192.168.1.20',
    port: 1883,
    tid: '张',
  });

  it('decodes back to the configuration, standard base64, percent-encoded', () => {
    const link = ownTracksConfigLink(config);
    expect(link.startsWith('owntracks:///config?inline=')).toBe(true);
    expect(parseOwnTracksConfigLink(link)).toEqual(config);
    const value = link.slice('owntracks:///config?inline='.length);
    // Only unreserved characters and escapes survive every scanner; the URL-safe alphabet is refused by the apps.
    expect(value).toMatch(/^[A-Za-z0-9%]+$/);
    expect(decodeURIComponent(value)).toMatch(/^[A-Za-z0-9+/]+=*$/);
    // What `openssl enc -a -A` gives for the same file (booklet, Remote config → URL config).
    expect(decodeURIComponent(value)).toBe(Buffer.from(JSON.stringify(config)).toString('base64'));
  });

  it('draws a QR code that holds exactly the link, small enough for a phone camera', async () => {
    const setup = await ownTracksSetup({ deviceId: 'ot-zhang', secret: SECRET, mode: 'mqtt', host: '192.168.1.20', port: 1883, tid: '张' });
    expect(setup.configuration).toEqual(config);
    expect(parseOwnTracksConfigLink(setup.link)).toEqual(config);
    const qr = QRCode.create(setup.link, QR_OPTIONS);
    const data = qr.segments.map((s) => (s as unknown as { data: Uint8Array | string }).data);
    expect(data.map((d) => (typeof d === 'string' ? d : Buffer.from(d).toString('latin1'))).join('')).toBe(setup.link);
    expect(qr.version).toBeLessThanOrEqual(25);
    // The SVG is that matrix: its viewBox spans the modules plus the margin.
    const size = qr.modules.size + 2 * QR_OPTIONS.margin;
    expect(setup.svg).toContain(`viewBox="0 0 ${size} ${size}"`);
    expect(setup.svg.startsWith('<svg')).toBe(true);
  });
});
