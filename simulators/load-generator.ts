// Load mode: thousands of handsets, each one raw connection (mqtt-packet over net, no MQTT.js: a
// client object per connection would cost more than the broker we want to measure), speaking the
// native contract, the OwnTracks app's JSON on its topics, or JT/T 808 frames (load-wire.ts).
// Native handsets publish one QoS 1 fix per 1/rateHz seconds carrying `seq` and `sentAt`, so a
// benchmark can count loss (missing seq) and end-to-end latency (stored time - sentAt). OwnTracks and
// JT/T 808 date a fix to the whole second, so each of their handsets sends on whole-second slots
// shifted by its own phase (loadPhaseMs): the fix time is the slot, the send `phase` ms later,
// which a benchmark subtracts. Acknowledgements (PUBACK, 0x8001 result 0) are counted here.
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { systemClock, type Clock } from '../common/clock.js';
import type { Fix } from '../protocol/schemas.js';
import { createWire, wholeSeconds, type LoadDevice, type LoadProtocol, type Wire } from './load-wire.js';
import { createRng } from './rng.js';
import { ZHUZHOU } from './demo-district.js';
import { fromLocal, round7 } from './geo-local.js';

export interface LoadOptions {
  host: string;
  port: number;
  devices: readonly LoadDevice[];
  /** What the handsets speak (default native); host/port are the node's MQTT or JT/T 808 port. */
  protocol?: LoadProtocol;
  /** Fixes per second per device (OwnTracks, JT/T 808: at most 1, their fix times are whole seconds). */
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
  /**
   * Try a failed connect again (timeout, closed before CONNACK, server unavailable), with backoff
   * from 1 s to 30 s, until the run ends: what handsets do in the field, so a connect storm on a
   * saturated node shows how long the fleet takes to come up rather than who gave up first.
   * Wrong credentials are not retried. Default false: each device tries once.
   */
  retryConnect?: boolean;
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
  wire: Wire;
  up: boolean;
  closing: boolean;
  /** An error was already counted for this connection; its close is not another one. */
  failed: boolean;
  inflight: Map<number, number>;
  /** Whole-second protocols: the fix time of the next slot (epoch ms), and the phase within it. */
  slotTs: number;
  phaseMs: number;
  seq: number;
  lastTs: number;
  nextAt: number;
  /** Position on a small circle around a point near Zhuzhou. */
  x: number;
  y: number;
  angle: number;
  /** Connection attempts so far (retries with `retryConnect`). */
  attempts: number;
}

const MAX_LATENCY_SAMPLES = 500_000;

/**
 * Where in each second the handset at `index` of `count` sends (OwnTracks, JT/T 808): spread evenly,
 * so the load is as smooth as the native handsets' random phases. A benchmark that knows the index
 * knows the phase and takes it off publish→commit (the fix time is the whole second before it).
 */
export function loadPhaseMs(index: number, count: number): number {
  return Math.floor((index * 1000) / Math.max(1, count));
}

export async function startLoad(o: LoadOptions): Promise<LoadResult> {
  const clock = o.clock ?? systemClock;
  const rng = createRng(o.seed ?? 1);
  const protocol = o.protocol ?? 'native';
  const aligned = wholeSeconds(protocol);
  // Whole-second fix times: one fix per second at most, or two would share a time and be stored once.
  const periodMs = aligned ? Math.max(1, Math.round(1 / o.rateHz)) * 1000 : 1000 / o.rateHz;
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
    o.onProgress?.({
      elapsedS: (performance.now() - t0) / 1000,
      connected: stats.connected,
      sent: stats.sent,
      acked: stats.acked,
      errors: stats.errors,
      inflight,
    });
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
    const ts = aligned ? c.slotTs : Math.max(clock.now(), c.lastTs + 1);
    c.lastTs = ts;
    const fix: Fix = { ts, lat: round7(p.lat), lon: round7(p.lon), acc: 5, seq: c.seq++, sentAt: ts };
    const { bytes, id } = c.wire.fix(fix);
    c.inflight.set(id, now);
    c.socket.write(bytes);
    stats.sent++;
  };

  // One timer for all connections: each publishes when its own phase comes round.
  const pump = setInterval(
    () => {
      const now = performance.now();
      if (now >= deadline) return;
      for (const c of conns) {
        if (!c.up || c.closing || c.nextAt > now) continue;
        publish(c, now);
        // A stalled event loop must not turn into a burst: skip the missed slots.
        if (!aligned) c.nextAt = c.nextAt + periodMs < now ? now + periodMs : c.nextAt + periodMs;
        else {
          // Whole-second slots stay on their phase: skip whole slots, never shift within one.
          const skip = Math.max(1, Math.ceil((now - c.nextAt) / periodMs));
          c.nextAt += skip * periodMs;
          c.slotTs += skip * periodMs;
        }
      }
    },
    Math.max(1, Math.min(20, periodMs / 4)),
  );

  /**
   * Opens a device's connection; resolves when its first attempt settles (CONNACK or failure), so
   * the connect waves go on. With `retryConnect`, a failed attempt is tried again later in the
   * background (below), as a real handset's MQTT client does.
   */
  const open = (device: LoadDevice, index: number): Promise<void> =>
    new Promise((resolve) => {
      const c: Conn = {
        id: device.id,
        socket: undefined as unknown as Socket,
        wire: undefined as unknown as Wire,
        up: false,
        closing: false,
        failed: false,
        inflight: new Map(),
        seq: 0,
        lastTs: 0,
        nextAt: Infinity,
        slotTs: 0,
        phaseMs: loadPhaseMs(index, o.devices.length),
        x: rng.float(-3000, 3000),
        y: rng.float(-3000, 3000),
        angle: rng.float(0, 2 * Math.PI),
        attempts: 0,
      };
      conns.push(c);
      dial(c, device, index, resolve);
    });

  /** Whether a failed attempt is tried again: not after the run, nor when the platform said no for good. */
  const retryable = (kind: string): boolean =>
    o.retryConnect === true && !aborted && performance.now() < deadline && !/^connack-[1245]$|^register-|^auth-/.test(kind);

  const dial = (c: Conn, device: LoadDevice, index: number, settled: () => void): void => {
    c.attempts++;
    c.up = false;
    c.closing = false;
    c.failed = false;
    c.inflight.clear();
    let done = false;
    const settle = (failedKind: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      settled();
      if (failedKind !== null && retryable(failedKind)) {
        // Exponential backoff from 1 s to 30 s with jitter, as MQTT clients reconnect: a storm of
        // handsets that all failed together must not all come back in the same second.
        const ceiling = Math.min(30_000, 1000 * 2 ** Math.min(5, c.attempts - 1));
        setTimeout(() => dial(c, device, index, () => {}), rng.float(ceiling / 2, ceiling));
      }
    };
    // Handsets come from many addresses, not one: on loopback each takes one of 127.0.0.1–250, so
    // the broker's per-address limits (connections awaiting CONNACK, password backoff) see a fleet,
    // not one host opening 10,000 sockets.
    const localAddress = o.host === '127.0.0.1' ? `127.0.0.${1 + (index % 250)}` : undefined;
    const socket = netConnect({ host: o.host, port: o.port, ...(localAddress ? { localAddress } : {}) });
    socket.setNoDelay(true);
    c.socket = socket;
    c.wire = createWire(
      protocol,
      { device, topicRoot: o.topicRoot, rateHz: o.rateHz },
      {
        ready: () => {
          c.up = true;
          stats.connected++;
          stats.everConnected++;
          if (!aligned) c.nextAt = performance.now() + rng.float(0, periodMs);
          else {
            // The first whole-second slot whose send time (slot + phase) is still ahead.
            const wall = clock.now();
            const slot = Math.ceil((wall - c.phaseMs) / 1000) * 1000;
            c.slotTs = slot;
            c.nextAt = performance.now() + (slot + c.phaseMs - wall);
          }
          settle(null);
        },
        refused: (kind) => {
          fail(kind);
          c.failed = true;
          c.closing = true;
          socket.end();
          settle(kind);
        },
        ack: (id, failed) => {
          const at = c.inflight.get(id);
          if (at === undefined) return;
          c.inflight.delete(id);
          if (failed) return fail(failed);
          stats.acked++;
          recordLatency(performance.now() - at);
        },
        protocolError: () => fail('protocol'),
      },
    );
    const timer = setTimeout(() => {
      fail('connect-timeout');
      c.closing = true;
      socket.destroy();
      settle('connect-timeout');
    }, o.connectTimeoutMs ?? 15_000);
    socket.on('data', (d: Buffer) => c.wire.data(d, (b) => socket.write(b)));
    socket.on('error', () => {
      if (!c.closing && !c.failed) fail('socket');
      c.failed = true;
    });
    socket.on('close', () => {
      if (!c.closing && !c.failed) fail('closed');
      if (c.up) stats.connected--;
      c.up = false;
      settle('closed');
    });
    socket.on('connect', () => socket.write(c.wire.hello()));
  };

  // Waves: a broker checking 3,400 scrypt hashes at once is a stampede, not a benchmark.
  const waveSize = o.waveSize ?? 200;
  const connectUntil = t0 + (o.connectPhaseMaxS ?? 120) * 1000;
  for (let i = 0; i < o.devices.length && !aborted && performance.now() < connectUntil; i += waveSize) {
    await Promise.all(o.devices.slice(i, i + waveSize).map((d, k) => open(d, i + k)));
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
  const pct = (q: number): number =>
    Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) * 100) / 100;
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

/** DISCONNECT (so no will fires) or logout, then close; destroyed if the node does not close within 2 s. */
function closeConn(c: Conn): Promise<void> {
  return new Promise((resolve) => {
    if (c.socket.destroyed) return resolve();
    c.closing = true;
    const timer = setTimeout(() => c.socket.destroy(), 2000);
    c.socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    const bye = c.up ? c.wire.goodbye() : null;
    if (bye) c.socket.end(bye);
    else c.socket.destroy();
  });
}
