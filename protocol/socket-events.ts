// Socket.IO contract between the hub and command screens (namespace `/live`). One source of truth
// for event names and payloads; the dashboard imports these types too.

import type { DeviceProtocol } from './device-api.js';
import type { IncidentSource, Priority } from './incident-vocabulary.js';

export const LIVE_NAMESPACE = '/live';

export interface WorkerLive {
  workerId: string;
  deviceId: string;
  name: string;
  role: string;
  gridCode: string | null;
  /** Last fix, WGS-84. Null until the first fix arrives. */
  lat: number | null;
  lon: number | null;
  /** Fix time, epoch ms. */
  ts: number | null;
  battery: number | null;
  duty: 'on' | 'off';
  online: boolean;
  /** Seconds the handset's clock ran ahead of the hub's at its last live location message (0: right; null: unknown). */
  clockAheadS?: number | null;
  /** How the worker's handset talks to the hub (the worker card shows it); from the device registry. */
  protocol?: DeviceProtocol;
}

/** One coalesced position: only the latest per worker since the previous flush. */
export interface PositionUpdate {
  workerId: string;
  lat: number;
  lon: number;
  ts: number;
  speed?: number;
  battery?: number;
}

export interface AlertView {
  id: string;
  deviceId: string;
  deviceKind: string;
  type: string;
  severity: string | null;
  ts: number;
  lat: number | null;
  lon: number | null;
  gridCode: string | null;
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

/** An incident as a command screen sees it (never the resident's contact). */
export interface IncidentView {
  id: string;
  source: IncidentSource;
  category: string;
  priority: Priority;
  title: string | null;
  state: string;
  version: number;
  lat: number;
  lon: number;
  gridCode: string;
  /** 'outside': no grid contained the point; the nearest grid owns it until reviewed. */
  locationFlag: 'outside' | null;
  escalationLevel: number;
  assigneeId: string | null;
  foldCount: number;
  createdAt: number;
  updatedAt: number;
  acceptBy: number;
  arriveBy: number;
  resolveBy: number;
  /** SLA stages already missed ('accept' | 'arrive' | 'resolve'): the screen paints these red. */
  overdue: string[];
  rating: 'satisfied' | 'unsatisfied' | null;
}

/** An overdue alarm (seed 000: the drain nobody accepted went overdue and raised one). */
export interface AlarmView {
  id: number;
  incidentId: string;
  gridCode: string;
  stage: string;
  level: number;
  raisedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
}

export interface LiveSnapshot {
  serverTime: number;
  workers: WorkerLive[];
  alerts: AlertView[];
  /** Open incidents (and those closed in the last hour). */
  incidents: IncidentView[];
  /** Alarms not yet acknowledged. */
  alarms: AlarmView[];
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
