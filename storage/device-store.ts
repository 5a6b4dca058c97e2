// Registry of devices and the workers who carry them. The broker reads credentials from here;
// the seeding tools and the admin API write here.
import type pg from 'pg';
import type { DeviceKind } from '../protocol/topics.js';
import { hashSecret } from '../common/secrets.js';

export interface DeviceRecord {
  id: string;
  kind: DeviceKind;
  secretHash: string;
  workerId: string | null;
  gridCode: string | null;
  lat: number | null;
  lon: number | null;
  name: string | null;
  enabled: boolean;
}

export interface NewDevice {
  id: string;
  kind: DeviceKind;
  secret: string;
  workerId?: string | null;
  gridCode?: string | null;
  lat?: number | null;
  lon?: number | null;
  name?: string | null;
}

export interface NewWorker {
  id: string;
  name: string;
  role: 'grid_worker' | 'grid_leader' | 'community_police' | 'department_staff' | 'command';
  gridCodes: string[];
  categories?: string[];
  /** 城管, 住建, …: the department a department_staff worker reports for (KPIs by department). */
  department?: string | null;
}

type Queryable = Pick<pg.Pool, 'query'>;

export async function upsertWorkers(db: Queryable, workers: NewWorker[]): Promise<void> {
  if (workers.length === 0) return;
  await db.query(
    `INSERT INTO workers (id, name, role, grid_codes, categories, department)
     SELECT w.id, w.name, w.role, ARRAY(SELECT jsonb_array_elements_text(w.grids)), ARRAY(SELECT jsonb_array_elements_text(w.cats)), w.dept
       FROM jsonb_to_recordset($1::jsonb) AS w(id text, name text, role text, grids jsonb, cats jsonb, dept text)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role,
       grid_codes = EXCLUDED.grid_codes, categories = EXCLUDED.categories, department = coalesce(EXCLUDED.department, workers.department)`,
    [JSON.stringify(workers.map((w) => ({ id: w.id, name: w.name, role: w.role, grids: w.gridCodes, cats: w.categories ?? ['*'], dept: w.department ?? null })))],
  );
}

/** Registers devices, hashing their secrets; re-registering replaces the secret. */
export async function upsertDevices(db: Queryable, devices: NewDevice[]): Promise<void> {
  if (devices.length === 0) return;
  const hashes = await Promise.all(devices.map((d) => hashSecret(d.secret)));
  const rows = devices.map((d, i) => ({
    id: d.id,
    kind: d.kind,
    hash: hashes[i],
    worker: d.workerId ?? null,
    grid: d.gridCode ?? null,
    lat: d.lat ?? null,
    lon: d.lon ?? null,
    name: d.name ?? null,
  }));
  await db.query(
    `INSERT INTO devices (id, kind, secret_hash, worker_id, grid_code, lat, lon, name)
     SELECT d.id, d.kind, d.hash, d.worker, d.grid, d.lat, d.lon, d.name
       FROM jsonb_to_recordset($1::jsonb) AS d(id text, kind text, hash text, worker text, grid text, lat float8, lon float8, name text)
     ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, secret_hash = EXCLUDED.secret_hash,
       worker_id = EXCLUDED.worker_id, grid_code = EXCLUDED.grid_code, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
       name = EXCLUDED.name, enabled = true`,
    [JSON.stringify(rows)],
  );
}

const DEVICE_COLUMNS = 'id, kind, secret_hash, worker_id, grid_code, lat, lon, name, enabled';

export async function findDevice(db: Queryable, id: string): Promise<DeviceRecord | null> {
  const r = await db.query(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1`, [id]);
  return r.rows[0] ? toRecord(r.rows[0]) : null;
}

export async function listDevices(db: Queryable): Promise<DeviceRecord[]> {
  const r = await db.query(`SELECT ${DEVICE_COLUMNS} FROM devices`);
  return r.rows.map(toRecord);
}

function toRecord(row: Record<string, never>): DeviceRecord {
  return {
    id: row.id,
    kind: row.kind,
    secretHash: row.secret_hash,
    workerId: row.worker_id,
    gridCode: row.grid_code,
    lat: row.lat,
    lon: row.lon,
    name: row.name,
    enabled: row.enabled,
  };
}
