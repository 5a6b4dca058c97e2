// Writes region rows (one level at a time, parents first, so the parent key always exists). Shared by
// the region import (hub/regions/region-store.ts) and the demo seed (simulators/seed-district.ts).
import type pg from 'pg';

export interface RegionRow {
  code: string;
  parent: string | null;
  level: string;
  name: string;
  geometry: unknown;
  props: Record<string, unknown>;
}

export async function upsertRegionRows(db: Pick<pg.Pool, 'query'>, rows: readonly RegionRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO regions (code, parent_code, level, name, geometry, props)
     SELECT r.code, r.parent, r.level, r.name, r.geometry, r.props
       FROM jsonb_to_recordset($1::jsonb) AS r(code text, parent text, level text, name text, geometry jsonb, props jsonb)
     ON CONFLICT (code) DO UPDATE SET parent_code = EXCLUDED.parent_code, level = EXCLUDED.level,
       name = EXCLUDED.name, geometry = EXCLUDED.geometry, props = EXCLUDED.props`,
    [JSON.stringify(rows)],
  );
}
