// One-scan setup of an OwnTracks phone: the app's configuration (`_type: configuration`, booklet
// "JSON" page) for one device of our registry, the remote-configuration link
// `owntracks:///config?inline=<base64 of the JSON>` (booklet "Remote config" → URL config; Android
// 2.3.0 and later, iOS), and a QR code of that link as SVG. Scanning it with the phone's camera (or
// opening the link on the phone) opens OwnTracks, which shows the settings and imports them.
//
// The link carries the device's secret, which exists only in the moment an admin creates the device
// or rotates its secret. This module is browser-safe (no Buffer, no node: imports, no zod) so the
// Devices page draws the QR code itself and the secret never leaves the page (owntracks-qr-panel.ts);
// the hub uses the same functions for POST /api/owntracks/setup (owntracks-setup.ts).
import { DEVICE_ID_PATTERN } from './topics.js';
import { DEFAULT_APP_DEVICE, OWNTRACKS_NAME_PATTERN, ownTracksTopic } from './owntracks-topics.js';

export interface OwnTracksSetup {
  /** Our device id: the app's username and MQTT client id. */
  deviceId: string;
  secret: string;
  /** MQTT (mode 0): the broker, PUBACK after commit; HTTP (mode 3): POST /api/owntracks. */
  mode: 'mqtt' | 'http';
  /** MQTT: the broker as the phone reaches it. */
  host?: string | undefined;
  port?: number | undefined;
  /** MQTT over TLS (a TLS proxy in front of the broker). */
  tls?: boolean | undefined;
  /** HTTP: the full URL of POST /api/owntracks as the phone reaches it. */
  url?: string | undefined;
  /** The app's `deviceId` setting (the last part of its topic). Default `phone`. */
  appDevice?: string | undefined;
  /** Two characters on the app's map. Default: the last two of the device id. */
  tid?: string | undefined;
  /** -1 quiet, 0 manual, 1 significant changes, 2 move (a fix every `locatorInterval` s while moving). Default 2. */
  monitoring?: -1 | 0 | 1 | 2 | undefined;
  /** Seconds between fixes in move mode. Default 30. */
  locatorInterval?: number | undefined;
}

export type OwnTracksConfiguration = Record<string, string | number | boolean>;

/** Patrol trails want a dot that moves: move mode, a fix every 30 s while walking. */
export const DEFAULT_MONITORING = 2;
export const DEFAULT_LOCATOR_INTERVAL_S = 30;

/** The two characters OwnTracks shows for a worker: the device id's last two letters or digits. */
export function defaultTid(deviceId: string): string {
  const alnum = deviceId.replace(/[^A-Za-z0-9]/g, '');
  return (alnum.slice(-2) || 'ot').toUpperCase();
}

/**
 * The configuration JSON. Username, password and client id are the device's id and secret (the
 * broker requires client id = username = device id). QoS 1 (the broker refuses QoS 2), nothing
 * retained (the hub is the reader; a retained location would sit in the broker's memory), and the
 * app subscribes to its own `cmd` topic only, the one subscription the ACL grants it.
 */
export function ownTracksConfiguration(s: OwnTracksSetup): OwnTracksConfiguration {
  const appDevice = s.appDevice ?? DEFAULT_APP_DEVICE;
  // Both end up in topics: a separator or wildcard would make a configuration the broker refuses.
  if (!DEVICE_ID_PATTERN.test(s.deviceId)) throw new Error(`not a device id: ${s.deviceId}`);
  if (!OWNTRACKS_NAME_PATTERN.test(appDevice)) throw new Error(`not an app device name: ${appDevice}`);
  const common: OwnTracksConfiguration = {
    _type: 'configuration',
    auth: true,
    username: s.deviceId,
    password: s.secret,
    deviceId: appDevice,
    tid: s.tid ?? defaultTid(s.deviceId),
    monitoring: s.monitoring ?? DEFAULT_MONITORING,
    locatorInterval: s.locatorInterval ?? DEFAULT_LOCATOR_INTERVAL_S,
    // conn (wifi/mobile/offline) rides along with each fix.
    extendedData: true,
    cmd: true,
    allowRemoteLocation: true,
    remoteConfiguration: true,
    autostartOnBoot: true,
  };
  if (s.mode === 'http') {
    if (!s.url) throw new Error('the HTTP mode needs the url of POST /api/owntracks');
    return { ...common, mode: 3, url: s.url };
  }
  if (!s.host || !s.port) throw new Error('the MQTT mode needs the broker host and port');
  return {
    ...common,
    mode: 0,
    host: s.host,
    port: s.port,
    tls: s.tls ?? false,
    clientId: s.deviceId,
    pubTopicBase: 'owntracks/%u/%d',
    pubQos: 1,
    pubRetain: false,
    willRetain: false,
    willQos: 1,
    sub: true,
    subTopic: ownTracksTopic(s.deviceId, appDevice, 'cmd'),
    subQos: 1,
    cleanSession: false,
    mqttProtocolLevel: 4,
    keepalive: 60,
  };
}

const LINK_PREFIX = 'owntracks:///config?inline=';

function base64Utf8(text: string): string {
  let bin = '';
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
}

/**
 * `owntracks:///config?inline=` + the configuration in standard base64 (the apps refuse the URL-safe
 * alphabet), percent-encoded so `+`, `/` and `=` survive every QR reader and URL parser; both apps
 * decode the query value before base64 (Android's Uri.getQueryParameter, iOS's NSURLQueryItem).
 */
export function ownTracksConfigLink(config: OwnTracksConfiguration): string {
  return `${LINK_PREFIX}${encodeURIComponent(base64Utf8(JSON.stringify(config)))}`;
}

/** The configuration back from a link (tests; a support tool reading a link someone sent). */
export function parseOwnTracksConfigLink(link: string): OwnTracksConfiguration {
  if (!link.startsWith(LINK_PREFIX)) throw new Error('not an OwnTracks configuration link');
  const bin = atob(decodeURIComponent(link.slice(LINK_PREFIX.length)));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)))) as OwnTracksConfiguration;
}

/** Error correction M (15 %): a phone screen or a print reads it; the link stays under QR version ~20. */
export const QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 2 } as const;

/** Where a phone reaches this hub, as GET /api/owntracks/setup tells the Devices page. */
export interface OwnTracksSetupDefaults {
  mqtt: { host: string; port: number | null; tls: boolean };
  http: { url: string };
  appDevice: string;
}
