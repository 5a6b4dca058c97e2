// Pushes live changes to command screens over Socket.IO, each screen only what its scope covers
// (DESIGN §5: "a community screen never sees another community's workers").
//
// Rooms: a screen joins exactly one room, `scope:<code>` of its user's region (or `scope:*` when
// auth is off and it is anonymous). A thing in grid G is sent to the rooms of G's ancestor chain
// (RegionScopes.rooms, cached per grid), so a district screen and a community screen both get a
// worker of that community, and a screen of the next community does not.
//
// Positions are coalesced: each flush sends only the latest fix per worker since the previous one,
// one message per occupied room per interval however many handsets ping (and one per batch another
// node forwards, already coalesced there: those go out as they arrive). A flush runs as soon as a
// commit brings positions, unless the last one was less than an interval ago; then it runs when
// the interval is up. So a fix waits for no timer on a quiet node, and at most one interval on a
// busy one (a free-running timer made every fix wait half an interval on average, a whole one at
// worst). Alerts, presence, duty, incidents and alarms go out at once.
//
// Several nodes (REDIS_URL): every node holds the whole live picture. What a node commits it pushes
// to its own screens and forwards to the other nodes through the Socket.IO Redis adapter
// (`serverSideEmit`, coalesced like the screens' positions); a node applies what it receives
// (LiveState.applyPeer) and pushes it to its own screens. So a screen on node B sees a worker whose
// handset is on node A, a new screen's snapshot holds everyone, and dispatch on any node ranks every
// worker by live position. Screen pushes themselves stay on their node (`io.local`).
import type { Server as HttpServer } from 'node:http';
import { Server, type BroadcastOperator, type Socket } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import {
  LIVE_NAMESPACE,
  type AlarmView,
  type ClientToServerEvents,
  type IncidentView,
  type PositionUpdate,
  type ServerToClientEvents,
} from '../../protocol/socket-events.js';
import { tokenFrom, type AuthService, type Viewer } from '../auth/auth-service.js';
import type { LiveChanges, LiveState } from './live-state.js';
import { ALL_SCOPE } from '../auth/region-scope.js';

export interface LivePushOptions {
  httpServer: HttpServer;
  state: LiveState;
  intervalMs: number;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
  /** Login and scopes. Absent: no handshake check, every screen sees all (the old behaviour). */
  auth?: AuthService;
  /** Several nodes: the Redis connections of the Socket.IO adapter (publish, subscribe). */
  peers?: { pub: Redis; sub: Redis };
}

/** What nodes tell each other (serverSideEmit through the Redis adapter). */
interface PeerEvents {
  live: (changes: LiveChanges) => void;
  incident: (view: IncidentView) => void;
  alarm: (alarm: AlarmView) => void;
}

interface SocketData {
  viewer: Viewer;
}

type LiveSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

const roomOf = (scope: string): string => `scope:${scope}`;

export class LivePush {
  readonly io: Server<ClientToServerEvents, ServerToClientEvents, PeerEvents, SocketData>;
  private pending = new Map<string, PositionUpdate>();
  /** This node's own positions since the last flush, for the other nodes. */
  private forwardPending = new Map<string, PositionUpdate>();
  /** The trailing flush, when positions came less than an interval after the last flush. */
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  /** performance.now() of the last flush (not the injected clock: this paces real timers). */
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  private readonly log: Logger;
  private readonly now: () => number;
  /** Scope code → sockets in that room; routing skips rooms nobody watches. */
  private readonly occupied = new Map<string, number>();
  /**
   * This node's own screens. With the Redis adapter a plain `to(room).emit` is published to every
   * node as well; every node pushes what it applied to its own screens, so that would send each
   * change twice to the screens of the other nodes and cost Redis every screen batch.
   */
  private readonly screens: BroadcastOperator<ServerToClientEvents, SocketData>;

  constructor(private readonly opts: LivePushOptions) {
    this.log = opts.logger.child({ mod: 'live-push' });
    this.now = opts.now ?? Date.now;
    this.io = new Server(opts.httpServer, { serveClient: false });
    if (opts.peers) {
      this.io.adapter(createAdapter(opts.peers.pub, opts.peers.sub));
      const root = this.io.of('/');
      root.on('live', (c: LiveChanges) => {
        opts.metrics.inc('live_peer_messages_total', { kind: 'live' });
        const applied = opts.state.applyPeer(c);
        // The origin node already held these positions for up to one push interval: they go to the
        // screens now, not after another interval here (the screen p99 of the other node's workers
        // was commit + 2 intervals: 230 against 155 ms for this node's own at 5,000 handsets).
        this.positionsToScreens(applied.positions);
        this.toScreens({ ...applied, positions: [] });
      });
      root.on('incident', (v: IncidentView) => this.incidentToScreens(v));
      root.on('alarm', (a: AlarmView) => this.alarmToScreens(a));
    }
    const live = this.io.of(LIVE_NAMESPACE);
    this.screens = live.local;
    const auth = opts.auth;

    // The handshake is where a screen proves who it is: the session cookie (same-origin page) or
    // `auth: { token }` (tools). Refused handshakes never join a room.
    live.use((socket, next) => {
      if (!auth) {
        socket.data.viewer = { user: null, scope: ALL_SCOPE, token: null, expiresAt: null };
        return next();
      }
      const given = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      auth.identify(tokenFrom({ cookie: socket.handshake.headers.cookie }, given)).then(
        (viewer) => {
          if (viewer === null) {
            opts.metrics.inc('live_handshake_refused_total');
            return next(Object.assign(new Error('unauthorized'), { data: { code: 'UNAUTHENTICATED' } }));
          }
          socket.data.viewer = viewer;
          next();
        },
        (err: unknown) => next(err instanceof Error ? err : new Error(String(err))),
      );
    });

    live.on('connection', (socket: LiveSocket) => {
      opts.metrics.inc('live_connections_total');
      const { scope, expiresAt } = socket.data.viewer;
      void socket.join(roomOf(scope));
      this.occupied.set(scope, (this.occupied.get(scope) ?? 0) + 1);
      // A session ends for the screen too: at its expiry, and at logout (below).
      const expiry = expiresAt === null ? null : setTimeout(() => socket.disconnect(true), Math.max(0, expiresAt - this.now()));
      socket.on('disconnect', () => {
        if (expiry) clearTimeout(expiry);
        const n = (this.occupied.get(scope) ?? 1) - 1;
        if (n <= 0) this.occupied.delete(scope);
        else this.occupied.set(scope, n);
      });
      socket.emit('snapshot', this.snapshotFor(scope));
      socket.on('resync', () => socket.emit('snapshot', this.snapshotFor(scope)));
    });
    auth?.onSessionEnd((token) => {
      for (const s of live.sockets.values()) if (s.data.viewer?.token === token) s.disconnect(true);
    });
    opts.metrics.gauge('live_sockets', () => live.sockets.size, 'command screens connected');
  }

  start(): void {
    this.started = true;
    this.schedule();
  }

  /** Flush now, or when the interval since the last flush is up (see the top of the file). */
  private schedule(): void {
    if (!this.started || this.timer !== null) return;
    if (this.pending.size === 0 && this.forwardPending.size === 0) return;
    const wait = this.lastFlushAt + this.opts.intervalMs - performance.now();
    if (wait <= 0) this.flush();
    else
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, wait);
  }

  private snapshotFor(scope: string) {
    const snap = this.opts.state.snapshot();
    return this.opts.auth ? this.opts.auth.scopes.filterSnapshot(snap, scope) : snap;
  }

  /** The occupied rooms that should get a thing in this grid. */
  private targets(gridCode: string | null): string[] {
    if (!this.opts.auth) return this.occupied.size > 0 ? [roomOf(ALL_SCOPE)] : [];
    const out: string[] = [];
    for (const scope of this.opts.auth.scopes.rooms(gridCode)) if (this.occupied.has(scope)) out.push(roomOf(scope));
    return out;
  }

  private gridOfWorker(workerId: string | null): string | null {
    return workerId === null ? null : (this.opts.state.workers.get(workerId)?.gridCode ?? null);
  }

  /** This node's committed changes: to its screens, and to the other nodes. */
  publish(changes: LiveChanges): void {
    this.toScreens(changes);
    if (this.opts.peers) {
      for (const p of changes.positions) this.forwardPending.set(p.workerId, p);
      if (changes.presence.length + changes.duty.length + changes.alerts.length > 0) {
        this.toPeers('live', { positions: [], presence: changes.presence, duty: changes.duty, alerts: changes.alerts });
      }
    }
    this.schedule();
  }

  /** While Redis is away a forward is dropped, not queued: the next fix says it again. */
  private toPeers<E extends keyof PeerEvents>(event: E, ...args: Parameters<PeerEvents[E]>): void {
    if (this.opts.peers?.pub.status !== 'ready') {
      this.opts.metrics.inc('live_peer_dropped_total', { kind: event });
      return;
    }
    this.io.serverSideEmit(event, ...args);
  }

  private toScreens(changes: LiveChanges): void {
    for (const p of changes.positions) this.pending.set(p.workerId, p);
    const live = this.screens;
    // A socket sits in one room, so `to([...])` never sends it a thing twice.
    for (const p of changes.presence) {
      const worker = p.workerId ?? this.opts.state.byDevice(p.deviceId)?.workerId ?? null;
      const rooms = this.targets(this.gridOfWorker(worker));
      if (rooms.length > 0) live.to(rooms).emit('presence', p);
    }
    for (const d of changes.duty) {
      const rooms = this.targets(this.gridOfWorker(d.workerId));
      if (rooms.length > 0) live.to(rooms).emit('duty', d);
    }
    for (const a of changes.alerts) {
      const rooms = this.targets(a.gridCode);
      if (rooms.length > 0) live.to(rooms).emit('alert', a);
    }
  }

  /** Dispatch calls these after its transaction committed. */
  publishIncident(view: IncidentView): void {
    this.toPeers('incident', view);
    this.incidentToScreens(view);
  }

  publishAlarm(alarm: AlarmView): void {
    this.toPeers('alarm', alarm);
    this.alarmToScreens(alarm);
  }

  private incidentToScreens(view: IncidentView): void {
    if (!this.opts.state.upsertIncident(view)) return;
    const rooms = this.targets(view.gridCode);
    if (rooms.length > 0) this.screens.to(rooms).emit('incident', view);
  }

  private alarmToScreens(alarm: AlarmView): void {
    this.opts.state.upsertAlarm(alarm);
    const rooms = this.targets(alarm.gridCode);
    if (rooms.length > 0) this.screens.to(rooms).emit('alarm', alarm);
  }

  private flush(): void {
    this.lastFlushAt = performance.now();
    if (this.forwardPending.size > 0) {
      const positions = [...this.forwardPending.values()];
      this.forwardPending = new Map();
      this.toPeers('live', { positions, presence: [], duty: [], alerts: [] });
    }
    if (this.pending.size === 0) return;
    const items = [...this.pending.values()];
    this.pending = new Map();
    this.positionsToScreens(items);
  }

  /** One `positions` message per occupied room that should get some of these items. */
  private positionsToScreens(items: PositionUpdate[]): void {
    if (items.length === 0 || this.occupied.size === 0) return;
    const live = this.screens;
    const serverTime = this.now();
    if (!this.opts.auth) {
      live.to(roomOf(ALL_SCOPE)).emit('positions', { serverTime, items });
    } else {
      // One list per occupied room; each item walks its grid's cached ancestor chain (≤ 5 rooms).
      const perRoom = new Map<string, PositionUpdate[]>();
      const chainOf = new Map<string | null, string[]>();
      for (const p of items) {
        const grid = this.gridOfWorker(p.workerId);
        let rooms = chainOf.get(grid);
        if (!rooms) chainOf.set(grid, (rooms = this.targets(grid)));
        for (const room of rooms) {
          const list = perRoom.get(room);
          if (list) list.push(p);
          else perRoom.set(room, [p]);
        }
      }
      for (const [room, list] of perRoom) live.to(room).emit('positions', { serverTime, items: list });
    }
    this.opts.metrics.inc('live_position_batches_total');
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flush();
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
    this.log.info('live push stopped');
  }
}
