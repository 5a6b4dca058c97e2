// The Socket.IO link to the hub's `/live` namespace, typed by the protocol. It forwards events to
// a sink and owns the resync rules, nothing else.
import { io, type Socket } from 'socket.io-client';
import { LIVE_NAMESPACE, type ClientToServerEvents, type ServerToClientEvents } from '../../protocol/socket-events.js';
import type { LinkState } from './header-bar.js';

export type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface LiveSink extends ServerToClientEvents {
  link(state: LinkState): void;
  /** The hub refused the handshake: no session, or it expired. */
  unauthorized(): void;
}

/** If the hub does not send a snapshot by itself on connect, ask for one after this long. */
const SNAPSHOT_WAIT_MS = 1500;
/** Unknown workers in a push mean the snapshot is stale; ask again, but not on every push. */
const RESYNC_MIN_GAP_MS = 5000;

export class LiveClient {
  private readonly socket: LiveSocket;
  private snapshotSeen = false;
  private lastResync = 0;

  constructor(sink: LiveSink) {
    // Same origin: the hub serves this page. Websocket first; polling stays as the fallback
    // for proxies that strip upgrades.
    this.socket = io(LIVE_NAMESPACE, { transports: ['websocket', 'polling'] });
    const s = this.socket;
    sink.link('connecting');
    s.on('connect', () => {
      sink.link('connected');
      this.snapshotSeen = false;
      setTimeout(() => {
        if (!this.snapshotSeen && s.connected) this.resync(true);
      }, SNAPSHOT_WAIT_MS);
    });
    s.on('disconnect', (reason) => {
      sink.link('disconnected');
      // The hub closes the link when the session ends (logout, expiry): reconnecting would be refused.
      if (reason === 'io server disconnect') sink.unauthorized();
    });
    s.io.on('reconnect_attempt', () => sink.link('connecting'));
    s.on('connect_error', (err) => {
      if (err.message === 'unauthorized') {
        // Retrying with the same (missing or expired) session cannot help: sign in again.
        s.disconnect();
        sink.link('disconnected');
        sink.unauthorized();
        return;
      }
      sink.link(s.active ? 'connecting' : 'disconnected');
    });
    s.on('snapshot', (snap) => {
      this.snapshotSeen = true;
      sink.snapshot(snap);
    });
    s.on('positions', (b) => sink.positions(b));
    s.on('presence', (p) => sink.presence(p));
    s.on('duty', (d) => sink.duty(d));
    s.on('alert', (a) => sink.alert(a));
    s.on('incident', (i) => sink.incident(i));
    s.on('alarm', (a) => sink.alarm(a));
  }

  /** Asks the hub for a fresh snapshot, at most once per RESYNC_MIN_GAP_MS unless forced. */
  resync(force = false): void {
    const now = Date.now();
    if (!force && now - this.lastResync < RESYNC_MIN_GAP_MS) return;
    this.lastResync = now;
    this.socket.emit('resync');
  }

  connected(): boolean {
    return this.socket.connected;
  }
}
