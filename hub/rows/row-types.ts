// The rows a device message turns into, and the registered device they belong to: written by the
// batch writer here (hub/rows/), produced by the ingest stages (hub/ingest/), read by the live
// state, the device registry and duty sync. Declared here so ingest imports store, never the reverse.
import type { DeviceKind } from '../../protocol/topics.js';

export interface DeviceInfo {
  id: string;
  kind: DeviceKind;
  workerId: string | null;
  gridCode: string | null;
  lat: number | null;
  lon: number | null;
}

export interface PositionRow {
  deviceId: string;
  workerId: string | null;
  ts: number;
  lat: number;
  lon: number;
  acc: number | null;
  alt: number | null;
  speed: number | null;
  heading: number | null;
  battery: number | null;
  seq: number | null;
  /** Inside one of the worker's own grids (hub/regions/own-grid-fence.ts); null or absent: unknown. */
  inGrid?: boolean | null;
  /**
   * Why the position filter does not trust this fix (stage-position-filter.ts): stored in
   * positions_flagged, never in positions, never on a live dot. Absent or empty: a valid fix.
   */
  flags?: FixFlag[];
  /** How far the fix's time lay ahead of the hub's clock when it arrived, ms (negative: behind). */
  clockAheadMs?: number;
}

/** Stored, but kept out of trails, rollups, KPIs and the live dot (docs/decisions/010). */
export type FixFlag = 'jump' | 'accuracy';

export interface EventRow {
  deviceId: string;
  deviceKind: DeviceKind;
  ts: number;
  eventKey: string;
  type: string;
  severity: string | null;
  confidence: number | null;
  snapshot: string | null;
  data: unknown;
  lat: number | null;
  lon: number | null;
  gridCode: string | null;
}

export interface StatusRow {
  deviceId: string;
  workerId: string | null;
  ts: number;
  kind: 'status' | 'presence';
  duty: 'on' | 'off' | null;
  battery: number | null;
  online: boolean | null;
}

export interface InboxRow {
  deviceId: string;
  channel: 'reports' | 'task-replies' | 'events';
  /** With ts, the idempotency key: an alert's eventId or type; '' for reports and replies. */
  key: string;
  ts: number;
  body: unknown;
}

export interface DeadLetterRow {
  topic: string;
  deviceId: string | null;
  reason: string;
  size: number;
  payload: Buffer;
  /** A fix refused for its time (future_fix): how far ahead of the hub's clock it was, ms. Not stored. */
  clockAheadMs?: number;
}

export interface Rows {
  positions: PositionRow[];
  events: EventRow[];
  statuses: StatusRow[];
  inbox: InboxRow[];
  deadLetters: DeadLetterRow[];
}

export function emptyRows(): Rows {
  return { positions: [], events: [], statuses: [], inbox: [], deadLetters: [] };
}
