// Stage: normalise (coordinates to WGS-84, batches flattened and ordered by fix time) and turn the
// message into rows. Chinese handset SDKs report GCJ-02 or BD-09; we store WGS-84 (DESIGN §3). Each
// fix is also marked inside or outside its worker's own grids (for the time-in-grid rollup).
import { toWgs84 } from '../../common/crs.js';
import type {
  AlertPayload,
  Fix,
  LocationPayload,
  PresencePayload,
  ReportPayload,
  StatusPayload,
  TaskReplyPayload,
} from '../../protocol/schemas.js';
import type { OwnGridFence } from '../regions/own-grid-fence.js';
import type { DeviceInfo, PositionRow } from '../rows/row-types.js';
import type { IngestContext, IngestStage, StageOutcome } from './ingest-types.js';

export function rowsStage(fence: Pick<OwnGridFence, 'inside'>): IngestStage {
  return {
    name: 'rows',
    run(ctx: IngestContext): StageOutcome {
      const device = ctx.device!;
      switch (ctx.channel) {
        case 'location': {
          const data = ctx.data as LocationPayload;
          if (!('fixes' in data)) {
            // A live fix: no array to copy and sort (the common message, one per handset per second).
            ctx.rows.positions.push(positionRow(device, data as Fix, fence));
            return undefined;
          }
          // A store-and-forward batch may arrive in any order: rows go in fix-time order.
          const fixes = [...(data.fixes as Fix[])].sort((a, b) => a.ts - b.ts);
          for (const f of fixes) ctx.rows.positions.push(positionRow(device, f, fence));
          return undefined;
        }
        case 'events': {
          const a = ctx.data as AlertPayload;
          ctx.rows.events.push({
            deviceId: device.id,
            deviceKind: device.kind,
            ts: a.ts,
            eventKey: a.eventId ?? a.type,
            type: a.type,
            severity: a.severity ?? null,
            confidence: a.confidence ?? null,
            snapshot: a.snapshot ?? null,
            data: a.data ?? null,
            lat: device.lat,
            lon: device.lon,
            gridCode: device.gridCode,
          });
          // Dispatch turns alerts into incidents from the inbox (claimed in the database, once).
          ctx.rows.inbox.push({
            deviceId: device.id,
            channel: 'events',
            key: a.eventId ?? a.type,
            ts: a.ts,
            body: { ...a, deviceKind: device.kind, lat: device.lat, lon: device.lon, gridCode: device.gridCode },
          });
          return undefined;
        }
        case 'status': {
          const s = ctx.data as StatusPayload;
          ctx.rows.statuses.push({
            deviceId: device.id,
            workerId: device.workerId,
            ts: s.ts,
            kind: 'status',
            duty: s.duty,
            battery: s.battery ?? null,
            online: null,
          });
          return undefined;
        }
        case 'presence': {
          const p = ctx.data as PresencePayload;
          ctx.rows.statuses.push({
            deviceId: device.id,
            workerId: device.workerId,
            ts: p.ts,
            kind: 'presence',
            duty: null,
            battery: null,
            online: p.online,
          });
          return undefined;
        }
        case 'reports': {
          const r = ctx.data as ReportPayload;
          const [lon, lat] = toWgs84(r.lon, r.lat, r.crs);
          ctx.rows.inbox.push({ deviceId: device.id, channel: 'reports', key: '', ts: r.ts, body: { ...r, lon, lat, crs: 'wgs84' } });
          return undefined;
        }
        case 'task-replies': {
          const t = ctx.data as TaskReplyPayload;
          ctx.rows.inbox.push({ deviceId: device.id, channel: 'task-replies', key: '', ts: t.ts, body: t });
          return undefined;
        }
        default:
          return { reject: 'unknown_channel' };
      }
    },
  };
}

function positionRow(device: DeviceInfo, f: Fix, fence: Pick<OwnGridFence, 'inside'>): PositionRow {
  let lon = f.lon;
  let lat = f.lat;
  // WGS-84 needs no conversion (and no [lon, lat] pair per fix).
  if (f.crs !== undefined && f.crs !== 'wgs84') [lon, lat] = toWgs84(f.lon, f.lat, f.crs);
  return {
    deviceId: device.id,
    workerId: device.workerId,
    ts: f.ts,
    lat,
    lon,
    acc: f.acc ?? null,
    alt: f.alt ?? null,
    speed: f.speed ?? null,
    heading: f.heading ?? null,
    battery: f.battery ?? null,
    seq: f.seq ?? null,
    inGrid: fence.inside(device.workerId, lon, lat),
    // Set by the position filter next; declared here so the row is built whole, not grown.
    clockAheadMs: undefined,
  };
}
