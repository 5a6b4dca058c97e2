// Pushes live changes to command screens over Socket.IO. Positions are coalesced: each flush
// sends only the latest fix per worker since the previous one, so a screen gets one message per
// interval however many handsets ping. Alerts, presence and duty go out at once.
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import { LIVE_NAMESPACE, type AlarmView, type ClientToServerEvents, type IncidentView, type PositionUpdate, type ServerToClientEvents } from '../../protocol/socket-events.js';
import type { LiveChanges, LiveState } from './live-state.js';

export interface LivePushOptions {
  httpServer: HttpServer;
  state: LiveState;
  intervalMs: number;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
}

export class LivePush {
  readonly io: Server<ClientToServerEvents, ServerToClientEvents>;
  private pending = new Map<string, PositionUpdate>();
  private timer: NodeJS.Timeout | null = null;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly opts: LivePushOptions) {
    this.log = opts.logger.child({ mod: 'live-push' });
    this.now = opts.now ?? Date.now;
    this.io = new Server<ClientToServerEvents, ServerToClientEvents>(opts.httpServer, { serveClient: false });
    const live = this.io.of(LIVE_NAMESPACE);
    live.on('connection', (socket) => {
      opts.metrics.inc('live_connections_total');
      socket.emit('snapshot', opts.state.snapshot());
      socket.on('resync', () => socket.emit('snapshot', opts.state.snapshot()));
    });
    opts.metrics.gauge('live_sockets', () => live.sockets.size, 'command screens connected');
  }

  start(): void {
    this.timer = setInterval(() => this.flush(), this.opts.intervalMs);
  }

  publish(changes: LiveChanges): void {
    for (const p of changes.positions) this.pending.set(p.workerId, p);
    const live = this.io.of(LIVE_NAMESPACE);
    for (const p of changes.presence) live.emit('presence', p);
    for (const d of changes.duty) live.emit('duty', d);
    for (const a of changes.alerts) live.emit('alert', a);
  }

  /** Dispatch calls these after its transaction committed. */
  publishIncident(view: IncidentView): void {
    if (this.opts.state.upsertIncident(view)) this.io.of(LIVE_NAMESPACE).emit('incident', view);
  }

  publishAlarm(alarm: AlarmView): void {
    this.opts.state.upsertAlarm(alarm);
    this.io.of(LIVE_NAMESPACE).emit('alarm', alarm);
  }

  private flush(): void {
    if (this.pending.size === 0) return;
    const items = [...this.pending.values()];
    this.pending = new Map();
    this.io.of(LIVE_NAMESPACE).emit('positions', { serverTime: this.now(), items });
    this.opts.metrics.inc('live_position_batches_total');
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.flush();
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
    this.log.info('live push stopped');
  }
}
