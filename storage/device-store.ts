// Registry of devices and the workers who carry them. The broker reads credentials from here (and
// rewrites a scrypt row in the HMAC form after its first connect); the seeding tools write here. The
// admin side (API, CLI, audit) is hub/devices/device-registry.ts.
import type pg from 'pg';
import type { DeviceKind } from '../protocol/topics.js';
import type { DeviceProtocol } from '../protocol/device-api.js';
import type { WorkerRole } from '../protocol/worker-roles.js';
import { hashSecret, hmacDeviceSecret, type DeviceSecretKey } from '../common/secrets.js';

export interface DeviceRecord {
  id: string;
  kind: DeviceKind;
  protocol: DeviceProtocol;
  /** `hmac-sha256$<key id>$<mac>`, or `scrypt$…` for a row not yet migrated (common/secrets.ts). */
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
  /** How the device talks (native by default); replaced on re-registration like every other field. */
  protocol?: DeviceProtocol;
  /** The protocol's own identity: a JT/T 808 terminal number, an OwnTracks "user/device". */
  protocolId?: string | null;
}

export interface NewWorker {
  id: string;
  name: string;
  role: WorkerRole;
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
    [
      JSON.stringify(
        workers.map((w) => ({
          id: w.id,
          name: w.name,
          role: w.role,
          grids: w.gridCodes,
          cats: w.categories ?? ['*'],
          dept: w.department ?? null,
        })),
      ),
    ],
  );
}

/**
 * Registers devices; re-registering replaces the secret. With the server key the secrets are stored
 * in the HMAC form (what the registry writes). Without it (fixtures, tools that have no key) they
 * are stored as scrypt, the form before issue 14: the broker verifies such a row once by scrypt and
 * rewrites it.
 */
export async function upsertDevices(db: Queryable, devices: NewDevice[], key: DeviceSecretKey | null = null): Promise<void> {
  if (devices.length === 0) return;
  const hashes = key
    ? devices.map((d) => hmacDeviceSecret(key, d.id, d.secret))
    : await Promise.all(devices.map((d) => hashSecret(d.secret)));
  const rows = devices.map((d, i) => ({
    id: d.id,
    kind: d.kind,
    hash: hashes[i],
    worker: d.workerId ?? null,
    grid: d.gridCode ?? null,
    lat: d.lat ?? null,
    lon: d.lon ?? null,
    name: d.name ?? null,
    protocol: d.protocol ?? 'native',
    pid: d.protocolId ?? null,
  }));
  await db.query(
    `INSERT INTO devices (id, kind, secret_hash, worker_id, grid_code, lat, lon, name, protocol, protocol_id)
     SELECT d.id, d.kind, d.hash, d.worker, d.grid, d.lat, d.lon, d.name, d.protocol, d.pid
       FROM jsonb_to_recordset($1::jsonb) AS d(id text, kind text, hash text, worker text, grid text, lat float8, lon float8, name text, protocol text, pid text)
     ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, secret_hash = EXCLUDED.secret_hash,
       protocol = EXCLUDED.protocol, protocol_id = EXCLUDED.protocol_id,
       worker_id = EXCLUDED.worker_id, grid_code = EXCLUDED.grid_code, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
       name = EXCLUDED.name, enabled = true, updated_at = now(),
       secret_changed_at = CASE WHEN devices.secret_hash = EXCLUDED.secret_hash THEN devices.secret_changed_at ELSE now() END`,
    [JSON.stringify(rows)],
  );
}

const DEVICE_COLUMNS = 'id, kind, protocol, secret_hash, worker_id, grid_code, lat, lon, name, enabled';

export async function findDevice(db: Queryable, id: string): Promise<DeviceRecord | null> {
  const r = await db.query(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1`, [id]);
  return r.rows[0] ? toRecord(r.rows[0]) : null;
}

export async function listDevices(db: Queryable): Promise<DeviceRecord[]> {
  const r = await db.query(`SELECT ${DEVICE_COLUMNS} FROM devices`);
  return r.rows.map(toRecord);
}

/**
 * Rewrites scrypt rows in the HMAC form, each only if it still holds the hash that was just verified
 * (a secret rotated meanwhile wins). The secret itself is unchanged, so this is not audited. One
 * statement for a batch: a connect storm of upgraded handsets is a few queries, not thousands.
 */
export async function migrateDeviceSecrets(db: Queryable, rows: { id: string; fromHash: string; toHash: string }[]): Promise<number> {
  if (rows.length === 0) return 0;
  const r = await db.query(
    `UPDATE devices d SET secret_hash = v.to_hash
       FROM unnest($1::text[], $2::text[], $3::text[]) AS v(id, from_hash, to_hash)
      WHERE d.id = v.id AND d.secret_hash = v.from_hash`,
    [rows.map((x) => x.id), rows.map((x) => x.fromHash), rows.map((x) => x.toHash)],
  );
  return r.rowCount ?? 0;
}

function toRecord(row: Record<string, never>): DeviceRecord {
  return {
    id: row.id,
    kind: row.kind,
    protocol: row.protocol,
    secretHash: row.secret_hash,
    workerId: row.worker_id,
    gridCode: row.grid_code,
    lat: row.lat,
    lon: row.lon,
    name: row.name,
    enabled: row.enabled,
  };
}
