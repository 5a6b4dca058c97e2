// The rows a device message turns into, and the registered device they belong to: written by the
// batch writer here (hub/rows/), produced by the ingest stages (hub/ingest/), read by the live
// state, the device registry and duty sync. Declared here so ingest imports store, never the reverse.
import { z } from 'zod';
import { alertSchema, reportSchema, taskReplySchema } from '../../protocol/schemas.js';
import { DEVICE_KINDS, type DeviceKind } from '../../protocol/topics.js';

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

/**
 * hub_inbox.body per channel: the upstream payload as ingest validated it, plus what ingest added (an
 * alert carries its device's kind and registered place; a report's position is already WGS-84).
 * Dispatch parses the body again when it takes the row (hub/dispatch/inbox-work.ts): a row written by
 * an older hub or by hand that does not fit is refused and counted, never a crash that stops the drain.
 */
export const INBOX_BODY_SCHEMAS = {
  events: alertSchema.extend({
    deviceKind: z.enum(DEVICE_KINDS).optional(),
    lat: z.number().nullable().optional(),
    lon: z.number().nullable().optional(),
    gridCode: z.string().nullable().optional(),
  }),
  reports: reportSchema,
  'task-replies': taskReplySchema,
} as const;

export type InboxChannel = keyof typeof INBOX_BODY_SCHEMAS;
export type InboxBody<C extends InboxChannel> = z.infer<(typeof INBOX_BODY_SCHEMAS)[C]>;

/** One channel's body, parsed: dispatch switches on `channel` and gets the body's type with it. */
export type ParsedInbox = { [C in InboxChannel]: { channel: C; body: InboxBody<C> } }[InboxChannel];

export const isInboxChannel = (c: string): c is InboxChannel => Object.hasOwn(INBOX_BODY_SCHEMAS, c);

export type InboxRow = {
  [C in InboxChannel]: {
    deviceId: string;
    channel: C;
    /** With ts, the idempotency key: an alert's eventId or type; '' for reports and replies. */
    key: string;
    ts: number;
    body: z.input<(typeof INBOX_BODY_SCHEMAS)[C]>;
  };
}[InboxChannel];

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
