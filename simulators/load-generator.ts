// Load mode: thousands of handsets, each one raw MQTT 3.1.1 connection (mqtt-packet over net, no
// MQTT.js: a client object per connection would cost more than the broker we want to measure).
// Each publishes one QoS 1 fix per 1/rateHz seconds carrying `seq` and `sentAt`, so a benchmark can
// count loss (missing seq) and end-to-end latency (stored time - sentAt); PUBACKs are counted here.
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { generate, parser as mqttParser, type Packet } from 'mqtt-packet';
import { systemClock, type Clock } from '../common/clock.js';
import type { Fix } from '../protocol/schemas.js';
import { deviceTopic } from '../protocol/topics.js';
import { createRng } from './rng.js';
import { ZHUZHOU } from './demo-district.js';
import { fromLocal, round7 } from './geo-local.js';

export interface LoadOptions {
  host: string;
  port: number;
  devices: readonly { id: string; secret: string }[];
  /** Fixes per second per device. */
  rateHz: number;
  /**
   * Publishing window after the last connect wave (devices already up publish during the ramp too).
   * The whole run is bounded by connectPhaseMaxS + durationS + drainMs.
   */
  durationS: number;
  /** Longest the connect waves may take; devices not reached by then are left out. Default 120 s. */
  connectPhaseMaxS?: number;
  topicRoot: string;
  onProgress?: (p: LoadProgress) => void;
  progressEveryMs?: number;
  /** Connections opened together; the next wave waits until this one has its CONNACKs. */
  waveSize?: number;
  connectTimeoutMs?: number;
  /** After publishing stops, how long to wait for outstanding PUBACKs. */
  drainMs?: number;
  seed?: number;
  clock?: Clock;
  signal?: AbortSignal;
}

export interface LoadProgress {
  elapsedS: number;
  connected: number;
  sent: number;
  acked: number;
  errors: number;
  inflight: number;
}

export interface LoadResult {
  sent: number;
  acked: number;
  errors: number;
  /** Connections that got a CONNACK 0 at some point. */
  connected: number;
  errorsByKind: Record<string, number>;
  /** How long the connect waves took. */
  connectS: number;
  /** Publish → PUBACK round trip; null when nothing was acknowledged. */
  ackLatencyMs: { p50: number; p95: number; p99: number; max: number } | null;
  elapsedS: number;
}

interface Conn {
  id: string;
  socket: Socket;
  topic: string;
  up: boolean;
  closing: boolean;
  /** An error was already counted for this connection; its close is not another one. */
  failed: boolean;
  nextMid: number;
  inflight: Map<number, number>;
  seq: number;
  lastTs: number;
  nextAt: number;
  /** Position on a small circle around a point near Zhuzhou. */
  x: number;
  y: number;
  angle: number;
}

const MAX_LATENCY_SAMPLES = 500_000;

export async function startLoad(o: LoadOptions): Promise<LoadResult> {
  const clock = o.clock ?? systemClock;
  const rng = createRng(o.seed ?? 1);
  const periodMs = 1000 / o.rateHz;
  const t0 = performance.now();
  // Publishing deadline: unknown until the connect waves are done (or aborted).
  let deadline = Infinity;
  let aborted = false;
  const stats = { sent: 0, acked: 0, errors: 0, connected: 0, everConnected: 0 };
  const errorsByKind: Record<string, number> = {};
  const latencies: number[] = [];
  let latencyCount = 0;
  const conns: Conn[] = [];
  const fail = (kind: string): void => {
    stats.errors++;
    errorsByKind[kind] = (errorsByKind[kind] ?? 0) + 1;
  };
  const onAbort = (): void => {
    aborted = true;
    deadline = Math.min(deadline, performance.now());
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });

  const progress = (): void => {
    const inflight = conns.reduce((s, c) => s + c.inflight.size, 0);
    o.onProgress?.({ elapsedS: (performance.now() - t0) / 1000, connected: stats.connected, sent: stats.sent, acked: stats.acked, errors: stats.errors, inflight });
  };
  const progressTimer = setInterval(progress, o.progressEveryMs ?? 1000);

  const recordLatency = (ms: number): void => {
    // Reservoir sampling keeps memory bounded on long runs and the percentiles unbiased.
    latencyCount++;
    if (latencies.length < MAX_LATENCY_SAMPLES) latencies.push(ms);
    else {
      const j = Math.floor(rng.next() * latencyCount);
      if (j < MAX_LATENCY_SAMPLES) latencies[j] = ms;
    }
  };

  const publish = (c: Conn, now: number): void => {
    c.angle += 0.01;
    const p = fromLocal(ZHUZHOU, c.x + 30 * Math.cos(c.angle), c.y + 30 * Math.sin(c.angle));
    // ts must differ per fix of a device: (device, ts) is the store's idempotency key.
    const ts = Math.max(clock.now(), c.lastTs + 1);
    c.lastTs = ts;
    const fix: Fix = { ts, lat: round7(p.lat), lon: round7(p.lon), acc: 5, seq: c.seq++, sentAt: ts };
    const messageId = c.nextMid;
    c.nextMid = c.nextMid === 65535 ? 1 : c.nextMid + 1;
    c.inflight.set(messageId, now);
    c.socket.write(generate({ cmd: 'publish', topic: c.topic, payload: Buffer.from(JSON.stringify(fix)), qos: 1, messageId, retain: false, dup: false }));
    stats.sent++;
  };

  // One timer for all connections: each publishes when its own phase comes round.
  const pump = setInterval(() => {
    const now = performance.now();
    if (now >= deadline) return;
    for (const c of conns) {
      if (!c.up || c.closing || c.nextAt > now) continue;
      publish(c, now);
      // A stalled event loop must not turn into a burst: skip the missed slots.
      c.nextAt = c.nextAt + periodMs < now ? now + periodMs : c.nextAt + periodMs;
    }
  }, Math.max(1, Math.min(20, periodMs / 4)));

  const open = (id: string, secret: string): Promise<void> =>
    new Promise((resolve) => {
      const socket = netConnect({ host: o.host, port: o.port });
      socket.setNoDelay(true);
      const c: Conn = {
        id, socket, topic: deviceTopic(o.topicRoot, id, 'location'), up: false, closing: false, failed: false, nextMid: 1, inflight: new Map(), seq: 0, lastTs: 0, nextAt: Infinity,
        x: rng.float(-3000, 3000), y: rng.float(-3000, 3000), angle: rng.float(0, 2 * Math.PI),
      };
      conns.push(c);
      let settled = false;
      const settle = (): void => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        fail('connect-timeout');
        c.closing = true;
        socket.destroy();
        settle();
      }, o.connectTimeoutMs ?? 15_000);
      const parser = mqttParser({ protocolVersion: 4 });
      parser.on('packet', (packet: Packet) => {
        if (packet.cmd === 'connack') {
          if (packet.returnCode === 0) {
            c.up = true;
            stats.connected++;
            stats.everConnected++;
            c.nextAt = performance.now() + rng.float(0, periodMs);
          } else {
            fail(`connack-${packet.returnCode ?? '?'}`);
            c.closing = true;
            socket.end();
          }
          settle();
        } else if (packet.cmd === 'puback' && packet.messageId !== undefined) {
          const at = c.inflight.get(packet.messageId);
          if (at === undefined) return;
          c.inflight.delete(packet.messageId);
          stats.acked++;
          recordLatency(performance.now() - at);
        }
      });
      parser.on('error', () => fail('protocol'));
      socket.on('data', (d: Buffer) => parser.parse(d));
      socket.on('error', () => {
        if (!c.closing && !c.failed) fail('socket');
        c.failed = true;
      });
      socket.on('close', () => {
        if (!c.closing && !c.failed) fail('closed');
        if (c.up) stats.connected--;
        c.up = false;
        settle();
      });
      socket.on('connect', () => {
        socket.write(generate({
          cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: id, clean: true,
          keepalive: Math.max(60, Math.ceil(3 / o.rateHz)), username: id, password: Buffer.from(secret),
        }));
      });
    });

  // Waves: a broker checking 3,400 scrypt hashes at once is a stampede, not a benchmark.
  const waveSize = o.waveSize ?? 200;
  const connectUntil = t0 + (o.connectPhaseMaxS ?? 120) * 1000;
  for (let i = 0; i < o.devices.length && !aborted && performance.now() < connectUntil; i += waveSize) {
    await Promise.all(o.devices.slice(i, i + waveSize).map((d) => open(d.id, d.secret)));
  }
  const connectS = (performance.now() - t0) / 1000;
  deadline = aborted ? performance.now() : performance.now() + o.durationS * 1000;

  // Publishing runs until the deadline; then the outstanding PUBACKs get drainMs to come in.
  await untilOrDeadline(() => performance.now() >= deadline, Infinity);
  clearInterval(pump);
  await untilOrDeadline(() => conns.every((c) => c.inflight.size === 0 || !c.up), performance.now() + (o.drainMs ?? 5000));
  clearInterval(progressTimer);
  progress();
  o.signal?.removeEventListener('abort', onAbort);

  await Promise.all(conns.map((c) => closeConn(c)));
  latencies.sort((a, b) => a - b);
  const pct = (q: number): number => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) * 100) / 100;
  return {
    sent: stats.sent,
    acked: stats.acked,
    errors: stats.errors,
    connected: stats.everConnected,
    errorsByKind,
    connectS: Math.round(connectS * 100) / 100,
    ackLatencyMs: latencies.length === 0 ? null : { p50: pct(0.5), p95: pct(0.95), p99: pct(0.99), max: pct(1) },
    elapsedS: Math.round(((performance.now() - t0) / 1000) * 100) / 100,
  };
}

/** Polls a condition every 20 ms until it holds or the (performance.now) deadline passes. */
async function untilOrDeadline(done: () => boolean, deadline: number): Promise<void> {
  while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** DISCONNECT (so no will fires), then close; destroyed if the broker does not close within 2 s. */
function closeConn(c: Conn): Promise<void> {
  return new Promise((resolve) => {
    if (c.socket.destroyed) return resolve();
    c.closing = true;
    const timer = setTimeout(() => c.socket.destroy(), 2000);
    c.socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (c.up) c.socket.end(generate({ cmd: 'disconnect' }));
    else c.socket.destroy();
  });
}
