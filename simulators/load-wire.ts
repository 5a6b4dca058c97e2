// What the load generator says on one connection, per protocol (load-generator.ts runs the
// connections, the clock and the counting). Native and OwnTracks are raw MQTT 3.1.1 (mqtt-packet):
// CONNECT, QoS 1 PUBLISH per fix, PUBACK as the acknowledgement. JT/T 808 is raw TCP frames from
// the gateway's own codec: register 0x0100 → 0x8100 with the code, authenticate 0x0102 → 0x8001,
// then a 0x0200 per fix whose 0x8001 with result 0 is the acknowledgement (sent after commit).
import { generate, parser as mqttParser, type Packet } from 'mqtt-packet';
import type { Fix } from '../protocol/schemas.js';
import { deviceTopic } from '../protocol/topics.js';
import { DEFAULT_APP_DEVICE, ownTracksTopic } from '../protocol/owntracks-topics.js';
import { FrameSplitter, decodeFrame, encodeFrame } from '../gateways/jt808/jt808-frame.js';
import { encodeLocation } from '../gateways/jt808/jt808-location.js';
import {
  MSG,
  decodeGeneralReply,
  decodeRegisterReply,
  encodeAuthentication,
  encodeRegistration,
} from '../gateways/jt808/jt808-messages.js';

export const LOAD_PROTOCOLS = ['native', 'owntracks', 'jt808'] as const;
export type LoadProtocol = (typeof LOAD_PROTOCOLS)[number];

export interface LoadDevice {
  id: string;
  /** MQTT password (native, OwnTracks); a JT/T 808 terminal gets its code by registering. */
  secret: string;
  /** JT/T 808: the terminal number the registry holds as protocol_id. */
  terminalNo?: string;
}

/** What the wire reports back to the generator. */
export interface WireEvents {
  /** Connected (and authenticated): fixes may flow. */
  ready(): void;
  /** The platform refused the connection (CONNACK ≠ 0, 0x8100 ≠ 0, auth ≠ 0): counted under `kind`. */
  refused(kind: string): void;
  /** The fix with this id is acknowledged (result 0 / PUBACK); `failed` names a non-zero result. */
  ack(id: number, failed?: string): void;
  protocolError(): void;
}

export interface Wire {
  /** Bytes to write once the TCP connection is up. */
  hello(): Buffer;
  /** Feeds received bytes; may answer through `write` (the JT/T 808 handshake). */
  data(chunk: Buffer, write: (b: Buffer) => void): void;
  /** One fix: the bytes and the id its acknowledgement will carry. */
  fix(fix: Fix): { bytes: Buffer; id: number };
  /** A goodbye that suppresses any will / records the terminal offline; null to just close. */
  goodbye(): Buffer | null;
}

export interface WireOptions {
  device: LoadDevice;
  topicRoot: string;
  rateHz: number;
}

/** Whether the protocol dates a fix to the whole second (the generator then sends on second slots). */
export const wholeSeconds = (p: LoadProtocol): boolean => p !== 'native';

export function createWire(protocol: LoadProtocol, o: WireOptions, on: WireEvents): Wire {
  return protocol === 'jt808' ? jt808Wire(o, on) : mqttWire(protocol, o, on);
}

function mqttWire(protocol: 'native' | 'owntracks', o: WireOptions, on: WireEvents): Wire {
  const { id, secret } = o.device;
  const topic = protocol === 'native' ? deviceTopic(o.topicRoot, id, 'location') : ownTracksTopic(id, DEFAULT_APP_DEVICE);
  const tid = id.slice(-2);
  const parser = mqttParser({ protocolVersion: 4 });
  let nextMid = 1;
  parser.on('packet', (packet: Packet) => {
    if (packet.cmd === 'connack') {
      if (packet.returnCode === 0) on.ready();
      else on.refused(`connack-${packet.returnCode ?? '?'}`);
    } else if (packet.cmd === 'puback' && packet.messageId !== undefined) on.ack(packet.messageId);
  });
  parser.on('error', () => on.protocolError());
  return {
    hello: () =>
      generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clientId: id,
        clean: true,
        keepalive: Math.max(60, Math.ceil(3 / o.rateHz)),
        username: id,
        password: Buffer.from(secret),
      }),
    data: (chunk) => {
      parser.parse(chunk);
    },
    fix: (fix) => {
      const messageId = nextMid;
      nextMid = nextMid === 65535 ? 1 : nextMid + 1;
      // OwnTracks: the app's location JSON (whole seconds); native: the contract's fix as it is.
      const body =
        protocol === 'native'
          ? fix
          : { _type: 'location', tid, lat: fix.lat, lon: fix.lon, tst: Math.floor(Number(fix.ts) / 1000), acc: fix.acc, conn: 'm' };
      return {
        bytes: generate({
          cmd: 'publish',
          topic,
          payload: Buffer.from(JSON.stringify(body)),
          qos: 1,
          messageId,
          retain: false,
          dup: false,
        }),
        id: messageId,
      };
    },
    goodbye: () => generate({ cmd: 'disconnect' }),
  };
}

function jt808Wire(o: WireOptions, on: WireEvents): Wire {
  const terminalNo = o.device.terminalNo;
  if (!terminalNo) throw new Error(`load device ${o.device.id} has no JT/T 808 terminal number`);
  // The 2013 edition (12-byte header): what most terminals in the field still speak.
  const version = 2013 as const;
  const splitter = new FrameSplitter();
  let seq = 0;
  let authSeq = -1;
  let ready = false;
  const frame = (msgId: number, body: Buffer): { bytes: Buffer; id: number } => {
    const s = seq;
    seq = (seq + 1) & 0xffff;
    return { bytes: encodeFrame({ msgId, version, protocolVersion: null, terminalNo, seq: s }, body), id: s };
  };
  return {
    hello: () =>
      frame(
        MSG.register,
        encodeRegistration(
          { province: 43, city: 200, manufacturer: 'GRID', model: 'LOAD-808', terminalId: terminalNo.slice(-7), plateColor: 0, plate: '' },
          version,
        ),
      ).bytes,
    data: (chunk, write) => {
      for (const escaped of splitter.push(chunk).frames) {
        const d = decodeFrame(escaped);
        if (!d.ok) {
          on.protocolError();
          continue;
        }
        const { header, body } = d.frame;
        if (header.msgId === MSG.registerReply) {
          const r = decodeRegisterReply(body);
          if (r.result !== 0 || !r.authCode) on.refused(`register-${r.result}`);
          else {
            const auth = frame(
              MSG.auth,
              encodeAuthentication({ code: r.authCode, imei: '860000000000001', softwareVersion: 'load-1.0' }, version),
            );
            authSeq = auth.id;
            write(auth.bytes);
          }
        } else if (header.msgId === MSG.platformReply) {
          const r = decodeGeneralReply(body);
          if (!ready && r.replyMsgId === MSG.auth && r.replySeq === authSeq) {
            if (r.result === 0) {
              ready = true;
              on.ready();
            } else on.refused(`auth-${r.result}`);
          } else if (r.replyMsgId === MSG.location) on.ack(r.replySeq, r.result === 0 ? undefined : `result-${r.result}`);
        }
      }
    },
    fix: (fix) =>
      frame(MSG.location, encodeLocation({ lat: fix.lat, lon: fix.lon, ts: Number(fix.ts), altitudeM: 50, speedKmh: 4.5, course: 90 })),
    // 0x0003 logout: the gateway records the terminal offline and closes.
    goodbye: () => frame(MSG.logout, Buffer.alloc(0)).bytes,
  };
}
