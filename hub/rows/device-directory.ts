// The hub's view of registered devices, loaded once and refreshed on a miss, so validating a
// message costs no query. Unknown ids are remembered for a while so a flood of them cannot turn
// into a flood of queries.
import type pg from 'pg';
import type { DeviceInfo } from './row-types.js';
import type { DeviceProtocol } from '../../protocol/device-api.js';

const NEGATIVE_TTL_MS = 30_000;

export class DeviceDirectory {
  private readonly devices = new Map<string, DeviceInfo>();
  private readonly misses = new Map<string, number>();
  /** Each device's protocol (native, owntracks, jt808): how dispatch reaches it (task-publisher.ts). */
  private readonly protocols = new Map<string, DeviceProtocol>();

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly now: () => number = Date.now,
  ) {}

  async load(): Promise<void> {
    const r = await this.pool.query('SELECT id, kind, worker_id, grid_code, lat, lon, protocol FROM devices WHERE enabled');
    this.devices.clear();
    this.protocols.clear();
    for (const row of r.rows) {
      this.devices.set(row.id, toInfo(row));
      this.protocols.set(row.id, row.protocol);
    }
  }

  protocolOf(id: string): DeviceProtocol | undefined {
    return this.protocols.get(id);
  }

  get(id: string): DeviceInfo | undefined {
    return this.devices.get(id);
  }

  all(): IterableIterator<DeviceInfo> {
    return this.devices.values();
  }

  /** Looks a device up in the database (a device registered after the hub started). */
  async lookup(id: string): Promise<DeviceInfo | undefined> {
    const missedAt = this.misses.get(id);
    if (missedAt !== undefined && this.now() - missedAt < NEGATIVE_TTL_MS) return undefined;
    const r = await this.pool.query('SELECT id, kind, worker_id, grid_code, lat, lon, protocol FROM devices WHERE id = $1 AND enabled', [
      id,
    ]);
    if (r.rowCount === 0) {
      if (this.misses.size > 10_000) this.misses.clear();
      this.misses.set(id, this.now());
      return undefined;
    }
    const info = toInfo(r.rows[0]);
    this.devices.set(id, info);
    this.protocols.set(id, r.rows[0].protocol);
    this.misses.delete(id);
    return info;
  }
}

function toInfo(row: {
  id: string;
  kind: DeviceInfo['kind'];
  worker_id: string | null;
  grid_code: string | null;
  lat: number | null;
  lon: number | null;
}): DeviceInfo {
  return { id: row.id, kind: row.kind, workerId: row.worker_id, gridCode: row.grid_code, lat: row.lat, lon: row.lon };
}
