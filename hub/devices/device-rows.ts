// The registry's SQL: devices with their worker, bulk insert, one-row updates, the audit trail.
// Everything here takes a `Queryable` so the registry can run it inside its own transaction.
import type pg from 'pg';
import type { DeviceKind } from '../../protocol/topics.js';
import type { DeviceAuditEntry, DeviceProtocol } from '../../protocol/device-api.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface DeviceRow {
  id: string;
  kind: DeviceKind;
  protocol: DeviceProtocol;
  protocolId: string | null;
  name: string | null;
  enabled: boolean;
  workerId: string | null;
  workerName: string | null;
  workerGrids: string[];
  gridCode: string | null;
  lat: number | null;
  lon: number | null;
  model: string | null;
  firmware: string | null;
  createdAt: Date;
  updatedAt: Date;
  lastSeen: Date | null;
  secretHash: string;
  secretChangedAt: Date | null;
}

/** The fields an admin sets (and the audit compares). */
export const EDITABLE = [
  'kind',
  'protocol',
  'protocolId',
  'name',
  'enabled',
  'workerId',
  'gridCode',
  'lat',
  'lon',
  'model',
  'firmware',
] as const;
export type Editable = (typeof EDITABLE)[number];
export type DeviceFields = Pick<DeviceRow, Editable>;

const COLUMN: Record<Editable, string> = {
  kind: 'kind',
  protocol: 'protocol',
  protocolId: 'protocol_id',
  name: 'name',
  enabled: 'enabled',
  workerId: 'worker_id',
  gridCode: 'grid_code',
  lat: 'lat',
  lon: 'lon',
  model: 'model',
  firmware: 'firmware',
};

const SELECT = `SELECT d.id, d.kind, d.protocol, d.protocol_id, d.name, d.enabled, d.worker_id, w.name AS worker_name,
       coalesce(w.grid_codes, '{}') AS worker_grids, d.grid_code, d.lat, d.lon, d.model, d.firmware, d.created_at,
       d.updated_at, d.last_seen, d.secret_hash, d.secret_changed_at
  FROM devices d LEFT JOIN workers w ON w.id = d.worker_id`;

export async function selectDevices(
  db: Queryable,
  filter: { id?: string; kind?: string; protocol?: string; enabled?: boolean; q?: string } = {},
): Promise<DeviceRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.id !== undefined) where.push(`d.id = $${params.push(filter.id)}`);
  if (filter.kind !== undefined) where.push(`d.kind = $${params.push(filter.kind)}`);
  if (filter.protocol !== undefined) where.push(`d.protocol = $${params.push(filter.protocol)}`);
  if (filter.enabled !== undefined) where.push(`d.enabled = $${params.push(filter.enabled)}`);
  if (filter.q !== undefined) {
    const like = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(`(d.id ILIKE $${params.push(like)} OR d.name ILIKE $${params.length})`);
  }
  const r = await db.query(`${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY d.id`, params);
  return r.rows.map(toRow);
}

export async function selectDevice(db: Queryable, id: string): Promise<DeviceRow | null> {
  return (await selectDevices(db, { id }))[0] ?? null;
}

export interface NewDeviceRow extends DeviceFields {
  id: string;
  secretHash: string;
}

/** Inserts in one statement (an import of thousands is a handful of these). */
export async function insertDevices(db: Queryable, rows: NewDeviceRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO devices (id, kind, protocol, protocol_id, name, enabled, worker_id, grid_code, lat, lon, model, firmware, secret_hash, secret_changed_at)
     SELECT r.id, r.kind, r.protocol, r."protocolId", r.name, r.enabled, r."workerId", r."gridCode", r.lat, r.lon, r.model, r.firmware, r."secretHash", now()
       FROM jsonb_to_recordset($1::jsonb) AS r(id text, kind text, protocol text, "protocolId" text, name text, enabled boolean,
            "workerId" text, "gridCode" text, lat float8, lon float8, model text, firmware text, "secretHash" text)`,
    [JSON.stringify(rows)],
  );
}

/** Sets the given fields (and the secret, when given); false when the device is gone. */
export async function updateDevice(db: Queryable, id: string, fields: Partial<DeviceFields>, secretHash?: string): Promise<boolean> {
  const sets: string[] = ['updated_at = now()'];
  const params: unknown[] = [id];
  for (const f of EDITABLE) if (f in fields) sets.push(`${COLUMN[f]} = $${params.push(fields[f] ?? null)}`);
  if (secretHash !== undefined) sets.push(`secret_hash = $${params.push(secretHash)}`, 'secret_changed_at = now()');
  const r = await db.query(`UPDATE devices SET ${sets.join(', ')} WHERE id = $1`, params);
  return (r.rowCount ?? 0) > 0;
}

export async function deleteDevice(db: Queryable, id: string): Promise<boolean> {
  const r = await db.query('DELETE FROM devices WHERE id = $1', [id]);
  return (r.rowCount ?? 0) > 0;
}

/** Of these, the worker ids and region codes that do not exist. */
export async function missingReferences(
  db: Queryable,
  workerIds: string[],
  gridCodes: string[],
): Promise<{ workers: Set<string>; grids: Set<string> }> {
  const w = workerIds.length
    ? await db.query<{ id: string }>('SELECT id FROM workers WHERE id = ANY($1::text[])', [workerIds])
    : { rows: [] };
  const g = gridCodes.length
    ? await db.query<{ code: string }>('SELECT code FROM regions WHERE code = ANY($1::text[])', [gridCodes])
    : { rows: [] };
  const haveW = new Set(w.rows.map((r) => r.id));
  const haveG = new Set(g.rows.map((r) => r.code));
  return { workers: new Set(workerIds.filter((x) => !haveW.has(x))), grids: new Set(gridCodes.filter((x) => !haveG.has(x))) };
}

/** Which of these ids exist, and which (protocol, protocolId) pairs are held by which device. */
export async function takenIdentities(
  db: Queryable,
  ids: string[],
  protocolIds: { protocol: string; protocolId: string }[],
): Promise<{ ids: Set<string>; protocolIds: Map<string, string> }> {
  const a = await db.query<{ id: string }>('SELECT id FROM devices WHERE id = ANY($1::text[])', [ids]);
  const b = protocolIds.length
    ? await db.query<{ id: string; key: string }>(
        `SELECT id, protocol || ':' || protocol_id AS key FROM devices WHERE protocol || ':' || protocol_id = ANY($1::text[])`,
        [protocolIds.map((p) => `${p.protocol}:${p.protocolId}`)],
      )
    : { rows: [] };
  return { ids: new Set(a.rows.map((r) => r.id)), protocolIds: new Map(b.rows.map((r) => [r.key, r.id])) };
}

export interface AuditRecord {
  deviceId: string;
  actor: string;
  actorRole: string | null;
  action: DeviceAuditEntry['action'];
  changes: Record<string, [unknown, unknown]>;
}

export async function insertAudit(db: Queryable, entries: AuditRecord[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `INSERT INTO device_audit (device_id, actor, actor_role, action, changes)
     SELECT a."deviceId", a.actor, a."actorRole", a.action, a.changes
       FROM jsonb_to_recordset($1::jsonb) AS a("deviceId" text, actor text, "actorRole" text, action text, changes jsonb)`,
    [JSON.stringify(entries)],
  );
}

export async function selectAudit(db: Queryable, deviceId: string, limit = 100): Promise<DeviceAuditEntry[]> {
  const r = await db.query<{
    at: Date;
    actor: string;
    actor_role: string | null;
    action: DeviceAuditEntry['action'];
    changes: Record<string, [unknown, unknown]>;
  }>('SELECT at, actor, actor_role, action, changes FROM device_audit WHERE device_id = $1 ORDER BY at DESC, id DESC LIMIT $2', [
    deviceId,
    limit,
  ]);
  return r.rows.map((a) => ({ at: a.at.toISOString(), actor: a.actor, actorRole: a.actor_role, action: a.action, changes: a.changes }));
}

/** field → [before, after] for the fields that differ (never the secret: it is not a field). */
export function diffFields(before: Partial<DeviceFields> | null, after: Partial<DeviceFields> | null): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  for (const f of EDITABLE) {
    const a = before?.[f] ?? null;
    const b = after?.[f] ?? null;
    if (a !== b) out[f] = [a, b];
  }
  return out;
}

/** The editable fields of a stored device. */
export function fieldsOfRow(r: DeviceRow): DeviceFields {
  return Object.fromEntries(EDITABLE.map((f) => [f, r[f]])) as DeviceFields;
}

function toRow(r: Record<string, never>): DeviceRow {
  return {
    id: r.id,
    kind: r.kind,
    protocol: r.protocol,
    protocolId: r.protocol_id,
    name: r.name,
    enabled: r.enabled,
    workerId: r.worker_id,
    workerName: r.worker_name,
    workerGrids: r.worker_grids,
    gridCode: r.grid_code,
    lat: r.lat,
    lon: r.lon,
    model: r.model,
    firmware: r.firmware,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastSeen: r.last_seen,
    secretHash: r.secret_hash,
    secretChangedAt: r.secret_changed_at,
  };
}
