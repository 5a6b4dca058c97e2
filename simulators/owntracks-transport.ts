// A handset that is a phone running the OwnTracks app in MQTT mode, as the one-scan setup
// configures it (protocol/owntracks-config.ts): username = client id = the device id, password =
// its secret, QoS 1, a persistent session, `owntracks/{device id}/phone` for locations with the
// app's `lwt` as the will, and its own `…/cmd` subscribed. Payloads are the app's JSON as the booklet
// documents it (https://owntracks.org/booklet/tech/json/), never the native contract.
//
// What the app cannot say is not said: no status message (the battery rides on every location), no
// patrol report, no task reply (gateways/owntracks/README.md, "How an OwnTracks worker learns of a
// task"). Buffered fixes go up one location message each, oldest first, as the app's queue sends
// them; like the app, it keeps a message until the broker has acknowledged it, so what was in
// flight when the network went goes up again first. A stop is the app being killed: no goodbye,
// the will says offline.
import mqtt, { type MqttClient } from 'mqtt';
import { DEFAULT_APP_DEVICE, ownTracksTopic } from '../protocol/owntracks-topics.js';
import type { Fix } from '../protocol/schemas.js';
import { RECONNECT_MS, type HandsetTransport, type TransportContext, type UpstreamOutput } from './handset-transport.js';

/**
 * One fix as the app's `_type: location`. The app sends integers and leaves out `acc`, `alt`,
 * `cog`, `vel` when they are zero; `tst` is whole seconds.
 */
export function ownTracksLocation(fix: Fix, tid: string, now: number): Record<string, unknown> {
  const ts = typeof fix.ts === 'number' ? fix.ts : Date.parse(fix.ts);
  const loc: Record<string, unknown> = { _type: 'location', tid, lat: fix.lat, lon: fix.lon, tst: Math.floor(ts / 1000) };
  const put = (k: string, v: number | undefined): void => {
    if (v !== undefined && Math.round(v) !== 0) loc[k] = Math.round(v);
  };
  put('acc', fix.acc);
  put('alt', fix.alt);
  put('vel', fix.speed === undefined ? undefined : fix.speed * 3.6);
  put('cog', fix.heading);
  if (fix.battery !== undefined) loc.batt = Math.round(fix.battery);
  // Unplugged, on the mobile network, in Move mode; created_at is when the message was built.
  Object.assign(loc, { bs: 1, conn: 'm', m: 2, created_at: Math.floor(now / 1000) });
  return loc;
}

export class OwnTracksTransport implements HandsetTransport {
  private client: MqttClient | null = null;
  private closed = false;
  private readonly topic: string;
  /** The app's tracker id: two characters shown on its map. */
  private readonly tid: string;
  /** Published on the current connection, not yet acknowledged (PUBACK). */
  private readonly inFlight = new Map<number, string>();
  private nextKey = 0;
  /** The app's queue: messages to send (again) once connected, oldest first. */
  private queue: string[] = [];

  constructor(private readonly c: TransportContext) {
    this.topic = ownTracksTopic(c.handset.id, DEFAULT_APP_DEVICE);
    this.tid = c.handset.id.slice(-2);
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  open(): void {
    if (this.closed) return;
    const { c } = this;
    const id = c.handset.id;
    const cmd = ownTracksTopic(id, DEFAULT_APP_DEVICE, 'cmd');
    const client = mqtt.connect(c.mqttUrl, {
      clientId: id,
      username: id,
      password: c.handset.secret,
      clean: false,
      keepalive: 60,
      reconnectPeriod: RECONNECT_MS,
      connectTimeout: 10_000,
      // The app's will: `_type: lwt` with the time it connected (the hub records offline on arrival).
      will: {
        topic: this.topic,
        payload: Buffer.from(JSON.stringify({ _type: 'lwt', tst: Math.floor(c.clock.now() / 1000) })),
        qos: 1,
        retain: false,
      },
    });
    this.client = client;
    client.on('connect', () => {
      if (this.client !== client) return;
      client.subscribe(cmd, { qos: 1 });
      const queued = this.queue;
      this.queue = [];
      for (const body of queued) this.publishBody(body);
      c.hooks.up();
    });
    client.on('error', (err) => {
      if (this.closed || this.client !== client) return;
      c.hooks.error(err.message);
    });
  }

  send(out: UpstreamOutput): boolean {
    const now = this.c.clock.now();
    if (out.kind === 'fix') this.publish(ownTracksLocation(out.payload, this.tid, now));
    else if (out.kind === 'batch') {
      // The app's queue, oldest first: one message per location, no batch format.
      const byTime = [...out.payload.fixes].sort((a, b) => Number(a.ts) - Number(b.ts));
      for (const f of byTime) this.publish(ownTracksLocation(f, this.tid, now));
    } else if (out.kind === 'status') {
      // Nothing to send: the app has no duty or status message; battery comes with each location.
    } else return false;
    return true;
  }

  drop(): void {
    const client = this.client;
    this.client = null;
    // Not acknowledged before the connection went: the app sends it again.
    this.queue.push(...this.inFlight.values());
    this.inFlight.clear();
    if (client) void client.endAsync(true).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.drop();
  }

  tick(): void {}

  private publish(payload: Record<string, unknown>): void {
    this.publishBody(JSON.stringify(payload));
  }

  private publishBody(body: string): void {
    const client = this.client;
    if (!client) {
      this.queue.push(body);
      return;
    }
    const key = this.nextKey++;
    this.inFlight.set(key, body);
    // While MQTT.js reconnects by itself it keeps and resends QoS 1 messages; the callback is the PUBACK.
    client.publish(this.topic, body, { qos: 1 }, (err) => {
      if (this.client !== client || !this.inFlight.delete(key)) return;
      if (err) this.queue.push(body);
    });
  }
}
