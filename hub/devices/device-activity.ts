// What the registry shows of a device's life: online (its last presence), last seen (the last
// commit holding anything of it) and last fix. Fed by the hub's commits, so it costs nothing per
// message beyond a map write. `devices.last_seen` is written paced, not per message (10,000
// handsets at 1 Hz would be 10,000 updates a second): a device is written again once it was seen a
// minute after its last write (at once after a presence: a terminal that logs in closes its JT/T 808
// registration promptly, system-jt808.ts), at most MAX_ROWS_PER_FLUSH a second, and everything at
// stop. Every device every 10 s was 1,000 row updates a second at 10,000 handsets, in 5,000-row
// statements; now ~170 a second in statements of at most 500 (the screen's p99 at 10,000 handsets
// did not move measurably with it: BENCHMARKS session 10). On this node `get` is exact; other
// nodes read the database, within about a minute.
import type pg from 'pg';
import type { Logger } from '../../common/logger.js';
import type { Rows } from '../rows/row-types.js';

export interface DeviceLife {
  online: boolean | null;
  /** Epoch ms of the newest commit that held a row of this device, since start. */
  seenAt: number | null;
  lastFix: { lat: number; lon: number; ts: number } | null;
}

const FLUSH_EVERY_MS = 1_000;
/** A device's last_seen is written again once it is this much newer than the last write. */
export const LAST_SEEN_STEP_MS = 60_000;
/** Rows per statement: a fleet that came up together is written over some seconds, not in one burst. */
export const MAX_ROWS_PER_FLUSH = 500;

export class DeviceActivity {
  private readonly online = new Map<string, { online: boolean; ts: number }>();
  private readonly seen = new Map<string, number>();
  private readonly fixes = new Map<string, { lat: number; lon: number; ts: number }>();
  /** What this process last wrote of each device's last_seen. */
  private readonly written = new Map<string, number>();
  /** Devices to write at the next flushes, oldest first (Set order is insertion order). */
  private readonly due = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private inFlight = false;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly log: Logger,
  ) {}

  /** Each device's newest presence (online or not) from the database, as after a restart. */
  async load(): Promise<void> {
    const r = await this.pool.query<{ device_id: string; ts: Date; online: boolean | null }>(
      `SELECT DISTINCT ON (device_id) device_id, ts, online FROM device_status
        WHERE kind = 'presence' ORDER BY device_id, ts DESC`,
    );
    for (const row of r.rows) {
      if (row.online !== null) this.online.set(row.device_id, { online: row.online, ts: row.ts.getTime() });
    }
  }

  start(): void {
    // A tick while a write is still out is skipped: a slow database gets one statement at a time.
    this.timer = setInterval(() => this.inFlight || void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** Writes every device seen since its last write, however few seconds ago, so a restart reads exact times. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const [id, at] of this.seen) if (at > (this.written.get(id) ?? Number.NEGATIVE_INFINITY)) this.due.add(id);
    await this.flush(Number.POSITIVE_INFINITY);
  }

  /** A commit of the hub (Hub.onCommit). */
  observe(rows: Rows, committedAt: number): void {
    const see = (id: string): void => {
      this.seen.set(id, committedAt);
      const w = this.written.get(id);
      if (w === undefined || committedAt - w >= LAST_SEEN_STEP_MS) this.due.add(id);
    };
    for (const p of rows.positions) {
      see(p.deviceId);
      const last = this.fixes.get(p.deviceId);
      // Updated in place: a new object per fix lived a second, long enough to be promoted out of the
      // young generation (GC is ~11 % of a node's busy time at 2,500 fixes/s). `get` hands out copies.
      if (!last) this.fixes.set(p.deviceId, { lat: p.lat, lon: p.lon, ts: p.ts });
      else if (p.ts > last.ts) {
        last.lat = p.lat;
        last.lon = p.lon;
        last.ts = p.ts;
      }
    }
    for (const s of rows.statuses) {
      see(s.deviceId);
      if (s.kind !== 'presence' || s.online === null) continue;
      this.due.add(s.deviceId);
      // A store-and-forward upload may bring an older presence after a newer one: newest wins.
      const known = this.online.get(s.deviceId);
      if (!known || s.ts >= known.ts) this.online.set(s.deviceId, { online: s.online, ts: s.ts });
    }
    for (const e of rows.events) see(e.deviceId);
    for (const i of rows.inbox) see(i.deviceId);
  }

  get(deviceId: string): DeviceLife {
    return {
      online: this.online.get(deviceId)?.online ?? null,
      seenAt: this.seen.get(deviceId) ?? null,
      lastFix: copyOf(this.fixes.get(deviceId)),
    };
  }

  /** The registry deleted a device: forget it (a new device may take the id). */
  forget(deviceId: string): void {
    this.online.delete(deviceId);
    this.seen.delete(deviceId);
    this.fixes.delete(deviceId);
    this.written.delete(deviceId);
    this.due.delete(deviceId);
  }

  /** Writes the last-seen times of up to `max` due devices, oldest first, in one statement. */
  flush(max = MAX_ROWS_PER_FLUSH): Promise<void> {
    if (this.due.size === 0) return this.flushing;
    const ids: string[] = [];
    const at: string[] = [];
    for (const id of this.due) {
      if (ids.length >= max) break;
      this.due.delete(id);
      const seen = this.seen.get(id);
      if (seen === undefined) continue;
      ids.push(id);
      at.push(new Date(seen).toISOString());
      this.written.set(id, seen);
    }
    if (ids.length === 0) return this.flushing;
    this.inFlight = true;
    this.flushing = this.flushing.then(() =>
      this.pool
        .query(
          `UPDATE devices d SET last_seen = v.at FROM unnest($1::text[], $2::timestamptz[]) AS v(id, at)
            WHERE d.id = v.id AND (d.last_seen IS NULL OR d.last_seen < v.at)`,
          [ids, at],
        )
        .then(
          () => undefined,
          // Only a display field: dropped, and each device is written again at its next sighting.
          (err: Error) => {
            for (const id of ids) this.written.delete(id);
            this.log.warn({ err: err.message, devices: ids.length }, 'writing devices.last_seen failed');
          },
        )
        .finally(() => (this.inFlight = false)),
    );
    return this.flushing;
  }
}

function copyOf(f: { lat: number; lon: number; ts: number } | undefined): DeviceLife['lastFix'] {
  return f ? { lat: f.lat, lon: f.lon, ts: f.ts } : null;
}
