// The JT/T 808 gateway: a TCP server on its own port (JT808_PORT) beside the MQTT broker. Each
// connection is one terminal: its byte stream is cut into frames (jt808-frame.ts), handled one at
// a time by its session (jt808-session.ts) and submitted into the same ingest pipeline as MQTT
// (Hub.submit, injected). Bad frames are counted, logged and answered, never fatal to the
// connection; only an oversize frame, repeated refused logins, a logout or silence close it.
import net from 'node:net';
import { systemClock } from '../../common/clock.js';
import { LogBudget } from '../../common/log-budget.js';
import { MAX_ESCAPED_FRAME_BYTES, FrameSplitter } from './jt808-frame.js';
import { Jt808Session, type SessionLink } from './jt808-session.js';
import type { Jt808GatewayDeps, Jt808GatewayOptions } from './jt808-gateway-deps.js';

export type { Jt808GatewayOptions } from './jt808-gateway-deps.js';

/** How long a text waits for the terminal's 0x0001 unless told otherwise. */
export const JT808_TEXT_REPLY_TIMEOUT_MS = 30_000;

export type TextOutcome = 'delivered' | 'failed' | 'unsupported' | 'no_reply' | 'not_connected';

export interface RunningJt808Gateway {
  port: number;
  /** 0x8300 to a connected terminal (a task offer on its screen, read aloud); resolves with its 0x0001 answer. */
  sendText(deviceId: string, text: string, opts?: { urgent?: boolean; timeoutMs?: number }): Promise<TextOutcome>;
  /** Device ids with a live, authenticated connection. */
  connected(): string[];
  /** Whether this device has a live, authenticated connection here. */
  has(deviceId: string): boolean;
  /** Called whenever a terminal authenticates here: `at` is when (the clock's epoch ms). */
  onClaim(listener: (deviceId: string, at: number) => void): void;
  /**
   * The terminal authenticated on another node at `at`: a connection of it here that authenticated
   * earlier is closed as replaced (no offline presence: the device is online there). True if one was.
   */
  release(deviceId: string, at: number): boolean;
  /** Stops listening, closes every connection and waits (at most drainMs) for frames in hand to finish. */
  stop(drainMs?: number): Promise<void>;
}

export async function startJt808Gateway(opts: Jt808GatewayOptions): Promise<RunningJt808Gateway> {
  const log = opts.logger.child({ mod: 'jt808' });
  const clock = opts.clock ?? systemClock;
  const { metrics } = opts;
  const deps: Jt808GatewayDeps = {
    authenticate: opts.authenticate,
    register: opts.register,
    submit: opts.submit,
    topicRoot: opts.topicRoot,
    metrics,
    log,
    clock,
    maxAuthFailures: opts.maxAuthFailures ?? 3,
    reassembly: opts.reassembly,
    batteryItems: opts.batteryItems,
  };
  const idleTimeoutMs = opts.idleTimeoutMs ?? 180_000;
  const maxQueued = opts.maxQueuedFrames ?? 64;
  const maxFrameBytes = opts.maxFrameBytes ?? MAX_ESCAPED_FRAME_BYTES;
  const live = new Map<string, { session: Jt808Session; link: SessionLink; at: number }>();
  const claimListeners: ((deviceId: string, at: number) => void)[] = [];
  /** The terminal connected again (here or on another node): the older connection goes, quietly. */
  const replace = (entry: { session: Jt808Session; link: SessionLink }) => {
    entry.session.replaced = true;
    entry.link.close('replaced');
  };
  const sockets = new Map<net.Socket, { done: Promise<void> }>();
  // A flood is counted, not echoed: at most LOG_PER_REASON_PER_S lines per rejection reason per second.
  const logBudget = LogBudget.perReasonPerSecond(clock);
  /** Waiters for the moment the last connection has finished (frames in hand, offline presence). */
  const emptied: (() => void)[] = [];

  metrics.describe('jt808_rejected_total', 'JT/T 808 frames or messages refused, by reason');
  metrics.gauge('jt808_connections', () => sockets.size, 'open JT/T 808 connections');

  const server = net.createServer((socket) => {
    const splitter = new FrameSplitter(maxFrameBytes);
    const state = { done: Promise.resolve(), queued: 0 };
    sockets.set(socket, state);
    const closeWith = (why: string, graceful: boolean) => {
      if (socket.destroyed) return;
      metrics.inc('jt808_closed_total', { why });
      if (graceful) socket.end(() => socket.destroy());
      else socket.destroy();
    };
    const link: SessionLink = {
      send: (frame) => {
        if (!socket.destroyed && socket.writable) socket.write(frame);
      },
      close: (why) => closeWith(why, true),
      claim: (deviceId) => {
        const old = live.get(deviceId);
        // The terminal reconnected before its old socket timed out: the new connection wins.
        if (old && old.session !== session) replace(old);
        const at = clock.now();
        live.set(deviceId, { session, link, at });
        for (const listener of claimListeners) listener(deviceId, at);
      },
      reject: (reason, fields, frame) => {
        const label = reason.split(':')[0]!;
        metrics.inc('jt808_rejected_total', { reason: label });
        if (logBudget.take(label))
          log.warn({ reason, remote: socket.remoteAddress, deviceId: session.deviceId, ...fields }, 'jt808 frame rejected');
        if (frame && opts.deadLetter) {
          opts
            .deadLetter({ reason, terminalNo: (fields.terminalNo as string | undefined) ?? null, deviceId: session.deviceId, frame })
            .catch((err: Error) => log.error({ err: err.message }, 'jt808 dead letter not kept'));
        }
      },
    };
    const session = new Jt808Session(deps, link);

    const enqueue = (frame: Buffer) => {
      if (++state.queued > maxQueued && !socket.isPaused()) socket.pause();
      state.done = state.done
        .then(() => session.handle(frame))
        .catch((err: Error) => log.error({ err: err.message, deviceId: session.deviceId }, 'jt808 frame handling failed'))
        .finally(() => {
          if (--state.queued <= maxQueued / 2 && socket.isPaused() && !socket.destroyed) socket.resume();
        });
    };

    socket.setTimeout(idleTimeoutMs);
    socket.on('timeout', () => closeWith('idle', false));
    socket.on('error', (err) => log.debug({ err: err.message, deviceId: session.deviceId }, 'jt808 socket error'));
    socket.on('data', (chunk: Buffer) => {
      const out = splitter.push(chunk);
      if (out.garbageBytes > 0) metrics.inc('jt808_garbage_bytes_total', undefined, out.garbageBytes);
      for (const frame of out.frames) enqueue(frame);
      if (out.overflow) {
        link.reject(`frame_too_large: more than ${maxFrameBytes} bytes without a closing 0x7E`, {});
        closeWith('frame_too_large', false);
      }
    });
    socket.on('close', () => {
      state.done = state.done
        .then(() => session.closed())
        .catch((err: Error) => log.error({ err: err.message, deviceId: session.deviceId }, 'jt808 offline presence not stored'))
        .finally(() => {
          sockets.delete(socket);
          if (session.deviceId && live.get(session.deviceId)?.session === session) live.delete(session.deviceId);
          if (sockets.size === 0) for (const resolve of emptied.splice(0)) resolve();
        });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  log.info({ port }, 'jt808 gateway listening');

  return {
    port,
    connected: () => [...live.keys()],
    has: (deviceId) => live.has(deviceId),
    onClaim: (listener) => void claimListeners.push(listener),
    release(deviceId, at) {
      const entry = live.get(deviceId);
      if (!entry || entry.at > at) return false;
      live.delete(deviceId);
      replace(entry);
      return true;
    },
    async sendText(deviceId, text, o = {}) {
      const entry = live.get(deviceId);
      if (!entry) return 'not_connected';
      const reply = await entry.session.sendText(
        text,
        o.urgent ?? false,
        o.timeoutMs ?? opts.textReplyTimeoutMs ?? JT808_TEXT_REPLY_TIMEOUT_MS,
      );
      metrics.inc('jt808_texts_total', { outcome: reply === null ? 'no_reply' : String(reply.result) });
      if (reply === null) return 'no_reply';
      return reply.result === 0 ? 'delivered' : reply.result === 3 ? 'unsupported' : 'failed';
    },
    async stop(drainMs = 5_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const pending = sockets.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => emptied.push(resolve));
      for (const socket of sockets.keys()) socket.destroy();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([pending, new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)))]);
      clearTimeout(timer);
      await closed;
      log.info('jt808 gateway stopped');
    },
  };
}
