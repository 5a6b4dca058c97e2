// Each device's newest stored valid fix, read once when the position filter first runs after a
// start, so that a restart does not let a device's next fix pass unchecked for jumps
// (hub/ingest/stage-position-filter.ts). One statement, a probe of the (device_id, ts) key per
// device; the day's bound keeps TimescaleDB to the newest chunks (a fix a day later is no jump at
// any configured speed within the district).
import type pg from 'pg';

/** A valid fix the next ones are checked against. */
export interface FixAnchor {
  ts: number;
  lat: number;
  lon: number;
  acc: number | null;
}

/** Each device's newest stored valid fix, read once (storedFixHeads below), so a restart keeps checking. */
export interface StoredHeads {
  load(notAfter: number): Promise<Map<string, FixAnchor>>;
}

const LOOK_BACK_MS = 24 * 3600_000;

export function storedFixHeads(pool: Pick<pg.Pool, 'query'>): StoredHeads {
  return {
    async load(notAfter: number): Promise<Map<string, FixAnchor>> {
      const r = await pool.query<{ id: string; t: number; lat: number; lon: number; acc: number | null }>(
        `SELECT d.id, (extract(epoch FROM p.ts) * 1000)::float8 AS t, p.lat, p.lon, p.acc
           FROM devices d
           CROSS JOIN LATERAL (SELECT ts, lat, lon, acc FROM positions
                                WHERE device_id = d.id AND ts > to_timestamp($1 / 1000.0) AND ts <= to_timestamp($2 / 1000.0)
                                ORDER BY ts DESC LIMIT 1) p`,
        [notAfter - LOOK_BACK_MS, notAfter],
      );
      return new Map(r.rows.map((x) => [x.id, { ts: Math.round(x.t), lat: x.lat, lon: x.lon, acc: x.acc }]));
    },
  };
}
