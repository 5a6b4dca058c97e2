// What the registry shows of a device's life: online (its last presence), last seen (the last
// commit holding anything of it) and last fix. Fed by the hub's commits, so it costs nothing per
// message beyond a map write; `devices.last_seen` is written in one statement every few seconds,
// not per message (10,000 handsets at 1 Hz would be 10,000 updates a second).
import type pg from 'pg';
import type { Logger } from '../../common/logger.js';
import type { Rows } from '../rows/row-types.js';

export interface DeviceLife {
  online: boolean | null;
  /** Epoch ms of the newest commit that held a row of this device, since start. */
  seenAt: number | null;
  lastFix: { lat: number; lon: number; ts: number } | null;
}

const FLUSH_EVERY_MS = 10_000;

export class DeviceActivity {
  private readonly online = new Map<string, { online: boolean; ts: number }>();
  private readonly seen = new Map<string, number>();
  private readonly fixes = new Map<string, { lat: number; lon: number; ts: number }>();
  private unflushed = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
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
    this.timer = setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** A commit of the hub (Hub.onCommit). */
  observe(rows: Rows, committedAt: number): void {
    const see = (id: string): void => {
      this.seen.set(id, committedAt);
      this.unflushed.set(id, committedAt);
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
    this.unflushed.delete(deviceId);
  }

  /** Writes the last-seen times gathered since the previous flush, in one statement. */
  flush(): Promise<void> {
    if (this.unflushed.size === 0) return this.flushing;
    const batch = this.unflushed;
    this.unflushed = new Map();
    const ids = [...batch.keys()];
    const at = ids.map((id) => new Date(batch.get(id)!).toISOString());
    this.flushing = this.flushing.then(() =>
      this.pool
        .query(
          `UPDATE devices d SET last_seen = v.at FROM unnest($1::text[], $2::timestamptz[]) AS v(id, at)
            WHERE d.id = v.id AND (d.last_seen IS NULL OR d.last_seen < v.at)`,
          [ids, at],
        )
        .then(
          () => undefined,
          // Only a display field: the next flush writes newer times, this one is dropped.
          (err: Error) => this.log.warn({ err: err.message, devices: ids.length }, 'writing devices.last_seen failed'),
        ),
    );
    return this.flushing;
  }
}

function copyOf(f: { lat: number; lon: number; ts: number } | undefined): DeviceLife['lastFix'] {
  return f ? { lat: f.lat, lon: f.lon, ts: f.ts } : null;
}
