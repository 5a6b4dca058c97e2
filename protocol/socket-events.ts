// Socket.IO contract between the hub and command screens (namespace `/live`). One source of truth
// for event names and payloads; the dashboard imports these types too.

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

export interface LiveSnapshot {
  serverTime: number;
  workers: WorkerLive[];
  alerts: AlertView[];
}

export interface ServerToClientEvents {
  snapshot: (s: LiveSnapshot) => void;
  positions: (batch: { serverTime: number; items: PositionUpdate[] }) => void;
  presence: (p: PresenceChange) => void;
  duty: (d: DutyChange) => void;
  alert: (a: AlertView) => void;
}

export interface ClientToServerEvents {
  /** Ask for a fresh snapshot (after a reconnect, say). */
  resync: () => void;
}
