// Socket.IO contract between the hub and command screens (namespace `/live`). One source of truth
// for event names and payloads; the dashboard imports these types too.

import type { z } from 'zod';
import type { alertViewSchema, liveSnapshotSchema, workerLiveSchema } from './hub-api.js';
import type { alarmViewSchema, incidentViewSchema } from './incident-api.js';

export const LIVE_NAMESPACE = '/live';

// The views are the HTTP contract's schemas (hub-api.ts, incident-api.ts): the same objects travel
// in GET /api/live and in these events, typed once from zod (type imports: no zod in the bundle).
/** A worker on the live map: last fix (WGS-84, epoch ms), presence, duty. */
export type WorkerLive = z.infer<typeof workerLiveSchema>;
export type AlertView = z.infer<typeof alertViewSchema>;
/** An incident as a command screen sees it (never the resident's contact). */
export type IncidentView = z.infer<typeof incidentViewSchema>;
/** An overdue alarm (seed 000: the drain nobody accepted went overdue and raised one). */
export type AlarmView = z.infer<typeof alarmViewSchema>;
export type LiveSnapshot = z.infer<typeof liveSnapshotSchema>;

/** One coalesced position: only the latest per worker since the previous flush. */
export interface PositionUpdate {
  workerId: string;
  lat: number;
  lon: number;
  ts: number;
  speed?: number;
  battery?: number;
}

export interface PresenceChange {
  deviceId: string;
  workerId: string | null;
  online: boolean;
  ts: number;
}

export interface DutyChange {
  workerId: string;
  duty: 'on' | 'off';
  ts: number;
}

export interface ServerToClientEvents {
  snapshot: (s: LiveSnapshot) => void;
  positions: (batch: { serverTime: number; items: PositionUpdate[] }) => void;
  presence: (p: PresenceChange) => void;
  duty: (d: DutyChange) => void;
  alert: (a: AlertView) => void;
  /** An incident was created or changed (full view, newest version wins). */
  incident: (i: IncidentView) => void;
  /** An alarm was raised or acknowledged. */
  alarm: (a: AlarmView) => void;
}

export interface ClientToServerEvents {
  /** Ask for a fresh snapshot (after a reconnect, say). */
  resync: () => void;
}
