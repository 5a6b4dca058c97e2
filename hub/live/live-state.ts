// Live state: each worker's last position, duty and presence, and the latest alerts. Fed only with
// committed rows, so the screen never shows what the database does not have. Out-of-order fixes
// (store-and-forward uploads) are stored but never move a dot backwards in time; a fix the
// position filter flagged never moves it at all, and neither does one from the future (issue 16:
// a 2099 fix held a dot at 2099, since no real fix was ever newer).
import type pg from 'pg';
import type {
  AlarmView,
  AlertView,
  DutyChange,
  IncidentView,
  LiveSnapshot,
  PositionUpdate,
  PresenceChange,
  WorkerLive,
} from '../../protocol/socket-events.js';
import type { Rows } from '../rows/row-types.js';
import { clockAheadReading } from '../ingest/stage-position-filter.js';

const MAX_ALERTS = 200;
/**
 * No dot moves to a fix further ahead of this hub's clock than this, whatever wrote it: above the
 * largest FIX_MAX_FUTURE_S (600 s), so the filter decides and this only backs it up.
 */
const MAX_AHEAD_MS = 10 * 60_000;

/**
 * A worker as the screens get it. `clockAheadS`: how far the handset's clock ran ahead of the
 * hub's at its last live location message, whole seconds (0: right; null: not known yet). Fast
 * clocks show here and their fixes are refused (future_fix) beyond FIX_MAX_FUTURE_S.
 */
// Here until the wire contract's WorkerLive (protocol/socket-events.ts) carries the field itself.
export type LiveWorker = WorkerLive & { clockAheadS?: number | null };

export interface LiveChanges {
  positions: PositionUpdate[];
  presence: PresenceChange[];
  duty: DutyChange[];
  alerts: AlertView[];
}

export class LiveState {
  readonly workers = new Map<string, LiveWorker>();
  private readonly workerByDevice = new Map<string, string>();
  private readonly dutyTs = new Map<string, number>();
  private alerts: AlertView[] = [];
  /** Open incidents and unacknowledged alarms, kept by dispatch (hub/dispatch/dispatch-service.ts). */
  readonly incidents = new Map<string, IncidentView>();
  readonly alarms = new Map<number, AlarmView>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Rebuilds from the database: after a restart the screen shows where everyone last was. */
  async load(pool: Pick<pg.Pool, 'query'>): Promise<void> {
    const people = await pool.query(
      `SELECT w.id, w.name, w.role, w.grid_codes, w.duty, d.id AS device_id, d.protocol
         FROM workers w JOIN devices d ON d.worker_id = w.id AND d.kind = 'handset' AND d.enabled`,
    );
    this.workers.clear();
    this.workerByDevice.clear();
    for (const r of people.rows) {
      this.workerByDevice.set(r.device_id, r.id);
      this.workers.set(r.id, {
        workerId: r.id,
        deviceId: r.device_id,
        name: r.name,
        role: r.role,
        gridCode: r.grid_codes[0] ?? null,
        lat: null,
        lon: null,
        ts: null,
        battery: null,
        duty: r.duty,
        online: false,
        clockAheadS: null,
        protocol: r.protocol,
      });
    }
    const since = new Date(this.now() - 24 * 3600_000);
    const last = await pool.query(
      `SELECT DISTINCT ON (device_id) device_id, ts, lat, lon, battery FROM positions
        WHERE ts > $1 AND ts <= $2 ORDER BY device_id, ts DESC`,
      [since, new Date(this.now() + MAX_AHEAD_MS)],
    );
    for (const r of last.rows) {
      const w = this.byDevice(r.device_id);
      if (w) Object.assign(w, { lat: r.lat, lon: r.lon, ts: r.ts.getTime(), battery: r.battery });
    }
    const status = await pool.query(
      `SELECT DISTINCT ON (device_id, kind) device_id, kind, ts, duty, online FROM device_status
        ORDER BY device_id, kind, ts DESC`,
    );
    for (const r of status.rows) {
      const w = this.byDevice(r.device_id);
      if (!w) continue;
      if (r.kind === 'presence') {
        w.online = r.online;
      } else if (r.duty) {
        w.duty = r.duty;
        this.dutyTs.set(w.workerId, r.ts.getTime());
      }
    }
    const alerts = await pool.query(
      `SELECT e.device_id, d.kind, e.ts, e.event_key, e.type, e.severity, e.lat, e.lon, e.grid_code
         FROM device_events e LEFT JOIN devices d ON d.id = e.device_id
        WHERE e.ts > $1 ORDER BY e.ts DESC LIMIT ${MAX_ALERTS}`,
      [since],
    );
    this.alerts = alerts.rows.map((r) => ({
      id: `${r.device_id}/${r.event_key}/${r.ts.getTime()}`,
      deviceId: r.device_id,
      deviceKind: r.kind ?? 'unknown',
      type: r.type,
      severity: r.severity,
      ts: r.ts.getTime(),
      lat: r.lat,
      lon: r.lon,
      gridCode: r.grid_code,
    }));
  }

  /**
   * An operator set a worker's duty (PUT /api/workers/:id/duty): newest wins, so a handset status
   * buffered from before the change cannot flip it back. Returns the change to push, if any.
   */
  setDuty(workerId: string, duty: 'on' | 'off', ts: number): DutyChange | null {
    const w = this.workers.get(workerId);
    if (!w || (this.dutyTs.get(workerId) ?? 0) > ts) return null;
    this.dutyTs.set(workerId, ts);
    if (w.duty === duty) return null;
    w.duty = duty;
    return { workerId, duty, ts };
  }

  byDevice(deviceId: string): LiveWorker | undefined {
    const id = this.workerByDevice.get(deviceId);
    return id ? this.workers.get(id) : undefined;
  }

  /** Applies committed rows; returns what changed, for the push. */
  apply(rows: Rows): LiveChanges {
    const changes: LiveChanges = { positions: [], presence: [], duty: [], alerts: [] };
    this.readClocks(rows);
    const notAfter = this.now() + MAX_AHEAD_MS;
    for (const p of rows.positions) {
      const w = this.byDevice(p.deviceId);
      // A newer fix wins; a flagged one (a jump, a poor accuracy) or one from the future never does.
      if (!w || (w.ts !== null && p.ts <= w.ts) || (p.flags !== undefined && p.flags.length > 0) || p.ts > notAfter) continue;
      w.lat = p.lat;
      w.lon = p.lon;
      w.ts = p.ts;
      if (p.battery !== null) w.battery = p.battery;
      const u: PositionUpdate = { workerId: w.workerId, lat: p.lat, lon: p.lon, ts: p.ts };
      if (p.speed !== null) u.speed = p.speed;
      if (p.battery !== null) u.battery = p.battery;
      changes.positions.push(u);
    }
    for (const s of rows.statuses) {
      const w = this.byDevice(s.deviceId);
      if (s.kind === 'presence' && s.online !== null) {
        // Presence is applied in arrival order, not by its ts: a last will carries the time the
        // device connected, which is older than the "online" message it published afterwards.
        if (w) w.online = s.online;
        changes.presence.push({ deviceId: s.deviceId, workerId: w?.workerId ?? null, online: s.online, ts: s.ts });
      } else if (s.kind === 'status' && w && s.duty) {
        if ((this.dutyTs.get(w.workerId) ?? 0) > s.ts) continue;
        this.dutyTs.set(w.workerId, s.ts);
        if (s.battery !== null) w.battery = s.battery;
        if (w.duty !== s.duty) {
          w.duty = s.duty;
          changes.duty.push({ workerId: w.workerId, duty: s.duty, ts: s.ts });
        }
      }
    }
    for (const e of rows.events) {
      const a: AlertView = {
        id: `${e.deviceId}/${e.eventKey}/${e.ts}`,
        deviceId: e.deviceId,
        deviceKind: e.deviceKind,
        type: e.type,
        severity: e.severity,
        ts: e.ts,
        lat: e.lat,
        lon: e.lon,
        gridCode: e.gridCode,
      };
      changes.alerts.push(a);
      this.alerts.unshift(a);
    }
    if (this.alerts.length > MAX_ALERTS) this.alerts.length = MAX_ALERTS;
    return changes;
  }

  /**
   * Each device's clock as its newest fixes of this commit show it, refused future fixes included
   * (their dead letters carry the lead): the largest lead per device, read by clockAheadReading.
   */
  private readClocks(rows: Rows): void {
    let lead: Map<string, number> | null = null;
    const see = (deviceId: string | null, ms: number | undefined): void => {
      if (deviceId === null || ms === undefined) return;
      lead ??= new Map();
      lead.set(deviceId, Math.max(lead.get(deviceId) ?? -Infinity, ms));
    };
    for (const p of rows.positions) see(p.deviceId, p.clockAheadMs);
    for (const d of rows.deadLetters) see(d.deviceId, d.clockAheadMs);
    if (!lead) return;
    for (const [deviceId, ms] of lead as Map<string, number>) {
      const w = this.byDevice(deviceId);
      const reading = clockAheadReading(ms);
      if (w && reading !== undefined) w.clockAheadS = Math.round(reading / 1000);
    }
  }

  snapshot(): LiveSnapshot {
    return {
      serverTime: this.now(),
      workers: [...this.workers.values()].map((w) => ({ ...w })),
      alerts: [...this.alerts],
      incidents: [...this.incidents.values()],
      alarms: [...this.alarms.values()],
    };
  }

  /**
   * Changes another node committed and applied (several nodes, hub/live/live-push.ts): the same
   * rules as `apply`, so a late or repeated message never moves a dot backwards. Returns what
   * changed here, for this node's screens.
   */
  applyPeer(peer: LiveChanges): LiveChanges {
    const changes: LiveChanges = { positions: [], presence: [], duty: [], alerts: [] };
    for (const u of peer.positions) {
      const w = this.workers.get(u.workerId);
      if (!w || (w.ts !== null && u.ts <= w.ts)) continue;
      w.lat = u.lat;
      w.lon = u.lon;
      w.ts = u.ts;
      if (u.battery !== undefined) w.battery = u.battery;
      changes.positions.push(u);
    }
    for (const p of peer.presence) {
      const w = this.byDevice(p.deviceId);
      if (w) w.online = p.online;
      changes.presence.push(p);
    }
    for (const d of peer.duty) {
      const c = this.setDuty(d.workerId, d.duty, d.ts);
      if (c) changes.duty.push(c);
    }
    for (const a of peer.alerts) {
      if (this.alerts.some((x) => x.id === a.id)) continue;
      this.alerts.unshift(a);
      changes.alerts.push(a);
    }
    if (this.alerts.length > MAX_ALERTS) this.alerts.length = MAX_ALERTS;
    return changes;
  }

  /** Keeps the newest version; terminal incidents leave the live set. Returns false for a stale view. */
  upsertIncident(view: IncidentView): boolean {
    const known = this.incidents.get(view.id);
    if (known && known.version > view.version) return false;
    if (view.state === 'closed' || view.state === 'cancelled') this.incidents.delete(view.id);
    else this.incidents.set(view.id, view);
    return true;
  }

  upsertAlarm(alarm: AlarmView): void {
    if (alarm.acknowledgedAt !== null) this.alarms.delete(alarm.id);
    else this.alarms.set(alarm.id, alarm);
  }
}
