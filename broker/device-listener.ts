// The MQTT port's sockets, before Aedes sees them: connections not yet authenticated are capped in
// number (overall and per address) and each in bytes (issue 16, item 4), every packet is held to the
// size cap, and answers are written back coalesced (mqtt-connection.ts). Stopping ends the
// connections gently, so the PUBACKs just written still leave.
import net from 'node:net';
import type { LogBudget } from '../common/log-budget.js';
import type { Logger } from '../common/logger.js';
import type { Metrics } from '../common/metrics.js';
import {
  PacketSizeGuard,
  PRE_AUTH_MAX_BYTES,
  UnauthenticatedConnections,
  DEFAULT_UNAUTHENTICATED,
  type UnauthenticatedLimits,
} from './packet-size-guard.js';
import { MqttConnection, WriteFlusher } from './mqtt-connection.js';

export interface DeviceLink {
  socket: net.Socket;
  guard: PacketSizeGuard;
  address: string;
}

export interface DeviceListenerOptions {
  /** Largest packet after authentication (bytes). */
  maxPacketBytes: number;
  limits?: Partial<UnauthenticatedLimits>;
  metrics: Metrics;
  log: Logger;
  /** Warn lines per address, shared with the broker's other refusals. */
  logs: LogBudget;
  /** A connection admitted: hand it to Aedes. */
  onConnection(conn: MqttConnection, address: string): void;
}

export class DeviceListener {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly links = new WeakMap<object, DeviceLink>();
  private readonly unauthenticated: UnauthenticatedConnections;
  // One end-of-turn write per connection that wrote in the turn, for all connections at once.
  private readonly flusher = new WriteFlusher();

  constructor(private readonly o: DeviceListenerOptions) {
    this.unauthenticated = new UnauthenticatedConnections({ ...DEFAULT_UNAUTHENTICATED, ...o.limits });
    o.metrics.gauge('mqtt_unauthenticated_connections', () => this.unauthenticated.size, 'connections waiting for their CONNACK');
    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** The socket, size guard and address behind an Aedes client's `conn`. */
  linkOf(conn: object): DeviceLink | undefined {
    return this.links.get(conn);
  }

  /** The connection got its CONNACK (return code 0): the limits of the unauthenticated no longer apply. */
  authenticated(link: DeviceLink): void {
    link.guard.authenticated();
    this.unauthenticated.release(link.socket);
  }

  /** Resolves with the bound port. */
  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as net.AddressInfo).port;
  }

  /** No new connections; resolves once the server has closed (after every connection has). */
  close(): Promise<void> {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Ends every connection: end() lets what was just written leave first; destroyed after 1 s anyway. */
  endAll(): Promise<void> {
    return Promise.all(
      [...this.sockets].map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.destroyed) return resolve();
            s.once('close', () => resolve());
            s.end();
            setTimeout(() => s.destroy(), 1000).unref();
          }),
      ),
    ).then(() => undefined);
  }

  private accept(socket: net.Socket): void {
    const { metrics, log, logs } = this.o;
    const address = socket.remoteAddress ?? 'unknown';
    const full = this.unauthenticated.admit(socket, address);
    if (full) {
      const reason = full === 'total' ? 'too_many_unauthenticated' : 'too_many_unauthenticated_address';
      metrics.inc('mqtt_rejected_total', { reason });
      const budget = logs.take(address);
      if (budget)
        log.warn(
          { remote: address, reason, waiting: this.unauthenticated.size, ...(budget.suppressed ? { suppressed: budget.suppressed } : {}) },
          'mqtt connection refused: too many connections not yet authenticated',
        );
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.unauthenticated.release(socket);
    });
    socket.setNoDelay(true);
    const guard = new PacketSizeGuard(
      this.o.maxPacketBytes,
      (announced, kind, max) => {
        metrics.inc('mqtt_rejected_total', { reason: kind });
        const budget = logs.take(address);
        if (budget)
          log.warn(
            { remote: address, announced, max, reason: kind, ...(budget.suppressed ? { suppressed: budget.suppressed } : {}) },
            'mqtt packet too large: connection closed',
          );
        socket.destroy();
      },
      PRE_AUTH_MAX_BYTES,
    );
    // Aedes reads the guarded bytes and writes its answers back to the socket, coalesced.
    const conn = new MqttConnection(socket, guard, this.flusher);
    this.links.set(conn, { socket, guard, address });
    conn.on('error', () => socket.destroy());
    this.o.onConnection(conn, address);
  }
}
