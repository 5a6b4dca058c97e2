// How a simulated handset reaches the hub. One behaviour (handset-model.ts: the walk, fixes,
// battery, outages, tasks) and one transport per protocol, each speaking the real thing over a real
// socket: the native MQTT contract (native-transport.ts), the OwnTracks app's MQTT topics
// (owntracks-transport.ts), a JT/T 808 terminal over TCP (jt808-transport.ts). handset-sim.ts
// picks the transport by the handset's protocol and feeds it the model's outputs.
import type { Clock } from '../common/clock.js';
import type { TextMessage } from '../gateways/jt808/jt808-messages.js';
import type { DemoHandset } from './demo-district.js';
import type { HandsetOutput } from './handset-model.js';

/** What a transport is asked to carry; connection changes (go-offline/online) are calls, not outputs. */
export type UpstreamOutput = Extract<HandsetOutput, { kind: 'fix' | 'batch' | 'status' | 'reply' | 'report' }>;

export interface TransportHooks {
  /** The connection is up (and, for JT/T 808, authenticated): the model's reconnect work goes next. */
  up(): void;
  /** A message on the native `tasks` topic (native handsets only), raw. */
  task(payload: Buffer): void;
  /** A 0x8300 text on a JT/T 808 terminal's screen (a task offer, since issue 15 §3). */
  text(t: TextMessage): void;
  /** A connection attempt failed (bad credentials, refused, registration refused). */
  error(reason: string): void;
}

export interface TransportContext {
  handset: DemoHandset;
  mqttUrl: string;
  topicRoot: string;
  /** JT/T 808 gateway of the node (JT808_PORT). */
  jt808?: { host: string; port: number };
  clock: Clock;
  hooks: TransportHooks;
}

export interface HandsetTransport {
  readonly connected: boolean;
  /** Connects, and keeps reconnecting until up (a broker not yet listening, a refused attempt). */
  open(): void;
  /**
   * Sends one output. False when this protocol has no way to say it (an OwnTracks phone or a JT/T
   * 808 terminal files no patrol report and sends no task reply): the caller counts it.
   */
  send(out: UpstreamOutput): boolean;
  /** The network is lost: no goodbye, so the hub learns it the way it would (a last will, a closed socket). */
  drop(): void;
  /** Stops for good, saying goodbye the way the protocol does. */
  close(): Promise<void>;
  /** Called on every tick: housekeeping (a terminal's received texts). */
  tick(): void;
}

/** How often a refused or failed connection is tried again (MQTT.js's reconnectPeriod in the demo). */
export const RECONNECT_MS = 2000;
